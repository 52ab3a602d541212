//! Processes of the local provider: spawning detached children (own process group, output to a
//! log file, reaped by a waiter thread so no zombie lingers), telling a live process from a
//! reused pid (start time in `/proc/<pid>/stat`), finding programs on a PATH, and stopping a
//! process group politely (SIGTERM, grace period, SIGKILL).
//!
//! Linux-only (it reads `/proc`). It must not know about resources or schemas.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustix::process::{kill_process_group, Pid, Signal};

/// What `/proc/<pid>/stat` says about a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcStat {
    /// `R`, `S`, `D`, `Z` (zombie), `X` (dead), …
    pub state: char,
    pub pgrp: i32,
    /// Start time in clock ticks after boot: with the pid, identifies a process uniquely.
    pub start_ticks: u64,
}

impl ProcStat {
    pub fn is_running(&self) -> bool {
        !matches!(self.state, 'Z' | 'X' | 'x')
    }
}

/// Reads `/proc/<pid>/stat`; `None` when there is no such process.
pub fn proc_stat(pid: i32) -> Option<ProcStat> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&s)
}

fn parse_stat(s: &str) -> Option<ProcStat> {
    // The command name (field 2) is in parentheses and may itself contain spaces or ')'.
    let close = s.rfind(')')?;
    let fields: Vec<&str> = s.get(close + 1..)?.split_whitespace().collect();
    // fields[0] is field 3 (state); field N is fields[N - 3].
    Some(ProcStat {
        state: fields.first()?.chars().next()?,
        pgrp: fields.get(2)?.parse().ok()?,
        start_ticks: fields.get(19)?.parse().ok()?,
    })
}

/// True when `pid` is a running (not zombie) process that started at `start_ticks`.
pub fn is_alive(pid: i32, start_ticks: u64) -> bool {
    proc_stat(pid).is_some_and(|s| s.is_running() && s.start_ticks == start_ticks)
}

/// Running processes of process group `pgid` that started no earlier than `min_start_ticks`
/// (older members would belong to a group whose leader pid was reused; they are not ours).
pub fn group_members(pgid: i32, min_start_ticks: u64) -> Vec<i32> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            proc_stat(*pid).is_some_and(|s| s.is_running() && s.pgrp == pgid && s.start_ticks >= min_start_ticks)
        })
        .collect()
}

/// Sends `sig` to process group `pgid`; a group that no longer exists is success.
pub fn signal_group(pgid: i32, sig: Signal) -> io::Result<()> {
    let Some(pid) = Pid::from_raw(pgid) else {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("invalid process group {pgid}")));
    };
    match kill_process_group(pid, sig) {
        Ok(()) => Ok(()),
        Err(e) if e == rustix::io::Errno::SRCH => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// How [`stop_group`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// Nothing of the group was running.
    AlreadyGone,
    /// The group exited after SIGTERM.
    Terminated,
    /// The group had to be killed with SIGKILL after the grace period.
    Killed,
}

/// Stops the process group led by `pid` (which started at `start_ticks`): SIGTERM, wait up to
/// `grace`, then SIGKILL. Members of the group are stopped even when the leader already exited.
pub async fn stop_group(pid: i32, start_ticks: u64, grace: Duration) -> io::Result<Stopped> {
    let alive = || !group_members(pid, start_ticks).is_empty();
    if !alive() {
        return Ok(Stopped::AlreadyGone);
    }
    signal_group(pid, Signal::TERM)?;
    if wait_until(grace, || !alive()).await {
        return Ok(Stopped::Terminated);
    }
    signal_group(pid, Signal::KILL)?;
    if wait_until(Duration::from_secs(5), || !alive()).await {
        return Ok(Stopped::Killed);
    }
    Err(io::Error::other(format!("process group {pid} is still running after SIGKILL")))
}

/// Polls `done` every 25 ms until it holds or `limit` passes; returns whether it held.
pub async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A child started by [`spawn_detached`].
#[derive(Clone, Debug)]
pub struct Spawned {
    pub pid: i32,
    pub start_ticks: u64,
    exit: Arc<Mutex<Option<ExitStatus>>>,
}

impl Spawned {
    /// The exit status once the child has exited (reaped by the waiter thread).
    pub fn exit_status(&self) -> Option<ExitStatus> {
        *self.exit.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Spawns `cmd` in its own process group so that it outlives tenantform and a Ctrl-C in the
/// terminal does not reach it. A waiter thread reaps it when it exits (no zombies while this
/// process lives; after tenantform exits, init adopts it).
pub fn spawn_detached(cmd: &mut Command) -> io::Result<Spawned> {
    cmd.process_group(0);
    let mut child = cmd.spawn()?;
    let pid = child.id() as i32;
    // Not yet reaped, so the stat file exists even if the child already exited.
    let start_ticks = proc_stat(pid).map(|s| s.start_ticks).unwrap_or(0);
    let exit = Arc::new(Mutex::new(None));
    let slot = exit.clone();
    std::thread::Builder::new().name(format!("tenantform-reap-{pid}")).spawn(move || {
        if let Ok(status) = child.wait() {
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(status);
        }
    })?;
    Ok(Spawned { pid, start_ticks, exit })
}

/// Kills a spawned process group with SIGKILL when dropped, unless disarmed. Guards the window
/// between spawning a process and recording it in state: if the operation's future is dropped
/// (cancellation) or recording fails, nothing is left running unknown to tenantform.
#[derive(Debug)]
pub struct KillOnDrop {
    pid: i32,
    start_ticks: u64,
    armed: bool,
}

impl KillOnDrop {
    pub fn new(s: &Spawned) -> KillOnDrop {
        KillOnDrop { pid: s.pid, start_ticks: s.start_ticks, armed: true }
    }

    /// The process is recorded: keep it running.
    pub fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if self.armed && !group_members(self.pid, self.start_ticks).is_empty() {
            let _ = signal_group(self.pid, Signal::KILL);
        }
    }
}

/// Finds `program` the way a shell would: a name containing `/` is taken relative to `cwd`,
/// otherwise each directory of `path_var` is searched. The error lists what was searched.
pub fn find_program(program: &str, path_var: &str, cwd: &Path) -> Result<PathBuf, String> {
    let is_exec = |p: &Path| fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    if program.is_empty() {
        return Err("the command is empty".into());
    }
    if program.contains('/') {
        let p = cwd.join(program);
        return if is_exec(&p) {
            Ok(p)
        } else if p.exists() {
            Err(format!("`{}` is not an executable file", p.display()))
        } else {
            Err(format!("`{}` does not exist", p.display()))
        };
    }
    let dirs: Vec<&str> = path_var.split(':').collect();
    for d in &dirs {
        let dir = if d.is_empty() { cwd.to_path_buf() } else { cwd.join(d) };
        let p = dir.join(program);
        if is_exec(&p) {
            return Ok(p);
        }
    }
    Err(format!("command `{program}` not found in PATH (searched: {})", dirs.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_command_names() {
        let line = "1234 (my (odd) prog) S 1 1234 1234 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 98765 1000 10";
        let s = parse_stat(line).unwrap();
        assert_eq!(s, ProcStat { state: 'S', pgrp: 1234, start_ticks: 98765 });
        let me = proc_stat(std::process::id() as i32).unwrap();
        assert!(me.is_running());
        assert!(is_alive(std::process::id() as i32, me.start_ticks));
        assert!(!is_alive(std::process::id() as i32, me.start_ticks + 1));
    }

    #[test]
    fn finds_programs_and_reports_the_search() {
        let cwd = std::env::current_dir().unwrap();
        let sh = find_program("sh", "/nonexistent:/bin:/usr/bin", &cwd).unwrap();
        assert!(sh.ends_with("sh"));
        let e = find_program("no-such-prog-xyz", "/a:/b", &cwd).unwrap_err();
        assert!(e.contains("not found in PATH") && e.contains("/a, /b"), "{e}");
        assert!(find_program("./no/such", "", &cwd).unwrap_err().contains("does not exist"));
    }

    #[tokio::test]
    async fn spawned_group_is_stopped_with_its_children() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 30 & sleep 30"]);
        let s = spawn_detached(&mut cmd).unwrap();
        assert!(wait_until(Duration::from_secs(5), || group_members(s.pid, s.start_ticks).len() >= 3).await);
        assert_eq!(stop_group(s.pid, s.start_ticks, Duration::from_secs(5)).await.unwrap(), Stopped::Terminated);
        assert!(group_members(s.pid, s.start_ticks).is_empty());
        assert!(wait_until(Duration::from_secs(5), || s.exit_status().is_some()).await, "reaped");
        assert_eq!(stop_group(s.pid, s.start_ticks, Duration::from_secs(1)).await.unwrap(), Stopped::AlreadyGone);
    }

    #[tokio::test]
    async fn kill_on_drop_guards_unrecorded_processes() {
        let s = spawn_detached(Command::new("sleep").arg("30")).unwrap();
        drop(KillOnDrop::new(&s));
        assert!(wait_until(Duration::from_secs(5), || !is_alive(s.pid, s.start_ticks)).await);
        let s = spawn_detached(Command::new("sleep").arg("30")).unwrap();
        KillOnDrop::new(&s).disarm();
        assert!(is_alive(s.pid, s.start_ticks));
        stop_group(s.pid, s.start_ticks, Duration::from_secs(5)).await.unwrap();
    }

    #[tokio::test]
    async fn stubborn_groups_are_killed_after_the_grace_period() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "trap '' TERM; while true; do sleep 0.05; done"]);
        let s = spawn_detached(&mut cmd).unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(stop_group(s.pid, s.start_ticks, Duration::from_millis(300)).await.unwrap(), Stopped::Killed);
        assert!(!is_alive(s.pid, s.start_ticks));
    }
}

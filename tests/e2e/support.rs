//! Helpers for end-to-end tests: a stack in a temporary directory, running the real binary,
//! cleaning up the processes a local stack starts, and the cloud API emulators a stack runs
//! against (started in-process) with their admin views.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use tenantform_emulators::{start, FaultConfig, Handle, Kind, Options};

pub const BIN: &str = env!("CARGO_BIN_EXE_tenantform");

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A fixture directory under tests/fixtures.
pub fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures").join(name)
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    copy_dir_except(from, to, &|_| false)
}

/// Copies a directory tree, leaving out entries whose file name `skip` accepts.
pub fn copy_dir_except(from: &Path, to: &Path, skip: &dyn Fn(&str) -> bool) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if skip(&e.file_name().to_string_lossy()) {
            continue;
        }
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir_except(&e.path(), &target, skip);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The result of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Asserts success, printing everything otherwise.
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }

    #[track_caller]
    pub fn fails(self) -> Run {
        assert_eq!(self.code, 1, "expected exit 1\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }

    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// A stack directory of its own, with the local provider's router on a free port.
pub struct Stack {
    pub dir: tempfile::TempDir,
    pub router_port: u16,
    /// Run `destroy` when dropped (stops services and the router).
    pub cleanup: bool,
}

impl Stack {
    /// A copy of a fixture.
    pub fn from_fixture(name: &str) -> Stack {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&fixture(name), dir.path());
        Stack { dir, router_port: free_port(), cleanup: true }
    }

    /// A copy of `examples/<name>` without what running it generates (state, emulator
    /// settings and processes).
    pub fn from_example(name: &str) -> Stack {
        let dir = tempfile::tempdir().unwrap();
        let generated =
            |f: &str| f.starts_with('.') || f.ends_with(".auto.tfvars") || f.starts_with("tenantform.state.db");
        copy_dir_except(&repo().join("examples").join(name), dir.path(), &generated);
        Stack { dir, router_port: free_port(), cleanup: false }
    }

    /// A stack from inline files.
    pub fn with_files(files: &[(&str, &str)]) -> Stack {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        Stack { dir, router_port: free_port(), cleanup: true }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, path: &str, text: &str) {
        let p = self.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    pub fn remove(&self, path: &str) {
        std::fs::remove_file(self.path().join(path)).unwrap();
    }

    pub fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.path().join(path)).unwrap()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .current_dir(self.path())
            .env("TENANTFORM_VAR_router_port", self.router_port.to_string())
            .env_remove("TENANTFORM_LOG")
            .env_remove("TENANTFORM_STATE")
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().unwrap())
    }

    /// Runs with extra environment variables (`TENANTFORM_LOG`, …).
    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut c = self.command(args);
        c.envs(env.iter().copied());
        Run::from(c.output().unwrap())
    }

    /// `plan -json` (with extra arguments) as a value; asserts the plan succeeded.
    pub fn plan_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["plan", "-json"];
        all.extend_from_slice(args);
        let r = self.run(&all).ok();
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("plan -json: {e}\n{}", r.stdout))
    }

    /// `tenantform state` as JSON via `show -json`.
    pub fn state_json(&self) -> serde_json::Value {
        let r = self.run(&["show", "-json"]).ok();
        serde_json::from_str(&r.stdout).unwrap()
    }

    /// Addresses in state.
    pub fn state_addresses(&self) -> Vec<String> {
        self.state_json()["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["address"].as_str().unwrap().to_string())
            .collect()
    }

    /// GET http://127.0.0.1:<router>/ with a Host header; the body.
    pub fn get(&self, host: &str) -> Option<String> {
        http_get(self.router_port, host, "/")
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if self.cleanup && self.path().join("tenantform.state.db").exists() {
            let _ = self.command(&["destroy", "-auto-approve"]).output();
        }
    }
}

/// A minimal HTTP/1.1 GET: returns the body of a 200 response.
pub fn http_get(port: u16, host: &str, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let (head, body) = buf.split_once("\r\n\r\n")?;
    if head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200") {
        Some(body.to_string())
    } else {
        None
    }
}

/// The actions of a JSON plan by address, without the no-ops (`{"tenant.acme.x.y": ["update"]}`).
pub fn plan_actions(plan: &serde_json::Value) -> BTreeMap<String, Vec<String>> {
    plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let actions: Vec<String> =
                c["change"]["actions"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect();
            (c["address"].as_str().unwrap().to_string(), actions)
        })
        .filter(|(_, a)| a.as_slice() != ["no-op"])
        .collect()
}

/// Cloud API emulators started in this test process (`tenantform_emulators::start`), each on
/// its own port, served by a runtime of their own; they stop when this is dropped.
pub struct Emulators {
    handles: Vec<(Kind, Handle)>,
    /// Runs the emulators; tests use it for HTTP calls of their own (`emus.rt.block_on(…)`).
    pub rt: tokio::runtime::Runtime,
}

impl Emulators {
    /// Starts one emulator of each kind, with asynchronous work taking `operation_delay`.
    pub fn start(kinds: &[Kind], operation_delay: Duration) -> Emulators {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let opts = Options { operation_delay, ..Options::default() };
        let handles = rt.block_on(async {
            let mut hs = Vec::new();
            for k in kinds {
                hs.push((*k, start(*k, opts.clone()).await.unwrap().1));
            }
            hs
        });
        Emulators { handles, rt }
    }

    pub fn get(&self, kind: Kind) -> &Handle {
        &self.handles.iter().find(|(k, _)| *k == kind).unwrap_or_else(|| panic!("no {kind} emulator")).1
    }

    /// The same faults on every emulator.
    pub fn set_faults(&self, faults: FaultConfig) {
        for (_, h) in &self.handles {
            h.set_faults(faults.clone());
        }
    }

    /// API requests that change something, per emulator kind (for "this apply touched only …").
    pub fn mutations(&self) -> BTreeMap<String, usize> {
        self.handles
            .iter()
            .map(|(k, h)| (k.name().to_string(), h.requests().iter().filter(|r| r.method != "GET").count()))
            .collect()
    }
}

/// How many objects of an emulator's collection have `field == value`.
pub fn count(h: &Handle, coll: &str, field: &str, value: &str) -> usize {
    h.objects(coll).iter().filter(|o| o[field] == value).count()
}

/// Replaces the temp directory path in output so expectations are stable.
pub fn normalize(s: &str, dir: &Path) -> String {
    let d = dir.display().to_string();
    let canonical = dir.canonicalize().map(|p| p.display().to_string()).unwrap_or_default();
    s.replace(&canonical, "$STACK").replace(&d, "$STACK")
}

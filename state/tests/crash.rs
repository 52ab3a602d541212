//! Crash safety of the SQLite backend with real processes: a child process (this test binary,
//! re-run with an environment variable) holds the stack's locks and commits in a tight loop,
//! printing each acknowledged serial; the parent kills it with SIGKILL at varying points and
//! reopens the file. Every acknowledged serial must survive, the serial must match the
//! history, every history entry must have exactly its changes in the change log (group
//! commits are all or nothing), the current rows must equal the change log replayed, and the
//! dead child's lock must still be there (never silently stolen) until `force-unlock`.
#![cfg(unix)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tenantform_engine::address::{InstanceAddr, ModuleAddr};
use tenantform_engine::state::{
    Change, InstanceState, InstanceStatus, LockInfo, OutputState, Partition, PartitionFilter, StateBackend, StateError,
    NO_WAIT,
};
use tenantform_engine::value::Value;
use tenantform_state::SqliteBackend;

const CHILD_ENV: &str = "TENANTFORM_STATE_CRASH_CHILD";
const CHILD_TEST: &str = "crash_child_entry_point";
/// Marks the child's acknowledgement lines: `tf-ack: <serial> <commit number>`.
const ACK: &str = "tf-ack:";

fn partitions() -> Vec<Partition> {
    vec![Partition::Root, Partition::Tenant("acme".into()), Partition::Tenant("globex".into())]
}

fn record(address: &str, i: u64) -> InstanceState {
    InstanceState {
        addr: address.parse::<InstanceAddr>().expect("address"),
        provider: "random".into(),
        schema_version: 1,
        status: InstanceStatus::Ready,
        value: Value::map([
            ("id", Value::string(format!("{address}@{i}"))),
            ("n", Value::number(i as f64)),
            ("secret", Value::string("x".repeat(64)).mark_sensitive()),
        ]),
        dependencies: Vec::new(),
        create_before_destroy: false,
        detail: None,
    }
}

/// Not a test on its own: the body of the child process, run only when the parent sets
/// `TENANTFORM_STATE_CRASH_CHILD` to a state file path.
#[test]
fn crash_child_entry_point() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let b = SqliteBackend::open(&path).expect("child: open");
    let g =
        b.lock(&partitions(), &LockInfo::for_current_process("apply"), Duration::from_secs(30)).expect("child: lock");
    let mut singles: BTreeSet<String> = b
        .load(&PartitionFilter::All)
        .expect("child: load")
        .resources
        .keys()
        .map(ToString::to_string)
        .filter(|a| a.starts_with("random_id.single"))
        .collect();
    let mut out = std::io::stdout().lock();
    let mut go = std::io::stdin().lock().lines();
    let started = Instant::now();
    let mut i: u64 = 0;
    // One commit per line from the parent, so that a kill lands inside a commit; bounded in
    // case the parent dies without killing us.
    while started.elapsed() < Duration::from_secs(60) {
        match go.next() {
            Some(Ok(_)) => {}
            _ => return,
        }
        i += 1;
        let mut changes = Vec::new();
        if i % 3 == 0 {
            // A group commit: 49 resources over three partitions and an output.
            for j in 0..49 {
                let a = match j % 3 {
                    0 => format!("tenant.acme.random_id.g[{j}]"),
                    1 => format!("tenant.globex.random_id.g[{j}]"),
                    _ => format!("random_id.g[{j}]"),
                };
                changes.push(Change::Put(record(&a, i)));
            }
            changes.push(Change::PutOutput(OutputState {
                module: ModuleAddr::root(),
                name: "last_group".into(),
                value: Value::number(i as f64),
                sensitive: false,
            }));
        } else {
            let a = format!("random_id.single[{}]", i % 10);
            changes.push(Change::Put(record(&a, i)));
            singles.insert(a);
            // Every few commits also forget one that exists (so the log entry is certain).
            let victim = format!("random_id.single[{}]", (i + 5) % 10);
            if i % 4 == 0 && singles.remove(&victim) {
                changes.push(Change::Remove(victim.parse().expect("address")));
            }
        }
        let serial = b.commit(g.as_ref(), "apply", &changes).expect("child: commit");
        writeln!(out, "{ACK} {serial} {i}").expect("child: stdout");
        out.flush().expect("child: flush");
    }
}

/// A child process mid-commit. Its stdin and stdout pipes stay open until the child is
/// killed: were they closed first, the child would see the end of its input, return, and
/// release its locks gracefully, and the kill would test nothing.
struct Running {
    child: std::process::Child,
    _go: std::process::ChildStdin,
    _acks: std::sync::mpsc::Receiver<(u64, u64)>,
}

/// Starts a child, lets it make at least `acks` acknowledged commits, then starts one more (a
/// group commit: the widest window for a torn write) and returns while it runs, `delay`
/// after the go-ahead, with the last acknowledged serial.
fn run_child_until(path: &std::path::Path, acks: usize, delay: Duration) -> (Running, u64) {
    let mut child = Command::new(std::env::current_exe().expect("current exe"))
        .args([CHILD_TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(path.with_extension("child.log")).expect("child log"))
        .spawn()
        .expect("spawn child");
    let mut stdin = child.stdin.take().expect("child stdin");
    let stdout = child.stdout.take().expect("child stdout");
    // Acknowledgements arrive through a channel so that a silent child fails the test
    // instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel::<(u64, u64)>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // libtest may print its own text on the same line before ours.
            let Some((_, ack)) = line.split_once(ACK) else {
                continue;
            };
            let mut fields = ack.split_whitespace().map(str::parse::<u64>);
            if let (Some(Ok(serial)), Some(Ok(i))) = (fields.next(), fields.next()) {
                if tx.send((serial, i)).is_err() {
                    return;
                }
            }
        }
    });
    let mut last = 0;
    let mut seen = 0;
    loop {
        writeln!(stdin, "go").expect("go-ahead");
        stdin.flush().expect("flush go-ahead");
        let (serial, i) = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(ack) => ack,
            Err(e) => {
                let _ = child.kill();
                let status = child.wait().expect("wait child");
                panic!("no acknowledgement from the child ({e}; {status}) after {seen} commits");
            }
        };
        assert!(serial > last, "serials acknowledged in order");
        last = serial;
        seen += 1;
        if seen >= acks && i % 3 == 2 {
            writeln!(stdin, "go").expect("go-ahead");
            stdin.flush().expect("flush go-ahead");
            std::thread::sleep(delay);
            return (Running { child, _go: stdin, _acks: rx }, last);
        }
    }
}

fn check_log_matches_history(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).expect("raw open");
    let mut stmt = conn
        .prepare(
            "SELECT h.serial, h.changes,
                 (SELECT COUNT(*) FROM resource_versions v WHERE v.serial = h.serial)
               + (SELECT COUNT(*) FROM output_versions o WHERE o.serial = h.serial)
             FROM history h ORDER BY h.serial",
        )
        .expect("prepare");
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, u64>(0)?, r.get::<_, u64>(1)?, r.get::<_, u64>(2)?)))
        .expect("query")
        .collect::<Result<Vec<_>, _>>()
        .expect("rows");
    for (serial, changes, logged) in rows {
        assert_eq!(changes, logged, "serial {serial}: history says {changes} changes, the change log has {logged}");
    }
}

#[test]
fn sigkill_mid_commit_leaves_a_consistent_state() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("tenantform.state.db");
    let mut previous = 0;
    let rounds = [(25usize, 0u64), (61, 300), (40, 700), (7, 1200), (90, 100), (33, 2000), (52, 500), (18, 0)];
    for (round, (acks, delay_us)) in rounds.into_iter().enumerate() {
        let (mut running, acked) = run_child_until(&path, acks, Duration::from_micros(delay_us));
        let child = &mut running.child;
        let child_pid = child.id();
        if round == 0 {
            // Two processes exclude each other: the child holds the stack's locks.
            let other = SqliteBackend::open(&path).expect("open beside the child");
            match other.lock(&[Partition::Root], &LockInfo::for_current_process("plan"), NO_WAIT) {
                Err(StateError::Locked { holders }) => {
                    assert_eq!(holders[0].pid, child_pid, "the holder is the child process");
                    assert_eq!(holders[0].operation, "apply");
                }
                Err(e) => panic!("expected Locked, got {e}"),
                Ok(_) => panic!(
                    "a second process took a held lock; child log:\n{}",
                    std::fs::read_to_string(path.with_extension("child.log")).unwrap_or_default()
                ),
            }
        }
        child.kill().expect("SIGKILL the child");
        let status = child.wait().expect("reap the child");
        {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(status.signal(), Some(9), "round {round}: the child died of SIGKILL, not on its own");
        }

        let b = SqliteBackend::open(&path).expect("reopen after the crash");
        let problems = b.check_integrity().expect("integrity check");
        assert!(problems.is_empty(), "round {round}: {problems:#?}");
        check_log_matches_history(&path);
        let s = b.load(&PartitionFilter::All).expect("load");
        assert!(s.serial >= acked, "round {round}: acknowledged serial {acked} lost (store is at {})", s.serial);
        assert!(s.serial > previous);
        previous = s.serial;
        let history = b.history(usize::MAX).expect("history");
        assert_eq!(history.len() as u64, s.serial, "one history entry per serial");
        assert_eq!(history[0].serial, s.serial);
        assert_eq!(b.snapshot_at(s.serial).expect("snapshot_at").resources, s.resources);

        // The dead child's lock rows remain, but the kernel released its file lock: they are
        // not reported as a running operation, and the next lock takes them over.
        assert!(b.locks().expect("locks").is_empty(), "round {round}: a dead holder is not listed");
        let g = b
            .lock(&[Partition::Root], &LockInfo::for_current_process("apply"), NO_WAIT)
            .unwrap_or_else(|e| panic!("round {round}: the dead child's lock blocks: {e}"));
        b.unlock(g).expect("unlock");
        assert!(b.locks().expect("locks").is_empty());
    }
}

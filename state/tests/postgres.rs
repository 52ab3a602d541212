//! The pg backend beyond the shared conformance suite, against real throw-away servers:
//! a `kill -9`ed holder's locks are released by the server; the backend works from
//! `spawn_blocking` and can be dropped inside a runtime; concurrent writers on many tenants
//! lose no update and get gapless serials; force-unlock ends a live holder's session.
#![cfg(unix)]
// The child process reports that it holds the lock on stdout, which the parent reads.
#![allow(clippy::print_stdout)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tenantform_engine::state::{
    Change, InstanceState, InstanceStatus, LockInfo, Partition, PartitionFilter, StateBackend, StateError, NO_WAIT,
};
use tenantform_engine::value::Value;
use tenantform_pgtest::PgServer;
use tenantform_state::PgBackend;

const CHILD_ENV: &str = "TENANTFORM_PG_LOCK_CHILD";

fn record(address: &str, n: u64) -> InstanceState {
    InstanceState {
        addr: address.parse().expect("address"),
        provider: "random".into(),
        schema_version: 0,
        status: InstanceStatus::Ready,
        value: Value::map([("id", Value::string(address)), ("n", Value::number(n as f64))]),
        dependencies: Vec::new(),
        create_before_destroy: false,
        detail: None,
    }
}

fn tenant(slug: &str) -> Partition {
    Partition::Tenant(slug.to_string())
}

/// Not a test on its own: the child process of `a_killed_holder_releases_its_lock`.
#[test]
fn lock_child_entry_point() {
    let Ok(url) = std::env::var(CHILD_ENV) else {
        return;
    };
    let b = PgBackend::open(&url).expect("child: open");
    let _g = b.lock(&[tenant("acme")], &LockInfo::for_current_process("apply"), NO_WAIT).expect("child: lock");
    println!("locked");
    std::thread::sleep(Duration::from_secs(120));
}

#[test]
fn a_killed_holder_releases_its_lock() {
    let server = PgServer::start();
    let url = server.url("postgres") + "?stack=killed";
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "lock_child_entry_point", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(lines.any(|l| l.map(|l| l.contains("locked")).unwrap_or(false)), "the child took the lock");

    let b = PgBackend::open(&url).unwrap();
    let held = match b.lock(&[tenant("acme")], &LockInfo::for_current_process("apply"), NO_WAIT) {
        Err(StateError::Locked { holders }) => holders,
        other => panic!("expected Locked, got {:?}", other.map(|g| g.info().clone())),
    };
    assert_eq!(held[0].pid, child.id(), "the holder is named with its PID");
    assert_eq!(held[0].operation, "apply");

    // SIGKILL: no chance to unlock. The server sees the connection close and drops the
    // session's advisory locks.
    child.kill().unwrap();
    child.wait().unwrap();
    let start = Instant::now();
    let g = b
        .lock(&[tenant("acme")], &LockInfo::for_current_process("apply"), Duration::from_secs(20))
        .expect("the lock comes free once the server notices the dead session");
    assert!(start.elapsed() < Duration::from_secs(10), "released promptly ({:?})", start.elapsed());
    let locks = b.locks().unwrap();
    assert_eq!(locks.len(), 1, "the dead holder's row was taken over: {locks:?}");
    assert_eq!(locks[0].id, g.info().id);
}

#[test]
fn works_from_spawn_blocking_and_drops_inside_a_runtime() {
    let server = PgServer::start();
    let url = server.url("postgres") + "?stack=rt";
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async move {
        let b: Arc<dyn StateBackend> = {
            let url = url.clone();
            Arc::from(tokio::task::spawn_blocking(move || tenantform_state::open(&url)).await.unwrap().unwrap())
        };
        let b2 = b.clone();
        let serial = tokio::task::spawn_blocking(move || {
            let g = b2.lock(&[Partition::Root], &LockInfo::for_current_process("apply"), NO_WAIT)?;
            let s = b2.commit(g.as_ref(), "apply", &[Change::Put(record("random_id.x", 1))])?;
            b2.unlock(g)?;
            Ok::<_, StateError>(s)
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(serial, 1);
        // A guard dropped on an async worker (as when an apply unwinds) still releases.
        let b3 = b.clone();
        let g = tokio::task::spawn_blocking(move || {
            b3.lock(&[tenant("acme")], &LockInfo::for_current_process("apply"), NO_WAIT).unwrap()
        })
        .await
        .unwrap();
        drop(g);
        let b4 = b.clone();
        let locks = tokio::task::spawn_blocking(move || b4.locks().unwrap()).await.unwrap();
        assert!(locks.is_empty(), "{locks:?}");
        // And the backend itself is dropped here, inside the runtime: no panic.
        drop(b);
    });
}

#[test]
fn many_concurrent_writers_lose_no_update() {
    let server = PgServer::start();
    let url = server.url("postgres") + "?stack=busy";
    const TENANTS: usize = 12;
    const COMMITS: u64 = 15;
    let start = Instant::now();
    let workers: Vec<_> = (0..TENANTS)
        .map(|t| {
            let url = url.clone();
            std::thread::spawn(move || {
                let b = PgBackend::open(&url).unwrap();
                let slug = format!("t{t:02}");
                let g =
                    b.lock(&[tenant(&slug)], &LockInfo::for_current_process("apply"), Duration::from_secs(30)).unwrap();
                let mut serials = Vec::new();
                for i in 0..COMMITS {
                    let a = format!("tenant.{slug}.random_id.r{i}");
                    serials.push(b.commit(g.as_ref(), "apply", &[Change::Put(record(&a, i))]).unwrap());
                }
                // Rewrite the first record: the last write must win.
                let a = format!("tenant.{slug}.random_id.r0");
                serials.push(b.commit(g.as_ref(), "apply", &[Change::Put(record(&a, 99))]).unwrap());
                b.unlock(g).unwrap();
                serials
            })
        })
        .collect();
    // Meanwhile, writers that share one tenant queue on its lock and each add a record.
    let shared: Vec<_> = (0..4)
        .map(|w| {
            let url = url.clone();
            std::thread::spawn(move || {
                let b = PgBackend::open(&url).unwrap();
                let g = b
                    .lock(&[tenant("shared")], &LockInfo::for_current_process("apply"), Duration::from_secs(60))
                    .unwrap();
                let s = b
                    .commit(g.as_ref(), "apply", &[Change::Put(record(&format!("tenant.shared.random_id.w{w}"), 1))])
                    .unwrap();
                b.unlock(g).unwrap();
                vec![s]
            })
        })
        .collect();
    let mut serials: Vec<u64> = workers.into_iter().chain(shared).flat_map(|w| w.join().unwrap()).collect();
    serials.sort_unstable();
    let total = TENANTS as u64 * (COMMITS + 1) + 4;
    assert_eq!(serials, (1..=total).collect::<Vec<_>>(), "every serial exactly once");
    let b = PgBackend::open(&url).unwrap();
    let s = b.load(&PartitionFilter::All).unwrap();
    assert_eq!(s.serial, total);
    assert_eq!(s.resources.len(), TENANTS * COMMITS as usize + 4);
    for t in 0..TENANTS {
        for i in 0..COMMITS {
            let a = format!("tenant.t{t:02}.random_id.r{i}").parse().unwrap();
            let want = if i == 0 { 99 } else { i };
            assert_eq!(s.resources.get(&a), Some(&record(&a.to_string(), want)), "{a}");
        }
    }
    assert_eq!(b.history(usize::MAX).unwrap().len() as u64, total);
    assert!(b.locks().unwrap().is_empty());
    assert!(start.elapsed() < Duration::from_secs(60));
}

#[test]
fn force_unlock_ends_a_live_holders_session() {
    let server = PgServer::start();
    let url = server.url("postgres") + "?stack=force";
    let holder = PgBackend::open(&url).unwrap();
    let g = holder.lock(&[tenant("acme")], &LockInfo::for_current_process("apply"), NO_WAIT).unwrap();
    let id = g.info().id.clone();
    let sessions = || {
        server.psql("postgres", "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'tenantform lock %'")
    };
    assert_eq!(sessions(), "1");
    let admin = PgBackend::open(&url).unwrap();
    admin.force_unlock(&id).unwrap();
    assert_eq!(sessions(), "0", "the holder's lock session was ended");
    assert!(matches!(
        holder.commit(g.as_ref(), "apply", &[Change::Put(record("tenant.acme.random_id.x", 1))]),
        Err(StateError::NotLocked(_))
    ));
    let _fresh = admin.lock(&[tenant("acme")], &LockInfo::for_current_process("apply"), NO_WAIT).unwrap();
    assert!(matches!(holder.unlock(g), Err(StateError::NotLocked(_))));
    assert_eq!(admin.locks().unwrap().len(), 1, "the new lock is untouched");
}

#[test]
fn server_errors_are_clear() {
    let server = PgServer::start();
    let e = PgBackend::open(&server.url_as("postgres", "wrong", "postgres")).err().unwrap().to_string();
    assert!(e.contains("cannot connect") && e.contains("password authentication failed"), "{e}");
    assert!(!e.contains("wrong"), "the password is never shown: {e}");
    let e = PgBackend::open(&server.url("no_such_db")).err().unwrap().to_string();
    assert!(e.contains("no_such_db") && e.contains("does not exist"), "{e}");
    server.psql("postgres", "CREATE ROLE reader LOGIN PASSWORD 'r'");
    let e2 = PgBackend::open(&(server.url_as("reader", "r", "postgres") + "?schema=x")).err().unwrap().to_string();
    assert!(e2.contains("cannot create the state schema") && e2.contains("team-setup"), "{e2}");
}

#[test]
fn verify_full_tls_to_the_state_server() {
    let server = PgServer::start_tls();
    let url = format!(
        "postgres://postgres:postgres@localhost:{}/postgres?stack=tls&sslmode=verify-full&sslrootcert={}",
        server.port(),
        server.ca_file().display()
    );
    let b = PgBackend::open(&url).unwrap();
    let g = b.lock(&[Partition::Root], &LockInfo::for_current_process("apply"), NO_WAIT).unwrap();
    b.commit(g.as_ref(), "apply", &[Change::Put(record("random_id.x", 1))]).unwrap();
    let encrypted = server.psql(
        "postgres",
        "SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
         WHERE a.application_name LIKE 'tenantform%'",
    );
    assert_eq!(encrypted, "t", "every connection of the backend, the lock session too, is encrypted");
    drop(g);
    // Without the CA, verify-full refuses the server, and says which mode was asked for.
    let e = PgBackend::open(&format!(
        "postgres://postgres:postgres@localhost:{}/postgres?stack=tls&sslmode=verify-full",
        server.port()
    ))
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("sslmode=verify-full") && e.to_lowercase().contains("certificate"), "{e}");
}

//! Benchmark of the pg state backend under 16 concurrent tenant applies, against a
//! throw-away PostgreSQL server with its durable defaults (fsync on, synchronous commit).
//!
//! Each of 16 workers plays one `tenantform apply --tenant tNN` process: its own backend
//! (own connections), it takes its tenant's lock, then commits resources one at a time (as
//! the apply's committer does when resources finish one by one) and then in groups of 10
//! (group commit), and releases the lock. Reported: aggregate commits/s and changes/s, commit
//! latency percentiles, and lock-acquire latency (uncontended, 16 at once; and the wait of a
//! blocked acquirer after release). Run with `cargo bench -p tenantform-state --bench postgres`
//! (`TENANTFORM_BENCH_COMMITS` changes the commits per worker, default 100).
#![allow(clippy::print_stdout)]

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use tenantform_engine::state::{
    Change, InstanceState, InstanceStatus, LockInfo, Partition, PartitionFilter, StateBackend, NO_WAIT,
};
use tenantform_engine::value::Value;
use tenantform_pgtest::PgServer;
use tenantform_state::PgBackend;

const WORKERS: usize = 16;
const GROUP: usize = 10;

fn record(address: &str, n: usize) -> InstanceState {
    InstanceState {
        addr: address.parse().expect("address"),
        provider: "postgres".into(),
        schema_version: 1,
        status: InstanceStatus::Ready,
        value: Value::map([
            ("id", Value::string(format!("db-{n:08}"))),
            ("name", Value::string(format!("tenant_db_{n}"))),
            ("owner", Value::string("app_owner")),
            ("encoding", Value::string("UTF8")),
            ("connection_limit", Value::number(-1)),
            ("password", Value::string(format!("{n:032x}")).mark_sensitive()),
            ("labels", Value::map([("tier", Value::string("pro")), ("region", Value::string("eu-west-1"))])),
        ]),
        dependencies: Vec::new(),
        create_before_destroy: false,
        detail: None,
    }
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

struct WorkerResult {
    lock: Duration,
    singles: Vec<Duration>,
    groups: Vec<Duration>,
}

fn main() {
    let commits: usize = std::env::var("TENANTFORM_BENCH_COMMITS").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    let server = PgServer::start_durable();
    let url = server.url("postgres") + "?stack=bench";
    PgBackend::open(&url).expect("open");
    println!("pg state backend: {WORKERS} concurrent tenant applies, {commits} single commits + {} group commits of {GROUP} each", commits / GROUP);
    println!("server: throw-away PostgreSQL with fsync=on, synchronous_commit=on, on this machine");

    let barrier = Arc::new(Barrier::new(WORKERS));
    let started = Instant::now();
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (url, barrier) = (url.clone(), barrier.clone());
            std::thread::spawn(move || {
                let b = PgBackend::open(&url).expect("open");
                let slug = format!("t{w:02}");
                barrier.wait();
                let t = Instant::now();
                let g = b
                    .lock(&[Partition::Tenant(slug.clone())], &LockInfo::for_current_process("apply"), NO_WAIT)
                    .expect("a tenant's lock is free");
                let lock = t.elapsed();
                let mut singles = Vec::with_capacity(commits);
                for i in 0..commits {
                    let c = [Change::Put(record(&format!("tenant.{slug}.postgres_database.db[{i}]"), i))];
                    let t = Instant::now();
                    b.commit(g.as_ref(), "apply", &c).expect("commit");
                    singles.push(t.elapsed());
                }
                let mut groups = Vec::new();
                for gi in 0..commits / GROUP {
                    let c: Vec<Change> = (0..GROUP)
                        .map(|k| {
                            let n = commits + gi * GROUP + k;
                            Change::Put(record(&format!("tenant.{slug}.postgres_role.r[{n}]"), n))
                        })
                        .collect();
                    let t = Instant::now();
                    b.commit(g.as_ref(), "apply", &c).expect("group commit");
                    groups.push(t.elapsed());
                }
                b.unlock(g).expect("unlock");
                WorkerResult { lock, singles, groups }
            })
        })
        .collect();
    let results: Vec<WorkerResult> = workers.into_iter().map(|w| w.join().expect("worker")).collect();
    let wall = started.elapsed();

    let mut locks: Vec<Duration> = results.iter().map(|r| r.lock).collect();
    let mut singles: Vec<Duration> = results.iter().flat_map(|r| r.singles.iter().copied()).collect();
    let mut groups: Vec<Duration> = results.iter().flat_map(|r| r.groups.iter().copied()).collect();
    locks.sort();
    singles.sort();
    groups.sort();
    let single_time: Duration = results.iter().map(|r| r.singles.iter().sum::<Duration>()).max().unwrap_or_default();
    let group_time: Duration = results.iter().map(|r| r.groups.iter().sum::<Duration>()).max().unwrap_or_default();
    let total_commits = singles.len() + groups.len();
    println!();
    println!("wall time                        {:.2} s for {total_commits} commits", wall.as_secs_f64());
    println!(
        "single commits (1 change)        {:.0} commits/s aggregate; latency p50 {} p99 {}",
        singles.len() as f64 / single_time.as_secs_f64(),
        ms(pct(&singles, 0.5)),
        ms(pct(&singles, 0.99))
    );
    println!(
        "group commits ({GROUP} changes)        {:.0} commits/s = {:.0} changes/s aggregate; latency p50 {} p99 {}",
        groups.len() as f64 / group_time.as_secs_f64(),
        (groups.len() * GROUP) as f64 / group_time.as_secs_f64(),
        ms(pct(&groups, 0.5)),
        ms(pct(&groups, 0.99))
    );
    println!(
        "lock acquire, 16 tenants at once p50 {} p99 {} max {}",
        ms(pct(&locks, 0.5)),
        ms(pct(&locks, 0.99)),
        ms(*locks.last().unwrap_or(&Duration::ZERO))
    );

    // Lock latency one at a time (connect + advisory lock + row), and hand-over after release.
    let b = PgBackend::open(&url).expect("open");
    let mut solo = Vec::new();
    for i in 0..50 {
        let t = Instant::now();
        let g = b
            .lock(&[Partition::Tenant(format!("solo{i}"))], &LockInfo::for_current_process("apply"), NO_WAIT)
            .expect("lock");
        solo.push(t.elapsed());
        b.unlock(g).expect("unlock");
    }
    solo.sort();
    println!("lock acquire, uncontended        p50 {} p99 {}", ms(pct(&solo, 0.5)), ms(pct(&solo, 0.99)));
    let holder = PgBackend::open(&url).expect("open");
    let mut handover = Vec::new();
    for _ in 0..10 {
        let g = holder.lock(&[Partition::Root], &LockInfo::for_current_process("apply"), NO_WAIT).expect("lock");
        let waiter = {
            let url = url.clone();
            std::thread::spawn(move || {
                let b = PgBackend::open(&url).expect("open");
                let g = b
                    .lock(&[Partition::Root], &LockInfo::for_current_process("apply"), Duration::from_secs(30))
                    .expect("wait");
                let got = Instant::now();
                b.unlock(g).expect("unlock");
                got
            })
        };
        std::thread::sleep(Duration::from_millis(200));
        let released = Instant::now();
        holder.unlock(g).expect("unlock");
        handover.push(waiter.join().expect("waiter").duration_since(released));
    }
    handover.sort();
    println!(
        "lock hand-over to a waiter       p50 {} max {} (woken by NOTIFY on release; polling 20-500 ms as fallback)",
        ms(pct(&handover, 0.5)),
        ms(*handover.last().unwrap_or(&Duration::ZERO))
    );
    let s = b.load(&PartitionFilter::All).expect("load");
    assert_eq!(s.resources.len(), WORKERS * (commits + commits / GROUP * GROUP));
    assert_eq!(s.serial as usize, total_commits);
    println!("checked: {} resources, serial {} (gapless, one per commit)", s.resources.len(), s.serial);
}

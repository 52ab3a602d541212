//! Benchmark of the SQLite state backend on a stack of 40,000 resources (200 tenants):
//! load time, commit throughput (single changes and group commits of 50), lock latency and
//! `snapshot_at`. Run with `cargo bench -p tenantform-state --bench sqlite`; it prints its
//! figures (this is a binary whose output is its purpose, hence the allowed prints).
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use tenantform_engine::address::InstanceAddr;
use tenantform_engine::state::{
    Change, InstanceState, InstanceStatus, LockInfo, Partition, PartitionFilter, StateBackend, NO_WAIT,
};
use tenantform_engine::value::Value;
use tenantform_state::SqliteBackend;

const TENANTS: usize = 200;
const PER_TENANT: usize = 199;
const ROOT: usize = 200;

fn record(address: &str, n: usize) -> InstanceState {
    let addr: InstanceAddr = address.parse().expect("address");
    InstanceState {
        dependencies: vec![format!("random_id.shared[{}]", n % ROOT).parse().expect("dep")],
        addr,
        provider: "postgres".into(),
        schema_version: 1,
        status: InstanceStatus::Ready,
        value: Value::map([
            ("id", Value::string(format!("db-{n:08}"))),
            ("name", Value::string(format!("tenant_db_{n}"))),
            ("owner", Value::string("app_owner")),
            ("encoding", Value::string("UTF8")),
            ("lc_collate", Value::string("en_US.UTF-8")),
            ("connection_limit", Value::number(-1)),
            ("allow_connections", Value::Bool(true)),
            ("size_mb", Value::number(n as f64 * 1.5)),
            ("password", Value::string(format!("{n:032x}")).mark_sensitive()),
            (
                "labels",
                Value::map([
                    ("tier", Value::string(if n % 3 == 0 { "pro" } else { "free" })),
                    ("region", Value::string("eu-west-1")),
                    ("team", Value::string("platform")),
                ]),
            ),
            ("extensions", Value::List(vec![Value::string("pgcrypto"), Value::string("uuid-ossp")])),
            ("comment", Value::Null),
        ]),
        create_before_destroy: n % 7 == 0,
        detail: None,
    }
}

fn all_addresses() -> Vec<String> {
    let mut out: Vec<String> = (0..ROOT).map(|i| format!("random_id.shared[{i}]")).collect();
    for t in 0..TENANTS {
        for r in 0..PER_TENANT {
            out.push(format!("tenant.t{t:03}.postgres_database.db[{r}]"));
        }
    }
    out
}

fn tenants() -> Vec<Partition> {
    let mut ps = vec![Partition::Root];
    ps.extend((0..TENANTS).map(|t| Partition::Tenant(format!("t{t:03}"))));
    ps
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn percentile(mut xs: Vec<Duration>, p: f64) -> Duration {
    xs.sort();
    let i = ((xs.len() as f64 - 1.0) * p).round() as usize;
    xs[i]
}

/// CPU time of this thread (Linux), so that figures stay meaningful on a busy machine where
/// wall time mostly measures waiting for a core.
fn cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(text.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0))
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is accepted and ignored.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("tenantform.state.db");
    let b = SqliteBackend::open(&path).expect("open");
    let guard = b.lock(&tenants(), &LockInfo::for_current_process("bench"), NO_WAIT).expect("lock");

    let addresses = all_addresses();
    assert_eq!(addresses.len(), 40_000);
    let start = Instant::now();
    for (chunk_no, chunk) in addresses.chunks(500).enumerate() {
        let changes: Vec<Change> =
            chunk.iter().enumerate().map(|(i, a)| Change::Put(record(a, chunk_no * 500 + i))).collect();
        b.commit(guard.as_ref(), "apply", &changes).expect("seed");
    }
    let seeded = start.elapsed();
    println!(
        "seed: 40,000 resources in 80 group commits of 500: {} ({:.0} resources/s)",
        ms(seeded),
        40_000.0 / seeded.as_secs_f64()
    );

    // Load of all 40,000 resources, fresh connection each time (as a CLI run would).
    let mut loads = Vec::new();
    let mut cpus = Vec::new();
    for _ in 0..7 {
        let reader = SqliteBackend::open(&path).expect("open reader");
        let (t, c) = (Instant::now(), cpu());
        let s = reader.load(&PartitionFilter::All).expect("load");
        loads.push(t.elapsed());
        cpus.push(cpu() - c);
        assert_eq!(s.resources.len(), 40_000);
    }
    println!(
        "load (all, 40,000 resources, new connection): median {}, min {} (CPU median {})",
        ms(median(loads.clone())),
        ms(*loads.iter().min().expect("runs")),
        ms(median(cpus))
    );
    let mut warm = Vec::new();
    let mut cpus = Vec::new();
    for _ in 0..7 {
        let (t, c) = (Instant::now(), cpu());
        let s = b.load(&PartitionFilter::All).expect("load");
        warm.push(t.elapsed());
        cpus.push(cpu() - c);
        assert_eq!(s.resources.len(), 40_000);
    }
    println!("load (all, warm connection): median {} (CPU median {})", ms(median(warm)), ms(median(cpus)));
    let mut one = Vec::new();
    for t in 0..50 {
        let p = Partition::Tenant(format!("t{:03}", t * 3));
        let start = Instant::now();
        let s = b.load(&PartitionFilter::Only(vec![p])).expect("load tenant");
        one.push(start.elapsed());
        assert_eq!(s.resources.len(), PER_TENANT);
    }
    println!("load (one tenant, {PER_TENANT} resources): median {}", ms(median(one)));

    // Single-change commits (one finished resource each, as the apply engine commits).
    let n = 300;
    let start = Instant::now();
    for i in 0..n {
        let a = &addresses[ROOT + (i * 131) % (40_000 - ROOT)];
        b.commit(guard.as_ref(), "apply", &[Change::Put(record(a, 1_000_000 + i))]).expect("commit");
    }
    let took = start.elapsed();
    println!(
        "commit, 1 change each: {:.0} commits/s ({} per commit, {n} commits)",
        n as f64 / took.as_secs_f64(),
        ms(took / n as u32)
    );

    // Group commits of 50 changes.
    let n = 100;
    let start = Instant::now();
    for i in 0..n {
        let changes: Vec<Change> = (0..50)
            .map(|j| {
                let a = &addresses[(i * 50 + j) * 7 % 40_000];
                Change::Put(record(a, 2_000_000 + i * 50 + j))
            })
            .collect();
        b.commit(guard.as_ref(), "apply", &changes).expect("commit");
    }
    let took = start.elapsed();
    println!(
        "commit, 50 changes each: {:.0} commits/s = {:.0} changes/s ({} per commit, {n} commits)",
        n as f64 / took.as_secs_f64(),
        (n * 50) as f64 / took.as_secs_f64(),
        ms(took / n as u32)
    );
    drop(guard);

    // Lock acquire (and release) latency on one partition, uncontended.
    let mut acquire = Vec::new();
    let mut release = Vec::new();
    for _ in 0..200 {
        let info = LockInfo::for_current_process("bench");
        let t = Instant::now();
        let g = b.lock(&[Partition::Tenant("t007".into())], &info, NO_WAIT).expect("lock");
        acquire.push(t.elapsed());
        let t = Instant::now();
        b.unlock(g).expect("unlock");
        release.push(t.elapsed());
    }
    println!(
        "lock acquire (1 partition): median {}, p99 {}; release: median {}",
        ms(median(acquire.clone())),
        ms(percentile(acquire, 0.99)),
        ms(median(release))
    );
    let all = tenants();
    let mut wide = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let g = b.lock(&all, &LockInfo::for_current_process("bench"), NO_WAIT).expect("lock all");
        wide.push(t.elapsed());
        b.unlock(g).expect("unlock");
    }
    println!("lock acquire ({} partitions): median {}", all.len(), ms(median(wide)));

    // Time travel: the state as of the end of seeding (serial 80).
    let t = Instant::now();
    let s = b.snapshot_at(80).expect("snapshot_at");
    println!(
        "snapshot_at(80) over {} log rows: {} ({} resources)",
        80 * 500 + 300 + 100 * 50,
        ms(t.elapsed()),
        s.resources.len()
    );
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(path.with_extension("db-wal")).map(|m| m.len()).unwrap_or(0);
    println!("file size (db + wal): {:.1} MiB", size as f64 / 1_048_576.0);
}

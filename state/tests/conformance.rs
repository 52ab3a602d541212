//! Runs the conformance suite against every backend: SQLite (each case on a new temporary
//! file, each client its own connections), PostgreSQL (one throw-away server, each case a new
//! stack of one schema, each client its own connections) and in-memory.

use std::sync::atomic::{AtomicUsize, Ordering};
use tenantform_engine::state::StateBackend;
use tenantform_state::conformance::{self, Store};

use tenantform_pgtest::PgServer;
use tenantform_state::{MemoryBackend, PgBackend, SqliteBackend};

struct SqliteStore {
    dir: tempfile::TempDir,
}

impl Store for SqliteStore {
    fn client(&self) -> Box<dyn StateBackend> {
        Box::new(SqliteBackend::open(self.dir.path().join("tenantform.state.db")).expect("open"))
    }
}

struct MemoryStore(MemoryBackend);

impl Store for MemoryStore {
    fn client(&self) -> Box<dyn StateBackend> {
        Box::new(self.0.clone())
    }
}

#[test]
fn sqlite_passes_the_conformance_suite() {
    conformance::run(&|| Box::new(SqliteStore { dir: tempfile::tempdir().expect("tempdir") }));
}

#[test]
fn memory_passes_the_conformance_suite() {
    conformance::run(&|| Box::new(MemoryStore(MemoryBackend::new())));
}

struct PgStore {
    url: String,
}

impl Store for PgStore {
    fn client(&self) -> Box<dyn StateBackend> {
        Box::new(PgBackend::open(&self.url).expect("open the pg backend"))
    }
}

#[test]
fn postgres_passes_the_conformance_suite() {
    let server = PgServer::start();
    let n = AtomicUsize::new(0);
    let base = server.url("postgres");
    conformance::run(&|| {
        let i = n.fetch_add(1, Ordering::SeqCst);
        Box::new(PgStore { url: format!("{base}?stack=case-{i}") })
    });
    assert_eq!(n.load(Ordering::SeqCst), conformance::cases().len(), "every case ran on its own stack");
    let stacks = server.psql("postgres", "SELECT count(*) FROM tenantform.stacks");
    assert!(stacks.parse::<usize>().unwrap() >= 15, "the cases wrote to the server ({stacks} stacks)");
}

#[test]
fn postgres_stacks_and_schemas_are_independent() {
    let server = PgServer::start();
    // Two stacks of one schema, and the same stack name in another schema, are three stores.
    let urls = [
        server.url("postgres") + "?stack=prod",
        server.url("postgres") + "?stack=staging",
        server.url("postgres") + "?stack=prod&schema=other",
    ];
    let backends: Vec<PgBackend> = urls.iter().map(|u| PgBackend::open(u).unwrap()).collect();
    use tenantform_engine::state::{LockInfo, Partition, PartitionFilter, NO_WAIT};
    let guards: Vec<_> = backends
        .iter()
        .map(|b| {
            b.lock(&[Partition::Root], &LockInfo::for_current_process("apply"), NO_WAIT).expect("independent locks")
        })
        .collect();
    for (b, g) in backends.iter().zip(&guards) {
        let r = tenantform_engine::state::InstanceState {
            addr: "random_id.x".parse().unwrap(),
            provider: "random".into(),
            schema_version: 0,
            status: Default::default(),
            value: tenantform_engine::value::Value::map([("id", tenantform_engine::value::Value::string("x"))]),
            dependencies: Vec::new(),
            create_before_destroy: false,
            detail: None,
        };
        b.commit(g.as_ref(), "apply", &[tenantform_engine::state::Change::Put(r)]).unwrap();
    }
    for b in &backends {
        let s = b.load(&PartitionFilter::All).unwrap();
        assert_eq!(s.serial, 1);
        assert_eq!(b.locks().unwrap().len(), 1);
    }
    assert_eq!(backends[0].stacks().unwrap().len(), 2, "schema tenantform holds prod and staging");
}

//! Runs the conformance suite against every backend built so far: SQLite (each case on a new
//! temporary file, each client its own connections) and in-memory.

use tenantform_engine::state::StateBackend;
use tenantform_state::conformance::{self, Store};
use tenantform_state::{MemoryBackend, SqliteBackend};

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

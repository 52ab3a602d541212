//! The SQLite schema and its migrations, applied in order from day one.
//!
//! Every change to the schema is a new entry at the end of [`MIGRATIONS`]; entries are never
//! edited once released. `schema_version` records which ones a file has had, so an old file
//! is upgraded on open and a file written by a newer tenantform is refused rather than
//! misread. This module owns the DDL only; reads and writes live in the parent module.

use rusqlite::{params, Connection, TransactionBehavior};
use tenantform_engine::state::{now_rfc3339, StateError};

use super::sql_err;

/// One schema step.
pub(super) struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// The schema history. Append only.
pub(super) const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "initial schema", sql: V1 },
    Migration { version: 2, name: "status detail of intents and tainted objects", sql: V2 },
];

/// The schema version this build writes.
pub(super) fn latest() -> u32 {
    MIGRATIONS.last().map(|m| m.version).unwrap_or(0)
}

/// The create token of an intent and the reason an object is tainted (JSON, NULL for a plain
/// ready record).
const V2: &str = r#"
ALTER TABLE resources ADD COLUMN status_detail TEXT;
ALTER TABLE resource_versions ADD COLUMN status_detail TEXT;
"#;

const V1: &str = r#"
-- Identity and encoding of this store: `lineage` (written at the first commit),
-- `format_version` (the value encoding, see codec.rs).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('format_version', '1');

-- Current resource instances. `value` is plain JSON; the mark paths are JSON arrays of
-- attribute paths (NULL when empty); `serial` is the serial that last wrote the row.
CREATE TABLE resources (
    address               TEXT PRIMARY KEY,
    partition             TEXT NOT NULL,
    provider              TEXT NOT NULL,
    schema_version        INTEGER NOT NULL,
    status                TEXT NOT NULL,
    value                 TEXT NOT NULL,
    sensitive_paths       TEXT,
    unknown_paths         TEXT,
    dependencies          TEXT,
    create_before_destroy INTEGER NOT NULL,
    serial                INTEGER NOT NULL
);
CREATE INDEX resources_by_partition ON resources (partition);

-- Current module outputs; `module` is the module address ('' for the root module).
CREATE TABLE outputs (
    module          TEXT NOT NULL,
    name            TEXT NOT NULL,
    partition       TEXT NOT NULL,
    value           TEXT NOT NULL,
    sensitive_paths TEXT,
    unknown_paths   TEXT,
    sensitive       INTEGER NOT NULL,
    serial          INTEGER NOT NULL,
    PRIMARY KEY (module, name)
);
CREATE INDEX outputs_by_partition ON outputs (partition);

-- One row per serial: the stack serial is MAX(serial) here. `partitions` is a JSON array of
-- partition keys ('' = root).
CREATE TABLE history (
    serial     INTEGER PRIMARY KEY,
    created    TEXT NOT NULL,
    operation  TEXT NOT NULL,
    partitions TEXT NOT NULL,
    changes    INTEGER NOT NULL,
    lock_id    TEXT,
    who        TEXT
);

-- The newest serial that touched each partition.
CREATE TABLE partition_serials (
    partition TEXT PRIMARY KEY,
    serial    INTEGER NOT NULL
);

-- Append-only change log: every write of a resource at a serial; `value` NULL = removed.
CREATE TABLE resource_versions (
    serial                INTEGER NOT NULL,
    address               TEXT NOT NULL,
    partition             TEXT NOT NULL,
    provider              TEXT,
    schema_version        INTEGER,
    status                TEXT,
    value                 TEXT,
    sensitive_paths       TEXT,
    unknown_paths         TEXT,
    dependencies          TEXT,
    create_before_destroy INTEGER,
    PRIMARY KEY (address, serial)
);
CREATE INDEX resource_versions_by_serial ON resource_versions (serial);

CREATE TABLE output_versions (
    serial          INTEGER NOT NULL,
    module          TEXT NOT NULL,
    name            TEXT NOT NULL,
    partition       TEXT NOT NULL,
    value           TEXT,
    sensitive_paths TEXT,
    unknown_paths   TEXT,
    sensitive       INTEGER,
    PRIMARY KEY (module, name, serial)
);
CREATE INDEX output_versions_by_serial ON output_versions (serial);

-- One row per held partition lock ('' = root, else the tenant slug).
CREATE TABLE locks (
    partition TEXT PRIMARY KEY,
    lock_id   TEXT NOT NULL,
    operation TEXT NOT NULL,
    who       TEXT NOT NULL,
    host      TEXT NOT NULL,
    pid       INTEGER NOT NULL,
    created   TEXT NOT NULL
);
CREATE INDEX locks_by_id ON locks (lock_id);
"#;

/// Brings the file's schema up to [`latest`] in one transaction; returns the version.
pub(super) fn migrate(conn: &mut Connection) -> Result<u32, StateError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql_err)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version INTEGER PRIMARY KEY,
             name    TEXT NOT NULL,
             applied TEXT NOT NULL
         )",
    )
    .map_err(sql_err)?;
    let current: u32 =
        tx.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_version", [], |r| r.get(0)).map_err(sql_err)?;
    let latest = latest();
    if current > latest {
        return Err(StateError::Backend(format!(
            "the state database has schema version {current}, newer than this build of \
             tenantform understands ({latest}); upgrade tenantform"
        )));
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        tx.execute_batch(m.sql)
            .map_err(|e| StateError::Backend(format!("schema migration {} ({}): {e}", m.version, m.name)))?;
        tx.execute(
            "INSERT INTO schema_version (version, name, applied) VALUES (?1, ?2, ?3)",
            params![m.version, m.name, now_rfc3339()],
        )
        .map_err(sql_err)?;
    }
    tx.commit().map_err(sql_err)?;
    Ok(latest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_ordered_and_idempotent() {
        for pair in MIGRATIONS.windows(2) {
            assert!(pair[0].version < pair[1].version);
        }
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), latest());
        assert_eq!(migrate(&mut conn).unwrap(), latest());
        let rows: u32 = conn.query_row("SELECT COUNT(*) FROM schema_version", [], |r| r.get(0)).unwrap();
        assert_eq!(rows as usize, MIGRATIONS.len());
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        conn.execute("INSERT INTO schema_version (version, name, applied) VALUES (999, 'future', 'x')", []).unwrap();
        let err = migrate(&mut conn).unwrap_err().to_string();
        assert!(err.contains("999") && err.contains("upgrade"), "{err}");
    }
}

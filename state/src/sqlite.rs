//! The embedded default state backend: one SQLite file per stack.
//!
//! Durability is the point, so the file runs in WAL mode with `synchronous=FULL`: when
//! [`StateBackend::commit`] returns, the serial is on disk and survives a crash or power loss.
//! Each commit is one `BEGIN IMMEDIATE` transaction that bumps the stack serial, writes the
//! current rows, appends to the change log (`resource_versions`, `output_versions`) and adds
//! a `history` row, so readers and a process killed mid-write only ever see whole serials.
//!
//! Locks are rows of the `locks` table, one per partition, taken all-or-nothing in one
//! immediate transaction; two processes on the same file exclude each other through them.
//! The rows name the holder; whether it still runs is decided by an OS file lock it keeps
//! (`liveness`), so the lock of a killed process is taken over by the next command, as with
//! Terraform's local backend, and only a holder that cannot be checked needs `force-unlock`. A [`SqliteBackend`] holds two connections, a writer and a reader, so loads and
//! history reads in one process do not queue behind a commit.
//!
//! This module owns SQL and the file; the row encoding lives in `codec` and the DDL in
//! `schema`. It must not print, and must not hold the write transaction open across waits.

mod liveness;
mod schema;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction, TransactionBehavior};
use tenantform_engine::address::InstanceAddr;
use tenantform_engine::state::{
    now_rfc3339, Change, HistoryEntry, InstanceState, LockGuard, LockInfo, OutputState, Partition, PartitionFilter,
    StateBackend, StateError, StateSnapshot,
};

use crate::codec::{
    self, check_partitions, Encoded, EncodedInstance, EncodedOutput, EncodedValue, InstanceColumns, OutputColumns,
};

/// How long a statement waits for another connection's write transaction (not for a
/// tenantform lock, which is [`StateBackend::lock`]'s `wait`).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Lock polling interval bounds while waiting for a held partition.
const POLL_MIN: Duration = Duration::from_millis(20);
const POLL_MAX: Duration = Duration::from_millis(500);

const RESOURCE_COLUMNS: &str = "address, provider, schema_version, status, value, \
     sensitive_paths, unknown_paths, dependencies, create_before_destroy, status_detail";
const OUTPUT_COLUMNS: &str = "module, name, value, sensitive_paths, unknown_paths, sensitive";
const LOCK_COLUMNS: &str = "partition, lock_id, operation, who, host, pid, created";

/// Turns a backend error that came from a busy database back into the SQLite error (so the
/// caller can retry), and any other error into a generic failure.
fn busy_or(e: StateError) -> rusqlite::Error {
    let busy = matches!(&e, StateError::Backend(m) if m.contains("database is locked") || m.contains("stayed busy"));
    let code = if busy { rusqlite::ffi::SQLITE_BUSY } else { rusqlite::ffi::SQLITE_ERROR };
    rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some(e.to_string()))
}

pub(crate) fn sql_err(e: rusqlite::Error) -> StateError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        if f.code == rusqlite::ErrorCode::DatabaseBusy {
            return StateError::Backend(format!(
                "the state database stayed busy for {}s (another process is writing): {e}",
                BUSY_TIMEOUT.as_secs()
            ));
        }
    }
    StateError::Backend(format!("sqlite: {e}"))
}

fn col_err(e: rusqlite::types::FromSqlError) -> StateError {
    StateError::Backend(format!("sqlite: unexpected column type: {e}"))
}

/// State stored in one SQLite file. Cloning shares the connections.
#[derive(Clone)]
pub struct SqliteBackend {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
    /// The lineage an empty store reports until its first write persists it; fixed per
    /// instance so that two loads of an empty store agree.
    fresh_lineage: String,
    /// Lock IDs released through `unlock`, so that dropping the guard does not release again.
    unlocked: Mutex<HashSet<String>>,
    /// The OS file locks that tell a live holder from a dead one.
    liveness: liveness::Liveness,
}

/// A poisoned mutex only means a panic elsewhere; the connection itself is still sound (an
/// open transaction rolls back when dropped).
fn lock_conn(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl SqliteBackend {
    /// Opens (creating if needed) the state file at `path` and brings its schema up to date.
    /// The parent directory must exist. A new file is created readable by its owner only:
    /// state holds secrets.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteBackend, StateError> {
        let path = path.as_ref().to_path_buf();
        let ctx = |e: StateError| match e {
            StateError::Backend(m) => StateError::Backend(format!("state database {}: {m}", path.display())),
            other => other,
        };
        create_private(&path)?;
        // Two processes opening a new file at once can hit SQLite's deadlock cases (switching
        // to WAL, the first migration), where it returns BUSY at once instead of waiting:
        // retry the whole opening sequence until the busy timeout.
        let started = std::time::Instant::now();
        let (writer, reader) = loop {
            let attempt = (|| -> Result<(Connection, Connection), rusqlite::Error> {
                let mut writer = Connection::open(&path)?;
                configure(&writer, false).map_err(|e| busy_or(e))?;
                schema::migrate(&mut writer).map_err(|e| busy_or(e))?;
                let reader = Connection::open(&path)?;
                configure(&reader, true).map_err(|e| busy_or(e))?;
                Ok((writer, reader))
            })();
            match attempt {
                Ok(pair) => break pair,
                Err(rusqlite::Error::SqliteFailure(f, _))
                    if f.code == rusqlite::ErrorCode::DatabaseBusy && started.elapsed() < BUSY_TIMEOUT =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(
                        20 + (started.elapsed().as_millis() as u64 % 37),
                    ));
                }
                Err(e) => return Err(ctx(sql_err(e))),
            }
        };
        Ok(SqliteBackend {
            inner: Arc::new(Inner {
                writer: Mutex::new(writer),
                reader: Mutex::new(reader),
                fresh_lineage: uuid::Uuid::new_v4().to_string(),
                unlocked: Mutex::new(HashSet::new()),
                liveness: liveness::Liveness::new(&path),
                path,
            }),
        })
    }

    /// The file this backend writes.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The schema version of the file (after the migrations run by [`SqliteBackend::open`]).
    pub fn schema_version(&self) -> Result<u32, StateError> {
        let conn = lock_conn(&self.inner.reader);
        conn.query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0)).map_err(sql_err)
    }

    /// Checks the file against its own invariants and returns every problem found (empty
    /// when sound): SQLite's integrity check; serials contiguous from 1; current rows equal
    /// to the change log replayed up to the newest serial; partition serials equal to those
    /// the history records. For `state verify`-style commands and crash tests.
    pub fn check_integrity(&self) -> Result<Vec<String>, StateError> {
        let mut problems = Vec::new();
        {
            let mut conn = lock_conn(&self.inner.reader);
            let tx = conn.transaction().map_err(sql_err)?;
            let mut stmt = tx.prepare("PRAGMA integrity_check").map_err(sql_err)?;
            let rows = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(sql_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(sql_err)?;
            if rows != ["ok"] {
                problems.extend(rows.into_iter().map(|r| format!("integrity_check: {r}")));
            }
            let (count, min, max): (u64, Option<u64>, Option<u64>) = tx
                .query_row("SELECT COUNT(*), MIN(serial), MAX(serial) FROM history", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .map_err(sql_err)?;
            if count > 0 && (min != Some(1) || max != Some(count)) {
                problems.push(format!("history serials are not contiguous: {count} rows from {min:?} to {max:?}"));
            }
            let orphans: u64 = tx
                .query_row(
                    "SELECT COUNT(*) FROM resources r WHERE NOT EXISTS (
                         SELECT 1 FROM resource_versions v
                         WHERE v.address = r.address AND v.serial = r.serial
                           AND v.value IS NOT NULL)",
                    [],
                    |r| r.get(0),
                )
                .map_err(sql_err)?;
            if orphans > 0 {
                problems.push(format!("{orphans} resource rows have no matching change-log entry"));
            }
            let unlogged: u64 = tx
                .query_row(
                    "SELECT COUNT(*) FROM (SELECT serial FROM resource_versions
                         UNION SELECT serial FROM output_versions) v
                     WHERE v.serial NOT IN (SELECT serial FROM history)",
                    [],
                    |r| r.get(0),
                )
                .map_err(sql_err)?;
            if unlogged > 0 {
                problems.push(format!("{unlogged} change-log serials have no history entry"));
            }
        }
        let current = self.load(&PartitionFilter::All)?;
        let replayed = self.snapshot_at(current.serial)?;
        for (addr, s) in &current.resources {
            if replayed.resources.get(addr) != Some(s) {
                problems.push(format!("{addr}: current row differs from the change log"));
            }
        }
        for addr in replayed.resources.keys() {
            if !current.resources.contains_key(addr) {
                problems.push(format!("{addr}: in the change log but not in current rows"));
            }
        }
        if current.outputs != replayed.outputs {
            problems.push("outputs differ from the change log".into());
        }
        if current.partition_serials != replayed.partition_serials {
            problems.push(format!(
                "partition serials {:?} differ from history {:?}",
                current.partition_serials, replayed.partition_serials
            ));
        }
        Ok(problems)
    }
}

#[cfg(unix)]
fn create_private(path: &Path) -> Result<(), StateError> {
    use std::os::unix::fs::OpenOptionsExt;
    let created = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path);
    match created {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StateError::Backend(format!("cannot create state database {}: {e}", path.display()))),
    }
}

#[cfg(not(unix))]
fn create_private(_path: &Path) -> Result<(), StateError> {
    Ok(())
}

fn configure(conn: &Connection, reader: bool) -> Result<(), StateError> {
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sql_err)?;
    conn.set_prepared_statement_cache_capacity(64);
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(sql_err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StateError::Backend(format!(
            "cannot switch the state database to WAL mode (it stays in {mode} mode); is it on \
             a network file system?"
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL").map_err(sql_err)?;
    // On macOS a plain fsync does not reach the platter; F_FULLFSYNC does (no-op elsewhere).
    conn.pragma_update(None, "fullfsync", true).map_err(sql_err)?;
    conn.pragma_update(None, "checkpoint_fullfsync", true).map_err(sql_err)?;
    if reader {
        conn.pragma_update(None, "query_only", true).map_err(sql_err)?;
        // Large loads: keep pages cached and read through a memory map.
        conn.pragma_update(None, "cache_size", -65_536).map_err(sql_err)?;
        conn.pragma_update(None, "mmap_size", 268_435_456).map_err(sql_err)?;
    }
    Ok(())
}

fn stored_lineage(conn: &Connection) -> Result<Option<String>, StateError> {
    conn.prepare_cached("SELECT value FROM meta WHERE key = 'lineage'")
        .map_err(sql_err)?
        .query_row([], |r| r.get(0))
        .optional()
        .map_err(sql_err)
}

fn set_lineage(conn: &Connection, lineage: &str) -> Result<(), StateError> {
    conn.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES ('lineage', ?1)")
        .map_err(sql_err)?
        .execute([lineage])
        .map_err(sql_err)?;
    Ok(())
}

fn current_serial(conn: &Connection) -> Result<u64, StateError> {
    conn.prepare_cached("SELECT COALESCE(MAX(serial), 0) FROM history")
        .map_err(sql_err)?
        .query_row([], |r| r.get(0))
        .map_err(sql_err)
}

fn col_str<'r>(row: &'r Row<'_>, i: usize) -> Result<&'r str, StateError> {
    row.get_ref(i).map_err(sql_err)?.as_str().map_err(col_err)
}

fn col_opt_str<'r>(row: &'r Row<'_>, i: usize) -> Result<Option<&'r str>, StateError> {
    row.get_ref(i).map_err(sql_err)?.as_str_or_null().map_err(col_err)
}

fn col_i64(row: &Row<'_>, i: usize) -> Result<i64, StateError> {
    row.get_ref(i).map_err(sql_err)?.as_i64().map_err(col_err)
}

/// Decodes a row whose first columns are [`RESOURCE_COLUMNS`].
fn instance_from_row(row: &Row<'_>) -> Result<InstanceState, StateError> {
    codec::decode_instance(&InstanceColumns {
        address: col_str(row, 0)?,
        provider: col_str(row, 1)?,
        schema_version: col_i64(row, 2)?,
        status: col_str(row, 3)?,
        value: col_str(row, 4)?,
        sensitive_paths: col_opt_str(row, 5)?,
        unknown_paths: col_opt_str(row, 6)?,
        dependencies: col_opt_str(row, 7)?,
        create_before_destroy: col_i64(row, 8)? != 0,
        detail: col_opt_str(row, 9)?,
    })
}

/// Decodes a row whose first columns are [`OUTPUT_COLUMNS`].
fn output_from_row(row: &Row<'_>) -> Result<OutputState, StateError> {
    codec::decode_output(&OutputColumns {
        module: col_str(row, 0)?,
        name: col_str(row, 1)?,
        value: col_str(row, 2)?,
        sensitive_paths: col_opt_str(row, 3)?,
        unknown_paths: col_opt_str(row, 4)?,
        sensitive: col_i64(row, 5)? != 0,
    })
}

fn lock_from_row(row: &Row<'_>) -> rusqlite::Result<LockInfo> {
    Ok(LockInfo {
        partition: Some(Partition::from_key(row.get_ref(0)?.as_str()?)),
        id: row.get(1)?,
        operation: row.get(2)?,
        who: row.get(3)?,
        host: row.get(4)?,
        pid: row.get(5)?,
        created: row.get(6)?,
    })
}

/// Runs `sql` and decodes every row into `out`; `skip_removed` drops change-log rows whose
/// value is NULL (column 4).
///
/// Rows are collected into a `Vec` and turned into a map once at the end ([`into_map`]):
/// inserting one by one interleaves large B-tree node allocations with the many small frees
/// of decoding, which sends glibc's allocator into `malloc_consolidate` on every node and
/// made loads of 40,000 resources about a third slower.
fn read_resources(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    skip_removed: bool,
    out: &mut Vec<InstanceState>,
) -> Result<(), StateError> {
    let mut stmt = conn.prepare_cached(sql).map_err(sql_err)?;
    let mut rows = stmt.query(params).map_err(sql_err)?;
    while let Some(row) = rows.next().map_err(sql_err)? {
        if skip_removed && row.get_ref(4).map_err(sql_err)? == rusqlite::types::ValueRef::Null {
            continue;
        }
        out.push(instance_from_row(row)?);
    }
    Ok(())
}

/// Builds the snapshot's map in one bulk operation (see [`read_resources`]).
fn into_map(rows: Vec<InstanceState>) -> BTreeMap<InstanceAddr, InstanceState> {
    rows.into_iter().map(|s| (s.addr.clone(), s)).collect()
}

fn read_outputs(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    skip_removed: bool,
    out: &mut BTreeMap<(tenantform_engine::address::ModuleAddr, String), OutputState>,
) -> Result<(), StateError> {
    let mut stmt = conn.prepare_cached(sql).map_err(sql_err)?;
    let mut rows = stmt.query(params).map_err(sql_err)?;
    while let Some(row) = rows.next().map_err(sql_err)? {
        if skip_removed && row.get_ref(2).map_err(sql_err)? == rusqlite::types::ValueRef::Null {
            continue;
        }
        let o = output_from_row(row)?;
        out.insert((o.module.clone(), o.name.clone()), o);
    }
    Ok(())
}

/// Inside the write transaction: every partition of the guard is still held by its lock ID
/// (a `force-unlock` makes the guard stale).
fn verify_guard(tx: &Transaction<'_>, guard: &dyn LockGuard) -> Result<(), StateError> {
    let id = &guard.info().id;
    let mut stmt = tx.prepare_cached("SELECT lock_id FROM locks WHERE partition = ?1").map_err(sql_err)?;
    for p in guard.partitions() {
        let holder: Option<String> = stmt.query_row([p.key()], |r| r.get(0)).optional().map_err(sql_err)?;
        if holder.as_ref() != Some(id) {
            return Err(StateError::NotLocked(id.clone()));
        }
    }
    Ok(())
}

fn bind_value(v: &EncodedValue) -> (&str, Option<&str>, Option<&str>) {
    (&v.json, v.sensitive_paths.as_deref(), v.unknown_paths.as_deref())
}

/// Writes one change at `serial`: the current row and its change-log entry.
fn write_op(tx: &Transaction<'_>, serial: u64, op: &Encoded) -> Result<(), StateError> {
    match op {
        Encoded::Put(e) => {
            let (value, sens, unk) = bind_value(&e.value);
            tx.prepare_cached(
                "INSERT INTO resources (address, partition, provider, schema_version, status,
                     value, sensitive_paths, unknown_paths, dependencies, create_before_destroy,
                     serial, status_detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT (address) DO UPDATE SET partition = excluded.partition,
                     provider = excluded.provider, schema_version = excluded.schema_version,
                     status = excluded.status, value = excluded.value,
                     sensitive_paths = excluded.sensitive_paths,
                     unknown_paths = excluded.unknown_paths,
                     dependencies = excluded.dependencies,
                     create_before_destroy = excluded.create_before_destroy,
                     serial = excluded.serial, status_detail = excluded.status_detail",
            )
            .map_err(sql_err)?
            .execute(params![
                e.address,
                e.partition,
                e.provider,
                e.schema_version,
                e.status,
                value,
                sens,
                unk,
                e.dependencies,
                e.create_before_destroy,
                serial,
                e.detail
            ])
            .map_err(sql_err)?;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO resource_versions (serial, address, partition, provider,
                     schema_version, status, value, sensitive_paths, unknown_paths, dependencies,
                     create_before_destroy, status_detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .map_err(sql_err)?
            .execute(params![
                serial,
                e.address,
                e.partition,
                e.provider,
                e.schema_version,
                e.status,
                value,
                sens,
                unk,
                e.dependencies,
                e.create_before_destroy,
                e.detail
            ])
            .map_err(sql_err)?;
        }
        Encoded::Remove { address, partition } => {
            let removed = tx
                .prepare_cached("DELETE FROM resources WHERE address = ?1")
                .map_err(sql_err)?
                .execute([address])
                .map_err(sql_err)?;
            if removed > 0 {
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO resource_versions (serial, address, partition, value)
                     VALUES (?1, ?2, ?3, NULL)",
                )
                .map_err(sql_err)?
                .execute(params![serial, address, partition])
                .map_err(sql_err)?;
            }
        }
        Encoded::PutOutput(o) => {
            let (value, sens, unk) = bind_value(&o.value);
            tx.prepare_cached(
                "INSERT INTO outputs (module, name, partition, value, sensitive_paths,
                     unknown_paths, sensitive, serial)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (module, name) DO UPDATE SET partition = excluded.partition,
                     value = excluded.value, sensitive_paths = excluded.sensitive_paths,
                     unknown_paths = excluded.unknown_paths, sensitive = excluded.sensitive,
                     serial = excluded.serial",
            )
            .map_err(sql_err)?
            .execute(params![o.module, o.name, o.partition, value, sens, unk, o.sensitive, serial])
            .map_err(sql_err)?;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO output_versions (serial, module, name, partition, value,
                     sensitive_paths, unknown_paths, sensitive)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .map_err(sql_err)?
            .execute(params![serial, o.module, o.name, o.partition, value, sens, unk, o.sensitive])
            .map_err(sql_err)?;
        }
        Encoded::RemoveOutput { module, name, partition } => {
            let removed = tx
                .prepare_cached("DELETE FROM outputs WHERE module = ?1 AND name = ?2")
                .map_err(sql_err)?
                .execute([module, name])
                .map_err(sql_err)?;
            if removed > 0 {
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO output_versions (serial, module, name, partition,
                         value)
                     VALUES (?1, ?2, ?3, ?4, NULL)",
                )
                .map_err(sql_err)?
                .execute(params![serial, module, name, partition])
                .map_err(sql_err)?;
            }
        }
    }
    Ok(())
}

/// Writes `ops` as the next serial with its history row; returns the serial.
fn write_serial(
    tx: &Transaction<'_>,
    guard: &dyn LockGuard,
    operation: &str,
    ops: &[Encoded],
    change_count: usize,
) -> Result<u64, StateError> {
    let serial = current_serial(tx)? + 1;
    let mut touched = BTreeSet::new();
    for op in ops {
        write_op(tx, serial, op)?;
        touched.insert(op.partition());
    }
    let partitions =
        serde_json::to_string(&touched).map_err(|e| StateError::Backend(format!("cannot encode partitions: {e}")))?;
    tx.prepare_cached(
        "INSERT INTO history (serial, created, operation, partitions, changes, lock_id, who)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .map_err(sql_err)?
    .execute(params![
        serial,
        now_rfc3339(),
        operation,
        partitions,
        change_count as i64,
        guard.info().id,
        format!("{}@{}", guard.info().who, guard.info().host)
    ])
    .map_err(sql_err)?;
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO partition_serials (partition, serial) VALUES (?1, ?2)
             ON CONFLICT (partition) DO UPDATE SET serial = excluded.serial",
        )
        .map_err(sql_err)?;
    for p in touched {
        stmt.execute(params![p, serial]).map_err(sql_err)?;
    }
    Ok(serial)
}

impl Inner {
    /// One attempt to take every partition: `Some(holders)` when any is held.
    fn try_lock(&self, partitions: &[Partition], info: &LockInfo) -> Result<Option<Vec<LockInfo>>, StateError> {
        let mut conn = lock_conn(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql_err)?;
        let mut holders = Vec::new();
        {
            let mut stmt = tx
                .prepare_cached(&format!("SELECT {LOCK_COLUMNS} FROM locks WHERE partition = ?1"))
                .map_err(sql_err)?;
            for p in partitions {
                if let Some(h) = stmt.query_row([p.key()], lock_from_row).optional().map_err(sql_err)? {
                    holders.push(h);
                }
            }
        }
        // Rows of a holder that no longer runs are cleared (its file lock was free).
        let mut dead: Vec<String> = Vec::new();
        holders.retain(|h| {
            if dead.contains(&h.id) {
                return false;
            }
            match self.liveness.check(&h.id) {
                liveness::Holder::Alive => true,
                liveness::Holder::Dead => {
                    dead.push(h.id.clone());
                    false
                }
            }
        });
        if !dead.is_empty() {
            let mut stmt = tx.prepare_cached("DELETE FROM locks WHERE lock_id = ?1").map_err(sql_err)?;
            for id in &dead {
                stmt.execute([id]).map_err(sql_err)?;
            }
        }
        if !holders.is_empty() {
            let committed = tx.commit().map_err(sql_err);
            for id in &dead {
                if committed.is_ok() {
                    self.liveness.forget(id);
                } else {
                    self.liveness.release_check(id);
                }
            }
            committed?;
            return Ok(Some(holders));
        }
        {
            let mut stmt = tx
                .prepare_cached(&format!("INSERT INTO locks ({LOCK_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"))
                .map_err(sql_err)?;
            for p in partitions {
                stmt.execute(params![p.key(), info.id, info.operation, info.who, info.host, info.pid, info.created])
                    .map_err(sql_err)?;
            }
        }
        let committed = tx.commit().map_err(sql_err);
        for id in &dead {
            if committed.is_ok() {
                self.liveness.forget(id);
            } else {
                self.liveness.release_check(id);
            }
        }
        committed?;
        Ok(None)
    }

    /// Deletes the guard's rows; returns how many were still there.
    fn release(&self, id: &str, partitions: &[Partition]) -> Result<usize, StateError> {
        let mut conn = lock_conn(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql_err)?;
        let mut released = 0;
        {
            let mut stmt =
                tx.prepare_cached("DELETE FROM locks WHERE partition = ?1 AND lock_id = ?2").map_err(sql_err)?;
            for p in partitions {
                released += stmt.execute(params![p.key(), id]).map_err(sql_err)?;
            }
        }
        tx.commit().map_err(sql_err)?;
        self.liveness.forget(id);
        Ok(released)
    }
}

/// A held SQLite lock; dropping it releases the rows (best effort).
struct SqliteGuard {
    inner: Arc<Inner>,
    info: LockInfo,
    partitions: Vec<Partition>,
}

impl LockGuard for SqliteGuard {
    fn info(&self) -> &LockInfo {
        &self.info
    }
    fn partitions(&self) -> &[Partition] {
        &self.partitions
    }
}

impl Drop for SqliteGuard {
    fn drop(&mut self) {
        let already = self.inner.unlocked.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.info.id);
        if !already {
            // Nothing to report to: a lock left behind is what `force-unlock` is for.
            let _ = self.inner.release(&self.info.id, &self.partitions);
        }
    }
}

impl StateBackend for SqliteBackend {
    fn describe(&self) -> String {
        format!("sqlite ({})", self.inner.path.display())
    }

    fn load(&self, filter: &PartitionFilter) -> Result<StateSnapshot, StateError> {
        let mut conn = lock_conn(&self.inner.reader);
        // One read transaction: every part of the snapshot is from the same serial.
        let tx = conn.transaction().map_err(sql_err)?;
        let mut snap = StateSnapshot {
            lineage: stored_lineage(&tx)?.unwrap_or_else(|| self.inner.fresh_lineage.clone()),
            serial: current_serial(&tx)?,
            ..StateSnapshot::default()
        };
        {
            let mut stmt = tx.prepare_cached("SELECT partition, serial FROM partition_serials").map_err(sql_err)?;
            let mut rows = stmt.query([]).map_err(sql_err)?;
            while let Some(row) = rows.next().map_err(sql_err)? {
                let p = Partition::from_key(col_str(row, 0)?);
                if filter.includes(&p) {
                    snap.partition_serials.insert(p, col_i64(row, 1)? as u64);
                }
            }
        }
        let mut resources = Vec::new();
        match filter {
            PartitionFilter::All => {
                read_resources(&tx, &format!("SELECT {RESOURCE_COLUMNS} FROM resources"), [], false, &mut resources)?;
                read_outputs(&tx, &format!("SELECT {OUTPUT_COLUMNS} FROM outputs"), [], false, &mut snap.outputs)?;
            }
            PartitionFilter::Only(partitions) => {
                let wanted: BTreeSet<&Partition> = partitions.iter().collect();
                for p in wanted {
                    read_resources(
                        &tx,
                        &format!("SELECT {RESOURCE_COLUMNS} FROM resources WHERE partition = ?1"),
                        [p.key()],
                        false,
                        &mut resources,
                    )?;
                    read_outputs(
                        &tx,
                        &format!("SELECT {OUTPUT_COLUMNS} FROM outputs WHERE partition = ?1"),
                        [p.key()],
                        false,
                        &mut snap.outputs,
                    )?;
                }
            }
        }
        snap.resources = into_map(resources);
        Ok(snap)
    }

    fn lock(
        &self,
        partitions: &[Partition],
        info: &LockInfo,
        wait: Duration,
    ) -> Result<Box<dyn LockGuard>, StateError> {
        let wanted: Vec<Partition> = partitions.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect();
        if wanted.is_empty() {
            return Err(StateError::Backend("a lock needs at least one partition".into()));
        }
        let start = Instant::now();
        let mut pause = POLL_MIN;
        self.inner.liveness.hold(&info.id)?;
        loop {
            let attempt = self.inner.try_lock(&wanted, info).inspect_err(|_| self.inner.liveness.forget(&info.id));
            match attempt? {
                None => {
                    let mut info = info.clone();
                    info.partition = match wanted.as_slice() {
                        [only] => Some(only.clone()),
                        _ => None,
                    };
                    return Ok(Box::new(SqliteGuard { inner: Arc::clone(&self.inner), info, partitions: wanted }));
                }
                Some(holders) => {
                    let waited = start.elapsed();
                    if waited >= wait {
                        self.inner.liveness.forget(&info.id);
                        return Err(StateError::Locked { holders });
                    }
                    std::thread::sleep(pause.min(wait - waited));
                    pause = (pause * 2).min(POLL_MAX);
                }
            }
        }
    }

    fn unlock(&self, guard: Box<dyn LockGuard>) -> Result<(), StateError> {
        let id = guard.info().id.clone();
        let released = self.inner.release(&id, guard.partitions());
        self.inner.unlocked.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone());
        drop(guard);
        match released? {
            0 => Err(StateError::NotLocked(id)),
            _ => Ok(()),
        }
    }

    fn force_unlock(&self, lock_id: &str) -> Result<(), StateError> {
        let conn = lock_conn(&self.inner.writer);
        let removed = conn
            .prepare_cached("DELETE FROM locks WHERE lock_id = ?1")
            .map_err(sql_err)?
            .execute([lock_id])
            .map_err(sql_err)?;
        if removed == 0 {
            return Err(StateError::NotLocked(lock_id.to_string()));
        }
        self.inner.liveness.forget(lock_id);
        Ok(())
    }

    fn locks(&self) -> Result<Vec<LockInfo>, StateError> {
        let conn = lock_conn(&self.inner.reader);
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {LOCK_COLUMNS} FROM locks ORDER BY partition")).map_err(sql_err)?;
        let mut rows =
            stmt.query_map([], lock_from_row).map_err(sql_err)?.collect::<Result<Vec<_>, _>>().map_err(sql_err)?;
        // A dead holder's rows are not a running operation (the next lock clears them).
        rows.retain(|h| match self.inner.liveness.check(&h.id) {
            liveness::Holder::Alive => true,
            liveness::Holder::Dead => {
                self.inner.liveness.release_check(&h.id);
                false
            }
        });
        Ok(rows)
    }

    fn commit(&self, guard: &dyn LockGuard, operation: &str, changes: &[Change]) -> Result<u64, StateError> {
        let ops = changes.iter().map(Encoded::from_change).collect::<Result<Vec<_>, _>>()?;
        check_partitions(guard, &ops)?;
        let mut conn = lock_conn(&self.inner.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql_err)?;
        verify_guard(&tx, guard)?;
        if ops.is_empty() {
            return current_serial(&tx);
        }
        // The lineage of a new store is fixed by its first write.
        tx.prepare_cached("INSERT OR IGNORE INTO meta (key, value) VALUES ('lineage', ?1)")
            .map_err(sql_err)?
            .execute([&self.inner.fresh_lineage])
            .map_err(sql_err)?;
        let serial = write_serial(&tx, guard, operation, &ops, changes.len())?;
        tx.commit().map_err(sql_err)?;
        Ok(serial)
    }

    fn history(&self, limit: usize) -> Result<Vec<HistoryEntry>, StateError> {
        let conn = lock_conn(&self.inner.reader);
        let mut stmt = conn
            .prepare_cached(
                "SELECT serial, created, operation, partitions, changes FROM history
                 ORDER BY serial DESC LIMIT ?1",
            )
            .map_err(sql_err)?;
        let mut rows = stmt.query([i64::try_from(limit).unwrap_or(i64::MAX)]).map_err(sql_err)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sql_err)? {
            let keys: Vec<String> = serde_json::from_str(col_str(row, 3)?)
                .map_err(|e| StateError::Backend(format!("corrupt history row: {e}")))?;
            out.push(HistoryEntry {
                serial: col_i64(row, 0)? as u64,
                created: col_str(row, 1)?.to_string(),
                operation: col_str(row, 2)?.to_string(),
                partitions: keys.iter().map(|k| Partition::from_key(k)).collect(),
                changes: col_i64(row, 4)? as usize,
            });
        }
        Ok(out)
    }

    fn snapshot_at(&self, serial: u64) -> Result<StateSnapshot, StateError> {
        let mut conn = lock_conn(&self.inner.reader);
        let tx = conn.transaction().map_err(sql_err)?;
        let exists = serial == 0
            || tx
                .prepare_cached("SELECT 1 FROM history WHERE serial = ?1")
                .map_err(sql_err)?
                .exists([serial])
                .map_err(sql_err)?;
        if !exists {
            return Err(StateError::NoSuchSerial(serial));
        }
        let mut snap = StateSnapshot {
            lineage: stored_lineage(&tx)?.unwrap_or_else(|| self.inner.fresh_lineage.clone()),
            serial,
            ..StateSnapshot::default()
        };
        // SQLite takes the bare columns of a MAX() aggregate from the row holding the
        // maximum: the newest version of each address at or before `serial`.
        let mut resources = Vec::new();
        read_resources(
            &tx,
            &format!(
                "SELECT {RESOURCE_COLUMNS}, MAX(serial) FROM resource_versions
                 WHERE serial <= ?1 GROUP BY address"
            ),
            [serial],
            true,
            &mut resources,
        )?;
        snap.resources = into_map(resources);
        read_outputs(
            &tx,
            &format!(
                "SELECT {OUTPUT_COLUMNS}, MAX(serial) FROM output_versions
                 WHERE serial <= ?1 GROUP BY module, name"
            ),
            [serial],
            true,
            &mut snap.outputs,
        )?;
        let mut stmt = tx
            .prepare_cached(
                "SELECT p.value, MAX(h.serial) FROM history h, json_each(h.partitions) p
                 WHERE h.serial <= ?1 GROUP BY p.value",
            )
            .map_err(sql_err)?;
        let mut rows = stmt.query([serial]).map_err(sql_err)?;
        while let Some(row) = rows.next().map_err(sql_err)? {
            snap.partition_serials.insert(Partition::from_key(col_str(row, 0)?), col_i64(row, 1)? as u64);
        }
        Ok(snap)
    }

    fn partition_serials(&self) -> Result<BTreeMap<Partition, u64>, StateError> {
        let conn = lock_conn(&self.inner.reader);
        let mut stmt = conn.prepare_cached("SELECT partition, serial FROM partition_serials").map_err(sql_err)?;
        let mut rows = stmt.query([]).map_err(sql_err)?;
        let mut out = BTreeMap::new();
        while let Some(row) = rows.next().map_err(sql_err)? {
            out.insert(Partition::from_key(col_str(row, 0)?), col_i64(row, 1)? as u64);
        }
        Ok(out)
    }

    fn replace_all(
        &self,
        guard: &dyn LockGuard,
        operation: &str,
        snapshot: &StateSnapshot,
        force: bool,
    ) -> Result<u64, StateError> {
        // Encode the wanted state before taking the write lock.
        let (mut want_res, mut want_out) = codec::encode_snapshot(snapshot)?;

        let mut conn = lock_conn(&self.inner.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql_err)?;
        verify_guard(&tx, guard)?;
        let stored = stored_lineage(&tx)?;
        if let Some(stored) = &stored {
            if !force && *stored != snapshot.lineage {
                return Err(StateError::LineageMismatch { stored: stored.clone(), given: snapshot.lineage.clone() });
            }
        }

        // The difference, as changes: history then says what the push or rollback did.
        let mut ops = Vec::new();
        {
            let mut stmt =
                tx.prepare_cached(&format!("SELECT {RESOURCE_COLUMNS}, partition FROM resources")).map_err(sql_err)?;
            let mut rows = stmt.query([]).map_err(sql_err)?;
            while let Some(row) = rows.next().map_err(sql_err)? {
                let address = col_str(row, 0)?;
                match want_res.remove(address) {
                    Some(want) => {
                        if stored_instance(row)? != want {
                            ops.push(Encoded::Put(want));
                        }
                    }
                    None => ops.push(Encoded::Remove {
                        address: address.to_string(),
                        partition: col_str(row, 10)?.to_string(),
                    }),
                }
            }
        }
        ops.extend(want_res.into_values().map(Encoded::Put));
        {
            let mut stmt =
                tx.prepare_cached(&format!("SELECT {OUTPUT_COLUMNS}, partition FROM outputs")).map_err(sql_err)?;
            let mut rows = stmt.query([]).map_err(sql_err)?;
            while let Some(row) = rows.next().map_err(sql_err)? {
                let key = (col_str(row, 0)?.to_string(), col_str(row, 1)?.to_string());
                match want_out.remove(&key) {
                    Some(want) => {
                        if stored_output(row)? != want {
                            ops.push(Encoded::PutOutput(want));
                        }
                    }
                    None => ops.push(Encoded::RemoveOutput {
                        module: key.0,
                        name: key.1,
                        partition: col_str(row, 6)?.to_string(),
                    }),
                }
            }
        }
        ops.extend(want_out.into_values().map(Encoded::PutOutput));
        check_partitions(guard, &ops)?;

        if stored.is_none() || force {
            let lineage = if !snapshot.lineage.is_empty() {
                snapshot.lineage.clone()
            } else {
                stored.unwrap_or_else(|| self.inner.fresh_lineage.clone())
            };
            set_lineage(&tx, &lineage)?;
        }
        let serial =
            if ops.is_empty() { current_serial(&tx)? } else { write_serial(&tx, guard, operation, &ops, ops.len())? };
        tx.commit().map_err(sql_err)?;
        Ok(serial)
    }
}

/// A current resource row (columns [`RESOURCE_COLUMNS`] then `partition`) in encoded form,
/// for comparison with a wanted record.
fn stored_instance(row: &Row<'_>) -> Result<EncodedInstance, StateError> {
    let status = col_str(row, 3)?;
    Ok(EncodedInstance {
        address: col_str(row, 0)?.to_string(),
        partition: col_str(row, 10)?.to_string(),
        provider: col_str(row, 1)?.to_string(),
        schema_version: u32::try_from(col_i64(row, 2)?).unwrap_or(u32::MAX),
        status: match status {
            "ready" => "ready",
            "creating" => "creating",
            "tainted" => "tainted",
            _ => "?",
        },
        value: EncodedValue {
            json: col_str(row, 4)?.to_string(),
            sensitive_paths: col_opt_str(row, 5)?.map(str::to_string),
            unknown_paths: col_opt_str(row, 6)?.map(str::to_string),
        },
        dependencies: col_opt_str(row, 7)?.map(str::to_string),
        create_before_destroy: col_i64(row, 8)? != 0,
        detail: col_opt_str(row, 9)?.map(str::to_string),
    })
}

/// A current output row (columns [`OUTPUT_COLUMNS`] then `partition`) in encoded form.
fn stored_output(row: &Row<'_>) -> Result<EncodedOutput, StateError> {
    Ok(EncodedOutput {
        module: col_str(row, 0)?.to_string(),
        name: col_str(row, 1)?.to_string(),
        partition: col_str(row, 6)?.to_string(),
        value: EncodedValue {
            json: col_str(row, 2)?.to_string(),
            sensitive_paths: col_opt_str(row, 3)?.map(str::to_string),
            unknown_paths: col_opt_str(row, 4)?.map(str::to_string),
        },
        sensitive: col_i64(row, 5)? != 0,
    })
}

//! The team state backend: every stack's state in one PostgreSQL schema.
//!
//! Selected by `postgres://…`/`postgresql://…` (or `state { backend = "pg" url = "…" }`). The
//! URL is libpq-style and takes two extra query parameters that tenantform removes before
//! connecting: `stack` (which stack of the schema this is, default `default`) and `schema`
//! (default `tenantform`). Missing user and password fall back to `PGUSER`/`PGPASSWORD`;
//! `sslmode` (all six libpq modes) and `sslrootcert` fall back to `PGSSLMODE`/`PGSSLROOTCERT`
//! and are implemented by `tenantform_pgconn`.
//!
//! **Writes.** Each `commit` is one transaction: it checks the guard's lock rows (`FOR SHARE`,
//! so a force-unlock cannot slip in between), bumps the stack's serial on its `stacks` row
//! (commits of one stack serialize there; stacks never contend), writes the current rows and
//! the change log, a `history` row and the partition serials. Serials are gapless.
//!
//! **Locks.** One session-level advisory lock per partition
//! (`pg_try_advisory_lock(hash(schema, stack, partition))`), taken all-or-nothing on a
//! dedicated connection that the [`LockGuard`] owns, plus a `locks` row with the holder's
//! `LockInfo` and that connection's backend PID so that others can say who holds it. The
//! server releases advisory locks when a session ends, so a holder that is killed (`kill -9`,
//! a crashed CI runner) loses its locks as soon as the server notices the connection is gone;
//! its row becomes stale (its session no longer holds the key) and is ignored and overwritten.
//! A commit also checks that the guard's session still holds its advisory locks, so a guard
//! whose lock session died cannot write. `force_unlock` ends the holder's lock session with
//! `pg_terminate_backend` (waiting until the server has released its locks) and deletes its
//! rows.
//!
//! **Threading.** The trait is synchronous and is called from blocking threads (the apply's
//! committer thread, `spawn_blocking`) and sometimes from plain threads. This module drives
//! `tokio-postgres` on a small runtime of its own, spawned once per process and never dropped,
//! and waits for results on a channel: no `block_on` (which would panic inside a caller's
//! runtime) and no runtime drop in an async context. Dropping a guard waits for the release.
//!
//! This module owns the SQL and the connections; the row encoding is `codec`'s and the DDL is
//! `schema`'s. It must not print and must not hold a transaction open across a lock wait.

mod schema;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tenantform_engine::state::{
    Change, HistoryEntry, InstanceState, LockGuard, LockInfo, OutputState, Partition, PartitionFilter, StateBackend,
    StateError, StateSnapshot,
};
use tenantform_pgconn::{ConnectError, Tls};
use tokio::sync::Mutex as AsyncMutex;
use tokio_postgres::{Client, Row, Statement};

use crate::codec::{
    self, check_partitions, Encoded, EncodedInstance, EncodedOutput, EncodedValue, InstanceColumns, OutputColumns,
};

/// Default stack name when the URL has no `stack=`.
pub const DEFAULT_STACK: &str = "default";
/// Default schema when the URL has no `schema=`.
pub const DEFAULT_SCHEMA: &str = "tenantform";

/// Lock polling interval bounds while waiting for a held partition.
const POLL_MIN: Duration = Duration::from_millis(20);
const POLL_MAX: Duration = Duration::from_millis(500);
/// How long a refused lock waits for the holder's row to appear (the holder writes it right
/// after taking the advisory locks).
const ROW_GRACE: Duration = Duration::from_secs(2);
/// How long `force_unlock` waits for a terminated session to release its locks.
const TERMINATE_WAIT: Duration = Duration::from_secs(10);

/// The runtime that drives every connection of this process.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tenantform-pg")
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("cannot start the PostgreSQL I/O runtime: {e}"))
    })
}

/// Runs `fut` on the backend's runtime and waits for it on this thread.
fn block<T: Send + 'static>(
    fut: impl Future<Output = Result<T, StateError>> + Send + 'static,
) -> Result<T, StateError> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    runtime().spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv().unwrap_or_else(|_| Err(StateError::Backend("the PostgreSQL I/O task failed".into())))
}

/// A server error as a backend error, with the server's detail and hint.
pub(crate) fn pg_err(e: tokio_postgres::Error) -> StateError {
    StateError::Backend(describe_pg_error(&e))
}

fn describe_pg_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = format!("postgres: {} ({})", db.message(), db.code().code());
            if let Some(d) = db.detail() {
                s.push_str(&format!("; {d}"));
            }
            if let Some(h) = db.hint() {
                s.push_str(&format!("; hint: {h}"));
            }
            s
        }
        None => {
            let mut s = format!("postgres: {e}");
            let mut src = std::error::Error::source(e);
            while let Some(inner) = src {
                s.push_str(&format!(": {inner}"));
                src = inner.source();
            }
            s
        }
    }
}

/// `"name"` with embedded quotes doubled.
pub(crate) fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// A stable 64-bit advisory lock key for the given parts.
pub(crate) fn lock_key(parts: &[&str]) -> i64 {
    let mut h = Sha256::new();
    h.update(b"tenantform");
    for p in parts {
        h.update([0u8]);
        h.update(p.as_bytes());
    }
    let d = h.finalize();
    i64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// Connection settings parsed from a state URL.
#[derive(Clone)]
pub struct PgSettings {
    config: tokio_postgres::Config,
    tls: Tls,
    /// The URL without password and without tenantform's own parameters, for messages.
    shown: String,
    pub schema: String,
    pub stack: String,
}

impl std::fmt::Debug for PgSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (schema {}, stack {})", self.shown, self.schema, self.stack)
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl PgSettings {
    /// Parses the URL, taking `stack` and `schema` from the arguments unless the URL has its
    /// own `?stack=`/`?schema=` (which win).
    pub fn parse_with(url: &str, stack: Option<&str>, schema: Option<&str>) -> Result<PgSettings, StateError> {
        let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
        let has = |key: &str| query.split('&').any(|kv| kv.split('=').next() == Some(key));
        let mut s = PgSettings::parse(url)?;
        if let Some(stack) = stack.filter(|_| !has("stack")) {
            if stack.is_empty() {
                return Err(StateError::Backend("invalid PostgreSQL state settings: `stack` is empty".into()));
            }
            s.stack = stack.to_string();
        }
        if let Some(schema) = schema.filter(|_| !has("schema")) {
            if schema.is_empty() || schema.len() > 63 {
                return Err(StateError::Backend(
                    "invalid PostgreSQL state settings: `schema` must be 1 to 63 characters".into(),
                ));
            }
            s.schema = schema.to_string();
        }
        Ok(s)
    }

    /// Parses `postgres://user:pass@host:port/db?sslmode=…&stack=prod&schema=tenantform`.
    pub fn parse(url: &str) -> Result<PgSettings, StateError> {
        let bad = |m: String| StateError::Backend(format!("invalid PostgreSQL state URL: {m}"));
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, q),
            None => (url, ""),
        };
        let mut stack = DEFAULT_STACK.to_string();
        let mut schema = DEFAULT_SCHEMA.to_string();
        let mut sslmode = std::env::var("PGSSLMODE").ok().filter(|v| !v.is_empty());
        let mut sslrootcert = std::env::var("PGSSLROOTCERT").ok().filter(|v| !v.is_empty());
        let mut rest = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "stack" => stack = percent_decode(v),
                "schema" => schema = percent_decode(v),
                // Handled here (the driver knows only disable/prefer/require).
                "sslmode" => sslmode = Some(percent_decode(v)),
                "sslrootcert" => sslrootcert = Some(percent_decode(v)),
                _ => rest.push(pair),
            }
        }
        if stack.is_empty() {
            return Err(bad("`stack=` is empty".into()));
        }
        if schema.is_empty() || schema.len() > 63 {
            return Err(bad("`schema=` must be 1 to 63 characters".into()));
        }
        let clean = if rest.is_empty() { base.to_string() } else { format!("{base}?{}", rest.join("&")) };
        let mut config: tokio_postgres::Config = clean.parse().map_err(|e| bad(format!("{e}")))?;
        if config.get_user().is_none() {
            let user = std::env::var("PGUSER")
                .or_else(|_| std::env::var("USER"))
                .map_err(|_| bad("no user in the URL, and neither PGUSER nor USER is set".into()))?;
            config.user(&user);
        }
        if config.get_password().is_none() {
            if let Ok(pw) = std::env::var("PGPASSWORD") {
                config.password(pw);
            }
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(15));
        }
        if config.get_application_name().is_none() {
            config.application_name("tenantform");
        }
        // The shown form: scheme://user@host:port/db — never the password.
        let hosts: Vec<String> = config
            .get_hosts()
            .iter()
            .map(|h| match h {
                tokio_postgres::config::Host::Tcp(s) => s.clone(),
                #[cfg(unix)]
                tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
            })
            .collect();
        let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
        let shown = format!(
            "postgres://{}@{}{}/{}",
            config.get_user().unwrap_or(""),
            hosts.join(","),
            if ports.is_empty() { String::new() } else { format!(":{}", ports.join(",")) },
            config.get_dbname().unwrap_or("")
        );
        let tls = Tls::new(sslmode.as_deref().unwrap_or("prefer"), sslrootcert.as_deref()).map_err(bad)?;
        Ok(PgSettings { config, tls, shown, schema, stack })
    }

    async fn connect(&self, application: Option<&str>) -> Result<Client, StateError> {
        self.connect_notified(application, None).await
    }

    /// Connects; notifications the session receives (after `LISTEN`) wake `notify`.
    async fn connect_notified(
        &self,
        application: Option<&str>,
        notify: Option<Arc<tokio::sync::Notify>>,
    ) -> Result<Client, StateError> {
        let mut config = self.config.clone();
        if let Some(a) = application {
            config.application_name(a);
        }
        let (client, conn) = tenantform_pgconn::connect(&config, &self.tls).await.map_err(|e| {
            let why = match &e {
                ConnectError::Postgres(e) => describe_pg_error(e),
                ConnectError::Tls(m) => m.clone(),
            };
            StateError::Backend(format!(
                "cannot connect to the PostgreSQL state backend {} (sslmode={}): {why}",
                self.shown,
                self.tls.mode.name()
            ))
        })?;
        let mut conn = conn;
        tokio::spawn(async move {
            // Drive the connection; forward notifications (lock releases) to the waiter.
            while let Some(Ok(msg)) = std::future::poll_fn(|cx| conn.poll_message(cx)).await {
                if let (tokio_postgres::AsyncMessage::Notification(_), Some(n)) = (msg, &notify) {
                    n.notify_one();
                }
            }
        });
        client.batch_execute(&format!("SET search_path TO {}", quote_ident(&self.schema))).await.map_err(pg_err)?;
        Ok(client)
    }
}

/// One connection with its prepared statements.
struct Conn {
    client: Client,
    stmts: HashMap<&'static str, Statement>,
}

impl Conn {
    async fn stmt(&mut self, sql: &'static str) -> Result<Statement, StateError> {
        if let Some(s) = self.stmts.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).await.map_err(pg_err)?;
        self.stmts.insert(sql, s.clone());
        Ok(s)
    }

    async fn exec(
        &mut self,
        sql: &'static str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<u64, StateError> {
        let s = self.stmt(sql).await?;
        self.client.execute(&s, params).await.map_err(pg_err)
    }

    async fn rows(
        &mut self,
        sql: &'static str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Row>, StateError> {
        let s = self.stmt(sql).await?;
        self.client.query(&s, params).await.map_err(pg_err)
    }

    async fn opt(
        &mut self,
        sql: &'static str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Option<Row>, StateError> {
        let s = self.stmt(sql).await?;
        self.client.query_opt(&s, params).await.map_err(pg_err)
    }

    async fn batch(&self, sql: &str) -> Result<(), StateError> {
        self.client.batch_execute(sql).await.map_err(pg_err)
    }
}

/// State of every stack in one PostgreSQL schema; this instance reads and writes one stack.
/// Cloning shares the connections.
#[derive(Clone)]
pub struct PgBackend {
    inner: Arc<Inner>,
}

struct Inner {
    settings: PgSettings,
    /// Commits, replace_all, lock bookkeeping.
    writer: AsyncMutex<Option<Conn>>,
    /// Loads, history, snapshots.
    reader: AsyncMutex<Option<Conn>>,
    fresh_lineage: String,
    /// The lock sessions of this instance's live guards, by lock ID.
    sessions: Mutex<HashMap<String, Client>>,
}

impl PgBackend {
    /// Connects, creates or upgrades the schema, and returns the backend of the URL's stack.
    pub fn open(url: &str) -> Result<PgBackend, StateError> {
        Self::open_settings(PgSettings::parse(url)?)
    }

    /// Connects with parsed settings (see [`PgBackend::open`]).
    pub fn open_settings(settings: PgSettings) -> Result<PgBackend, StateError> {
        let inner = Arc::new(Inner {
            settings,
            writer: AsyncMutex::new(None),
            reader: AsyncMutex::new(None),
            fresh_lineage: uuid::Uuid::new_v4().to_string(),
            sessions: Mutex::new(HashMap::new()),
        });
        let i = inner.clone();
        block(async move {
            let mut w = i.writer.lock().await;
            let conn = i.conn(&mut w).await?;
            // Migrations must not run with the schema on the search path missing: use
            // qualified names there.
            schema::migrate(&conn.client, &i.settings.schema).await?;
            Ok(())
        })?;
        Ok(PgBackend { inner })
    }

    pub fn settings(&self) -> &PgSettings {
        &self.inner.settings
    }

    /// Every stack stored in this backend's schema, with its serial.
    pub fn stacks(&self) -> Result<Vec<(String, u64)>, StateError> {
        let i = self.inner.clone();
        block(async move {
            let mut r = i.reader.lock().await;
            let c = i.conn(&mut r).await?;
            let rows = c.rows("SELECT stack, serial FROM stacks ORDER BY stack", &[]).await?;
            Ok(rows.iter().map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1) as u64)).collect())
        })
    }
}

impl Inner {
    /// The connection in `slot`, (re)connecting when there is none or it was closed.
    async fn conn<'a>(&self, slot: &'a mut Option<Conn>) -> Result<&'a mut Conn, StateError> {
        if slot.as_ref().is_some_and(|c| c.client.is_closed()) {
            *slot = None;
        }
        if slot.is_none() {
            let client = self.settings.connect(None).await?;
            *slot = Some(Conn { client, stmts: HashMap::new() });
        }
        slot.as_mut().ok_or_else(|| StateError::Backend("no connection".into()))
    }

    fn stack(&self) -> &str {
        &self.settings.stack
    }

    /// The NOTIFY channel on which lock releases of this stack are announced.
    fn channel(&self) -> String {
        format!("tenantform_unlock_{:016x}", lock_key(&[&self.settings.schema, &self.settings.stack]) as u64)
    }

    fn key(&self, p: &Partition) -> i64 {
        lock_key(&[&self.settings.schema, &self.settings.stack, p.key()])
    }
}

/// Ends the transaction a body ran in: COMMIT on success, ROLLBACK on error.
async fn finish<T>(c: &Conn, r: Result<T, StateError>) -> Result<T, StateError> {
    match r {
        Ok(v) => {
            c.batch("COMMIT").await?;
            Ok(v)
        }
        Err(e) => {
            let _ = c.batch("ROLLBACK").await;
            Err(e)
        }
    }
}

fn u64_col(row: &Row, i: usize) -> u64 {
    row.get::<_, i64>(i) as u64
}

fn instance_from_row(row: &Row) -> Result<InstanceState, StateError> {
    codec::decode_instance(&InstanceColumns {
        address: row.get(0),
        provider: row.get(1),
        schema_version: i64::from(row.get::<_, i32>(2)),
        status: row.get(3),
        value: row.get(4),
        sensitive_paths: row.get(5),
        unknown_paths: row.get(6),
        dependencies: row.get(7),
        create_before_destroy: row.get(8),
        detail: row.get(9),
    })
}

fn output_from_row(row: &Row) -> Result<OutputState, StateError> {
    codec::decode_output(&OutputColumns {
        module: row.get(0),
        name: row.get(1),
        value: row.get(2),
        sensitive_paths: row.get(3),
        unknown_paths: row.get(4),
        sensitive: row.get(5),
    })
}

fn lock_from_row(row: &Row) -> LockInfo {
    LockInfo {
        partition: Some(Partition::from_key(row.get(0))),
        id: row.get(1),
        operation: row.get(2),
        who: row.get(3),
        host: row.get(4),
        pid: u32::try_from(row.get::<_, i64>(5)).unwrap_or(0),
        created: row.get(6),
    }
}

fn stored_instance(row: &Row) -> EncodedInstance {
    let status: &str = row.get(3);
    EncodedInstance {
        address: row.get::<_, String>(0),
        partition: row.get::<_, String>(10),
        provider: row.get::<_, String>(1),
        schema_version: u32::try_from(row.get::<_, i32>(2)).unwrap_or(u32::MAX),
        status: match status {
            "ready" => "ready",
            "creating" => "creating",
            "tainted" => "tainted",
            _ => "?",
        },
        value: EncodedValue {
            json: row.get::<_, String>(4),
            sensitive_paths: row.get::<_, Option<String>>(5),
            unknown_paths: row.get::<_, Option<String>>(6),
        },
        dependencies: row.get::<_, Option<String>>(7),
        create_before_destroy: row.get(8),
        detail: row.get::<_, Option<String>>(9),
    }
}

fn stored_output(row: &Row) -> EncodedOutput {
    EncodedOutput {
        module: row.get::<_, String>(0),
        name: row.get::<_, String>(1),
        partition: row.get::<_, String>(6),
        value: EncodedValue {
            json: row.get::<_, String>(2),
            sensitive_paths: row.get::<_, Option<String>>(3),
            unknown_paths: row.get::<_, Option<String>>(4),
        },
        sensitive: row.get(5),
    }
}

fn keys_of(partitions: &[Partition]) -> Vec<String> {
    partitions.iter().map(|p| p.key().to_string()).collect()
}

/// Inside a write transaction: every partition of the guard is still held by its lock ID,
/// by a session that still holds the advisory lock. The rows stay share-locked until the
/// transaction ends, so a force-unlock waits for the commit (or the commit sees it).
async fn verify_guard(c: &mut Conn, stack: &str, id: &str, partitions: &[Partition]) -> Result<(), StateError> {
    let keys = keys_of(partitions);
    let rows = c
        .rows(
            "SELECT l.partition, l.lock_id, EXISTS (SELECT 1 FROM pg_catalog.pg_locks p
                 WHERE p.locktype = 'advisory' AND p.granted AND p.pid = l.backend_pid
                   AND p.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
                   AND p.classid::bigint = ((l.lock_key >> 32) & 4294967295)
                   AND p.objid::bigint = (l.lock_key & 4294967295)
                   AND p.objsubid = 1)
             FROM locks l WHERE l.stack = $1 AND l.partition = ANY($2) FOR SHARE OF l",
            &[&stack, &keys],
        )
        .await?;
    let held: usize = rows.iter().filter(|r| r.get::<_, &str>(1) == id && r.get::<_, bool>(2)).count();
    if held != keys.len() {
        return Err(StateError::NotLocked(id.to_string()));
    }
    Ok(())
}

async fn current_serial(c: &mut Conn, stack: &str) -> Result<u64, StateError> {
    Ok(c.opt("SELECT serial FROM stacks WHERE stack = $1", &[&stack]).await?.map(|r| u64_col(&r, 0)).unwrap_or(0))
}

/// Writes one change at `serial`: the current row and its change-log entry.
async fn write_op(c: &mut Conn, stack: &str, serial: i64, op: &Encoded) -> Result<(), StateError> {
    match op {
        Encoded::Put(e) => {
            let sv = e.schema_version as i32;
            let p: [&(dyn tokio_postgres::types::ToSql + Sync); 13] = [
                &stack,
                &e.address,
                &e.partition,
                &e.provider,
                &sv,
                &e.status,
                &e.value.json,
                &e.value.sensitive_paths,
                &e.value.unknown_paths,
                &e.dependencies,
                &e.create_before_destroy,
                &serial,
                &e.detail,
            ];
            c.exec(
                "INSERT INTO resources (stack, address, partition, provider, schema_version, status, value,
                     sensitive_paths, unknown_paths, dependencies, create_before_destroy, serial,
                     status_detail)
                 VALUES ($1, $2, $3, $4, $5, $6, $7::text::json, $8::text::json, $9::text::json,
                     $10::text::json, $11, $12, $13::text::json)
                 ON CONFLICT (stack, address) DO UPDATE SET partition = excluded.partition,
                     provider = excluded.provider, schema_version = excluded.schema_version,
                     status = excluded.status, value = excluded.value,
                     sensitive_paths = excluded.sensitive_paths, unknown_paths = excluded.unknown_paths,
                     dependencies = excluded.dependencies,
                     create_before_destroy = excluded.create_before_destroy, serial = excluded.serial,
                     status_detail = excluded.status_detail",
                &p,
            )
            .await?;
            c.exec(
                "INSERT INTO resource_versions (stack, address, partition, provider, schema_version, status,
                     value, sensitive_paths, unknown_paths, dependencies, create_before_destroy, serial,
                     status_detail)
                 VALUES ($1, $2, $3, $4, $5, $6, $7::text::json, $8::text::json, $9::text::json,
                     $10::text::json, $11, $12, $13::text::json)
                 ON CONFLICT (stack, address, serial) DO UPDATE SET partition = excluded.partition,
                     provider = excluded.provider, schema_version = excluded.schema_version,
                     status = excluded.status, value = excluded.value,
                     sensitive_paths = excluded.sensitive_paths, unknown_paths = excluded.unknown_paths,
                     dependencies = excluded.dependencies,
                     create_before_destroy = excluded.create_before_destroy,
                     status_detail = excluded.status_detail",
                &p,
            )
            .await?;
        }
        Encoded::Remove { address, partition } => {
            let removed = c.exec("DELETE FROM resources WHERE stack = $1 AND address = $2", &[&stack, address]).await?;
            if removed > 0 {
                c.exec(
                    "INSERT INTO resource_versions (stack, serial, address, partition, value)
                     VALUES ($1, $2, $3, $4, NULL)
                     ON CONFLICT (stack, address, serial) DO UPDATE SET partition = excluded.partition,
                         provider = NULL, schema_version = NULL, status = NULL, value = NULL,
                         sensitive_paths = NULL, unknown_paths = NULL, dependencies = NULL,
                         create_before_destroy = NULL, status_detail = NULL",
                    &[&stack, &serial, address, partition],
                )
                .await?;
            }
        }
        Encoded::PutOutput(o) => {
            let p: [&(dyn tokio_postgres::types::ToSql + Sync); 9] = [
                &stack,
                &o.module,
                &o.name,
                &o.partition,
                &o.value.json,
                &o.value.sensitive_paths,
                &o.value.unknown_paths,
                &o.sensitive,
                &serial,
            ];
            c.exec(
                "INSERT INTO outputs (stack, module, name, partition, value, sensitive_paths, unknown_paths,
                     sensitive, serial)
                 VALUES ($1, $2, $3, $4, $5::text::json, $6::text::json, $7::text::json, $8, $9)
                 ON CONFLICT (stack, module, name) DO UPDATE SET partition = excluded.partition,
                     value = excluded.value, sensitive_paths = excluded.sensitive_paths,
                     unknown_paths = excluded.unknown_paths, sensitive = excluded.sensitive,
                     serial = excluded.serial",
                &p,
            )
            .await?;
            c.exec(
                "INSERT INTO output_versions (stack, module, name, partition, value, sensitive_paths,
                     unknown_paths, sensitive, serial)
                 VALUES ($1, $2, $3, $4, $5::text::json, $6::text::json, $7::text::json, $8, $9)
                 ON CONFLICT (stack, module, name, serial) DO UPDATE SET partition = excluded.partition,
                     value = excluded.value, sensitive_paths = excluded.sensitive_paths,
                     unknown_paths = excluded.unknown_paths, sensitive = excluded.sensitive",
                &p,
            )
            .await?;
        }
        Encoded::RemoveOutput { module, name, partition } => {
            let removed = c
                .exec("DELETE FROM outputs WHERE stack = $1 AND module = $2 AND name = $3", &[&stack, module, name])
                .await?;
            if removed > 0 {
                c.exec(
                    "INSERT INTO output_versions (stack, serial, module, name, partition, value)
                     VALUES ($1, $2, $3, $4, $5, NULL)
                     ON CONFLICT (stack, module, name, serial) DO UPDATE SET partition = excluded.partition,
                         value = NULL, sensitive_paths = NULL, unknown_paths = NULL, sensitive = NULL",
                    &[&stack, &serial, module, name, partition],
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// Writes `ops` as the stack's next serial with its history row; returns the serial. The
/// caller has made sure the `stacks` row exists.
async fn write_serial(
    c: &mut Conn,
    stack: &str,
    info: &LockInfo,
    operation: &str,
    ops: &[Encoded],
    change_count: usize,
) -> Result<u64, StateError> {
    let serial: i64 = c
        .opt("UPDATE stacks SET serial = serial + 1 WHERE stack = $1 RETURNING serial", &[&stack])
        .await?
        .ok_or_else(|| StateError::Backend(format!("stack {stack:?} vanished during a commit")))?
        .get(0);
    let mut touched = BTreeSet::new();
    for op in ops {
        write_op(c, stack, serial, op).await?;
        touched.insert(op.partition().to_string());
    }
    let partitions: Vec<String> = touched.into_iter().collect();
    let changes = change_count as i32;
    let who = format!("{}@{}", info.who, info.host);
    c.exec(
        "INSERT INTO history (stack, serial, created, operation, partitions, changes, lock_id, who)
         VALUES ($1, $2, date_trunc('second', clock_timestamp()), $3, $4, $5, $6, $7)",
        &[&stack, &serial, &operation, &partitions, &changes, &info.id, &who],
    )
    .await?;
    for p in &partitions {
        c.exec(
            "INSERT INTO partition_serials (stack, partition, serial) VALUES ($1, $2, $3)
             ON CONFLICT (stack, partition) DO UPDATE SET serial = excluded.serial",
            &[&stack, p, &serial],
        )
        .await?;
    }
    Ok(serial as u64)
}

/// A held lock. Its session (the connection holding the advisory locks) is kept in the
/// backend's registry under the lock ID, since `unlock` only sees the guard as a trait object.
struct PgGuard {
    inner: Arc<Inner>,
    info: LockInfo,
    partitions: Vec<Partition>,
}

impl LockGuard for PgGuard {
    fn info(&self) -> &LockInfo {
        &self.info
    }
    fn partitions(&self) -> &[Partition] {
        &self.partitions
    }
}

impl Drop for PgGuard {
    fn drop(&mut self) {
        let session = self.inner.sessions.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.info.id);
        if let Some(session) = session {
            // Nothing to report to: if this fails, the session still ends with the drop, and
            // with it the advisory locks; the row is then stale and ignored.
            let _ = release(&self.inner, &self.info.id, &self.partitions, session);
        }
    }
}

/// Deletes the guard's rows and releases its advisory locks before closing its session (so
/// the next taker does not race the server's cleanup); returns how many rows were there.
fn release(inner: &Arc<Inner>, id: &str, partitions: &[Partition], session: Client) -> Result<u64, StateError> {
    let i = inner.clone();
    let id = id.to_string();
    let keys = keys_of(partitions);
    block(async move {
        let deleted = if !session.is_closed() {
            let n = session
                .execute(
                    "DELETE FROM locks WHERE stack = $1 AND partition = ANY($2) AND lock_id = $3",
                    &[&i.stack(), &keys, &id],
                )
                .await;
            let _ = session.batch_execute("SELECT pg_advisory_unlock_all()").await;
            let _ = session.execute("SELECT pg_notify($1, '')", &[&i.channel()]).await;
            n.map_err(pg_err)?
        } else {
            // The session is gone (force-unlocked, or the connection dropped): its advisory
            // locks went with it; remove our rows if they are still there.
            let mut w = i.writer.lock().await;
            let c = i.conn(&mut w).await?;
            c.exec(
                "DELETE FROM locks WHERE stack = $1 AND partition = ANY($2) AND lock_id = $3",
                &[&i.stack(), &keys, &id],
            )
            .await?
        };
        drop(session);
        Ok(deleted)
    })
}

/// The live holders among `partitions`: rows whose session still holds the advisory key.
const HOLDERS_SQL: &str = "SELECT l.partition, l.lock_id, l.operation, l.who, l.host, l.pid, l.created FROM locks l
     WHERE l.stack = $1 AND l.partition = ANY($2)
       AND EXISTS (SELECT 1 FROM pg_catalog.pg_locks p
           WHERE p.locktype = 'advisory' AND p.granted AND p.pid = l.backend_pid
             AND p.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
             AND p.classid::bigint = ((l.lock_key >> 32) & 4294967295)
             AND p.objid::bigint = (l.lock_key & 4294967295)
             AND p.objsubid = 1)
     ORDER BY l.partition";

impl Inner {
    /// One attempt on an open lock session: `Ok(None)` when every partition was taken (and
    /// recorded), `Ok(Some(held))` with the partitions someone else holds.
    async fn try_lock(
        &self,
        session: &Client,
        wanted: &[Partition],
        info: &LockInfo,
    ) -> Result<Option<Vec<String>>, StateError> {
        let keys: Vec<i64> = wanted.iter().map(|p| self.key(p)).collect();
        let rows = session
            .query(
                "SELECT k, pg_try_advisory_lock(k) FROM unnest($1::bigint[]) WITH ORDINALITY AS t(k, n) ORDER BY n",
                &[&keys],
            )
            .await
            .map_err(pg_err)?;
        let got: Vec<bool> = rows.iter().map(|r| r.get(1)).collect();
        if got.iter().all(|g| *g) {
            let pid: i32 = session.query_one("SELECT pg_backend_pid()", &[]).await.map_err(pg_err)?.get(0);
            let parts = keys_of(wanted);
            let r = session
                .execute(
                    "INSERT INTO locks (stack, partition, lock_id, operation, who, host, pid, created, backend_pid, lock_key)
                     SELECT $1, p, $3, $4, $5, $6, $7, $8, $9, k FROM unnest($2::text[], $10::bigint[]) AS t(p, k)
                     ON CONFLICT (stack, partition) DO UPDATE SET lock_id = excluded.lock_id,
                         operation = excluded.operation, who = excluded.who, host = excluded.host,
                         pid = excluded.pid, created = excluded.created, backend_pid = excluded.backend_pid,
                         lock_key = excluded.lock_key",
                    &[
                        &self.stack(),
                        &parts,
                        &info.id,
                        &info.operation,
                        &info.who,
                        &info.host,
                        &i64::from(info.pid),
                        &info.created,
                        &pid,
                        &keys,
                    ],
                )
                .await;
            if let Err(e) = r {
                let _ = session.batch_execute("SELECT pg_advisory_unlock_all()").await;
                return Err(pg_err(e));
            }
            return Ok(None);
        }
        // All or nothing: give back what this attempt took.
        let taken: Vec<i64> = keys.iter().zip(&got).filter(|(_, g)| **g).map(|(k, _)| *k).collect();
        if !taken.is_empty() {
            session
                .execute("SELECT pg_advisory_unlock(k) FROM unnest($1::bigint[]) AS t(k)", &[&taken])
                .await
                .map_err(pg_err)?;
        }
        Ok(Some(wanted.iter().zip(&got).filter(|(_, g)| !**g).map(|(p, _)| p.key().to_string()).collect()))
    }

    /// Who holds `held`: their rows, waiting briefly for a row a holder is about to write.
    async fn describe_holders(&self, session: &Client, held: &[String]) -> Result<Vec<LockInfo>, StateError> {
        let start = Instant::now();
        loop {
            let rows = session.query(HOLDERS_SQL, &[&self.stack(), &held]).await.map_err(pg_err)?;
            let found: Vec<LockInfo> = rows.iter().map(lock_from_row).collect();
            if found.len() == held.len() || start.elapsed() >= ROW_GRACE {
                let mut out = found;
                for k in held {
                    if !out.iter().any(|h| h.partition.as_ref().map(|p| p.key()) == Some(k.as_str())) {
                        out.push(LockInfo {
                            id: "unknown".into(),
                            operation: "unknown (a session holds the lock but left no lock record)".into(),
                            who: "unknown".into(),
                            host: "unknown".into(),
                            pid: 0,
                            created: String::new(),
                            partition: Some(Partition::from_key(k)),
                        });
                    }
                }
                return Ok(out);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Every live lock of the stack.
const LOCKS_SQL: &str = "SELECT l.partition, l.lock_id, l.operation, l.who, l.host, l.pid, l.created FROM locks l
     WHERE l.stack = $1
       AND EXISTS (SELECT 1 FROM pg_catalog.pg_locks p
           WHERE p.locktype = 'advisory' AND p.granted AND p.pid = l.backend_pid
             AND p.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
             AND p.classid::bigint = ((l.lock_key >> 32) & 4294967295)
             AND p.objid::bigint = (l.lock_key & 4294967295)
             AND p.objsubid = 1)
     ORDER BY l.partition";

/// The sessions still holding the advisory lock of a row of `lock_id`.
const LIVE_PIDS_SQL: &str = "SELECT DISTINCT l.backend_pid FROM locks l
     WHERE l.stack = $1 AND l.lock_id = $2
       AND EXISTS (SELECT 1 FROM pg_catalog.pg_locks p
           WHERE p.locktype = 'advisory' AND p.granted AND p.pid = l.backend_pid
             AND p.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
             AND p.classid::bigint = ((l.lock_key >> 32) & 4294967295)
             AND p.objid::bigint = (l.lock_key & 4294967295)
             AND p.objsubid = 1)";

/// Session settings of a lock session: it sits idle for a whole apply, so server-side idle
/// timeouts must not end it, and the server should notice a vanished client within about a
/// minute (TCP keepalives) so that its locks are released. Settings the server does not know
/// (older versions) are skipped.
const LOCK_SESSION_SETTINGS: &[&str] = &[
    "SET idle_session_timeout = 0",
    "SET idle_in_transaction_session_timeout = 0",
    "SET statement_timeout = 0",
    "SET tcp_keepalives_idle = 30",
    "SET tcp_keepalives_interval = 10",
    "SET tcp_keepalives_count = 3",
];

impl StateBackend for PgBackend {
    fn describe(&self) -> String {
        let s = &self.inner.settings;
        format!("pg ({}, schema {}, stack {})", s.shown, s.schema, s.stack)
    }

    fn load(&self, filter: &PartitionFilter) -> Result<StateSnapshot, StateError> {
        let i = self.inner.clone();
        let only: Option<Vec<String>> = match filter {
            PartitionFilter::All => None,
            PartitionFilter::Only(ps) => {
                Some(ps.iter().map(|p| p.key().to_string()).collect::<BTreeSet<_>>().into_iter().collect())
            }
        };
        block(async move {
            let mut r = i.reader.lock().await;
            let c = i.conn(&mut r).await?;
            let stack = i.settings.stack.clone();
            c.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?;
            let res = async {
                let head = c.opt("SELECT lineage, serial FROM stacks WHERE stack = $1", &[&stack]).await?;
                let mut snap = StateSnapshot {
                    lineage: head.as_ref().map(|r| r.get::<_, String>(0)).unwrap_or_else(|| i.fresh_lineage.clone()),
                    serial: head.as_ref().map(|r| u64_col(r, 1)).unwrap_or(0),
                    ..StateSnapshot::default()
                };
                for row in c.rows("SELECT partition, serial FROM partition_serials WHERE stack = $1", &[&stack]).await?
                {
                    let key: &str = row.get(0);
                    if only.as_ref().is_none_or(|o| o.iter().any(|k| k == key)) {
                        snap.partition_serials.insert(Partition::from_key(key), u64_col(&row, 1));
                    }
                }
                let (res_rows, out_rows) = match &only {
                    None => (
                        c.rows(
                            "SELECT address, provider, schema_version, status, value::text, sensitive_paths::text,
                                 unknown_paths::text, dependencies::text, create_before_destroy, status_detail::text
                             FROM resources WHERE stack = $1",
                            &[&stack],
                        )
                        .await?,
                        c.rows(
                            "SELECT module, name, value::text, sensitive_paths::text, unknown_paths::text, sensitive
                             FROM outputs WHERE stack = $1",
                            &[&stack],
                        )
                        .await?,
                    ),
                    Some(keys) => (
                        c.rows(
                            "SELECT address, provider, schema_version, status, value::text, sensitive_paths::text,
                                 unknown_paths::text, dependencies::text, create_before_destroy, status_detail::text
                             FROM resources WHERE stack = $1 AND partition = ANY($2)",
                            &[&stack, keys],
                        )
                        .await?,
                        c.rows(
                            "SELECT module, name, value::text, sensitive_paths::text, unknown_paths::text, sensitive
                             FROM outputs WHERE stack = $1 AND partition = ANY($2)",
                            &[&stack, keys],
                        )
                        .await?,
                    ),
                };
                let resources = res_rows.iter().map(instance_from_row).collect::<Result<Vec<_>, _>>()?;
                snap.resources = resources.into_iter().map(|s| (s.addr.clone(), s)).collect();
                for row in &out_rows {
                    let o = output_from_row(row)?;
                    snap.outputs.insert((o.module.clone(), o.name.clone()), o);
                }
                Ok(snap)
            }
            .await;
            finish(c, res).await
        })
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
        let i = self.inner.clone();
        let (w, request) = (wanted.clone(), info.clone());
        let session = block(async move {
            let released = Arc::new(tokio::sync::Notify::new());
            let session = i
                .settings
                .connect_notified(Some(&format!("tenantform lock {}", request.id)), Some(released.clone()))
                .await?;
            for s in LOCK_SESSION_SETTINGS {
                let _ = session.batch_execute(s).await;
            }
            if !wait.is_zero() {
                // Releases NOTIFY this channel, so a waiter tries again at once instead of at
                // its next poll (polling stays, for holders that die without a word).
                session.batch_execute(&format!("LISTEN {}", quote_ident(&i.channel()))).await.map_err(pg_err)?;
            }
            let start = Instant::now();
            let mut pause = POLL_MIN;
            loop {
                match i.try_lock(&session, &w, &request).await? {
                    None => return Ok(session),
                    Some(held) => {
                        let waited = start.elapsed();
                        if waited >= wait {
                            let holders = i.describe_holders(&session, &held).await?;
                            return Err(StateError::Locked { holders });
                        }
                        tokio::select! {
                            _ = released.notified() => {}
                            _ = tokio::time::sleep(pause.min(wait - waited)) => {}
                        }
                        pause = (pause * 2).min(POLL_MAX);
                    }
                }
            }
        })?;
        let mut info = info.clone();
        info.partition = match wanted.as_slice() {
            [only] => Some(only.clone()),
            _ => None,
        };
        self.inner.sessions.lock().unwrap_or_else(|e| e.into_inner()).insert(info.id.clone(), session);
        Ok(Box::new(PgGuard { inner: self.inner.clone(), info, partitions: wanted }))
    }

    fn unlock(&self, guard: Box<dyn LockGuard>) -> Result<(), StateError> {
        let id = guard.info().id.clone();
        let session = self.inner.sessions.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
        let released = match session {
            Some(s) => release(&self.inner, &id, guard.partitions(), s),
            None => Ok(0),
        };
        drop(guard);
        match released? {
            0 => Err(StateError::NotLocked(id)),
            _ => Ok(()),
        }
    }

    fn force_unlock(&self, lock_id: &str) -> Result<(), StateError> {
        let i = self.inner.clone();
        let id = lock_id.to_string();
        block(async move {
            let mut w = i.writer.lock().await;
            let c = i.conn(&mut w).await?;
            let stack = i.settings.stack.clone();
            let any = c.opt("SELECT 1 FROM locks WHERE stack = $1 AND lock_id = $2 LIMIT 1", &[&stack, &id]).await?;
            if any.is_none() {
                return Err(StateError::NotLocked(id));
            }
            let pids: Vec<i32> = c.rows(LIVE_PIDS_SQL, &[&stack, &id]).await?.iter().map(|r| r.get(0)).collect();
            for pid in &pids {
                let ended = c.client.query_one("SELECT pg_terminate_backend($1)", &[pid]).await.map_err(|e| {
                    StateError::Backend(format!(
                        "cannot end the session (backend PID {pid}) that holds lock {id}: {}; force-unlock \
                         needs a superuser, the same database role as the holder, or membership in \
                         pg_signal_backend",
                        describe_pg_error(&e)
                    ))
                })?;
                let ended: bool = ended.get(0);
                if !ended {
                    return Err(StateError::Backend(format!(
                        "the server did not end the session (backend PID {pid}) that holds lock {id}"
                    )));
                }
            }
            // Termination is asynchronous: wait until the server has released the locks.
            let start = Instant::now();
            while !c.rows(LIVE_PIDS_SQL, &[&stack, &id]).await?.is_empty() {
                if start.elapsed() > TERMINATE_WAIT {
                    return Err(StateError::Backend(format!(
                        "the session holding lock {id} was told to end but still holds it after {}s",
                        TERMINATE_WAIT.as_secs()
                    )));
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            c.exec("DELETE FROM locks WHERE stack = $1 AND lock_id = $2", &[&stack, &id]).await?;
            let _ = c.client.execute("SELECT pg_notify($1, '')", &[&i.channel()]).await;
            Ok(())
        })
    }

    fn locks(&self) -> Result<Vec<LockInfo>, StateError> {
        let i = self.inner.clone();
        block(async move {
            let mut r = i.reader.lock().await;
            let c = i.conn(&mut r).await?;
            let stack = i.settings.stack.clone();
            Ok(c.rows(LOCKS_SQL, &[&stack]).await?.iter().map(lock_from_row).collect())
        })
    }

    fn commit(&self, guard: &dyn LockGuard, operation: &str, changes: &[Change]) -> Result<u64, StateError> {
        let ops = changes.iter().map(Encoded::from_change).collect::<Result<Vec<_>, _>>()?;
        check_partitions(guard, &ops)?;
        let i = self.inner.clone();
        let (info, parts, op, n) =
            (guard.info().clone(), guard.partitions().to_vec(), operation.to_string(), changes.len());
        block(async move {
            let mut w = i.writer.lock().await;
            let c = i.conn(&mut w).await?;
            let stack = i.settings.stack.clone();
            c.batch("BEGIN").await?;
            let r = async {
                verify_guard(c, &stack, &info.id, &parts).await?;
                if ops.is_empty() {
                    return current_serial(c, &stack).await;
                }
                let format = codec::FORMAT_VERSION as i32;
                c.exec(
                    "INSERT INTO stacks (stack, lineage, format_version) VALUES ($1, $2, $3)
                     ON CONFLICT (stack) DO NOTHING",
                    &[&stack, &i.fresh_lineage, &format],
                )
                .await?;
                write_serial(c, &stack, &info, &op, &ops, n).await
            }
            .await;
            finish(c, r).await
        })
    }

    fn history(&self, limit: usize) -> Result<Vec<HistoryEntry>, StateError> {
        let i = self.inner.clone();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        block(async move {
            let mut r = i.reader.lock().await;
            let c = i.conn(&mut r).await?;
            let stack = i.settings.stack.clone();
            let rows = c
                .rows(
                    "SELECT serial, to_char(created AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                         operation, partitions, changes
                     FROM history WHERE stack = $1 ORDER BY serial DESC LIMIT $2",
                    &[&stack, &limit],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| HistoryEntry {
                    serial: u64_col(r, 0),
                    created: r.get(1),
                    operation: r.get(2),
                    partitions: r.get::<_, Vec<String>>(3).iter().map(|k| Partition::from_key(k)).collect(),
                    changes: r.get::<_, i32>(4) as usize,
                })
                .collect())
        })
    }

    fn snapshot_at(&self, serial: u64) -> Result<StateSnapshot, StateError> {
        let i = self.inner.clone();
        let at = i64::try_from(serial).map_err(|_| StateError::NoSuchSerial(serial))?;
        block(async move {
            let mut r = i.reader.lock().await;
            let c = i.conn(&mut r).await?;
            let stack = i.settings.stack.clone();
            c.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?;
            let res = async {
                if at != 0
                    && c.opt("SELECT 1 FROM history WHERE stack = $1 AND serial = $2", &[&stack, &at]).await?.is_none()
                {
                    return Err(StateError::NoSuchSerial(serial));
                }
                let lineage = c
                    .opt("SELECT lineage FROM stacks WHERE stack = $1", &[&stack])
                    .await?
                    .map(|r| r.get::<_, String>(0))
                    .unwrap_or_else(|| i.fresh_lineage.clone());
                let mut snap = StateSnapshot { lineage, serial, ..StateSnapshot::default() };
                let rows = c
                    .rows(
                        "SELECT DISTINCT ON (address) address, provider, schema_version, status, value::text,
                             sensitive_paths::text, unknown_paths::text, dependencies::text, create_before_destroy, status_detail::text
                         FROM resource_versions WHERE stack = $1 AND serial <= $2
                         ORDER BY address, serial DESC",
                        &[&stack, &at],
                    )
                    .await?;
                let mut resources = Vec::new();
                for row in rows.iter().filter(|r| r.get::<_, Option<&str>>(4).is_some()) {
                    resources.push(instance_from_row(row)?);
                }
                snap.resources = resources.into_iter().map(|s| (s.addr.clone(), s)).collect();
                let rows = c
                    .rows(
                        "SELECT DISTINCT ON (module, name) module, name, value::text, sensitive_paths::text,
                             unknown_paths::text, sensitive
                         FROM output_versions WHERE stack = $1 AND serial <= $2
                         ORDER BY module, name, serial DESC",
                        &[&stack, &at],
                    )
                    .await?;
                for row in rows.iter().filter(|r| r.get::<_, Option<&str>>(2).is_some()) {
                    let o = output_from_row(row)?;
                    snap.outputs.insert((o.module.clone(), o.name.clone()), o);
                }
                for row in c
                    .rows(
                        "SELECT p, MAX(h.serial) FROM history h, unnest(h.partitions) AS p
                         WHERE h.stack = $1 AND h.serial <= $2 GROUP BY p",
                        &[&stack, &at],
                    )
                    .await?
                {
                    snap.partition_serials.insert(Partition::from_key(row.get(0)), u64_col(&row, 1));
                }
                Ok(snap)
            }
            .await;
            finish(c, res).await
        })
    }

    fn partition_serials(&self) -> Result<BTreeMap<Partition, u64>, StateError> {
        let i = self.inner.clone();
        block(async move {
            let mut r = i.reader.lock().await;
            let c = i.conn(&mut r).await?;
            let stack = i.settings.stack.clone();
            let rows = c.rows("SELECT partition, serial FROM partition_serials WHERE stack = $1", &[&stack]).await?;
            Ok(rows.iter().map(|r| (Partition::from_key(r.get(0)), u64_col(r, 1))).collect())
        })
    }

    fn replace_all(
        &self,
        guard: &dyn LockGuard,
        operation: &str,
        snapshot: &StateSnapshot,
        force: bool,
    ) -> Result<u64, StateError> {
        let (mut want_res, mut want_out) = codec::encode_snapshot(snapshot)?;
        let i = self.inner.clone();
        let (info, parts, op) = (guard.info().clone(), guard.partitions().to_vec(), operation.to_string());
        let given = snapshot.lineage.clone();
        // check_partitions needs the guard; it only reads its partitions.
        let view = PartitionsView { info: info.clone(), partitions: parts.clone() };
        block(async move {
            let mut w = i.writer.lock().await;
            let c = i.conn(&mut w).await?;
            let stack = i.settings.stack.clone();
            c.batch("BEGIN").await?;
            let r = async {
                verify_guard(c, &stack, &info.id, &parts).await?;
                let stored: Option<String> =
                    c.opt("SELECT lineage FROM stacks WHERE stack = $1 FOR UPDATE", &[&stack]).await?.map(|r| r.get(0));
                if let Some(stored) = &stored {
                    if !force && *stored != given {
                        return Err(StateError::LineageMismatch { stored: stored.clone(), given: given.clone() });
                    }
                }
                let mut ops = Vec::new();
                let rows = c
                    .rows(
                        "SELECT address, provider, schema_version, status, value::text, sensitive_paths::text,
                             unknown_paths::text, dependencies::text, create_before_destroy, status_detail::text, partition
                         FROM resources WHERE stack = $1",
                        &[&stack],
                    )
                    .await?;
                for row in &rows {
                    let address: &str = row.get(0);
                    match want_res.remove(address) {
                        Some(want) => {
                            if stored_instance(row) != want {
                                ops.push(Encoded::Put(want));
                            }
                        }
                        None => ops
                            .push(Encoded::Remove { address: address.to_string(), partition: row.get::<_, String>(10) }),
                    }
                }
                ops.extend(std::mem::take(&mut want_res).into_values().map(Encoded::Put));
                let rows = c
                    .rows(
                        "SELECT module, name, value::text, sensitive_paths::text, unknown_paths::text, sensitive,
                             partition
                         FROM outputs WHERE stack = $1",
                        &[&stack],
                    )
                    .await?;
                for row in &rows {
                    let key = (row.get::<_, String>(0), row.get::<_, String>(1));
                    match want_out.remove(&key) {
                        Some(want) => {
                            if stored_output(row) != want {
                                ops.push(Encoded::PutOutput(want));
                            }
                        }
                        None => ops.push(Encoded::RemoveOutput {
                            module: key.0,
                            name: key.1,
                            partition: row.get::<_, String>(6),
                        }),
                    }
                }
                ops.extend(std::mem::take(&mut want_out).into_values().map(Encoded::PutOutput));
                check_partitions(&view, &ops)?;
                let format = codec::FORMAT_VERSION as i32;
                if stored.is_none() || force {
                    let lineage = if !given.is_empty() {
                        given.clone()
                    } else {
                        stored.clone().unwrap_or_else(|| i.fresh_lineage.clone())
                    };
                    c.exec(
                        "INSERT INTO stacks (stack, lineage, format_version) VALUES ($1, $2, $3)
                         ON CONFLICT (stack) DO UPDATE SET lineage = excluded.lineage",
                        &[&stack, &lineage, &format],
                    )
                    .await?;
                }
                if ops.is_empty() {
                    current_serial(c, &stack).await
                } else {
                    let n = ops.len();
                    write_serial(c, &stack, &info, &op, &ops, n).await
                }
            }
            .await;
            finish(c, r).await
        })
    }
}

/// A guard's identity and partitions, movable into the I/O task.
struct PartitionsView {
    info: LockInfo,
    partitions: Vec<Partition>,
}

impl LockGuard for PartitionsView {
    fn info(&self) -> &LockInfo {
        &self.info
    }
    fn partitions(&self) -> &[Partition] {
        &self.partitions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_tenantform_parameters_out_of_the_connection() {
        let s = PgSettings::parse("postgres://u:secret@db.example:6543/state?sslmode=disable&stack=prod&schema=tf%20x")
            .unwrap();
        assert_eq!(s.stack, "prod");
        assert_eq!(s.schema, "tf x");
        assert_eq!(s.shown, "postgres://u@db.example:6543/state");
        assert!(!format!("{s:?}").contains("secret"));
        let d = PgSettings::parse("postgresql://u@h/db").unwrap();
        assert_eq!((d.stack.as_str(), d.schema.as_str()), (DEFAULT_STACK, DEFAULT_SCHEMA));
        assert!(PgSettings::parse("postgres://u@h/db?stack=").is_err());
        assert!(PgSettings::parse("postgres://u@h/db?nonsense=1").is_err());
    }

    #[test]
    fn lock_keys_differ_per_schema_stack_and_partition() {
        let a = lock_key(&["tenantform", "prod", "acme"]);
        assert_eq!(a, lock_key(&["tenantform", "prod", "acme"]));
        assert_ne!(a, lock_key(&["tenantform", "prod", "globex"]));
        assert_ne!(a, lock_key(&["tenantform", "staging", "acme"]));
        assert_ne!(lock_key(&["a", "bc"]), lock_key(&["ab", "c"]));
    }
}

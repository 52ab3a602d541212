//! The PostgreSQL schema of the `pg` state backend and its migrations.
//!
//! Every table lives in one schema (default `tenantform`, `?schema=` in the URL) and is keyed
//! by `stack` first, so one schema holds any number of stacks. Every change to the schema is a
//! new entry at the end of [`MIGRATIONS`], never an edit of a released one; `schema_version`
//! records what a database has had, so an older one is upgraded when opened and a newer one is
//! refused. Migrations run under a transaction-level advisory lock so that two first opens do
//! not race, and are skipped entirely (no DDL, no lock) when the schema is current, so day-to-day
//! users need only `SELECT, INSERT, UPDATE, DELETE` on the tables. This module owns the DDL
//! only; reads and writes live in the parent module.

use tokio_postgres::Client;

use super::{lock_key, pg_err, quote_ident};
use tenantform_engine::state::StateError;

/// One schema step. `{schema}` in the SQL is replaced by the quoted schema name.
pub(super) struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// The schema history. Append only.
pub(super) const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "initial schema", sql: V1 },
    Migration { version: 2, name: "status detail of intents and tainted objects", sql: V2 },
];

/// The schema version this build writes.
pub(super) fn latest() -> i32 {
    MIGRATIONS.last().map(|m| m.version).unwrap_or(0)
}

/// The create token of an intent and the reason an object is tainted (NULL for a plain ready
/// record).
const V2: &str = r#"
ALTER TABLE {schema}.resources ADD COLUMN status_detail json;
ALTER TABLE {schema}.resource_versions ADD COLUMN status_detail json;
"#;

const V1: &str = r#"
-- One row per stack: its identity (`lineage`, fixed by the first write), the value encoding,
-- and the stack-wide serial counter. Commits of one stack serialize on this row.
CREATE TABLE {schema}.stacks (
    stack          text PRIMARY KEY,
    lineage        text NOT NULL,
    format_version integer NOT NULL,
    serial         bigint NOT NULL DEFAULT 0,
    created        timestamptz NOT NULL DEFAULT now()
);

-- Current resource instances. `value` is plain JSON (type json keeps the text exactly as
-- written); the mark paths are JSON arrays of attribute paths (NULL when empty).
CREATE TABLE {schema}.resources (
    stack                 text NOT NULL,
    address               text NOT NULL,
    partition             text NOT NULL,
    provider              text NOT NULL,
    schema_version        integer NOT NULL,
    status                text NOT NULL,
    value                 json NOT NULL,
    sensitive_paths       json,
    unknown_paths         json,
    dependencies          json,
    create_before_destroy boolean NOT NULL,
    serial                bigint NOT NULL,
    PRIMARY KEY (stack, address)
);
CREATE INDEX resources_by_partition ON {schema}.resources (stack, partition);

CREATE TABLE {schema}.outputs (
    stack           text NOT NULL,
    module          text NOT NULL,
    name            text NOT NULL,
    partition       text NOT NULL,
    value           json NOT NULL,
    sensitive_paths json,
    unknown_paths   json,
    sensitive       boolean NOT NULL,
    serial          bigint NOT NULL,
    PRIMARY KEY (stack, module, name)
);
CREATE INDEX outputs_by_partition ON {schema}.outputs (stack, partition);

-- One row per serial; `partitions` holds partition keys ('' = root).
CREATE TABLE {schema}.history (
    stack      text NOT NULL,
    serial     bigint NOT NULL,
    created    timestamptz NOT NULL,
    operation  text NOT NULL,
    partitions text[] NOT NULL,
    changes    integer NOT NULL,
    lock_id    text,
    who        text,
    PRIMARY KEY (stack, serial)
);

CREATE TABLE {schema}.partition_serials (
    stack     text NOT NULL,
    partition text NOT NULL,
    serial    bigint NOT NULL,
    PRIMARY KEY (stack, partition)
);

-- Append-only change log: every write of a record at a serial; `value` NULL = removed.
CREATE TABLE {schema}.resource_versions (
    stack                 text NOT NULL,
    serial                bigint NOT NULL,
    address               text NOT NULL,
    partition             text NOT NULL,
    provider              text,
    schema_version        integer,
    status                text,
    value                 json,
    sensitive_paths       json,
    unknown_paths         json,
    dependencies          json,
    create_before_destroy boolean,
    PRIMARY KEY (stack, address, serial)
);
CREATE INDEX resource_versions_by_serial ON {schema}.resource_versions (stack, serial);

CREATE TABLE {schema}.output_versions (
    stack           text NOT NULL,
    serial          bigint NOT NULL,
    module          text NOT NULL,
    name            text NOT NULL,
    partition       text NOT NULL,
    value           json,
    sensitive_paths json,
    unknown_paths   json,
    sensitive       boolean,
    PRIMARY KEY (stack, module, name, serial)
);
CREATE INDEX output_versions_by_serial ON {schema}.output_versions (stack, serial);

-- Who holds each partition lock. The lock itself is a session-level advisory lock on
-- `lock_key`, held by the server session `backend_pid`; a row whose session no longer holds
-- that advisory lock is stale (its holder died) and is ignored and overwritten.
CREATE TABLE {schema}.locks (
    stack       text NOT NULL,
    partition   text NOT NULL,
    lock_id     text NOT NULL,
    operation   text NOT NULL,
    who         text NOT NULL,
    host        text NOT NULL,
    pid         bigint NOT NULL,
    created     text NOT NULL,
    backend_pid integer NOT NULL,
    lock_key    bigint NOT NULL,
    PRIMARY KEY (stack, partition)
);
CREATE INDEX locks_by_id ON {schema}.locks (lock_id);
"#;

/// Brings the schema up to [`latest`]; returns the version.
pub(super) async fn migrate(client: &Client, schema: &str) -> Result<i32, StateError> {
    let q = quote_ident(schema);
    let table = format!("{q}.schema_version");
    let current = read_version(client, &table).await?;
    if current == Some(latest()) {
        return Ok(latest());
    }
    if let Some(v) = current {
        if v > latest() {
            return Err(newer(v));
        }
    }
    client.batch_execute("BEGIN").await.map_err(pg_err)?;
    let r = async {
        client.execute("SELECT pg_advisory_xact_lock($1)", &[&lock_key(&["migrate", schema])]).await.map_err(pg_err)?;
        let exists: bool = client
            .query_one("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", &[&schema])
            .await
            .map_err(pg_err)?
            .get(0);
        if !exists {
            client.batch_execute(&format!("CREATE SCHEMA {q}")).await.map_err(|e| {
                StateError::Backend(format!(
                    "cannot create the state schema {q}: {}; create it once as a user with CREATE on the \
                     database (see docs/team-setup.md)",
                    pg_err(e)
                ))
            })?;
        }
        client
            .batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {table} (
                     version integer PRIMARY KEY,
                     name    text NOT NULL,
                     applied timestamptz NOT NULL DEFAULT now()
                 )"
            ))
            .await
            .map_err(|e| {
                StateError::Backend(format!(
                    "cannot create the state tables in schema {q}: {}; run the first `tenantform` command \
                     as a user that may create tables there (see docs/team-setup.md)",
                    pg_err(e)
                ))
            })?;
        let current = read_version(client, &table).await?.unwrap_or(0);
        if current > latest() {
            return Err(newer(current));
        }
        for m in MIGRATIONS.iter().filter(|m| m.version > current) {
            client.batch_execute(&m.sql.replace("{schema}", &q)).await.map_err(|e| {
                StateError::Backend(format!("schema migration {} ({}): {}", m.version, m.name, pg_err(e)))
            })?;
            client
                .execute(&format!("INSERT INTO {table} (version, name) VALUES ($1, $2)"), &[&m.version, &m.name])
                .await
                .map_err(pg_err)?;
        }
        Ok(())
    }
    .await;
    match r {
        Ok(()) => {
            client.batch_execute("COMMIT").await.map_err(pg_err)?;
            Ok(latest())
        }
        Err(e) => {
            let _ = client.batch_execute("ROLLBACK").await;
            Err(e)
        }
    }
}

fn newer(v: i32) -> StateError {
    StateError::Backend(format!(
        "the state schema has version {v}, newer than this build of tenantform understands ({}); upgrade \
         tenantform",
        latest()
    ))
}

/// The applied version, `None` when the table does not exist yet.
async fn read_version(client: &Client, table: &str) -> Result<Option<i32>, StateError> {
    let exists: bool = client.query_one("SELECT to_regclass($1) IS NOT NULL", &[&table]).await.map_err(pg_err)?.get(0);
    if !exists {
        return Ok(None);
    }
    let v: Option<i32> =
        client.query_one(&format!("SELECT MAX(version) FROM {table}"), &[]).await.map_err(pg_err)?.get(0);
    Ok(Some(v.unwrap_or(0)))
}

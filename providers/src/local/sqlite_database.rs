//! `local_sqlite_database`: a SQLite database file per tenant, with its schema, seed data and
//! migrations applied through SQLite itself (rusqlite, bundled).
//!
//! Update or replace, per attribute:
//! - `name`, `path`: force-new (another file).
//! - `schema_sql`: applied at create. A change is applied **in place**: the new script runs in
//!   one transaction against the existing database (nothing is applied when it fails). Keep it
//!   re-runnable (`CREATE TABLE IF NOT EXISTS`, `CREATE INDEX IF NOT EXISTS`). Replacing the
//!   database on a schema edit would silently drop a tenant's data; to start afresh, ask for it
//!   explicitly with `-replace`.
//! - `migrations`: an append-only list of SQL scripts, each applied once, in order, in its own
//!   transaction, and recorded (index and SHA-256) in the table `_tenantform_migrations` inside
//!   the database. Use it for changes that are not re-runnable (`ALTER TABLE … ADD COLUMN`).
//!   Editing or removing an applied migration is refused at plan time.
//! - `seed_sql`: runs once, at create, after the schema and migrations. Changing it later only
//!   updates state (re-seeding a live database would duplicate rows).
//!
//! The database uses WAL journaling; delete removes the file with its `-wal`, `-shm` and
//! `-journal` companions. `read` reports a missing file as gone, and migrations recorded in
//! the database as the applied prefix of the list.
//!
//! Import ID: `<name>` (the file `<root>/databases/<name>.sqlite`) or a path to the file.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, OpContext, PlanRequest, PlanResponse, ProviderError, ResourceSchema, ResourceType,
    Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::{PathStep, Value};

use super::{absolute, io_err, name_attr, validate_name_attr, LocalConfig};
use crate::support::attrs::{path, val_opt_str, val_str_list, Attrs};
use crate::support::{diff, fs as sfs, timefmt};

const MIGRATIONS_TABLE: &str = "_tenantform_migrations";

pub fn schema() -> ResourceSchema {
    let schema = Schema::new()
        .describe("A SQLite database file, created with its schema and seed data.")
        .attr(
            "name",
            AttributeSchema::required(Type::String)
                .force_new()
                .describe("Name of the database; the file is <root>/databases/<name>.sqlite unless `path` is set."),
        )
        .attr(
            "path",
            AttributeSchema::optional_computed(Type::String)
                .force_new()
                .describe("Where the database file lives (relative paths are resolved against the working directory)."),
        )
        .attr(
            "schema_sql",
            AttributeSchema::optional(Type::String).describe(
                "SQL applied when the database is created. A change is re-applied in place, in one transaction: \
                 keep it re-runnable (CREATE TABLE IF NOT EXISTS …).",
            ),
        )
        .attr(
            "migrations",
            AttributeSchema::optional(Type::List(Box::new(Type::String))).describe(
                "Append-only list of SQL scripts, each applied once in order (recorded in the table \
                 _tenantform_migrations). Add new entries at the end; never edit applied ones.",
            ),
        )
        .attr(
            "seed_sql",
            AttributeSchema::optional(Type::String)
                .describe("SQL run once when the database is created. Changing it later does not touch the database."),
        )
        .attr("url", AttributeSchema::computed(Type::String).describe("Connection URL: sqlite:///<absolute path>."))
        .attr("id", AttributeSchema::computed(Type::String).describe("Absolute path of the database file."));
    ResourceSchema { schema, version: 0, import_id: "<name> or <path to the .sqlite file>".into() }
}

pub struct SqliteDatabase {
    cfg: Arc<LocalConfig>,
}

/// Where a database lives: the path as stored in state and its absolute form.
struct Location {
    stored: String,
    abs: PathBuf,
}

fn url_of(abs: &Path) -> String {
    format!("sqlite://{}", abs.display())
}

fn sql_err(what: &str, e: rusqlite::Error) -> ProviderError {
    let transient = matches!(
        &e,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    );
    let summary = format!("{what}: {e}");
    if transient {
        ProviderError::transient(summary).with_help("another process holds a lock on the database; retrying may help")
    } else {
        ProviderError::permanent(summary)
    }
}

/// Runs blocking SQLite work off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ProviderError> + Send + 'static,
) -> Result<T, ProviderError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ProviderError::permanent(format!("database task failed: {e}")))?
}

fn files_of(abs: &Path) -> Vec<PathBuf> {
    let s = abs.as_os_str().to_string_lossy();
    vec![abs.to_path_buf(), format!("{s}-wal").into(), format!("{s}-shm").into(), format!("{s}-journal").into()]
}

fn sha(sql: &str) -> String {
    sfs::sha256_hex(sql.as_bytes())
}

/// Migrations recorded in the database: index → SHA-256. Empty when the table does not exist.
fn applied_migrations(conn: &Connection) -> Result<Vec<(i64, String)>, ProviderError> {
    let exists: Option<String> = conn
        .query_row("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?1", [MIGRATIONS_TABLE], |r| {
            r.get(0)
        })
        .optional()
        .map_err(|e| sql_err("cannot read the database", e))?;
    if exists.is_none() {
        return Ok(Vec::new());
    }
    let mut stmt = conn
        .prepare(&format!("SELECT idx, sha256 FROM {MIGRATIONS_TABLE} ORDER BY idx"))
        .map_err(|e| sql_err("cannot read applied migrations", e))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .map_err(|e| sql_err("cannot read applied migrations", e))?;
    rows.collect::<Result<Vec<_>, _>>().map_err(|e| sql_err("cannot read applied migrations", e))
}

/// Applies every migration not yet recorded; refuses when an applied one differs.
fn apply_migrations(conn: &mut Connection, migrations: &[String]) -> Result<(), ProviderError> {
    if migrations.is_empty() {
        return Ok(());
    }
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (idx INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, applied_at TEXT NOT NULL)"
    ))
    .map_err(|e| sql_err("cannot create the migrations table", e))?;
    let applied = applied_migrations(conn)?;
    for (idx, recorded) in &applied {
        match migrations.get(*idx as usize) {
            Some(sql) if sha(sql) == *recorded => {}
            Some(_) => {
                return Err(ProviderError::permanent(format!(
                    "migrations[{idx}] differs from the one already applied to this database"
                ))
                .with_help("migrations are append-only: restore the applied script and add a new migration at the end")
                .at(vec![PathStep::Key("migrations".into()), PathStep::Index(*idx as usize)]))
            }
            None => {
                return Err(ProviderError::permanent(format!(
                    "the database has migration #{idx} applied, but the configuration lists only {}",
                    migrations.len()
                ))
                .with_help("migrations are append-only: keep applied migrations in the list")
                .at(path("migrations")))
            }
        }
    }
    for (idx, sql) in migrations.iter().enumerate().skip(applied.len()) {
        let tx = conn.transaction().map_err(|e| sql_err("cannot start a transaction", e))?;
        tx.execute_batch(sql).map_err(|e| {
            sql_err(&format!("migrations[{idx}] failed (nothing of it was applied)"), e)
                .at(vec![PathStep::Key("migrations".into()), PathStep::Index(idx)])
        })?;
        tx.execute(
            &format!("INSERT INTO {MIGRATIONS_TABLE} (idx, sha256, applied_at) VALUES (?1, ?2, ?3)"),
            rusqlite::params![idx as i64, sha(sql), timefmt::now_rfc3339()],
        )
        .map_err(|e| sql_err("cannot record the migration", e))?;
        tx.commit().map_err(|e| sql_err(&format!("cannot commit migrations[{idx}]"), e))?;
    }
    Ok(())
}

/// Runs a script in one transaction.
fn apply_script(conn: &mut Connection, attr: &str, sql: &str) -> Result<(), ProviderError> {
    let tx = conn.transaction().map_err(|e| sql_err("cannot start a transaction", e))?;
    tx.execute_batch(sql)
        .map_err(|e| sql_err(&format!("{attr} failed (nothing of it was applied)"), e).at(path(attr)))?;
    tx.commit().map_err(|e| sql_err(&format!("cannot commit {attr}"), e))
}

fn open_rw(abs: &Path) -> Result<Connection, ProviderError> {
    let conn = Connection::open_with_flags(abs, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| sql_err(&format!("cannot open {}", abs.display()), e))?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(|e| sql_err("cannot set busy timeout", e))?;
    Ok(conn)
}

fn is_sqlite_file(abs: &Path) -> io::Result<bool> {
    use std::io::Read;
    let mut f = std::fs::File::open(abs)?;
    let mut header = [0u8; 16];
    let n = f.read(&mut header)?;
    Ok(n == 0 || (n == 16 && &header == b"SQLite format 3\0"))
}

impl SqliteDatabase {
    pub fn new(cfg: Arc<LocalConfig>) -> Self {
        SqliteDatabase { cfg }
    }

    fn default_path(&self, name: &str) -> PathBuf {
        self.cfg.databases_dir().join(format!("{name}.sqlite"))
    }

    fn location(&self, v: &Value) -> Result<Location, ProviderError> {
        let name = name_attr(v, "name")?;
        match Attrs::new(v).opt_str_computed("path")? {
            Some(p) => Ok(Location { stored: p.to_string(), abs: absolute(Path::new(p))? }),
            None => {
                let abs = self.default_path(name);
                Ok(Location { stored: abs.to_string_lossy().into_owned(), abs })
            }
        }
    }

    fn state(&self, v: &Value, loc: &Location, migrations: Value) -> Result<Value, ProviderError> {
        let a = Attrs::new(v);
        Ok(Value::map([
            ("id", Value::string(loc.abs.to_string_lossy())),
            ("name", Value::string(name_attr(v, "name")?)),
            ("path", Value::string(&loc.stored)),
            ("schema_sql", val_opt_str(a.opt_str("schema_sql")?)),
            ("seed_sql", val_opt_str(a.opt_str("seed_sql")?)),
            ("migrations", migrations),
            ("url", Value::string(url_of(&loc.abs))),
        ]))
    }
}

/// True when `prior` is a prefix of `planned` (both known lists of strings).
fn is_prefix(prior: &[Value], planned: &[Value]) -> Option<usize> {
    prior
        .iter()
        .zip(planned)
        .position(|(a, b)| a.as_str() != b.as_str())
        .or_else(|| (prior.len() > planned.len()).then_some(planned.len()))
}

#[async_trait]
impl ResourceType for SqliteDatabase {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        validate_name_attr(config, "name")
    }

    async fn plan(&self, req: PlanRequest) -> Result<PlanResponse, ProviderError> {
        let mut planned = req.proposed;
        let name = planned.get("name").and_then(Value::as_str).map(str::to_string);
        let configured_path = req.config.get("path").cloned().unwrap_or(Value::Null);
        // The path is known at plan time unless the configuration makes it unknown.
        let loc = match (&name, configured_path.unmarked().0) {
            (Some(n), Value::Null) => {
                let abs = match req.prior.as_ref().and_then(|p| p.get("path")).and_then(Value::as_str) {
                    Some(p) => PathBuf::from(p),
                    None => self.default_path(n),
                };
                Some(Location { stored: abs.to_string_lossy().into_owned(), abs })
            }
            (_, Value::String(p)) => Some(Location { stored: p.clone(), abs: absolute(Path::new(p))? }),
            _ => None,
        };
        match loc {
            Some(loc) => {
                diff::set(&mut planned, "path", Value::string(&loc.stored));
                diff::set(&mut planned, "id", Value::string(loc.abs.to_string_lossy()));
                diff::set(&mut planned, "url", Value::string(url_of(&loc.abs)));
            }
            None => diff::mark_unknown(&mut planned, &["path", "id", "url"]),
        }
        if let Some(prior) = &req.prior {
            let old = prior.get("migrations").and_then(Value::as_list).unwrap_or(&[]);
            if let Some(new) = planned.get("migrations").and_then(Value::as_list) {
                if new.iter().all(Value::is_wholly_known) {
                    if let Some(i) = is_prefix(old, new) {
                        return Err(ProviderError::permanent(format!(
                            "migrations[{i}] was already applied and cannot be changed or removed"
                        ))
                        .with_help("migrations are append-only: restore it and add a new migration at the end")
                        .at(vec![PathStep::Key("migrations".into()), PathStep::Index(i)]));
                    }
                }
            }
        }
        Ok(PlanResponse { planned, requires_replace: Vec::new() })
    }

    async fn create(&self, planned: &Value, _ctx: &OpContext) -> Result<Value, ProviderError> {
        let loc = self.location(planned)?;
        let a = Attrs::new(planned);
        let schema_sql = a.opt_str("schema_sql")?.map(str::to_string);
        let seed_sql = a.opt_str("seed_sql")?.map(str::to_string);
        let migrations = a.opt_string_list("migrations")?;
        let name = name_attr(planned, "name")?.to_string();
        if loc.abs.exists() {
            return Err(ProviderError::permanent(format!("a database file already exists at {}", loc.abs.display()))
                .with_help(format!(
                    "import it with `tenantform import <address> {name}`, choose another name, or remove the file"
                )));
        }
        let abs = loc.abs.clone();
        let migs = migrations.clone().unwrap_or_default();
        blocking(move || {
            if let Some(dir) = abs.parent() {
                std::fs::create_dir_all(dir).map_err(|e| io_err(format!("cannot create {}", dir.display()), e))?;
            }
            let result = (|| {
                let mut conn =
                    Connection::open(&abs).map_err(|e| sql_err(&format!("cannot create {}", abs.display()), e))?;
                conn.busy_timeout(std::time::Duration::from_secs(10))
                    .map_err(|e| sql_err("cannot set busy timeout", e))?;
                conn.pragma_update(None, "journal_mode", "WAL").map_err(|e| sql_err("cannot enable WAL", e))?;
                if let Some(sql) = &schema_sql {
                    apply_script(&mut conn, "schema_sql", sql)?;
                }
                apply_migrations(&mut conn, &migs)?;
                if let Some(sql) = &seed_sql {
                    apply_script(&mut conn, "seed_sql", sql)?;
                }
                Ok(())
            })();
            if result.is_err() {
                // Leave nothing half-made: the next apply starts from scratch.
                for f in files_of(&abs) {
                    let _ = sfs::remove_if_exists(&f);
                }
            }
            result
        })
        .await?;
        self.state(planned, &loc, migrations.as_deref().map(val_str_list).unwrap_or(Value::Null))
    }

    async fn read(&self, current: &Value, _ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        let loc = self.location(current)?;
        if !loc.abs.exists() {
            return Ok(None);
        }
        let prior_migrations = Attrs::new(current).opt_string_list("migrations")?;
        let migrations = match prior_migrations {
            None => Value::Null,
            Some(list) => {
                let abs = loc.abs.clone();
                let applied = blocking(move || {
                    let conn = Connection::open_with_flags(&abs, OpenFlags::SQLITE_OPEN_READ_ONLY)
                        .map_err(|e| sql_err(&format!("cannot open {}", abs.display()), e))?;
                    applied_migrations(&conn)
                })
                .await?;
                // The applied prefix: what the database really has.
                let n = list
                    .iter()
                    .enumerate()
                    .take_while(|(i, sql)| applied.get(*i).is_some_and(|(idx, h)| *idx == *i as i64 && *h == sha(sql)))
                    .count();
                val_str_list(&list[..n])
            }
        };
        Ok(Some(self.state(current, &loc, migrations)?))
    }

    async fn update(&self, prior: &Value, planned: &Value, _ctx: &OpContext) -> Result<Value, ProviderError> {
        let loc = self.location(planned)?;
        if !loc.abs.exists() {
            return Err(ProviderError::not_found(format!("the database file {} is gone", loc.abs.display()))
                .with_help("run `tenantform plan` again: it will be re-created"));
        }
        let a = Attrs::new(planned);
        let schema_sql = if diff::changed(prior, planned, "schema_sql") {
            a.opt_str("schema_sql")?.map(str::to_string)
        } else {
            None
        };
        let migrations = a.opt_string_list("migrations")?;
        let abs = loc.abs.clone();
        let migs = migrations.clone().unwrap_or_default();
        blocking(move || {
            let mut conn = open_rw(&abs)?;
            if let Some(sql) = &schema_sql {
                apply_script(&mut conn, "schema_sql", sql)
                    .map_err(|e| e.with_help("schema_sql is re-applied in full when it changes: make it re-runnable (CREATE TABLE IF NOT EXISTS …), or put the change in `migrations`"))?;
            }
            apply_migrations(&mut conn, &migs)
        })
        .await?;
        self.state(planned, &loc, migrations.as_deref().map(val_str_list).unwrap_or(Value::Null))
    }

    async fn delete(&self, current: &Value, _ctx: &OpContext) -> Result<(), ProviderError> {
        let loc = self.location(current)?;
        for f in files_of(&loc.abs) {
            sfs::remove_if_exists(&f).map_err(|e| io_err(format!("cannot remove {}", f.display()), e))?;
        }
        Ok(())
    }

    async fn import(&self, id: &str, _ctx: &OpContext) -> Result<Value, ProviderError> {
        let (name, loc) = if id.contains('/') {
            let abs = absolute(Path::new(id))?;
            let stem = abs.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
            (stem, Location { stored: abs.to_string_lossy().into_owned(), abs })
        } else {
            super::check_name(id).map_err(ProviderError::permanent)?;
            let abs = self.default_path(id);
            (id.to_string(), Location { stored: abs.to_string_lossy().into_owned(), abs })
        };
        super::check_name(&name).map_err(|e| {
            ProviderError::permanent(format!(
                "the file name of {} does not make a valid database name: {e}",
                loc.abs.display()
            ))
        })?;
        match is_sqlite_file(&loc.abs) {
            Ok(true) => {}
            Ok(false) => {
                return Err(ProviderError::permanent(format!("{} is not a SQLite database", loc.abs.display())))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(ProviderError::not_found(format!("no database file at {}", loc.abs.display())))
            }
            Err(e) => return Err(io_err(format!("cannot read {}", loc.abs.display()), e)),
        }
        let v = Value::map([("name", Value::string(&name))]);
        self.state(&v, &loc, Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use tenantform_engine::provider::ErrorKind;

    use super::*;
    use crate::local::testutil::{obj, TestRoot};

    fn query(path: &str, sql: &str) -> Vec<String> {
        let conn = Connection::open(path).unwrap();
        let mut stmt = conn.prepare(sql).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
        rows.map(Result::unwrap).collect()
    }

    fn cfg(schema: &str, migrations: &[&str]) -> Value {
        obj(&[
            ("name", Value::string("acme")),
            ("path", Value::Null),
            ("schema_sql", Value::string(schema)),
            ("seed_sql", Value::string("INSERT INTO users(name) VALUES ('ada');")),
            ("migrations", Value::List(migrations.iter().map(|m| Value::string(*m)).collect())),
            ("url", Value::Unknown),
            ("id", Value::Unknown),
        ])
    }

    const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);";

    #[tokio::test]
    async fn lifecycle_schema_migrations_seed_and_delete() {
        let root = TestRoot::new();
        let r = SqliteDatabase::new(root.cfg());
        let ctx = OpContext::default();
        let c = cfg(SCHEMA, &[]);
        let plan = r.plan(PlanRequest { prior: None, config: c.clone(), proposed: c.clone() }).await.unwrap();
        let s = r.create(&plan.planned, &ctx).await.unwrap();
        assert_eq!(s, plan.planned, "plan predicted path, url and id");
        let path = s.get("path").and_then(Value::as_str).unwrap().to_string();
        assert!(path.ends_with("databases/acme.sqlite"));
        assert_eq!(s.get("url").and_then(Value::as_str).unwrap(), format!("sqlite://{path}"));
        assert!(s.get("url").and_then(Value::as_str).unwrap().starts_with("sqlite:///"));
        assert_eq!(query(&path, "SELECT name FROM users"), vec!["ada"]);
        assert_eq!(r.read(&s, &ctx).await.unwrap(), Some(s.clone()));

        // In place: an added re-runnable table and a migration; the seed does not run again.
        let schema2 = format!("{SCHEMA}\nCREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY);");
        let c2 = cfg(&schema2, &["ALTER TABLE users ADD COLUMN email TEXT;"]);
        let plan2 =
            r.plan(PlanRequest { prior: Some(s.clone()), config: c2.clone(), proposed: c2.clone() }).await.unwrap();
        let u = r.update(&s, &plan2.planned, &ctx).await.unwrap();
        assert_eq!(u, plan2.planned);
        assert_eq!(query(&path, "SELECT name FROM users"), vec!["ada"], "seed ran once");
        assert_eq!(query(&path, "SELECT name FROM sqlite_master WHERE name = 'orders'"), vec!["orders"]);
        assert_eq!(query(&path, "SELECT name FROM pragma_table_info('users') WHERE name = 'email'"), vec!["email"]);
        assert_eq!(r.read(&u, &ctx).await.unwrap(), Some(u.clone()));
        // Applying the same again is a no-op (migrations are not re-run).
        r.update(&u, &u, &ctx).await.unwrap();

        // Editing an applied migration is refused at plan time.
        let c3 = cfg(&schema2, &["ALTER TABLE users ADD COLUMN mail TEXT;"]);
        let e = r.plan(PlanRequest { prior: Some(u.clone()), config: c3.clone(), proposed: c3 }).await.unwrap_err();
        assert!(e.summary.contains("migrations[0]"), "{e}");

        // A schema change that is not re-runnable fails and changes nothing.
        let bad = cfg(
            "CREATE TABLE users (x INT); CREATE TABLE extra (y INT);",
            &["ALTER TABLE users ADD COLUMN email TEXT;"],
        );
        let e = r.update(&u, &bad, &ctx).await.unwrap_err();
        assert!(e.summary.contains("schema_sql failed") && e.help.as_deref().unwrap().contains("re-runnable"), "{e:?}");
        assert!(query(&path, "SELECT name FROM sqlite_master WHERE name = 'extra'").is_empty(), "rolled back");

        // Import by name and by path.
        let imported = r.import("acme", &ctx).await.unwrap();
        assert_eq!(imported.get("path"), u.get("path"));
        assert_eq!(imported.get("url"), u.get("url"));
        assert_eq!(r.import(&path, &ctx).await.unwrap().get("name"), Some(&Value::string("acme")));
        assert_eq!(r.import("other", &ctx).await.unwrap_err().kind, ErrorKind::NotFound);

        // Drift: migrations table lost its last entry → read shows the applied prefix.
        Connection::open(&path).unwrap().execute_batch("DELETE FROM _tenantform_migrations").unwrap();
        let drifted = r.read(&u, &ctx).await.unwrap().unwrap();
        assert_eq!(drifted.get("migrations"), Some(&Value::List(vec![])));

        r.delete(&u, &ctx).await.unwrap();
        for f in files_of(Path::new(&path)) {
            assert!(!f.exists(), "{}", f.display());
        }
        assert_eq!(r.read(&u, &ctx).await.unwrap(), None);
        r.delete(&u, &ctx).await.unwrap();
    }

    #[tokio::test]
    async fn failed_create_leaves_no_file_and_existing_files_are_refused() {
        let root = TestRoot::new();
        let r = SqliteDatabase::new(root.cfg());
        let ctx = OpContext::default();
        let e = r.create(&cfg("CREAT TABLE oops", &[]), &ctx).await.unwrap_err();
        assert!(e.summary.contains("schema_sql failed") && e.summary.contains("syntax error"), "{e}");
        assert_eq!(e.attribute, Some(path("schema_sql")));
        assert!(!root.cfg().databases_dir().join("acme.sqlite").exists());

        let custom = root.path().join("custom/db.sqlite");
        let mut c = cfg(SCHEMA, &[]);
        diff::set(&mut c, "path", Value::string(custom.to_string_lossy()));
        let s = r.create(&c, &ctx).await.unwrap();
        assert_eq!(s.get("path").and_then(Value::as_str), Some(custom.to_str().unwrap()));
        let e = r.create(&c, &ctx).await.unwrap_err();
        assert!(e.summary.contains("already exists"), "{e}");
        std::fs::write(root.path().join("junk.sqlite"), "not a db at all....").unwrap();
        let e = r.import(root.path().join("junk.sqlite").to_str().unwrap(), &ctx).await.unwrap_err();
        assert!(e.summary.contains("not a SQLite database"), "{e}");
    }
}

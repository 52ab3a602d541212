//! The `postgres` provider: roles, databases, schemas, extensions, grants and default
//! privileges of a PostgreSQL server, with the resource and attribute names of the
//! cyrilgdn/postgresql Terraform provider where they mean the same thing.
//!
//! Connection settings come from the `provider "postgres" {}` block (`host`, `port`,
//! `username`, `password`, `database`, `sslmode`, or a `url`), falling back to the standard
//! libpq environment (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`, `PGSSLMODE`)
//! and to `DATABASE_URL`. Nothing connects until a resource needs the server, so `validate`
//! and plans without postgres resources work offline. Each operation opens its own
//! connection (to the database it works in), bounded by `max_connections`.
//!
//! Names are always quoted as identifiers ([`ident`]) and values as literals ([`literal`]) or
//! passed as bind parameters: nothing from a configuration is spliced into SQL unquoted.
//! Server errors become [`ProviderError`]s that say what to do ([`db_error`]).
//!
//! This module owns the provider configuration, connections, quoting and error mapping; each
//! resource type lives in its own file.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tenantform_engine::provider::{
    AttributeSchema, ConfiguredProvider, DataSourceType, ErrorKind, OpContext, Provider, ProviderError, ProviderSchema,
    ResourceType, Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;
use tenantform_pgconn::{ConnectError, Tls};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::Client;

use crate::support::attrs::{path, Attrs};

pub mod connection_uri;
pub mod database;
pub mod default_privileges;
pub mod extension;
pub mod grant;
pub mod privileges;
pub mod role;
pub mod schema;
pub mod scram;

/// Default of `max_connections`.
pub const DEFAULT_MAX_CONNECTIONS: i64 = 20;

/// The unconfigured `postgres` provider.
pub struct PostgresProvider;

/// Where and how to connect; shared by every resource of one provider configuration.
#[derive(Clone)]
pub struct PgConfig {
    /// A host name, an IP address, or an absolute directory holding the server's unix socket.
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: Option<String>,
    /// The database the provider connects to when a resource names none.
    pub database: String,
    /// `sslmode` and `sslrootcert`, with libpq's meaning (see `tenantform_pgconn`).
    pub tls: Tls,
    pub connect_timeout: Duration,
    limit: Arc<Semaphore>,
}

impl std::fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "postgres://{}@{}:{}/{}", self.username, self.host, self.port, self.database)
    }
}

/// An open connection and its share of `max_connections`.
pub struct Session {
    pub client: Client,
    _permit: OwnedSemaphorePermit,
}

impl std::ops::Deref for Session {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

/// Parts of a `postgres://user:password@host:port/database?sslmode=…` URL.
#[derive(Debug, Default, PartialEq)]
struct UrlParts {
    host: Option<String>,
    port: Option<u16>,
    username: Option<String>,
    password: Option<String>,
    database: Option<String>,
    sslmode: Option<String>,
    sslrootcert: Option<String>,
}

fn parse_url(url: &str) -> Result<UrlParts, String> {
    // sslmode and sslrootcert are ours (the driver knows only three modes): take them out.
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let (mut sslmode, mut sslrootcert, mut rest) = (None, None, Vec::new());
    for kv in query.split('&').filter(|kv| !kv.is_empty()) {
        match kv.split_once('=') {
            Some(("sslmode", v)) => sslmode = Some(v.to_string()),
            Some(("sslrootcert", v)) => sslrootcert = Some(v.to_string()),
            _ => rest.push(kv),
        }
    }
    let clean = if rest.is_empty() { base.to_string() } else { format!("{base}?{}", rest.join("&")) };
    let config: tokio_postgres::Config = clean.parse().map_err(|e| format!("{e}"))?;
    let host = config.get_hosts().first().map(|h| match h {
        tokio_postgres::config::Host::Tcp(s) => s.clone(),
        #[cfg(unix)]
        tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
    });
    Ok(UrlParts {
        host,
        port: config.get_ports().first().copied(),
        username: config.get_user().map(str::to_string),
        password: config.get_password().map(|p| String::from_utf8_lossy(p).into_owned()),
        database: config.get_dbname().map(str::to_string),
        sslmode,
        sslrootcert,
    })
}

impl PgConfig {
    /// Builds the configuration from the provider block's value and the environment `env`
    /// (a lookup, so tests need not touch the process environment).
    pub fn from_value(config: &Value, env: &dyn Fn(&str) -> Option<String>) -> Result<PgConfig, ProviderError> {
        let a = Attrs::new(config);
        let mut parts = UrlParts::default();
        let explicit =
            ["host", "port", "username", "password", "database"].iter().any(|k| a.get(k).ok().flatten().is_some());
        let url = match a.opt_str("url")? {
            Some(u) => Some((u.to_string(), "url")),
            None if !explicit => env("DATABASE_URL").filter(|u| !u.is_empty()).map(|u| (u, "DATABASE_URL")),
            None => None,
        };
        if let Some((url, from)) = url {
            parts = parse_url(&url).map_err(|e| {
                ProviderError::permanent(format!("{from} is not a PostgreSQL connection URL: {e}"))
                    .with_help("for example postgres://admin@db.internal:5432/postgres?sslmode=disable")
                    .at(path("url"))
            })?;
        }
        let pick = |attr: &str, var: &str, from_url: Option<String>| -> Result<Option<String>, ProviderError> {
            Ok(a.opt_str(attr)?.map(str::to_string).or(from_url).or_else(|| env(var).filter(|v| !v.is_empty())))
        };
        let host = pick("host", "PGHOST", parts.host.take())?.unwrap_or_else(|| "localhost".into());
        let port = match a.opt_i64("port")? {
            Some(p) => Some(p.to_string()),
            None => parts.port.map(|p| p.to_string()).or_else(|| env("PGPORT").filter(|v| !v.is_empty())),
        };
        let port: u16 = match port {
            None => 5432,
            Some(p) => p.parse().ok().filter(|p| *p > 0).ok_or_else(|| {
                ProviderError::permanent(format!("port must be a TCP port number, got {p:?}")).at(path("port"))
            })?,
        };
        let username = pick("username", "PGUSER", parts.username.take())?.or_else(|| env("USER")).ok_or_else(|| {
            ProviderError::permanent("no PostgreSQL user: set `username`, PGUSER or a url").at(path("username"))
        })?;
        let password = pick("password", "PGPASSWORD", parts.password.take())?;
        let database = pick("database", "PGDATABASE", parts.database.take())?.unwrap_or_else(|| "postgres".into());
        let sslmode = pick("sslmode", "PGSSLMODE", parts.sslmode.take())?.unwrap_or_else(|| "prefer".into());
        let sslrootcert = pick("sslrootcert", "PGSSLROOTCERT", parts.sslrootcert.take())?;
        let tls =
            Tls::new(&sslmode, sslrootcert.as_deref()).map_err(|e| ProviderError::permanent(e).at(path("sslmode")))?;
        let max = a.i64_or("max_connections", DEFAULT_MAX_CONNECTIONS)?;
        if !(1..=1000).contains(&max) {
            return Err(
                ProviderError::permanent("max_connections must be between 1 and 1000").at(path("max_connections"))
            );
        }
        let timeout = a.i64_or("connect_timeout", 15)?;
        Ok(PgConfig {
            host,
            port,
            username,
            password,
            database,
            tls,
            connect_timeout: Duration::from_secs(timeout.clamp(1, 3600) as u64),
            limit: Arc::new(Semaphore::new(max as usize)),
        })
    }

    /// The driver configuration for `database` (the provider's when `None`).
    pub fn driver_config(&self, database: Option<&str>) -> tokio_postgres::Config {
        let mut c = tokio_postgres::Config::new();
        c.host(&self.host)
            .port(self.port)
            .user(&self.username)
            .dbname(database.unwrap_or(&self.database))
            .connect_timeout(self.connect_timeout)
            .application_name("tenantform");
        if let Some(p) = &self.password {
            c.password(p);
        }
        c
    }

    /// Opens a connection to `database` (the provider's when `None`).
    pub async fn connect(&self, database: Option<&str>) -> Result<Session, ProviderError> {
        let permit = self
            .limit
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ProviderError::permanent("the connection limit was closed"))?;
        let db = database.unwrap_or(&self.database);
        let what = format!(
            "cannot connect to PostgreSQL at {}:{} as {} (sslmode={})",
            self.host,
            self.port,
            self.username,
            self.tls.mode.name()
        );
        let (client, conn) =
            tenantform_pgconn::connect(&self.driver_config(database), &self.tls).await.map_err(|e| match e {
                ConnectError::Tls(m) => ProviderError::permanent(format!("{what}: {m}")).at(path("sslrootcert")),
                ConnectError::Postgres(e) if code_of(&e) == Some("3D000") => {
                    ProviderError::not_found(format!("database {db:?} does not exist"))
                }
                ConnectError::Postgres(e) => db_error(&e, &what),
            })?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Session { client, _permit: permit })
    }

    /// Like [`PgConfig::connect`], `None` when the database does not exist (a read of
    /// something inside a database that is gone).
    pub async fn connect_if_exists(&self, database: &str) -> Result<Option<Session>, ProviderError> {
        match self.connect(Some(database)).await {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Quotes an identifier: `"name"`, embedded quotes doubled. Names are never spliced raw.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a string literal; backslashes make it an `E''` literal so that the result means the
/// same whatever `standard_conforming_strings` is.
pub fn literal(s: &str) -> String {
    if s.contains('\\') {
        format!("E'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

/// A name the server can hold: non-empty, no NUL, at most 63 bytes (longer names would be
/// silently truncated by the server and then never found again).
pub fn check_identifier(what: &str, name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("{what} must not be empty"));
    }
    if name.contains('\0') {
        return Err(format!("{what} must not contain a NUL character"));
    }
    if name.len() > 63 {
        return Err(format!(
            "{what} {name:?} is {} bytes long; PostgreSQL names are at most 63 bytes (longer ones are truncated)",
            name.len()
        ));
    }
    Ok(())
}

/// A `validate` check of an identifier attribute (skipped while unknown or unset).
pub(crate) fn validate_ident(config: &Value, attr: &str) -> Vec<tenantform_engine::provider::ConfigProblem> {
    match config.get(attr).and_then(Value::as_str) {
        Some(n) => check_identifier(attr, n)
            .err()
            .map(|message| tenantform_engine::provider::ConfigProblem { path: path(attr), message })
            .into_iter()
            .collect(),
        None => Vec::new(),
    }
}

/// Reads a required identifier attribute and checks it.
/// Plan of an object that lives inside a database (schema, extension): the provider's
/// database when none is set, and the ID `<database>.<name>` as soon as both are known.
pub(crate) fn plan_in_database(mut planned: Value, default_database: &str) -> Value {
    if planned.get("database").is_some_and(Value::is_unknown) {
        crate::support::diff::set(&mut planned, "database", Value::string(default_database));
    }
    if let (Some(d), Some(n)) =
        (planned.get("database").and_then(Value::as_str), planned.get("name").and_then(Value::as_str))
    {
        let id = format!("{d}.{n}");
        crate::support::diff::set(&mut planned, "id", Value::string(id));
    }
    planned
}

pub(crate) fn ident_attr<'a>(v: &'a Value, attr: &str) -> Result<&'a str, ProviderError> {
    let n = Attrs::new(v).str(attr)?;
    check_identifier(attr, n).map_err(|e| ProviderError::permanent(e).at(path(attr)))?;
    Ok(n)
}

/// The SQLSTATE of a server error.
pub fn code_of(e: &tokio_postgres::Error) -> Option<&str> {
    e.as_db_error().map(|d| d.code().code())
}

/// A server or connection error as a provider error: the server's message, detail and hint,
/// classified so that the engine retries what may pass (connection trouble, too many
/// connections, serialization failures, deadlocks, a server starting up).
pub fn db_error(e: &tokio_postgres::Error, what: &str) -> ProviderError {
    let Some(db) = e.as_db_error() else {
        let mut text = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(inner) = src {
            text.push_str(&format!(": {inner}"));
            src = inner.source();
        }
        return ProviderError::transient(format!("{what}: {text}"));
    };
    let code = db.code().code();
    let transient =
        code.starts_with("08") || matches!(code, "53300" | "57P03" | "40001" | "40P01" | "55P03" | "57P01" | "57P02");
    let mut err = ProviderError::new(
        if transient { ErrorKind::Transient } else { ErrorKind::Permanent },
        format!("{what}: {}", db.message()),
    );
    let mut detail = Vec::new();
    if let Some(d) = db.detail() {
        detail.push(d.to_string());
    }
    detail.push(format!("SQLSTATE {code}"));
    err = err.with_detail(detail.join("; "));
    if let Some(h) = db.hint() {
        err = err.with_help(h.to_string());
    } else if code == "42501" {
        err = err.with_help(
            "the provider's user lacks a privilege for this; connect as a superuser or a role with CREATEROLE/CREATEDB \
             and membership in the roles it manages (see docs/providers/postgres.md)",
        );
    } else if code == "28P01" {
        err = err.with_help("check the provider's username and password (or PGUSER/PGPASSWORD)");
    }
    err
}

/// "import it with `tenantform import <address> <id>`".
pub(crate) fn import_help(ctx: &OpContext, id: &str) -> String {
    let address = if ctx.address.is_empty() { "<address>" } else { ctx.address.as_str() };
    let quoted = if id.chars().all(|c| c.is_ascii_alphanumeric() || "_-./:@".contains(c)) {
        id.to_string()
    } else {
        format!("'{}'", id.replace('\'', "'\\''"))
    };
    format!("import it with `tenantform import {address} {quoted}`, or choose another name")
}

/// The server's major version number (e.g. 15), from `server_version_num`.
pub(crate) async fn server_version(client: &Client) -> Result<i32, ProviderError> {
    let v: String = client
        .query_one("SELECT current_setting('server_version_num')", &[])
        .await
        .map_err(|e| db_error(&e, "cannot read the server version"))?
        .get(0);
    Ok(v.parse::<i32>().unwrap_or(0) / 10000)
}

#[async_trait]
impl Provider for PostgresProvider {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn schema(&self) -> ProviderSchema {
        let s = |d: &str| AttributeSchema::optional(Type::String).describe(d);
        let config = Schema::new()
            .describe("Manages roles, databases, schemas, extensions and privileges of a PostgreSQL server.")
            .attr("host", s("Server host name or IP address, or the directory of its unix socket. Falls back to PGHOST, then \"localhost\"."))
            .attr("port", AttributeSchema::optional(Type::Number).describe("Server port. Falls back to PGPORT, then 5432."))
            .attr("username", s("User to connect as (a superuser, or a role with CREATEROLE and CREATEDB). Falls back to PGUSER, then $USER."))
            .attr("password", s("Password of `username`. Falls back to PGPASSWORD.").sensitive())
            .attr("database", s("Database to connect to for server-wide work (roles, databases). Falls back to PGDATABASE, then \"postgres\"."))
            .attr("sslmode", s("disable, allow, prefer, require, verify-ca or verify-full, as in libpq. Falls back to PGSSLMODE, then \"prefer\"."))
            .attr("sslrootcert", s("PEM file of the CA certificates to trust (verify-ca, verify-full; makes require verify the chain). Unset or \"system\": the built-in public roots. Falls back to PGSSLROOTCERT."))
            .attr("url", s("A postgres://user:password@host:port/database URL; the separate attributes override its parts. Without any of url/host/port/username/password/database, DATABASE_URL is used when set.").sensitive())
            .attr("max_connections", AttributeSchema::optional(Type::Number).describe("Most connections the provider opens at once. Default 20."))
            .attr("connect_timeout", AttributeSchema::optional(Type::Number).describe("Seconds to wait for a connection. Default 15."));
        let mut p = ProviderSchema { config, ..Default::default() };
        p.resources.insert("postgres_role".into(), role::schema());
        p.resources.insert("postgres_database".into(), database::schema());
        p.resources.insert("postgres_schema".into(), schema::schema());
        p.resources.insert("postgres_extension".into(), extension::schema());
        p.resources.insert("postgres_grant".into(), grant::schema());
        p.resources.insert("postgres_default_privileges".into(), default_privileges::schema());
        p.data_sources.insert("postgres_connection_uri".into(), connection_uri::schema());
        p
    }

    async fn configure(&self, config: &Value) -> Result<Arc<dyn ConfiguredProvider>, ProviderError> {
        let env = |k: &str| std::env::var(k).ok();
        Ok(Arc::new(ConfiguredPostgres { cfg: Arc::new(PgConfig::from_value(config, &env)?) }))
    }
}

/// The configured provider: hands out resource types bound to one [`PgConfig`].
pub struct ConfiguredPostgres {
    cfg: Arc<PgConfig>,
}

impl ConfiguredPostgres {
    pub fn new(cfg: PgConfig) -> Self {
        ConfiguredPostgres { cfg: Arc::new(cfg) }
    }
}

impl ConfiguredProvider for ConfiguredPostgres {
    fn resource(&self, type_name: &str) -> Option<Arc<dyn ResourceType>> {
        let cfg = self.cfg.clone();
        match type_name {
            "postgres_role" => Some(Arc::new(role::Role { cfg })),
            "postgres_database" => Some(Arc::new(database::Database { cfg })),
            "postgres_schema" => Some(Arc::new(schema::PgSchema { cfg })),
            "postgres_extension" => Some(Arc::new(extension::Extension { cfg })),
            "postgres_grant" => Some(Arc::new(grant::Grant { cfg })),
            "postgres_default_privileges" => Some(Arc::new(default_privileges::DefaultPrivileges { cfg })),
            _ => None,
        }
    }

    fn data_source(&self, type_name: &str) -> Option<Arc<dyn DataSourceType>> {
        match type_name {
            "postgres_connection_uri" => Some(Arc::new(connection_uri::ConnectionUri { cfg: self.cfg.clone() })),
            _ => None,
        }
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    //! A configured provider against a throw-away server (tests/pgtest), plus helpers.
    use super::*;
    pub use tenantform_pgtest::PgServer;

    pub fn config(server: &PgServer) -> Arc<PgConfig> {
        let v = Value::map([("url", Value::string(server.url("postgres"))), ("sslmode", Value::string("disable"))]);
        Arc::new(PgConfig::from_value(&v, &|_| None).expect("config"))
    }

    pub fn ctx(address: &str) -> OpContext {
        OpContext { address: address.to_string(), ..OpContext::default() }
    }

    /// A value with the given attributes (others absent).
    pub fn obj(entries: &[(&str, Value)]) -> Value {
        Value::map(entries.iter().map(|(k, v)| (k.to_string(), v.clone())))
    }

    pub fn s(v: &str) -> Value {
        Value::string(v)
    }

    pub fn strs(items: &[&str]) -> Value {
        Value::set(items.iter().map(|i| Value::string(*i)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(entries: &[(&str, Value)], env: &[(&str, &str)]) -> Result<PgConfig, ProviderError> {
        let v = Value::map(entries.iter().map(|(k, v)| (k.to_string(), v.clone())));
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        PgConfig::from_value(&v, &|k| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    #[test]
    fn settings_come_from_attributes_url_and_environment() {
        let c = cfg(&[("url", Value::string("postgres://a:pw@db:6000/app?sslmode=disable"))], &[]).unwrap();
        assert_eq!((c.host.as_str(), c.port, c.username.as_str()), ("db", 6000, "a"));
        assert_eq!((c.password.as_deref(), c.database.as_str(), c.tls.mode.name()), (Some("pw"), "app", "disable"));
        let c = cfg(
            &[("url", Value::string("postgres://a:pw@db:6000/app")), ("username", Value::string("b"))],
            &[("PGHOST", "ignored")],
        )
        .unwrap();
        assert_eq!((c.username.as_str(), c.host.as_str()), ("b", "db"), "attributes override the url");
        let c = cfg(&[], &[("PGHOST", "h"), ("PGPORT", "7000"), ("PGUSER", "u"), ("PGPASSWORD", "p")]).unwrap();
        assert_eq!((c.host.as_str(), c.port, c.username.as_str(), c.password.as_deref()), ("h", 7000, "u", Some("p")));
        assert_eq!(c.database, "postgres");
        let c = cfg(&[], &[("DATABASE_URL", "postgres://x@y:1/z"), ("PGUSER", "u")]).unwrap();
        assert_eq!((c.username.as_str(), c.host.as_str(), c.database.as_str()), ("x", "y", "z"));
        let c = cfg(&[("host", Value::string("explicit"))], &[("DATABASE_URL", "postgres://x@y:1/z"), ("PGUSER", "u")])
            .unwrap();
        assert_eq!((c.host.as_str(), c.username.as_str()), ("explicit", "u"), "explicit settings skip DATABASE_URL");
        let c =
            cfg(&[("url", Value::string("postgres://u@h/d?sslmode=verify-full&sslrootcert=/ca.pem"))], &[]).unwrap();
        assert_eq!(c.tls, Tls::new("verify-full", Some("/ca.pem")).unwrap());
        let c = cfg(&[("username", Value::string("u"))], &[("PGSSLMODE", "require")]).unwrap();
        assert_eq!(c.tls.mode, tenantform_pgconn::SslMode::Require);
        let e = cfg(&[("sslmode", Value::string("on")), ("username", Value::string("u"))], &[]).err().unwrap();
        assert!(e.summary.contains("verify-full"), "{e}");
        assert!(cfg(&[("port", Value::number(0)), ("username", Value::string("u"))], &[]).is_err());
        assert!(cfg(&[("url", Value::string("mysql://x")), ("username", Value::string("u"))], &[]).is_err());
    }

    #[tokio::test]
    async fn verify_full_tls_connections() {
        let server = tenantform_pgtest::PgServer::start_tls();
        let ca = server.ca_file().display().to_string();
        let url = format!("postgres://postgres:postgres@localhost:{}/postgres", server.port());
        let c = cfg(
            &[
                ("url", Value::string(&url)),
                ("sslmode", Value::string("verify-full")),
                ("sslrootcert", Value::string(&ca)),
            ],
            &[],
        )
        .unwrap();
        let session = c.connect(None).await.unwrap();
        let ssl: bool =
            session.query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[]).await.unwrap().get(0);
        assert!(ssl);
        let untrusted = cfg(&[("url", Value::string(&url)), ("sslmode", Value::string("verify-full"))], &[]).unwrap();
        let e = untrusted.connect(None).await.err().unwrap();
        assert!(e.summary.contains("sslmode=verify-full"), "{e}");
        let missing = cfg(
            &[
                ("url", Value::string(&url)),
                ("sslmode", Value::string("verify-ca")),
                ("sslrootcert", Value::string("/nope.pem")),
            ],
            &[],
        )
        .unwrap();
        let e = missing.connect(None).await.err().unwrap();
        assert!(e.summary.contains("/nope.pem"), "{e}");
    }

    #[test]
    fn quoting_neutralises_names_and_values() {
        assert_eq!(ident("acme"), "\"acme\"");
        assert_eq!(ident("a\"; DROP ROLE x; --"), "\"a\"\"; DROP ROLE x; --\"");
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal("a\\'b"), "E'a\\\\''b'");
        assert!(check_identifier("name", &"x".repeat(64)).is_err());
        assert!(check_identifier("name", "").is_err());
        assert!(check_identifier("name", "Ünïcode ok").is_ok());
    }
}

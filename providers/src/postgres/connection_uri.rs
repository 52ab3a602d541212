//! Data source `postgres_connection_uri`: the URI an application uses to reach its database,
//! built from the provider's host and port and the role's credentials — the per-tenant
//! connection string that goes into the tenant's secret.
//!
//! Why a data source and not an attribute of `postgres_database`: a database does not know a
//! password (roles have them, and one database may be used by several roles), and the URI
//! should not be stored twice in state. The data source computes it without touching the
//! server; its result is sensitive and, like every data source, never stored in state (only
//! what consumes it, such as a `local_secret`, is). Its inputs are usually unknown until the
//! role's `random_password` exists, so it is read during apply, right after them.
//!
//! Every part is percent-encoded (a password with `@`, `/` or `%` is safe); a socket
//! directory host (`/var/run/postgresql`) is encoded as libpq expects, an IPv6 address is
//! bracketed.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use tenantform_engine::provider::{AttributeSchema, DataSourceType, OpContext, ProviderError, Schema};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use super::PgConfig;
use crate::support::attrs::Attrs;

pub fn schema() -> Schema {
    Schema::new()
        .describe("A postgres:// connection URI for a role and database, from the provider's host and port.")
        .attr("database", AttributeSchema::required(Type::String).describe("Database name."))
        .attr("username", AttributeSchema::required(Type::String).describe("Role to connect as."))
        .attr("password", AttributeSchema::required(Type::String).sensitive().describe("The role's password."))
        .attr(
            "host",
            AttributeSchema::optional(Type::String)
                .describe("Host the application connects to. Default: the provider's host."),
        )
        .attr("port", AttributeSchema::optional(Type::Number).describe("Port. Default: the provider's port."))
        .attr(
            "sslmode",
            AttributeSchema::optional(Type::String).describe(
                "sslmode query parameter to include (e.g. \"require\" for an application with TLS). Default: none.",
            ),
        )
        .attr(
            "params",
            AttributeSchema::optional(Type::Map(Box::new(Type::String)))
                .describe("Further query parameters, e.g. { application_name = \"web\" }."),
        )
        .attr(
            "uri",
            AttributeSchema::computed(Type::String)
                .sensitive()
                .describe("postgres://username:password@host:port/database?…"),
        )
        .attr("id", AttributeSchema::computed(Type::String).describe("The URI without the password."))
}

pub struct ConnectionUri {
    pub cfg: Arc<PgConfig>,
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The host as it appears in a URI.
fn host_part(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else if host.starts_with('/') {
        encode(host)
    } else {
        host.to_string()
    }
}

/// Builds the URI; `password` `None` gives the form without it (the id).
pub fn build(
    user: &str,
    password: Option<&str>,
    host: &str,
    port: u16,
    database: &str,
    query: &BTreeMap<String, String>,
) -> String {
    let auth = match password {
        Some(p) => format!("{}:{}", encode(user), encode(p)),
        None => encode(user),
    };
    let mut uri = format!("postgres://{auth}@{}:{port}/{}", host_part(host), encode(database));
    if !query.is_empty() {
        let q: Vec<String> = query.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        uri.push('?');
        uri.push_str(&q.join("&"));
    }
    uri
}

#[async_trait]
impl DataSourceType for ConnectionUri {
    async fn read(&self, config: &Value, _ctx: &OpContext) -> Result<Value, ProviderError> {
        let a = Attrs::new(config);
        let (database, user, password) = (a.str("database")?, a.str("username")?, a.str("password")?);
        let host = a.opt_str("host")?.unwrap_or(&self.cfg.host).to_string();
        let port = match a.opt_i64("port")? {
            Some(p) => u16::try_from(p).map_err(|_| ProviderError::permanent(format!("port {p} is out of range")))?,
            None => self.cfg.port,
        };
        let mut query = a.string_map("params")?;
        if let Some(m) = a.opt_str("sslmode")? {
            query.insert("sslmode".into(), m.to_string());
        }
        let mut out = config.clone().unmark_deep();
        crate::support::diff::set(
            &mut out,
            "uri",
            Value::string(build(user, Some(password), &host, port, database, &query)),
        );
        crate::support::diff::set(&mut out, "id", Value::string(build(user, None, &host, port, database, &query)));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_is_encoded() {
        let q: BTreeMap<String, String> = [("sslmode".to_string(), "require".to_string())].into();
        assert_eq!(
            build("acme app", Some("p@ss/w:rd%"), "db.internal", 5432, "acme", &q),
            "postgres://acme%20app:p%40ss%2Fw%3Ard%25@db.internal:5432/acme?sslmode=require"
        );
        assert_eq!(build("u", None, "::1", 5, "d", &BTreeMap::new()), "postgres://u@[::1]:5/d");
        assert_eq!(
            build("u", None, "/var/run/postgresql", 5432, "d", &BTreeMap::new()),
            "postgres://u@%2Fvar%2Frun%2Fpostgresql:5432/d"
        );
    }

    #[tokio::test]
    async fn the_uri_really_connects() {
        let server = tenantform_pgtest::PgServer::start();
        server.psql("postgres", "CREATE ROLE \"acme app\" LOGIN PASSWORD 'p@ss/w:rd%'");
        server.create_database("acme");
        let ds = ConnectionUri { cfg: super::super::testutil::config(&server) };
        let v = ds
            .read(
                &Value::map([
                    ("database", Value::string("acme")),
                    ("username", Value::string("acme app")),
                    ("password", Value::string("p@ss/w:rd%")),
                    ("sslmode", Value::string("disable")),
                ]),
                &OpContext::default(),
            )
            .await
            .unwrap();
        let uri = v.get("uri").and_then(Value::as_str).unwrap();
        assert!(!v.get("id").and_then(Value::as_str).unwrap().contains("p%40ss"));
        let (client, conn) = tokio_postgres::connect(uri, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        let row = client.query_one("SELECT current_user::text, current_database()::text", &[]).await.unwrap();
        assert_eq!((row.get::<_, String>(0), row.get::<_, String>(1)), ("acme app".into(), "acme".into()));
    }
}

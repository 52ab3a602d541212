//! `postgres_database`: a database, with cyrilgdn/postgresql's attribute names.
//!
//! - `name`, `owner`, `connection_limit`, `allow_connections` and `is_template` update in
//!   place (`ALTER DATABASE`; a rename needs the database to have no connections).
//! - `template`, `encoding`, `lc_collate` and `lc_ctype` are fixed when the database is
//!   created: changing them replaces it (which drops its data — the plan says "forces
//!   replacement"; add `lifecycle { prevent_destroy = true }` to production databases).
//! - `owner` defaults to the provider's user. The provider's user must be able to act as the
//!   owner (a superuser, or a member of the owner role).
//! - Delete is `DROP DATABASE … WITH (FORCE)` on PostgreSQL 13 and newer: **sessions still
//!   connected to the database are terminated** (a tenant being deprovisioned must not keep
//!   its database alive). On older servers the provider terminates them with
//!   `pg_terminate_backend` and then drops. A template database is un-marked first.
//!   Deleting a database that is gone is success.
//!
//! Drift: `read` reports the owner, encoding, collation, connection limit and flags as the
//! server has them (an owner changed by hand plans an update back).
//!
//! Import ID: the database name (`tenantform import tenant.acme.postgres_database.main acme`).

use std::sync::Arc;

use async_trait::async_trait;
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, OpContext, PlanRequest, PlanResponse, ProviderError, ResourceSchema, ResourceType,
    Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use super::{code_of, db_error, ident, ident_attr, import_help, literal, server_version, validate_ident, PgConfig};
use crate::support::attrs::Attrs;
use crate::support::diff;

pub fn schema() -> ResourceSchema {
    let schema = Schema::new()
        .describe("A PostgreSQL database.")
        .attr("name", AttributeSchema::required(Type::String).describe("Name of the database (at most 63 bytes). Changing it renames the database in place."))
        .attr("owner", AttributeSchema::optional_computed(Type::String).describe("Role that owns the database. Default: the provider's user."))
        .attr(
            "template",
            AttributeSchema::optional(Type::String)
                .default(Value::string("template0"))
                .force_new()
                .from_config_on_import()
                .describe("Database to copy. Default \"template0\" (a clean database; needed for a non-default encoding or collation)."),
        )
        .attr("encoding", AttributeSchema::optional_computed(Type::String).force_new().describe("Character set, e.g. \"UTF8\". Default: the template's."))
        .attr("lc_collate", AttributeSchema::optional_computed(Type::String).force_new().describe("Collation (LC_COLLATE), e.g. \"C\" or \"en_US.UTF-8\". Default: the template's."))
        .attr("lc_ctype", AttributeSchema::optional_computed(Type::String).force_new().describe("Character classification (LC_CTYPE). Default: the template's."))
        .attr("connection_limit", AttributeSchema::optional(Type::Number).default(Value::number(-1)).describe("Most concurrent connections; -1 (default) means no limit."))
        .attr("allow_connections", AttributeSchema::optional(Type::Bool).default(Value::Bool(true)).describe("Whether anyone may connect. Default true."))
        .attr("is_template", AttributeSchema::optional(Type::Bool).default(Value::Bool(false)).describe("Whether the database can be cloned by any user with CREATEDB. Default false."))
        .attr("id", AttributeSchema::computed(Type::String).describe("The database name."));
    ResourceSchema { schema, version: 0, import_id: "<database name>".into() }
}

pub struct Database {
    pub cfg: Arc<PgConfig>,
}

impl Database {
    async fn read_db(&self, name: &str, template: Option<&str>) -> Result<Option<Value>, ProviderError> {
        let c = self.cfg.connect(None).await?;
        let row = c
            .query_opt(
                "SELECT pg_catalog.pg_get_userbyid(datdba)::text, pg_catalog.pg_encoding_to_char(encoding)::text,
                        datcollate::text, datctype::text, datconnlimit, datallowconn, datistemplate
                 FROM pg_catalog.pg_database WHERE datname = $1",
                &[&name],
            )
            .await
            .map_err(|e| db_error(&e, &format!("cannot read database {name:?}")))?;
        Ok(row.map(|row| {
            Value::map([
                ("id", Value::string(name)),
                ("name", Value::string(name)),
                ("owner", Value::string(row.get::<_, String>(0))),
                ("template", Value::string(template.unwrap_or("template0"))),
                ("encoding", Value::string(row.get::<_, String>(1))),
                ("lc_collate", Value::string(row.get::<_, String>(2))),
                ("lc_ctype", Value::string(row.get::<_, String>(3))),
                ("connection_limit", Value::number(row.get::<_, i32>(4))),
                ("allow_connections", Value::Bool(row.get(5))),
                ("is_template", Value::Bool(row.get(6))),
            ])
        }))
    }

    async fn alter(&self, name: &str, planned: &Value, prior: Option<&Value>) -> Result<(), ProviderError> {
        let a = Attrs::new(planned);
        let c = self.cfg.connect(None).await?;
        let mut statements = Vec::new();
        let changed = |attr: &str| prior.is_none_or(|p| diff::changed(p, planned, attr));
        if let Some(owner) = a.opt_str_computed("owner")? {
            if changed("owner") {
                statements.push(format!("ALTER DATABASE {} OWNER TO {}", ident(name), ident(owner)));
            }
        }
        if prior.is_some() && (changed("connection_limit") || changed("allow_connections") || changed("is_template")) {
            statements.push(format!(
                "ALTER DATABASE {} WITH CONNECTION LIMIT {} ALLOW_CONNECTIONS {} IS_TEMPLATE {}",
                ident(name),
                a.i64_or("connection_limit", -1)?,
                a.bool_or("allow_connections", true)?,
                a.bool_or("is_template", false)?
            ));
        }
        for sql in statements {
            c.batch_execute(&sql).await.map_err(|e| db_error(&e, &format!("cannot alter database {name:?}")))?;
        }
        Ok(())
    }
}

#[async_trait]
impl ResourceType for Database {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        let mut out = validate_ident(config, "name");
        out.extend(validate_ident(config, "owner"));
        out.extend(validate_ident(config, "template"));
        out
    }

    async fn plan(&self, req: PlanRequest) -> Result<PlanResponse, ProviderError> {
        let mut planned = req.proposed;
        if let Some(name) = planned.get("name").and_then(Value::as_str).map(str::to_string) {
            diff::set(&mut planned, "id", Value::string(name));
        }
        Ok(PlanResponse { planned, requires_replace: Vec::new() })
    }

    async fn create(&self, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let a = Attrs::new(planned);
        let name = ident_attr(planned, "name")?;
        let template = a.str_or("template", "template0")?;
        let mut sql = format!("CREATE DATABASE {} WITH TEMPLATE {}", ident(name), ident(template));
        if let Some(owner) = a.opt_str_computed("owner")? {
            sql.push_str(&format!(" OWNER {}", ident(owner)));
        }
        if let Some(enc) = a.opt_str_computed("encoding")? {
            sql.push_str(&format!(" ENCODING {}", literal(enc)));
        }
        if let Some(v) = a.opt_str_computed("lc_collate")? {
            sql.push_str(&format!(" LC_COLLATE {}", literal(v)));
        }
        if let Some(v) = a.opt_str_computed("lc_ctype")? {
            sql.push_str(&format!(" LC_CTYPE {}", literal(v)));
        }
        sql.push_str(&format!(
            " CONNECTION LIMIT {} ALLOW_CONNECTIONS {} IS_TEMPLATE {}",
            a.i64_or("connection_limit", -1)?,
            a.bool_or("allow_connections", true)?,
            a.bool_or("is_template", false)?
        ));
        {
            let c = self.cfg.connect(None).await?;
            c.batch_execute(&sql).await.map_err(|e| match code_of(&e) {
                Some("42P04") => ProviderError::permanent(format!("database {name:?} already exists"))
                    .with_help(import_help(ctx, name)),
                _ => db_error(&e, &format!("cannot create database {name:?}")),
            })?;
        }
        self.read_db(name, Some(template))
            .await?
            .ok_or_else(|| ProviderError::transient(format!("database {name:?} vanished right after it was created")))
    }

    async fn read(&self, current: &Value, _ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        let a = Attrs::new(current);
        self.read_db(a.str("name")?, a.opt_str("template")?).await
    }

    async fn update(&self, prior: &Value, planned: &Value, _ctx: &OpContext) -> Result<Value, ProviderError> {
        let old = Attrs::new(prior).str("name")?;
        let name = ident_attr(planned, "name")?;
        if old != name {
            let c = self.cfg.connect(None).await?;
            c.batch_execute(&format!("ALTER DATABASE {} RENAME TO {}", ident(old), ident(name))).await.map_err(
                |e| {
                    let mut err = db_error(&e, &format!("cannot rename database {old:?} to {name:?}"));
                    if code_of(&e) == Some("55006") {
                        err = err.with_help("a database can only be renamed while nobody is connected to it");
                    }
                    err
                },
            )?;
        }
        self.alter(name, planned, Some(prior)).await?;
        self.read_db(name, Attrs::new(planned).opt_str("template")?)
            .await?
            .ok_or_else(|| ProviderError::transient(format!("database {name:?} vanished during the update")))
    }

    async fn delete(&self, current: &Value, _ctx: &OpContext) -> Result<(), ProviderError> {
        let name = Attrs::new(current).str("name")?;
        let c = self.cfg.connect(None).await?;
        let exists = c
            .query_opt("SELECT datistemplate FROM pg_catalog.pg_database WHERE datname = $1", &[&name])
            .await
            .map_err(|e| db_error(&e, &format!("cannot read database {name:?}")))?;
        let Some(row) = exists else { return Ok(()) };
        if row.get::<_, bool>(0) {
            c.batch_execute(&format!("ALTER DATABASE {} IS_TEMPLATE false", ident(name)))
                .await
                .map_err(|e| db_error(&e, &format!("cannot un-mark template database {name:?}")))?;
        }
        let sql = if server_version(&c).await? >= 13 {
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", ident(name))
        } else {
            c.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&name],
            )
            .await
            .map_err(|e| db_error(&e, &format!("cannot end the sessions connected to database {name:?}")))?;
            format!("DROP DATABASE IF EXISTS {}", ident(name))
        };
        c.batch_execute(&sql).await.map_err(|e| db_error(&e, &format!("cannot drop database {name:?}")))
    }

    async fn import(&self, id: &str, _ctx: &OpContext) -> Result<Value, ProviderError> {
        self.read_db(id, None).await?.ok_or_else(|| ProviderError::not_found(format!("database {id:?} does not exist")))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use tokio_postgres::NoTls;

    fn planned(name: &str) -> Value {
        obj(&[
            ("name", s(name)),
            ("owner", Value::Unknown),
            ("template", s("template0")),
            ("encoding", Value::Unknown),
            ("lc_collate", Value::Unknown),
            ("lc_ctype", Value::Unknown),
            ("connection_limit", Value::number(-1)),
            ("allow_connections", Value::Bool(true)),
            ("is_template", Value::Bool(false)),
            ("id", Value::Unknown),
        ])
    }

    #[tokio::test]
    async fn lifecycle_drift_import_and_forced_drop() {
        let server = PgServer::start();
        server.psql("postgres", "CREATE ROLE acme LOGIN PASSWORD 'pw'; CREATE ROLE other");
        let d = Database { cfg: config(&server) };
        let c = ctx("tenant.acme.postgres_database.main");
        let mut p = planned("acme");
        diff::set(&mut p, "owner", s("acme"));
        diff::set(&mut p, "encoding", s("UTF8"));
        let v = d.create(&p, &c).await.unwrap();
        assert_eq!(v.get("owner"), Some(&s("acme")));
        assert_eq!(v.get("encoding"), Some(&s("UTF8")));
        assert_eq!(v.get("lc_collate"), Some(&s("C")), "computed from the template");
        assert_eq!(d.read(&v, &c).await.unwrap(), Some(v.clone()));

        // Drift: owner changed by hand.
        server.psql("postgres", "ALTER DATABASE acme OWNER TO other");
        let drifted = d.read(&v, &c).await.unwrap().unwrap();
        assert_eq!(drifted.get("owner"), Some(&s("other")));
        // Update sets it back, with a new connection limit.
        let mut next = v.clone();
        diff::set(&mut next, "connection_limit", Value::number(10));
        let v2 = d.update(&drifted, &next, &c).await.unwrap();
        assert_eq!(v2.get("owner"), Some(&s("acme")));
        assert_eq!(v2.get("connection_limit"), Some(&Value::number(10)));

        // Rename in place.
        let mut renamed = v2.clone();
        diff::set(&mut renamed, "name", s("acme_main"));
        let v3 = d.update(&v2, &renamed, &c).await.unwrap();
        assert_eq!(v3.get("id"), Some(&s("acme_main")));

        // Already exists: the error says how to import it.
        let e = d.create(&planned("acme_main"), &c).await.unwrap_err();
        assert_eq!(e.summary, "database \"acme_main\" already exists");
        assert_eq!(
            e.help.as_deref(),
            Some("import it with `tenantform import tenant.acme.postgres_database.main acme_main`, or choose another name")
        );
        let imported = d.import("acme_main", &c).await.unwrap();
        assert_eq!(imported.get("owner"), Some(&s("acme")));
        assert!(d.import("nope", &c).await.is_err());

        // Drop with a session still connected: the session is ended.
        let (client, conn) = tokio_postgres::connect(&server.url_as("acme", "pw", "acme_main"), NoTls).await.unwrap();
        let conn = tokio::spawn(conn);
        client.query_one("SELECT 1", &[]).await.unwrap();
        d.delete(&v3, &c).await.unwrap();
        assert!(client.query_one("SELECT 1", &[]).await.is_err(), "the connected session was terminated");
        let _ = conn.await;
        assert_eq!(d.read(&v3, &c).await.unwrap(), None);
        d.delete(&v3, &c).await.expect("deleting what is gone is success");
    }

    #[tokio::test]
    async fn server_errors_are_clear() {
        let server = PgServer::start();
        let d = Database { cfg: config(&server) };
        let mut p = planned("x");
        diff::set(&mut p, "owner", s("no_such_role"));
        let e = d.create(&p, &ctx("postgres_database.x")).await.unwrap_err();
        assert!(e.summary.contains("cannot create database \"x\"") && e.summary.contains("no_such_role"), "{e}");
        assert!(e.detail.unwrap().contains("SQLSTATE 42704"));
    }
}

//! `postgres_extension`: an extension installed in a database, with cyrilgdn/postgresql's
//! attribute names.
//!
//! - `version` updates in place (`ALTER EXTENSION … UPDATE TO`), `schema` too (`SET SCHEMA`);
//!   `name` and `database` replace.
//! - Create is `CREATE EXTENSION IF NOT EXISTS`: an extension that is already installed is
//!   adopted (then moved/updated to the configured schema and version).
//! - Delete is `DROP EXTENSION … RESTRICT` unless `drop_cascade = true`. Gone is success.
//!
//! Import ID: `<database>.<extension>` (`tenantform import postgres_extension.crypto acme.pgcrypto`).

use std::sync::Arc;

use async_trait::async_trait;
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, OpContext, PlanRequest, PlanResponse, ProviderError, ResourceSchema, ResourceType,
    Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use super::{code_of, db_error, ident, ident_attr, literal, plan_in_database, validate_ident, PgConfig};
use crate::support::attrs::Attrs;

pub fn schema() -> ResourceSchema {
    let schema = Schema::new()
        .describe("An extension installed in a database.")
        .attr("name", AttributeSchema::required(Type::String).force_new().describe("Name of the extension, e.g. \"pgcrypto\"."))
        .attr("database", AttributeSchema::optional_computed(Type::String).force_new().describe("Database to install it in. Default: the provider's database."))
        .attr("schema", AttributeSchema::optional_computed(Type::String).describe("Schema for its objects. Default: the extension's choice (usually the first schema on the search path)."))
        .attr("version", AttributeSchema::optional_computed(Type::String).describe("Version to install or update to. Default: the extension's default version."))
        .attr("drop_cascade", AttributeSchema::optional(Type::Bool).default(Value::Bool(false)).from_config_on_import().describe("On delete, also drop objects that depend on the extension. Default false."))
        .attr("id", AttributeSchema::computed(Type::String).describe("<database>.<extension>."));
    ResourceSchema { schema, version: 0, import_id: "<database>.<extension>".into() }
}

pub struct Extension {
    pub cfg: Arc<PgConfig>,
}

impl Extension {
    fn database<'a>(&'a self, v: &'a Value) -> Result<&'a str, ProviderError> {
        Ok(Attrs::new(v).opt_str_computed("database")?.unwrap_or(&self.cfg.database))
    }

    async fn read_ext(&self, database: &str, name: &str, cascade: bool) -> Result<Option<Value>, ProviderError> {
        let Some(c) = self.cfg.connect_if_exists(database).await? else { return Ok(None) };
        let row = c
            .query_opt(
                "SELECT n.nspname::text, e.extversion FROM pg_catalog.pg_extension e
                 JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1",
                &[&name],
            )
            .await
            .map_err(|e| db_error(&e, &format!("cannot read extension {name:?}")))?;
        Ok(row.map(|r| {
            Value::map([
                ("id", Value::string(format!("{database}.{name}"))),
                ("name", Value::string(name)),
                ("database", Value::string(database)),
                ("schema", Value::string(r.get::<_, String>(0))),
                ("version", Value::string(r.get::<_, String>(1))),
                ("drop_cascade", Value::Bool(cascade)),
            ])
        }))
    }

    async fn converge(&self, planned: &Value, prior: Option<&Value>) -> Result<Value, ProviderError> {
        let a = Attrs::new(planned);
        let name = ident_attr(planned, "name")?;
        let database = self.database(planned)?.to_string();
        let c = self.cfg.connect(Some(&database)).await?;
        let what = |verb: &str| format!("cannot {verb} extension {name:?} in database {database:?}");
        if prior.is_none() {
            let mut sql = format!("CREATE EXTENSION IF NOT EXISTS {}", ident(name));
            if let Some(s) = a.opt_str_computed("schema")? {
                sql.push_str(&format!(" SCHEMA {}", ident(s)));
            }
            if let Some(v) = a.opt_str_computed("version")? {
                sql.push_str(&format!(" VERSION {}", literal(v)));
            }
            c.batch_execute(&sql).await.map_err(|e| {
                let mut err = db_error(&e, &what("create"));
                if code_of(&e) == Some("0A000") || code_of(&e) == Some("58P01") {
                    err = err.with_help("the extension is not available on the server: install its package there (see pg_available_extensions)");
                }
                err
            })?;
        }
        let current = c
            .query_one(
                "SELECT n.nspname::text, e.extversion FROM pg_catalog.pg_extension e
                 JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1",
                &[&name],
            )
            .await
            .map_err(|e| db_error(&e, &what("read")))?;
        if let Some(s) = a.opt_str_computed("schema")? {
            if current.get::<_, String>(0) != s {
                c.batch_execute(&format!("ALTER EXTENSION {} SET SCHEMA {}", ident(name), ident(s)))
                    .await
                    .map_err(|e| db_error(&e, &what("move")))?;
            }
        }
        if let Some(v) = a.opt_str_computed("version")? {
            if current.get::<_, String>(1) != v {
                c.batch_execute(&format!("ALTER EXTENSION {} UPDATE TO {}", ident(name), literal(v)))
                    .await
                    .map_err(|e| db_error(&e, &what("update")))?;
            }
        }
        drop(c);
        self.read_ext(&database, name, a.bool_or("drop_cascade", false)?)
            .await?
            .ok_or_else(|| ProviderError::transient(format!("extension {name:?} vanished while it was set up")))
    }
}

#[async_trait]
impl ResourceType for Extension {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        let mut out = validate_ident(config, "name");
        out.extend(validate_ident(config, "schema"));
        out.extend(validate_ident(config, "database"));
        out
    }

    async fn plan(&self, req: PlanRequest) -> Result<PlanResponse, ProviderError> {
        Ok(PlanResponse { planned: plan_in_database(req.proposed, &self.cfg.database), requires_replace: Vec::new() })
    }

    async fn create(&self, planned: &Value, _ctx: &OpContext) -> Result<Value, ProviderError> {
        self.converge(planned, None).await
    }

    async fn read(&self, current: &Value, _ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        let a = Attrs::new(current);
        self.read_ext(self.database(current)?, a.str("name")?, a.bool_or("drop_cascade", false)?).await
    }

    async fn update(&self, prior: &Value, planned: &Value, _ctx: &OpContext) -> Result<Value, ProviderError> {
        self.converge(planned, Some(prior)).await
    }

    async fn delete(&self, current: &Value, _ctx: &OpContext) -> Result<(), ProviderError> {
        let a = Attrs::new(current);
        let name = a.str("name")?;
        let Some(c) = self.cfg.connect_if_exists(self.database(current)?).await? else { return Ok(()) };
        let cascade = if a.bool_or("drop_cascade", false)? { "CASCADE" } else { "RESTRICT" };
        c.batch_execute(&format!("DROP EXTENSION IF EXISTS {} {cascade}", ident(name)))
            .await
            .map_err(|e| db_error(&e, &format!("cannot drop extension {name:?}")))
    }

    async fn import(&self, id: &str, _ctx: &OpContext) -> Result<Value, ProviderError> {
        let Some((database, name)) = id.split_once('.') else {
            return Err(ProviderError::permanent(format!("invalid import ID {id:?}: use <database>.<extension>")));
        };
        self.read_ext(database, name, false).await?.ok_or_else(|| {
            ProviderError::not_found(format!("extension {name:?} is not installed in database {database:?}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use crate::support::diff;

    #[tokio::test]
    async fn install_move_import_and_remove() {
        let server = PgServer::start();
        server.create_database("acme");
        server.psql("acme", "CREATE SCHEMA ext");
        let x = Extension { cfg: config(&server) };
        let c = ctx("postgres_extension.crypto");
        let p = obj(&[
            ("name", s("pgcrypto")),
            ("database", s("acme")),
            ("schema", Value::Unknown),
            ("version", Value::Unknown),
            ("drop_cascade", Value::Bool(false)),
            ("id", Value::Unknown),
        ]);
        let v = x.create(&p, &c).await.unwrap();
        assert_eq!((v.get("id"), v.get("schema")), (Some(&s("acme.pgcrypto")), Some(&s("public"))));
        assert!(v.get("version").and_then(Value::as_str).is_some());
        assert_eq!(server.psql("acme", "SELECT length(public.digest('x', 'sha256'))"), "32");
        assert_eq!(x.read(&v, &c).await.unwrap(), Some(v.clone()));
        let mut moved = v.clone();
        diff::set(&mut moved, "schema", s("ext"));
        let v2 = x.update(&v, &moved, &c).await.unwrap();
        assert_eq!(v2.get("schema"), Some(&s("ext")));
        assert_eq!(x.import("acme.pgcrypto", &c).await.unwrap(), v2);
        let mut missing = p.clone();
        diff::set(&mut missing, "name", s("no_such_extension"));
        let e = x.create(&missing, &c).await.unwrap_err();
        assert!(e.summary.contains("no_such_extension") && e.help.is_some(), "{e}");
        x.delete(&v2, &c).await.unwrap();
        assert_eq!(x.read(&v2, &c).await.unwrap(), None);
        x.delete(&v2, &c).await.expect("gone is success");
    }
}

//! `postgres_schema`: a schema inside a database, with cyrilgdn/postgresql's attribute names.
//!
//! - `name` and `owner` update in place (`ALTER SCHEMA … RENAME TO`, `OWNER TO`); `database`
//!   replaces.
//! - `if_not_exists` (default true): a schema that already exists is adopted on create
//!   (and given the configured owner), as `CREATE SCHEMA IF NOT EXISTS` would; with false,
//!   creating an existing schema is an error that says how to import it.
//! - Delete is `DROP SCHEMA … RESTRICT` (it fails, naming the objects, while the schema holds
//!   any) unless `drop_cascade = true`, which drops everything in it. Gone is success.
//!
//! Import ID: `<database>.<schema>` (`tenantform import tenant.acme.postgres_schema.app acme.app`).

use std::sync::Arc;

use async_trait::async_trait;
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, OpContext, PlanRequest, PlanResponse, ProviderError, ResourceSchema, ResourceType,
    Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use super::{code_of, db_error, ident, ident_attr, import_help, plan_in_database, validate_ident, PgConfig};
use crate::support::attrs::Attrs;
use crate::support::diff;

pub fn schema() -> ResourceSchema {
    let schema = Schema::new()
        .describe("A schema inside a database.")
        .attr("name", AttributeSchema::required(Type::String).describe("Name of the schema. Changing it renames the schema in place."))
        .attr("database", AttributeSchema::optional_computed(Type::String).force_new().describe("Database holding the schema. Default: the provider's database."))
        .attr("owner", AttributeSchema::optional_computed(Type::String).describe("Role that owns the schema. Default: the provider's user."))
        .attr("if_not_exists", AttributeSchema::optional(Type::Bool).default(Value::Bool(true)).from_config_on_import().describe("Adopt a schema that already exists instead of failing. Default true."))
        .attr("drop_cascade", AttributeSchema::optional(Type::Bool).default(Value::Bool(false)).from_config_on_import().describe("On delete, drop everything in the schema too (DROP SCHEMA … CASCADE). Default false: deleting a non-empty schema fails."))
        .attr("id", AttributeSchema::computed(Type::String).describe("<database>.<schema>."));
    ResourceSchema { schema, version: 0, import_id: "<database>.<schema>".into() }
}

pub struct PgSchema {
    pub cfg: Arc<PgConfig>,
}

impl PgSchema {
    fn database<'a>(&'a self, v: &'a Value) -> Result<&'a str, ProviderError> {
        Ok(Attrs::new(v).opt_str_computed("database")?.unwrap_or(&self.cfg.database))
    }

    async fn read_schema(
        &self,
        database: &str,
        name: &str,
        flags: (bool, bool),
    ) -> Result<Option<Value>, ProviderError> {
        let Some(c) = self.cfg.connect_if_exists(database).await? else { return Ok(None) };
        let row = c
            .query_opt(
                "SELECT pg_catalog.pg_get_userbyid(nspowner)::text FROM pg_catalog.pg_namespace WHERE nspname = $1",
                &[&name],
            )
            .await
            .map_err(|e| db_error(&e, &format!("cannot read schema {name:?}")))?;
        Ok(row.map(|r| {
            Value::map([
                ("id", Value::string(format!("{database}.{name}"))),
                ("name", Value::string(name)),
                ("database", Value::string(database)),
                ("owner", Value::string(r.get::<_, String>(0))),
                ("if_not_exists", Value::Bool(flags.0)),
                ("drop_cascade", Value::Bool(flags.1)),
            ])
        }))
    }

    fn flags(v: &Value) -> Result<(bool, bool), ProviderError> {
        let a = Attrs::new(v);
        Ok((a.bool_or("if_not_exists", true)?, a.bool_or("drop_cascade", false)?))
    }
}

#[async_trait]
impl ResourceType for PgSchema {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        let mut out = validate_ident(config, "name");
        out.extend(validate_ident(config, "owner"));
        out.extend(validate_ident(config, "database"));
        out
    }

    async fn plan(&self, req: PlanRequest) -> Result<PlanResponse, ProviderError> {
        Ok(PlanResponse { planned: plan_in_database(req.proposed, &self.cfg.database), requires_replace: Vec::new() })
    }

    async fn create(&self, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let name = ident_attr(planned, "name")?;
        let database = self.database(planned)?.to_string();
        let owner = Attrs::new(planned).opt_str_computed("owner")?;
        let flags = Self::flags(planned)?;
        let c = self.cfg.connect(Some(&database)).await?;
        let mut sql = format!("CREATE SCHEMA {}", ident(name));
        if let Some(o) = owner {
            sql.push_str(&format!(" AUTHORIZATION {}", ident(o)));
        }
        match c.batch_execute(&sql).await {
            Ok(()) => {}
            Err(e) if code_of(&e) == Some("42P06") && flags.0 => {
                if let Some(o) = owner {
                    c.batch_execute(&format!("ALTER SCHEMA {} OWNER TO {}", ident(name), ident(o)))
                        .await
                        .map_err(|e| db_error(&e, &format!("cannot change the owner of schema {name:?}")))?;
                }
            }
            Err(e) if code_of(&e) == Some("42P06") => {
                return Err(ProviderError::permanent(format!(
                    "schema {name:?} already exists in database {database:?}"
                ))
                .with_help(import_help(ctx, &format!("{database}.{name}"))))
            }
            Err(e) => return Err(db_error(&e, &format!("cannot create schema {name:?} in database {database:?}"))),
        }
        drop(c);
        self.read_schema(&database, name, flags)
            .await?
            .ok_or_else(|| ProviderError::transient(format!("schema {name:?} vanished right after it was created")))
    }

    async fn read(&self, current: &Value, _ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        let a = Attrs::new(current);
        self.read_schema(self.database(current)?, a.str("name")?, Self::flags(current)?).await
    }

    async fn update(&self, prior: &Value, planned: &Value, _ctx: &OpContext) -> Result<Value, ProviderError> {
        let database = self.database(planned)?.to_string();
        let old = Attrs::new(prior).str("name")?;
        let name = ident_attr(planned, "name")?;
        let c = self.cfg.connect(Some(&database)).await?;
        if old != name {
            c.batch_execute(&format!("ALTER SCHEMA {} RENAME TO {}", ident(old), ident(name)))
                .await
                .map_err(|e| db_error(&e, &format!("cannot rename schema {old:?} to {name:?}")))?;
        }
        if let Some(o) = Attrs::new(planned).opt_str_computed("owner")? {
            if diff::changed(prior, planned, "owner") {
                c.batch_execute(&format!("ALTER SCHEMA {} OWNER TO {}", ident(name), ident(o)))
                    .await
                    .map_err(|e| db_error(&e, &format!("cannot change the owner of schema {name:?}")))?;
            }
        }
        drop(c);
        self.read_schema(&database, name, Self::flags(planned)?)
            .await?
            .ok_or_else(|| ProviderError::transient(format!("schema {name:?} vanished during the update")))
    }

    async fn delete(&self, current: &Value, _ctx: &OpContext) -> Result<(), ProviderError> {
        let name = Attrs::new(current).str("name")?;
        let database = self.database(current)?;
        let Some(c) = self.cfg.connect_if_exists(database).await? else { return Ok(()) };
        let cascade = if Self::flags(current)?.1 { "CASCADE" } else { "RESTRICT" };
        c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} {cascade}", ident(name))).await.map_err(|e| {
            let mut err = db_error(&e, &format!("cannot drop schema {name:?}"));
            if code_of(&e) == Some("2BP01") {
                err = err.with_help(
                    "the schema still holds objects; drop them first, or set drop_cascade = true to drop them with it",
                );
            }
            err
        })
    }

    async fn import(&self, id: &str, _ctx: &OpContext) -> Result<Value, ProviderError> {
        let Some((database, name)) = id.split_once('.') else {
            return Err(ProviderError::permanent(format!("invalid import ID {id:?}: use <database>.<schema>")));
        };
        self.read_schema(database, name, (true, false))
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("schema {name:?} does not exist in database {database:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;

    fn planned(name: &str, ine: bool) -> Value {
        obj(&[
            ("name", s(name)),
            ("database", s("acme")),
            ("owner", Value::Unknown),
            ("if_not_exists", Value::Bool(ine)),
            ("drop_cascade", Value::Bool(false)),
            ("id", Value::Unknown),
        ])
    }

    #[tokio::test]
    async fn lifecycle_adoption_import_and_restrict() {
        let server = PgServer::start();
        server.create_database("acme");
        server.psql("postgres", "CREATE ROLE app; CREATE ROLE other");
        let r = PgSchema { cfg: config(&server) };
        let c = ctx("tenant.acme.postgres_schema.app");
        let mut p = planned("app", false);
        diff::set(&mut p, "owner", s("app"));
        let v = r.create(&p, &c).await.unwrap();
        assert_eq!((v.get("id"), v.get("owner")), (Some(&s("acme.app")), Some(&s("app"))));
        assert_eq!(r.read(&v, &c).await.unwrap(), Some(v.clone()));
        let e = r.create(&p, &c).await.unwrap_err();
        assert!(e.help.unwrap().contains("tenantform import tenant.acme.postgres_schema.app acme.app"));
        let mut adopt = planned("app", true);
        diff::set(&mut adopt, "owner", s("other"));
        let adopted = r.create(&adopt, &c).await.unwrap();
        assert_eq!(adopted.get("owner"), Some(&s("other")), "an existing schema is adopted with if_not_exists");

        server.psql("acme", "ALTER SCHEMA app OWNER TO app");
        assert_eq!(r.read(&adopted, &c).await.unwrap().unwrap().get("owner"), Some(&s("app")), "owner drift");
        let mut renamed = v.clone();
        diff::set(&mut renamed, "name", s("app2"));
        let v2 = r.update(&v, &renamed, &c).await.unwrap();
        assert_eq!(v2.get("id"), Some(&s("acme.app2")));
        let mut imported = r.import("acme.app2", &c).await.unwrap();
        diff::set(&mut imported, "if_not_exists", Value::Bool(false));
        assert_eq!(imported, v2);

        server.psql("acme", "CREATE TABLE app2.t (x int)");
        let e = r.delete(&v2, &c).await.unwrap_err();
        assert!(e.help.unwrap().contains("drop_cascade"), "{}", e.summary);
        let mut cascade = v2.clone();
        diff::set(&mut cascade, "drop_cascade", Value::Bool(true));
        r.delete(&cascade, &c).await.unwrap();
        assert_eq!(r.read(&v2, &c).await.unwrap(), None);
        r.delete(&v2, &c).await.expect("gone is success");
    }
}

//! `postgres_default_privileges`: the privileges a role will get on objects that another role
//! (`owner`) creates later — `ALTER DEFAULT PRIVILEGES`, as in cyrilgdn/postgresql.
//!
//! Like `postgres_grant`, the resource owns all default privileges of `role` for objects of
//! `object_type` created by `owner` (in `schema`, or anywhere in the database when `schema` is
//! unset): create and update revoke them all and grant `privileges`, in one transaction.
//! `read` reads `pg_default_acl`, so a default revoked by hand shows as drift. Delete revokes.
//!
//! Import ID: `<database>/<owner>/<role>/<object_type>[/<schema>]`, e.g.
//! `acme/acme_owner/acme_app/table/public`.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, OpContext, PlanRequest, PlanResponse, ProviderError, ResourceSchema, ResourceType,
    Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use super::privileges::{self, grantee, normalize, privileges_value, ObjectType, GRANTEE_OID};
use super::{db_error, ident, ident_attr, validate_ident, PgConfig};
use crate::support::attrs::{path, val_opt_str, Attrs};
use crate::support::diff;

const TYPES: &[ObjectType] =
    &[ObjectType::Table, ObjectType::Sequence, ObjectType::Function, ObjectType::Type, ObjectType::Schema];

pub fn schema() -> ResourceSchema {
    let schema = Schema::new()
        .describe("Default privileges: what a role gets on objects another role creates later.")
        .attr("database", AttributeSchema::required(Type::String).force_new().describe("Database the defaults apply in."))
        .attr("owner", AttributeSchema::required(Type::String).force_new().describe("Role whose future objects get the privileges (ALTER DEFAULT PRIVILEGES FOR ROLE owner)."))
        .attr("role", AttributeSchema::required(Type::String).force_new().describe("Role that receives the privileges; \"public\" means PUBLIC."))
        .attr("schema", AttributeSchema::optional(Type::String).force_new().describe("Only objects created in this schema. Unset: anywhere in the database. Not allowed for object_type \"schema\"."))
        .attr("object_type", AttributeSchema::required(Type::String).force_new().describe("table, sequence, function, type or schema."))
        .attr("privileges", AttributeSchema::required(Type::Set(Box::new(Type::String))).describe("Privileges to grant, e.g. [\"SELECT\"], or [\"ALL\"]. Empty revokes."))
        .attr("with_grant_option", AttributeSchema::optional(Type::Bool).default(Value::Bool(false)).describe("Whether the role may grant them on. Default false."))
        .attr("id", AttributeSchema::computed(Type::String).describe("<role>_<database>_<schema>_<owner>_<object_type>."));
    ResourceSchema { schema, version: 0, import_id: "<database>/<owner>/<role>/<object_type>[/<schema>]".into() }
}

pub struct DefaultPrivileges {
    pub cfg: Arc<PgConfig>,
}

struct Spec {
    database: String,
    owner: String,
    role: String,
    schema: Option<String>,
    object_type: ObjectType,
    privileges: BTreeSet<String>,
    with_grant_option: bool,
}

impl Spec {
    fn from_value(v: &Value) -> Result<Spec, ProviderError> {
        let a = Attrs::new(v);
        let object_type = privileges::object_type(v, TYPES)?;
        let schema = a.opt_str("schema")?.filter(|s| !s.is_empty()).map(str::to_string);
        if object_type == ObjectType::Schema && schema.is_some() {
            return Err(ProviderError::permanent("default privileges on schemas cannot be limited to a schema")
                .at(path("schema")));
        }
        Ok(Spec {
            database: ident_attr(v, "database")?.to_string(),
            owner: ident_attr(v, "owner")?.to_string(),
            role: ident_attr(v, "role")?.to_string(),
            privileges: normalize(object_type, &a.opt_string_list("privileges")?.unwrap_or_default())
                .map_err(|e| ProviderError::permanent(e).at(path("privileges")))?,
            schema,
            object_type,
            with_grant_option: a.bool_or("with_grant_option", false)?,
        })
    }

    fn id(&self) -> String {
        format!(
            "{}_{}_{}_{}_{}",
            self.role,
            self.database,
            self.schema.as_deref().unwrap_or(""),
            self.owner,
            self.object_type.name()
        )
    }

    fn value(&self, privileges: &BTreeSet<String>, grantable: bool) -> Value {
        Value::map([
            ("id", Value::string(self.id())),
            ("database", Value::string(&self.database)),
            ("owner", Value::string(&self.owner)),
            ("role", Value::string(&self.role)),
            ("schema", val_opt_str(self.schema.as_deref())),
            ("object_type", Value::string(self.object_type.name())),
            ("privileges", privileges_value(privileges)),
            ("with_grant_option", Value::Bool(grantable)),
        ])
    }

    /// `pg_default_acl.defaclobjtype` of the object type.
    fn objtype_code(&self) -> &'static str {
        match self.object_type {
            ObjectType::Table => "r",
            ObjectType::Sequence => "S",
            ObjectType::Function => "f",
            ObjectType::Type => "T",
            _ => "n",
        }
    }

    fn prefix(&self) -> String {
        let mut p = format!("ALTER DEFAULT PRIVILEGES FOR ROLE {}", ident(&self.owner));
        if let Some(s) = &self.schema {
            p.push_str(&format!(" IN SCHEMA {}", ident(s)));
        }
        p
    }
}

impl DefaultPrivileges {
    async fn apply(&self, s: &Spec, privileges: &BTreeSet<String>) -> Result<(), ProviderError> {
        let c = self.cfg.connect(Some(&s.database)).await?;
        let who = grantee(&s.role);
        let on = s.object_type.plural();
        let mut sql = vec!["BEGIN".to_string(), format!("{} REVOKE ALL ON {on} FROM {who}", s.prefix())];
        if !privileges.is_empty() {
            sql.push(format!(
                "{} GRANT {} ON {on} TO {who}{}",
                s.prefix(),
                privileges.iter().cloned().collect::<Vec<_>>().join(", "),
                if s.with_grant_option { " WITH GRANT OPTION" } else { "" }
            ));
        }
        sql.push("COMMIT".into());
        c.batch_execute(&sql.join(";\n"))
            .await
            .map_err(|e| db_error(&e, &format!("cannot set default privileges of {:?} for {:?}", s.owner, s.role)))
    }

    async fn held(&self, s: &Spec) -> Result<Option<(BTreeSet<String>, bool)>, ProviderError> {
        let Some(c) = self.cfg.connect_if_exists(&s.database).await? else { return Ok(None) };
        let exists = c
            .query_one(
                "SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname = $1 OR ($2 <> 'public' AND rolname = $2)",
                &[&s.owner, &s.role],
            )
            .await
            .map_err(|e| db_error(&e, "cannot read roles"))?
            .get::<_, i64>(0);
        if exists < if s.role == "public" { 1 } else { 2 } {
            return Ok(None);
        }
        let oid = GRANTEE_OID.replace("$ROLE", "$1");
        let schema = s.schema.clone().unwrap_or_default();
        let rows = c
            .query(
                format!(
                    "SELECT a.privilege_type, a.is_grantable FROM pg_catalog.pg_default_acl d
                     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace,
                     aclexplode(d.defaclacl) a
                     WHERE d.defaclrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $2)
                       AND coalesce(n.nspname, '') = $3 AND d.defaclobjtype::text = $4 AND a.grantee = {oid}"
                )
                .as_str(),
                &[&s.role, &s.owner, &schema, &s.objtype_code()],
            )
            .await
            .map_err(|e| db_error(&e, "cannot read default privileges"))?;
        let privs: BTreeSet<String> = rows.iter().map(|r| r.get::<_, String>(0)).collect();
        let grantable = !rows.is_empty() && rows.iter().all(|r| r.get::<_, bool>(1));
        Ok(Some((privs, grantable)))
    }
}

#[async_trait]
impl ResourceType for DefaultPrivileges {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        let mut out = privileges::validate(config, TYPES);
        for a in ["database", "owner", "role"] {
            out.extend(validate_ident(config, a));
        }
        out
    }

    async fn plan(&self, req: PlanRequest) -> Result<PlanResponse, ProviderError> {
        let mut planned = req.proposed;
        if let Ok(s) = Spec::from_value(&planned) {
            diff::set(&mut planned, "id", Value::string(s.id()));
            diff::set(&mut planned, "privileges", privileges_value(&s.privileges));
        }
        Ok(PlanResponse { planned, requires_replace: Vec::new() })
    }

    async fn create(&self, planned: &Value, _ctx: &OpContext) -> Result<Value, ProviderError> {
        let s = Spec::from_value(planned)?;
        self.apply(&s, &s.privileges).await?;
        Ok(s.value(&s.privileges, s.with_grant_option && !s.privileges.is_empty()))
    }

    async fn read(&self, current: &Value, _ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        let s = Spec::from_value(current)?;
        Ok(self.held(&s).await?.map(|(p, g)| s.value(&p, g)))
    }

    async fn update(&self, _prior: &Value, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        self.create(planned, ctx).await
    }

    async fn delete(&self, current: &Value, _ctx: &OpContext) -> Result<(), ProviderError> {
        let s = Spec::from_value(current)?;
        if self.held(&s).await?.is_none() {
            return Ok(());
        }
        self.apply(&s, &BTreeSet::new()).await
    }

    async fn import(&self, id: &str, _ctx: &OpContext) -> Result<Value, ProviderError> {
        let parts: Vec<&str> = id.split('/').collect();
        if !(4..=5).contains(&parts.len()) || parts.iter().take(4).any(|p| p.is_empty()) {
            return Err(ProviderError::permanent(format!(
                "invalid import ID {id:?}: use <database>/<owner>/<role>/<object_type>[/<schema>]"
            )));
        }
        let mut fields = vec![
            ("database", Value::string(parts[0])),
            ("owner", Value::string(parts[1])),
            ("role", Value::string(parts[2])),
            ("object_type", Value::string(parts[3])),
            ("privileges", Value::set(Vec::new())),
        ];
        if let Some(schema) = parts.get(4) {
            fields.push(("schema", Value::string(*schema)));
        }
        let s = Spec::from_value(&Value::map(fields))?;
        match self.held(&s).await? {
            Some((p, g)) => Ok(s.value(&p, g)),
            None => Err(ProviderError::not_found(format!("nothing to import at {id:?} (database or role missing)"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;

    #[tokio::test]
    async fn defaults_apply_to_new_objects_and_drift_is_seen() {
        let server = PgServer::start();
        server.create_database("acme");
        server.psql("postgres", "CREATE ROLE owner_r; CREATE ROLE app");
        server.psql("acme", "GRANT CREATE ON SCHEMA public TO owner_r");
        let d = DefaultPrivileges { cfg: config(&server) };
        let c = ctx("postgres_default_privileges.tables");
        let p = obj(&[
            ("database", s("acme")),
            ("owner", s("owner_r")),
            ("role", s("app")),
            ("schema", s("public")),
            ("object_type", s("table")),
            ("privileges", strs(&["SELECT", "UPDATE"])),
            ("with_grant_option", Value::Bool(false)),
            ("id", Value::Unknown),
        ]);
        let v = d.create(&p, &c).await.unwrap();
        assert_eq!(v.get("id"), Some(&s("app_acme_public_owner_r_table")));
        assert_eq!(d.read(&v, &c).await.unwrap(), Some(v.clone()));
        server.psql("acme", "SET ROLE owner_r; CREATE TABLE public.later (x int)");
        assert_eq!(server.psql("acme", "SELECT has_table_privilege('app', 'public.later', 'UPDATE')"), "t");

        server.psql(
            "acme",
            "ALTER DEFAULT PRIVILEGES FOR ROLE owner_r IN SCHEMA public REVOKE UPDATE ON TABLES FROM app",
        );
        let drifted = d.read(&v, &c).await.unwrap().unwrap();
        assert_eq!(drifted.get("privileges"), Some(&strs(&["SELECT"])));
        let back = d.update(&drifted, &v, &c).await.unwrap();
        assert_eq!(d.read(&back, &c).await.unwrap(), Some(v.clone()));
        assert_eq!(d.import("acme/owner_r/app/table/public", &c).await.unwrap(), v);

        d.delete(&v, &c).await.unwrap();
        assert_eq!(d.read(&v, &c).await.unwrap().unwrap().get("privileges"), Some(&strs(&[])));
        server.psql("postgres", "DROP DATABASE acme WITH (FORCE)");
        assert_eq!(d.read(&v, &c).await.unwrap(), None);
        d.delete(&v, &c).await.expect("gone is success");
    }
}

//! `postgres_grant`: the privileges one role holds on a database, a schema, or the tables,
//! sequences or functions of a schema — cyrilgdn/postgresql's resource of the same name.
//!
//! The resource owns *all* privileges of `role` on its target: create and update run, in one
//! transaction, `REVOKE ALL` on the target and then `GRANT <privileges>` (so removing a
//! privilege from the list revokes it). With `objects` empty, a table/sequence/function grant
//! covers every such object **existing** in the schema (`ALL TABLES IN SCHEMA`); objects
//! created later need `postgres_default_privileges`. `objects` lists table or sequence names,
//! or function names (every overload of each name). `role = "public"` grants to PUBLIC.
//!
//! Drift: `read` asks the server's ACLs what the role holds. For several objects, a privilege
//! counts only if the role holds it on every one of them, so a privilege revoked by hand on
//! one table shows as drift and the next apply grants it again. `with_grant_option` reads true
//! only when every privilege is grantable.
//!
//! Delete revokes everything the resource granted; a role or database that is gone counts as
//! revoked.
//!
//! Import ID: `<database>/<role>/<object_type>[/<schema>[/<object>,<object>…]]`, e.g.
//! `acme/acme_app/table/public` or `acme/acme_app/database`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, OpContext, PlanRequest, PlanResponse, ProviderError, ResourceSchema, ResourceType,
    Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;
use tokio_postgres::Client;

use super::privileges::{self, grantee, normalize, privileges_value, ObjectType, GRANTEE_OID};
use super::{db_error, ident, ident_attr, validate_ident, PgConfig};
use crate::support::attrs::{path, val_opt_str, Attrs};
use crate::support::diff;

const TYPES: &[ObjectType] =
    &[ObjectType::Database, ObjectType::Schema, ObjectType::Table, ObjectType::Sequence, ObjectType::Function];

pub fn schema() -> ResourceSchema {
    let strings = || Type::Set(Box::new(Type::String));
    let schema = Schema::new()
        .describe("The privileges a role holds on a database, a schema, or the tables, sequences or functions of a schema.")
        .attr("database", AttributeSchema::required(Type::String).force_new().describe("Database the grant is in (or on, for object_type \"database\")."))
        .attr("role", AttributeSchema::required(Type::String).force_new().describe("Role that receives the privileges; \"public\" means PUBLIC."))
        .attr("schema", AttributeSchema::optional(Type::String).force_new().describe("Schema of the objects (required unless object_type is \"database\"); for object_type \"schema\", the schema itself."))
        .attr("object_type", AttributeSchema::required(Type::String).force_new().describe("database, schema, table, sequence or function."))
        .attr("objects", AttributeSchema::optional(strings()).force_new().describe("Names of tables, sequences or functions (every overload). Empty: every one existing in the schema."))
        .attr("privileges", AttributeSchema::required(strings()).describe("Privileges to grant, e.g. [\"SELECT\", \"INSERT\"], or [\"ALL\"]. Empty revokes everything."))
        .attr("with_grant_option", AttributeSchema::optional(Type::Bool).default(Value::Bool(false)).describe("Whether the role may grant these privileges to others. Default false."))
        .attr("id", AttributeSchema::computed(Type::String).describe("<role>_<database>_<schema>_<object_type>."));
    ResourceSchema {
        schema,
        version: 0,
        import_id: "<database>/<role>/<object_type>[/<schema>[/<object>,<object>…]]".into(),
    }
}

pub struct Grant {
    pub cfg: Arc<PgConfig>,
}

/// A grant as configured.
struct Spec {
    database: String,
    role: String,
    schema: Option<String>,
    object_type: ObjectType,
    objects: Vec<String>,
    /// `objects` as written (null and `[]` both mean "all"; kept so that reads match).
    objects_raw: Value,
    privileges: BTreeSet<String>,
    with_grant_option: bool,
}

impl Spec {
    fn from_value(v: &Value) -> Result<Spec, ProviderError> {
        let a = Attrs::new(v);
        let object_type = privileges::object_type(v, TYPES)?;
        let schema = a.opt_str("schema")?.map(str::to_string);
        if object_type != ObjectType::Database && schema.is_none() {
            return Err(
                ProviderError::permanent(format!("a {} grant needs `schema`", object_type.name())).at(path("schema"))
            );
        }
        let privileges = normalize(object_type, &a.opt_string_list("privileges")?.unwrap_or_default())
            .map_err(|e| ProviderError::permanent(e).at(path("privileges")))?;
        Ok(Spec {
            database: ident_attr(v, "database")?.to_string(),
            role: ident_attr(v, "role")?.to_string(),
            schema,
            object_type,
            objects: a.opt_string_list("objects")?.unwrap_or_default(),
            objects_raw: a.raw("objects"),
            privileges,
            with_grant_option: a.bool_or("with_grant_option", false)?,
        })
    }

    fn id(&self) -> String {
        format!("{}_{}_{}_{}", self.role, self.database, self.schema.as_deref().unwrap_or(""), self.object_type.name())
    }

    fn value(&self, privileges: &BTreeSet<String>, with_grant_option: bool) -> Value {
        Value::map([
            ("id", Value::string(self.id())),
            ("database", Value::string(&self.database)),
            ("role", Value::string(&self.role)),
            ("schema", val_opt_str(self.schema.as_deref())),
            ("object_type", Value::string(self.object_type.name())),
            ("objects", self.objects_raw.clone()),
            ("privileges", privileges_value(privileges)),
            ("with_grant_option", Value::Bool(with_grant_option)),
        ])
    }
}

/// The `ON …` target of a table/sequence/function grant: the listed objects, or all in the schema.
async fn target(c: &Client, s: &Spec, schema: &str) -> Result<Option<String>, ProviderError> {
    if s.objects.is_empty() {
        return Ok(Some(format!("ALL {} IN SCHEMA {}", s.object_type.plural(), ident(schema))));
    }
    match s.object_type {
        ObjectType::Function => {
            // Every overload of each name, as the server prints it (safely quoted).
            let rows = c
                .query(
                    "SELECT p.oid::regprocedure::text FROM pg_catalog.pg_proc p
                     JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname = $1 AND p.proname = ANY($2) ORDER BY 1",
                    &[&schema, &s.objects],
                )
                .await
                .map_err(|e| db_error(&e, "cannot list the functions to grant on"))?;
            if rows.is_empty() {
                return Ok(None);
            }
            let sigs: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
            Ok(Some(format!("FUNCTION {}", sigs.join(", "))))
        }
        _ => {
            let names: Vec<String> = s.objects.iter().map(|o| format!("{}.{}", ident(schema), ident(o))).collect();
            let kw = if s.object_type == ObjectType::Sequence { "SEQUENCE" } else { "TABLE" };
            Ok(Some(format!("{kw} {}", names.join(", "))))
        }
    }
}

impl Grant {
    /// Revokes everything on the target and grants `privileges` (empty: revoke only).
    async fn apply(&self, s: &Spec, privileges: &BTreeSet<String>) -> Result<(), ProviderError> {
        let db = (s.object_type != ObjectType::Database).then_some(s.database.as_str());
        let c = match db {
            Some(d) => self.cfg.connect(Some(d)).await?,
            None => self.cfg.connect(None).await?,
        };
        let who = grantee(&s.role);
        let mut sql = vec!["BEGIN".to_string()];
        let (revoke_on, grant_on) = match s.object_type {
            ObjectType::Database => {
                let on = format!("DATABASE {}", ident(&s.database));
                (on.clone(), Some(on))
            }
            ObjectType::Schema => {
                let on = format!("SCHEMA {}", ident(s.schema.as_deref().unwrap_or("")));
                (on.clone(), Some(on))
            }
            _ => {
                let schema = s.schema.as_deref().unwrap_or("");
                (format!("ALL {} IN SCHEMA {}", s.object_type.plural(), ident(schema)), target(&c, s, schema).await?)
            }
        };
        sql.push(format!("REVOKE ALL PRIVILEGES ON {revoke_on} FROM {who}"));
        if !privileges.is_empty() {
            if let Some(on) = grant_on {
                sql.push(format!(
                    "GRANT {} ON {on} TO {who}{}",
                    privileges.iter().cloned().collect::<Vec<_>>().join(", "),
                    if s.with_grant_option { " WITH GRANT OPTION" } else { "" }
                ));
            }
        }
        sql.push("COMMIT".into());
        let what = format!("cannot grant {} privileges to {:?}", s.object_type.name(), s.role);
        c.batch_execute(&sql.join(";\n")).await.map_err(|e| db_error(&e, &what))
    }

    /// What the role holds on the target; `None` when the database, schema or role is gone.
    /// `fallback` answers for a target with no objects (nothing to read privileges from).
    async fn held(
        &self,
        s: &Spec,
        fallback: &BTreeSet<String>,
    ) -> Result<Option<(BTreeSet<String>, bool)>, ProviderError> {
        let c = match s.object_type {
            ObjectType::Database => self.cfg.connect(None).await?,
            _ => match self.cfg.connect_if_exists(&s.database).await? {
                Some(c) => c,
                None => return Ok(None),
            },
        };
        let role_exists = s.role == "public"
            || c.query_opt("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", &[&s.role])
                .await
                .map_err(|e| db_error(&e, "cannot read roles"))?
                .is_some();
        if !role_exists {
            return Ok(None);
        }
        let oid = GRANTEE_OID.replace("$ROLE", "$1");
        let schema = s.schema.clone().unwrap_or_default();
        // One row per (object, privilege, grantable); objects without a matching ACL entry
        // appear once with a NULL privilege, so that they count in the intersection.
        let (sql, params): (String, Vec<&(dyn tokio_postgres::types::ToSql + Sync)>) = match s.object_type {
            ObjectType::Database => (
                format!(
                    "SELECT d.datname::text, a.privilege_type, a.is_grantable FROM pg_catalog.pg_database d
                     LEFT JOIN LATERAL (SELECT * FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) x WHERE x.grantee = {oid}) a ON true
                     WHERE d.datname = $2"
                ),
                vec![&s.role, &s.database],
            ),
            ObjectType::Schema => (
                format!(
                    "SELECT n.nspname::text, a.privilege_type, a.is_grantable FROM pg_catalog.pg_namespace n
                     LEFT JOIN LATERAL (SELECT * FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) x WHERE x.grantee = {oid}) a ON true
                     WHERE n.nspname = $2"
                ),
                vec![&s.role, &schema],
            ),
            ObjectType::Function => (
                format!(
                    "SELECT p.oid::regprocedure::text, a.privilege_type, a.is_grantable FROM pg_catalog.pg_proc p
                     JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
                     LEFT JOIN LATERAL (SELECT * FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) x WHERE x.grantee = {oid}) a ON true
                     WHERE n.nspname = $2 AND (cardinality($3::text[]) = 0 OR p.proname = ANY($3))"
                ),
                vec![&s.role, &schema, &s.objects],
            ),
            _ => (
                format!(
                    "SELECT c.relname::text, a.privilege_type, a.is_grantable FROM pg_catalog.pg_class c
                     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                     LEFT JOIN LATERAL (SELECT * FROM aclexplode(coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::\"char\", c.relowner))) x WHERE x.grantee = {oid}) a ON true
                     WHERE n.nspname = $2 AND c.relkind::text = ANY($4)
                       AND (cardinality($3::text[]) = 0 OR c.relname = ANY($3))"
                ),
                vec![
                    &s.role,
                    &schema,
                    &s.objects,
                    if s.object_type == ObjectType::Sequence { &SEQ_KINDS } else { &TABLE_KINDS },
                ],
            ),
        };
        let rows = c.query(sql.as_str(), &params).await.map_err(|e| db_error(&e, "cannot read privileges"))?;
        let mut per_object: BTreeMap<String, BTreeMap<String, bool>> = BTreeMap::new();
        for r in &rows {
            let entry = per_object.entry(r.get::<_, String>(0)).or_default();
            if let Some(p) = r.get::<_, Option<String>>(1) {
                entry.insert(p, r.get::<_, Option<bool>>(2).unwrap_or(false));
            }
        }
        if per_object.is_empty() {
            // The schema or database is gone (a grant on it is gone too), or the schema has no
            // such objects yet (nothing contradicts the configuration).
            return Ok(match s.object_type {
                ObjectType::Database | ObjectType::Schema => None,
                _ => Some((fallback.clone(), s.with_grant_option)),
            });
        }
        let mut common: Option<BTreeSet<String>> = None;
        let mut grantable = true;
        for privs in per_object.values() {
            let set: BTreeSet<String> =
                privs.keys().filter(|p| s.object_type.all().contains(&p.as_str())).cloned().collect();
            grantable &= privs.values().all(|g| *g);
            common = Some(match common {
                None => set,
                Some(c) => c.intersection(&set).cloned().collect(),
            });
        }
        let common = common.unwrap_or_default();
        Ok(Some((common.clone(), grantable && !common.is_empty())))
    }
}

const TABLE_KINDS: &[&str] = &["r", "v", "m", "f", "p"];
const SEQ_KINDS: &[&str] = &["S"];

#[async_trait]
impl ResourceType for Grant {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        let mut out = privileges::validate(config, TYPES);
        out.extend(validate_ident(config, "database"));
        out.extend(validate_ident(config, "role"));
        out
    }

    async fn plan(&self, req: PlanRequest) -> Result<PlanResponse, ProviderError> {
        let mut planned = req.proposed;
        let a = Attrs::new(&planned);
        if let (Some(r), Some(d), Some(t)) = (
            planned.get("role").and_then(Value::as_str),
            planned.get("database").and_then(Value::as_str),
            planned.get("object_type").and_then(Value::as_str),
        ) {
            if !a.is_unknown("schema") {
                let schema = planned.get("schema").and_then(Value::as_str).unwrap_or("");
                let id = format!("{r}_{d}_{schema}_{t}");
                diff::set(&mut planned, "id", Value::string(id));
            }
        }
        // Normalise the privilege spelling so that ["select"] plans no change against SELECT.
        if let (Some(t), Some(items)) = (
            planned.get("object_type").and_then(Value::as_str).and_then(ObjectType::parse),
            planned.get("privileges").and_then(Value::as_list),
        ) {
            let names: Vec<String> = items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
            if names.len() == items.len() {
                if let Ok(n) = normalize(t, &names) {
                    diff::set(&mut planned, "privileges", privileges_value(&n));
                }
            }
        }
        Ok(PlanResponse { planned, requires_replace: Vec::new() })
    }

    async fn create(&self, planned: &Value, _ctx: &OpContext) -> Result<Value, ProviderError> {
        let s = Spec::from_value(planned)?;
        self.apply(&s, &s.privileges).await?;
        Ok(s.value(&s.privileges, s.with_grant_option))
    }

    async fn read(&self, current: &Value, _ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        let s = Spec::from_value(current)?;
        Ok(self.held(&s, &s.privileges).await?.map(|(p, g)| s.value(&p, g)))
    }

    async fn update(&self, _prior: &Value, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        self.create(planned, ctx).await
    }

    async fn delete(&self, current: &Value, _ctx: &OpContext) -> Result<(), ProviderError> {
        let s = Spec::from_value(current)?;
        if self.held(&s, &BTreeSet::new()).await?.is_none() {
            return Ok(());
        }
        match self.apply(&s, &BTreeSet::new()).await {
            Err(e)
                if e.detail
                    .as_deref()
                    .is_some_and(|d| d.contains("SQLSTATE 3F000") || d.contains("SQLSTATE 42704")) =>
            {
                Ok(())
            }
            r => r,
        }
    }

    async fn import(&self, id: &str, _ctx: &OpContext) -> Result<Value, ProviderError> {
        let parts: Vec<&str> = id.split('/').collect();
        if parts.len() < 3 || parts.len() > 5 || parts.iter().take(3).any(|p| p.is_empty()) {
            return Err(ProviderError::permanent(format!(
                "invalid import ID {id:?}: use <database>/<role>/<object_type>[/<schema>[/<object>,<object>…]]"
            )));
        }
        let mut fields = vec![
            ("database", Value::string(parts[0])),
            ("role", Value::string(parts[1])),
            ("object_type", Value::string(parts[2])),
            ("privileges", Value::set(Vec::new())),
        ];
        if let Some(schema) = parts.get(3) {
            fields.push(("schema", Value::string(*schema)));
        }
        if let Some(objects) = parts.get(4) {
            fields.push(("objects", Value::set(objects.split(',').map(Value::string).collect())));
        }
        let s = Spec::from_value(&Value::map(fields))?;
        match self.held(&s, &BTreeSet::new()).await? {
            Some((p, g)) => Ok(s.value(&p, g)),
            None => {
                Err(ProviderError::not_found(format!("nothing to import at {id:?} (database, schema or role missing)")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;

    fn planned(entries: &[(&str, Value)]) -> Value {
        let mut v = obj(&[("with_grant_option", Value::Bool(false)), ("id", Value::Unknown)]);
        for (k, x) in entries {
            diff::set(&mut v, k, x.clone());
        }
        v
    }

    #[tokio::test]
    async fn table_grants_lifecycle_drift_and_import() {
        let server = PgServer::start();
        server.create_database("acme");
        server.psql("postgres", "CREATE ROLE app LOGIN PASSWORD 'pw'");
        server.psql(
            "acme",
            "CREATE TABLE public.orders (id int); CREATE TABLE public.items (id int); CREATE SEQUENCE public.s",
        );
        let g = Grant { cfg: config(&server) };
        let c = ctx("tenant.acme.postgres_grant.tables");
        let p = planned(&[
            ("database", s("acme")),
            ("role", s("app")),
            ("schema", s("public")),
            ("object_type", s("table")),
            ("privileges", strs(&["select", "INSERT"])),
        ]);
        let p = g.plan(PlanRequest { prior: None, config: p.clone(), proposed: p }).await.unwrap().planned;
        assert_eq!(p.get("privileges"), Some(&strs(&["INSERT", "SELECT"])));
        let v = g.create(&p, &c).await.unwrap();
        assert_eq!(v.get("id"), Some(&s("app_acme_public_table")));
        let has =
            |t: &str, p: &str| server.psql("acme", &format!("SELECT has_table_privilege('app', 'public.{t}', '{p}')"));
        assert_eq!(
            (has("orders", "SELECT"), has("items", "INSERT"), has("items", "DELETE")),
            ("t".into(), "t".into(), "f".into())
        );
        assert_eq!(g.read(&v, &c).await.unwrap(), Some(v.clone()));

        // Drift: a privilege revoked by hand on one table.
        server.psql("acme", "REVOKE INSERT ON public.items FROM app");
        let drifted = g.read(&v, &c).await.unwrap().unwrap();
        assert_eq!(drifted.get("privileges"), Some(&strs(&["SELECT"])));
        // Update: back, plus DELETE; then narrower.
        let mut next = v.clone();
        diff::set(&mut next, "privileges", strs(&["SELECT", "INSERT", "DELETE"]));
        let v2 = g.update(&drifted, &next, &c).await.unwrap();
        assert_eq!(g.read(&v2, &c).await.unwrap(), Some(v2.clone()));
        assert_eq!(has("items", "DELETE"), "t");
        let mut narrow = v2.clone();
        diff::set(&mut narrow, "privileges", strs(&["SELECT"]));
        let v3 = g.update(&v2, &narrow, &c).await.unwrap();
        assert_eq!(
            (has("items", "DELETE"), has("orders", "INSERT")),
            ("f".into(), "f".into()),
            "removed privileges are revoked"
        );

        let imported = g.import("acme/app/table/public", &c).await.unwrap();
        assert_eq!(imported.get("privileges"), Some(&strs(&["SELECT"])));
        assert_eq!(imported.get("id"), v3.get("id"));

        g.delete(&v3, &c).await.unwrap();
        assert_eq!(has("orders", "SELECT"), "f");
        server.psql("postgres", "DROP DATABASE acme WITH (FORCE)");
        assert_eq!(g.read(&v3, &c).await.unwrap(), None, "gone with its database");
        g.delete(&v3, &c).await.expect("deleting what is gone is success");
    }

    #[tokio::test]
    async fn database_schema_sequence_and_function_grants() {
        let server = PgServer::start();
        server.create_database("acme");
        server.psql("postgres", "CREATE ROLE app");
        server.psql(
            "acme",
            "CREATE SCHEMA app; CREATE SEQUENCE app.ids; CREATE FUNCTION app.f(int) RETURNS int LANGUAGE sql AS 'SELECT 1';
             CREATE FUNCTION app.f(text) RETURNS int LANGUAGE sql AS 'SELECT 2'; REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA app FROM PUBLIC",
        );
        let g = Grant { cfg: config(&server) };
        let c = ctx("postgres_grant.x");
        let db = g
            .create(
                &planned(&[
                    ("database", s("acme")),
                    ("role", s("app")),
                    ("object_type", s("database")),
                    ("privileges", strs(&["CONNECT", "TEMPORARY"])),
                ]),
                &c,
            )
            .await
            .unwrap();
        assert_eq!(g.read(&db, &c).await.unwrap(), Some(db.clone()));
        server.psql("postgres", "REVOKE CONNECT ON DATABASE acme FROM app");
        assert_eq!(g.read(&db, &c).await.unwrap().unwrap().get("privileges"), Some(&strs(&["TEMPORARY"])));

        let sch = g
            .create(
                &planned(&[
                    ("database", s("acme")),
                    ("role", s("app")),
                    ("schema", s("app")),
                    ("object_type", s("schema")),
                    ("privileges", strs(&["USAGE"])),
                ]),
                &c,
            )
            .await
            .unwrap();
        assert_eq!(server.psql("acme", "SELECT has_schema_privilege('app', 'app', 'USAGE')"), "t");
        assert_eq!(g.read(&sch, &c).await.unwrap(), Some(sch.clone()));

        let seq = g
            .create(
                &planned(&[
                    ("database", s("acme")),
                    ("role", s("app")),
                    ("schema", s("app")),
                    ("object_type", s("sequence")),
                    ("objects", strs(&["ids"])),
                    ("privileges", strs(&["USAGE", "SELECT"])),
                    ("with_grant_option", Value::Bool(true)),
                ]),
                &c,
            )
            .await
            .unwrap();
        assert_eq!(g.read(&seq, &c).await.unwrap(), Some(seq.clone()));
        assert_eq!(seq.get("with_grant_option"), Some(&Value::Bool(true)));

        let func = g
            .create(
                &planned(&[
                    ("database", s("acme")),
                    ("role", s("app")),
                    ("schema", s("app")),
                    ("object_type", s("function")),
                    ("objects", strs(&["f"])),
                    ("privileges", strs(&["EXECUTE"])),
                ]),
                &c,
            )
            .await
            .unwrap();
        assert_eq!(
            server.psql("acme", "SELECT has_function_privilege('app', 'app.f(text)', 'EXECUTE')"),
            "t",
            "every overload"
        );
        assert_eq!(g.read(&func, &c).await.unwrap(), Some(func.clone()));

        let e = g
            .create(
                &planned(&[
                    ("database", s("acme")),
                    ("role", s("nobody")),
                    ("object_type", s("database")),
                    ("privileges", strs(&["CONNECT"])),
                ]),
                &c,
            )
            .await
            .unwrap_err();
        assert!(e.summary.contains("role \"nobody\" does not exist"), "{e}");
        for v in [func, seq, sch, db] {
            g.delete(&v, &c).await.unwrap();
        }
        assert_eq!(server.psql("acme", "SELECT has_schema_privilege('app', 'app', 'USAGE')"), "f");
    }
}

//! `postgres_role`: a role (a user when `login = true`), with cyrilgdn/postgresql's attribute
//! names.
//!
//! - Everything updates in place, `name` too (`ALTER ROLE … RENAME TO`).
//! - The password is sent as a SCRAM-SHA-256 verifier computed here (see [`super::scram`]),
//!   so it never appears in clear in the server's statement log.
//! - **Drift of the password** (changed by hand with `ALTER ROLE … PASSWORD`): `read`
//!   compares the verifier the server stores (`pg_authid.rolpassword`) with the configured
//!   password — recomputing the SCRAM StoredKey with the stored salt and iteration count, or
//!   the md5 hash. This works for roles without LOGIN, does not depend on `pg_hba.conf`, and
//!   makes no login attempts (which would show up as failed logins, count against
//!   `connection_limit`, and prove nothing under `trust` authentication). `pg_authid` is
//!   readable by superusers only; when the provider's user cannot read it, `read` falls back
//!   to logging in as the role with the configured password (LOGIN roles only): a rejected
//!   password (SQLSTATE 28P01) is drift, anything else is "cannot tell" and keeps the state.
//!   A drifted password reads back as null, so the plan shows an in-place update that sets it
//!   again.
//! - `roles` lists the roles it is a member of: missing memberships are granted and unlisted
//!   ones revoked (a membership added by hand is drift); unset, memberships are left alone.
//! - Delete is `DROP ROLE`; a role that still owns objects or holds privileges is refused by
//!   the server, and the error names them (destroy or reassign them first). Deleting a role
//!   that is already gone is success.
//!
//! Import ID: the role name (`tenantform import tenant.acme.postgres_role.app acme_app`). The
//! password cannot be read back: after an import it is taken from the configuration.

use std::sync::Arc;

use async_trait::async_trait;
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, ErrorKind, OpContext, PlanRequest, PlanResponse, ProviderError, ResourceSchema,
    ResourceType, Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use super::{code_of, db_error, ident, ident_attr, import_help, literal, scram, validate_ident, PgConfig};
use crate::support::attrs::{path, val_opt_str, Attrs};
use crate::support::diff;

pub fn schema() -> ResourceSchema {
    let flag = |d: &str| AttributeSchema::optional(Type::Bool).default(Value::Bool(false)).describe(d);
    let schema = Schema::new()
        .describe("A PostgreSQL role; with login = true, a user that can connect.")
        .attr("name", AttributeSchema::required(Type::String).describe("Name of the role (at most 63 bytes). Changing it renames the role in place."))
        .attr("login", flag("Whether the role may log in (LOGIN). Default false."))
        .attr(
            "password",
            AttributeSchema::optional(Type::String)
                .sensitive()
                .from_config_on_import()
                .describe("Password of the role, stored by the server as a SCRAM-SHA-256 verifier computed by tenantform (never sent in clear). A password changed by hand shows as drift."),
        )
        .attr("superuser", flag("SUPERUSER. Default false."))
        .attr("create_database", flag("CREATEDB: may create databases. Default false."))
        .attr("create_role", flag("CREATEROLE: may create, alter and drop roles. Default false."))
        .attr("inherit", AttributeSchema::optional(Type::Bool).default(Value::Bool(true)).describe("INHERIT: uses the privileges of roles it is a member of. Default true."))
        .attr("replication", flag("REPLICATION. Default false."))
        .attr("bypass_row_level_security", flag("BYPASSRLS. Default false."))
        .attr("connection_limit", AttributeSchema::optional(Type::Number).default(Value::number(-1)).describe("Most concurrent connections of the role; -1 (default) means no limit."))
        .attr("valid_until", AttributeSchema::optional(Type::String).default(Value::string("infinity")).describe("Timestamp after which the password stops working, e.g. \"2030-01-01 00:00:00+00\". Default \"infinity\"."))
        .attr(
            "roles",
            AttributeSchema::optional(Type::Set(Box::new(Type::String)))
                .describe("Roles this role is a member of (GRANT <role> TO <name>). Memberships not listed are revoked; unset leaves memberships alone."),
        )
        .attr("id", AttributeSchema::computed(Type::String).describe("The role name."));
    ResourceSchema { schema, version: 0, import_id: "<role name>".into() }
}

pub struct Role {
    pub cfg: Arc<PgConfig>,
}

/// The role's settings as configured.
struct Spec {
    name: String,
    login: bool,
    password: Option<String>,
    superuser: bool,
    create_database: bool,
    create_role: bool,
    inherit: bool,
    replication: bool,
    bypass_rls: bool,
    connection_limit: i64,
    valid_until: String,
    /// Memberships to converge to; `None` leaves them alone.
    roles: Option<Vec<String>>,
}

impl Spec {
    fn from_value(v: &Value) -> Result<Spec, ProviderError> {
        let a = Attrs::new(v);
        Ok(Spec {
            name: ident_attr(v, "name")?.to_string(),
            login: a.bool_or("login", false)?,
            password: a.opt_str("password")?.map(str::to_string),
            superuser: a.bool_or("superuser", false)?,
            create_database: a.bool_or("create_database", false)?,
            create_role: a.bool_or("create_role", false)?,
            inherit: a.bool_or("inherit", true)?,
            replication: a.bool_or("replication", false)?,
            bypass_rls: a.bool_or("bypass_row_level_security", false)?,
            connection_limit: a.i64_or("connection_limit", -1)?,
            valid_until: a.str_or("valid_until", "infinity")?.to_string(),
            roles: a.opt_string_list("roles")?,
        })
    }

    /// The role options clause (everything but the password).
    fn options(&self) -> String {
        let f = |on: bool, yes: &str, no: &str| if on { yes.to_string() } else { no.to_string() };
        [
            f(self.login, "LOGIN", "NOLOGIN"),
            f(self.superuser, "SUPERUSER", "NOSUPERUSER"),
            f(self.create_database, "CREATEDB", "NOCREATEDB"),
            f(self.create_role, "CREATEROLE", "NOCREATEROLE"),
            f(self.inherit, "INHERIT", "NOINHERIT"),
            f(self.replication, "REPLICATION", "NOREPLICATION"),
            f(self.bypass_rls, "BYPASSRLS", "NOBYPASSRLS"),
            format!("CONNECTION LIMIT {}", self.connection_limit),
            format!("VALID UNTIL {}", literal(&self.valid_until)),
        ]
        .join(" ")
    }

    fn password_clause(&self) -> String {
        match &self.password {
            Some(p) => format!("PASSWORD {}", literal(&scram::scram_verifier(p))),
            None => "PASSWORD NULL".into(),
        }
    }
}

/// What the server says about a role.
struct Found {
    value: Value,
}

impl Role {
    /// Reads the role `name`; `prior_password`/`prior_valid_until` are what state (or the
    /// configuration) holds, to detect drift against.
    async fn read_role(
        &self,
        name: &str,
        prior_password: Option<&str>,
        prior_valid_until: Option<&str>,
        track_roles: bool,
    ) -> Result<Option<Found>, ProviderError> {
        let c = self.cfg.connect(None).await?;
        let row = c
            .query_opt(
                "SELECT rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolinherit, rolreplication,
                        rolbypassrls, rolconnlimit, rolvaliduntil IS NULL OR rolvaliduntil = 'infinity',
                        CASE WHEN $2::text IS NULL THEN NULL
                             ELSE coalesce(rolvaliduntil, 'infinity') = $2::text::timestamptz END,
                        rolvaliduntil::text
                 FROM pg_catalog.pg_roles WHERE rolname = $1",
                &[&name, &prior_valid_until],
            )
            .await
            .map_err(|e| db_error(&e, &format!("cannot read role {name:?}")))?;
        let Some(row) = row else { return Ok(None) };
        let login: bool = row.get(1);
        let infinite: bool = row.get(9);
        let same_as_prior: Option<bool> = row.get(10);
        let valid_until = match (same_as_prior, prior_valid_until) {
            (Some(true), Some(p)) => p.to_string(),
            _ if infinite => "infinity".to_string(),
            _ => row.get::<_, Option<String>>(11).unwrap_or_else(|| "infinity".into()),
        };
        let roles: Vec<String> = c
            .query(
                "SELECT g.rolname::text FROM pg_catalog.pg_auth_members m
                 JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                 JOIN pg_catalog.pg_roles r ON r.oid = m.member
                 WHERE r.rolname = $1 ORDER BY 1",
                &[&name],
            )
            .await
            .map_err(|e| db_error(&e, &format!("cannot read the memberships of role {name:?}")))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let password = match prior_password {
            None => None,
            Some(p) => match self.password_matches(&c, name, p, login).await? {
                Some(false) => None,
                _ => Some(p.to_string()),
            },
        };
        let value = Value::map([
            ("id", Value::string(name)),
            ("name", Value::string(name)),
            ("login", Value::Bool(login)),
            ("password", val_opt_str(password.as_deref())),
            ("superuser", Value::Bool(row.get(2))),
            ("create_database", Value::Bool(row.get(3))),
            ("create_role", Value::Bool(row.get(4))),
            ("inherit", Value::Bool(row.get(5))),
            ("replication", Value::Bool(row.get(6))),
            ("bypass_row_level_security", Value::Bool(row.get(7))),
            ("connection_limit", Value::number(row.get::<_, i32>(8))),
            ("valid_until", Value::string(valid_until)),
            (
                "roles",
                if track_roles {
                    Value::set(roles.iter().map(|r| Value::string(r.as_str())).collect())
                } else {
                    Value::Null
                },
            ),
        ]);
        Ok(Some(Found { value }))
    }

    /// Whether the server's password for `role` is `password`; `None` when it cannot tell.
    async fn password_matches(
        &self,
        c: &tokio_postgres::Client,
        role: &str,
        password: &str,
        login: bool,
    ) -> Result<Option<bool>, ProviderError> {
        match c.query_opt("SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = $1", &[&role]).await {
            Ok(Some(row)) => {
                let stored: Option<String> = row.get(0);
                let Some(stored) = stored else { return Ok(Some(false)) };
                match scram::verifies(&stored, role, password) {
                    Some(true) => return Ok(Some(true)),
                    Some(false) if password.is_ascii() => return Ok(Some(false)),
                    // A non-ASCII password is SASLprep-normalised by the server: ask it.
                    _ => {}
                }
            }
            Ok(None) => return Ok(None),
            Err(e) if code_of(&e) == Some("42501") => {}
            Err(e) => return Err(db_error(&e, &format!("cannot read the password of role {role:?}"))),
        }
        if !login {
            return Ok(None);
        }
        let mut config = self.cfg.driver_config(None);
        config.user(role).password(password);
        match tenantform_pgconn::connect(&config, &self.cfg.tls).await {
            Ok((client, conn)) => {
                drop(client);
                let _ = conn.await;
                Ok(Some(true))
            }
            Err(tenantform_pgconn::ConnectError::Postgres(e)) if code_of(&e) == Some("28P01") => Ok(Some(false)),
            Err(_) => Ok(None),
        }
    }

    /// GRANTs the missing memberships and REVOKEs the unlisted ones.
    async fn converge_memberships(
        &self,
        c: &tokio_postgres::Client,
        name: &str,
        want: &[String],
    ) -> Result<(), ProviderError> {
        let have: Vec<String> = c
            .query(
                "SELECT g.rolname::text FROM pg_catalog.pg_auth_members m
                 JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                 JOIN pg_catalog.pg_roles r ON r.oid = m.member WHERE r.rolname = $1",
                &[&name],
            )
            .await
            .map_err(|e| db_error(&e, &format!("cannot read the memberships of role {name:?}")))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut sql = Vec::new();
        for g in want.iter().filter(|g| !have.contains(g)) {
            sql.push(format!("GRANT {} TO {}", ident(g), ident(name)));
        }
        for g in have.iter().filter(|g| !want.contains(g)) {
            sql.push(format!("REVOKE {} FROM {}", ident(g), ident(name)));
        }
        if sql.is_empty() {
            return Ok(());
        }
        c.batch_execute(&sql.join(";\n"))
            .await
            .map_err(|e| db_error(&e, &format!("cannot change the memberships of role {name:?}")))
    }

    async fn apply_spec(&self, s: &Spec, create: bool, ctx: &OpContext) -> Result<(), ProviderError> {
        let c = self.cfg.connect(None).await?;
        let sql = if create {
            format!("CREATE ROLE {} WITH {} {}", ident(&s.name), s.options(), s.password_clause())
        } else {
            format!("ALTER ROLE {} WITH {} {}", ident(&s.name), s.options(), s.password_clause())
        };
        let result = c.batch_execute(&sql).await;
        if result.is_ok() {
            if let Some(want) = &s.roles {
                self.converge_memberships(&c, &s.name, want).await?;
            }
        }
        result.map_err(|e| {
            if create && code_of(&e) == Some("42710") {
                ProviderError::permanent(format!("role {:?} already exists", s.name))
                    .with_help(import_help(ctx, &s.name))
            } else {
                db_error(&e, &format!("cannot {} role {:?}", if create { "create" } else { "alter" }, s.name))
            }
        })
    }
}

#[async_trait]
impl ResourceType for Role {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        let mut out = validate_ident(config, "name");
        if let Some(n) = config.get("connection_limit").and_then(Value::as_f64) {
            if n < -1.0 || n.fract() != 0.0 {
                out.push(ConfigProblem {
                    path: path("connection_limit"),
                    message: "connection_limit must be a whole number, -1 (no limit) or more".into(),
                });
            }
        }
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
        let s = Spec::from_value(planned)?;
        self.apply_spec(&s, true, ctx).await?;
        self.read_role(&s.name, s.password.as_deref(), Some(&s.valid_until), s.roles.is_some())
            .await?
            .map(|f| f.value)
            .ok_or_else(|| ProviderError::transient(format!("role {:?} vanished right after it was created", s.name)))
    }

    async fn read(&self, current: &Value, _ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        let a = Attrs::new(current);
        let name = a.str("name")?;
        let track_roles = a.get("roles")?.is_some();
        Ok(self.read_role(name, a.opt_str("password")?, a.opt_str("valid_until")?, track_roles).await?.map(|f| f.value))
    }

    async fn update(&self, prior: &Value, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let s = Spec::from_value(planned)?;
        let old = Attrs::new(prior).str("name")?;
        if old != s.name {
            let c = self.cfg.connect(None).await?;
            c.batch_execute(&format!("ALTER ROLE {} RENAME TO {}", ident(old), ident(&s.name))).await.map_err(|e| {
                if code_of(&e) == Some("42710") {
                    ProviderError::permanent(format!("cannot rename role {old:?}: role {:?} already exists", s.name))
                } else {
                    db_error(&e, &format!("cannot rename role {old:?} to {:?}", s.name))
                }
            })?;
        }
        self.apply_spec(&s, false, ctx).await?;
        self.read_role(&s.name, s.password.as_deref(), Some(&s.valid_until), s.roles.is_some())
            .await?
            .map(|f| f.value)
            .ok_or_else(|| ProviderError::transient(format!("role {:?} vanished during the update", s.name)))
    }

    async fn delete(&self, current: &Value, _ctx: &OpContext) -> Result<(), ProviderError> {
        let name = Attrs::new(current).str("name")?;
        let c = self.cfg.connect(None).await?;
        c.batch_execute(&format!("DROP ROLE IF EXISTS {}", ident(name))).await.map_err(|e| {
            let mut err = db_error(&e, &format!("cannot drop role {name:?}"));
            if code_of(&e) == Some("2BP01") {
                err = err.with_help(format!(
                    "the role still owns objects or holds privileges (listed above); destroy the resources that use it \
                     first, or run REASSIGN OWNED BY {0} TO …; DROP OWNED BY {0}; in each database",
                    ident(name)
                ));
            }
            err
        })
    }

    async fn import(&self, id: &str, _ctx: &OpContext) -> Result<Value, ProviderError> {
        match self.read_role(id, None, None, true).await? {
            Some(f) => Ok(f.value),
            None => Err(ProviderError::new(ErrorKind::NotFound, format!("role {id:?} does not exist"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use tokio_postgres::NoTls;

    fn role(server: &PgServer) -> Role {
        Role { cfg: config(server) }
    }

    fn planned(name: &str, password: &str) -> Value {
        obj(&[
            ("name", s(name)),
            ("login", Value::Bool(true)),
            ("password", s(password)),
            ("superuser", Value::Bool(false)),
            ("create_database", Value::Bool(false)),
            ("create_role", Value::Bool(false)),
            ("inherit", Value::Bool(true)),
            ("replication", Value::Bool(false)),
            ("bypass_row_level_security", Value::Bool(false)),
            ("connection_limit", Value::number(-1)),
            ("valid_until", s("infinity")),
            ("id", Value::Unknown),
        ])
    }

    #[tokio::test]
    async fn lifecycle_with_rename_import_and_clear_errors() {
        let server = PgServer::start();
        let r = role(&server);
        let c = ctx("tenant.acme.postgres_role.app");
        let v = r.create(&planned("acme_app", "pw-1"), &c).await.unwrap();
        assert_eq!(v.get("id"), Some(&s("acme_app")));
        assert_eq!(v.get("password"), Some(&s("pw-1")));
        let stored = server.psql("postgres", "SELECT rolpassword FROM pg_authid WHERE rolname = 'acme_app'");
        assert!(stored.starts_with("SCRAM-SHA-256$4096:"), "sent as a verifier: {stored}");
        // The password really works for logging in.
        let (client, conn) =
            tokio_postgres::connect(&server.url_as("acme_app", "pw-1", "postgres"), NoTls).await.unwrap();
        tokio::spawn(conn);
        assert_eq!(client.query_one("SELECT current_user::text", &[]).await.unwrap().get::<_, String>(0), "acme_app");
        drop(client);
        assert_eq!(r.read(&v, &c).await.unwrap(), Some(v.clone()));

        // Update: flags, limit, expiry, rename.
        let mut next = planned("acme_app2", "pw-1");
        diff::set(&mut next, "create_database", Value::Bool(true));
        diff::set(&mut next, "connection_limit", Value::number(5));
        diff::set(&mut next, "valid_until", s("2040-01-01 00:00:00+00"));
        let v2 = r.update(&v, &next, &c).await.unwrap();
        assert_eq!(v2.get("name"), Some(&s("acme_app2")));
        assert_eq!(v2.get("create_database"), Some(&Value::Bool(true)));
        assert_eq!(v2.get("connection_limit"), Some(&Value::number(5)));
        assert_eq!(v2.get("valid_until"), Some(&s("2040-01-01 00:00:00+00")), "the configured spelling is kept");
        assert_eq!(r.read(&v2, &c).await.unwrap(), Some(v2.clone()));
        assert_eq!(server.psql("postgres", "SELECT count(*) FROM pg_roles WHERE rolname = 'acme_app'"), "0");

        // Memberships: granted, drift when changed by hand, revoked when unlisted.
        server.psql("postgres", "CREATE ROLE readers; CREATE ROLE writers");
        let mut member = v2.clone();
        diff::set(&mut member, "roles", strs(&["readers"]));
        let v2 = r.update(&v2, &member, &c).await.unwrap();
        assert_eq!(v2.get("roles"), Some(&strs(&["readers"])));
        server.psql("postgres", "GRANT writers TO acme_app2");
        assert_eq!(r.read(&v2, &c).await.unwrap().unwrap().get("roles"), Some(&strs(&["readers", "writers"])));
        let v2 = r.update(&v2, &member, &c).await.unwrap();
        assert_eq!(
            server.psql("postgres", "SELECT count(*) FROM pg_auth_members WHERE member = 'acme_app2'::regrole"),
            "1"
        );

        // Import by name: everything but the password.
        let imported = r.import("acme_app2", &c).await.unwrap();
        assert_eq!(imported.get("connection_limit"), Some(&Value::number(5)));
        assert_eq!(imported.get("password"), Some(&Value::Null));
        assert_eq!(r.import("nobody", &c).await.unwrap_err().kind, ErrorKind::NotFound);

        // Creating a role that exists says how to import it.
        let e = r.create(&planned("acme_app2", "x"), &c).await.unwrap_err();
        assert!(e.summary.contains("role \"acme_app2\" already exists"), "{e}");
        assert!(e.help.unwrap().contains("tenantform import tenant.acme.postgres_role.app acme_app2"));

        // A role that owns something cannot be dropped: the error says why and what to do.
        server.psql("postgres", "CREATE TABLE owned (x int); ALTER TABLE owned OWNER TO acme_app2");
        let e = r.delete(&v2, &c).await.unwrap_err();
        assert!(e.summary.contains("cannot drop role") && e.help.unwrap().contains("REASSIGN OWNED"), "{}", e.summary);
        server.psql("postgres", "DROP TABLE owned");
        r.delete(&v2, &c).await.unwrap();
        assert_eq!(r.read(&v2, &c).await.unwrap(), None);
        r.delete(&v2, &c).await.expect("deleting what is gone is success");
    }

    #[tokio::test]
    async fn a_password_changed_by_hand_is_drift() {
        let server = PgServer::start();
        let r = role(&server);
        let c = ctx("postgres_role.app");
        let v = r.create(&planned("app", "right"), &c).await.unwrap();
        // The server's own SCRAM verifier for the same password is recognised too.
        server.psql("postgres", "ALTER ROLE app PASSWORD 'right'");
        assert_eq!(r.read(&v, &c).await.unwrap().unwrap().get("password"), Some(&s("right")));
        server.psql("postgres", "ALTER ROLE app PASSWORD 'changed-by-hand'");
        let drifted = r.read(&v, &c).await.unwrap().unwrap();
        assert_eq!(drifted.get("password"), Some(&Value::Null), "drift shows as a missing password");
        // md5 verifiers are checked too.
        server.psql("postgres", &format!("ALTER ROLE app PASSWORD '{}'", scram::md5_verifier("right", "app")));
        assert_eq!(r.read(&v, &c).await.unwrap().unwrap().get("password"), Some(&s("right")));
        // Updating sets it again.
        let fixed = r.update(&drifted, &v, &c).await.unwrap();
        assert_eq!(fixed.get("password"), Some(&s("right")));

        // Without pg_authid access the provider logs in as the role instead.
        server.psql("postgres", "CREATE ROLE admin LOGIN CREATEROLE PASSWORD 'admin'");
        server.psql("postgres", "GRANT app TO admin WITH ADMIN OPTION");
        let limited = Role {
            cfg: Arc::new(
                PgConfig::from_value(
                    &obj(&[("url", s(&server.url_as("admin", "admin", "postgres"))), ("sslmode", s("disable"))]),
                    &|_| None,
                )
                .unwrap(),
            ),
        };
        assert_eq!(limited.read(&v, &c).await.unwrap().unwrap().get("password"), Some(&s("right")));
        server.psql("postgres", "ALTER ROLE app PASSWORD 'again-by-hand'");
        assert_eq!(limited.read(&v, &c).await.unwrap().unwrap().get("password"), Some(&Value::Null));
    }

    #[tokio::test]
    async fn names_cannot_inject_sql() {
        let server = PgServer::start();
        let r = role(&server);
        let evil = "x\"; DROP ROLE postgres; --";
        let v = r.create(&planned(evil, "it's a \\ pass"), &ctx("postgres_role.x")).await.unwrap();
        assert_eq!(v.get("name"), Some(&s(evil)));
        assert_eq!(server.psql("postgres", "SELECT count(*) FROM pg_roles WHERE rolname = 'postgres'"), "1");
        let (client, conn) = tokio_postgres::Config::new()
            .host("127.0.0.1")
            .port(server.port())
            .user(evil)
            .password("it's a \\ pass")
            .dbname("postgres")
            .connect(NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        drop(client);
        r.delete(&v, &ctx("postgres_role.x")).await.unwrap();
    }
}

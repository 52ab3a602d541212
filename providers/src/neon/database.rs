//! `neon_database`: a Postgres database on a Neon branch.
//!
//! - `project_id`, `branch_id` and `name` are force-new; `owner_name` changes in place.
//! - Create is idempotent by name: a 409 adopts the database when its owner is the one
//!   configured, and fails naming the actual owner otherwise.
//! - `read` reports a changed owner as drift.
//! - An interrupted create is recovered by name: the database of that name is adopted when
//!   its owner is the configured one.
//!
//! Import ID: `<project_id>/<branch_id>/<database_name>`; `id` has the same form.

use async_trait::async_trait;
use serde_json::{json, Value as Json};
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, OpContext, ProviderError, Recovery, ResourceSchema, ResourceType, Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use super::{found, jstr, segment, split_id, Neon, DEFAULT_TIMEOUT};
use crate::http::ApiRequest;
use crate::support::attrs::Attrs;
use crate::support::{diff, timeouts};

pub fn schema() -> ResourceSchema {
    let schema = Schema::new()
        .describe("A Postgres database on a Neon branch.")
        .attr("project_id", AttributeSchema::required(Type::String).force_new().describe("Project ID."))
        .attr("branch_id", AttributeSchema::required(Type::String).force_new().describe("Branch ID."))
        .attr("name", AttributeSchema::required(Type::String).force_new().describe("Database name."))
        .attr(
            "owner_name",
            AttributeSchema::required(Type::String).describe("Role owning the database (changes in place)."),
        )
        .attr("id", AttributeSchema::computed(Type::String).describe("<project_id>/<branch_id>/<name>."))
        .block("timeouts", timeouts::block(&["create", "update", "delete"]));
    ResourceSchema { schema, version: 0, import_id: "<project_id>/<branch_id>/<database_name>".into() }
}

pub struct Database(pub Neon);

impl Database {
    fn state(&self, project: &str, branch: &str, d: &Json, prior: &Value) -> Value {
        let name = d["name"].as_str().unwrap_or_default();
        Value::map([
            ("id", Value::string(format!("{project}/{branch}/{name}"))),
            ("project_id", Value::string(project)),
            ("branch_id", Value::string(branch)),
            ("name", Value::string(name)),
            ("owner_name", jstr(d, "owner_name")),
            ("timeouts", Attrs::new(prior).raw("timeouts")),
        ])
    }

    fn base(project: &str, branch: &str, name: &str) -> String {
        format!("/projects/{project}/branches/{branch}/databases/{name}")
    }

    async fn get(&self, ctx: &OpContext, project: &str, branch: &str, name: &str) -> Result<Json, ProviderError> {
        let j: Json = self.0.client.json(ctx, ApiRequest::get(Self::base(project, branch, name))).await?;
        Ok(j["database"].clone())
    }
}

#[async_trait]
impl ResourceType for Database {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        timeouts::validate(config)
    }

    async fn create(&self, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let project = segment(planned, "project_id")?;
        let branch = segment(planned, "branch_id")?;
        let name = segment(planned, "name")?;
        let owner = Attrs::new(planned).str("owner_name")?;
        let timeout = timeouts::for_op(planned, "create", ctx, DEFAULT_TIMEOUT)?;
        let req = ApiRequest::post(format!("/projects/{project}/branches/{branch}/databases"))
            .json(json!({"database": {"name": name, "owner_name": owner}}))
            .idempotent(true);
        match self.0.client.send(ctx, req).await {
            Ok(resp) => {
                let j = resp.json_value()?;
                self.0.wait_operations(ctx, project, j.get("operations"), timeout).await?;
                Ok(self.state(project, branch, &j["database"], planned))
            }
            Err(e) if e.is_status(409) => {
                let d = self.get(ctx, project, branch, name).await?;
                if d["owner_name"] != owner {
                    return Err(ProviderError::permanent(format!(
                        "database {name:?} already exists on branch {branch} owned by {} (configured owner {owner:?})",
                        d["owner_name"]
                    ))
                    .with_help(format!("import it with `tenantform import <address> {project}/{branch}/{name}`")));
                }
                tracing::info!(target: crate::http::LOG_TARGET, database = %name, "adopting the existing database (an earlier create succeeded)");
                Ok(self.state(project, branch, &d, planned))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn recover(&self, planned: &Value, ctx: &OpContext) -> Result<Recovery, ProviderError> {
        let project = segment(planned, "project_id")?;
        let branch = segment(planned, "branch_id")?;
        let name = segment(planned, "name")?;
        let owner = Attrs::new(planned).str("owner_name")?;
        let Some(d) = found(self.get(ctx, project, branch, name).await)? else { return Ok(Recovery::NotMade) };
        if d["owner_name"] != owner {
            return Ok(Recovery::Unknown {
                reason: format!(
                    "database {name:?} exists on branch {branch} owned by {} (configured owner {owner:?}); import it \
                     with `tenantform import <address> {project}/{branch}/{name}` if the interrupted create made it",
                    d["owner_name"]
                ),
            });
        }
        Ok(Recovery::Found(self.state(project, branch, &d, planned)))
    }

    async fn read(&self, current: &Value, ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        let project = segment(current, "project_id")?;
        let branch = segment(current, "branch_id")?;
        let name = segment(current, "name")?;
        Ok(found(self.get(ctx, project, branch, name).await)?.map(|d| self.state(project, branch, &d, current)))
    }

    async fn update(&self, prior: &Value, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let project = segment(prior, "project_id")?;
        let branch = segment(prior, "branch_id")?;
        let name = segment(prior, "name")?;
        if diff::changed(prior, planned, "owner_name") {
            let owner = Attrs::new(planned).str("owner_name")?;
            let timeout = timeouts::for_op(planned, "update", ctx, DEFAULT_TIMEOUT)?;
            let req =
                ApiRequest::patch(Self::base(project, branch, name)).json(json!({"database": {"owner_name": owner}}));
            let j = self.0.client.send(ctx, req.idempotent(true)).await?.json_value()?;
            self.0.wait_operations(ctx, project, j.get("operations"), timeout).await?;
        }
        Ok(self.state(project, branch, &self.get(ctx, project, branch, name).await?, planned))
    }

    async fn delete(&self, current: &Value, ctx: &OpContext) -> Result<(), ProviderError> {
        let project = segment(current, "project_id")?;
        let branch = segment(current, "branch_id")?;
        let name = segment(current, "name")?;
        let timeout = timeouts::for_op(current, "delete", ctx, DEFAULT_TIMEOUT)?;
        match self.0.client.send(ctx, ApiRequest::delete(Self::base(project, branch, name))).await {
            Ok(resp) if resp.status == 204 => Ok(()),
            Ok(resp) => {
                let j = resp.json_value()?;
                self.0.wait_operations(ctx, project, j.get("operations"), timeout).await
            }
            Err(e) if e.is_status(404) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn import(&self, id: &str, ctx: &OpContext) -> Result<Value, ProviderError> {
        let p = split_id(id, 3, "<project_id>/<branch_id>/<database_name>")?;
        Ok(self.state(p[0], p[1], &self.get(ctx, p[0], p[1], p[2]).await?, &Value::Null))
    }
}

//! `neon_role`: a Postgres role on a Neon branch, with its password revealed through the API
//! (kept sensitive in state).
//!
//! - Every argument is force-new (a role cannot be renamed or moved).
//! - Create is idempotent by name: a 409 "already exists" adopts the role (its password is
//!   revealed through `reveal_password`).
//! - `read` reveals the password again, so a password reset outside tenantform shows up as
//!   drift; when the project does not store passwords (412) the stored one is kept.
//!
//! Import ID: `<project_id>/<branch_id>/<role_name>`; `id` has the same form.

use async_trait::async_trait;
use serde_json::{json, Value as Json};
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, OpContext, ProviderError, ResourceSchema, ResourceType, Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use super::{found, jbool, segment, split_id, Neon, DEFAULT_TIMEOUT};
use crate::http::ApiRequest;
use crate::support::attrs::Attrs;
use crate::support::timeouts;

pub fn schema() -> ResourceSchema {
    let schema = Schema::new()
        .describe("A Postgres role on a Neon branch.")
        .attr("project_id", AttributeSchema::required(Type::String).force_new().describe("Project ID."))
        .attr("branch_id", AttributeSchema::required(Type::String).force_new().describe("Branch ID."))
        .attr("name", AttributeSchema::required(Type::String).force_new().describe("Role name (at most 63 bytes)."))
        .attr(
            "password",
            AttributeSchema::computed(Type::String).sensitive().describe("The role's password, revealed by the API."),
        )
        .attr("protected", AttributeSchema::computed(Type::Bool).describe("Whether Neon protects the role."))
        .attr("id", AttributeSchema::computed(Type::String).describe("<project_id>/<branch_id>/<name>."))
        .block("timeouts", timeouts::block(&["create", "delete"]));
    ResourceSchema { schema, version: 0, import_id: "<project_id>/<branch_id>/<role_name>".into() }
}

pub struct Role(pub Neon);

impl Role {
    fn state(&self, project: &str, branch: &str, r: &Json, password: Value, prior: &Value) -> Value {
        let name = r["name"].as_str().unwrap_or_default();
        Value::map([
            ("id", Value::string(format!("{project}/{branch}/{name}"))),
            ("project_id", Value::string(project)),
            ("branch_id", Value::string(branch)),
            ("name", Value::string(name)),
            ("password", password),
            ("protected", jbool(r, "protected")),
            ("timeouts", Attrs::new(prior).raw("timeouts")),
        ])
    }

    fn base(project: &str, branch: &str, name: &str) -> String {
        format!("/projects/{project}/branches/{branch}/roles/{name}")
    }

    /// The password, `Ok(None)` when the project does not store passwords (412).
    async fn reveal(
        &self,
        ctx: &OpContext,
        project: &str,
        branch: &str,
        name: &str,
    ) -> Result<Option<String>, ProviderError> {
        let req = ApiRequest::get(format!("{}/reveal_password", Self::base(project, branch, name)));
        match self.0.client.send(ctx, req).await {
            Ok(resp) => Ok(resp.json_value()?["password"].as_str().map(str::to_string)),
            Err(e) if e.is_status(412) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn fetch(
        &self,
        ctx: &OpContext,
        project: &str,
        branch: &str,
        name: &str,
        prior: &Value,
    ) -> Result<Value, ProviderError> {
        let j: Json = self.0.client.json(ctx, ApiRequest::get(Self::base(project, branch, name))).await?;
        let password = match self.reveal(ctx, project, branch, name).await? {
            Some(p) => Value::string(p),
            None => Attrs::new(prior).raw("password"),
        };
        Ok(self.state(project, branch, &j["role"], password, prior))
    }
}

#[async_trait]
impl ResourceType for Role {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        let mut out = timeouts::validate(config);
        if let Some(n) = config.get("name").and_then(Value::as_str) {
            if n.is_empty() || n.len() > 63 {
                out.push(ConfigProblem {
                    path: crate::support::attrs::path("name"),
                    message: "must be 1 to 63 bytes long".into(),
                });
            }
        }
        out
    }

    async fn create(&self, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let project = segment(planned, "project_id")?;
        let branch = segment(planned, "branch_id")?;
        let name = segment(planned, "name")?;
        let timeout = timeouts::for_op(planned, "create", ctx, DEFAULT_TIMEOUT)?;
        let req = ApiRequest::post(format!("/projects/{project}/branches/{branch}/roles"))
            .json(json!({"role": {"name": name}}))
            .idempotent(true);
        match self.0.client.send(ctx, req).await {
            Ok(resp) => {
                let j = resp.json_value()?;
                self.0.wait_operations(ctx, project, j.get("operations"), timeout).await?;
                let password = j["role"]["password"].as_str().map(Value::string).unwrap_or(Value::Null);
                Ok(self.state(project, branch, &j["role"], password, planned))
            }
            Err(e) if e.is_status(409) => {
                tracing::info!(target: crate::http::LOG_TARGET, role = %name, "adopting the existing role (an earlier create succeeded)");
                self.fetch(ctx, project, branch, name, planned).await
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn read(&self, current: &Value, ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        let project = segment(current, "project_id")?;
        let branch = segment(current, "branch_id")?;
        let name = segment(current, "name")?;
        found(self.fetch(ctx, project, branch, name, current).await)
    }

    async fn update(&self, _prior: &Value, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        // Every argument forces replacement; only `timeouts` can change in place.
        let project = segment(planned, "project_id")?;
        let branch = segment(planned, "branch_id")?;
        let name = segment(planned, "name")?;
        self.fetch(ctx, project, branch, name, planned).await
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
        let p = split_id(id, 3, "<project_id>/<branch_id>/<role_name>")?;
        self.fetch(ctx, p[0], p[1], p[2], &Value::Null).await
    }
}

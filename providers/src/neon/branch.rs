//! `neon_branch`: a branch of a Neon project (copy-on-write clone of its parent's data).
//!
//! - `project_id`, `parent_id`, `parent_lsn` and `parent_timestamp` are force-new; `name`
//!   and `protected` change in place (PATCH).
//! - The branch gets no compute: add a `neon_endpoint` (as in `kislerdm/neon`).
//! - Create is idempotent by `name`: a 409 "branch already exists" adopts the branch of that
//!   name when its parent is the one asked for, and fails naming the difference otherwise.
//!   Without a `name` (Neon picks one) a lost create response is not replayed.
//! - `read` reports drift of `name`, `protected` and the parent.
//!
//! Import ID: `<project_id>/<branch_id>`, or a bare `br-…` id (searched in every project the
//! API key can see).

use async_trait::async_trait;
use serde_json::{json, Value as Json};
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, OpContext, ProviderError, ResourceSchema, ResourceType, Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use super::{found, jbool, jnum, jstr, segment, Neon, DEFAULT_TIMEOUT};
use crate::http::ApiRequest;
use crate::support::attrs::{path, Attrs};
use crate::support::{diff, timefmt, timeouts};

pub fn schema() -> ResourceSchema {
    let schema = Schema::new()
        .describe("A Neon branch. Add a `neon_endpoint` to give it a compute.")
        .attr("project_id", AttributeSchema::required(Type::String).force_new().describe("Project ID."))
        .attr(
            "name",
            AttributeSchema::optional_computed(Type::String)
                .describe("Branch name (unique in the project); Neon picks one when unset. Changes in place."),
        )
        .attr(
            "parent_id",
            AttributeSchema::optional_computed(Type::String)
                .force_new()
                .describe("ID of the branch to branch from; the project's default branch when unset."),
        )
        .attr(
            "parent_lsn",
            AttributeSchema::optional_computed(Type::String)
                .force_new()
                .describe("Log Sequence Number horizon of the parent's data in the new branch."),
        )
        .attr(
            "parent_timestamp",
            AttributeSchema::optional(Type::Number)
                .force_new()
                .describe("Timestamp horizon (Unix epoch seconds) of the parent's data in the new branch."),
        )
        .attr(
            "protected",
            AttributeSchema::optional(Type::String)
                .describe("\"yes\" to protect the branch, \"no\" to unprotect it; unset keeps Neon's default."),
        )
        .attr("id", AttributeSchema::computed(Type::String).describe("Branch ID (br-…)."))
        .attr("logical_size", AttributeSchema::computed(Type::Number).describe("Logical size of the branch in bytes."))
        .attr(
            "default",
            AttributeSchema::computed(Type::Bool).describe("Whether this is the project's default branch."),
        )
        .attr("current_state", AttributeSchema::computed(Type::String).describe("Branch state (init, ready, …)."))
        .block("timeouts", timeouts::block(&["create", "update", "delete"]));
    ResourceSchema { schema, version: 0, import_id: "<project_id>/<branch_id> (or a bare branch id)".into() }
}

pub struct Branch(pub Neon);

fn validate_protected(v: &Value) -> Result<(), ProviderError> {
    match v.get("protected").and_then(Value::as_str) {
        None | Some("yes") | Some("no") => Ok(()),
        Some(other) => Err(ProviderError::permanent(format!("`protected` must be \"yes\" or \"no\", got {other:?}"))
            .at(path("protected"))),
    }
}

impl Branch {
    /// The state from an API branch object, keeping inputs the API does not echo.
    fn state(&self, b: &Json, prior: &Value) -> Value {
        let a = Attrs::new(prior);
        let protected = match (a.raw("protected"), b.get("protected").and_then(Json::as_bool)) {
            (Value::Null, _) => Value::Null,
            (_, Some(p)) => Value::string(if p { "yes" } else { "no" }),
            (v, None) => v,
        };
        Value::map([
            ("id", jstr(b, "id")),
            ("project_id", jstr(b, "project_id")),
            ("name", jstr(b, "name")),
            ("parent_id", jstr(b, "parent_id")),
            ("parent_lsn", jstr(b, "parent_lsn")),
            ("parent_timestamp", a.raw("parent_timestamp")),
            ("protected", protected),
            ("logical_size", jnum(b, "logical_size")),
            ("default", jbool(b, "default")),
            ("current_state", jstr(b, "current_state")),
            ("timeouts", a.raw("timeouts")),
        ])
    }

    async fn get(&self, ctx: &OpContext, project: &str, id: &str) -> Result<Json, ProviderError> {
        let j: Json = self.0.client.json(ctx, ApiRequest::get(format!("/projects/{project}/branches/{id}"))).await?;
        Ok(j["branch"].clone())
    }

    /// The branch of a project with exactly this name.
    async fn find_by_name(&self, ctx: &OpContext, project: &str, name: &str) -> Result<Option<Json>, ProviderError> {
        let all: Vec<Json> = self
            .0
            .client
            .paginate(
                ctx,
                100,
                |cursor| {
                    let r = ApiRequest::get(format!("/projects/{project}/branches")).query("search", name);
                    match cursor {
                        Some(c) => r.query("cursor", c),
                        None => r,
                    }
                },
                |resp| crate::http::json_page(resp, "branches", Some("/pagination/next")),
            )
            .await?;
        Ok(all.into_iter().find(|b| b["name"] == name))
    }

    async fn default_branch_id(&self, ctx: &OpContext, project: &str) -> Result<Option<String>, ProviderError> {
        let j: Json = self.0.client.json(ctx, ApiRequest::get(format!("/projects/{project}/branches"))).await?;
        Ok(j["branches"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|b| b["default"] == true)
            .and_then(|b| b["id"].as_str())
            .map(str::to_string))
    }

    /// Waits until a branch leaves `init` (an adopted branch may still be being created).
    async fn wait_ready(
        &self,
        ctx: &OpContext,
        project: &str,
        id: &str,
        timeout: std::time::Duration,
    ) -> Result<Json, ProviderError> {
        let opts = crate::http::PollOptions::new(format!("neon branch {id} to become ready"), timeout)
            .intervals(self.0.poll_interval.0, self.0.poll_interval.1);
        crate::http::poll_until(ctx, &opts, || async {
            let b = self.get(ctx, project, id).await?;
            Ok(match b["current_state"].as_str() {
                Some("init") | Some("resetting") => {
                    crate::http::PollStatus::Pending(b["current_state"].as_str().unwrap_or("").into())
                }
                _ => crate::http::PollStatus::Done(b),
            })
        })
        .await
    }
}

#[async_trait]
impl ResourceType for Branch {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        let mut out = timeouts::validate(config);
        if let Err(e) = validate_protected(config) {
            out.push(ConfigProblem { path: path("protected"), message: e.summary });
        }
        out
    }

    async fn create(&self, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        validate_protected(planned)?;
        let a = Attrs::new(planned);
        let project = segment(planned, "project_id")?;
        let name = a.opt_str_computed("name")?;
        let parent = a.opt_str_computed("parent_id")?;
        let timeout = timeouts::for_op(planned, "create", ctx, DEFAULT_TIMEOUT)?;
        let mut spec = serde_json::Map::new();
        if let Some(n) = name {
            spec.insert("name".into(), json!(n));
        }
        if let Some(p) = parent {
            spec.insert("parent_id".into(), json!(p));
        }
        if let Some(l) = a.opt_str_computed("parent_lsn")? {
            spec.insert("parent_lsn".into(), json!(l));
        }
        if let Some(t) = a.opt_i64("parent_timestamp")? {
            spec.insert("parent_timestamp".into(), json!(timefmt::rfc3339(t)));
        }
        if let Some(p) = a.opt_str("protected")? {
            spec.insert("protected".into(), json!(p == "yes"));
        }
        let req = ApiRequest::post(format!("/projects/{project}/branches"))
            .json(json!({ "branch": spec }))
            .idempotent(name.is_some());
        match self.0.client.send(ctx, req).await {
            Ok(resp) => {
                let j = resp.json_value()?;
                self.0.wait_operations(ctx, project, j.get("operations"), timeout).await?;
                let id = j["branch"]["id"].as_str().unwrap_or_default().to_string();
                let b = self.get(ctx, project, &id).await?;
                Ok(self.state(&b, planned))
            }
            Err(e) if e.is_status(409) && name.is_some() => {
                let name = name.unwrap_or_default();
                let Some(existing) = self.find_by_name(ctx, project, name).await? else { return Err(e.into()) };
                let want_parent = match parent {
                    Some(p) => Some(p.to_string()),
                    None => self.default_branch_id(ctx, project).await?,
                };
                let have_parent = existing["parent_id"].as_str().map(str::to_string);
                if want_parent != have_parent {
                    return Err(ProviderError::permanent(format!(
                        "a branch named {name:?} already exists in project {project} with a different parent ({} instead of {})",
                        have_parent.as_deref().unwrap_or("none"),
                        want_parent.as_deref().unwrap_or("none")
                    ))
                    .with_help(format!(
                        "import it with `tenantform import <address> {project}/{}`, or choose another name",
                        existing["id"].as_str().unwrap_or_default()
                    )));
                }
                let id = existing["id"].as_str().unwrap_or_default().to_string();
                tracing::info!(target: crate::http::LOG_TARGET, branch = %id, "adopting the existing branch {name:?} (an earlier create succeeded)");
                let b = self.wait_ready(ctx, project, &id, timeout).await?;
                let mut state = self.state(&b, planned);
                if let Some(p) = a.opt_str("protected")? {
                    if b["protected"].as_bool() != Some(p == "yes") {
                        state = self.update(&state, planned, ctx).await?;
                    }
                }
                Ok(state)
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn read(&self, current: &Value, ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        let project = segment(current, "project_id")?;
        let id = segment(current, "id")?;
        Ok(found(self.get(ctx, project, id).await)?.map(|b| self.state(&b, current)))
    }

    async fn update(&self, prior: &Value, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        validate_protected(planned)?;
        let a = Attrs::new(planned);
        let project = segment(prior, "project_id")?;
        let id = segment(prior, "id")?;
        let mut spec = serde_json::Map::new();
        if diff::changed(prior, planned, "name") {
            if let Some(n) = a.opt_str_computed("name")? {
                spec.insert("name".into(), json!(n));
            }
        }
        if diff::changed(prior, planned, "protected") {
            if let Some(p) = a.opt_str("protected")? {
                spec.insert("protected".into(), json!(p == "yes"));
            }
        }
        if !spec.is_empty() {
            let timeout = timeouts::for_op(planned, "update", ctx, DEFAULT_TIMEOUT)?;
            let req = ApiRequest::patch(format!("/projects/{project}/branches/{id}")).json(json!({ "branch": spec }));
            let j = self.0.client.send(ctx, req.idempotent(true)).await?.json_value()?;
            self.0.wait_operations(ctx, project, j.get("operations"), timeout).await?;
        }
        let b = self.get(ctx, project, id).await?;
        Ok(self.state(&b, planned))
    }

    async fn delete(&self, current: &Value, ctx: &OpContext) -> Result<(), ProviderError> {
        let project = segment(current, "project_id")?;
        let id = segment(current, "id")?;
        let timeout = timeouts::for_op(current, "delete", ctx, DEFAULT_TIMEOUT)?;
        match self.0.client.send(ctx, ApiRequest::delete(format!("/projects/{project}/branches/{id}"))).await {
            Ok(resp) if resp.status == 204 => Ok(()),
            Ok(resp) => {
                let j = resp.json_value()?;
                self.0.wait_operations(ctx, project, j.get("operations"), timeout).await
            }
            Err(e) if e.is_status(404) || e.is_status(422) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn import(&self, id: &str, ctx: &OpContext) -> Result<Value, ProviderError> {
        let (project, branch) = match id.split_once('/') {
            Some((p, b)) if !p.is_empty() && !b.is_empty() && !b.contains('/') => (p.to_string(), b.to_string()),
            None if id.starts_with("br-") => (find_project_of(&self.0, ctx, id, "branches").await?, id.to_string()),
            _ => {
                return Err(ProviderError::permanent(format!(
                    "invalid import ID {id:?}: expected <project_id>/<branch_id> or a branch id (br-…)"
                )))
            }
        };
        let b = self.get(ctx, &project, &branch).await?;
        Ok(self.state(&b, &Value::map([("protected", Value::Null)])))
    }
}

/// The project holding an object with a bare id (`br-…` under `branches`, `ep-…` under
/// `endpoints`), searched among every project the key can see.
pub(crate) async fn find_project_of(
    neon: &Neon,
    ctx: &OpContext,
    id: &str,
    kind: &str,
) -> Result<String, ProviderError> {
    let j: Json = neon.client.json(ctx, ApiRequest::get("/projects")).await?;
    for p in j["projects"].as_array().into_iter().flatten() {
        let Some(pid) = p["id"].as_str() else { continue };
        let r = neon.client.send(ctx, ApiRequest::get(format!("/projects/{pid}/{kind}/{id}"))).await;
        match r {
            Ok(_) => return Ok(pid.to_string()),
            Err(e) if e.is_status(404) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ProviderError::not_found(format!("no project visible to this API key has {id}"))
        .with_help("import with the <project_id>/<id> form"))
}

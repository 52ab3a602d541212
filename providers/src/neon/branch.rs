//! `neon_branch`: a branch of a Neon project (copy-on-write clone of its parent's data).
//!
//! - `project_id`, `parent_id`, `parent_lsn` and `parent_timestamp` are force-new; `name`
//!   and `protected` change in place (PATCH).
//! - The branch gets no compute: add a `neon_endpoint` (as in `kislerdm/neon`).
//! - Create is idempotent by `name`: a 409 "branch already exists" adopts the branch of that
//!   name when its parent is the one asked for, and fails naming the difference otherwise.
//!   Without a `name` (Neon picks one) a lost create response is not replayed.
//! - `read` reports drift of `name`, `protected` and the parent.
//! - The create carries the engine's create token as a branch annotation
//!   (`tenantform-create-token`; annotations are Neon's key/value metadata of a branch, not
//!   part of the state). An interrupted create is recovered by that annotation, so even a
//!   branch whose name Neon picked is found; a branch without it (made by an older version)
//!   is recovered by its configured name and parent.
//! - A create whose operation fails after the branch exists returns the branch as a partial
//!   object: the engine keeps it as tainted and replaces it on the next apply.
//!
//! Import ID: `<project_id>/<branch_id>`, or a bare `br-…` id (searched in every project the
//! API key can see).

use async_trait::async_trait;
use serde_json::{json, Value as Json};
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, OpContext, ProviderError, Recovery, ResourceSchema, ResourceType, Schema,
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

/// The annotation key holding the create token of the create that made a branch.
pub const CREATE_TOKEN_ANNOTATION: &str = "tenantform-create-token";

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

    /// The branch of a project annotated with this create token.
    async fn find_by_token(&self, ctx: &OpContext, project: &str, token: &str) -> Result<Option<Json>, ProviderError> {
        let mut cursor: Option<String> = None;
        for _ in 0..1000 {
            let mut req = ApiRequest::get(format!("/projects/{project}/branches")).query("limit", "1000");
            if let Some(c) = &cursor {
                req = req.query("cursor", c);
            }
            let page: Json = self.0.client.json(ctx, req).await?;
            let annotations = &page["annotations"];
            for b in page["branches"].as_array().into_iter().flatten() {
                let id = b["id"].as_str().unwrap_or_default();
                if annotations[id]["value"][CREATE_TOKEN_ANNOTATION] == token {
                    return Ok(Some(b.clone()));
                }
            }
            let next = page.pointer("/pagination/next").and_then(Json::as_str).filter(|n| !n.is_empty());
            let empty = page["branches"].as_array().is_none_or(Vec::is_empty);
            match next {
                Some(n) if !empty && cursor.as_deref() != Some(n) => cursor = Some(n.to_string()),
                _ => break,
            }
        }
        Ok(None)
    }

    /// Whether an existing branch has the parent `planned` asks for (the default branch when
    /// it names none); `Err` carries both for the message.
    async fn parent_matches(
        &self,
        ctx: &OpContext,
        project: &str,
        planned: &Value,
        existing: &Json,
    ) -> Result<Result<(), (String, String)>, ProviderError> {
        let want = match Attrs::new(planned).opt_str_computed("parent_id")? {
            Some(p) => Some(p.to_string()),
            None => self.default_branch_id(ctx, project).await?,
        };
        let have = existing["parent_id"].as_str().map(str::to_string);
        if want == have {
            Ok(Ok(()))
        } else {
            Ok(Err((have.unwrap_or_else(|| "none".into()), want.unwrap_or_else(|| "none".into()))))
        }
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
        let mut body = json!({ "branch": spec });
        if let Some(t) = &ctx.create_token {
            body["annotation_value"] = json!({ CREATE_TOKEN_ANNOTATION: t });
        }
        let req = ApiRequest::post(format!("/projects/{project}/branches")).json(body).idempotent(name.is_some());
        match self.0.client.send(ctx, req).await {
            Ok(resp) => {
                let j = resp.json_value()?;
                let id = j["branch"]["id"].as_str().unwrap_or_default().to_string();
                if let Err(e) = self.0.wait_operations(ctx, project, j.get("operations"), timeout).await {
                    // The branch exists although its operation failed: hand it back as partial.
                    return Err(match self.get(ctx, project, &id).await {
                        Ok(b) if !e.is_transient() => e.with_partial(self.state(&b, planned)),
                        _ => e,
                    });
                }
                let b = self.get(ctx, project, &id).await?;
                Ok(self.state(&b, planned))
            }
            Err(e) if e.is_status(409) && name.is_some() => {
                let name = name.unwrap_or_default();
                let Some(existing) = self.find_by_name(ctx, project, name).await? else { return Err(e.into()) };
                if let Err((have, want)) = self.parent_matches(ctx, project, planned, &existing).await? {
                    return Err(ProviderError::permanent(format!(
                        "a branch named {name:?} already exists in project {project} with a different parent ({have} instead of {want})"
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

    async fn recover(&self, planned: &Value, ctx: &OpContext) -> Result<Recovery, ProviderError> {
        let project = segment(planned, "project_id")?;
        if let Some(token) = &ctx.create_token {
            if let Some(b) = self.find_by_token(ctx, project, token).await? {
                let id = b["id"].as_str().unwrap_or_default();
                return Ok(Recovery::Found(self.state(&self.get(ctx, project, id).await?, planned)));
            }
        }
        let Some(name) = Attrs::new(planned).opt_str_computed("name")? else {
            // Neon picked the name: only the annotation could have told.
            return Ok(if ctx.create_token.is_some() {
                Recovery::NotMade
            } else {
                Recovery::Unknown {
                    reason: format!(
                        "the branch had no configured name and the interrupted create left no create token to look \
                         for; check the branches of project {project} for one made at that time"
                    ),
                }
            });
        };
        let Some(existing) = self.find_by_name(ctx, project, name).await? else { return Ok(Recovery::NotMade) };
        let id = existing["id"].as_str().unwrap_or_default();
        if let Some(t) = existing_token(&self.0, ctx, project, id).await? {
            if ctx.create_token.as_deref() != Some(t.as_str()) {
                return Ok(Recovery::Unknown {
                    reason: format!(
                        "branch {name:?} ({id}) in project {project} was made by another create (its create token \
                         differs); import it with `tenantform import <address> {project}/{id}` if it is this instance's, \
                         or choose another name"
                    ),
                });
            }
        }
        match self.parent_matches(ctx, project, planned, &existing).await? {
            Ok(()) => Ok(Recovery::Found(self.state(&self.get(ctx, project, id).await?, planned))),
            Err((have, want)) => Ok(Recovery::Unknown {
                reason: format!(
                    "a branch named {name:?} ({id}) exists in project {project} with another parent ({have} instead of \
                     {want}); import it with `tenantform import <address> {project}/{id}` if it is this instance's, or \
                     remove it"
                ),
            }),
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

/// The create token a branch was annotated with, if any.
async fn existing_token(
    neon: &Neon,
    ctx: &OpContext,
    project: &str,
    id: &str,
) -> Result<Option<String>, ProviderError> {
    let j: Json = neon.client.json(ctx, ApiRequest::get(format!("/projects/{project}/branches/{id}"))).await?;
    Ok(j.pointer(&format!("/annotation/value/{CREATE_TOKEN_ANNOTATION}")).and_then(Json::as_str).map(str::to_string))
}

/// The project holding an object with a bare id (`br-…` under `branches`, `ep-…` under
/// `endpoints`), searched among every project the key can see.
pub(crate) async fn find_project_of(
    neon: &Neon,
    ctx: &OpContext,
    id: &str,
    kind: &str,
) -> Result<String, ProviderError> {
    let projects: Vec<Json> = neon
        .client
        .paginate(
            ctx,
            100,
            |cursor| {
                let r = ApiRequest::get("/projects").query("limit", "400");
                match cursor {
                    Some(c) => r.query("cursor", c),
                    None => r,
                }
            },
            |resp| {
                let mut page = crate::http::json_page::<Json>(resp, "projects", Some("/pagination/cursor"))?;
                if page.items.is_empty() {
                    page.next = None;
                }
                Ok(page)
            },
        )
        .await?;
    for p in &projects {
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

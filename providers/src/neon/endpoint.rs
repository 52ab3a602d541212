//! `neon_endpoint`: a compute endpoint of a Neon branch (the Postgres host to connect to).
//!
//! - `project_id`, `type` and `region_id` are force-new; everything else, including the
//!   `branch_id` it serves, changes in place (PATCH), waiting for Neon's operations.
//! - A branch may have one `read_write` endpoint: a 409 "read-write endpoint already exists"
//!   on create adopts that endpoint when the settings given in the configuration match it,
//!   and fails naming the difference otherwise (import it instead).
//! - Settings left unset are computed by Neon and read back; `read` reports drift of every
//!   setting.
//! - An interrupted create of a `read_write` endpoint is recovered by its branch (one such
//!   endpoint per branch) when its settings are the configured ones. Neon endpoints carry
//!   no name, label or annotation, so a `read_only` one cannot be told apart from the
//!   branch's others: recovery answers "not made" when the branch has none, and otherwise
//!   lists them for the user to import or remove.
//! - A create whose operation fails after the endpoint exists returns it as a partial object
//!   (kept tainted and replaced on the next apply).
//!
//! Import ID: `<project_id>/<endpoint_id>`, or a bare `ep-…` id.

use async_trait::async_trait;
use serde_json::{json, Map, Value as Json};
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, ErrorKind, OpContext, ProviderError, Recovery, ResourceSchema, ResourceType, Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use super::{found, jbool, jnum, jstr, segment, Neon, DEFAULT_TIMEOUT};
use crate::http::ApiRequest;
use crate::support::attrs::{path, val_str_map, Attrs};
use crate::support::{diff, timeouts};

/// Configuration attribute → API field, for the settings PATCH can change.
const SETTINGS: &[(&str, &str)] = &[
    ("autoscaling_limit_min_cu", "autoscaling_limit_min_cu"),
    ("autoscaling_limit_max_cu", "autoscaling_limit_max_cu"),
    ("compute_provisioner", "provisioner"),
    ("suspend_timeout_seconds", "suspend_timeout_seconds"),
    ("pooler_enabled", "pooler_enabled"),
    ("pooler_mode", "pooler_mode"),
    ("disabled", "disabled"),
];

pub fn schema() -> ResourceSchema {
    let oc = |t: Type, d: &str| AttributeSchema::optional_computed(t).describe(d);
    let schema = Schema::new()
        .describe("A Neon compute endpoint serving a branch.")
        .attr("project_id", AttributeSchema::required(Type::String).force_new().describe("Project ID."))
        .attr(
            "branch_id",
            AttributeSchema::required(Type::String).describe("Branch the endpoint serves (changes in place)."),
        )
        .attr(
            "type",
            AttributeSchema::optional(Type::String)
                .force_new()
                .default(Value::string("read_write"))
                .describe("Access type: \"read_write\" (one per branch) or \"read_only\". Default \"read_write\"."),
        )
        .attr("region_id", oc(Type::String, "Region, e.g. aws-us-east-2; the project's region when unset.").force_new())
        .attr("autoscaling_limit_min_cu", oc(Type::Number, "Minimum compute units (at least 0.25)."))
        .attr("autoscaling_limit_max_cu", oc(Type::Number, "Maximum compute units."))
        .attr("compute_provisioner", oc(Type::String, "Provisioner: \"k8s-neonvm\" (autoscaling) or \"k8s-pod\"."))
        .attr(
            "suspend_timeout_seconds",
            oc(Type::Number, "Seconds of inactivity before the compute suspends; 0 = Neon's default, -1 = never."),
        )
        .attr("pooler_enabled", oc(Type::Bool, "Whether connection pooling is on."))
        .attr("pooler_mode", oc(Type::String, "Pooling mode (\"transaction\")."))
        .attr("disabled", oc(Type::Bool, "Disable the endpoint (no connections)."))
        .attr(
            "pg_settings",
            AttributeSchema::optional(Type::Map(Box::new(Type::String)))
                .describe("Postgres settings for this compute."),
        )
        .attr("id", AttributeSchema::computed(Type::String).describe("Endpoint ID (ep-…)."))
        .attr("host", AttributeSchema::computed(Type::String).describe("Hostname to connect to."))
        .attr("proxy_host", AttributeSchema::computed(Type::String).describe("The regional proxy host."))
        .attr("current_state", AttributeSchema::computed(Type::String).describe("Compute state: init, active or idle."))
        .block("timeouts", timeouts::block(&["create", "update", "delete"]));
    ResourceSchema { schema, version: 0, import_id: "<project_id>/<endpoint_id> (or a bare endpoint id)".into() }
}

pub struct Endpoint(pub Neon);

/// The API fields for the settings set in `v` (all of them, or only those changed since `prior`).
fn settings_body(v: &Value, prior: Option<&Value>) -> Result<Map<String, Json>, ProviderError> {
    let a = Attrs::new(v);
    let mut m = Map::new();
    for (attr, field) in SETTINGS {
        if prior.is_some_and(|p| !diff::changed(p, v, attr)) || a.is_unknown(attr) {
            continue;
        }
        if let Some(x) = a.get(attr)? {
            m.insert((*field).into(), x.to_json());
        }
    }
    if prior.is_none_or(|p| diff::changed(p, v, "pg_settings")) && !a.is_unknown("pg_settings") {
        let pg = a.string_map("pg_settings")?;
        if prior.is_some() || !pg.is_empty() {
            m.insert("settings".into(), json!({ "pg_settings": pg }));
        }
    }
    Ok(m)
}

impl Endpoint {
    fn state(&self, e: &Json, prior: &Value) -> Value {
        let a = Attrs::new(prior);
        let pg = e["settings"]["pg_settings"].as_object().filter(|m| !m.is_empty()).map(|m| {
            val_str_map(&m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        });
        Value::map([
            ("id", jstr(e, "id")),
            ("project_id", jstr(e, "project_id")),
            ("branch_id", jstr(e, "branch_id")),
            ("type", jstr(e, "type")),
            ("region_id", jstr(e, "region_id")),
            ("autoscaling_limit_min_cu", jnum(e, "autoscaling_limit_min_cu")),
            ("autoscaling_limit_max_cu", jnum(e, "autoscaling_limit_max_cu")),
            ("compute_provisioner", jstr(e, "provisioner")),
            ("suspend_timeout_seconds", jnum(e, "suspend_timeout_seconds")),
            ("pooler_enabled", jbool(e, "pooler_enabled")),
            ("pooler_mode", jstr(e, "pooler_mode")),
            ("disabled", jbool(e, "disabled")),
            ("pg_settings", pg.unwrap_or(Value::Null)),
            ("host", jstr(e, "host")),
            ("proxy_host", jstr(e, "proxy_host")),
            ("current_state", jstr(e, "current_state")),
            ("timeouts", a.raw("timeouts")),
        ])
    }

    async fn get(&self, ctx: &OpContext, project: &str, id: &str) -> Result<Json, ProviderError> {
        let j: Json = self.0.client.json(ctx, ApiRequest::get(format!("/projects/{project}/endpoints/{id}"))).await?;
        Ok(j["endpoint"].clone())
    }

    /// Which configured settings an existing endpoint does not have (for adoption).
    fn mismatches(&self, existing: &Json, wanted: &Map<String, Json>) -> Vec<String> {
        wanted
            .iter()
            .filter(|(k, v)| match k.as_str() {
                "settings" => existing["settings"]["pg_settings"] != v["pg_settings"],
                _ => match (existing.get(k.as_str()).and_then(Json::as_f64), v.as_f64()) {
                    (Some(a), Some(b)) => (a - b).abs() > 1e-9,
                    _ => existing.get(k.as_str()) != Some(v),
                },
            })
            .map(|(k, v)| format!("{k} is {} (configured {v})", existing.get(k.as_str()).unwrap_or(&Json::Null)))
            .collect()
    }
}

#[async_trait]
impl ResourceType for Endpoint {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        let mut out = timeouts::validate(config);
        if let Some(t) = config.get("type").and_then(Value::as_str) {
            if t != "read_write" && t != "read_only" {
                out.push(ConfigProblem {
                    path: path("type"),
                    message: "must be \"read_write\" or \"read_only\"".into(),
                });
            }
        }
        out
    }

    async fn create(&self, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let a = Attrs::new(planned);
        let project = segment(planned, "project_id")?;
        let branch = segment(planned, "branch_id")?;
        let ty = a.str_or("type", "read_write")?;
        let timeout = timeouts::for_op(planned, "create", ctx, DEFAULT_TIMEOUT)?;
        let settings = settings_body(planned, None)?;
        let mut spec = settings.clone();
        spec.insert("branch_id".into(), json!(branch));
        spec.insert("type".into(), json!(ty));
        if let Some(r) = a.opt_str_computed("region_id")? {
            spec.insert("region_id".into(), json!(r));
        }
        // Only one read_write endpoint per branch: a replayed create conflicts and is adopted.
        let req = ApiRequest::post(format!("/projects/{project}/endpoints"))
            .json(json!({ "endpoint": spec }))
            .idempotent(ty == "read_write");
        match self.0.client.send(ctx, req).await {
            Ok(resp) => {
                let j = resp.json_value()?;
                let id = j["endpoint"]["id"].as_str().unwrap_or_default().to_string();
                if let Err(e) = self.0.wait_operations(ctx, project, j.get("operations"), timeout).await {
                    // The endpoint exists although its operation failed: hand it back as partial.
                    return Err(match self.get(ctx, project, &id).await {
                        Ok(ep) if !e.is_transient() => e.with_partial(self.state(&ep, planned)),
                        _ => e,
                    });
                }
                Ok(self.state(&self.get(ctx, project, &id).await?, planned))
            }
            Err(e) if e.is_status(409) && ty == "read_write" => {
                let j: Json = self
                    .0
                    .client
                    .json(ctx, ApiRequest::get(format!("/projects/{project}/branches/{branch}/endpoints")))
                    .await?;
                let Some(existing) =
                    j["endpoints"].as_array().into_iter().flatten().find(|x| x["type"] == "read_write").cloned()
                else {
                    return Err(e.into());
                };
                let id = existing["id"].as_str().unwrap_or_default().to_string();
                let diffs = self.mismatches(&existing, &settings);
                if !diffs.is_empty() {
                    return Err(ProviderError::permanent(format!(
                        "branch {branch} already has a read_write endpoint ({id}) with different settings: {}",
                        diffs.join("; ")
                    ))
                    .with_help(format!("import it with `tenantform import <address> {project}/{id}`")));
                }
                tracing::info!(target: crate::http::LOG_TARGET, endpoint = %id, "adopting the existing read_write endpoint of {branch}");
                self.0.wait_operations(ctx, project, None, timeout).await?;
                Ok(self.state(&self.get(ctx, project, &id).await?, planned))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn recover(&self, planned: &Value, ctx: &OpContext) -> Result<Recovery, ProviderError> {
        let a = Attrs::new(planned);
        let project = segment(planned, "project_id")?;
        let branch = segment(planned, "branch_id")?;
        let ty = a.str_or("type", "read_write")?;
        let listed = self
            .0
            .client
            .json::<Json>(ctx, ApiRequest::get(format!("/projects/{project}/branches/{branch}/endpoints")))
            .await;
        let j = match listed {
            Ok(j) => j,
            // No branch, no endpoint.
            Err(e) if e.error.kind == ErrorKind::NotFound => return Ok(Recovery::NotMade),
            Err(e) => return Err(e.into()),
        };
        let same: Vec<&Json> = j["endpoints"].as_array().into_iter().flatten().filter(|x| x["type"] == ty).collect();
        let ids = || same.iter().filter_map(|x| x["id"].as_str()).collect::<Vec<_>>().join(", ");
        match (ty, same.as_slice()) {
            (_, []) => Ok(Recovery::NotMade),
            ("read_write", [existing]) => {
                let id = existing["id"].as_str().unwrap_or_default();
                let diffs = self.mismatches(existing, &settings_body(planned, None)?);
                if diffs.is_empty() {
                    Ok(Recovery::Found(self.state(&self.get(ctx, project, id).await?, planned)))
                } else {
                    Ok(Recovery::Unknown {
                        reason: format!(
                            "branch {branch} has a read_write endpoint ({id}) with other settings than configured ({}); \
                             import it with `tenantform import <address> {project}/{id}` if the interrupted create made \
                             it, or remove it",
                            diffs.join("; ")
                        ),
                    })
                }
            }
            _ => Ok(Recovery::Unknown {
                reason: format!(
                    "Neon endpoints carry no name or tag, and branch {branch} has {ty} endpoints ({}) that the \
                     interrupted create may have made; import the one it made with `tenantform import <address> \
                     {project}/<endpoint_id>`",
                    ids()
                ),
            }),
        }
    }

    async fn read(&self, current: &Value, ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        let project = segment(current, "project_id")?;
        let id = segment(current, "id")?;
        Ok(found(self.get(ctx, project, id).await)?.map(|e| self.state(&e, current)))
    }

    async fn update(&self, prior: &Value, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let project = segment(prior, "project_id")?;
        let id = segment(prior, "id")?;
        let mut spec = settings_body(planned, Some(prior))?;
        if diff::changed(prior, planned, "branch_id") {
            spec.insert("branch_id".into(), json!(segment(planned, "branch_id")?));
        }
        if !spec.is_empty() {
            let timeout = timeouts::for_op(planned, "update", ctx, DEFAULT_TIMEOUT)?;
            let req =
                ApiRequest::patch(format!("/projects/{project}/endpoints/{id}")).json(json!({ "endpoint": spec }));
            let j = self.0.client.send(ctx, req.idempotent(true)).await?.json_value()?;
            self.0.wait_operations(ctx, project, j.get("operations"), timeout).await?;
        }
        Ok(self.state(&self.get(ctx, project, id).await?, planned))
    }

    async fn delete(&self, current: &Value, ctx: &OpContext) -> Result<(), ProviderError> {
        let project = segment(current, "project_id")?;
        let id = segment(current, "id")?;
        let timeout = timeouts::for_op(current, "delete", ctx, DEFAULT_TIMEOUT)?;
        match self.0.client.send(ctx, ApiRequest::delete(format!("/projects/{project}/endpoints/{id}"))).await {
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
        let (project, ep) = match id.split_once('/') {
            Some((p, e)) if !p.is_empty() && !e.is_empty() && !e.contains('/') => (p.to_string(), e.to_string()),
            None if id.starts_with("ep-") => {
                (super::branch::find_project_of(&self.0, ctx, id, "endpoints").await?, id.to_string())
            }
            _ => {
                return Err(ProviderError::permanent(format!(
                    "invalid import ID {id:?}: expected <project_id>/<endpoint_id> or an endpoint id (ep-…)"
                )))
            }
        };
        Ok(self.state(&self.get(ctx, &project, &ep).await?, &Value::Null))
    }
}

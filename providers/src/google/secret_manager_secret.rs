//! `google_secret_manager_secret`: a Secret Manager secret (the container of versions).
//!
//! - `secret_id`, `project` and `replication` force replacement (the API calls replication
//!   "Required. Immutable"); `labels`, `annotations`, `version_aliases`, `version_destroy_ttl`,
//!   `topics`, `rotation`, `ttl` and `expire_time` update in place with a PATCH whose
//!   `updateMask` names exactly the changed fields.
//! - Create sends `secretId` as a query parameter. On 409 `ALREADY_EXISTS` (typically our own
//!   earlier attempt whose answer was lost) the secret is read back and adopted when its
//!   replication, labels and annotations are what we asked for; otherwise the error says so and
//!   how to import it.
//! - `read` reports drift in every configured attribute; a deleted secret reads as gone.
//! - `deletion_protection = true` makes destroy fail (as in the Terraform provider 6.x).
//!
//! Import IDs: `projects/{{project}}/secrets/{{secret_id}}`, `{{project}}/{{secret_id}}`,
//! `{{secret_id}}` (provider project).

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value as Json;
use tenantform_engine::provider::{
    AttributeSchema, BlockSchema, ConfigProblem, Nesting, OpContext, PlanRequest, PlanResponse, ProviderError,
    Recovery, ResourceSchema, ResourceType, Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use super::convert::{self, Renames};
use super::names::{check_secret_id, SecretName};
use super::{already_exists, found, gone_ok, json_differences, within, Google, DEFAULT_TIMEOUT};
use crate::http::ApiRequest;
use crate::support::attrs::{path, Attrs};
use crate::support::{diff, timeouts};

/// Our names that are not the API's camelCase.
pub const RENAMES: Renames = &[("auto", "automatic")];
/// Attributes and blocks not sent as Secret fields.
const NOT_IN_BODY: &[&str] = &["secret_id", "project", "deletion_protection", "timeouts", "id"];
/// Fields a PATCH may change (our names).
const UPDATABLE: &[&str] =
    &["labels", "annotations", "version_aliases", "version_destroy_ttl", "topics", "rotation", "ttl", "expire_time"];

fn block(nesting: Nesting, schema: Schema, min: usize, max: Option<usize>) -> BlockSchema {
    BlockSchema { nesting, schema, min_items: min, max_items: max, force_new: false }
}

fn cmek() -> BlockSchema {
    block(
        Nesting::Single,
        Schema::new().attr(
            "kms_key_name",
            AttributeSchema::required(Type::String)
                .describe("Cloud KMS key (projects/…/locations/…/keyRings/…/cryptoKeys/…) encrypting the payloads."),
        ),
        0,
        Some(1),
    )
}

pub fn schema() -> ResourceSchema {
    let smap = || Type::Map(Box::new(Type::String));
    let replication = Schema::new()
        .describe("Where the secret's payloads are stored. Exactly one of auto {} or user_managed {}.")
        .block("auto", block(Nesting::Single, Schema::new().block("customer_managed_encryption", cmek()), 0, Some(1)))
        .block(
            "user_managed",
            block(
                Nesting::Single,
                Schema::new().block(
                    "replicas",
                    block(
                        Nesting::List,
                        Schema::new()
                            .attr(
                                "location",
                                AttributeSchema::required(Type::String)
                                    .describe("Location of the replica, e.g. \"us-east1\"."),
                            )
                            .block("customer_managed_encryption", cmek()),
                        1,
                        None,
                    ),
                ),
                0,
                Some(1),
            ),
        );
    let schema = Schema::new()
        .describe("A Secret Manager secret: a named container of secret versions.")
        .attr(
            "secret_id",
            AttributeSchema::required(Type::String)
                .force_new()
                .describe("The secret's ID, unique in the project: 1–255 letters, digits, `_` and `-`."),
        )
        .attr(
            "project",
            AttributeSchema::optional_computed(Type::String)
                .force_new()
                .describe("Project ID; defaults to the provider's `project`."),
        )
        .attr("labels", AttributeSchema::optional(smap()).describe("Labels (lowercase keys and values, at most 64)."))
        .attr("annotations", AttributeSchema::optional(smap()).describe("Custom metadata for tools (not labels)."))
        .attr(
            "version_aliases",
            AttributeSchema::optional(smap()).describe("Aliases to version numbers, e.g. { current = \"3\" }."),
        )
        .attr(
            "version_destroy_ttl",
            AttributeSchema::optional(Type::String)
                .describe("Delay between a version's destroy request and its destruction, e.g. \"86400s\"."),
        )
        .attr(
            "ttl",
            AttributeSchema::optional(Type::String)
                .describe("Time to live from now, e.g. \"3600s\"; sets expire_time. Input only (not read back)."),
        )
        .attr(
            "expire_time",
            AttributeSchema::optional_computed(Type::String)
                .describe("When the secret is deleted automatically (RFC 3339). Conflicts with ttl."),
        )
        .attr(
            "deletion_protection",
            AttributeSchema::optional(Type::Bool)
                .default(Value::Bool(false))
                .describe("When true, destroying the secret fails. Default false."),
        )
        .attr(
            "name",
            AttributeSchema::computed(Type::String)
                .describe("Resource name as the API returns it: projects/{project number}/secrets/{secret_id}."),
        )
        .attr(
            "create_time",
            AttributeSchema::computed(Type::String).describe("When the secret was created (RFC 3339)."),
        )
        .attr("id", AttributeSchema::computed(Type::String).describe("projects/{{project}}/secrets/{{secret_id}}."))
        .block("replication", BlockSchema { force_new: true, ..block(Nesting::Single, replication, 1, Some(1)) })
        .block(
            "topics",
            block(
                Nesting::List,
                Schema::new().attr(
                    "name",
                    AttributeSchema::required(Type::String)
                        .describe("Pub/Sub topic (projects/*/topics/*) notified of changes to the secret."),
                ),
                0,
                Some(10),
            ),
        )
        .block(
            "rotation",
            block(
                Nesting::Single,
                Schema::new()
                    .attr(
                        "next_rotation_time",
                        AttributeSchema::optional(Type::String)
                            .describe("When the next rotation notification is sent (RFC 3339)."),
                    )
                    .attr(
                        "rotation_period",
                        AttributeSchema::optional(Type::String)
                            .describe("Interval between notifications, e.g. \"2592000s\"."),
                    ),
                0,
                Some(1),
            ),
        )
        .block("timeouts", timeouts::block(&["create", "update", "delete"]));
    ResourceSchema {
        schema,
        version: 0,
        import_id: "projects/{{project}}/secrets/{{secret_id}} | {{project}}/{{secret_id}} | {{secret_id}}".into(),
    }
}

pub struct Secret {
    g: Arc<Google>,
    schema: Schema,
}

impl Secret {
    pub fn new(g: Arc<Google>) -> Self {
        Secret { g, schema: schema().schema }
    }

    fn name_of(&self, v: &Value) -> Result<SecretName, ProviderError> {
        let id = Attrs::new(v).str("secret_id")?;
        check_secret_id(id).map_err(|e| ProviderError::permanent(e).at(path("secret_id")))?;
        Ok(SecretName::new(self.g.project_of(v)?, id))
    }

    fn body(&self, v: &Value) -> Json {
        convert::to_api(&self.schema, v, RENAMES, NOT_IN_BODY)
    }

    /// The state for an API answer; `reference` (plan or prior state) supplies what the API
    /// does not return (project ID, ttl, deletion_protection, timeouts).
    fn state(&self, name: &SecretName, api: &Json, reference: &Value) -> Value {
        let mut v = convert::from_api_with(&self.schema, api, RENAMES, reference);
        let r = Attrs::new(reference);
        diff::set(&mut v, "secret_id", Value::string(&name.secret_id));
        diff::set(&mut v, "project", Value::string(&name.project));
        diff::set(&mut v, "id", Value::string(name.path()));
        diff::set(&mut v, "ttl", r.raw("ttl"));
        let dp = r.raw("deletion_protection");
        diff::set(&mut v, "deletion_protection", if dp.is_null() { Value::Bool(false) } else { dp });
        diff::set(&mut v, "timeouts", r.raw("timeouts"));
        for m in ["labels", "annotations", "version_aliases"] {
            // `{}` and "not set" are the same to the API; keep whichever the user wrote.
            if v.get(m).is_some_and(Value::is_null) && r.raw(m).as_map().is_some_and(|m| m.is_empty()) {
                diff::set(&mut v, m, Value::Map(Default::default()));
            }
        }
        v
    }

    async fn get(&self, ctx: &OpContext, name: &SecretName) -> Result<Option<Json>, ProviderError> {
        found(self.g.secrets.json::<Json>(ctx, ApiRequest::get(format!("/{}", name.path()))).await)
    }

    async fn create_inner(&self, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let name = self.name_of(planned)?;
        let body = self.body(planned);
        let req = ApiRequest::post(format!("/projects/{}/secrets", name.project))
            .query("secretId", &name.secret_id)
            .json(body.clone())
            // A replay after a lost answer gets ALREADY_EXISTS, which is adopted below.
            .idempotent(true);
        let created = match self.g.secrets.json::<Json>(ctx, req).await {
            Ok(s) => s,
            Err(e) if already_exists(&e) => {
                let existing = self.get(ctx, &name).await?.ok_or_else(|| e.error.clone())?;
                let diffs = differences(&body, &existing);
                if !diffs.is_empty() {
                    return Err(ProviderError::permanent(format!(
                        "secret {} already exists with a different configuration",
                        name.path()
                    ))
                    .with_detail(diffs.join("; "))
                    .with_help(format!(
                        "import it with `tenantform import <address> {}`, or choose another secret_id",
                        name.path()
                    )));
                }
                tracing::info!(secret = %name.path(), "secret already existed with the requested settings; adopting it");
                existing
            }
            Err(e) => return Err(e.error),
        };
        Ok(self.state(&name, &created, planned))
    }
}

/// How an existing secret differs from the body we would create it with (empty: it is the
/// one we asked for). ttl and expireTime are not compared (the expiry is absolute); labels
/// compare exactly (the subset test would accept extra labels on the existing secret).
fn differences(body: &Json, existing: &Json) -> Vec<String> {
    let mut want = body.clone();
    if let Some(w) = want.as_object_mut() {
        w.remove("ttl");
        w.remove("expireTime");
    }
    let mut out = json_differences(&want, existing);
    let norm = |j: Option<&Json>| j.cloned().filter(|x| x.as_object().is_some_and(|m| !m.is_empty()));
    let (w, g) = (norm(body.get("labels")), norm(existing.get("labels")));
    if w != g && !out.iter().any(|d| d.starts_with("labels")) {
        let show = |j: Option<Json>| j.map(|j| j.to_string()).unwrap_or_else(|| "none".into());
        out.push(format!("labels: {} here, {} requested", show(g), show(w)));
    }
    out
}

#[async_trait]
impl ResourceType for Secret {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        let mut out = timeouts::validate(config);
        if let Some(id) = config.get("secret_id").and_then(Value::as_str) {
            if let Err(message) = check_secret_id(id) {
                out.push(ConfigProblem { path: path("secret_id"), message });
            }
        }
        if let Some(r) = config.get("replication").filter(|r| !r.is_unknown()) {
            let set = |n: &str| r.get(n).is_some_and(|v| !v.is_null());
            if set("auto") == set("user_managed") {
                out.push(ConfigProblem {
                    path: path("replication"),
                    message: "set exactly one of `auto {}` or `user_managed { replicas { location = … } }`".into(),
                });
            }
        }
        let set = |n: &str| config.get(n).is_some_and(|v| !v.is_null() && !v.is_unknown());
        if set("ttl") && config.get("expire_time").is_some_and(|v| !v.is_null()) {
            out.push(ConfigProblem {
                path: path("ttl"),
                message: "`ttl` and `expire_time` are mutually exclusive".into(),
            });
        }
        out
    }

    async fn plan(&self, req: PlanRequest) -> Result<PlanResponse, ProviderError> {
        let mut planned = req.proposed;
        if planned.get("project").is_none_or(|p| p.is_null() || p.is_unknown()) {
            if let Some(p) = &self.g.project {
                diff::set(&mut planned, "project", Value::string(p));
            }
        }
        if let (Some(p), Some(id)) =
            (planned.get("project").and_then(Value::as_str), planned.get("secret_id").and_then(Value::as_str))
        {
            let id_path = SecretName::new(p, id).path();
            diff::set(&mut planned, "id", Value::string(id_path));
        }
        if let Some(prior) = &req.prior {
            if diff::any_changed(prior, &planned, &["ttl"]) {
                diff::mark_unknown(&mut planned, &["expire_time"]);
            }
        }
        Ok(PlanResponse { planned, requires_replace: Vec::new() })
    }

    async fn create(&self, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let limit = timeouts::for_op(planned, "create", ctx, DEFAULT_TIMEOUT)?;
        within(limit, "create", "creating the secret", self.create_inner(planned, ctx)).await
    }

    async fn recover(&self, planned: &Value, ctx: &OpContext) -> Result<Recovery, ProviderError> {
        // The secret_id is ours: read it back, and adopt it only when it is what we asked for.
        let name = self.name_of(planned)?;
        let Some(existing) = self.get(ctx, &name).await? else { return Ok(Recovery::NotMade) };
        let diffs = differences(&self.body(planned), &existing);
        if diffs.is_empty() {
            return Ok(Recovery::Found(self.state(&name, &existing, planned)));
        }
        Ok(Recovery::Unknown {
            reason: format!(
                "secret {} exists with another configuration than this resource's ({}); import it with \
                 `tenantform import <address> {}` if the interrupted create made it",
                name.path(),
                diffs.join("; "),
                name.path()
            ),
        })
    }

    async fn read(&self, current: &Value, ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        let name = self.name_of(current)?;
        Ok(self.get(ctx, &name).await?.map(|s| self.state(&name, &s, current)))
    }

    async fn update(&self, prior: &Value, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let name = self.name_of(planned)?;
        let limit = timeouts::for_op(planned, "update", ctx, DEFAULT_TIMEOUT)?;
        let mut mask: Vec<String> = Vec::new();
        for f in UPDATABLE {
            if diff::changed(prior, planned, f) {
                // expire_time is computed from ttl when only ttl is set.
                if *f == "expire_time" && planned.get("expire_time").is_none_or(|v| v.is_unknown()) {
                    continue;
                }
                mask.push(f.to_string());
            }
        }
        let fut = async {
            let result = if mask.is_empty() {
                self.get(ctx, &name)
                    .await?
                    .ok_or_else(|| ProviderError::not_found(format!("secret {} no longer exists", name.path())))?
            } else {
                let body = self.body(planned);
                let req = ApiRequest::patch(format!("/{}", name.path()))
                    .query("updateMask", mask.join(","))
                    .json(body)
                    // The same PATCH twice has the same effect.
                    .idempotent(true);
                self.g.secrets.json::<Json>(ctx, req).await?
            };
            Ok(self.state(&name, &result, planned))
        };
        within(limit, "update", "updating the secret", fut).await
    }

    async fn delete(&self, current: &Value, ctx: &OpContext) -> Result<(), ProviderError> {
        let name = self.name_of(current)?;
        if Attrs::new(current).bool_or("deletion_protection", false)? {
            return Err(ProviderError::permanent(format!(
                "secret {} has deletion_protection = true; it was not deleted",
                name.path()
            ))
            .with_help("set deletion_protection = false and apply, then destroy")
            .at(path("deletion_protection")));
        }
        let limit = timeouts::for_op(current, "delete", ctx, DEFAULT_TIMEOUT)?;
        let fut = async { gone_ok(self.g.secrets.send(ctx, ApiRequest::delete(format!("/{}", name.path()))).await) };
        within(limit, "delete", "deleting the secret", fut).await
    }

    async fn import(&self, id: &str, ctx: &OpContext) -> Result<Value, ProviderError> {
        let name = SecretName::parse(id, self.g.project.as_deref()).map_err(ProviderError::permanent)?;
        let reference = Value::map([("deletion_protection", Value::Bool(false))]);
        match self.get(ctx, &name).await? {
            Some(s) => Ok(self.state(&name, &s, &reference)),
            None => Err(ProviderError::not_found(format!("secret {} does not exist", name.path()))),
        }
    }
}

//! `google_secret_manager_secret_version`: one immutable payload of a secret.
//!
//! - `secret_data` is sensitive and force-new (versions are immutable): a new value adds a new
//!   version and retires the old one per `deletion_policy`. It is sent as standard base64 with
//!   its CRC32C (`dataCrc32c`, an int64 in a JSON string) so the API verifies what it stored.
//!   The payload never appears in logs or error messages.
//! - `enabled` updates in place (`:enable` / `:disable`).
//! - Adding a version is not idempotent, so a lost answer is never replayed blindly: the
//!   versions created since the attempt started are read back and the one holding our payload
//!   (compared by content) is adopted; only if there is none does the error say the outcome is
//!   unknown.
//! - An interrupted create (the process stopped with the add in flight) is recovered from the
//!   secret's versions: Secret Manager versions carry no labels and `addVersion` takes no
//!   request ID, so a version is recognised by its payload. The newest version holding our
//!   payload is adopted (an add makes the newest version); when only an older one does, newer
//!   versions were added since and nobody can tell whose it is, so the recovery says so and
//!   how to import it. A newest version that is disabled cannot be compared either.
//! - Delete follows `deletion_policy`: `DELETE` (default) destroys the version, `DISABLE`
//!   disables it, `ABANDON` leaves it. A destroyed or missing version reads as gone.
//!
//! Import ID: `projects/{{project}}/secrets/{{secret_id}}/versions/{{version}}` (the payload is
//! read with `:access`, so the version must be enabled to import its data).

use std::sync::Arc;

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value as Json};
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, OpContext, PlanRequest, PlanResponse, ProviderError, Recovery, ResourceSchema,
    ResourceType, Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use super::names::{last_segment, SecretName, VersionName};
use super::{found, within, Google, DEFAULT_TIMEOUT};
use crate::http::ApiRequest;
use crate::support::attrs::{path, Attrs};
use crate::support::{diff, timeouts};

/// The API's payload limit (decoded bytes).
pub const MAX_PAYLOAD: usize = 64 * 1024;
const POLICIES: &[&str] = &["DELETE", "DISABLE", "ABANDON"];

pub fn schema() -> ResourceSchema {
    let schema = Schema::new()
        .describe("A version of a Secret Manager secret, holding one payload.")
        .attr(
            "secret",
            AttributeSchema::required(Type::String)
                .force_new()
                .describe("The secret: its id (projects/{{project}}/secrets/{{secret_id}}), or {{project}}/{{secret_id}}, or {{secret_id}}."),
        )
        .attr(
            "secret_data",
            AttributeSchema::required(Type::String)
                .sensitive()
                .force_new()
                .describe("The payload (at most 64 KiB). Never shown in plans or logs. Changing it adds a new version."),
        )
        .attr(
            "is_secret_data_base64",
            AttributeSchema::optional(Type::Bool)
                .default(Value::Bool(false))
                .force_new()
                .describe("When true, secret_data is already base64 and is sent as is (for binary payloads). Default false."),
        )
        .attr(
            "enabled",
            AttributeSchema::optional(Type::Bool)
                .default(Value::Bool(true))
                .describe("Whether the version can be accessed. Changes in place. Default true."),
        )
        .attr(
            "deletion_policy",
            AttributeSchema::optional(Type::String).default(Value::string("DELETE")).describe(
                "What destroy does: DELETE destroys the version (default), DISABLE disables it, ABANDON leaves it.",
            ),
        )
        .attr(
            "name",
            AttributeSchema::computed(Type::String)
                .describe("Resource name as returned: projects/{project number}/secrets/{secret_id}/versions/{version}."),
        )
        .attr("version", AttributeSchema::computed(Type::String).describe("The version number (\"1\", \"2\", …)."))
        .attr("create_time", AttributeSchema::computed(Type::String).describe("When the version was created (RFC 3339)."))
        .attr(
            "destroy_time",
            AttributeSchema::computed(Type::String).describe("When the version was destroyed; null while it is not."),
        )
        .attr(
            "id",
            AttributeSchema::computed(Type::String)
                .describe("projects/{{project}}/secrets/{{secret_id}}/versions/{{version}}."),
        )
        .block("timeouts", timeouts::block(&["create", "update", "delete"]));
    ResourceSchema {
        schema,
        version: 0,
        import_id: "projects/{{project}}/secrets/{{secret_id}}/versions/{{version}}".into(),
    }
}

pub struct SecretVersion {
    g: Arc<Google>,
}

/// The raw payload bytes of a configuration.
fn payload(v: &Value) -> Result<Vec<u8>, ProviderError> {
    let a = Attrs::new(v);
    let data = a.str("secret_data")?;
    let bytes = if a.bool_or("is_secret_data_base64", false)? {
        STANDARD.decode(data.trim()).map_err(|_| {
            // Never quote the value: it is the secret.
            ProviderError::permanent("secret_data is not valid base64 although is_secret_data_base64 = true")
                .at(path("secret_data"))
        })?
    } else {
        data.as_bytes().to_vec()
    };
    if bytes.len() > MAX_PAYLOAD {
        return Err(ProviderError::permanent(format!(
            "secret_data is {} bytes; Secret Manager accepts at most {MAX_PAYLOAD}",
            bytes.len()
        ))
        .at(path("secret_data")));
    }
    Ok(bytes)
}

impl SecretVersion {
    pub fn new(g: Arc<Google>) -> Self {
        SecretVersion { g }
    }

    fn secret_of(&self, v: &Value) -> Result<SecretName, ProviderError> {
        let s = Attrs::new(v).str("secret")?;
        SecretName::parse(s, self.g.project.as_deref()).map_err(|e| ProviderError::permanent(e).at(path("secret")))
    }

    fn version_name(&self, v: &Value) -> Result<VersionName, ProviderError> {
        let secret = self.secret_of(v)?;
        let version = Attrs::new(v).str("version")?.to_string();
        Ok(VersionName { secret, version })
    }

    /// The state for a SecretVersion answer; the payload and settings come from `reference`.
    fn state(&self, secret: &SecretName, api: &Json, reference: &Value) -> Value {
        let r = Attrs::new(reference);
        let name = api.get("name").and_then(Json::as_str).unwrap_or_default();
        let version = last_segment(name).to_string();
        let s = |k: &str| api.get(k).and_then(Json::as_str).map(Value::string).unwrap_or(Value::Null);
        let or = |k: &str, d: Value| {
            let v = r.raw(k);
            if v.is_null() {
                d
            } else {
                v
            }
        };
        Value::map([
            ("secret", or("secret", Value::string(secret.path()))),
            ("secret_data", r.raw("secret_data")),
            ("is_secret_data_base64", or("is_secret_data_base64", Value::Bool(false))),
            ("enabled", Value::Bool(api.get("state").and_then(Json::as_str) == Some("ENABLED"))),
            ("deletion_policy", or("deletion_policy", Value::string("DELETE"))),
            ("name", Value::string(name)),
            ("version", Value::string(&version)),
            ("create_time", s("createTime")),
            ("destroy_time", s("destroyTime")),
            ("id", Value::string(VersionName { secret: secret.clone(), version }.path())),
            ("timeouts", r.raw("timeouts")),
        ])
    }

    async fn get(&self, ctx: &OpContext, v: &VersionName) -> Result<Option<Json>, ProviderError> {
        found(self.g.secrets.json::<Json>(ctx, ApiRequest::get(format!("/{}", v.path()))).await)
    }

    /// The number of the newest version (0 when there is none).
    async fn newest(&self, ctx: &OpContext, secret: &SecretName) -> Result<u64, ProviderError> {
        let v = VersionName { secret: secret.clone(), version: "latest".into() };
        Ok(self
            .get(ctx, &v)
            .await?
            .and_then(|j| j.get("name").and_then(Json::as_str).and_then(|n| last_segment(n).parse().ok()))
            .unwrap_or(0))
    }

    /// After an add whose answer was lost: the version created since `before` that holds
    /// `data`, if any.
    async fn find_added(
        &self,
        ctx: &OpContext,
        secret: &SecretName,
        before: u64,
        data: &[u8],
    ) -> Result<Option<Json>, ProviderError> {
        let newest = self.newest(ctx, secret).await?;
        for n in (before + 1..=newest).rev() {
            let v = VersionName { secret: secret.clone(), version: n.to_string() };
            let Some(accessed) =
                found(self.g.secrets.json::<Json>(ctx, ApiRequest::get(format!("/{}:access", v.path()))).await)
                    .ok()
                    .flatten()
            else {
                continue;
            };
            let stored = accessed.pointer("/payload/data").and_then(Json::as_str).and_then(|d| STANDARD.decode(d).ok());
            if stored.as_deref() == Some(data) {
                return self.get(ctx, &v).await;
            }
        }
        Ok(None)
    }

    /// The payload of an enabled version (`None` when it cannot be accessed).
    async fn payload_of(&self, ctx: &OpContext, v: &VersionName) -> Result<Option<Vec<u8>>, ProviderError> {
        let accessed = found(self.g.secrets.json::<Json>(ctx, ApiRequest::get(format!("/{}:access", v.path()))).await)?;
        Ok(accessed
            .and_then(|a| a.pointer("/payload/data").and_then(Json::as_str).and_then(|d| STANDARD.decode(d).ok())))
    }

    async fn set_enabled(&self, ctx: &OpContext, v: &VersionName, enabled: bool) -> Result<Json, ProviderError> {
        let verb = if enabled { "enable" } else { "disable" };
        let req = ApiRequest::post(format!("/{}:{verb}", v.path())).json(json!({})).idempotent(true);
        Ok(self.g.secrets.json::<Json>(ctx, req).await?)
    }

    async fn create_inner(&self, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let secret = self.secret_of(planned)?;
        let data = payload(planned)?;
        let before = self.newest(ctx, &secret).await?;
        let body = json!({"payload": {
            "data": STANDARD.encode(&data),
            "dataCrc32c": crc32c::crc32c(&data).to_string(),
        }});
        let req = ApiRequest::post(format!("/{}:addVersion", secret.path())).json(body);
        let mut created = match self.g.secrets.json::<Json>(ctx, req).await {
            Ok(v) => v,
            Err(e) if e.status.is_none() || matches!(e.status, Some(500 | 502 | 504)) => {
                tracing::debug!(secret = %secret.path(), "adding a version had an unknown outcome; looking for it");
                match self.find_added(ctx, &secret, before, &data).await? {
                    Some(v) => v,
                    None => return Err(e.error),
                }
            }
            Err(e) => return Err(e.error),
        };
        if !Attrs::new(planned).bool_or("enabled", true)? {
            let name = created.get("name").and_then(Json::as_str).unwrap_or_default();
            let v = VersionName { secret: secret.clone(), version: last_segment(name).to_string() };
            created = self.set_enabled(ctx, &v, false).await?;
        }
        Ok(self.state(&secret, &created, planned))
    }
}

#[async_trait]
impl ResourceType for SecretVersion {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        let mut out = timeouts::validate(config);
        if let Some(p) = config.get("deletion_policy").and_then(Value::as_str) {
            if !POLICIES.contains(&p) {
                out.push(ConfigProblem {
                    path: path("deletion_policy"),
                    message: format!("deletion_policy must be one of DELETE, DISABLE, ABANDON; got {p:?}"),
                });
            }
        }
        if let Some(s) = config.get("secret").and_then(Value::as_str) {
            if let Err(message) = SecretName::parse(s, Some("provider-project")) {
                out.push(ConfigProblem { path: path("secret"), message });
            }
        }
        out
    }

    async fn plan(&self, req: PlanRequest) -> Result<PlanResponse, ProviderError> {
        Ok(PlanResponse { planned: req.proposed, requires_replace: Vec::new() })
    }

    async fn create(&self, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let limit = timeouts::for_op(planned, "create", ctx, DEFAULT_TIMEOUT)?;
        within(limit, "create", "adding the secret version", self.create_inner(planned, ctx)).await
    }

    async fn recover(&self, planned: &Value, ctx: &OpContext) -> Result<Recovery, ProviderError> {
        /// How far back older versions are searched for our payload.
        const LOOK_BACK: u64 = 100;
        let secret = self.secret_of(planned)?;
        let data = payload(planned)?;
        let newest = self.newest(ctx, &secret).await?;
        let mut older_match = None;
        for n in (newest.saturating_sub(LOOK_BACK) + 1..=newest).rev() {
            let v = VersionName { secret: secret.clone(), version: n.to_string() };
            let Some(meta) = self.get(ctx, &v).await? else { continue };
            let state = meta.get("state").and_then(Json::as_str).unwrap_or("STATE_UNSPECIFIED");
            if state == "DESTROYED" {
                continue;
            }
            if n == newest && state != "ENABLED" {
                return Ok(Recovery::Unknown {
                    reason: format!(
                        "the newest version of {} ({n}) is {state}, so its payload cannot be compared with this \
                         resource's; enable it and plan again, or import it with `tenantform import <address> {}` \
                         if the interrupted create made it",
                        secret.path(),
                        v.path()
                    ),
                });
            }
            if state != "ENABLED" || self.payload_of(ctx, &v).await?.as_deref() != Some(&data[..]) {
                continue;
            }
            if n == newest {
                return Ok(Recovery::Found(self.state(&secret, &meta, planned)));
            }
            older_match = Some(v);
            break;
        }
        Ok(match older_match {
            None => Recovery::NotMade,
            Some(v) => Recovery::Unknown {
                reason: format!(
                    "version {} of {} holds this payload, but newer versions were added since, so it may not be the \
                     one the interrupted create made; import it with `tenantform import <address> {}` if it is",
                    v.version,
                    secret.path(),
                    v.path()
                ),
            },
        })
    }

    async fn read(&self, current: &Value, ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        let v = self.version_name(current)?;
        match self.get(ctx, &v).await? {
            Some(j) if j.get("state").and_then(Json::as_str) != Some("DESTROYED") => {
                Ok(Some(self.state(&v.secret, &j, current)))
            }
            _ => Ok(None),
        }
    }

    async fn update(&self, prior: &Value, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let v = self.version_name(prior)?;
        let limit = timeouts::for_op(planned, "update", ctx, DEFAULT_TIMEOUT)?;
        let fut = async {
            let enabled = Attrs::new(planned).bool_or("enabled", true)?;
            let j = if diff::changed(prior, planned, "enabled") {
                self.set_enabled(ctx, &v, enabled).await?
            } else {
                self.get(ctx, &v)
                    .await?
                    .ok_or_else(|| ProviderError::not_found(format!("secret version {} no longer exists", v.path())))?
            };
            Ok(self.state(&v.secret, &j, planned))
        };
        within(limit, "update", "updating the secret version", fut).await
    }

    async fn delete(&self, current: &Value, ctx: &OpContext) -> Result<(), ProviderError> {
        let v = self.version_name(current)?;
        let policy = Attrs::new(current).str_or("deletion_policy", "DELETE")?.to_string();
        let limit = timeouts::for_op(current, "delete", ctx, DEFAULT_TIMEOUT)?;
        let fut = async {
            let verb = match policy.as_str() {
                "ABANDON" => return Ok(()),
                "DISABLE" => "disable",
                _ => "destroy",
            };
            let req = ApiRequest::post(format!("/{}:{verb}", v.path())).json(json!({})).idempotent(true);
            match self.g.secrets.send(ctx, req).await {
                Ok(_) => Ok(()),
                // Gone, or already destroyed (FAILED_PRECONDITION): nothing left to do.
                Err(e) if e.is_status(404) => Ok(()),
                Err(e) if e.is_status(400) && verb == "destroy" && self.read(current, ctx).await?.is_none() => Ok(()),
                Err(e) => Err(e.error),
            }
        };
        within(limit, "delete", "deleting the secret version", fut).await
    }

    async fn import(&self, id: &str, ctx: &OpContext) -> Result<Value, ProviderError> {
        let v = VersionName::parse(id).map_err(ProviderError::permanent)?;
        let j = self
            .get(ctx, &v)
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("secret version {} does not exist", v.path())))?;
        let mut reference = Value::map([("secret", Value::string(v.secret.path()))]);
        if j.get("state").and_then(Json::as_str) == Some("ENABLED") {
            let accessed: Json = self.g.secrets.json(ctx, ApiRequest::get(format!("/{}:access", v.path()))).await?;
            let raw = accessed
                .pointer("/payload/data")
                .and_then(Json::as_str)
                .and_then(|d| STANDARD.decode(d).ok())
                .unwrap_or_default();
            match String::from_utf8(raw) {
                Ok(text) => diff::set(&mut reference, "secret_data", Value::string(text)),
                Err(e) => {
                    diff::set(&mut reference, "secret_data", Value::string(STANDARD.encode(e.into_bytes())));
                    diff::set(&mut reference, "is_secret_data_base64", Value::Bool(true));
                }
            }
        } else {
            tracing::warn!(version = %v.path(), "the version is not enabled, so its payload cannot be read; secret_data stays unset");
        }
        Ok(self.state(&v.secret, &j, &reference))
    }
}

//! The `neon` provider (like `kislerdm/neon`): branches, compute endpoints, roles, databases
//! and connection URIs of Neon serverless Postgres, through the Neon API v2.
//!
//! This module owns the provider configuration, the API client (the shared
//! [`crate::http`] client with Neon's error shape and `423 Locked` retries), the wait for
//! Neon operations, and small JSON→value helpers. Each resource type lives in its own file.
//!
//! Behaviour every resource shares:
//! - a mutation is done only when every operation it returned has finished (bounded by the
//!   resource's `timeouts {}`);
//! - creates are idempotent by name: a 409 from a repeated create (e.g. our own earlier
//!   attempt whose response was lost) adopts the existing object when it matches what was
//!   asked for, and fails loudly naming the difference otherwise;
//! - deleting something already gone (204/404) is success; `read` of a missing object is
//!   `None`, so the plan re-creates it.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value as Json;
use tenantform_engine::provider::{
    AttributeSchema, ConfiguredProvider, DataSourceType, ErrorKind, OpContext, Provider, ProviderError, ProviderSchema,
    ResourceType, Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use crate::http::{
    default_error_kind, poll_until, ApiClient, ApiConfig, ApiRequest, ErrorMapper, HttpFailure, PollOptions,
    PollStatus, RetryPolicy,
};
use crate::support::attrs::{path, Attrs};

pub mod branch;
pub mod connection_uri;
pub mod database;
pub mod endpoint;
pub mod role;

#[cfg(test)]
mod tests;

/// Default of the `endpoint` provider attribute.
pub const DEFAULT_ENDPOINT: &str = "https://console.neon.tech/api/v2";
/// Default limit of a create/update/delete, including the wait for its operations.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// The unconfigured `neon` provider.
pub struct NeonProvider;

/// Neon's error body `{"code", "message"}`; `423 Locked` is "refused, safe to retry".
pub struct NeonErrors;

impl ErrorMapper for NeonErrors {
    fn map(&self, f: &HttpFailure<'_>) -> ProviderError {
        let j = f.json();
        let msg = j.as_ref().and_then(|j| j.get("message")).and_then(Json::as_str).unwrap_or_default();
        let mut e = ProviderError::new(default_error_kind(f.status), f.summary(msg));
        if let Some(code) = j.as_ref().and_then(|j| j.get("code")).and_then(Json::as_str).filter(|c| !c.is_empty()) {
            e = e.with_detail(format!("Neon error code {code}"));
        }
        match f.status {
            401 => e.with_help("check the Neon API key (`api_key` in the provider block or NEON_API_KEY)"),
            403 => e.with_help("the API key has no access to this project"),
            _ => e,
        }
    }

    fn retry_refused(&self, status: u16, _body: &[u8]) -> bool {
        status == 423
    }
}

/// Settings of a configured Neon provider.
#[derive(Clone, Debug)]
pub struct NeonConfig {
    pub endpoint: String,
    pub api_key: String,
    pub retry: RetryPolicy,
    /// Smallest and largest pause between two polls of an operation.
    pub poll_interval: (Duration, Duration),
}

impl NeonConfig {
    pub fn new(endpoint: impl Into<String>, api_key: impl Into<String>) -> Self {
        NeonConfig {
            endpoint: endpoint.into(),
            api_key: api_key.into(),
            // A project runs one operation at a time and answers 423 Locked meanwhile, so
            // concurrent changes to one project wait in line: many attempts, bounded by time
            // (kislerdm/neon retries 423 for up to 120 s).
            retry: RetryPolicy {
                max_attempts: 100,
                max_backoff: Duration::from_secs(5),
                max_elapsed: Duration::from_secs(600),
                ..RetryPolicy::default()
            },
            poll_interval: (Duration::from_millis(100), Duration::from_secs(3)),
        }
    }
}

/// The API client every Neon resource shares.
#[derive(Clone, Debug)]
pub struct Neon {
    pub client: ApiClient,
    poll_interval: (Duration, Duration),
}

impl Neon {
    pub fn new(cfg: &NeonConfig) -> Result<Self, ProviderError> {
        let api = ApiConfig::new("neon", cfg.endpoint.clone())
            .bearer(cfg.api_key.clone())
            .retry(cfg.retry.clone())
            .redact(["connection_uri", "uri", "password"]);
        Ok(Neon { client: ApiClient::new(api, Arc::new(NeonErrors))?, poll_interval: cfg.poll_interval })
    }

    /// Waits until every operation in `ops` (a response's `operations` array) has finished.
    pub async fn wait_operations(
        &self,
        ctx: &OpContext,
        project: &str,
        ops: Option<&Json>,
        timeout: Duration,
    ) -> Result<(), ProviderError> {
        let Some(ops) = ops.and_then(Json::as_array) else { return Ok(()) };
        for op in ops {
            let id = op.get("id").and_then(Json::as_str).unwrap_or_default().to_string();
            let action = op.get("action").and_then(Json::as_str).unwrap_or("operation").to_string();
            if op_outcome(op, &id, &action)?.is_some() {
                continue;
            }
            let opts = PollOptions::new(format!("neon operation {action} ({id})"), timeout)
                .intervals(self.poll_interval.0, self.poll_interval.1);
            let path = format!("/projects/{project}/operations/{id}");
            poll_until(ctx, &opts, || async {
                let j: Json = self.client.json(ctx, ApiRequest::get(&path)).await?;
                let op = j.get("operation").cloned().unwrap_or(Json::Null);
                Ok(match op_outcome(&op, &id, &action)? {
                    Some(()) => PollStatus::Done(()),
                    None => PollStatus::Pending(op.get("status").and_then(Json::as_str).unwrap_or("?").to_string()),
                })
            })
            .await?;
        }
        Ok(())
    }
}

/// `Some(())` when an operation finished well, `None` while it runs, an error when it failed.
fn op_outcome(op: &Json, id: &str, action: &str) -> Result<Option<()>, ProviderError> {
    match op.get("status").and_then(Json::as_str).unwrap_or("") {
        "finished" | "skipped" => Ok(Some(())),
        "failed" | "error" | "cancelled" => {
            let status = op["status"].as_str().unwrap_or_default();
            let why = op.get("error").and_then(Json::as_str).unwrap_or("no error message");
            Err(ProviderError::permanent(format!("neon operation {action} ({id}) {status}: {why}")))
        }
        _ => Ok(None),
    }
}

/// `a/b/c` → `[a, b, c]` when there are exactly `n` non-empty parts.
pub(crate) fn split_id<'a>(id: &'a str, n: usize, format: &str) -> Result<Vec<&'a str>, ProviderError> {
    let parts: Vec<&str> = id.split('/').collect();
    if parts.len() != n || parts.iter().any(|p| p.is_empty()) {
        return Err(ProviderError::permanent(format!("invalid import ID {id:?}: expected {format}")));
    }
    Ok(parts)
}

/// A JSON string field as a value (`null` when absent).
pub(crate) fn jstr(j: &Json, key: &str) -> Value {
    j.get(key).and_then(Json::as_str).map(Value::string).unwrap_or(Value::Null)
}

pub(crate) fn jnum(j: &Json, key: &str) -> Value {
    j.get(key).and_then(Json::as_f64).map(Value::number).unwrap_or(Value::Null)
}

pub(crate) fn jbool(j: &Json, key: &str) -> Value {
    j.get(key).and_then(Json::as_bool).map(Value::Bool).unwrap_or(Value::Null)
}

/// A string attribute for a URL path segment: required, and free of `/`, `?` and `#`.
pub(crate) fn segment<'a>(v: &'a Value, name: &str) -> Result<&'a str, ProviderError> {
    let s = Attrs::new(v).str(name)?;
    if s.is_empty() || s.contains(['/', '?', '#']) {
        return Err(
            ProviderError::permanent(format!("`{name}` must not be empty or contain '/', '?' or '#'")).at(path(name))
        );
    }
    Ok(s)
}

/// `read` helper: a NotFound error becomes `None`.
pub(crate) fn found<T>(r: Result<T, ProviderError>) -> Result<Option<T>, ProviderError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[async_trait]
impl Provider for NeonProvider {
    fn name(&self) -> &'static str {
        "neon"
    }

    fn schema(&self) -> ProviderSchema {
        let config = Schema::new()
            .describe("Neon serverless Postgres through the Neon API v2.")
            .attr(
                "api_key",
                AttributeSchema::optional(Type::String)
                    .sensitive()
                    .describe("Neon API key. Defaults to the NEON_API_KEY environment variable."),
            )
            .attr(
                "endpoint",
                AttributeSchema::optional(Type::String).describe(format!(
                    "Base URL of the Neon API (default {DEFAULT_ENDPOINT}); point it at an emulator for tests."
                )),
            );
        let mut s = ProviderSchema { config, ..Default::default() };
        s.resources.insert("neon_branch".into(), branch::schema());
        s.resources.insert("neon_endpoint".into(), endpoint::schema());
        s.resources.insert("neon_role".into(), role::schema());
        s.resources.insert("neon_database".into(), database::schema());
        s.data_sources.insert("neon_connection_uri".into(), connection_uri::schema());
        s
    }

    async fn configure(&self, config: &Value) -> Result<Arc<dyn ConfiguredProvider>, ProviderError> {
        let a = Attrs::new(config);
        let env_key = std::env::var("NEON_API_KEY").ok().filter(|k| !k.is_empty());
        let api_key = match a.opt_str("api_key")?.map(str::to_string).or(env_key) {
            Some(k) => k,
            None => {
                return Err(ProviderError::permanent("no Neon API key")
                    .with_help("set `api_key` in the provider \"neon\" block or the NEON_API_KEY environment variable")
                    .at(path("api_key")))
            }
        };
        let endpoint = a.str_or("endpoint", DEFAULT_ENDPOINT)?;
        Ok(Arc::new(ConfiguredNeon::new(&NeonConfig::new(endpoint, api_key)).map_err(|e| e.at(path("endpoint")))?))
    }
}

/// The configured provider: resource types sharing one [`Neon`] client.
pub struct ConfiguredNeon {
    neon: Neon,
}

impl ConfiguredNeon {
    pub fn new(cfg: &NeonConfig) -> Result<Self, ProviderError> {
        Ok(ConfiguredNeon { neon: Neon::new(cfg)? })
    }
}

impl ConfiguredProvider for ConfiguredNeon {
    fn resource(&self, type_name: &str) -> Option<Arc<dyn ResourceType>> {
        let n = self.neon.clone();
        match type_name {
            "neon_branch" => Some(Arc::new(branch::Branch(n))),
            "neon_endpoint" => Some(Arc::new(endpoint::Endpoint(n))),
            "neon_role" => Some(Arc::new(role::Role(n))),
            "neon_database" => Some(Arc::new(database::Database(n))),
            _ => None,
        }
    }

    fn data_source(&self, type_name: &str) -> Option<Arc<dyn DataSourceType>> {
        match type_name {
            "neon_connection_uri" => Some(Arc::new(connection_uri::ConnectionUri(self.neon.clone()))),
            _ => None,
        }
    }
}

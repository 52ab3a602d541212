//! The `google` provider (like hashicorp/google): Secret Manager secrets, secret versions and
//! secret IAM members; Cloud Run v2 services and their IAM members.
//!
//! This module owns the provider configuration (attribute and environment-variable names as
//! in the Terraform provider), credentials ([`auth`]), the two API clients built on the shared
//! [`crate::http`] client, the Google error mapping ([`errors`]) and the helpers every Google
//! resource shares (adoption on `ALREADY_EXISTS`, long-running operations, IAM
//! read-modify-write in [`iam`]). Each resource type lives in its own file and must not talk
//! HTTP except through [`Google`]'s clients.
//!
//! Secrets never reach a log: the clients redact `payload.data` and the usual secret field
//! names from traced bodies, and error messages carry only the API's own `message`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value as Json;
use tenantform_engine::provider::{
    AttributeSchema, ConfiguredProvider, OpContext, Provider, ProviderError, ProviderSchema, ResourceType, Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use crate::http::{
    ApiClient, ApiConfig, ApiError, ApiRequest, ErrorMapper, HttpFailure, PollOptions, PollStatus, RetryPolicy,
};
use crate::support::attrs::{path, Attrs};

pub mod auth;
pub mod cloud_run_v2_service;
pub mod cloud_run_v2_service_iam_member;
pub mod convert;
pub mod errors;
pub mod iam;
pub mod names;
pub mod secret_manager_secret;
pub mod secret_manager_secret_iam_member;
pub mod secret_manager_secret_version;

#[cfg(test)]
mod tests;

/// The Terraform provider's default for every `timeouts` entry.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// Default Secret Manager endpoint (what `secret_manager_custom_endpoint` replaces).
pub const SECRET_MANAGER_ENDPOINT: &str = "https://secretmanager.googleapis.com/v1/";
/// Default Cloud Run Admin API v2 endpoint (what `cloud_run_v2_custom_endpoint` replaces).
pub const CLOUD_RUN_V2_ENDPOINT: &str = "https://run.googleapis.com/v2/";

/// Environment variables read by `configure`, in order of precedence, as the Terraform
/// provider reads them.
pub const PROJECT_ENV: &[&str] = &["GOOGLE_PROJECT", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"];
pub const REGION_ENV: &[&str] = &["GOOGLE_REGION", "GCLOUD_REGION", "CLOUDSDK_COMPUTE_REGION"];
pub const ACCESS_TOKEN_ENV: &[&str] = &["GOOGLE_OAUTH_ACCESS_TOKEN"];
pub const CREDENTIALS_ENV: &[&str] =
    &["GOOGLE_CREDENTIALS", "GOOGLE_CLOUD_KEYFILE_JSON", "GCLOUD_KEYFILE_JSON", "GOOGLE_APPLICATION_CREDENTIALS"];
pub const SECRET_MANAGER_ENDPOINT_ENV: &str = "GOOGLE_SECRET_MANAGER_CUSTOM_ENDPOINT";
pub const CLOUD_RUN_V2_ENDPOINT_ENV: &str = "GOOGLE_CLOUD_RUN_V2_CUSTOM_ENDPOINT";

type EnvFn = dyn Fn(&str) -> Option<String> + Send + Sync;

/// The unconfigured `google` provider.
#[derive(Clone)]
pub struct GoogleProvider {
    env: Arc<EnvFn>,
    retry: RetryPolicy,
    poll_initial: Duration,
}

impl Default for GoogleProvider {
    fn default() -> Self {
        GoogleProvider {
            env: Arc::new(|k| std::env::var(k).ok().filter(|v| !v.is_empty())),
            retry: RetryPolicy::default(),
            poll_initial: Duration::from_millis(500),
        }
    }
}

impl GoogleProvider {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads environment variables through `env` instead of the process environment.
    pub fn with_env(mut self, env: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.env = Arc::new(env);
        self
    }

    /// Retry pacing and operation-poll start interval (tests use fast ones).
    pub fn with_pacing(mut self, retry: RetryPolicy, poll_initial: Duration) -> Self {
        self.retry = retry;
        self.poll_initial = poll_initial;
        self
    }

    fn first_env(&self, names: &[&str]) -> Option<String> {
        names.iter().find_map(|n| (self.env)(n))
    }
}

fn config_schema() -> Schema {
    let s = |d: &str| AttributeSchema::optional(Type::String).describe(d);
    Schema::new()
        .describe("Google Cloud: Secret Manager and Cloud Run v2, authenticated with an access token or a service-account key.")
        .attr("project", s("Default project of resources that set none. Env: GOOGLE_PROJECT, GOOGLE_CLOUD_PROJECT, GCLOUD_PROJECT, CLOUDSDK_CORE_PROJECT."))
        .attr("region", s("Default location of regional resources (Cloud Run). Env: GOOGLE_REGION, GCLOUD_REGION, CLOUDSDK_COMPUTE_REGION."))
        .attr(
            "access_token",
            AttributeSchema::optional(Type::String)
                .sensitive()
                .describe("An OAuth 2.0 access token (e.g. `gcloud auth print-access-token`); used as is, never refreshed. Env: GOOGLE_OAUTH_ACCESS_TOKEN. Conflicts with credentials."),
        )
        .attr(
            "credentials",
            AttributeSchema::optional(Type::String).sensitive().describe(
                "A service-account key: the path of its JSON file or the JSON itself. Exchanged for access tokens with a signed JWT at the key's token_uri. \
                 Env: GOOGLE_CREDENTIALS, GOOGLE_CLOUD_KEYFILE_JSON, GCLOUD_KEYFILE_JSON, GOOGLE_APPLICATION_CREDENTIALS.",
            ),
        )
        .attr(
            "scopes",
            AttributeSchema::optional(Type::List(Box::new(Type::String)))
                .describe("OAuth scopes requested for service-account tokens. Default [\"https://www.googleapis.com/auth/cloud-platform\"]."),
        )
        .attr("request_timeout", s("Upper bound of one HTTP request, e.g. \"60s\". Default \"60s\"."))
        .attr(
            "secret_manager_custom_endpoint",
            s("Base URL of the Secret Manager API including the version, e.g. \"http://127.0.0.1:8085/v1/\". Env: GOOGLE_SECRET_MANAGER_CUSTOM_ENDPOINT."),
        )
        .attr(
            "cloud_run_v2_custom_endpoint",
            s("Base URL of the Cloud Run Admin API v2 including the version, e.g. \"http://127.0.0.1:8086/v2/\". Env: GOOGLE_CLOUD_RUN_V2_CUSTOM_ENDPOINT."),
        )
}

#[async_trait]
impl Provider for GoogleProvider {
    fn name(&self) -> &'static str {
        "google"
    }

    fn schema(&self) -> ProviderSchema {
        let mut s = ProviderSchema { config: config_schema(), ..Default::default() };
        s.resources.insert("google_secret_manager_secret".into(), secret_manager_secret::schema());
        s.resources.insert("google_secret_manager_secret_version".into(), secret_manager_secret_version::schema());
        s.resources
            .insert("google_secret_manager_secret_iam_member".into(), secret_manager_secret_iam_member::schema());
        s.resources.insert("google_cloud_run_v2_service".into(), cloud_run_v2_service::schema());
        s.resources.insert("google_cloud_run_v2_service_iam_member".into(), cloud_run_v2_service_iam_member::schema());
        s
    }

    async fn configure(&self, config: &Value) -> Result<Arc<dyn ConfiguredProvider>, ProviderError> {
        Ok(Arc::new(ConfiguredGoogle { google: Arc::new(self.build(config)?) }))
    }
}

impl GoogleProvider {
    /// Builds the configured provider state (clients, credentials, defaults).
    pub fn build(&self, config: &Value) -> Result<Google, ProviderError> {
        let a = Attrs::new(config);
        let project = a.opt_str("project")?.map(str::to_string).or_else(|| self.first_env(PROJECT_ENV));
        let region = a.opt_str("region")?.map(str::to_string).or_else(|| self.first_env(REGION_ENV));
        let scopes = a.opt_string_list("scopes")?.unwrap_or_else(|| vec![auth::CLOUD_PLATFORM_SCOPE.to_string()]);
        let token = a.opt_str("access_token")?;
        let creds = a.opt_str("credentials")?;
        let credentials = match (token, creds) {
            (Some(_), Some(_)) => {
                return Err(ProviderError::permanent("`access_token` and `credentials` are mutually exclusive")
                    .with_help("set one of them (or neither, to use the environment)")
                    .at(path("credentials")))
            }
            (Some(t), None) => auth::Credentials::AccessToken(t.to_string()),
            (None, Some(c)) => auth::Credentials::ServiceAccount(
                auth::ServiceAccountKey::from_path_or_contents(c).map_err(|e| e.at(path("credentials")))?,
            ),
            (None, None) => match (self.first_env(ACCESS_TOKEN_ENV), self.first_env(CREDENTIALS_ENV)) {
                (Some(t), _) => auth::Credentials::AccessToken(t),
                (None, Some(c)) => {
                    auth::Credentials::ServiceAccount(auth::ServiceAccountKey::from_path_or_contents(&c)?)
                }
                (None, None) => {
                    return Err(ProviderError::permanent("no Google credentials: set `access_token` or `credentials`")
                        .with_help(
                            "export GOOGLE_OAUTH_ACCESS_TOKEN=$(gcloud auth print-access-token), or point \
                             GOOGLE_APPLICATION_CREDENTIALS at a service-account key file",
                        ))
                }
            },
        };
        let project = project.or_else(|| match &credentials {
            auth::Credentials::ServiceAccount(k) => k.project_id.clone(),
            auth::Credentials::AccessToken(_) => None,
        });
        let request_timeout = match a.opt_str("request_timeout")? {
            Some(s) => crate::support::duration::parse(s)
                .map_err(|e| ProviderError::permanent(format!("`request_timeout`: {e}")).at(path("request_timeout")))?,
            None => Duration::from_secs(60),
        };
        let tokens = Arc::new(auth::GoogleTokens::new(credentials, scopes)?);
        let endpoint = |attr: &str, env: &str, default: &str| -> Result<String, ProviderError> {
            Ok(a.opt_str(attr)?.map(str::to_string).or_else(|| (self.env)(env)).unwrap_or_else(|| default.to_string()))
        };
        let client = |api: &str, base: String| -> Result<ApiClient, ProviderError> {
            let cfg = ApiConfig::new(api, base)
                .token_source(tokens.clone())
                .request_timeout(request_timeout)
                .retry(self.retry.clone())
                .redact(["payload.data", "secret_data", "data"]);
            ApiClient::new(cfg, Arc::new(GoogleErrors))
        };
        let secrets = client(
            "secretmanager",
            endpoint("secret_manager_custom_endpoint", SECRET_MANAGER_ENDPOINT_ENV, SECRET_MANAGER_ENDPOINT)?,
        )
        .map_err(|e| e.at(path("secret_manager_custom_endpoint")))?;
        let run =
            client("run", endpoint("cloud_run_v2_custom_endpoint", CLOUD_RUN_V2_ENDPOINT_ENV, CLOUD_RUN_V2_ENDPOINT)?)
                .map_err(|e| e.at(path("cloud_run_v2_custom_endpoint")))?;
        Ok(Google {
            project,
            region,
            secrets,
            run,
            poll_initial: self.poll_initial,
            iam_locks: Mutex::new(HashMap::new()),
        })
    }
}

/// Maps Google error bodies; `ABORTED` is not retried blindly (the caller re-reads first).
pub struct GoogleErrors;

impl ErrorMapper for GoogleErrors {
    fn map(&self, f: &HttpFailure<'_>) -> ProviderError {
        let g = errors::GoogleError::from_response(f.status, f.body);
        let summary = f.summary(&g.message);
        g.into_provider_error_with_summary(summary)
    }
}

/// The configured provider's shared state, handed to every resource.
pub struct Google {
    pub project: Option<String>,
    pub region: Option<String>,
    pub secrets: ApiClient,
    pub run: ApiClient,
    pub poll_initial: Duration,
    iam_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Google {
    /// The project of a resource: its own `project` attribute, else the provider's.
    pub fn project_of(&self, v: &Value) -> Result<String, ProviderError> {
        if let Some(p) = Attrs::new(v).opt_str_computed("project")? {
            return Ok(p.to_string());
        }
        self.project.clone().ok_or_else(|| {
            ProviderError::permanent("no project: set `project` on the resource or in the provider block")
                .with_help("or export GOOGLE_PROJECT")
                .at(path("project"))
        })
    }

    /// One lock per IAM resource, so this process never races itself in read-modify-write.
    pub fn iam_lock(&self, resource: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut m = self.iam_locks.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(resource.to_string()).or_default().clone()
    }

    /// Waits for a Cloud Run long-running operation; returns its `response`.
    pub async fn wait_operation(&self, ctx: &OpContext, op: &Json, timeout: Duration) -> Result<Json, ProviderError> {
        let name = op.get("name").and_then(Json::as_str).unwrap_or_default().to_string();
        if name.is_empty() {
            return Err(ProviderError::permanent("Cloud Run answered without an operation name"));
        }
        let opts = PollOptions::new(format!("Cloud Run operation {name}"), timeout)
            .intervals(self.poll_initial, Duration::from_secs(10));
        let first = op.clone();
        let mut current: Option<Json> = Some(first);
        crate::http::poll_until(ctx, &opts, || {
            let cached = current.take();
            let name = name.clone();
            async move {
                let op = match cached {
                    Some(op) => op,
                    None => self.run.json::<Json>(ctx, ApiRequest::get(format!("/{name}"))).await?,
                };
                operation_status(&op)
            }
        })
        .await
    }
}

/// Reads a google.longrunning.Operation: pending, done with a response, or failed.
pub fn operation_status(op: &Json) -> Result<PollStatus<Json>, ProviderError> {
    if !op.get("done").and_then(Json::as_bool).unwrap_or(false) {
        return Ok(PollStatus::Pending("running".into()));
    }
    if let Some(err) = op.get("error").filter(|e| !e.is_null()) {
        let code = err.get("code").and_then(Json::as_i64).unwrap_or(2);
        let message = err.get("message").and_then(Json::as_str).unwrap_or("(no message)");
        return Err(ProviderError::permanent(format!("Cloud Run operation failed: {message}"))
            .with_detail(format!("{} (code {code})", errors::status_for_rpc_code(code))));
    }
    Ok(PollStatus::Done(op.get("response").cloned().unwrap_or(Json::Null)))
}

/// Runs `fut` within `limit`, turning an overrun into an error naming the `timeouts` entry.
pub async fn within<T>(
    limit: Duration,
    op: &str,
    what: &str,
    fut: impl std::future::Future<Output = Result<T, ProviderError>>,
) -> Result<T, ProviderError> {
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => r,
        Err(_) => Err(ProviderError::permanent(format!("{what} did not finish within {limit:?}")).with_help(format!(
            "the API may still finish the work; raise `timeouts {{ {op} = \"…\" }}` if it is normally this slow, then apply again"
        ))),
    }
}

/// True when every field of `want` is in `got` with an equal value (objects recursively,
/// arrays element by element with the same length). Used to decide whether an object found
/// on `ALREADY_EXISTS` (or by an interrupted create's recovery) is the one we asked for:
/// server-added defaults are ignored, and a field `got` omits counts as its proto3 default
/// (Google's JSON leaves out `0`, `false`, `""`, empty lists and maps).
pub fn json_subset(want: &Json, got: &Json) -> bool {
    json_differences(want, got).is_empty()
}

/// The fields of `want` that `got` does not have with an equal value, as
/// `template.containers[0].image: "x" here, "y" requested` lines (see [`json_subset`]).
pub fn json_differences(want: &Json, got: &Json) -> Vec<String> {
    let mut out = Vec::new();
    diff_at("", want, got, &mut out);
    out
}

fn json_is_default(v: &Json) -> bool {
    match v {
        Json::Null => true,
        Json::Bool(b) => !b,
        Json::Number(n) => n.as_f64() == Some(0.0),
        Json::String(s) => s.is_empty() || s == "0",
        Json::Array(a) => a.is_empty(),
        Json::Object(m) => m.is_empty(),
    }
}

fn diff_at(at: &str, want: &Json, got: &Json, out: &mut Vec<String>) {
    let join = |k: &str| if at.is_empty() { k.to_string() } else { format!("{at}.{k}") };
    let same = match (want, got) {
        (Json::Object(w), Json::Object(g)) => {
            for (k, wv) in w {
                match g.get(k) {
                    Some(gv) => diff_at(&join(k), wv, gv, out),
                    None if json_is_default(wv) => {}
                    None => out.push(format!("{}: absent here, {wv} requested", join(k))),
                }
            }
            return;
        }
        (Json::Array(w), Json::Array(g)) if w.len() == g.len() => {
            for (i, (a, b)) in w.iter().zip(g).enumerate() {
                diff_at(&format!("{at}[{i}]"), a, b, out);
            }
            return;
        }
        (Json::Number(a), Json::Number(b)) => a.as_f64() == b.as_f64(),
        (Json::Number(a), Json::String(b)) | (Json::String(b), Json::Number(a)) => a.to_string() == *b,
        (a, b) => a == b,
    };
    if !same {
        let at = if at.is_empty() { "(the object)" } else { at };
        out.push(format!("{at}: {got} here, {want} requested"));
    }
}

/// Whether an API error is Google's `ALREADY_EXISTS`.
pub fn already_exists(e: &ApiError) -> bool {
    e.is_status(409)
        && e.body_json()
            .and_then(|j| j.pointer("/error/status").and_then(Json::as_str).map(|s| s == "ALREADY_EXISTS"))
            .unwrap_or(true)
}

/// Turns a GET's 404 into `None`.
pub fn found<T>(r: Result<T, ApiError>) -> Result<Option<T>, ProviderError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_status(404) => Ok(None),
        Err(e) => Err(e.error),
    }
}

/// Turns a DELETE's 404 into success.
pub fn gone_ok<T>(r: Result<T, ApiError>) -> Result<(), ProviderError> {
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.is_status(404) => Ok(()),
        Err(e) => Err(e.error),
    }
}

/// The configured provider: hands out resource types bound to one [`Google`].
pub struct ConfiguredGoogle {
    google: Arc<Google>,
}

impl ConfiguredGoogle {
    pub fn new(google: Google) -> Self {
        ConfiguredGoogle { google: Arc::new(google) }
    }
}

impl ConfiguredProvider for ConfiguredGoogle {
    fn resource(&self, type_name: &str) -> Option<Arc<dyn ResourceType>> {
        let g = self.google.clone();
        match type_name {
            "google_secret_manager_secret" => Some(Arc::new(secret_manager_secret::Secret::new(g))),
            "google_secret_manager_secret_version" => {
                Some(Arc::new(secret_manager_secret_version::SecretVersion::new(g)))
            }
            "google_secret_manager_secret_iam_member" => {
                Some(Arc::new(secret_manager_secret_iam_member::SecretIamMember::new(g)))
            }
            "google_cloud_run_v2_service" => Some(Arc::new(cloud_run_v2_service::Service::new(g))),
            "google_cloud_run_v2_service_iam_member" => {
                Some(Arc::new(cloud_run_v2_service_iam_member::ServiceIamMember::new(g)))
            }
            _ => None,
        }
    }
}

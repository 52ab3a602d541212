//! [`ApiClient`]: one API's base URL, auth, timeouts, retry loop, tracing and error mapping.
//! See the module docs of [`crate::http`] for the retry rules.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use tenantform_engine::provider::{ErrorKind, OpContext, ProviderError};

use super::redact::Redactor;
use super::retry::{parse_retry_after, RetryPolicy};

/// The `tracing` target of every line the client logs (`RUST_LOG=tenantform::http=debug`).
pub const LOG_TARGET: &str = "tenantform::http";

/// A source of short-lived bearer tokens (e.g. Google access tokens minted from a service
/// account key). Called before every attempt; cache inside.
#[async_trait]
pub trait TokenSource: Send + Sync {
    async fn token(&self, ctx: &OpContext) -> Result<String, ProviderError>;
    /// The API answered 401 with the last token: drop any cached one. The client then retries
    /// once with a fresh token.
    fn invalidate(&self) {}
}

/// How requests authenticate.
#[derive(Clone, Default)]
pub enum Auth {
    #[default]
    None,
    /// `Authorization: Bearer <token>` with a fixed token (API keys and tokens).
    Bearer(String),
    /// `Authorization: Bearer <token>` with a token from a [`TokenSource`].
    Source(Arc<dyn TokenSource>),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Auth::None => "None",
            Auth::Bearer(_) => "Bearer(<redacted>)",
            Auth::Source(_) => "Source(..)",
        })
    }
}

/// Settings of one API client.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// Short API name for log lines and error messages (`neon`, `cloudflare`).
    pub api: String,
    /// Base URL that request paths are appended to, e.g. `https://console.neon.tech/api/v2`.
    pub base_url: String,
    pub auth: Auth,
    /// Upper bound of one attempt (connect, send, receive the whole body).
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// Fields never logged (on top of the usual secret names).
    pub redactor: Redactor,
    pub user_agent: String,
}

impl ApiConfig {
    pub fn new(api: impl Into<String>, base_url: impl Into<String>) -> Self {
        ApiConfig {
            api: api.into(),
            base_url: base_url.into(),
            auth: Auth::None,
            request_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            redactor: Redactor::new(Vec::<String>::new()),
            user_agent: format!("tenantform/{}", env!("CARGO_PKG_VERSION")),
        }
    }
    pub fn bearer(mut self, token: impl Into<String>) -> Self {
        self.auth = Auth::Bearer(token.into());
        self
    }
    pub fn token_source(mut self, source: Arc<dyn TokenSource>) -> Self {
        self.auth = Auth::Source(source);
        self
    }
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout = d;
        self
    }
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }
    /// Adds fields to redact from logged bodies (`connection_uri`, `payload.data`).
    pub fn redact<S: AsRef<str>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        for f in fields {
            self.redactor.add(f.as_ref());
        }
        self
    }
}

/// A non-success response, handed to an [`ErrorMapper`].
#[derive(Debug)]
pub struct HttpFailure<'a> {
    pub api: &'a str,
    pub method: &'a Method,
    /// The request path (no query).
    pub path: &'a str,
    pub status: u16,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

impl HttpFailure<'_> {
    /// The body as JSON, when it is.
    pub fn json(&self) -> Option<Json> {
        serde_json::from_slice(self.body).ok()
    }

    /// `"<api> <METHOD> <path>: <status>: <message>"`, the summary shape every mapper uses.
    pub fn summary(&self, message: &str) -> String {
        let message = if message.trim().is_empty() { reason(self.status) } else { message.trim() };
        format!("{} {} {}: {} ({})", self.api, self.method, self.path, message, self.status)
    }
}

fn reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("request failed")
}

/// The kind a status code suggests: 404/410 → NotFound; 408, 423, 429, 5xx → Transient;
/// other 4xx → Permanent.
pub fn default_error_kind(status: u16) -> ErrorKind {
    match status {
        404 | 410 => ErrorKind::NotFound,
        408 | 423 | 429 | 500..=599 => ErrorKind::Transient,
        _ => ErrorKind::Permanent,
    }
}

/// Per-API knowledge of errors: the shape of error bodies and extra "refused, safe to
/// retry" responses.
pub trait ErrorMapper: Send + Sync {
    /// Turns a non-success response into an error whose summary carries the API's own
    /// message. The default takes `message` (or `error.message`) from a JSON body.
    fn map(&self, f: &HttpFailure<'_>) -> ProviderError {
        let msg = f
            .json()
            .and_then(|j| {
                j.get("message")
                    .or_else(|| j.get("error").and_then(|e| e.get("message")))
                    .and_then(Json::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_default();
        ProviderError::new(default_error_kind(f.status), f.summary(&msg))
    }

    /// Extra responses that mean "refused, nothing happened, try again later" (Neon's 423
    /// Locked). They are retried for every method, like 429 and 503.
    fn retry_refused(&self, _status: u16, _body: &[u8]) -> bool {
        false
    }
}

/// The default mapper: `message` / `error.message` from JSON bodies, no extra retries.
pub struct DefaultErrors;
impl ErrorMapper for DefaultErrors {}

/// One request to send: method, path (relative to the base URL, starting with `/`), query,
/// optional JSON body and per-request settings.
#[derive(Clone, Debug)]
pub struct ApiRequest {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Json>,
    pub headers: Vec<(String, String)>,
    /// `None`: decided by the method (GET, HEAD, PUT, DELETE, OPTIONS are idempotent).
    pub idempotent: Option<bool>,
    pub timeout: Option<Duration>,
}

impl ApiRequest {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        ApiRequest {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            headers: Vec::new(),
            idempotent: None,
            timeout: None,
        }
    }
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }
    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Method::POST, path)
    }
    pub fn put(path: impl Into<String>) -> Self {
        Self::new(Method::PUT, path)
    }
    pub fn patch(path: impl Into<String>) -> Self {
        Self::new(Method::PATCH, path)
    }
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((key.into(), value.into()));
        self
    }
    pub fn json(mut self, body: Json) -> Self {
        self.body = Some(body);
        self
    }
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    /// Declares that replaying this request after a lost response is safe: for a create that
    /// the API rejects when repeated by name (the caller adopts the object on "already
    /// exists"). Also settable to `false` to forbid replays of a PUT/DELETE.
    pub fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = Some(yes);
        self
    }
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }
    fn is_idempotent(&self) -> bool {
        self.idempotent.unwrap_or(matches!(
            self.method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        ))
    }
}

/// A response with its whole body read.
#[derive(Clone, Debug)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// How many attempts it took.
    pub attempts: u32,
    /// True when this (failed) response is the last of retries that ran out of attempts or time.
    pub gave_up: bool,
    api: String,
    method: Method,
    path: String,
}

impl ApiResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Decodes the body as JSON into `T`. The error never quotes the body (it may hold secrets).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ProviderError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            ProviderError::permanent(format!(
                "{} {} {}: unexpected response body ({})",
                self.api, self.method, self.path, self.status
            ))
            .with_detail(format!("could not decode JSON: {e}"))
        })
    }

    /// The body as untyped JSON (`null` when empty).
    pub fn json_value(&self) -> Result<Json, ProviderError> {
        if self.body.is_empty() {
            return Ok(Json::Null);
        }
        self.json()
    }
}

/// An error from [`ApiClient::send`]: the provider error plus, when the API answered, the
/// status and body so callers can react to specific answers (409 → adopt by name).
#[derive(Clone, Debug)]
pub struct ApiError {
    pub error: ProviderError,
    pub status: Option<u16>,
    pub body: Option<Bytes>,
}

impl ApiError {
    pub fn is_status(&self, status: u16) -> bool {
        self.status == Some(status)
    }
    pub fn kind(&self) -> ErrorKind {
        self.error.kind
    }
    /// The body of the API's answer as JSON, when there was one.
    pub fn body_json(&self) -> Option<Json> {
        self.body.as_ref().and_then(|b| serde_json::from_slice(b).ok())
    }
}

impl From<ProviderError> for ApiError {
    fn from(error: ProviderError) -> Self {
        ApiError { error, status: None, body: None }
    }
}

impl From<ApiError> for ProviderError {
    fn from(e: ApiError) -> Self {
        e.error
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for ApiError {}

/// A client of one API. Cheap to clone (shared connection pool).
#[derive(Clone)]
pub struct ApiClient {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: ApiConfig,
    mapper: Arc<dyn ErrorMapper>,
    http: reqwest::Client,
}

impl fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClient")
            .field("api", &self.inner.cfg.api)
            .field("base_url", &self.inner.cfg.base_url)
            .finish()
    }
}

impl ApiClient {
    pub fn new(cfg: ApiConfig, mapper: Arc<dyn ErrorMapper>) -> Result<Self, ProviderError> {
        let base = cfg.base_url.trim();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ProviderError::permanent(format!(
                "{} endpoint {:?} must be an http:// or https:// URL",
                cfg.api, cfg.base_url
            )));
        }
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .user_agent(cfg.user_agent.clone())
            .connect_timeout(Duration::from_secs(15).min(cfg.request_timeout))
            .build()
            .map_err(|e| ProviderError::permanent(format!("cannot build the {} HTTP client: {e}", cfg.api)))?;
        Ok(ApiClient { inner: Arc::new(Inner { cfg, mapper, http }) })
    }

    /// A client with the default error mapper.
    pub fn with_default_errors(cfg: ApiConfig) -> Result<Self, ProviderError> {
        Self::new(cfg, Arc::new(DefaultErrors))
    }

    pub fn api(&self) -> &str {
        &self.inner.cfg.api
    }

    pub fn base_url(&self) -> &str {
        &self.inner.cfg.base_url
    }

    pub fn config(&self) -> &ApiConfig {
        &self.inner.cfg
    }

    /// Sends with retries; a non-success final answer becomes an [`ApiError`] built by the
    /// API's [`ErrorMapper`].
    pub async fn send(&self, ctx: &OpContext, req: ApiRequest) -> Result<ApiResponse, ApiError> {
        let resp = self.send_raw(ctx, req).await?;
        if resp.is_success() {
            return Ok(resp);
        }
        Err(self.failure(&resp))
    }

    /// Sends and decodes a JSON success body.
    pub async fn json<T: DeserializeOwned>(&self, ctx: &OpContext, req: ApiRequest) -> Result<T, ApiError> {
        let resp = self.send(ctx, req).await?;
        Ok(resp.json()?)
    }

    /// The mapped error of a non-success response (what [`send`](Self::send) returns).
    pub fn failure(&self, resp: &ApiResponse) -> ApiError {
        let f = HttpFailure {
            api: &self.inner.cfg.api,
            method: &resp.method,
            path: &resp.path,
            status: resp.status,
            headers: &resp.headers,
            body: &resp.body,
        };
        // The client's retry policy already decided about this request.
        let mut error = self.inner.mapper.map(&f).already_retried();
        if resp.gave_up {
            let note = format!("gave up after {} attempts", resp.attempts);
            error.detail = Some(match error.detail.take() {
                Some(d) => format!("{d} ({note})"),
                None => note,
            });
        }
        ApiError { error, status: Some(resp.status), body: Some(resp.body.clone()) }
    }

    /// Sends with retries and returns the final answer whatever its status; only transport
    /// failures, cancellation and auth-token failures are errors.
    pub async fn send_raw(&self, ctx: &OpContext, req: ApiRequest) -> Result<ApiResponse, ApiError> {
        let cfg = &self.inner.cfg;
        let policy = &cfg.retry;
        let idempotent = req.is_idempotent();
        let url = format!("{}{}", cfg.base_url.trim_end_matches('/'), req.path);
        let log_path = if req.query.is_empty() {
            req.path.clone()
        } else {
            format!("{}?{}", req.path, cfg.redactor.redact_query(&req.query))
        };
        let body = match &req.body {
            Some(j) => Some(serde_json::to_vec(j).map_err(|e| {
                ProviderError::permanent(format!(
                    "{} {} {}: cannot encode the request: {e}",
                    cfg.api, req.method, req.path
                ))
            })?),
            None => None,
        };
        let start = Instant::now();
        let mut attempt: u32 = 0;
        let mut refreshed_token = false;
        loop {
            attempt += 1;
            if ctx.cancel.is_cancelled() {
                return Err(self.cancelled(&req, attempt > 1 && !idempotent).into());
            }
            let mut rb = self
                .inner
                .http
                .request(req.method.clone(), &url)
                .timeout(req.timeout.unwrap_or(cfg.request_timeout))
                .header(reqwest::header::ACCEPT, "application/json");
            if !req.query.is_empty() {
                rb = rb.query(&req.query);
            }
            for (k, v) in &req.headers {
                rb = rb.header(k.as_str(), v.as_str());
            }
            if let Some(token) = self.token(ctx).await? {
                let mut v = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                    ApiError::from(ProviderError::permanent(format!(
                        "the {} token contains characters not allowed in an HTTP header",
                        cfg.api
                    )))
                })?;
                v.set_sensitive(true);
                rb = rb.header(AUTHORIZATION, v);
            }
            if let Some(b) = &body {
                rb = rb.header(CONTENT_TYPE, "application/json").body(b.clone());
                if tracing::enabled!(target: LOG_TARGET, tracing::Level::TRACE) {
                    let shown = cfg.redactor.redact_json(req.body.as_ref().unwrap_or(&Json::Null));
                    tracing::trace!(target: LOG_TARGET, api = %cfg.api, method = %req.method, path = %log_path, attempt, body = %shown, "request body");
                }
            }
            let t0 = Instant::now();
            let outcome = tokio::select! {
                r = exchange(rb) => r,
                _ = ctx.cancel.cancelled() => {
                    return Err(self.cancelled(&req, !idempotent).into());
                }
            };
            let latency_ms = t0.elapsed().as_millis() as u64;
            match outcome {
                Ok((status, headers, bytes)) => {
                    tracing::debug!(target: LOG_TARGET, api = %cfg.api, method = %req.method, path = %log_path, status, attempt, latency_ms, "http call");
                    if tracing::enabled!(target: LOG_TARGET, tracing::Level::TRACE) {
                        tracing::trace!(target: LOG_TARGET, api = %cfg.api, method = %req.method, path = %log_path, status, body = %cfg.redactor.redact_body(&bytes), "response body");
                    }
                    let mut resp = ApiResponse {
                        status,
                        headers,
                        body: bytes,
                        attempts: attempt,
                        gave_up: false,
                        api: cfg.api.clone(),
                        method: req.method.clone(),
                        path: req.path.clone(),
                    };
                    if status < 400 {
                        return Ok(resp);
                    }
                    if status == 401 && !refreshed_token {
                        if let Auth::Source(s) = &cfg.auth {
                            s.invalidate();
                            refreshed_token = true;
                            attempt -= 1;
                            continue;
                        }
                    }
                    let refused = status == 429 || status == 503 || self.inner.mapper.retry_refused(status, &resp.body);
                    let ambiguous = matches!(status, 500 | 502 | 504);
                    if !(refused || (ambiguous && idempotent)) {
                        return Ok(resp);
                    }
                    let asked = resp.headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
                    let wait = asked.unwrap_or_else(|| policy.backoff(attempt));
                    if attempt >= policy.max_attempts || start.elapsed() + wait > policy.max_elapsed {
                        tracing::debug!(target: LOG_TARGET, api = %cfg.api, method = %req.method, path = %log_path, status, attempt, "giving up");
                        resp.gave_up = attempt > 1 || asked.is_some();
                        return Ok(resp);
                    }
                    tracing::debug!(target: LOG_TARGET, api = %cfg.api, method = %req.method, path = %log_path, status, attempt, wait_ms = wait.as_millis() as u64, retry_after = asked.is_some(), "retrying");
                    self.sleep(ctx, wait, &req, !idempotent).await?;
                }
                Err(e) => {
                    let connect = e.is_connect();
                    let what = describe_transport(&e);
                    tracing::debug!(target: LOG_TARGET, api = %cfg.api, method = %req.method, path = %log_path, attempt, latency_ms, error = %what, "http call failed");
                    if !connect && !idempotent {
                        // Not a refusal: the change may have happened. Transient (the engine
                        // keeps the create's intent and resolves it through `recover`), but
                        // marked retried so nobody replays what is unsafe to repeat.
                        return Err(ProviderError::transient(format!(
                            "{} {} {}: the response was lost ({what}); the outcome is unknown",
                            cfg.api, req.method, req.path
                        ))
                        .with_detail("the request was sent but no answer arrived; it was not repeated because repeating it is not safe")
                        .with_help("run `tenantform plan` to see whether the change happened, then apply again")
                        .already_retried()
                        .into());
                    }
                    let wait = policy.backoff(attempt);
                    if attempt >= policy.max_attempts || start.elapsed() + wait > policy.max_elapsed {
                        return Err(ProviderError::transient(format!(
                            "{} {} {}: {what}",
                            cfg.api, req.method, req.path
                        ))
                        .already_retried()
                        .with_detail(format!(
                            "gave up after {attempt} attempts in {:.1}s (endpoint {})",
                            start.elapsed().as_secs_f64(),
                            cfg.base_url
                        ))
                        .into());
                    }
                    tracing::debug!(target: LOG_TARGET, api = %cfg.api, method = %req.method, path = %log_path, attempt, wait_ms = wait.as_millis() as u64, "retrying");
                    self.sleep(ctx, wait, &req, !idempotent).await?;
                }
            }
        }
    }

    async fn token(&self, ctx: &OpContext) -> Result<Option<String>, ApiError> {
        match &self.inner.cfg.auth {
            Auth::None => Ok(None),
            Auth::Bearer(t) => Ok(Some(t.clone())),
            Auth::Source(s) => Ok(Some(s.token(ctx).await?)),
        }
    }

    async fn sleep(&self, ctx: &OpContext, d: Duration, req: &ApiRequest, unknown: bool) -> Result<(), ApiError> {
        tokio::select! {
            _ = tokio::time::sleep(d) => Ok(()),
            _ = ctx.cancel.cancelled() => Err(self.cancelled(req, unknown).into()),
        }
    }

    fn cancelled(&self, req: &ApiRequest, outcome_unknown: bool) -> ProviderError {
        let e = ProviderError::cancelled()
            .with_detail(format!("{} {} {} was interrupted", self.inner.cfg.api, req.method, req.path));
        if outcome_unknown {
            e.with_help("the request may have reached the API; run `tenantform plan` to see whether it took effect")
        } else {
            e
        }
    }
}

/// One attempt: send, read the whole body.
async fn exchange(rb: reqwest::RequestBuilder) -> Result<(u16, HeaderMap, Bytes), reqwest::Error> {
    let resp = rb.send().await?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.bytes().await?;
    Ok((status, headers, body))
}

/// A transport error in words, without the URL (whose query could matter) but with the
/// underlying cause ("connection refused").
fn describe_transport(e: &reqwest::Error) -> String {
    let mut out = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "could not connect".to_string()
    } else {
        "connection failed".to_string()
    };
    let mut source = std::error::Error::source(e);
    let mut last = String::new();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    if !last.is_empty() {
        out.push_str(": ");
        out.push_str(&last);
    }
    out
}

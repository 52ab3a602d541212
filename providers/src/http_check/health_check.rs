//! `http_health_check`: requests a URL until it answers with an expected status (and, when
//! asked, a body containing a given text) `consecutive_successes` times in a row, or fails once
//! `timeout` has passed.
//!
//! - The check runs on **create** and on an **update of its inputs** (`url`, `method`,
//!   `request_headers`, `request_body`, `expected_status_codes`, `body_contains`,
//!   `consecutive_successes`, `triggers`); `triggers` exists to re-check when something else
//!   changes, e.g. a new revision of the service. Changing only the pacing (`interval`,
//!   `request_timeout`, `timeout`) updates the state without checking again.
//! - **read never requests the URL**: a check is a gate at apply time, not a monitor, so it
//!   never shows drift. Import takes the URL as its ID and requests nothing either.
//! - Every answer and every connection error is one failed observation; nothing is retried by
//!   API rules. A failed check is a permanent error (the engine must not run the whole check
//!   again) naming the last observation; it never contains request headers or the URL's
//!   credentials and query (they may carry tokens).

use std::time::{Duration, Instant};

use async_trait::async_trait;
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, Url};
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, OpContext, PlanRequest, PlanResponse, ProviderError, ResourceSchema, ResourceType,
    Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::{PathStep, Value};

use crate::support::attrs::{path, Attrs};
use crate::support::{diff, duration, timefmt};

/// The `tracing` target of the check's log lines.
pub const LOG_TARGET: &str = "tenantform::http_check";

/// Inputs whose change makes an update check again.
const CHECK_INPUTS: &[&str] = &[
    "url",
    "method",
    "request_headers",
    "request_body",
    "expected_status_codes",
    "body_contains",
    "consecutive_successes",
    "triggers",
];
/// What a check records; unknown in a plan that will check.
const RESULTS: &[&str] = &["status_code", "last_checked", "attempts"];
/// Methods a check may use.
const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
/// How much of a response body is read (and searched for `body_contains`).
const MAX_BODY: usize = 1024 * 1024;
/// How much of the last body a failure message quotes.
const EXCERPT: usize = 200;

pub fn schema() -> ResourceSchema {
    // Nothing of a check can be read back from the service: an import records the configured
    // values, so adopting a check plans no change.
    let input = |a: AttributeSchema| a.from_config_on_import();
    let schema = Schema::new()
        .describe("Polls an HTTP endpoint until it answers as expected; fails the apply when it does not in time.")
        .attr(
            "url",
            input(AttributeSchema::required(Type::String))
                .describe("The http:// or https:// URL to request. Redirects are followed."),
        )
        .attr(
            "method",
            input(AttributeSchema::optional(Type::String))
                .default(Value::string("GET"))
                .describe("HTTP method: GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS."),
        )
        .attr(
            "request_headers",
            input(AttributeSchema::optional(Type::Map(Box::new(Type::String))))
                .describe("Headers sent with every request (never logged or shown in errors)."),
        )
        .attr("request_body", input(AttributeSchema::optional(Type::String)).describe("Body sent with every request."))
        .attr(
            "expected_status_codes",
            input(AttributeSchema::optional(Type::List(Box::new(Type::Number))))
                .default(Value::List(vec![Value::number(200)]))
                .describe("Status codes that count as healthy (after redirects)."),
        )
        .attr(
            "body_contains",
            input(AttributeSchema::optional(Type::String))
                .describe("When set, the body must also contain this text (the first 1 MiB is searched)."),
        )
        .attr(
            "consecutive_successes",
            input(AttributeSchema::optional(Type::Number))
                .default(Value::number(1))
                .describe("How many healthy answers in a row pass the check."),
        )
        .attr(
            "interval",
            input(AttributeSchema::optional(Type::String))
                .default(Value::string("2s"))
                .describe("Pause between two requests, e.g. \"500ms\", \"2s\"."),
        )
        .attr(
            "request_timeout",
            input(AttributeSchema::optional(Type::String))
                .default(Value::string("10s"))
                .describe("Limit of one request; a request that takes longer is a failed attempt."),
        )
        .attr(
            "timeout",
            input(AttributeSchema::optional(Type::String))
                .default(Value::string("5m"))
                .describe("How long to keep trying before the check (and the apply of this resource) fails."),
        )
        .attr(
            "triggers",
            input(AttributeSchema::optional(Type::Map(Box::new(Type::String))))
                .describe("Arbitrary values; a change runs the check again (e.g. a service's latest revision)."),
        )
        .attr("id", AttributeSchema::computed(Type::String).describe("The URL without credentials and query."))
        .attr(
            "status_code",
            AttributeSchema::computed(Type::Number).describe("Status of the answer that passed the check."),
        )
        .attr(
            "last_checked",
            AttributeSchema::computed(Type::String).describe("When the check last passed (RFC 3339, UTC)."),
        )
        .attr("attempts", AttributeSchema::computed(Type::Number).describe("Requests the last check needed."));
    ResourceSchema { schema, version: 0, import_id: "the URL, e.g. https://acme.example.com/healthz".into() }
}

/// The `http_health_check` resource type.
pub struct HealthCheck {
    client: reqwest::Client,
}

impl HealthCheck {
    pub fn new(client: reqwest::Client) -> Self {
        HealthCheck { client }
    }
}

/// A check's settings, parsed and validated.
#[derive(Debug)]
struct Check {
    url: Url,
    method: Method,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Option<String>,
    expected: Vec<u16>,
    contains: Option<String>,
    successes: u32,
    interval: Duration,
    request_timeout: Duration,
    timeout: Duration,
}

fn parse_url(s: &str) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|e| format!("invalid URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("the URL must start with http:// or https://, not {}://", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    Ok(url)
}

/// The URL as it may be shown: without user, password, query and fragment.
fn shown(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    let had_query = u.query().is_some_and(|q| !q.is_empty());
    u.set_query(None);
    u.set_fragment(None);
    if had_query {
        format!("{u}?…")
    } else {
        u.to_string()
    }
}

fn dur(a: &Attrs<'_>, name: &str, default: &str) -> Result<Duration, ProviderError> {
    let s = a.str_or(name, default)?;
    duration::parse(s).map_err(|e| ProviderError::permanent(format!("`{name}`: {e}")).at(path(name)))
}

impl Check {
    fn from_value(v: &Value) -> Result<Check, ProviderError> {
        let a = Attrs::new(v);
        let url = parse_url(a.str("url")?).map_err(|e| ProviderError::permanent(e).at(path("url")))?;
        let m = a.str_or("method", "GET")?.to_ascii_uppercase();
        if !METHODS.contains(&m.as_str()) {
            return Err(ProviderError::permanent(format!("unsupported method {m:?}")).at(path("method")));
        }
        let method = Method::from_bytes(m.as_bytes()).map_err(|e| ProviderError::permanent(e.to_string()))?;
        let mut headers = Vec::new();
        for (k, val) in a.string_map("request_headers")? {
            let at = vec![PathStep::Key("request_headers".into()), PathStep::Key(k.clone())];
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| ProviderError::permanent(format!("invalid header name {k:?}")).at(at.clone()))?;
            let value = HeaderValue::from_str(&val)
                .map_err(|_| ProviderError::permanent(format!("the value of header {k:?} is not valid")).at(at))?;
            headers.push((name, value));
        }
        let expected = match a.get("expected_status_codes")? {
            None => vec![200],
            Some(list) => {
                let items = list.as_list().unwrap_or_default();
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item.as_i64() {
                        Some(n) if (100..=599).contains(&n) => out.push(n as u16),
                        _ => {
                            return Err(ProviderError::permanent(
                                "expected_status_codes must be whole numbers from 100 to 599",
                            )
                            .at(vec![PathStep::Key("expected_status_codes".into()), PathStep::Index(i)]))
                        }
                    }
                }
                if out.is_empty() {
                    return Err(ProviderError::permanent("expected_status_codes must not be empty")
                        .at(path("expected_status_codes")));
                }
                out
            }
        };
        let successes = a.i64_or("consecutive_successes", 1)?;
        if !(1..=100).contains(&successes) {
            return Err(ProviderError::permanent("consecutive_successes must be between 1 and 100")
                .at(path("consecutive_successes")));
        }
        Ok(Check {
            url,
            method,
            headers,
            body: a.opt_str("request_body")?.map(str::to_string),
            expected,
            contains: a.opt_str("body_contains")?.filter(|s| !s.is_empty()).map(str::to_string),
            successes: successes as u32,
            interval: dur(&a, "interval", "2s")?,
            request_timeout: dur(&a, "request_timeout", "10s")?,
            timeout: dur(&a, "timeout", "5m")?,
        })
    }

    fn what(&self) -> String {
        format!("{} {}", self.method, shown(&self.url))
    }
}

/// One request's outcome.
#[derive(Debug)]
enum Observation {
    Healthy(u16),
    /// An answer that does not pass: why, and the start of its body.
    Unhealthy {
        status: u16,
        why: String,
        excerpt: String,
    },
    /// No answer at all.
    NoAnswer(String),
}

fn status_text(status: u16) -> String {
    match reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()) {
        Some(r) => format!("{status} {r}"),
        None => status.to_string(),
    }
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let t = text.trim();
    let mut out: String = t.chars().take(EXCERPT).collect();
    if t.chars().count() > EXCERPT {
        out.push('…');
    }
    out
}

/// The innermost cause of a request error, without the URL (which may carry a token).
fn describe(e: &reqwest::Error, limit: Duration) -> String {
    if e.is_timeout() {
        return format!("no answer within {}", human(limit));
    }
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let root = cause.to_string();
    if e.is_connect() {
        format!("cannot connect: {root}")
    } else if e.is_redirect() {
        "too many redirects".into()
    } else {
        format!("request failed: {root}")
    }
}

fn human(d: Duration) -> String {
    let secs = d.as_secs();
    if d.subsec_millis() != 0 {
        format!("{}ms", d.as_millis())
    } else if secs >= 60 && secs / 60 * 60 == secs {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

impl HealthCheck {
    async fn observe(&self, check: &Check, limit: Duration) -> Observation {
        let mut req = self.client.request(check.method.clone(), check.url.clone()).timeout(limit);
        for (k, v) in &check.headers {
            req = req.header(k.clone(), v.clone());
        }
        if let Some(b) = &check.body {
            req = req.body(b.clone());
        }
        let mut resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return Observation::NoAnswer(describe(&e, limit)),
        };
        let status = resp.status().as_u16();
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(c)) => {
                    let room = MAX_BODY.saturating_sub(body.len());
                    body.extend_from_slice(&c[..c.len().min(room)]);
                    if body.len() >= MAX_BODY {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => return Observation::NoAnswer(format!("answered {status} but {}", describe(&e, limit))),
            }
        }
        if !check.expected.contains(&status) {
            let want: Vec<String> = check.expected.iter().map(u16::to_string).collect();
            return Observation::Unhealthy {
                status,
                why: format!("answered {} (expected {})", status_text(status), want.join(" or ")),
                excerpt: excerpt(&body),
            };
        }
        if let Some(text) = &check.contains {
            if !String::from_utf8_lossy(&body).contains(text.as_str()) {
                return Observation::Unhealthy {
                    status,
                    why: format!("answered {} but the body does not contain {text:?}", status_text(status)),
                    excerpt: excerpt(&body),
                };
            }
        }
        Observation::Healthy(status)
    }

    /// Requests until the check passes; the passing status and the number of requests.
    async fn run(&self, check: &Check, ctx: &OpContext) -> Result<(u16, u32), ProviderError> {
        let start = Instant::now();
        let what = check.what();
        let mut attempts = 0u32;
        let mut streak = 0u32;
        loop {
            if ctx.cancel.is_cancelled() {
                return Err(ProviderError::cancelled().with_detail(format!("stopped checking {what}")));
            }
            attempts += 1;
            let remaining = check.timeout.saturating_sub(start.elapsed()).max(Duration::from_millis(100));
            let limit = check.request_timeout.min(remaining);
            let obs = tokio::select! {
                o = self.observe(check, limit) => o,
                _ = ctx.cancel.cancelled() => {
                    return Err(ProviderError::cancelled().with_detail(format!("stopped checking {what}")));
                }
            };
            let (summary, body) = match obs {
                Observation::Healthy(status) => {
                    streak += 1;
                    tracing::debug!(target: LOG_TARGET, address = %ctx.address, check = %what, status, attempts, streak, "healthy answer");
                    if streak >= check.successes {
                        return Ok((status, attempts));
                    }
                    (None, String::new())
                }
                Observation::Unhealthy { status, why, excerpt } => {
                    streak = 0;
                    tracing::debug!(target: LOG_TARGET, address = %ctx.address, check = %what, status, attempts, "unhealthy answer");
                    (Some(why), excerpt)
                }
                Observation::NoAnswer(why) => {
                    streak = 0;
                    tracing::debug!(target: LOG_TARGET, address = %ctx.address, check = %what, attempts, error = %why, "no answer");
                    (Some(why), String::new())
                }
            };
            let elapsed = start.elapsed();
            if elapsed >= check.timeout {
                let last =
                    summary.unwrap_or_else(|| format!("only {streak} of {} healthy answers in a row", check.successes));
                let mut e = ProviderError::permanent(format!(
                    "health check {what} did not pass within {}: {last} (after {attempts} attempts)",
                    human(check.timeout)
                ))
                .with_help(
                    "look at the service's logs; if it normally needs longer to become healthy, raise `timeout`",
                );
                if !body.is_empty() {
                    e = e.with_detail(format!("the last answer began with: {body}"));
                }
                return Err(e);
            }
            let wait = check.interval.min(check.timeout - elapsed);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = ctx.cancel.cancelled() => {
                    return Err(ProviderError::cancelled().with_detail(format!("stopped checking {what}")));
                }
            }
        }
    }

    async fn check_into(&self, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let check = Check::from_value(planned)?;
        let (status, attempts) = self.run(&check, ctx).await?;
        let mut out = planned.clone();
        diff::set(&mut out, "id", Value::string(shown(&check.url)));
        diff::set(&mut out, "status_code", Value::number(status));
        diff::set(&mut out, "last_checked", Value::string(timefmt::now_rfc3339()));
        diff::set(&mut out, "attempts", Value::number(attempts));
        Ok(out)
    }
}

#[async_trait]
impl ResourceType for HealthCheck {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        let mut out = Vec::new();
        let problem = |name: &str, message: String| ConfigProblem { path: path(name), message };
        if let Some(u) = config.get("url").and_then(Value::as_str) {
            if let Err(m) = parse_url(u) {
                out.push(problem("url", m));
            }
        }
        if let Some(m) = config.get("method").and_then(Value::as_str) {
            if !METHODS.contains(&m.to_ascii_uppercase().as_str()) {
                out.push(problem("method", format!("must be one of {}", METHODS.join(", "))));
            }
        }
        for name in ["interval", "request_timeout", "timeout"] {
            if let Some(s) = config.get(name).and_then(Value::as_str) {
                if let Err(m) = duration::parse(s) {
                    out.push(problem(name, m));
                }
            }
        }
        if let Some(n) = config.get("consecutive_successes").and_then(Value::as_f64) {
            if !(1.0..=100.0).contains(&n) || n.fract() != 0.0 {
                out.push(problem("consecutive_successes", "must be a whole number from 1 to 100".into()));
            }
        }
        if let Some(items) = config.get("expected_status_codes").and_then(Value::as_list) {
            if items.is_empty() {
                out.push(problem("expected_status_codes", "must list at least one status code".into()));
            }
            for (i, item) in items.iter().enumerate() {
                if let Some(n) = item.as_f64() {
                    if !(100.0..=599.0).contains(&n) || n.fract() != 0.0 {
                        out.push(ConfigProblem {
                            path: vec![PathStep::Key("expected_status_codes".into()), PathStep::Index(i)],
                            message: format!("{n} is not an HTTP status code (100 to 599)"),
                        });
                    }
                }
            }
        }
        out
    }

    async fn plan(&self, req: PlanRequest) -> Result<PlanResponse, ProviderError> {
        let mut planned = req.proposed;
        let id = match planned.get("url").and_then(Value::as_str).map(parse_url) {
            Some(Ok(u)) => Value::string(shown(&u)),
            _ => Value::Unknown,
        };
        diff::set(&mut planned, "id", id);
        match &req.prior {
            None => diff::mark_unknown(&mut planned, RESULTS),
            Some(prior) if diff::any_changed(prior, &planned, CHECK_INPUTS) => {
                diff::mark_unknown(&mut planned, RESULTS)
            }
            Some(_) => {}
        }
        Ok(PlanResponse { planned, requires_replace: Vec::new() })
    }

    async fn create(&self, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        self.check_into(planned, ctx).await
    }

    async fn read(&self, current: &Value, _ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        Ok(Some(current.clone()))
    }

    async fn update(&self, prior: &Value, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        if diff::any_changed(prior, planned, CHECK_INPUTS) {
            return self.check_into(planned, ctx).await;
        }
        Check::from_value(planned)?;
        let mut out = planned.clone();
        diff::copy(prior, &mut out, &["id", "status_code", "last_checked", "attempts"]);
        Ok(out)
    }

    async fn delete(&self, _current: &Value, _ctx: &OpContext) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn import(&self, id: &str, _ctx: &OpContext) -> Result<Value, ProviderError> {
        let url = parse_url(id).map_err(|e| {
            ProviderError::permanent(format!("invalid import ID: {e}")).with_help("the import ID is the URL to check")
        })?;
        Ok(Value::map([
            ("url", Value::string(id)),
            ("method", Value::string("GET")),
            ("request_headers", Value::Null),
            ("request_body", Value::Null),
            ("expected_status_codes", Value::List(vec![Value::number(200)])),
            ("body_contains", Value::Null),
            ("consecutive_successes", Value::number(1)),
            ("interval", Value::string("2s")),
            ("request_timeout", Value::string("10s")),
            ("timeout", Value::string("5m")),
            ("triggers", Value::Null),
            ("id", Value::string(shown(&url))),
            ("status_code", Value::Null),
            ("last_checked", Value::Null),
            ("attempts", Value::Null),
        ]))
    }
}

#[cfg(test)]
mod tests;

//! What the Google emulators share: the Google error model, a transport-neutral request type,
//! request-body validation against the discovery schemas ([`schema`]), the OAuth token endpoint
//! for the service-account JWT flow and bearer-token checks ([`oauth`]), and IAM policies with
//! etags ([`iam`]).
//!
//! The API logic is plain functions over the shared [`Collections`] and a [`GRequest`] →
//! `Result<Json, ApiError>`, unit-testable without a socket; [`api_router`] wires one API
//! (plus the `/token` endpoint) into axum behind the shared gate (faults, request log).

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use axum::Router;
use serde_json::{json, Value as Json};

use crate::store::Collections;
use crate::{Core, Shared};

pub mod iam;
pub mod oauth;
pub mod schema;

/// The canonical `status` string of an HTTP status in Google's error model.
pub fn canonical_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        405 | 412 => "FAILED_PRECONDITION",
        _ if status.is_server_error() => "INTERNAL",
        _ => "UNKNOWN",
    }
}

/// A Google API error response (the [`crate::Spec::error`] of the Google emulators).
pub fn error(status: StatusCode, message: &str) -> Response {
    let body = json!({"error": {"code": status.as_u16(), "message": message, "status": canonical_status(status)}});
    (status, axum::Json(body)).into_response()
}

/// A per-emulator counter kept in the store (etags, sequence numbers).
pub fn next_counter(c: &mut Collections, name: &str) -> u64 {
    let n = c.get("_counters", name).and_then(|d| d["value"].as_u64()).unwrap_or(0) + 1;
    c.insert("_counters", name, json!({"name": name, "value": n}));
    n
}

/// The logic of one Google API: `(core, store, request, caller principal)` → answer.
pub type ApiFn = fn(&Core, &mut Collections, &GRequest, &str) -> Result<Json, ApiError>;

/// The routes of a Google API emulator: everything under `/{version}/` goes to `api` (after
/// the bearer-token check), and `POST /token` is the OAuth token endpoint.
/// Turns an API's answer into what the wire carries (proto3 JSON: defaults omitted).
pub type OutputFn = fn(&GRequest, &Json) -> Json;

pub fn api_router(core: Shared, version: &'static str, api: ApiFn, output: OutputFn) -> Router {
    let token_core = core.clone();
    Router::new()
        .route(
            "/token",
            post(move |headers: HeaderMap, body: Bytes| {
                let core = token_core.clone();
                async move {
                    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
                    let audience = format!("http://{host}/token");
                    let now = core.now_ms();
                    let (status, j) = core.store.with(|c| oauth::token_endpoint(c, now, &body, &audience));
                    (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), axum::Json(j)).into_response()
                }
            }),
        )
        .route(
            &format!("/{version}/{{*rest}}"),
            any(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let core = core.clone();
                async move {
                    let req = GRequest {
                        method: method.to_string(),
                        path: uri.path().to_string(),
                        query: uri.query().map(parse_query).unwrap_or_default(),
                        authorization: headers.get("authorization").and_then(|h| h.to_str().ok()).map(str::to_string),
                        body: body.to_vec(),
                    };
                    let now = core.now_ms();
                    let result = core.store.with(|c| {
                        let caller = oauth::check(c, now, req.authorization.as_deref())?;
                        api(&core, c, &req, &caller)
                    });
                    match result {
                        Ok(j) => (StatusCode::OK, axum::Json(output(&req, &j))).into_response(),
                        Err(e) => e.into_response(),
                    }
                }
            }),
        )
}

/// An error in Google's JSON envelope.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub http: u16,
    pub status: &'static str,
    pub message: String,
    pub details: Vec<Json>,
}

impl ApiError {
    pub fn new(http: u16, status: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { http, status, message: message.into(), details: Vec::new() }
    }
    pub fn invalid_argument(message: impl Into<String>) -> ApiError {
        Self::new(400, "INVALID_ARGUMENT", message)
    }
    /// An INVALID_ARGUMENT naming the field, with a `BadRequest` detail as Google sends.
    pub fn invalid_argument_field(message: impl Into<String>, field: &str) -> ApiError {
        let message = message.into();
        let mut e = Self::invalid_argument(message.clone());
        e.details.push(json!({
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": field, "description": message}],
        }));
        e
    }
    pub fn failed_precondition(message: impl Into<String>) -> ApiError {
        Self::new(400, "FAILED_PRECONDITION", message)
    }
    pub fn not_found(message: impl Into<String>) -> ApiError {
        Self::new(404, "NOT_FOUND", message)
    }
    pub fn already_exists(message: impl Into<String>) -> ApiError {
        Self::new(409, "ALREADY_EXISTS", message)
    }
    pub fn aborted(message: impl Into<String>) -> ApiError {
        Self::new(409, "ABORTED", message)
    }
    pub fn unauthenticated() -> ApiError {
        Self::new(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other \
             valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
        )
    }

    /// The response body: `{"error": {"code", "message", "status", "details"?}}`.
    pub fn body(&self) -> Json {
        let mut e = json!({"code": self.http, "message": self.message, "status": self.status});
        if !self.details.is_empty() {
            e["details"] = Json::Array(self.details.clone());
        }
        json!({ "error": e })
    }

    /// The HTTP response.
    pub fn into_response(self) -> Response {
        (StatusCode::from_u16(self.http).unwrap_or(StatusCode::BAD_REQUEST), axum::Json(self.body())).into_response()
    }

    /// The numeric google.rpc.Code (for a long-running operation's `error`).
    pub fn rpc_code(&self) -> i64 {
        match self.status {
            "CANCELLED" => 1,
            "INVALID_ARGUMENT" => 3,
            "DEADLINE_EXCEEDED" => 4,
            "NOT_FOUND" => 5,
            "ALREADY_EXISTS" => 6,
            "PERMISSION_DENIED" => 7,
            "RESOURCE_EXHAUSTED" => 8,
            "FAILED_PRECONDITION" => 9,
            "ABORTED" => 10,
            "UNIMPLEMENTED" => 12,
            "INTERNAL" => 13,
            "UNAVAILABLE" => 14,
            "UNAUTHENTICATED" => 16,
            _ => 2,
        }
    }
}

/// A request as the API logic sees it.
#[derive(Clone, Debug, Default)]
pub struct GRequest {
    pub method: String,
    /// The path without the query string, e.g. `/v1/projects/p/secrets/s:addVersion`.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub authorization: Option<String>,
    pub body: Vec<u8>,
}

impl GRequest {
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Query parameters other than the allowed ones and the system parameters every Google API
    /// accepts (`alt`, `key`, `prettyPrint`, `fields`, …).
    pub fn check_query(&self, allowed: &[&str]) -> Result<(), ApiError> {
        const SYSTEM: &[&str] = &[
            "alt",
            "key",
            "prettyPrint",
            "fields",
            "quotaUser",
            "$.xgafv",
            "access_token",
            "callback",
            "upload_protocol",
            "uploadType",
        ];
        for (k, _) in &self.query {
            if !allowed.contains(&k.as_str()) && !SYSTEM.contains(&k.as_str()) {
                return Err(ApiError::invalid_argument(format!(
                    "Invalid JSON payload received. Unknown name \"{k}\": Cannot bind query parameter. Field '{k}' could not be found in request message."
                )));
            }
        }
        Ok(())
    }

    /// The body as JSON (an empty body is `{}`); malformed JSON is rejected like Google does.
    pub fn json(&self) -> Result<Json, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(json!({}));
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| ApiError::invalid_argument(format!("Invalid JSON payload received. Unexpected token.\n{e}")))
    }
}

/// Parses `a=b&c=d` (percent-decoding keys and values).
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Percent-decoding with `+` as space (form and query encoding).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Now as RFC 3339 with nanoseconds, like Google's timestamps (`2024-05-01T12:00:00.123456789Z`).
pub fn now_rfc3339() -> String {
    rfc3339_at(SystemTime::now())
}

/// A time as RFC 3339 UTC with nanoseconds.
pub fn rfc3339_at(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, dd) = civil_from_days(days);
    format!("{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}.{:09}Z", sod / 3600, (sod / 60) % 60, sod % 60, d.subsec_nanos())
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Maps project IDs to the project numbers the APIs answer with. Unknown IDs get a stable
/// number derived from the ID; a numeric ID is its own number.
#[derive(Clone, Debug, Default)]
pub struct Projects {
    pub numbers: BTreeMap<String, String>,
}

impl Projects {
    pub fn number(&self, project: &str) -> String {
        if project.chars().all(|c| c.is_ascii_digit()) {
            return project.to_string();
        }
        if let Some(n) = self.numbers.get(project) {
            return n.clone();
        }
        // FNV-1a: stable across runs, 12 digits like real project numbers.
        let mut h: u64 = 0xcbf29ce484222325;
        for b in project.bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
        format!("{}", 100_000_000_000 + h % 900_000_000_000)
    }
}

/// Splits `/v1/projects/p/secrets/s:addVersion` into path segments and the custom verb.
pub fn split_path<'a>(path: &'a str, prefix: &str) -> Option<(Vec<&'a str>, Option<&'a str>)> {
    let rest = path.strip_prefix(prefix)?;
    let (rest, verb) = match rest.rsplit_once(':') {
        Some((r, v)) if !v.contains('/') => (r, Some(v)),
        _ => (rest, None),
    };
    Some((rest.split('/').filter(|s| !s.is_empty()).collect(), verb))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_and_paths() {
        let e = ApiError::already_exists("Secret [projects/1/secrets/a] already exists.");
        assert_eq!(e.body()["error"]["status"], "ALREADY_EXISTS");
        assert_eq!(e.body()["error"]["code"], 409);
        assert_eq!(e.rpc_code(), 6);
        let (segs, verb) = split_path("/v1/projects/p/secrets/s:addVersion", "/v1/").unwrap();
        assert_eq!(segs, vec!["projects", "p", "secrets", "s"]);
        assert_eq!(verb, Some("addVersion"));
        assert_eq!(
            parse_query("secretId=a%2Db&x=1+2"),
            vec![("secretId".into(), "a-b".into()), ("x".into(), "1 2".into())]
        );
        assert_eq!(percent_decode("100%"), "100%");
        let p = Projects::default();
        assert_eq!(p.number("my-proj"), p.number("my-proj"));
        assert_eq!(p.number("my-proj").len(), 12);
        assert!(schema::is_timestamp(&now_rfc3339()));
    }
}

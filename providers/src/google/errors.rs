//! The Google API error model (`{"error": {"code", "message", "status", "details"}}`) and how
//! it becomes a [`ProviderError`] written for the user: the API's own message, what kind of
//! failure it is (retry or not), and what to do about it.
//!
//! Classification follows google.rpc.Code's HTTP mapping: 429 and 5xx are transient; 404 is
//! not-found; `ABORTED` (409, a concurrency conflict such as a stale IAM etag) is transient
//! because the caller re-reads and retries; every other 4xx — including `ALREADY_EXISTS` — is
//! permanent. Bodies are never echoed beyond the API's `message`, which Google writes for
//! humans and which never contains request payloads.

use serde::Deserialize;
use tenantform_engine::provider::{ErrorKind, ProviderError};

/// A decoded Google error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoogleError {
    /// HTTP status code.
    pub http: u16,
    /// The canonical status name (`NOT_FOUND`, `ALREADY_EXISTS`, …); derived from the HTTP
    /// code when the body has none.
    pub status: String,
    pub message: String,
}

#[derive(Deserialize)]
struct Envelope {
    error: Body,
}

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: Option<String>,
}

/// The canonical status name for an HTTP code (used when a body carries none, e.g. a proxy
/// in front of the API answered).
pub fn status_for_http(http: u16) -> &'static str {
    match http {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        412 => "FAILED_PRECONDITION",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        500..=599 => "INTERNAL",
        _ => "UNKNOWN",
    }
}

/// The canonical status name of a numeric google.rpc.Code (as found in a long-running
/// operation's `error.code`).
pub fn status_for_rpc_code(code: i64) -> &'static str {
    match code {
        0 => "OK",
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => "UNKNOWN",
    }
}

impl GoogleError {
    /// Decodes an error response; a body that is not the Google envelope still yields an
    /// error named by its HTTP status.
    pub fn from_response(http: u16, body: &[u8]) -> GoogleError {
        match serde_json::from_slice::<Envelope>(body) {
            Ok(Envelope { error }) => GoogleError {
                http,
                status: error.status.filter(|s| !s.is_empty()).unwrap_or_else(|| status_for_http(http).to_string()),
                message: error.message,
            },
            Err(_) => GoogleError { http, status: status_for_http(http).to_string(), message: String::new() },
        }
    }

    pub fn is(&self, status: &str) -> bool {
        self.status == status
    }

    pub fn kind(&self) -> ErrorKind {
        match (self.http, self.status.as_str()) {
            (404, _) | (_, "NOT_FOUND") => ErrorKind::NotFound,
            (429, _) | (500..=599, _) => ErrorKind::Transient,
            (_, "ABORTED" | "UNAVAILABLE" | "RESOURCE_EXHAUSTED" | "DEADLINE_EXCEEDED" | "INTERNAL") => {
                ErrorKind::Transient
            }
            _ => ErrorKind::Permanent,
        }
    }

    /// A user-facing error for a failed call; `what` says what was being done
    /// ("creating secret projects/p/secrets/db-url").
    pub fn into_provider_error(self, what: &str) -> ProviderError {
        let message = if self.message.is_empty() { "(no message)".to_string() } else { self.message.clone() };
        self.into_provider_error_with_summary(format!("{what} failed: {message}"))
    }

    /// A user-facing error with the given summary (which should carry the API's message).
    pub fn into_provider_error_with_summary(self, summary: String) -> ProviderError {
        let mut e = ProviderError::new(self.kind(), summary).with_detail(format!("HTTP {} {}", self.http, self.status));
        if let Some(h) = help_for(&self) {
            e = e.with_help(h);
        }
        e
    }
}

fn help_for(e: &GoogleError) -> Option<&'static str> {
    match e.status.as_str() {
        "UNAUTHENTICATED" => Some(
            "the access token was refused: refresh `access_token` (`gcloud auth print-access-token`) or check \
             the service-account key given in `credentials`",
        ),
        "PERMISSION_DENIED" => Some(
            "the caller lacks an IAM permission, or the API is not enabled in the project \
             (`gcloud services enable secretmanager.googleapis.com run.googleapis.com`)",
        ),
        "RESOURCE_EXHAUSTED" => Some("a quota or rate limit was hit; retry later or request more quota"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_google_envelope_and_classifies() {
        let body = br#"{"error":{"code":409,"message":"Secret [projects/1/secrets/a] already exists.","status":"ALREADY_EXISTS"}}"#;
        let e = GoogleError::from_response(409, body);
        assert!(e.is("ALREADY_EXISTS"));
        assert_eq!(e.kind(), ErrorKind::Permanent);
        let pe = e.into_provider_error("creating secret a");
        assert!(pe.summary.contains("already exists"), "{}", pe.summary);
        assert_eq!(pe.detail.as_deref(), Some("HTTP 409 ALREADY_EXISTS"));

        let aborted = GoogleError::from_response(409, br#"{"error":{"code":409,"message":"x","status":"ABORTED"}}"#);
        assert_eq!(aborted.kind(), ErrorKind::Transient);
        assert_eq!(GoogleError::from_response(503, b"<html>").kind(), ErrorKind::Transient);
        assert_eq!(GoogleError::from_response(503, b"<html>").status, "UNAVAILABLE");
        assert_eq!(GoogleError::from_response(404, b"").kind(), ErrorKind::NotFound);
        let denied = GoogleError::from_response(403, br#"{"error":{"message":"no","status":"PERMISSION_DENIED"}}"#);
        assert!(denied.into_provider_error("x").help.unwrap().contains("IAM"));
        assert_eq!(status_for_rpc_code(9), "FAILED_PRECONDITION");
    }
}

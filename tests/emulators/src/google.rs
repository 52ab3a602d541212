//! Pieces shared by the Google API emulators (Secret Manager, Cloud Run): the Google error
//! model `{"error": {"code", "message", "status"}}`. Owned by the Google providers' work,
//! which extends it (token endpoint, long-running operations).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

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

/// A Google API error response.
pub fn error(status: StatusCode, message: &str) -> Response {
    let body = json!({"error": {"code": status.as_u16(), "message": message, "status": canonical_status(status)}});
    (status, axum::Json(body)).into_response()
}

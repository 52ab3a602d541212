//! The Cloudflare API v4 emulator (work in progress: routes land next).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::json;

use crate::{Core, Shared, Spec};

pub fn spec() -> Spec {
    Spec { base_path: "/client/v4", router, admin, seed, error, public_paths: &[] }
}

fn router(_core: Shared) -> Router {
    Router::new()
}

fn admin(_core: Shared) -> Router {
    Router::new()
}

fn seed(_core: &Core) {}

/// Cloudflare's failure envelope.
pub fn error(status: StatusCode, message: &str) -> Response {
    let body =
        json!({"success": false, "errors": [{"code": 10000, "message": message}], "messages": [], "result": null});
    (status, axum::Json(body)).into_response()
}

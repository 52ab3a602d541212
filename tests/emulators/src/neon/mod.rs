//! The Neon API v2 emulator (work in progress: routes land next).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::json;

use crate::{Core, Shared, Spec};

pub fn spec() -> Spec {
    Spec { base_path: "/api/v2", router, admin, seed, error, public_paths: &[] }
}

fn router(_core: Shared) -> Router {
    Router::new()
}

fn admin(_core: Shared) -> Router {
    Router::new()
}

fn seed(_core: &Core) {}

/// Neon's error body: `{"code": "...", "message": "..."}`.
pub fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"code": "", "message": message}))).into_response()
}

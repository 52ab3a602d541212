//! The Google Cloud Run Admin API v2 emulator — a placeholder that answers every request with the
//! Google error model until the Google providers' work fills it in (that work owns this file).

use axum::Router;

use crate::{Shared, Spec};

pub fn spec() -> Spec {
    Spec { base_path: "", router, admin, seed: |_| {}, error: crate::google::error, public_paths: &[] }
}

fn router(_core: Shared) -> Router {
    Router::new()
}

fn admin(_core: Shared) -> Router {
    Router::new()
}

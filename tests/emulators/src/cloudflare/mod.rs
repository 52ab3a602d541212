//! The Cloudflare API v4 emulator (`/client/v4`): zones (seeded or created through the
//! admin route), custom hostnames (Cloudflare for SaaS) whose status and certificate move
//! from pending to active after [`Options::operation_delay`](crate::Options), and DNS records.
//!
//! Every answer uses the envelope `{"success", "errors", "messages", "result"}` (lists add
//! `result_info`), except the custom-hostname DELETE which answers a bare `{"id": ...}` as
//! the official SDK expects. Real error codes where known: **1406** duplicate custom hostname
//! (409), **81057** record already exists, **81058** identical record exists, **81053** /
//! **81054** A/AAAA/CNAME name clashes (400), **971** rate limited (429, with `Retry-After`),
//! **10000** authentication, **7003** unknown object, **81044** record does not exist. Other
//! validation codes are ours (documented in `docs/emulators.md`).
//!
//! Hostnames beginning with `fail-validation.` never validate: their certificate ends in
//! `validation_timed_out` (for testing waits that fail).
//!
//! A token may make at most 1200 requests per 5 minutes; beyond that every request is
//! answered 429 with `Retry-After` until the window ends (the documented global limit).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;

use crate::{Core, Shared, Spec};

mod api;

/// The zone seeded at start (the id used in Cloudflare's own API examples).
pub const SEED_ZONE_ID: &str = "023e105f4ecef8ad9ca31a8372d0c353";
pub const SEED_ZONE_NAME: &str = "example.com";

pub fn spec() -> Spec {
    Spec { base_path: "/client/v4", router, admin, seed, error, public_paths: &[] }
}

fn router(core: Shared) -> Router {
    use api::*;
    let z = "/client/v4/zones/{zone_id}";
    Router::new()
        .route("/client/v4/zones", get(list_zones))
        .route(z, get(get_zone))
        .route(&format!("{z}/custom_hostnames"), get(list_custom_hostnames).post(create_custom_hostname))
        .route(
            &format!("{z}/custom_hostnames/{{id}}"),
            get(get_custom_hostname).patch(edit_custom_hostname).delete(delete_custom_hostname),
        )
        .route(&format!("{z}/dns_records"), get(list_dns_records).post(create_dns_record))
        .route(
            &format!("{z}/dns_records/{{id}}"),
            get(get_dns_record).patch(edit_dns_record).put(overwrite_dns_record).delete(delete_dns_record),
        )
        .layer(axum::middleware::from_fn_with_state(core.clone(), api::rate_limit))
        .with_state(core)
}

fn admin(core: Shared) -> Router {
    Router::new().route("/_emulator/zones", post(api::admin_create_zone)).with_state(core)
}

fn seed(core: &Core) {
    api::insert_zone(core, SEED_ZONE_ID, SEED_ZONE_NAME);
}

/// A failure envelope with one error.
pub fn envelope_error(status: StatusCode, code: u32, message: &str) -> Response {
    let body =
        json!({"success": false, "errors": [{"code": code, "message": message}], "messages": [], "result": null});
    (status, axum::Json(body)).into_response()
}

/// The failure envelope for generic failures (unknown route, auth, injected faults).
pub fn error(status: StatusCode, message: &str) -> Response {
    let code = match status.as_u16() {
        401 | 403 => 10000,
        404 => 7003,
        405 => 10405,
        429 => 971,
        _ => 10001,
    };
    envelope_error(status, code, message)
}

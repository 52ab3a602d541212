//! The Neon API v2 emulator (`/api/v2`): projects, branches, compute endpoints, roles (with
//! passwords revealed through the API), databases, connection URIs and operations that
//! finish later. Facts follow the Neon OpenAPI spec (see `docs/emulators.md`):
//!
//! - creates answer **201** with the object and its `operations`; deletes answer 200 with
//!   `operations`, or **204** when the branch/role/database is already gone;
//! - every mutating response carries operations moving `scheduling → running → finished`
//!   over [`Options::operation_delay`](crate::Options);
//! - a mutation of a project with an unfinished operation is refused with **423 Locked**;
//! - duplicate branch/role/database names and a second read-write endpoint are **409**;
//! - errors are `{"code": "...", "message": "..."}` (the `code` strings are ours: the spec
//!   leaves them free-form).
//!
//! - a branch create may carry `annotation_value` (at most 50 string properties): the branch's
//!   GET answers it as `annotation` (`{object: {type, id}, value, created_at, updated_at}`)
//!   and the list as `annotations`, a map by branch id;
//! - an operation can end `failed` (with `error`), while the object it worked on stays.
//!
//! Collections in the store: `projects`, `branches`, `endpoints`, `roles`, `databases`,
//! `operations`. Admin: `POST /_emulator/projects {"id"?, "name"?}` creates a project with
//! a default branch `main`, role `neondb_owner`, database `neondb` and a read-write endpoint;
//! `POST /_emulator/fail_operations {"action": "create_branch", "count": 1}` makes the next
//! operations of an action fail.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;

use crate::{Core, Shared, Spec};

mod api;
mod model;

pub use model::now_rfc3339;

/// The id of the project seeded at start.
pub const SEED_PROJECT_ID: &str = "emulated-project-000001";

pub fn spec() -> Spec {
    Spec { base_path: "/api/v2", router, admin, seed, error, public_paths: &[] }
}

fn router(core: Shared) -> Router {
    use api::*;
    let p = "/api/v2/projects/{project_id}";
    Router::new()
        .route("/api/v2/projects", get(list_projects))
        .route(p, get(get_project))
        .route(&format!("{p}/branches"), get(list_branches).post(create_branch))
        .route(&format!("{p}/branches/{{branch_id}}"), get(get_branch).patch(update_branch).delete(delete_branch))
        .route(&format!("{p}/branches/{{branch_id}}/endpoints"), get(list_branch_endpoints))
        .route(&format!("{p}/endpoints"), get(list_endpoints).post(create_endpoint))
        .route(
            &format!("{p}/endpoints/{{endpoint_id}}"),
            get(get_endpoint).patch(update_endpoint).delete(delete_endpoint),
        )
        .route(&format!("{p}/branches/{{branch_id}}/roles"), get(list_roles).post(create_role))
        .route(&format!("{p}/branches/{{branch_id}}/roles/{{role_name}}"), get(get_role).delete(delete_role))
        .route(&format!("{p}/branches/{{branch_id}}/roles/{{role_name}}/reveal_password"), get(reveal_password))
        .route(&format!("{p}/branches/{{branch_id}}/roles/{{role_name}}/reset_password"), post(reset_password))
        .route(&format!("{p}/branches/{{branch_id}}/databases"), get(list_databases).post(create_database))
        .route(
            &format!("{p}/branches/{{branch_id}}/databases/{{database_name}}"),
            get(get_database).patch(update_database).delete(delete_database),
        )
        .route(&format!("{p}/operations"), get(list_operations))
        .route(&format!("{p}/operations/{{operation_id}}"), get(get_operation))
        .route(&format!("{p}/connection_uri"), get(connection_uri))
        .with_state(core)
}

fn admin(core: Shared) -> Router {
    Router::new()
        .route("/_emulator/projects", post(api::admin_create_project))
        .route("/_emulator/fail_operations", post(api::admin_fail_operations))
        .with_state(core)
}

fn seed(core: &Core) {
    model::create_project(core, SEED_PROJECT_ID, "emulated");
}

/// Neon's error body: `{"code": "...", "message": "..."}`.
pub fn error(status: StatusCode, message: &str) -> Response {
    let code = match status.as_u16() {
        400 => "BAD_REQUEST",
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        405 => "METHOD_NOT_ALLOWED",
        409 => "CONFLICT",
        412 => "PRECONDITION_FAILED",
        423 => "LOCKED",
        429 => "TOO_MANY_REQUESTS",
        503 => "SERVICE_UNAVAILABLE",
        _ => "INTERNAL_ERROR",
    };
    (status, axum::Json(json!({"code": code, "message": message}))).into_response()
}

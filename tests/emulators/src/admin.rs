//! The app around an emulator's API routes: the request gate (request log, fault injection,
//! bearer-token check), strict fallbacks (unknown path → 404, wrong method → 405, in the
//! API's error shape) and the admin routes every emulator has:
//!
//! | route | does |
//! |---|---|
//! | `GET /_emulator/objects` | every stored object: `{"<collection>": [ … ]}` |
//! | `GET /_emulator/objects/{collection}` | the objects of one collection: `[ … ]` |
//! | `POST /_emulator/reset` | clears everything and seeds again (faults are kept) |
//! | `GET /_emulator/faults`, `PUT /_emulator/faults` | reads / replaces the [`FaultConfig`] (missing fields take defaults) |
//! | `GET /_emulator/requests` | the API requests seen: method, path, status, injected fault |
//!
//! Admin routes (and the other [`crate::OWN_PATH_PREFIXES`], such as emulated Cloud Run
//! services' traffic) need no token, are never subject to faults and are not logged.

use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::Rng;
use serde_json::json;

use crate::faults::FaultConfig;
use crate::server::ConnKill;
use crate::{RequestRecord, Shared};

/// The complete app of one emulator.
pub fn app(core: Shared) -> Router {
    let spec = core.spec();
    let api = (spec.router)(core.clone());
    let admin = Router::new()
        .route("/_emulator/objects", get(objects))
        .route("/_emulator/objects/{collection}", get(objects_of))
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/faults", get(get_faults).put(put_faults))
        .route("/_emulator/requests", get(requests))
        .with_state(core.clone())
        .merge((spec.admin)(core.clone()));
    let c404 = core.clone();
    let c405 = core.clone();
    api.merge(admin)
        .fallback(move |m: Method, uri: axum::http::Uri| {
            let c = c404.clone();
            async move { c.error(StatusCode::NOT_FOUND, &format!("no route for {m} {}", uri.path())) }
        })
        .method_not_allowed_fallback(move |m: Method, uri: axum::http::Uri| {
            let c = c405.clone();
            async move { c.error(StatusCode::METHOD_NOT_ALLOWED, &format!("method {m} is not allowed on {}", uri.path())) }
        })
        .layer(from_fn_with_state(core, gate))
}

async fn objects(State(core): State<Shared>) -> Json<serde_json::Value> {
    Json(core.store.snapshot())
}

async fn objects_of(State(core): State<Shared>, Path(coll): Path<String>) -> Json<serde_json::Value> {
    Json(serde_json::Value::Array(core.store.list(&coll)))
}

async fn reset(State(core): State<Shared>) -> Json<serde_json::Value> {
    core.reset();
    Json(json!({"reset": true}))
}

async fn get_faults(State(core): State<Shared>) -> Json<FaultConfig> {
    Json(core.faults.lock().unwrap_or_else(|e| e.into_inner()).clone())
}

async fn put_faults(State(core): State<Shared>, body: axum::body::Bytes) -> Response {
    let f: FaultConfig = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => {
            return (StatusCode::BAD_REQUEST, Json(json!({"message": format!("invalid faults: {e}")}))).into_response()
        }
    };
    if let Err(e) = f.validate() {
        return (StatusCode::BAD_REQUEST, Json(json!({"message": e}))).into_response();
    }
    *core.faults.lock().unwrap_or_else(|e| e.into_inner()) = f.clone();
    Json(f).into_response()
}

async fn requests(State(core): State<Shared>) -> Json<Vec<RequestRecord>> {
    Json(core.requests.lock().unwrap_or_else(|e| e.into_inner()).clone())
}

enum Before {
    Drop,
    Refuse(u16),
    Handle,
}

/// Request log, faults and auth around every API request.
async fn gate(State(core): State<Shared>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    if crate::OWN_PATH_PREFIXES.iter().any(|p| path.starts_with(p)) {
        return next.run(req).await;
    }
    let kill = req.extensions().get::<ConnKill>().cloned();
    let faults = core.faults.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if faults.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(faults.latency_ms)).await;
    }
    let before = {
        let mut rng = rand::thread_rng();
        if faults.drop_rate > 0.0 && rng.gen_bool(faults.drop_rate) {
            Before::Drop
        } else if faults.error_rate > 0.0 && rng.gen_bool(faults.error_rate) {
            let statuses =
                if faults.error_statuses.is_empty() { vec![429, 503] } else { faults.error_statuses.clone() };
            Before::Refuse(statuses[rng.gen_range(0..statuses.len())])
        } else {
            Before::Handle
        }
    };
    let record = |status: u16, fault: Option<&str>| {
        core.record(RequestRecord {
            method: method.to_string(),
            path: path.clone(),
            status,
            fault: fault.map(str::to_string),
        })
    };
    match before {
        Before::Drop => {
            if let Some(k) = &kill {
                record(0, Some("dropped"));
                k.drop_connection().await;
            }
        }
        Before::Refuse(status) => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let msg = if status == 429 {
                "Too many requests (injected by the emulator)"
            } else {
                "Service unavailable (injected by the emulator)"
            };
            let mut resp = core.error(code, msg);
            if let (429, Some(secs)) = (status, faults.retry_after_secs) {
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    resp.headers_mut().insert("retry-after", v);
                }
            }
            record(status, Some(&status.to_string()));
            return resp;
        }
        Before::Handle => {}
    }
    let public = core.spec().public_paths.iter().any(|p| path.starts_with(p));
    if !public {
        let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
        let token = auth.strip_prefix("Bearer ").map(str::trim).unwrap_or("");
        let ok = !token.is_empty() && core.options.token.as_deref().is_none_or(|t| t == token);
        if !ok {
            record(401, None);
            return core.error(StatusCode::UNAUTHORIZED, "authentication failed: missing or invalid bearer token");
        }
    }
    let mutating = !matches!(method, Method::GET | Method::HEAD);
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    let lose = mutating && resp.status().is_success() && {
        let mut f = core.faults.lock().unwrap_or_else(|e| e.into_inner());
        if f.drop_after_commit > 0 {
            f.drop_after_commit -= 1;
            true
        } else {
            f.drop_after_commit_rate > 0.0 && rand::thread_rng().gen_bool(f.drop_after_commit_rate)
        }
    };
    if lose {
        if let Some(k) = &kill {
            record(status, Some("dropped_after_commit"));
            k.drop_connection().await;
        }
    }
    record(status, None);
    resp
}

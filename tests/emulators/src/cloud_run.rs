//! Emulator of the Cloud Run Admin API v2 services surface (kind `cloudrun`, alias
//! `cloud-run`): create, get, list, patch, delete of
//! `projects/{p}/locations/{l}/services/{id}`, their long-running operations (get, `:wait`,
//! list), IAM (`getIamPolicy` is GET, `setIamPolicy` POST, with etags) and the OAuth token
//! endpoint.
//!
//! Faithful where clients can tell: `serviceId` is a query parameter; bodies are validated
//! against the v2 discovery schema, so the v1 Knative shape (`apiVersion`, `metadata`, `spec`)
//! is a 400 `INVALID_ARGUMENT`; create/patch/delete answer an Operation without `done` that
//! completes after the emulator's `operation_delay`; meanwhile the service shows
//! `reconciling: true` and a pending `terminalCondition`, afterwards `CONDITION_SUCCEEDED`, a
//! `uri`, revisions and traffic statuses. Server defaults are filled in as the real API does
//! (port 8080, 1 CPU / 512Mi, concurrency 80, timeout 300s, max 100 instances, 100% traffic
//! to the latest revision, the default compute service account), so clients must cope with
//! them. int64 counters (`generation`) are JSON strings. Answers are proto3 JSON: a field at
//! its default value (`0`, `false`, `""`, an empty list or map, an enum's `…_UNSPECIFIED`) is
//! omitted, as the real API does, so `minInstanceCount: 0` or `reconciling: false` never
//! appear. An image whose name contains
//! `does-not-exist` fails to deploy: the operation ends with an `error` and the service's
//! `terminalCondition` is `CONDITION_FAILED`. Services live in the shared store (collection
//! `services`), operations in `operations`, IAM policies in `iam_policies`.
//!
//! Emulated services **serve HTTP**: a service's `uri` (and each of its `urls`) is
//! `http://<emulator address>/_run/<the real host name>` (e.g.
//! `http://127.0.0.1:41234/_run/api-123456789012.us-central1.run.app`), answered by the emulator
//! itself as the latest *ready* revision would (a failed rollout keeps serving the previous
//! one). Like Cloud Run, it answers 403 unless the service is public (`roles/run.invoker` for
//! `allUsers`, or `invokerIamDisabled`), 404 for an unknown or internal-only service, and
//! otherwise 200 with a JSON description of what serves (`service`, `revision`, `path`,
//! `env` with literal values and secret references — never secret payloads). An image whose
//! name contains `unhealthy` answers 500; a literal env var `EMULATOR_HTTP_STATUS` sets the
//! status. This traffic is not an API request: no token, no faults, no request log.

use axum::extract::State;
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{json, Map as JsonMap, Value as Json};

use crate::google::{iam, next_counter, now_rfc3339, schema, split_path, ApiError, GRequest, Projects};
use crate::store::Collections;
use crate::{Core, Shared, Spec};

/// The collection of services.
pub const SERVICES: &str = "services";
/// The collection of long-running operations.
pub const OPERATIONS: &str = "operations";
/// What each service serves (its latest ready revision), by service name: bookkeeping.
const SERVING: &str = "_serving";

pub fn spec() -> Spec {
    Spec { base_path: "/v2", router, admin, seed: |_| {}, error: crate::google::error, public_paths: &["/token"] }
}

fn router(core: Shared) -> axum::Router {
    crate::google::api_router(core, "v2", handle, output)
}

/// The answer as the real API prints it: proto3 JSON, default-valued fields omitted
/// (`minInstanceCount: 0`, `reconciling: false`, empty lists and maps are absent).
fn output(req: &GRequest, j: &Json) -> Json {
    let Some((segs, verb)) = split_path(&req.path, "/v2/") else { return j.clone() };
    let ty = match (segs.last().copied(), verb, req.method.as_str()) {
        (_, Some("getIamPolicy" | "setIamPolicy"), _) => "GoogleIamV1Policy",
        (_, Some("wait"), _) => "GoogleLongrunningOperation",
        (Some("operations"), None, _) => "GoogleLongrunningListOperationsResponse",
        (Some("services"), None, "GET") => "GoogleCloudRunV2ListServicesResponse",
        _ if segs.iter().rev().nth(1) == Some(&"operations") => "GoogleLongrunningOperation",
        (_, None, "GET") => "GoogleCloudRunV2Service",
        _ => "GoogleLongrunningOperation",
    };
    schema::run_v2().output(ty, j)
}

fn admin(core: Shared) -> axum::Router {
    axum::Router::new().route("/_run/{host}", any(serve)).route("/_run/{host}/{*rest}", any(serve)).with_state(core)
}

/// Answers a request to an emulated service's URL (`/_run/<host>/<path>`).
async fn serve(State(core): State<Shared>, method: Method, uri: Uri) -> Response {
    let rest = uri.path().strip_prefix("/_run/").unwrap_or_default();
    let (host, path) = match rest.split_once('/') {
        Some((h, p)) => (h.to_string(), format!("/{p}")),
        None => (rest.to_string(), "/".to_string()),
    };
    let (status, json_body, text) = core.store.with(|c| {
        advance(&core, c);
        answer(c, &host, &path, method.as_str())
    });
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match json_body {
        Some(j) => (status, axum::Json(j)).into_response(),
        None => (status, [(header::CONTENT_TYPE, "text/html; charset=UTF-8")], text).into_response(),
    }
}

fn google_page(status: u16, title: &str, message: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=en>\n<title>{status} {title}</title>\n<h1>Error: {title}</h1>\n<h2>{message}</h2>\n"
    )
}

/// What the service behind `host` answers: status, a JSON body or an HTML/text one.
fn answer(c: &Collections, host: &str, path: &str, method: &str) -> (u16, Option<Json>, String) {
    let not_found =
        || (404, None, google_page(404, "Page not found", "The requested URL was not found on this server."));
    let Some(serving) = c.iter(SERVING).find(|d| d["hosts"].as_array().is_some_and(|h| h.iter().any(|x| x == host)))
    else {
        return not_found();
    };
    let key = serving["service"].as_str().unwrap_or_default();
    let Some(service) = c.get(SERVICES, key) else { return not_found() };
    if service.get("ingress").and_then(Json::as_str).is_some_and(|i| i != "INGRESS_TRAFFIC_ALL") {
        return not_found();
    }
    let public = service.get("invokerIamDisabled").and_then(Json::as_bool).unwrap_or(false)
        || iam::has(c, key, "roles/run.invoker", "allUsers");
    if !public {
        let message = format!("Your client does not have permission to get URL <code>{path}</code> from this server.");
        return (403, None, google_page(403, "Forbidden", &message));
    }
    let env = serving["env"].clone();
    if let Some(image) =
        serving["images"].as_array().into_iter().flatten().filter_map(Json::as_str).find(|i| i.contains("unhealthy"))
    {
        return (500, None, format!("Internal Server Error: the container {image} is unhealthy (emulated)\n"));
    }
    let status = env.get("EMULATOR_HTTP_STATUS").and_then(Json::as_str).and_then(|s| s.parse::<u16>().ok());
    let status = status.filter(|s| (200..600).contains(s)).unwrap_or(200);
    let id = key.rsplit('/').next().unwrap_or_default();
    let body = json!({
        "service": id,
        "revision": serving["revision"],
        "method": method,
        "path": path,
        "env": env,
    });
    (status, Some(body), String::new())
}

/// Records what a service serves after a successful rollout.
fn record_serving(c: &mut Collections, key: &str, service: &JsonMap<String, Json>, revision: &str, hosts: Vec<String>) {
    let id = key.rsplit('/').next().unwrap_or_default();
    let containers = service.get("template").and_then(|t| t.get("containers")).and_then(Json::as_array).cloned();
    let containers = containers.unwrap_or_default();
    let images: Vec<Json> = containers.iter().filter_map(|c| c.get("image").cloned()).collect();
    let mut env = JsonMap::new();
    for e in containers.first().and_then(|c| c.get("env")).and_then(Json::as_array).into_iter().flatten() {
        let Some(name) = e.get("name").and_then(Json::as_str) else { continue };
        let value = match (e.get("value"), e.get("valueSource").and_then(|v| v.get("secretKeyRef"))) {
            (_, Some(r)) => {
                json!({"secret": r["secret"], "version": r.get("version").cloned().unwrap_or(json!("latest"))})
            }
            (Some(v), None) => v.clone(),
            (None, None) => json!(""),
        };
        env.insert(name.to_string(), value);
    }
    let port = containers.first().and_then(|c| c["ports"][0].get("containerPort")).cloned().unwrap_or(json!(8080));
    env.insert("PORT".into(), json!(port.to_string()));
    env.insert("K_SERVICE".into(), json!(id));
    env.insert("K_REVISION".into(), json!(revision));
    env.insert("K_CONFIGURATION".into(), json!(id));
    c.insert(SERVING, key, json!({"service": key, "hosts": hosts, "revision": revision, "images": images, "env": env}));
}

type R = Result<Json, ApiError>;

const SERVICE_TYPE: &str = "type.googleapis.com/google.cloud.run.v2.Service";
const RESERVED_ANNOTATION_PREFIXES: &[&str] =
    &["run.googleapis.com/", "cloud.googleapis.com/", "serving.knative.dev/", "autoscaling.knative.dev/"];

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Resource '{name}' was not found"))
}

fn service_id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() < 50
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && !id.ends_with('-')
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn field(at: &str, msg: impl Into<String>) -> ApiError {
    ApiError::invalid_argument_field(msg, at)
}

/// Semantic checks beyond the schema (what Cloud Run rejects with 400).
fn check_service(body: &Json) -> Result<(), ApiError> {
    for (k, _) in body.get("annotations").and_then(Json::as_object).into_iter().flatten() {
        if RESERVED_ANNOTATION_PREFIXES.iter().any(|p| k.starts_with(p)) {
            return Err(field(
                "service.annotations",
                format!("Annotation '{k}' is not supported: annotations in the run.googleapis.com, cloud.googleapis.com, serving.knative.dev and autoscaling.knative.dev namespaces are not allowed on v2 resources."),
            ));
        }
    }
    let Some(t) = body.get("template").filter(|t| t.is_object()) else {
        return Err(field("service.template", "template is required."));
    };
    let containers = t.get("containers").and_then(Json::as_array).cloned().unwrap_or_default();
    if containers.is_empty() {
        return Err(field("service.template.containers", "At least one container must be specified."));
    }
    for (i, c) in containers.iter().enumerate() {
        let at = format!("service.template.containers[{i}]");
        if c.get("image").and_then(Json::as_str).is_none_or(str::is_empty) {
            return Err(field(&format!("{at}.image"), "Container image is required."));
        }
        let ports = c.get("ports").and_then(Json::as_array).cloned().unwrap_or_default();
        if ports.len() > 1 {
            return Err(field(&format!("{at}.ports"), "Only one port may be specified."));
        }
        for p in &ports {
            if let Some(n) = p.get("containerPort").and_then(Json::as_i64) {
                if !(1..65536).contains(&n) {
                    return Err(field(
                        &format!("{at}.ports[0].container_port"),
                        "container_port must be between 1 and 65535.",
                    ));
                }
            }
            if let Some(n) = p.get("name").and_then(Json::as_str) {
                if n != "http1" && n != "h2c" {
                    return Err(field(&format!("{at}.ports[0].name"), "Port name must be one of 'http1' or 'h2c'."));
                }
            }
        }
        for (j, e) in c.get("env").and_then(Json::as_array).cloned().unwrap_or_default().iter().enumerate() {
            let eat = format!("{at}.env[{j}]");
            if e.get("name").and_then(Json::as_str).is_none_or(str::is_empty) {
                return Err(field(&format!("{eat}.name"), "Environment variable name is required."));
            }
            if e.get("value").is_some() && e.get("valueSource").is_some() {
                return Err(field(&eat, "Only one of value or value_source may be set."));
            }
            if let Some(r) = e.get("valueSource").and_then(|v| v.get("secretKeyRef")) {
                if r.get("secret").and_then(Json::as_str).is_none_or(str::is_empty) {
                    return Err(field(&format!("{eat}.value_source.secret_key_ref.secret"), "secret is required."));
                }
                if let Some(v) = r.get("version").and_then(Json::as_str) {
                    if v != "latest" && v.parse::<u64>().is_err() {
                        return Err(field(
                            &format!("{eat}.value_source.secret_key_ref.version"),
                            format!("Invalid secret version '{v}': use 'latest' or a version number."),
                        ));
                    }
                }
            }
        }
        if let Some(l) = c.get("resources").and_then(|r| r.get("limits")).and_then(Json::as_object) {
            for k in l.keys() {
                if !["cpu", "memory", "nvidia.com/gpu"].contains(&k.as_str()) {
                    return Err(field(
                        &format!("{at}.resources.limits"),
                        format!("Resource limit '{k}' is not supported; use cpu and memory."),
                    ));
                }
            }
        }
    }
    if let Some(s) = t.get("scaling") {
        let min = s.get("minInstanceCount").and_then(Json::as_i64).unwrap_or(0);
        if let Some(max) = s.get("maxInstanceCount").and_then(Json::as_i64) {
            if max < min {
                return Err(field(
                    "service.template.scaling",
                    "max_instance_count must be greater or equal to min_instance_count.",
                ));
            }
        }
    }
    if let Some(c) = t.get("maxInstanceRequestConcurrency").and_then(Json::as_i64) {
        if !(0..=1000).contains(&c) {
            return Err(field(
                "service.template.max_instance_request_concurrency",
                "max_instance_request_concurrency must be between 0 and 1000.",
            ));
        }
    }
    if let Some(tm) = t.get("timeout").and_then(Json::as_str) {
        let secs: f64 = tm.trim_end_matches('s').parse().unwrap_or(0.0);
        if secs > 3600.0 {
            return Err(field("service.template.timeout", "timeout must be at most 3600s."));
        }
    }
    let traffic = body.get("traffic").and_then(Json::as_array).cloned().unwrap_or_default();
    if !traffic.is_empty() {
        let sum: i64 = traffic.iter().filter_map(|x| x.get("percent").and_then(Json::as_i64)).sum();
        if sum != 100 {
            return Err(field("service.traffic", format!("Traffic percentages must add up to 100, got {sum}.")));
        }
    }
    Ok(())
}

/// Fills the defaults the real API adds.
fn apply_defaults(s: &mut JsonMap<String, Json>, project_number: &str) {
    s.entry("ingress").or_insert(json!("INGRESS_TRAFFIC_ALL"));
    s.entry("launchStage").or_insert(json!("GA"));
    if s.get("traffic").and_then(Json::as_array).is_none_or(Vec::is_empty) {
        s.insert("traffic".into(), json!([{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}]));
    }
    let Some(Json::Object(t)) = s.get_mut("template") else { return };
    t.entry("maxInstanceRequestConcurrency").or_insert(json!(80));
    t.entry("timeout").or_insert(json!("300s"));
    t.entry("serviceAccount").or_insert(json!(format!("{project_number}-compute@developer.gserviceaccount.com")));
    let scaling = t.entry("scaling").or_insert(json!({}));
    if let Some(sc) = scaling.as_object_mut() {
        sc.entry("maxInstanceCount").or_insert(json!(100));
    }
    if let Some(Json::Array(cs)) = t.get_mut("containers") {
        for c in cs {
            let Some(c) = c.as_object_mut() else { continue };
            if c.get("ports").and_then(Json::as_array).is_none_or(Vec::is_empty) {
                c.insert("ports".into(), json!([{"name": "http1", "containerPort": 8080}]));
            }
            let port = c["ports"][0].get("containerPort").cloned().unwrap_or(json!(8080));
            if let Some(p) = c.get_mut("ports").and_then(|p| p.get_mut(0)).and_then(Json::as_object_mut) {
                p.entry("name").or_insert(json!("http1"));
                p.entry("containerPort").or_insert(json!(8080));
            }
            let res = c.entry("resources").or_insert(json!({}));
            if let Some(r) = res.as_object_mut() {
                let limits = r.entry("limits").or_insert(json!({}));
                if let Some(l) = limits.as_object_mut() {
                    l.entry("cpu").or_insert(json!("1000m"));
                    l.entry("memory").or_insert(json!("512Mi"));
                }
                r.entry("cpuIdle").or_insert(json!(true));
            }
            c.entry("startupProbe").or_insert(json!({
                "timeoutSeconds": 240, "periodSeconds": 240, "failureThreshold": 1, "tcpSocket": {"port": port}
            }));
        }
    }
}

/// Handles one API request under `/v2/` (the token was checked by the router).
pub fn handle(core: &Core, c: &mut Collections, req: &GRequest, caller: &str) -> R {
    let projects = Projects::default();
    let Some((segs, verb)) = split_path(&req.path, "/v2/") else {
        return Err(ApiError::not_found(format!("The requested URL {} was not found on this server.", req.path)));
    };
    advance(core, c);
    let key = |p: &str, l: &str, s: &str| format!("projects/{}/locations/{l}/services/{s}", projects.number(p));
    let m = req.method.as_str();
    match (segs.as_slice(), verb, m) {
        (["projects", p, "locations", l, "services"], None, "POST") => {
            create(core, c, &projects.number(p), l, req, caller)
        }
        (["projects", p, "locations", l, "services"], None, "GET") => {
            req.check_query(&["pageSize", "pageToken", "showDeleted"])?;
            let prefix = key(p, l, "");
            let all: Vec<Json> = c
                .iter(SERVICES)
                .filter(|d| d["name"].as_str().is_some_and(|n| n.starts_with(&prefix)))
                .cloned()
                .collect();
            Ok(if all.is_empty() { json!({}) } else { json!({ "services": all }) })
        }
        (["projects", p, "locations", l, "services", s], None, "GET") => {
            let k = key(p, l, s);
            c.get(SERVICES, &k).cloned().ok_or_else(|| not_found(&k))
        }
        (["projects", p, "locations", l, "services", s], None, "PATCH") => {
            patch(core, c, &projects.number(p), l, s, req, caller)
        }
        (["projects", p, "locations", l, "services", s], None, "DELETE") => delete(core, c, &key(p, l, s), req),
        (["projects", p, "locations", l, "services", s], Some("getIamPolicy"), "GET") => {
            req.check_query(&["options.requestedPolicyVersion"])?;
            let k = key(p, l, s);
            c.get(SERVICES, &k).ok_or_else(|| not_found(&k))?;
            Ok(iam::get(c, &k))
        }
        (["projects", p, "locations", l, "services", s], Some("setIamPolicy"), "POST") => {
            let body = req.json()?;
            schema::run_v2().validate("GoogleIamV1SetIamPolicyRequest", &body, "")?;
            let k = key(p, l, s);
            c.get(SERVICES, &k).ok_or_else(|| not_found(&k))?;
            iam::set(c, &k, &body)
        }
        (["projects", p, "locations", l, "operations", o], None, "GET") => {
            let name = format!("projects/{}/locations/{l}/operations/{o}", projects.number(p));
            c.get(OPERATIONS, &name)
                .map(op_json)
                .ok_or_else(|| ApiError::not_found(format!("Operation '{name}' was not found")))
        }
        (["projects", p, "locations", l, "operations", o], Some("wait"), "POST") => {
            let body = req.json()?;
            schema::run_v2().validate("GoogleLongrunningWaitOperationRequest", &body, "")?;
            // Best effort, as documented: may answer before the operation is done.
            let name = format!("projects/{}/locations/{l}/operations/{o}", projects.number(p));
            c.get(OPERATIONS, &name)
                .map(op_json)
                .ok_or_else(|| ApiError::not_found(format!("Operation '{name}' was not found")))
        }
        (["projects", p, "locations", l, "operations"], None, "GET") => {
            let prefix = format!("projects/{}/locations/{l}/operations/", projects.number(p));
            let ops: Vec<Json> = c
                .iter(OPERATIONS)
                .filter(|o| o["name"].as_str().is_some_and(|n| n.starts_with(&prefix)))
                .map(op_json)
                .collect();
            Ok(if ops.is_empty() { json!({}) } else { json!({ "operations": ops }) })
        }
        (_, _, "GET" | "POST" | "PATCH" | "DELETE" | "PUT") => {
            Err(ApiError::not_found(format!("The requested URL {} was not found on this server.", req.path)))
        }
        _ => Err(ApiError::new(405, "UNIMPLEMENTED", format!("Method {m} is not allowed on {}", req.path))),
    }
}

/// Completes every operation whose time has come.
pub fn advance(core: &Core, c: &mut Collections) {
    let now = core.now_ms();
    let due: Vec<String> = c
        .iter(OPERATIONS)
        .filter(|o| o.get("done").is_none() && o["_due_ms"].as_u64().unwrap_or(0) <= now)
        .filter_map(|o| o["name"].as_str().map(str::to_string))
        .collect();
    for name in due {
        let pending = c.get(OPERATIONS, &name).map(|o| o["_pending"].clone()).unwrap_or(Json::Null);
        let result = match pending["kind"].as_str() {
            Some("deploy") => finish_deploy(core, c, pending["service"].as_str().unwrap_or_default()),
            Some("delete") => Ok(pending["snapshot"].clone()),
            _ => Ok(json!({})),
        };
        if let Some(o) = c.get_mut(OPERATIONS, &name) {
            o["done"] = json!(true);
            match result {
                Ok(mut r) => {
                    r["@type"] = json!(SERVICE_TYPE);
                    o["response"] = r;
                }
                Err(e) => o["error"] = json!({"code": e.rpc_code(), "message": e.message}),
            }
            if let Some(m) = o.as_object_mut() {
                m.remove("_pending");
            }
        }
    }
}

fn start_operation(core: &Core, c: &mut Collections, number: &str, l: &str, pending: Json, target: &Json) -> Json {
    let name = format!("projects/{number}/locations/{l}/operations/{}", uuid::Uuid::new_v4());
    let mut metadata = target.clone();
    metadata["@type"] = json!(SERVICE_TYPE);
    let op = json!({"name": name, "metadata": metadata, "_due_ms": core.ready_at(), "_pending": pending});
    c.insert(OPERATIONS, &name, op.clone());
    op_json(&op)
}

fn validate_only(number: &str, l: &str) -> Json {
    json!({"name": format!("projects/{number}/locations/{l}/operations/validate-only"), "done": true, "response": {}})
}

fn who(caller: &str) -> Json {
    json!(caller.split_once(':').map(|x| x.1).unwrap_or(caller))
}

fn create(core: &Core, c: &mut Collections, number: &str, l: &str, req: &GRequest, caller: &str) -> R {
    req.check_query(&["serviceId", "validateOnly", "parent"])?;
    let body = req.json()?;
    schema::run_v2().validate("GoogleCloudRunV2Service", &body, "service")?;
    let Some(id) = req.query("serviceId") else {
        // The real API generates a random ID here; a client relying on that is not
        // idempotent, so the emulator refuses loudly instead.
        return Err(field(
            "service_id",
            "service_id is required by this emulator (the real API would invent a random name).",
        ));
    };
    if !service_id_ok(id) {
        return Err(field(
            "service_id",
            format!("Invalid service_id '{id}': must contain only lowercase letters, digits and hyphens, begin with a letter, not end with a hyphen, and be fewer than 50 characters."),
        ));
    }
    check_service(&body)?;
    if req.query("validateOnly") == Some("true") {
        return Ok(validate_only(number, l));
    }
    let key = format!("projects/{number}/locations/{l}/services/{id}");
    if c.get(SERVICES, &key).is_some() {
        return Err(ApiError::already_exists(format!("Resource '{key}' already exists.")));
    }
    let mut s = body.as_object().cloned().unwrap_or_default();
    for output in ["name", "uid", "generation", "createTime", "updateTime", "etag", "uri", "urls", "reconciling"] {
        s.remove(output);
    }
    apply_defaults(&mut s, number);
    let now = now_rfc3339();
    s.insert("name".into(), json!(key));
    s.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
    s.insert("generation".into(), json!("1"));
    s.insert("createTime".into(), json!(now));
    s.insert("updateTime".into(), json!(now));
    s.insert("creator".into(), who(caller));
    s.insert("lastModifier".into(), who(caller));
    mark_reconciling(&mut s);
    s.insert("etag".into(), json!(format!("\"{}\"", next_counter(c, "service_etag"))));
    let snapshot = Json::Object(s);
    c.insert(SERVICES, &key, snapshot.clone());
    Ok(start_operation(core, c, number, l, json!({"kind": "deploy", "service": key}), &snapshot))
}

#[allow(clippy::too_many_arguments)]
fn patch(core: &Core, c: &mut Collections, number: &str, l: &str, s: &str, req: &GRequest, caller: &str) -> R {
    req.check_query(&["updateMask", "validateOnly", "allowMissing", "forceNewRevision"])?;
    let body = req.json()?;
    schema::run_v2().validate("GoogleCloudRunV2Service", &body, "service")?;
    let key = format!("projects/{number}/locations/{l}/services/{s}");
    let Some(current) = c.get(SERVICES, &key).and_then(Json::as_object).cloned() else {
        if req.query("allowMissing") == Some("true") {
            let mut create_req = req.clone();
            create_req.method = "POST".into();
            create_req.query = vec![("serviceId".into(), s.to_string())];
            return create(core, c, number, l, &create_req, caller);
        }
        return Err(not_found(&key));
    };
    if let Some(want) = body.get("etag").and_then(Json::as_str) {
        if current.get("etag").and_then(Json::as_str) != Some(want) {
            return Err(ApiError::aborted("The etag in the request does not match the current etag of the service."));
        }
    }
    let settable = [
        "description",
        "labels",
        "annotations",
        "client",
        "clientVersion",
        "ingress",
        "launchStage",
        "binaryAuthorization",
        "template",
        "traffic",
        "scaling",
        "defaultUriDisabled",
        "customAudiences",
        "invokerIamDisabled",
        "iapEnabled",
    ];
    let fields: Vec<String> = match req.query("updateMask").filter(|m| !m.is_empty()) {
        Some(mask) => mask.split(',').map(|f| schema::camel_of(f.trim())).collect(),
        None => settable.iter().map(|s| s.to_string()).collect(),
    };
    let mut next = current.clone();
    for f in &fields {
        let top = f.split('.').next().unwrap_or(f);
        if !settable.contains(&top) {
            return Err(field("update_mask", format!("Invalid update_mask path: {f}")));
        }
        match body.get(top) {
            Some(v) if !v.is_null() => {
                next.insert(top.to_string(), v.clone());
            }
            _ => {
                next.remove(top);
            }
        }
    }
    check_service(&Json::Object(next.clone()))?;
    if req.query("validateOnly") == Some("true") {
        return Ok(validate_only(number, l));
    }
    apply_defaults(&mut next, number);
    let spec_changed =
        settable.iter().any(|f| current.get(*f) != next.get(*f)) || req.query("forceNewRevision") == Some("true");
    if spec_changed {
        let g = current.get("generation").and_then(Json::as_str).and_then(|g| g.parse::<u64>().ok()).unwrap_or(1);
        next.insert("generation".into(), json!((g + 1).to_string()));
    }
    next.insert("updateTime".into(), json!(now_rfc3339()));
    next.insert("lastModifier".into(), who(caller));
    mark_reconciling(&mut next);
    next.insert("etag".into(), json!(format!("\"{}\"", next_counter(c, "service_etag"))));
    let snapshot = Json::Object(next);
    c.insert(SERVICES, &key, snapshot.clone());
    Ok(start_operation(core, c, number, l, json!({"kind": "deploy", "service": key}), &snapshot))
}

fn delete(core: &Core, c: &mut Collections, key: &str, req: &GRequest) -> R {
    req.check_query(&["etag", "validateOnly"])?;
    let current = c.get(SERVICES, key).cloned().ok_or_else(|| not_found(key))?;
    if let Some(want) = req.query("etag") {
        if current.get("etag").and_then(Json::as_str) != Some(want) {
            return Err(ApiError::aborted("The etag in the request does not match the current etag of the service."));
        }
    }
    let parts: Vec<&str> = key.split('/').collect();
    let (number, l) = (parts[1], parts[3]);
    if req.query("validateOnly") == Some("true") {
        return Ok(validate_only(number, l));
    }
    c.remove(SERVICES, key);
    c.remove(SERVING, key);
    iam::remove(c, key);
    let mut snapshot = current;
    snapshot["deleteTime"] = json!(now_rfc3339());
    Ok(start_operation(core, c, number, l, json!({"kind": "delete", "snapshot": snapshot.clone()}), &snapshot))
}

fn mark_reconciling(s: &mut JsonMap<String, Json>) {
    s.insert("reconciling".into(), json!(true));
    s.insert(
        "terminalCondition".into(),
        json!({"type": "Ready", "state": "CONDITION_RECONCILING", "lastTransitionTime": now_rfc3339(), "reason": "WAITING_FOR_OPERATION"}),
    );
}

fn region_code(location: &str) -> String {
    // The real short codes (`uc` for us-central1) come from a table; any stable code will do.
    location.split('-').filter_map(|p| p.chars().next()).collect()
}

fn finish_deploy(core: &Core, c: &mut Collections, key: &str) -> Result<Json, ApiError> {
    let counter = next_counter(c, "revision");
    let Some(s) = c.get_mut(SERVICES, key).and_then(Json::as_object_mut) else {
        return Err(ApiError::not_found(format!("Resource '{key}' was not found")));
    };
    let id = key.rsplit('/').next().unwrap_or("svc").to_string();
    let location = key.split('/').nth(3).unwrap_or("").to_string();
    let number = key.split('/').nth(1).unwrap_or("").to_string();
    let generation: u64 = s.get("generation").and_then(Json::as_str).and_then(|g| g.parse().ok()).unwrap_or(1);
    let revision = format!("{id}-{generation:05}-{:03x}", 0xa00 + counter % 0x5ff);
    let bad_image = s
        .get("template")
        .and_then(|t| t.get("containers"))
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("image").and_then(Json::as_str))
        .find(|i| i.contains("does-not-exist"))
        .map(str::to_string);
    let now = now_rfc3339();
    s.insert("reconciling".into(), json!(false));
    s.insert(
        "latestCreatedRevision".into(),
        json!(format!("projects/{number}/locations/{location}/services/{id}/revisions/{revision}")),
    );
    if let Some(image) = bad_image {
        let message =
            format!("Revision '{revision}' is not ready and cannot serve traffic. Image '{image}' not found.");
        s.insert(
            "terminalCondition".into(),
            json!({"type": "Ready", "state": "CONDITION_FAILED", "message": message, "lastTransitionTime": now, "severity": "ERROR", "reason": "CONTAINER_MISSING"}),
        );
        return Err(ApiError::failed_precondition(message));
    }
    // The same host names as the real service; the URLs point at this emulator, which serves
    // them (see the module docs), or at the real form when nothing listens (unit tests).
    let hosts = vec![
        format!("{id}-{number}.{location}.run.app"),
        format!("{id}-{:x}-{}.a.run.app", counter * 7919, region_code(&location)),
    ];
    let url = |h: &str| match core.addr() {
        Some(addr) => format!("http://{addr}/_run/{h}"),
        None => format!("https://{h}"),
    };
    s.insert("observedGeneration".into(), json!(generation.to_string()));
    s.insert("latestReadyRevision".into(), s["latestCreatedRevision"].clone());
    s.insert("uri".into(), json!(url(&hosts[0])));
    s.insert("urls".into(), json!(hosts.iter().map(|h| url(h)).collect::<Vec<_>>()));
    s.insert(
        "terminalCondition".into(),
        json!({"type": "Ready", "state": "CONDITION_SUCCEEDED", "lastTransitionTime": now}),
    );
    s.insert(
        "conditions".into(),
        json!([
            {"type": "RoutesReady", "state": "CONDITION_SUCCEEDED", "lastTransitionTime": now},
            {"type": "ConfigurationsReady", "state": "CONDITION_SUCCEEDED", "lastTransitionTime": now},
        ]),
    );
    let statuses: Vec<Json> = s
        .get("traffic")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|t| {
            let mut st = t.clone();
            if t["type"] == "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST" && t.get("revision").is_none() {
                st["revision"] = json!(revision);
            }
            if let Some(tag) = t.get("tag").and_then(Json::as_str) {
                st["uri"] = json!(format!("https://{tag}---{id}-{number}.{location}.run.app"));
            }
            st
        })
        .collect();
    s.insert("trafficStatuses".into(), Json::Array(statuses));
    let snapshot = s.clone();
    record_serving(c, key, &snapshot, &revision, hosts);
    Ok(Json::Object(snapshot))
}

fn op_json(o: &Json) -> Json {
    crate::public(o.clone())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn req(method: &str, path_q: &str, body: Json) -> GRequest {
        let (path, q) = path_q.split_once('?').unwrap_or((path_q, ""));
        GRequest {
            method: method.into(),
            path: path.into(),
            query: crate::google::parse_query(q),
            authorization: Some("Bearer t".into()),
            body: if body.is_null() { Vec::new() } else { body.to_string().into_bytes() },
        }
    }

    fn call(core: &Core, c: &mut Collections, r: GRequest) -> (u16, Json) {
        match handle(core, c, &r, "user:x@example.com") {
            Ok(j) => (200, j),
            Err(e) => (e.http, e.body()),
        }
    }

    fn body(image: &str) -> Json {
        json!({"template": {"containers": [{"image": image, "env": [{"name": "A", "value": "1"}]}]}})
    }

    fn core(delay_ms: u64) -> Core {
        Core::new(
            crate::Kind::CloudRun,
            crate::Options { operation_delay: Duration::from_millis(delay_ms), ..Default::default() },
        )
    }

    #[test]
    fn create_runs_an_operation_then_serves() {
        let core = core(30);
        let mut c = Collections::default();
        let (s, op) = call(
            &core,
            &mut c,
            req("POST", "/v2/projects/demo/locations/us-central1/services?serviceId=api", body("hello")),
        );
        assert_eq!(s, 200, "{op}");
        assert!(op.get("done").is_none());
        let (_, svc) =
            call(&core, &mut c, req("GET", "/v2/projects/demo/locations/us-central1/services/api", Json::Null));
        assert_eq!(svc["reconciling"], true);
        assert_eq!(svc["generation"], "1");
        assert_eq!(svc["template"]["containers"][0]["ports"][0]["containerPort"], 8080);
        let (s, _) = call(
            &core,
            &mut c,
            req("POST", "/v2/projects/demo/locations/us-central1/services?serviceId=api", body("hello")),
        );
        assert_eq!(s, 409);
        std::thread::sleep(Duration::from_millis(40));
        let op_path = format!("/v2/{}", op["name"].as_str().unwrap());
        let (_, done) = call(&core, &mut c, req("GET", &op_path, Json::Null));
        assert_eq!(done["done"], true, "{done}");
        assert_eq!(done["response"]["terminalCondition"]["state"], "CONDITION_SUCCEEDED");
        assert!(done["response"]["uri"].as_str().unwrap().starts_with("https://api-"));

        let (s, e) = call(
            &core,
            &mut c,
            req(
                "POST",
                "/v2/projects/demo/locations/us-central1/services?serviceId=v1",
                json!({"apiVersion": "serving.knative.dev/v1", "kind": "Service", "spec": {}}),
            ),
        );
        assert_eq!((s, e["error"]["status"].as_str()), (400, Some("INVALID_ARGUMENT")));
    }

    #[test]
    fn failed_images_fail_the_operation() {
        let core = core(0);
        let mut c = Collections::default();
        let (_, op) = call(
            &core,
            &mut c,
            req("POST", "/v2/projects/demo/locations/eu/services?serviceId=bad", body("gcr.io/x/does-not-exist")),
        );
        let op_path = format!("/v2/{}", op["name"].as_str().unwrap());
        let (_, done) = call(&core, &mut c, req("GET", &op_path, Json::Null));
        assert_eq!(done["error"]["code"], 9, "{done}");
        let (_, svc) = call(&core, &mut c, req("GET", "/v2/projects/demo/locations/eu/services/bad", Json::Null));
        assert_eq!(svc["terminalCondition"]["state"], "CONDITION_FAILED");
    }
}

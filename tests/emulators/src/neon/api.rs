//! Handlers of the Neon emulator: request validation (400 on missing fields and wrong
//! types), existence checks (404), duplicate checks (409), project locks (423), and the
//! response bodies of the spec.
// Handlers return the API's error response as `Err` (axum's idiom); its size does not matter here.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value as Json_};

use super::model::{self, role_key};
use crate::store::Collections;
use crate::Shared;

type R = Result<Response, Response>;

fn e(status: u16, msg: impl AsRef<str>) -> Response {
    super::error(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), msg.as_ref())
}

fn ok(status: u16, body: Json_) -> R {
    Ok((StatusCode::from_u16(status).unwrap_or(StatusCode::OK), Json(body)).into_response())
}

/// The request body as a JSON object (`{}` when empty and `optional`).
fn body_object(bytes: &Bytes, optional: bool) -> Result<Map<String, Json_>, Response> {
    if bytes.is_empty() {
        return if optional { Ok(Map::new()) } else { Err(e(400, "request body is required")) };
    }
    match serde_json::from_slice::<Json_>(bytes) {
        Ok(Json_::Object(m)) => Ok(m),
        Ok(_) => Err(e(400, "request body must be a JSON object")),
        Err(err) => Err(e(400, format!("request body is not valid JSON: {err}"))),
    }
}

fn obj<'a>(m: &'a Map<String, Json_>, key: &str, required: bool) -> Result<Option<&'a Map<String, Json_>>, Response> {
    match m.get(key) {
        None | Some(Json_::Null) if !required => Ok(None),
        None | Some(Json_::Null) => Err(e(400, format!("missing required field \"{key}\""))),
        Some(Json_::Object(o)) => Ok(Some(o)),
        Some(_) => Err(e(400, format!("field \"{key}\" must be an object"))),
    }
}

fn opt_str(m: &Map<String, Json_>, path: &str, key: &str) -> Result<Option<String>, Response> {
    match m.get(key) {
        None | Some(Json_::Null) => Ok(None),
        Some(Json_::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(e(400, format!("field \"{path}.{key}\" must be a string"))),
    }
}

fn req_str(m: &Map<String, Json_>, path: &str, key: &str) -> Result<String, Response> {
    opt_str(m, path, key)?.ok_or_else(|| e(400, format!("missing required field \"{path}.{key}\"")))
}

fn opt_bool(m: &Map<String, Json_>, path: &str, key: &str) -> Result<Option<bool>, Response> {
    match m.get(key) {
        None | Some(Json_::Null) => Ok(None),
        Some(Json_::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(e(400, format!("field \"{path}.{key}\" must be a boolean"))),
    }
}

fn opt_num(m: &Map<String, Json_>, path: &str, key: &str) -> Result<Option<f64>, Response> {
    match m.get(key) {
        None | Some(Json_::Null) => Ok(None),
        Some(Json_::Number(n)) => Ok(n.as_f64()),
        Some(_) => Err(e(400, format!("field \"{path}.{key}\" must be a number"))),
    }
}

fn need_project(c: &Collections, p: &str) -> Result<Json_, Response> {
    c.get("projects", p).cloned().ok_or_else(|| e(404, format!("project {p} not found")))
}

fn need_branch(c: &Collections, p: &str, b: &str) -> Result<Json_, Response> {
    need_project(c, p)?;
    c.get("branches", b)
        .filter(|x| x["project_id"] == p)
        .cloned()
        .ok_or_else(|| e(404, format!("branch {b} not found")))
}

fn unlocked(s: &Shared, c: &Collections, p: &str) -> Result<(), Response> {
    if model::project_locked(s, c, p) {
        return Err(e(423, "project already has running conflicting operations, scheduling of new ones is prohibited"));
    }
    Ok(())
}

fn default_branch(c: &Collections, p: &str) -> Option<Json_> {
    c.iter("branches").find(|b| b["project_id"] == p && b["default"] == true).cloned()
}

fn rw_endpoint(c: &Collections, b: &str) -> Option<Json_> {
    c.iter("endpoints").find(|x| x["branch_id"] == b && x["type"] == "read_write").cloned()
}

// ---- projects ----

pub async fn list_projects(State(s): State<Shared>) -> R {
    let projects = s.store.list("projects");
    ok(200, json!({"projects": projects, "pagination": {"cursor": ""}}))
}

pub async fn get_project(State(s): State<Shared>, Path(p): Path<String>) -> R {
    let project = s.store.with(|c| need_project(c, &p))?;
    ok(200, json!({"project": project}))
}

/// `POST /_emulator/fail_operations {"action": "create_branch", "count": 1}`: the next
/// `count` operations of that action end `failed` (the object they work on stays), as Neon's
/// do when the control plane cannot finish them.
pub async fn admin_fail_operations(State(s): State<Shared>, body: Bytes) -> R {
    let m = body_object(&body, false)?;
    let action = req_str(&m, "", "action")?;
    let count = opt_num(&m, "", "count")?.unwrap_or(1.0);
    if count < 0.0 || count.fract() != 0.0 {
        return Err(e(400, "count must be a non-negative integer"));
    }
    s.store.with(|c| c.insert(model::FAIL_OPS, &action, json!({"action": action, "count": count as u64})));
    ok(200, json!({"action": action, "count": count as u64}))
}

pub async fn admin_create_project(State(s): State<Shared>, body: Bytes) -> R {
    let m = body_object(&body, true)?;
    let id = opt_str(&m, "", "id")?.unwrap_or_else(|| model::branch_id().replacen("br-", "", 1));
    let name = opt_str(&m, "", "name")?.unwrap_or_else(|| id.clone());
    if !id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') || id.is_empty() || id.len() > 60 {
        return Err(e(400, "project id must match ^[a-z0-9-]{1,60}$"));
    }
    if s.store.get("projects", &id).is_some() {
        return Err(e(409, format!("project {id} already exists")));
    }
    let project = model::create_project(&s, &id, &name);
    ok(201, json!({"project": project}))
}

// ---- branches ----

pub async fn list_branches(
    State(s): State<Shared>,
    Path(p): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    let limit = match q.get("limit") {
        None => 10_000,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=10_000).contains(&n) => n,
            _ => return Err(e(400, "limit must be an integer between 1 and 10000")),
        },
    };
    let sort_by = q.get("sort_by").map(String::as_str).unwrap_or("updated_at");
    if !["name", "created_at", "updated_at"].contains(&sort_by) {
        return Err(e(400, "sort_by must be one of name, created_at, updated_at"));
    }
    let order = q.get("sort_order").map(String::as_str).unwrap_or("desc");
    if !["asc", "desc"].contains(&order) {
        return Err(e(400, "sort_order must be asc or desc"));
    }
    let offset: usize = match q.get("cursor") {
        None => 0,
        Some(c) => c.strip_prefix("off-").and_then(|n| n.parse().ok()).ok_or_else(|| e(400, "invalid cursor"))?,
    };
    let search = q.get("search").cloned().unwrap_or_default();
    let mut branches = s.store.with(|c| {
        need_project(c, &p)?;
        Ok::<_, Response>(c.find("branches", |b| {
            b["project_id"] == p.as_str()
                && (search.is_empty()
                    || b["name"].as_str().is_some_and(|n| n.contains(&search))
                    || b["id"].as_str().is_some_and(|n| n.contains(&search)))
        }))
    })?;
    let key = |b: &Json_| b[sort_by].as_str().unwrap_or("").to_string();
    branches.sort_by_key(key);
    if order == "desc" {
        branches.reverse();
    }
    let total = branches.len();
    let page: Vec<Json_> = branches.iter().skip(offset).take(limit).map(|b| model::render_branch(&s, b)).collect();
    let mut pagination = json!({"sort_by": sort_by, "sort_order": order});
    if offset + page.len() < total {
        pagination["next"] = json!(format!("off-{}", offset + page.len()));
    }
    let annotations: Map<String, Json_> = branches
        .iter()
        .skip(offset)
        .take(limit)
        .filter(|b| b.get("_annotation").is_some())
        .map(|b| (b["id"].as_str().unwrap_or_default().to_string(), model::render_annotation(b)))
        .collect();
    ok(200, json!({"branches": page, "annotations": annotations, "pagination": pagination}))
}

pub async fn get_branch(State(s): State<Shared>, Path((p, b)): Path<(String, String)>) -> R {
    let branch = s.store.with(|c| need_branch(c, &p, &b))?;
    ok(200, json!({"branch": model::render_branch(&s, &branch), "annotation": model::render_annotation(&branch)}))
}

/// `annotation_value` of a create: an object of at most 50 string properties.
fn annotation_value(m: &Map<String, Json_>) -> Result<Option<Map<String, Json_>>, Response> {
    let Some(v) = obj(m, "annotation_value", false)? else { return Ok(None) };
    if v.len() > 50 {
        return Err(e(400, "annotation_value must have at most 50 properties"));
    }
    if v.values().any(|x| !x.is_string()) {
        return Err(e(400, "annotation_value values must be strings"));
    }
    Ok(Some(v.clone()))
}

pub async fn create_branch(State(s): State<Shared>, Path(p): Path<String>, body: Bytes) -> R {
    let m = body_object(&body, true)?;
    let empty = Map::new();
    let spec = obj(&m, "branch", false)?.unwrap_or(&empty);
    let name = opt_str(spec, "branch", "name")?;
    if name.as_ref().is_some_and(|n| n.len() > 256) {
        return Err(e(400, "branch.name must be at most 256 characters"));
    }
    let parent_id = opt_str(spec, "branch", "parent_id")?.filter(|x| !x.is_empty());
    let parent_lsn = opt_str(spec, "branch", "parent_lsn")?;
    let parent_ts = opt_str(spec, "branch", "parent_timestamp")?;
    let protected = opt_bool(spec, "branch", "protected")?;
    let annotation = annotation_value(&m)?;
    if let Some(src) = opt_str(spec, "branch", "init_source")? {
        if !["parent-data", "schema-only"].contains(&src.as_str()) {
            return Err(e(400, "branch.init_source must be parent-data or schema-only"));
        }
    }
    let mut endpoint_specs = Vec::new();
    match m.get("endpoints") {
        None | Some(Json_::Null) => {}
        Some(Json_::Array(items)) => {
            for (i, it) in items.iter().enumerate() {
                let Json_::Object(em) = it else { return Err(e(400, format!("endpoints[{i}] must be an object"))) };
                let path = format!("endpoints[{i}]");
                let ty = req_str(em, &path, "type")?;
                if ty != "read_write" && ty != "read_only" {
                    return Err(e(400, format!("{path}.type must be read_write or read_only")));
                }
                endpoint_specs.push((ty, em.clone()));
            }
        }
        Some(_) => return Err(e(400, "field \"endpoints\" must be an array")),
    }
    if endpoint_specs.iter().filter(|(t, _)| t == "read_write").count() > 1 {
        return Err(e(400, "a branch can have only one read_write endpoint"));
    }
    s.store.with(|c| {
        need_project(c, &p)?;
        let parent = match &parent_id {
            Some(pid) => need_branch(c, &p, pid)?,
            None => default_branch(c, &p).ok_or_else(|| e(400, "project has no default branch"))?,
        };
        unlocked(&s, c, &p)?;
        if let Some(n) = &name {
            if c.iter("branches").any(|b| b["project_id"] == p.as_str() && b["name"] == n.as_str()) {
                return Err(e(409, "branch already exists"));
            }
        }
        let id = model::branch_id();
        let name = name.clone().unwrap_or_else(|| id.clone());
        let ready = s.ready_at();
        let mut branch = model::new_branch(&p, &id, &name, Some(&parent), ready, false);
        if let Some(l) = &parent_lsn {
            branch["parent_lsn"] = json!(l);
        }
        if let Some(t) = &parent_ts {
            branch["parent_timestamp"] = json!(t);
        }
        if let Some(pr) = protected {
            branch["protected"] = json!(pr);
        }
        if let Some(a) = &annotation {
            let now = model::now_rfc3339();
            branch["_annotation"] = json!({"value": a, "created_at": now, "updated_at": now});
        }
        c.insert("branches", &id, branch.clone());
        let mut ops = vec![model::new_op(&s, c, &p, Some(&id), None, "create_branch")];
        // A child branch starts with its parent's roles and databases.
        let parent_id = parent["id"].as_str().unwrap_or_default().to_string();
        let roles: Vec<Json_> = c.find("roles", |r| r["branch_id"] == parent_id.as_str());
        for mut r in roles {
            r["branch_id"] = json!(id);
            let key = role_key(&id, r["name"].as_str().unwrap_or_default());
            c.insert("roles", &key, r);
        }
        let dbs: Vec<Json_> = c.find("databases", |d| d["branch_id"] == parent_id.as_str());
        for d in dbs {
            let mut nd = model::new_database(
                &id,
                d["name"].as_str().unwrap_or_default(),
                d["owner_name"].as_str().unwrap_or_default(),
            );
            nd["created_at"] = d["created_at"].clone();
            c.insert("databases", &role_key(&id, d["name"].as_str().unwrap_or_default()), nd);
        }
        let mut endpoints = Vec::new();
        for (ty, em) in &endpoint_specs {
            let eid = model::endpoint_id();
            let mut ep = model::new_endpoint(&p, &id, &eid, ty, ready);
            apply_endpoint_settings(&mut ep, em, "endpoints[]")?;
            c.insert("endpoints", &eid, ep.clone());
            ops.push(model::new_op(&s, c, &p, Some(&id), Some(&eid), "start_compute"));
            endpoints.push(model::render_endpoint(&s, &ep));
        }
        let roles: Vec<Json_> =
            c.find("roles", |r| r["branch_id"] == id.as_str()).iter().map(|r| model::render_role(r, false)).collect();
        let databases: Vec<Json_> = c.find("databases", |d| d["branch_id"] == id.as_str());
        let mut body = json!({
            "branch": model::render_branch(&s, &branch), "endpoints": endpoints, "operations": ops,
            "roles": roles, "databases": databases,
        });
        if let Some(ep) = endpoint_specs.first().and_then(|_| {
            rw_endpoint(c, &id).or_else(|| c.find("endpoints", |x| x["branch_id"] == id.as_str()).into_iter().next())
        }) {
            let uris: Vec<Json_> = databases
                .iter()
                .filter_map(|d| {
                    let owner = d["owner_name"].as_str()?;
                    let role = c.get("roles", &role_key(&id, owner))?;
                    let pw = role["_password"].as_str()?;
                    let host = ep["host"].as_str()?;
                    let db = d["name"].as_str()?;
                    Some(json!({
                        "connection_uri": format!("postgresql://{owner}:{pw}@{host}/{db}?sslmode=require"),
                        "connection_parameters": {"database": db, "password": pw, "role": owner, "host": host,
                            "pooler_host": host.replacen('.', "-pooler.", 1)},
                    }))
                })
                .collect();
            body["connection_uris"] = json!(uris);
        }
        ok(201, body)
    })
}

pub async fn update_branch(State(s): State<Shared>, Path((p, b)): Path<(String, String)>, body: Bytes) -> R {
    let m = body_object(&body, false)?;
    let spec = obj(&m, "branch", true)?.cloned().unwrap_or_default();
    let name = opt_str(&spec, "branch", "name")?;
    let protected = opt_bool(&spec, "branch", "protected")?;
    s.store.with(|c| {
        need_branch(c, &p, &b)?;
        unlocked(&s, c, &p)?;
        if let Some(n) = &name {
            if c.iter("branches")
                .any(|x| x["project_id"] == p.as_str() && x["name"] == n.as_str() && x["id"] != b.as_str())
            {
                return Err(e(409, "branch already exists"));
            }
        }
        let now = model::now_rfc3339();
        let branch = c.get_mut("branches", &b).ok_or_else(|| e(404, "branch not found"))?;
        if let Some(n) = name {
            branch["name"] = json!(n);
        }
        if let Some(pr) = protected {
            branch["protected"] = json!(pr);
        }
        branch["updated_at"] = json!(now);
        let shown = model::render_branch(&s, branch);
        ok(200, json!({"branch": shown, "operations": []}))
    })
}

pub async fn delete_branch(State(s): State<Shared>, Path((p, b)): Path<(String, String)>) -> R {
    s.store.with(|c| {
        need_project(c, &p)?;
        let Some(branch) = c.get("branches", &b).filter(|x| x["project_id"] == p.as_str()).cloned() else {
            return Ok(StatusCode::NO_CONTENT.into_response());
        };
        if branch["default"] == true {
            return Err(e(400, "cannot delete the project's default branch"));
        }
        if c.iter("branches").any(|x| x["parent_id"] == b.as_str()) {
            return Err(e(400, "cannot delete a branch that has child branches"));
        }
        unlocked(&s, c, &p)?;
        c.remove("branches", &b);
        c.remove_where("endpoints", |x| x["branch_id"] == b.as_str());
        c.remove_where("roles", |x| x["branch_id"] == b.as_str());
        c.remove_where("databases", |x| x["branch_id"] == b.as_str());
        let op = model::new_op(&s, c, &p, Some(&b), None, "delete_timeline");
        ok(200, json!({"branch": model::render_branch(&s, &branch), "operations": [op]}))
    })
}

// ---- endpoints ----

fn apply_endpoint_settings(ep: &mut Json_, m: &Map<String, Json_>, path: &str) -> Result<(), Response> {
    for key in ["autoscaling_limit_min_cu", "autoscaling_limit_max_cu"] {
        if let Some(v) = opt_num(m, path, key)? {
            if v < 0.25 {
                return Err(e(400, format!("{path}.{key} must be at least 0.25")));
            }
            ep[key] = json!(v);
        }
    }
    if ep["autoscaling_limit_min_cu"].as_f64() > ep["autoscaling_limit_max_cu"].as_f64() {
        if m.contains_key("autoscaling_limit_max_cu") {
            return Err(e(400, "autoscaling_limit_min_cu must not exceed autoscaling_limit_max_cu"));
        }
        ep["autoscaling_limit_max_cu"] = ep["autoscaling_limit_min_cu"].clone();
    }
    if let Some(v) = opt_num(m, path, "suspend_timeout_seconds")? {
        if v.fract() != 0.0 || !(-1.0..=604_800.0).contains(&v) {
            return Err(e(400, format!("{path}.suspend_timeout_seconds must be an integer between -1 and 604800")));
        }
        ep["suspend_timeout_seconds"] = json!(v as i64);
    }
    if let Some(v) = opt_str(m, path, "provisioner")? {
        if !["k8s-pod", "k8s-neonvm"].contains(&v.as_str()) {
            return Err(e(400, format!("{path}.provisioner must be k8s-pod or k8s-neonvm")));
        }
        ep["provisioner"] = json!(v);
    }
    if let Some(v) = opt_bool(m, path, "pooler_enabled")? {
        ep["pooler_enabled"] = json!(v);
    }
    if let Some(v) = opt_str(m, path, "pooler_mode")? {
        if v != "transaction" {
            return Err(e(400, format!("{path}.pooler_mode must be transaction")));
        }
        ep["pooler_mode"] = json!(v);
    }
    if let Some(v) = opt_bool(m, path, "disabled")? {
        ep["disabled"] = json!(v);
    }
    if let Some(v) = opt_str(m, path, "region_id")? {
        ep["region_id"] = json!(v);
    }
    if let Some(settings) = obj(m, "settings", false)? {
        let pg = obj(settings, "pg_settings", false)?.cloned().unwrap_or_default();
        if pg.values().any(|v| !v.is_string()) {
            return Err(e(400, format!("{path}.settings.pg_settings values must be strings")));
        }
        ep["settings"] = json!({"pg_settings": pg});
    }
    Ok(())
}

pub async fn list_branch_endpoints(State(s): State<Shared>, Path((p, b)): Path<(String, String)>) -> R {
    let eps = s.store.with(|c| {
        need_branch(c, &p, &b)?;
        Ok::<_, Response>(c.find("endpoints", |x| x["branch_id"] == b.as_str()))
    })?;
    ok(200, json!({"endpoints": eps.iter().map(|x| model::render_endpoint(&s, x)).collect::<Vec<_>>()}))
}

pub async fn list_endpoints(State(s): State<Shared>, Path(p): Path<String>) -> R {
    let eps = s.store.with(|c| {
        need_project(c, &p)?;
        Ok::<_, Response>(c.find("endpoints", |x| x["project_id"] == p.as_str()))
    })?;
    ok(200, json!({"endpoints": eps.iter().map(|x| model::render_endpoint(&s, x)).collect::<Vec<_>>()}))
}

fn need_endpoint(c: &Collections, p: &str, id: &str) -> Result<Json_, Response> {
    need_project(c, p)?;
    c.get("endpoints", id)
        .filter(|x| x["project_id"] == p)
        .cloned()
        .ok_or_else(|| e(404, format!("endpoint {id} not found")))
}

pub async fn get_endpoint(State(s): State<Shared>, Path((p, id)): Path<(String, String)>) -> R {
    let ep = s.store.with(|c| need_endpoint(c, &p, &id))?;
    ok(200, json!({"endpoint": model::render_endpoint(&s, &ep)}))
}

pub async fn create_endpoint(State(s): State<Shared>, Path(p): Path<String>, body: Bytes) -> R {
    let m = body_object(&body, false)?;
    let spec = obj(&m, "endpoint", true)?.cloned().unwrap_or_default();
    let branch = req_str(&spec, "endpoint", "branch_id")?;
    let ty = req_str(&spec, "endpoint", "type")?;
    if ty != "read_write" && ty != "read_only" {
        return Err(e(400, "endpoint.type must be read_write or read_only"));
    }
    s.store.with(|c| {
        need_branch(c, &p, &branch)?;
        if ty == "read_write" && rw_endpoint(c, &branch).is_some() {
            return Err(e(409, "read-write endpoint already exists"));
        }
        unlocked(&s, c, &p)?;
        let id = model::endpoint_id();
        let mut ep = model::new_endpoint(&p, &branch, &id, &ty, s.ready_at());
        apply_endpoint_settings(&mut ep, &spec, "endpoint")?;
        c.insert("endpoints", &id, ep.clone());
        let op = model::new_op(&s, c, &p, Some(&branch), Some(&id), "start_compute");
        ok(201, json!({"endpoint": model::render_endpoint(&s, &ep), "operations": [op]}))
    })
}

pub async fn update_endpoint(State(s): State<Shared>, Path((p, id)): Path<(String, String)>, body: Bytes) -> R {
    let m = body_object(&body, false)?;
    let spec = obj(&m, "endpoint", true)?.cloned().unwrap_or_default();
    if spec.contains_key("type") {
        return Err(e(400, "endpoint.type cannot be changed"));
    }
    s.store.with(|c| {
        let mut ep = need_endpoint(c, &p, &id)?;
        unlocked(&s, c, &p)?;
        if let Some(b) = opt_str(&spec, "endpoint", "branch_id")? {
            need_branch(c, &p, &b)?;
            if ep["type"] == "read_write" && b != ep["branch_id"] && rw_endpoint(c, &b).is_some() {
                return Err(e(409, "read-write endpoint already exists"));
            }
            ep["branch_id"] = json!(b);
        }
        apply_endpoint_settings(&mut ep, &spec, "endpoint")?;
        ep["updated_at"] = json!(model::now_rfc3339());
        ep["_ready_at"] = json!(s.ready_at());
        c.insert("endpoints", &id, ep.clone());
        let op = model::new_op(&s, c, &p, ep["branch_id"].as_str(), Some(&id), "apply_config");
        ok(200, json!({"endpoint": model::render_endpoint(&s, &ep), "operations": [op]}))
    })
}

pub async fn delete_endpoint(State(s): State<Shared>, Path((p, id)): Path<(String, String)>) -> R {
    s.store.with(|c| {
        let ep = need_endpoint(c, &p, &id)?;
        unlocked(&s, c, &p)?;
        c.remove("endpoints", &id);
        let op = model::new_op(&s, c, &p, ep["branch_id"].as_str(), Some(&id), "suspend_compute");
        ok(200, json!({"endpoint": model::render_endpoint(&s, &ep), "operations": [op]}))
    })
}

// ---- roles ----

pub async fn list_roles(State(s): State<Shared>, Path((p, b)): Path<(String, String)>) -> R {
    let roles = s.store.with(|c| {
        need_branch(c, &p, &b)?;
        Ok::<_, Response>(c.find("roles", |r| r["branch_id"] == b.as_str()))
    })?;
    ok(200, json!({"roles": roles.iter().map(|r| model::render_role(r, false)).collect::<Vec<_>>()}))
}

fn need_role(c: &Collections, p: &str, b: &str, name: &str) -> Result<Json_, Response> {
    need_branch(c, p, b)?;
    c.get("roles", &role_key(b, name)).cloned().ok_or_else(|| e(404, format!("role \"{name}\" not found")))
}

pub async fn get_role(State(s): State<Shared>, Path((p, b, n)): Path<(String, String, String)>) -> R {
    let r = s.store.with(|c| need_role(c, &p, &b, &n))?;
    ok(200, json!({"role": model::render_role(&r, false)}))
}

pub async fn reveal_password(State(s): State<Shared>, Path((p, b, n)): Path<(String, String, String)>) -> R {
    let r = s.store.with(|c| need_role(c, &p, &b, &n))?;
    ok(200, json!({"password": r["_password"]}))
}

pub async fn create_role(State(s): State<Shared>, Path((p, b)): Path<(String, String)>, body: Bytes) -> R {
    let m = body_object(&body, false)?;
    let spec = obj(&m, "role", true)?.cloned().unwrap_or_default();
    let name = req_str(&spec, "role", "name")?;
    if name.is_empty() || name.len() > 63 {
        return Err(e(400, "role.name must be 1 to 63 bytes long"));
    }
    opt_bool(&spec, "role", "no_login")?;
    s.store.with(|c| {
        need_branch(c, &p, &b)?;
        if c.get("roles", &role_key(&b, &name)).is_some() {
            return Err(e(409, format!("role \"{name}\" already exists")));
        }
        unlocked(&s, c, &p)?;
        let role = model::new_role(&b, &name);
        c.insert("roles", &role_key(&b, &name), role.clone());
        let ep = rw_endpoint(c, &b);
        let op = model::new_op(&s, c, &p, Some(&b), ep.as_ref().and_then(|x| x["id"].as_str()), "apply_config");
        ok(201, json!({"role": model::render_role(&role, true), "operations": [op]}))
    })
}

pub async fn reset_password(State(s): State<Shared>, Path((p, b, n)): Path<(String, String, String)>) -> R {
    s.store.with(|c| {
        let mut role = need_role(c, &p, &b, &n)?;
        unlocked(&s, c, &p)?;
        role["_password"] = json!(model::password());
        role["updated_at"] = json!(model::now_rfc3339());
        c.insert("roles", &role_key(&b, &n), role.clone());
        let op = model::new_op(&s, c, &p, Some(&b), None, "apply_config");
        ok(200, json!({"role": model::render_role(&role, true), "operations": [op]}))
    })
}

pub async fn delete_role(State(s): State<Shared>, Path((p, b, n)): Path<(String, String, String)>) -> R {
    s.store.with(|c| {
        need_branch(c, &p, &b)?;
        let Some(role) = c.get("roles", &role_key(&b, &n)).cloned() else {
            return Ok(StatusCode::NO_CONTENT.into_response());
        };
        if c.iter("databases").any(|d| d["branch_id"] == b.as_str() && d["owner_name"] == n.as_str()) {
            return Err(e(400, format!("role \"{n}\" owns databases; delete them or change their owner first")));
        }
        unlocked(&s, c, &p)?;
        c.remove("roles", &role_key(&b, &n));
        let op = model::new_op(&s, c, &p, Some(&b), None, "apply_config");
        ok(200, json!({"role": model::render_role(&role, false), "operations": [op]}))
    })
}

// ---- databases ----

pub async fn list_databases(State(s): State<Shared>, Path((p, b)): Path<(String, String)>) -> R {
    let dbs = s.store.with(|c| {
        need_branch(c, &p, &b)?;
        Ok::<_, Response>(c.find("databases", |d| d["branch_id"] == b.as_str()))
    })?;
    ok(200, json!({"databases": dbs}))
}

fn need_database(c: &Collections, p: &str, b: &str, name: &str) -> Result<Json_, Response> {
    need_branch(c, p, b)?;
    c.get("databases", &role_key(b, name)).cloned().ok_or_else(|| e(404, format!("database \"{name}\" not found")))
}

pub async fn get_database(State(s): State<Shared>, Path((p, b, n)): Path<(String, String, String)>) -> R {
    let d = s.store.with(|c| need_database(c, &p, &b, &n))?;
    ok(200, json!({"database": d}))
}

pub async fn create_database(State(s): State<Shared>, Path((p, b)): Path<(String, String)>, body: Bytes) -> R {
    let m = body_object(&body, false)?;
    let spec = obj(&m, "database", true)?.cloned().unwrap_or_default();
    let name = req_str(&spec, "database", "name")?;
    let owner = req_str(&spec, "database", "owner_name")?;
    if name.is_empty() || name.len() > 63 {
        return Err(e(400, "database.name must be 1 to 63 bytes long"));
    }
    s.store.with(|c| {
        need_branch(c, &p, &b)?;
        if c.get("databases", &role_key(&b, &name)).is_some() {
            return Err(e(409, format!("database \"{name}\" already exists")));
        }
        if c.get("roles", &role_key(&b, &owner)).is_none() {
            return Err(e(400, format!("owner role \"{owner}\" does not exist")));
        }
        unlocked(&s, c, &p)?;
        let db = model::new_database(&b, &name, &owner);
        c.insert("databases", &role_key(&b, &name), db.clone());
        let op = model::new_op(&s, c, &p, Some(&b), None, "apply_config");
        ok(201, json!({"database": db, "operations": [op]}))
    })
}

pub async fn update_database(
    State(s): State<Shared>,
    Path((p, b, n)): Path<(String, String, String)>,
    body: Bytes,
) -> R {
    let m = body_object(&body, false)?;
    let spec = obj(&m, "database", true)?.cloned().unwrap_or_default();
    let name = opt_str(&spec, "database", "name")?;
    let owner = opt_str(&spec, "database", "owner_name")?;
    s.store.with(|c| {
        let mut db = need_database(c, &p, &b, &n)?;
        if let Some(o) = &owner {
            if c.get("roles", &role_key(&b, o)).is_none() {
                return Err(e(400, format!("owner role \"{o}\" does not exist")));
            }
            db["owner_name"] = json!(o);
        }
        if let Some(new) = &name {
            if new != &n && c.get("databases", &role_key(&b, new)).is_some() {
                return Err(e(409, format!("database \"{new}\" already exists")));
            }
        }
        unlocked(&s, c, &p)?;
        db["updated_at"] = json!(model::now_rfc3339());
        c.remove("databases", &role_key(&b, &n));
        let final_name = name.unwrap_or(n);
        db["name"] = json!(final_name);
        c.insert("databases", &role_key(&b, &final_name), db.clone());
        let op = model::new_op(&s, c, &p, Some(&b), None, "apply_config");
        ok(200, json!({"database": db, "operations": [op]}))
    })
}

pub async fn delete_database(State(s): State<Shared>, Path((p, b, n)): Path<(String, String, String)>) -> R {
    s.store.with(|c| {
        need_branch(c, &p, &b)?;
        let Some(db) = c.get("databases", &role_key(&b, &n)).cloned() else {
            return Ok(StatusCode::NO_CONTENT.into_response());
        };
        unlocked(&s, c, &p)?;
        c.remove("databases", &role_key(&b, &n));
        let op = model::new_op(&s, c, &p, Some(&b), None, "apply_config");
        ok(200, json!({"database": db, "operations": [op]}))
    })
}

// ---- operations and connection URIs ----

pub async fn get_operation(State(s): State<Shared>, Path((p, id)): Path<(String, String)>) -> R {
    let op = s.store.with(|c| {
        need_project(c, &p)?;
        c.get("operations", &id)
            .filter(|o| o["project_id"] == p.as_str())
            .cloned()
            .ok_or_else(|| e(404, "operation not found"))
    })?;
    ok(200, json!({"operation": model::render_op(&s, &op)}))
}

pub async fn list_operations(State(s): State<Shared>, Path(p): Path<String>) -> R {
    let ops = s.store.with(|c| {
        need_project(c, &p)?;
        Ok::<_, Response>(c.find("operations", |o| o["project_id"] == p.as_str()))
    })?;
    let mut ops: Vec<Json_> = ops.iter().map(|o| model::render_op(&s, o)).collect();
    ops.reverse();
    ok(200, json!({"operations": ops, "pagination": {"cursor": ""}}))
}

pub async fn connection_uri(
    State(s): State<Shared>,
    Path(p): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    let db = q.get("database_name").ok_or_else(|| e(400, "missing required query parameter database_name"))?;
    let role = q.get("role_name").ok_or_else(|| e(400, "missing required query parameter role_name"))?;
    let pooled = match q.get("pooled").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(e(400, "pooled must be true or false")),
    };
    s.store.with(|c| {
        let branch = match q.get("branch_id") {
            Some(b) => need_branch(c, &p, b)?,
            None => {
                need_project(c, &p)?;
                default_branch(c, &p).ok_or_else(|| e(404, "project has no default branch"))?
            }
        };
        let b = branch["id"].as_str().unwrap_or_default();
        let ep = match q.get("endpoint_id") {
            Some(id) => need_endpoint(c, &p, id)?,
            None => rw_endpoint(c, b).ok_or_else(|| e(404, format!("branch {b} has no read_write endpoint")))?,
        };
        let r = need_role(c, &p, b, role)?;
        need_database(c, &p, b, db)?;
        let host = ep["host"].as_str().unwrap_or_default();
        let host = if pooled { host.replacen('.', "-pooler.", 1) } else { host.to_string() };
        let pw = r["_password"].as_str().unwrap_or_default();
        ok(200, json!({"uri": format!("postgresql://{role}:{pw}@{host}/{db}?sslmode=require")}))
    })
}

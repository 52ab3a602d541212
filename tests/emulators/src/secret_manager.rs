//! Emulator of the Secret Manager API v1 (kind `secretmanager`, alias `google-secrets`):
//! secrets, versions (add, get, access, list, enable, disable, destroy), IAM, and the OAuth
//! token endpoint for the service-account flow, on the real paths (`/v1/projects/{p}/secrets…`,
//! `/token`).
//!
//! Faithful where clients can tell: the `secretId` query parameter, bodies validated against
//! the discovery schema (unknown fields, wrong types → 400 `INVALID_ARGUMENT`), names answered
//! with the project **number**, 409 `ALREADY_EXISTS` on a duplicate, 404 after delete, standard
//! base64 payloads of at most 64 KiB with optional CRC32C checks, `latest` = the most recently
//! created version (so a disabled newest version makes `latest:access` fail), 401 for unknown
//! or expired issued tokens. Answers are proto3 JSON: default-valued fields (empty `labels`,
//! `false`, `0`, `""`) are omitted, as the real API does. Secrets live in the shared store (collection `secrets`, versions
//! under `_versions`; payloads never appear in the admin listing), IAM policies in
//! `iam_policies`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map as JsonMap, Value as Json};

use crate::google::{iam, next_counter, now_rfc3339, rfc3339_at, schema, split_path, ApiError, GRequest, Projects};
use crate::store::Collections;
use crate::{Core, Shared, Spec};

/// Largest payload Secret Manager accepts (decoded bytes).
pub const MAX_PAYLOAD: usize = 64 * 1024;
/// The collection of secrets.
pub const SECRETS: &str = "secrets";

pub fn spec() -> Spec {
    Spec { base_path: "/v1", router, admin, seed: |_| {}, error: crate::google::error, public_paths: &["/token"] }
}

fn router(core: Shared) -> axum::Router {
    crate::google::api_router(core, "v1", handle, output)
}

/// The answer as the real API prints it: proto3 JSON, default-valued fields omitted (empty
/// `labels`, `clientSpecifiedPayloadChecksum: false`, … are absent).
fn output(req: &GRequest, j: &Json) -> Json {
    let Some((segs, verb)) = split_path(&req.path, "/v1/") else { return j.clone() };
    let ty = match (segs.as_slice(), verb, req.method.as_str()) {
        (_, Some("getIamPolicy" | "setIamPolicy"), _) => "Policy",
        (_, Some("addVersion" | "enable" | "disable" | "destroy"), _) => "SecretVersion",
        (_, Some("access"), _) => "AccessSecretVersionResponse",
        ([.., "secrets"], None, "GET") => "ListSecretsResponse",
        ([.., "versions"], None, "GET") => "ListSecretVersionsResponse",
        ([.., "versions", _], None, _) => "SecretVersion",
        ([.., "secrets", _], None, "DELETE") => return j.clone(),
        ([.., "secrets"], None, _) | ([.., "secrets", _], None, _) => "Secret",
        _ => return j.clone(),
    };
    schema::secretmanager_v1().output(ty, j)
}

fn admin(_core: Shared) -> axum::Router {
    axum::Router::new()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Version {
    n: u64,
    create_time: String,
    state: String,
    destroy_time: Option<String>,
    /// Base64 payload; cleared on destroy. Kept out of the admin listing's view by name.
    #[serde(rename = "_data")]
    data: String,
    crc32c: u32,
    client_checksum: bool,
    etag: String,
}

type R = Result<Json, ApiError>;

fn not_found_secret(name: &str) -> ApiError {
    ApiError::not_found(format!("Secret [{name}] not found."))
}

fn next_etag(c: &mut Collections) -> String {
    format!("\"{:014x}\"", 0x0016_0b3b_d900_0000_u64 + next_counter(c, "secret_etag"))
}

fn versions(doc: &Json) -> Vec<Version> {
    serde_json::from_value(doc.get("_versions").cloned().unwrap_or(json!([]))).unwrap_or_default()
}

fn set_versions(doc: &mut Json, v: &[Version]) {
    doc["_versions"] = serde_json::to_value(v).unwrap_or(json!([]));
}

/// The secret as the API shows it (bookkeeping removed).
fn public(doc: &Json) -> Json {
    crate::public(doc.clone())
}

fn check_labels(field: &str, labels: Option<&Json>) -> Result<(), ApiError> {
    let Some(m) = labels.and_then(Json::as_object) else { return Ok(()) };
    if m.len() > 64 {
        return Err(ApiError::invalid_argument_field(format!("A secret may have at most 64 {field}."), field));
    }
    for (k, v) in m {
        let key_ok = k.len() <= 63
            && k.starts_with(|c: char| c.is_lowercase())
            && k.chars().all(|c| c.is_lowercase() || c.is_numeric() || c == '_' || c == '-');
        let v = v.as_str().unwrap_or("");
        let val_ok = v.len() <= 63 && v.chars().all(|c| c.is_lowercase() || c.is_numeric() || c == '_' || c == '-');
        if field == "labels" && (!key_ok || !val_ok) {
            return Err(ApiError::invalid_argument_field(
                format!("Invalid label {k:?}: keys must start with a lowercase letter and keys and values may contain only lowercase letters, digits, '_' and '-' (at most 63 characters)."),
                &format!("secret.labels[{k}]"),
            ));
        }
    }
    Ok(())
}

fn check_replication(r: Option<&Json>) -> Result<(), ApiError> {
    let Some(r) = r.and_then(Json::as_object) else {
        return Err(ApiError::invalid_argument_field("Replication policy must be specified.", "secret.replication"));
    };
    match (r.get("automatic"), r.get("userManaged").or_else(|| r.get("user_managed"))) {
        (Some(_), None) => Ok(()),
        (None, Some(um)) => {
            let replicas = um.get("replicas").and_then(Json::as_array).cloned().unwrap_or_default();
            if replicas.is_empty() {
                return Err(ApiError::invalid_argument_field(
                    "UserManaged replication must contain at least one replica.",
                    "secret.replication.user_managed.replicas",
                ));
            }
            for (i, rep) in replicas.iter().enumerate() {
                if rep.get("location").and_then(Json::as_str).is_none_or(str::is_empty) {
                    return Err(ApiError::invalid_argument_field(
                        "Replica location must be specified.",
                        &format!("secret.replication.user_managed.replicas[{i}].location"),
                    ));
                }
            }
            Ok(())
        }
        _ => Err(ApiError::invalid_argument_field(
            "Exactly one of automatic or user_managed replication must be specified.",
            "secret.replication",
        )),
    }
}

fn secret_id_ok(id: &str) -> bool {
    !id.is_empty() && id.len() <= 255 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The fields a PATCH `updateMask` may name (proto names).
const PATCHABLE: &[&str] = &[
    "labels",
    "annotations",
    "topics",
    "rotation",
    "expire_time",
    "ttl",
    "version_aliases",
    "version_destroy_ttl",
    "etag",
];

fn snake(camel: &str) -> String {
    let mut out = String::new();
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn camel(s: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in s.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.push(c.to_ascii_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Handles one API request under `/v1/` (the token was checked by the router).
pub fn handle(_core: &Core, c: &mut Collections, req: &GRequest, _caller: &str) -> R {
    let projects = Projects::default();
    let Some((segs, verb)) = split_path(&req.path, "/v1/") else {
        return Err(ApiError::not_found(format!("The requested URL {} was not found on this server.", req.path)));
    };
    let key = |p: &str, s: &str| format!("projects/{}/secrets/{}", projects.number(p), s);
    let m = req.method.as_str();
    match (segs.as_slice(), verb, m) {
        (["projects", p, "secrets"], None, "POST") => create(c, &key(p, ""), req),
        (["projects", p, "secrets"], None, "GET") => list(c, &key(p, ""), req),
        (["projects", p, "secrets", s], None, "GET") => {
            let k = key(p, s);
            c.get(SECRETS, &k).map(public).ok_or_else(|| not_found_secret(&k))
        }
        (["projects", p, "secrets", s], None, "PATCH") => patch(c, &key(p, s), req),
        (["projects", p, "secrets", s], None, "DELETE") => delete(c, &key(p, s), req),
        (["projects", p, "secrets", s], Some("addVersion"), "POST") => add_version(c, &key(p, s), req),
        (["projects", p, "secrets", s], Some("getIamPolicy"), "GET") => {
            req.check_query(&["options.requestedPolicyVersion"])?;
            let k = existing(c, &key(p, s))?;
            Ok(iam::get(c, &k))
        }
        (["projects", p, "secrets", s], Some("setIamPolicy"), "POST") => {
            let body = req.json()?;
            schema::secretmanager_v1().validate("SetIamPolicyRequest", &body, "")?;
            let k = existing(c, &key(p, s))?;
            iam::set(c, &k, &body)
        }
        (["projects", p, "secrets", s], Some("testIamPermissions"), "POST") => {
            existing(c, &key(p, s))?;
            let body = req.json()?;
            Ok(json!({"permissions": body.get("permissions").cloned().unwrap_or(json!([]))}))
        }
        (["projects", p, "secrets", s, "versions"], None, "GET") => list_versions(c, &key(p, s), req),
        (["projects", p, "secrets", s, "versions", v], None, "GET") => {
            let k = key(p, s);
            let doc = c.get(SECRETS, &k).ok_or_else(|| not_found_secret(&k))?;
            let vs = versions(doc);
            let ver = resolve(&vs, &k, v)?;
            Ok(version_json(&k, doc, &vs[ver]))
        }
        (["projects", p, "secrets", s, "versions", v], Some("access"), "GET") => access(c, &key(p, s), v),
        (["projects", p, "secrets", s, "versions", v], Some(action @ ("enable" | "disable" | "destroy")), "POST") => {
            version_action(c, &key(p, s), v, action, req)
        }
        (_, _, "GET" | "POST" | "PATCH" | "DELETE" | "PUT") => {
            Err(ApiError::not_found(format!("The requested URL {} was not found on this server.", req.path)))
        }
        _ => Err(ApiError::new(405, "UNIMPLEMENTED", format!("Method {m} is not allowed on {}", req.path))),
    }
}

fn existing(c: &Collections, key: &str) -> Result<String, ApiError> {
    if c.get(SECRETS, key).is_some() {
        Ok(key.to_string())
    } else {
        Err(not_found_secret(key))
    }
}

fn create(c: &mut Collections, prefix: &str, req: &GRequest) -> R {
    req.check_query(&["secretId", "parent"])?;
    let Some(id) = req.query("secretId") else {
        return Err(ApiError::invalid_argument_field("Secret ID must be specified.", "secret_id"));
    };
    if !secret_id_ok(id) {
        return Err(ApiError::invalid_argument_field(
            format!("Secret ID [{id}] is invalid: it must be at most 255 characters of [a-zA-Z0-9_-]."),
            "secret_id",
        ));
    }
    let body = req.json()?;
    schema::secretmanager_v1().validate("Secret", &body, "secret")?;
    check_replication(body.get("replication"))?;
    check_labels("labels", body.get("labels"))?;
    if body.get("ttl").is_some() && body.get("expireTime").or_else(|| body.get("expire_time")).is_some() {
        return Err(ApiError::invalid_argument("Only one of expire_time and ttl may be set."));
    }
    let name = format!("{prefix}{id}");
    if c.get(SECRETS, &name).is_some() {
        return Err(ApiError::already_exists(format!("Secret [{name}] already exists.")));
    }
    let mut out = JsonMap::new();
    out.insert("name".into(), json!(name));
    for (k, v) in body.as_object().cloned().unwrap_or_default() {
        let k = camel(&k);
        match k.as_str() {
            "name" | "createTime" | "etag" | "ttl" => {}
            _ => {
                out.insert(k, v);
            }
        }
    }
    out.insert("createTime".into(), json!(now_rfc3339()));
    if let Some(ttl) = body.get("ttl").and_then(Json::as_str) {
        out.insert("expireTime".into(), json!(expire_at(ttl)));
    }
    out.insert("etag".into(), json!(next_etag(c)));
    let mut doc = Json::Object(out.clone());
    set_versions(&mut doc, &[]);
    c.insert(SECRETS, &name, doc);
    Ok(Json::Object(out))
}

fn expire_at(ttl: &str) -> String {
    let secs: f64 = ttl.trim_end_matches('s').parse().unwrap_or(0.0);
    rfc3339_at(std::time::SystemTime::now() + std::time::Duration::from_secs_f64(secs.max(0.0)))
}

fn list(c: &Collections, prefix: &str, req: &GRequest) -> R {
    req.check_query(&["pageSize", "pageToken", "filter"])?;
    let all: Vec<Json> =
        c.iter(SECRETS).filter(|d| d["name"].as_str().is_some_and(|n| n.starts_with(prefix))).map(public).collect();
    paginate(all, req, "secrets")
}

fn patch(c: &mut Collections, key: &str, req: &GRequest) -> R {
    req.check_query(&["updateMask"])?;
    let body = req.json()?;
    schema::secretmanager_v1().validate("Secret", &body, "secret")?;
    let Some(mask) = req.query("updateMask").filter(|m| !m.is_empty()) else {
        return Err(ApiError::invalid_argument_field("update_mask must be specified.", "update_mask"));
    };
    let paths: Vec<String> = mask.split(',').map(|f| snake(f.trim())).collect();
    for f in &paths {
        if f == "replication" {
            return Err(ApiError::invalid_argument_field(
                "The replication policy of a secret cannot be changed.",
                "update_mask",
            ));
        }
        if !PATCHABLE.contains(&f.as_str()) {
            return Err(ApiError::invalid_argument_field(format!("Invalid update_mask path: {f}"), "update_mask"));
        }
    }
    check_labels("labels", body.get("labels"))?;
    let etag = next_etag(c);
    let doc = c.get_mut(SECRETS, key).ok_or_else(|| not_found_secret(key))?;
    if let Some(want) = body.get("etag").and_then(Json::as_str) {
        if doc.get("etag").and_then(Json::as_str) != Some(want) {
            return Err(ApiError::failed_precondition(
                "The etag provided in the request does not match the etag of the secret.",
            ));
        }
    }
    let Some(obj) = doc.as_object_mut() else { return Err(not_found_secret(key)) };
    for f in &paths {
        if f == "etag" {
            continue;
        }
        let api = camel(f);
        let v = body.get(&api).or_else(|| body.get(f.as_str())).cloned();
        match (f.as_str(), v) {
            ("ttl", Some(Json::String(ttl))) => {
                obj.insert("expireTime".into(), json!(expire_at(&ttl)));
            }
            (_, Some(v)) if !v.is_null() && v != json!({}) && v != json!([]) => {
                obj.insert(api, v);
            }
            (_, _) => {
                obj.remove(&api);
            }
        }
    }
    obj.insert("etag".into(), json!(etag));
    Ok(public(doc))
}

fn delete(c: &mut Collections, key: &str, req: &GRequest) -> R {
    req.check_query(&["etag"])?;
    let doc = c.get(SECRETS, key).ok_or_else(|| not_found_secret(key))?;
    if let Some(want) = req.query("etag") {
        if doc.get("etag").and_then(Json::as_str) != Some(want) {
            return Err(ApiError::failed_precondition(
                "The etag provided in the request does not match the etag of the secret.",
            ));
        }
    }
    c.remove(SECRETS, key);
    iam::remove(c, key);
    Ok(json!({}))
}

fn add_version(c: &mut Collections, key: &str, req: &GRequest) -> R {
    let body = req.json()?;
    schema::secretmanager_v1().validate("AddSecretVersionRequest", &body, "")?;
    let Some(payload) = body.get("payload").filter(|x| x.is_object()) else {
        return Err(ApiError::invalid_argument_field("Payload must be specified.", "payload"));
    };
    let data_b64 = payload.get("data").and_then(Json::as_str).unwrap_or("");
    let data = STANDARD
        .decode(data_b64)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(data_b64))
        .map_err(|_| ApiError::invalid_argument_field("Invalid payload data: not base64.", "payload.data"))?;
    if data.len() > MAX_PAYLOAD {
        return Err(ApiError::invalid_argument_field(
            format!("Secret Version payload is too large: {} bytes; the limit is 65536 bytes.", data.len()),
            "payload.data",
        ));
    }
    let crc = crc32c::crc32c(&data);
    let client_checksum = match payload.get("dataCrc32c").or_else(|| payload.get("data_crc32c")) {
        None | Some(Json::Null) => false,
        Some(v) => {
            let given = match v {
                Json::String(s) => s.parse::<i64>().ok(),
                Json::Number(n) => n.as_i64(),
                _ => None,
            };
            if given != Some(crc as i64) {
                return Err(ApiError::invalid_argument_field(
                    "Checksum mismatch: the data_crc32c of the payload does not match the data.",
                    "payload.data_crc32c",
                ));
            }
            true
        }
    };
    let etag = next_etag(c);
    let doc = c.get_mut(SECRETS, key).ok_or_else(|| not_found_secret(key))?;
    let mut vs = versions(doc);
    let n = vs.last().map(|v| v.n + 1).unwrap_or(1);
    let v = Version {
        n,
        create_time: now_rfc3339(),
        state: "ENABLED".into(),
        destroy_time: None,
        data: STANDARD.encode(&data),
        crc32c: crc,
        client_checksum,
        etag,
    };
    vs.push(v.clone());
    set_versions(doc, &vs);
    Ok(version_json(key, doc, &v))
}

/// The index of a version (`latest` = the most recently created).
fn resolve(vs: &[Version], key: &str, v: &str) -> Result<usize, ApiError> {
    if v == "latest" {
        return vs
            .len()
            .checked_sub(1)
            .ok_or_else(|| ApiError::not_found(format!("Secret [{key}] not found or has no versions.")));
    }
    let n: u64 = v.parse().map_err(|_| {
        ApiError::invalid_argument(format!(
            "Invalid resource field value in the request: version [{v}] must be a positive integer or 'latest'."
        ))
    })?;
    vs.iter()
        .position(|x| x.n == n)
        .ok_or_else(|| ApiError::not_found(format!("Secret Version [{key}/versions/{n}] not found.")))
}

fn access(c: &Collections, key: &str, v: &str) -> R {
    let doc = c
        .get(SECRETS, key)
        .ok_or_else(|| ApiError::not_found(format!("Secret [{key}] not found or has no versions.")))?;
    let vs = versions(doc);
    let ver = &vs[resolve(&vs, key, v)?];
    if ver.state != "ENABLED" {
        return Err(ApiError::failed_precondition(format!(
            "Secret Version [{key}/versions/{}] is in {} state.",
            ver.n, ver.state
        )));
    }
    Ok(json!({
        "name": format!("{key}/versions/{}", ver.n),
        "payload": {"data": ver.data, "dataCrc32c": ver.crc32c.to_string()},
    }))
}

fn list_versions(c: &Collections, key: &str, req: &GRequest) -> R {
    req.check_query(&["pageSize", "pageToken", "filter"])?;
    let doc = c.get(SECRETS, key).ok_or_else(|| not_found_secret(key))?;
    let all: Vec<Json> = versions(doc).iter().rev().map(|v| version_json(key, doc, v)).collect();
    paginate(all, req, "versions")
}

fn version_action(c: &mut Collections, key: &str, v: &str, action: &str, req: &GRequest) -> R {
    let body = req.json()?;
    let schema_name = match action {
        "enable" => "EnableSecretVersionRequest",
        "disable" => "DisableSecretVersionRequest",
        _ => "DestroySecretVersionRequest",
    };
    schema::secretmanager_v1().validate(schema_name, &body, "")?;
    let etag = next_etag(c);
    let doc = c.get_mut(SECRETS, key).ok_or_else(|| not_found_secret(key))?;
    let mut vs = versions(doc);
    let i = resolve(&vs, key, v)?;
    let ver = &mut vs[i];
    if let Some(want) = body.get("etag").and_then(Json::as_str) {
        if want != ver.etag {
            return Err(ApiError::failed_precondition(
                "The etag provided in the request does not match the etag of the secret version.",
            ));
        }
    }
    if ver.state == "DESTROYED" {
        return Err(ApiError::failed_precondition(format!(
            "Secret Version [{key}/versions/{}] is in DESTROYED state.",
            ver.n
        )));
    }
    match action {
        "enable" => ver.state = "ENABLED".into(),
        "disable" => ver.state = "DISABLED".into(),
        _ => {
            ver.state = "DESTROYED".into();
            ver.destroy_time = Some(now_rfc3339());
            ver.data.clear();
        }
    }
    ver.etag = etag;
    let out = ver.clone();
    set_versions(doc, &vs);
    Ok(version_json(key, doc, &out))
}

fn version_json(key: &str, secret: &Json, v: &Version) -> Json {
    let replication_status = match secret.get("replication") {
        Some(r) if r.get("userManaged").is_some() => json!({"userManaged": {
            "replicas": r["userManaged"]["replicas"].as_array().cloned().unwrap_or_default().iter()
                .map(|x| json!({"location": x["location"]})).collect::<Vec<_>>()
        }}),
        _ => json!({"automatic": {}}),
    };
    let mut out = json!({
        "name": format!("{key}/versions/{}", v.n),
        "createTime": v.create_time,
        "state": v.state,
        "replicationStatus": replication_status,
        "etag": v.etag,
    });
    if v.client_checksum {
        out["clientSpecifiedPayloadChecksum"] = json!(true);
    }
    if let Some(t) = &v.destroy_time {
        out["destroyTime"] = json!(t);
    }
    out
}

fn paginate(all: Vec<Json>, req: &GRequest, field: &str) -> R {
    let size: usize = match req.query("pageSize") {
        Some(s) => {
            s.parse::<i64>().map_err(|_| ApiError::invalid_argument("Invalid page_size."))?.clamp(0, 25000) as usize
        }
        None => 0,
    };
    let size = if size == 0 { 25000 } else { size };
    let start: usize = match req.query("pageToken").filter(|t| !t.is_empty()) {
        Some(t) => t.parse().map_err(|_| ApiError::invalid_argument("Invalid page_token."))?,
        None => 0,
    };
    let total = all.len();
    let page: Vec<Json> = all.into_iter().skip(start).take(size).collect();
    let mut out = json!({ field: page, "totalSize": total });
    if start + size < total {
        out["nextPageToken"] = json!((start + size).to_string());
    }
    if total == 0 {
        out = json!({});
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
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

    fn call(c: &mut Collections, r: GRequest) -> (u16, Json) {
        let core = crate::Core::new(crate::Kind::SecretManager, crate::Options::default());
        match handle(&core, c, &r, "user:x") {
            Ok(j) => (200, j),
            Err(e) => (e.http, e.body()),
        }
    }

    #[test]
    fn secret_and_version_lifecycle_like_the_api() {
        let mut c = Collections::default();
        let (s, b) = call(
            &mut c,
            req(
                "POST",
                "/v1/projects/demo/secrets?secretId=db",
                json!({"replication": {"automatic": {}}, "labels": {"app": "x"}}),
            ),
        );
        assert_eq!(s, 200, "{b}");
        let num = Projects::default().number("demo");
        assert_eq!(b["name"], format!("projects/{num}/secrets/db"));
        let (s, b) = call(
            &mut c,
            req("POST", "/v1/projects/demo/secrets?secretId=db", json!({"replication": {"automatic": {}}})),
        );
        assert_eq!((s, b["error"]["status"].as_str()), (409, Some("ALREADY_EXISTS")));
        assert_eq!(
            call(&mut c, req("POST", "/v1/projects/demo/secrets", json!({"replication": {"automatic": {}}}))).0,
            400
        );
        assert_eq!(call(&mut c, req("POST", "/v1/projects/demo/secrets?secretId=x", json!({}))).0, 400);

        let data = STANDARD.encode("s3cret");
        let crc = crc32c::crc32c(b"s3cret").to_string();
        let (s, v) = call(
            &mut c,
            req(
                "POST",
                "/v1/projects/demo/secrets/db:addVersion",
                json!({"payload": {"data": data, "dataCrc32c": crc}}),
            ),
        );
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["state"], "ENABLED");
        assert!(v["name"].as_str().unwrap().ends_with("/versions/1"));
        let (s, _) = call(
            &mut c,
            req(
                "POST",
                "/v1/projects/demo/secrets/db:addVersion",
                json!({"payload": {"data": data, "dataCrc32c": "1"}}),
            ),
        );
        assert_eq!(s, 400);
        let (_, a) = call(&mut c, req("GET", "/v1/projects/demo/secrets/db/versions/latest:access", Json::Null));
        assert_eq!(STANDARD.decode(a["payload"]["data"].as_str().unwrap()).unwrap(), b"s3cret");
        assert_eq!(call(&mut c, req("POST", "/v1/projects/demo/secrets/db/versions/1:disable", json!({}))).0, 200);
        let (s, e) = call(&mut c, req("GET", "/v1/projects/demo/secrets/db/versions/latest:access", Json::Null));
        assert_eq!((s, e["error"]["status"].as_str()), (400, Some("FAILED_PRECONDITION")));

        assert_eq!(
            call(
                &mut c,
                req("PATCH", "/v1/projects/demo/secrets/db?updateMask=labels", json!({"labels": {"app": "y"}}))
            )
            .0,
            200
        );
        assert_eq!(call(&mut c, req("PATCH", "/v1/projects/demo/secrets/db?updateMask=replication", json!({}))).0, 400);
        assert_eq!(call(&mut c, req("DELETE", "/v1/projects/demo/secrets/db", Json::Null)).0, 200);
        assert_eq!(call(&mut c, req("DELETE", "/v1/projects/demo/secrets/db", Json::Null)).0, 404);
        assert_eq!(call(&mut c, req("GET", "/v1/projects/demo/secrets/db", Json::Null)).0, 404);
    }
}

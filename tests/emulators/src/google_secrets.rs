//! Emulator of the Secret Manager API v1 (kind `google-secrets`): secrets, versions (add,
//! get, access, list, enable, disable, destroy), IAM, and the OAuth token endpoint for the
//! service-account flow, on the real paths (`/v1/projects/{p}/secrets…`, `/token`).
//!
//! Faithful where clients can tell: the `secretId` query parameter, bodies validated against
//! the discovery schema (unknown fields, wrong types → 400 `INVALID_ARGUMENT`), names answered
//! with the project **number**, 409 `ALREADY_EXISTS` on a duplicate, 404 after delete, standard
//! base64 payloads of at most 64 KiB with optional CRC32C checks, `latest` = the most recently
//! created version (so a disabled newest version makes `latest:access` fail), 401 without a
//! valid bearer token. The logic is [`SecretsApi::handle`], a plain function of a request.

use std::collections::BTreeMap;
use std::sync::Mutex;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Map as JsonMap, Value as Json};

use crate::google::iam::Policies;
use crate::google::oauth::OAuth;
use crate::google::{now_rfc3339, rfc3339_at, schema, split_path, ApiError, GRequest, Projects};

/// Largest payload Secret Manager accepts (decoded bytes).
pub const MAX_PAYLOAD: usize = 64 * 1024;

#[derive(Clone, Debug)]
struct Version {
    n: u64,
    create_time: String,
    state: &'static str,
    destroy_time: Option<String>,
    data: Vec<u8>,
    crc32c: u32,
    client_checksum: bool,
    etag: String,
}

#[derive(Clone, Debug)]
struct SecretRec {
    /// The Secret resource as answered (name, replication, createTime, labels, …).
    json: JsonMap<String, Json>,
    versions: Vec<Version>,
}

/// Everything the emulator stores.
#[derive(Debug, Default)]
pub struct SecretsState {
    /// Secrets by `projects/{number}/secrets/{id}`.
    secrets: BTreeMap<String, SecretRec>,
    policies: Policies,
    etag_counter: u64,
}

/// The Secret Manager emulator.
#[derive(Debug, Default)]
pub struct SecretsApi {
    pub state: Mutex<SecretsState>,
    pub oauth: OAuth,
    pub projects: Projects,
}

type R = Result<Json, ApiError>;

fn not_found_secret(name: &str) -> ApiError {
    ApiError::not_found(format!("Secret [{name}] not found."))
}

impl SecretsState {
    fn next_etag(&mut self) -> String {
        self.etag_counter += 1;
        format!("\"{:014x}\"", 0x160b_3bd9_0000_00u64 + self.etag_counter)
    }
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
const PATCHABLE: &[&str] =
    &["labels", "annotations", "topics", "rotation", "expire_time", "ttl", "version_aliases", "version_destroy_ttl", "etag"];

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

impl SecretsApi {
    /// Handles one API request (everything under `/v1/`); the token endpoint is
    /// [`OAuth::token_endpoint`].
    pub fn handle(&self, req: &GRequest) -> (u16, Json) {
        match self.route(req) {
            Ok(j) => (200, j),
            Err(e) => (e.http, e.body()),
        }
    }

    fn route(&self, req: &GRequest) -> R {
        let Some((segs, verb)) = split_path(&req.path, "/v1/") else {
            return Err(ApiError::not_found(format!("The requested URL {} was not found on this server.", req.path)));
        };
        self.oauth.check(req.authorization.as_deref())?;
        let m = req.method.as_str();
        match (segs.as_slice(), verb, m) {
            (["projects", p, "secrets"], None, "POST") => self.create(p, req),
            (["projects", p, "secrets"], None, "GET") => self.list(p, req),
            (["projects", p, "secrets", s], None, "GET") => self.get(p, s),
            (["projects", p, "secrets", s], None, "PATCH") => self.patch(p, s, req),
            (["projects", p, "secrets", s], None, "DELETE") => self.delete(p, s, req),
            (["projects", p, "secrets", s], Some("addVersion"), "POST") => self.add_version(p, s, req),
            (["projects", p, "secrets", s], Some("getIamPolicy"), "GET") => {
                req.check_query(&["options.requestedPolicyVersion"])?;
                let name = self.existing(p, s)?;
                Ok(self.state.lock().unwrap().policies.get(&name))
            }
            (["projects", p, "secrets", s], Some("setIamPolicy"), "POST") => {
                let body = req.json()?;
                schema::secretmanager_v1().validate("SetIamPolicyRequest", &body, "")?;
                let name = self.existing(p, s)?;
                self.state.lock().unwrap().policies.set(&name, &body)
            }
            (["projects", p, "secrets", s], Some("testIamPermissions"), "POST") => {
                self.existing(p, s)?;
                let body = req.json()?;
                Ok(json!({"permissions": body.get("permissions").cloned().unwrap_or(json!([]))}))
            }
            (["projects", p, "secrets", s, "versions"], None, "GET") => self.list_versions(p, s, req),
            (["projects", p, "secrets", s, "versions", v], None, "GET") => self.get_version(p, s, v),
            (["projects", p, "secrets", s, "versions", v], Some("access"), "GET") => self.access(p, s, v),
            (["projects", p, "secrets", s, "versions", v], Some(action @ ("enable" | "disable" | "destroy")), "POST") => {
                self.version_action(p, s, v, action, req)
            }
            (_, _, "GET" | "POST" | "PATCH" | "DELETE" | "PUT") => {
                Err(ApiError::not_found(format!("The requested URL {} was not found on this server.", req.path)))
            }
            _ => Err(ApiError::new(405, "UNIMPLEMENTED", format!("Method {m} is not allowed on {}", req.path))),
        }
    }

    fn key(&self, project: &str, secret: &str) -> String {
        format!("projects/{}/secrets/{}", self.projects.number(project), secret)
    }

    fn existing(&self, p: &str, s: &str) -> Result<String, ApiError> {
        let key = self.key(p, s);
        if self.state.lock().unwrap().secrets.contains_key(&key) {
            Ok(key)
        } else {
            Err(not_found_secret(&key))
        }
    }

    fn create(&self, p: &str, req: &GRequest) -> R {
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
        let name = self.key(p, id);
        let mut st = self.state.lock().unwrap();
        if st.secrets.contains_key(&name) {
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
            let secs: f64 = ttl.trim_end_matches('s').parse().unwrap_or(0.0);
            let t = std::time::SystemTime::now() + std::time::Duration::from_secs_f64(secs.max(0.0));
            out.insert("expireTime".into(), json!(rfc3339_at(t)));
        }
        let etag = st.next_etag();
        out.insert("etag".into(), json!(etag));
        st.secrets.insert(name, SecretRec { json: out.clone(), versions: Vec::new() });
        Ok(Json::Object(out))
    }

    fn get(&self, p: &str, s: &str) -> R {
        let key = self.key(p, s);
        let st = self.state.lock().unwrap();
        st.secrets.get(&key).map(|r| Json::Object(r.json.clone())).ok_or_else(|| not_found_secret(&key))
    }

    fn list(&self, p: &str, req: &GRequest) -> R {
        req.check_query(&["pageSize", "pageToken", "filter"])?;
        let prefix = format!("projects/{}/secrets/", self.projects.number(p));
        let st = self.state.lock().unwrap();
        let all: Vec<Json> =
            st.secrets.iter().filter(|(k, _)| k.starts_with(&prefix)).map(|(_, r)| Json::Object(r.json.clone())).collect();
        paginate(all, req, "secrets")
    }

    fn patch(&self, p: &str, s: &str, req: &GRequest) -> R {
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
        let key = self.key(p, s);
        let mut st = self.state.lock().unwrap();
        let etag = st.next_etag();
        let rec = st.secrets.get_mut(&key).ok_or_else(|| not_found_secret(&key))?;
        if let Some(want) = body.get("etag").and_then(Json::as_str) {
            if rec.json.get("etag").and_then(Json::as_str) != Some(want) {
                return Err(ApiError::failed_precondition(
                    "The etag provided in the request does not match the etag of the secret.",
                ));
            }
        }
        for f in &paths {
            if f == "etag" {
                continue;
            }
            let api = camel(f);
            let v = body.get(&api).or_else(|| body.get(f.as_str())).cloned();
            match (f.as_str(), v) {
                ("ttl", Some(Json::String(ttl))) => {
                    let secs: f64 = ttl.trim_end_matches('s').parse().unwrap_or(0.0);
                    let t = std::time::SystemTime::now() + std::time::Duration::from_secs_f64(secs.max(0.0));
                    rec.json.insert("expireTime".into(), json!(rfc3339_at(t)));
                }
                (_, Some(v)) if !v.is_null() && v != json!({}) && v != json!([]) => {
                    rec.json.insert(api, v);
                }
                (_, _) => {
                    rec.json.remove(&api);
                }
            }
        }
        rec.json.insert("etag".into(), json!(etag));
        Ok(Json::Object(rec.json.clone()))
    }

    fn delete(&self, p: &str, s: &str, req: &GRequest) -> R {
        req.check_query(&["etag"])?;
        let key = self.key(p, s);
        let mut st = self.state.lock().unwrap();
        let rec = st.secrets.get(&key).ok_or_else(|| not_found_secret(&key))?;
        if let Some(want) = req.query("etag") {
            if rec.json.get("etag").and_then(Json::as_str) != Some(want) {
                return Err(ApiError::failed_precondition(
                    "The etag provided in the request does not match the etag of the secret.",
                ));
            }
        }
        st.secrets.remove(&key);
        st.policies.remove(&key);
        Ok(json!({}))
    }

    fn add_version(&self, p: &str, s: &str, req: &GRequest) -> R {
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
            Some(c) => {
                let given = match c {
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
        let key = self.key(p, s);
        let mut st = self.state.lock().unwrap();
        let etag = st.next_etag();
        let rec = st.secrets.get_mut(&key).ok_or_else(|| not_found_secret(&key))?;
        let n = rec.versions.last().map(|v| v.n + 1).unwrap_or(1);
        let v = Version {
            n,
            create_time: now_rfc3339(),
            state: "ENABLED",
            destroy_time: None,
            data,
            crc32c: crc,
            client_checksum,
            etag,
        };
        rec.versions.push(v.clone());
        Ok(version_json(&key, &rec.json, &v))
    }

    fn resolve<'a>(rec: &'a mut SecretRec, key: &str, v: &str) -> Result<&'a mut Version, ApiError> {
        if v == "latest" {
            return rec
                .versions
                .last_mut()
                .ok_or_else(|| ApiError::not_found(format!("Secret [{key}] not found or has no versions.")));
        }
        let n: u64 = v.parse().map_err(|_| {
            ApiError::invalid_argument(format!(
                "Invalid resource field value in the request: version [{v}] must be a positive integer or 'latest'."
            ))
        })?;
        rec.versions
            .iter_mut()
            .find(|x| x.n == n)
            .ok_or_else(|| ApiError::not_found(format!("Secret Version [{key}/versions/{n}] not found.")))
    }

    fn get_version(&self, p: &str, s: &str, v: &str) -> R {
        let key = self.key(p, s);
        let mut st = self.state.lock().unwrap();
        let rec = st.secrets.get_mut(&key).ok_or_else(|| not_found_secret(&key))?;
        let secret = rec.json.clone();
        let ver = Self::resolve(rec, &key, v)?.clone();
        Ok(version_json(&key, &secret, &ver))
    }

    fn access(&self, p: &str, s: &str, v: &str) -> R {
        let key = self.key(p, s);
        let mut st = self.state.lock().unwrap();
        let rec = st
            .secrets
            .get_mut(&key)
            .ok_or_else(|| ApiError::not_found(format!("Secret [{key}] not found or has no versions.")))?;
        let ver = Self::resolve(rec, &key, v)?;
        if ver.state != "ENABLED" {
            return Err(ApiError::failed_precondition(format!(
                "Secret Version [{key}/versions/{}] is in {} state.",
                ver.n, ver.state
            )));
        }
        Ok(json!({
            "name": format!("{key}/versions/{}", ver.n),
            "payload": {"data": STANDARD.encode(&ver.data), "dataCrc32c": ver.crc32c.to_string()},
        }))
    }

    fn list_versions(&self, p: &str, s: &str, req: &GRequest) -> R {
        req.check_query(&["pageSize", "pageToken", "filter"])?;
        let key = self.key(p, s);
        let st = self.state.lock().unwrap();
        let rec = st.secrets.get(&key).ok_or_else(|| not_found_secret(&key))?;
        let all: Vec<Json> = rec.versions.iter().rev().map(|v| version_json(&key, &rec.json, v)).collect();
        paginate(all, req, "versions")
    }

    fn version_action(&self, p: &str, s: &str, v: &str, action: &str, req: &GRequest) -> R {
        let body = req.json()?;
        let schema_name = match action {
            "enable" => "EnableSecretVersionRequest",
            "disable" => "DisableSecretVersionRequest",
            _ => "DestroySecretVersionRequest",
        };
        schema::secretmanager_v1().validate(schema_name, &body, "")?;
        let key = self.key(p, s);
        let mut st = self.state.lock().unwrap();
        let etag = st.next_etag();
        let rec = st.secrets.get_mut(&key).ok_or_else(|| not_found_secret(&key))?;
        let secret = rec.json.clone();
        let ver = Self::resolve(rec, &key, v)?;
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
            "enable" => ver.state = "ENABLED",
            "disable" => ver.state = "DISABLED",
            _ => {
                ver.state = "DESTROYED";
                ver.destroy_time = Some(now_rfc3339());
                ver.data.clear();
            }
        }
        ver.etag = etag;
        Ok(version_json(&key, &secret, ver))
    }

    /// Every secret with its versions' states (never payloads), for the admin listing.
    pub fn objects(&self) -> Vec<Json> {
        let st = self.state.lock().unwrap();
        st.secrets
            .iter()
            .map(|(name, r)| {
                json!({
                    "kind": "secret",
                    "name": name,
                    "labels": r.json.get("labels").cloned().unwrap_or(json!({})),
                    "versions": r.versions.iter().map(|v| json!({"version": v.n, "state": v.state})).collect::<Vec<_>>(),
                    "iamPolicy": st.policies.get(name),
                })
            })
            .collect()
    }
}

fn version_json(key: &str, secret: &JsonMap<String, Json>, v: &Version) -> Json {
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
        Some(s) => s.parse::<i64>().map_err(|_| ApiError::invalid_argument("Invalid page_size."))?.clamp(0, 25000) as usize,
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
            authorization: Some("Bearer emulator-token".into()),
            body: if body.is_null() { Vec::new() } else { body.to_string().into_bytes() },
        }
    }

    #[test]
    fn secret_and_version_lifecycle_like_the_api() {
        let api = SecretsApi::default();
        let (s, b) = api.handle(&req("POST", "/v1/projects/demo/secrets?secretId=db", json!({"replication": {"automatic": {}}, "labels": {"app": "x"}})));
        assert_eq!(s, 200, "{b}");
        let num = api.projects.number("demo");
        assert_eq!(b["name"], format!("projects/{num}/secrets/db"));
        let (s, b) = api.handle(&req("POST", "/v1/projects/demo/secrets?secretId=db", json!({"replication": {"automatic": {}}})));
        assert_eq!((s, b["error"]["status"].as_str()), (409, Some("ALREADY_EXISTS")));
        assert_eq!(api.handle(&req("POST", "/v1/projects/demo/secrets", json!({"replication": {"automatic": {}}}))).0, 400);
        assert_eq!(api.handle(&req("POST", "/v1/projects/demo/secrets?secretId=x", json!({}))).0, 400);

        let data = STANDARD.encode("s3cret");
        let crc = crc32c::crc32c(b"s3cret").to_string();
        let (s, v) = api.handle(&req("POST", "/v1/projects/demo/secrets/db:addVersion", json!({"payload": {"data": data, "dataCrc32c": crc}})));
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["state"], "ENABLED");
        assert!(v["name"].as_str().unwrap().ends_with("/versions/1"));
        let (s, _) = api.handle(&req("POST", "/v1/projects/demo/secrets/db:addVersion", json!({"payload": {"data": data, "dataCrc32c": "1"}})));
        assert_eq!(s, 400);
        let (_, a) = api.handle(&req("GET", "/v1/projects/demo/secrets/db/versions/latest:access", Json::Null));
        assert_eq!(STANDARD.decode(a["payload"]["data"].as_str().unwrap()).unwrap(), b"s3cret");
        let (s, _) = api.handle(&req("POST", "/v1/projects/demo/secrets/db/versions/1:disable", json!({})));
        assert_eq!(s, 200);
        let (s, e) = api.handle(&req("GET", "/v1/projects/demo/secrets/db/versions/latest:access", Json::Null));
        assert_eq!((s, e["error"]["status"].as_str()), (400, Some("FAILED_PRECONDITION")));

        let (s, _) = api.handle(&req("PATCH", "/v1/projects/demo/secrets/db?updateMask=labels", json!({"labels": {"app": "y"}})));
        assert_eq!(s, 200);
        let (s, _) = api.handle(&req("PATCH", "/v1/projects/demo/secrets/db?updateMask=replication", json!({})));
        assert_eq!(s, 400);
        assert_eq!(api.handle(&req("DELETE", "/v1/projects/demo/secrets/db", Json::Null)).0, 200);
        assert_eq!(api.handle(&req("DELETE", "/v1/projects/demo/secrets/db", Json::Null)).0, 404);
        assert_eq!(api.handle(&req("GET", "/v1/projects/demo/secrets/db", Json::Null)).0, 404);

        let mut anon = req("GET", "/v1/projects/demo/secrets", Json::Null);
        anon.authorization = None;
        assert_eq!(api.handle(&anon).0, 401);
    }
}

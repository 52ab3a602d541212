//! Handlers of the Cloudflare emulator: envelope responses, request validation, the
//! custom-hostname state machine, DNS duplicate rules and the per-token rate limit.
// Handlers return the API's error response as `Err` (axum's idiom); its size does not matter here.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rand::Rng;
use serde_json::{json, Map, Value as J};

use super::envelope_error;
use crate::neon::now_rfc3339;
use crate::store::Collections;
use crate::{public, Core, Shared};

type R = Result<Response, Response>;

const RATE_LIMIT: u64 = 1200;
const RATE_WINDOW_MS: u64 = 300_000;

fn fail(status: u16, code: u32, msg: impl AsRef<str>) -> Response {
    envelope_error(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), code, msg.as_ref())
}

fn ok(status: u16, result: J) -> R {
    let body = json!({"success": true, "errors": [], "messages": [], "result": result});
    Ok((StatusCode::from_u16(status).unwrap_or(StatusCode::OK), Json(body)).into_response())
}

fn hex_id() -> String {
    let mut r = rand::thread_rng();
    (0..32).map(|_| format!("{:x}", r.gen_range(0..16u8))).collect()
}

fn body_object(bytes: &Bytes) -> Result<Map<String, J>, Response> {
    match serde_json::from_slice::<J>(bytes) {
        Ok(J::Object(m)) => Ok(m),
        Ok(_) => Err(fail(400, 9207, "Request body is invalid.")),
        Err(_) => Err(fail(400, 9207, "Failed to parse request body, content-type must be application/json")),
    }
}

fn opt_str(m: &Map<String, J>, key: &str) -> Result<Option<String>, Response> {
    match m.get(key) {
        None | Some(J::Null) => Ok(None),
        Some(J::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(fail(400, 9207, format!("{key}: must be a string"))),
    }
}

fn opt_bool(m: &Map<String, J>, key: &str) -> Result<Option<bool>, Response> {
    match m.get(key) {
        None | Some(J::Null) => Ok(None),
        Some(J::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(fail(400, 9207, format!("{key}: must be a boolean"))),
    }
}

fn one_of(v: &Option<String>, key: &str, allowed: &[&str]) -> Result<(), Response> {
    match v {
        Some(x) if !allowed.contains(&x.as_str()) => {
            Err(fail(400, 1004, format!("{key}: must be one of {}", allowed.join(", "))))
        }
        _ => Ok(()),
    }
}

/// Page parameters with the endpoint's bounds.
fn paging(q: &HashMap<String, String>, default: usize, min: usize, max: usize) -> Result<(usize, usize), Response> {
    let page = match q.get("page") {
        None => 1,
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| fail(400, 1004, "page: must be a positive integer"))?,
    };
    let per_page = match q.get("per_page") {
        None => default,
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|p| (min..=max).contains(p))
            .ok_or_else(|| fail(400, 1004, format!("per_page: must be between {min} and {max}")))?,
    };
    Ok((page, per_page))
}

fn list_response(items: Vec<J>, page: usize, per_page: usize) -> R {
    let total = items.len();
    let shown: Vec<J> = items.into_iter().skip((page - 1) * per_page).take(per_page).collect();
    let body = json!({
        "success": true, "errors": [], "messages": [], "result": shown,
        "result_info": {"page": page, "per_page": per_page, "count": shown.len(), "total_count": total,
                        "total_pages": total.div_ceil(per_page).max(1)},
    });
    Ok(Json(body).into_response())
}

fn need_zone(c: &Collections, zone: &str) -> Result<J, Response> {
    c.get("zones", zone).cloned().ok_or_else(|| {
        fail(404, 7003, format!("Could not route to /zones/{zone}, perhaps your object identifier is invalid?"))
    })
}

/// The documented global limit: 1200 requests per 5 minutes per token.
pub async fn rate_limit(State(s): State<Shared>, req: Request, next: Next) -> Response {
    let token = req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let now = s.now_ms();
    let over = s.store.with(|c| {
        let mut doc = c.get("_rate_limits", &token).cloned().unwrap_or(json!({"window_start": now, "count": 0}));
        let start = doc["window_start"].as_u64().unwrap_or(now);
        if now.saturating_sub(start) >= RATE_WINDOW_MS {
            doc = json!({"window_start": now, "count": 0});
        }
        let count = doc["count"].as_u64().unwrap_or(0) + 1;
        doc["count"] = json!(count);
        let start = doc["window_start"].as_u64().unwrap_or(now);
        c.insert("_rate_limits", &token, doc);
        (count > RATE_LIMIT).then(|| (start + RATE_WINDOW_MS).saturating_sub(now).div_ceil(1000).max(1))
    });
    if let Some(retry_after) = over {
        let mut resp = fail(429, 971, "Please wait and consider throttling your request speed");
        if let Ok(v) = retry_after.to_string().parse() {
            resp.headers_mut().insert("retry-after", v);
        }
        return resp;
    }
    next.run(req).await
}

// ---- zones ----

pub fn insert_zone(core: &Core, id: &str, name: &str) -> J {
    let now = now_rfc3339();
    let zone = json!({
        "id": id, "name": name, "status": "active", "paused": false, "type": "full",
        "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
        "created_on": now, "modified_on": now, "activated_on": now,
        "plan": {"id": "enterprise", "name": "Enterprise Website"},
    });
    core.store.insert("zones", id, zone.clone());
    zone
}

pub async fn admin_create_zone(State(s): State<Shared>, body: Bytes) -> R {
    let m = body_object(&body)?;
    let name = opt_str(&m, "name")?.ok_or_else(|| fail(400, 1004, "name: required"))?;
    let id = opt_str(&m, "id")?.unwrap_or_else(hex_id);
    ok(201, insert_zone(&s, &id, &name))
}

pub async fn list_zones(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> R {
    let (page, per_page) = paging(&q, 20, 5, 50)?;
    let zones: Vec<J> =
        s.store.list("zones").into_iter().filter(|z| q.get("name").is_none_or(|n| z["name"] == n.as_str())).collect();
    list_response(zones, page, per_page)
}

pub async fn get_zone(State(s): State<Shared>, Path(zone): Path<String>) -> R {
    ok(200, s.store.with(|c| need_zone(c, &zone))?)
}

// ---- custom hostnames ----

fn valid_hostname(h: &str) -> bool {
    let labels: Vec<&str> = h.split('.').collect();
    h.len() <= 255
        && labels.len() >= 2
        && labels.iter().enumerate().all(|(i, l)| {
            (i == 0 && *l == "*")
                || (!l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
        })
}

/// Validates an `ssl` object; returns it normalized (defaults filled in).
fn check_ssl(v: &J) -> Result<J, Response> {
    let J::Object(m) = v else { return Err(fail(400, 1004, "ssl: must be an object")) };
    let method = opt_str(m, "method")?;
    one_of(&method, "ssl.method", &["http", "txt", "email"])?;
    let ty = opt_str(m, "type")?;
    one_of(&ty, "ssl.type", &["dv"])?;
    let bundle = opt_str(m, "bundle_method")?;
    one_of(&bundle, "ssl.bundle_method", &["ubiquitous", "optimal", "force"])?;
    let ca = opt_str(m, "certificate_authority")?;
    one_of(&ca, "ssl.certificate_authority", &["digicert", "google", "lets_encrypt", "ssl_com"])?;
    let wildcard = opt_bool(m, "wildcard")?;
    let mut settings = Map::new();
    match m.get("settings") {
        None | Some(J::Null) => {}
        Some(J::Object(sm)) => {
            let v = opt_str(sm, "min_tls_version")?;
            one_of(&v, "ssl.settings.min_tls_version", &["1.0", "1.1", "1.2", "1.3"])?;
            if let Some(v) = v {
                settings.insert("min_tls_version".into(), json!(v));
            }
            for k in ["http2", "tls_1_3", "early_hints"] {
                let v = opt_str(sm, k)?;
                one_of(&v, &format!("ssl.settings.{k}"), &["on", "off"])?;
                if let Some(v) = v {
                    settings.insert(k.into(), json!(v));
                }
            }
            match sm.get("ciphers") {
                None | Some(J::Null) => {}
                Some(J::Array(a)) if a.iter().all(J::is_string) => {
                    settings.insert("ciphers".into(), J::Array(a.clone()));
                }
                Some(_) => return Err(fail(400, 1004, "ssl.settings.ciphers: must be an array of strings")),
            }
        }
        Some(_) => return Err(fail(400, 1004, "ssl.settings: must be an object")),
    }
    Ok(json!({
        "method": method.unwrap_or_else(|| "http".into()), "type": ty.unwrap_or_else(|| "dv".into()),
        "bundle_method": bundle.unwrap_or_else(|| "ubiquitous".into()),
        "certificate_authority": ca.unwrap_or_else(|| "google".into()),
        "wildcard": wildcard.unwrap_or(false), "settings": settings,
    }))
}

fn check_metadata(m: &Map<String, J>) -> Result<Option<J>, Response> {
    match m.get("custom_metadata") {
        None | Some(J::Null) => Ok(None),
        Some(J::Object(o)) if o.values().all(J::is_string) => Ok(Some(J::Object(o.clone()))),
        Some(_) => Err(fail(400, 1004, "custom_metadata: must be an object of strings")),
    }
}

/// A custom hostname as of now: pending until its `_ready_at`, then active.
fn render_ch(core: &Core, d: &J) -> J {
    let started = d["_started"].as_u64().unwrap_or(0);
    let ready_at = d["_ready_at"].as_u64().unwrap_or(0);
    let hostname = d["hostname"].as_str().unwrap_or_default().to_string();
    let failing = hostname.starts_with("fail-validation.");
    let ready = core.is_ready(ready_at);
    let mut out = public(d.clone());
    let id = d["id"].as_str().unwrap_or_default();
    let token = d["_token"].as_str().unwrap_or_default();
    let ownership = json!({"type": "txt", "name": format!("_cf-custom-hostname.{hostname}"), "value": token});
    let ownership_http = json!({
        "http_url": format!("http://{hostname}/.well-known/cf-custom-hostname-challenge/{id}"),
        "http_body": token,
    });
    if ready && !failing {
        out["status"] = json!("active");
    } else {
        out["status"] = json!("pending");
        out["ownership_verification"] = ownership;
        out["ownership_verification_http"] = ownership_http;
        out["verification_errors"] = json!(["custom hostname does not CNAME to this zone."]);
    }
    if d["ssl"].is_object() {
        let mut ssl = d["ssl"].clone();
        let p = core.progress(started, ready_at);
        let status = if failing && ready {
            "validation_timed_out"
        } else if ready {
            "active"
        } else if p < 0.2 {
            "initializing"
        } else {
            "pending_validation"
        };
        ssl["status"] = json!(status);
        ssl["id"] = d["_ssl_id"].clone();
        if status == "pending_validation" || status == "validation_timed_out" {
            let value = d["_dcv"].as_str().unwrap_or_default();
            let record = match ssl["method"].as_str() {
                Some("txt") => {
                    json!({"txt_name": format!("_acme-challenge.{hostname}"), "txt_value": value, "status": "pending"})
                }
                Some("email") => {
                    json!({"emails": [format!("admin@{hostname}"), format!("hostmaster@{hostname}")], "status": "pending"})
                }
                _ => {
                    json!({"http_url": format!("http://{hostname}/.well-known/acme-challenge/{value}"), "http_body": value, "status": "pending"})
                }
            };
            ssl["validation_records"] = json!([record]);
        }
        if status == "validation_timed_out" {
            ssl["validation_errors"] =
                json!([{"message": "The DCV record was not found before the validation timed out."}]);
        }
        out["ssl"] = ssl;
    }
    out
}

fn need_ch(c: &Collections, zone: &str, id: &str) -> Result<J, Response> {
    need_zone(c, zone)?;
    c.get("custom_hostnames", id)
        .filter(|d| d["zone_id"] == zone)
        .cloned()
        .ok_or_else(|| fail(404, 1436, "The custom hostname was not found."))
}

pub async fn list_custom_hostnames(
    State(s): State<Shared>,
    Path(zone): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    let (page, per_page) = paging(&q, 20, 5, 50)?;
    let filters = ["hostname", "hostname.exact", "hostname.contain", "hostname.startsWith", "id"];
    if filters.iter().filter(|f| q.contains_key(**f)).count() > 1 {
        return Err(fail(400, 1004, "hostname filters and id are mutually exclusive"));
    }
    let items = s.store.with(|c| {
        need_zone(c, &zone)?;
        Ok::<_, Response>(c.find("custom_hostnames", |d| {
            let h = d["hostname"].as_str().unwrap_or_default();
            d["zone_id"] == zone.as_str()
                && q.get("hostname").or(q.get("hostname.exact")).is_none_or(|x| h == x)
                && q.get("hostname.contain").is_none_or(|x| h.contains(x.as_str()))
                && q.get("hostname.startsWith").is_none_or(|x| h.starts_with(x.as_str()))
                && q.get("id").is_none_or(|x| d["id"] == x.as_str())
        }))
    })?;
    list_response(items.iter().map(|d| render_ch(&s, d)).collect(), page, per_page)
}

pub async fn get_custom_hostname(State(s): State<Shared>, Path((zone, id)): Path<(String, String)>) -> R {
    let d = s.store.with(|c| need_ch(c, &zone, &id))?;
    ok(200, render_ch(&s, &d))
}

pub async fn create_custom_hostname(State(s): State<Shared>, Path(zone): Path<String>, body: Bytes) -> R {
    let m = body_object(&body)?;
    let hostname = opt_str(&m, "hostname")?.ok_or_else(|| fail(400, 1004, "hostname: required"))?;
    if !valid_hostname(&hostname) {
        return Err(fail(400, 1411, format!("{hostname} is not a valid hostname.")));
    }
    let ssl = match m.get("ssl") {
        None | Some(J::Null) => None,
        Some(v) => Some(check_ssl(v)?),
    };
    let metadata = check_metadata(&m)?;
    let origin = opt_str(&m, "custom_origin_server")?;
    let sni = opt_str(&m, "custom_origin_sni")?;
    s.store.with(|c| {
        let z = need_zone(c, &zone)?;
        if hostname == z["name"].as_str().unwrap_or_default() {
            return Err(fail(400, 1411, "The custom hostname cannot be the zone apex."));
        }
        if c.iter("custom_hostnames").any(|d| d["zone_id"] == zone.as_str() && d["hostname"] == hostname.as_str()) {
            return Err(fail(409, 1406, "Duplicate custom hostname found."));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let mut d = json!({
            "id": id, "zone_id": zone, "hostname": hostname, "created_at": now_rfc3339(),
            "_started": s.now_ms(), "_ready_at": s.ready_at(), "_token": uuid::Uuid::new_v4().to_string(),
            "_dcv": hex_id(), "_ssl_id": uuid::Uuid::new_v4().to_string(),
        });
        if let Some(ssl) = ssl {
            d["ssl"] = ssl;
        }
        if let Some(md) = metadata {
            d["custom_metadata"] = md;
        }
        if let Some(o) = origin {
            d["custom_origin_server"] = json!(o);
        }
        if let Some(sn) = sni {
            d["custom_origin_sni"] = json!(sn);
        }
        c.insert("custom_hostnames", &id, d.clone());
        ok(201, render_ch(&s, &d))
    })
}

pub async fn edit_custom_hostname(State(s): State<Shared>, Path((zone, id)): Path<(String, String)>, body: Bytes) -> R {
    let m = body_object(&body)?;
    if m.contains_key("hostname") {
        return Err(fail(400, 1004, "hostname: cannot be changed; create a new custom hostname"));
    }
    let ssl = match m.get("ssl") {
        None | Some(J::Null) => None,
        Some(v) => Some(check_ssl(v)?),
    };
    let metadata = check_metadata(&m)?;
    let origin = opt_str(&m, "custom_origin_server")?;
    let sni = opt_str(&m, "custom_origin_sni")?;
    s.store.with(|c| {
        let mut d = need_ch(c, &zone, &id)?;
        if let Some(ssl) = ssl {
            if d["ssl"]["method"] != ssl["method"] || !d["ssl"].is_object() {
                // A new validation method restarts validation.
                d["_started"] = json!(s.now_ms());
                d["_ready_at"] = json!(s.ready_at());
                d["_dcv"] = json!(hex_id());
            }
            d["ssl"] = ssl;
        }
        if let Some(md) = metadata {
            d["custom_metadata"] = md;
        }
        if m.contains_key("custom_origin_server") {
            d["custom_origin_server"] = origin.map(J::String).unwrap_or(J::Null);
        }
        if m.contains_key("custom_origin_sni") {
            d["custom_origin_sni"] = sni.map(J::String).unwrap_or(J::Null);
        }
        c.insert("custom_hostnames", &id, d.clone());
        ok(200, render_ch(&s, &d))
    })
}

pub async fn delete_custom_hostname(State(s): State<Shared>, Path((zone, id)): Path<(String, String)>) -> R {
    s.store.with(|c| {
        need_ch(c, &zone, &id)?;
        c.remove("custom_hostnames", &id);
        Ok(Json(json!({"id": id})).into_response())
    })
}

// ---- DNS records ----

const TYPES: &[&str] = &[
    "A",
    "AAAA",
    "CAA",
    "CERT",
    "CNAME",
    "DNSKEY",
    "DS",
    "HTTPS",
    "LOC",
    "MX",
    "NAPTR",
    "NS",
    "OPENPGPKEY",
    "PTR",
    "SMIMEA",
    "SRV",
    "SSHFP",
    "SVCB",
    "TLSA",
    "TXT",
    "URI",
];

/// The fully qualified name of a record name given its zone (`@` and relative names expand).
fn fqdn(name: &str, zone: &str) -> String {
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    if n == "@" || n == zone {
        zone.to_string()
    } else if n.ends_with(&format!(".{zone}")) {
        n
    } else {
        format!("{n}.{zone}")
    }
}

/// Validates a full record body; returns the stored fields.
fn check_record(m: &Map<String, J>, zone_name: &str) -> Result<Map<String, J>, Response> {
    let ty = opt_str(m, "type")?.ok_or_else(|| fail(400, 9000, "type: required"))?;
    if !TYPES.contains(&ty.as_str()) {
        return Err(fail(400, 1004, format!("type: unsupported record type {ty}")));
    }
    let name = opt_str(m, "name")?.ok_or_else(|| fail(400, 9000, "name: required"))?;
    if name.is_empty() || name.len() > 255 {
        return Err(fail(400, 9005, "DNS name is invalid."));
    }
    let name = fqdn(&name, zone_name);
    let content = opt_str(m, "content")?;
    let content = match (ty.as_str(), content) {
        (_, None) => return Err(fail(400, 9008, "content: required")),
        ("A", Some(c)) if c.parse::<std::net::Ipv4Addr>().is_err() => {
            return Err(fail(400, 9005, "Content for A record must be a valid IPv4 address."))
        }
        ("AAAA", Some(c)) if c.parse::<std::net::Ipv6Addr>().is_err() => {
            return Err(fail(400, 9006, "Content for AAAA record must be a valid IPv6 address."))
        }
        ("CNAME", Some(c)) if c.trim_end_matches('.').eq_ignore_ascii_case(&name) => {
            return Err(fail(400, 9007, "Content for CNAME record is invalid: a CNAME cannot point to itself."))
        }
        (_, Some(c)) => c,
    };
    let ttl = match m.get("ttl") {
        None | Some(J::Null) => 1,
        Some(J::Number(n)) => match n.as_u64() {
            Some(t) if t == 1 || (60..=86_400).contains(&t) => t,
            _ => return Err(fail(400, 9021, "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.")),
        },
        Some(_) => return Err(fail(400, 9021, "ttl: must be a number")),
    };
    let proxied = opt_bool(m, "proxied")?.unwrap_or(false);
    let proxiable = matches!(ty.as_str(), "A" | "AAAA" | "CNAME");
    if proxied && !proxiable {
        return Err(fail(400, 9004, "This record type cannot be proxied."));
    }
    let mut out = Map::new();
    out.insert("type".into(), json!(ty));
    out.insert("name".into(), json!(name));
    out.insert("content".into(), json!(content));
    out.insert("ttl".into(), json!(ttl));
    out.insert("proxied".into(), json!(proxied));
    out.insert("proxiable".into(), json!(proxiable));
    match m.get("priority") {
        None | Some(J::Null) if ty == "MX" || ty == "URI" => {
            return Err(fail(400, 9100, "priority: required for this record type"))
        }
        None | Some(J::Null) => {}
        Some(J::Number(n)) if n.as_u64().is_some_and(|p| p <= 65_535) => {
            out.insert("priority".into(), J::Number(n.clone()));
        }
        Some(_) => return Err(fail(400, 9100, "priority: must be an integer between 0 and 65535")),
    }
    out.insert("comment".into(), opt_str(m, "comment")?.map(J::String).unwrap_or(J::Null));
    match m.get("tags") {
        None | Some(J::Null) => {
            out.insert("tags".into(), json!([]));
        }
        Some(J::Array(a)) if a.iter().all(J::is_string) => {
            out.insert("tags".into(), J::Array(a.clone()));
        }
        Some(_) => return Err(fail(400, 1004, "tags: must be an array of strings")),
    }
    Ok(out)
}

/// The duplicate rules for a record among the zone's others.
fn clash(c: &Collections, zone: &str, rec: &Map<String, J>, except: Option<&str>) -> Option<Response> {
    let ty = rec["type"].as_str().unwrap_or_default();
    let name = rec["name"].as_str().unwrap_or_default();
    let others: Vec<J> =
        c.find("dns_records", |d| d["zone_id"] == zone && d["name"] == name && except.is_none_or(|x| d["id"] != x));
    for o in &others {
        let oty = o["type"].as_str().unwrap_or_default();
        if oty == ty && o["content"] == rec["content"] {
            return Some(fail(400, 81058, "An identical record already exists."));
        }
        if ty == "CNAME" && oty == "CNAME" {
            return Some(fail(400, 81057, "The record already exists."));
        }
        if ty == "CNAME" && matches!(oty, "A" | "AAAA") {
            return Some(fail(400, 81053, "An A, AAAA, or CNAME record with that host already exists."));
        }
        if matches!(ty, "A" | "AAAA") && oty == "CNAME" {
            return Some(fail(400, 81054, "A CNAME record with that host already exists."));
        }
    }
    None
}

/// A record as the API shows it. The store keeps `zone_id`/`zone_name` for its own lookups,
/// but Cloudflare stopped returning them on DNS records (deprecated 2024-11-30), so clients
/// must know the zone from their request.
fn render_record(d: J) -> J {
    let mut out = public(d);
    if let J::Object(m) = &mut out {
        m.remove("zone_id");
        m.remove("zone_name");
    }
    out
}

fn need_record(c: &Collections, zone: &str, id: &str) -> Result<J, Response> {
    need_zone(c, zone)?;
    c.get("dns_records", id)
        .filter(|d| d["zone_id"] == zone)
        .cloned()
        .ok_or_else(|| fail(404, 81044, "Record does not exist."))
}

pub async fn list_dns_records(
    State(s): State<Shared>,
    Path(zone): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    let (page, per_page) = paging(&q, 100, 5, 5_000_000)?;
    if let Some(t) = q.get("type") {
        if !TYPES.contains(&t.as_str()) {
            return Err(fail(400, 1004, format!("type: unsupported record type {t}")));
        }
    }
    let items = s.store.with(|c| {
        let z = need_zone(c, &zone)?;
        let zn = z["name"].as_str().unwrap_or_default().to_string();
        let name = q.get("name").or(q.get("name.exact")).map(|n| fqdn(n, &zn));
        Ok::<_, Response>(c.find("dns_records", |d| {
            d["zone_id"] == zone.as_str()
                && q.get("type").is_none_or(|t| d["type"] == t.as_str())
                && name.as_ref().is_none_or(|n| d["name"] == n.as_str())
                && q.get("content").or(q.get("content.exact")).is_none_or(|x| d["content"] == x.as_str())
                && q.get("proxied")
                    .is_none_or(|p| d["proxied"].as_bool().is_some_and(|b| p == if b { "true" } else { "false" }))
        }))
    })?;
    list_response(items.into_iter().map(render_record).collect(), page, per_page)
}

pub async fn get_dns_record(State(s): State<Shared>, Path((zone, id)): Path<(String, String)>) -> R {
    ok(200, render_record(s.store.with(|c| need_record(c, &zone, &id))?))
}

pub async fn create_dns_record(State(s): State<Shared>, Path(zone): Path<String>, body: Bytes) -> R {
    let m = body_object(&body)?;
    s.store.with(|c| {
        let z = need_zone(c, &zone)?;
        let zn = z["name"].as_str().unwrap_or_default();
        let mut rec = check_record(&m, zn)?;
        if let Some(e) = clash(c, &zone, &rec, None) {
            return Err(e);
        }
        let id = hex_id();
        let now = now_rfc3339();
        rec.insert("id".into(), json!(id));
        rec.insert("zone_id".into(), json!(zone));
        rec.insert("zone_name".into(), json!(zn));
        rec.insert("settings".into(), json!({}));
        rec.insert("meta".into(), json!({"auto_added": false, "source": "primary"}));
        rec.insert("created_on".into(), json!(now));
        rec.insert("modified_on".into(), json!(now));
        let doc = J::Object(rec);
        c.insert("dns_records", &id, doc.clone());
        ok(200, render_record(doc))
    })
}

async fn write_record(s: Shared, zone: String, id: String, body: Bytes, partial: bool) -> R {
    let m = body_object(&body)?;
    s.store.with(|c| {
        let existing = need_record(c, &zone, &id)?;
        let z = need_zone(c, &zone)?;
        let zn = z["name"].as_str().unwrap_or_default();
        let merged = if partial {
            let mut base = existing.as_object().cloned().unwrap_or_default();
            for (k, v) in &m {
                base.insert(k.clone(), v.clone());
            }
            base
        } else {
            m.clone()
        };
        let mut rec = check_record(&merged, zn)?;
        if let Some(e) = clash(c, &zone, &rec, Some(&id)) {
            return Err(e);
        }
        for k in ["id", "zone_id", "zone_name", "settings", "meta", "created_on"] {
            rec.insert(k.into(), existing[k].clone());
        }
        rec.insert("modified_on".into(), json!(now_rfc3339()));
        let doc = J::Object(rec);
        c.insert("dns_records", &id, doc.clone());
        ok(200, render_record(doc))
    })
}

pub async fn edit_dns_record(State(s): State<Shared>, Path((zone, id)): Path<(String, String)>, body: Bytes) -> R {
    write_record(s, zone, id, body, true).await
}

pub async fn overwrite_dns_record(State(s): State<Shared>, Path((zone, id)): Path<(String, String)>, body: Bytes) -> R {
    write_record(s, zone, id, body, false).await
}

pub async fn delete_dns_record(State(s): State<Shared>, Path((zone, id)): Path<(String, String)>) -> R {
    s.store.with(|c| {
        need_record(c, &zone, &id)?;
        c.remove("dns_records", &id);
        ok(200, json!({"id": id}))
    })
}

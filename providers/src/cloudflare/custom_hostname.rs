//! `cloudflare_custom_hostname`: a Cloudflare for SaaS custom hostname (a customer's domain
//! served through the SaaS zone) and its certificate.
//!
//! - `zone_id` and `hostname` are force-new; `ssl`, `custom_metadata`, `custom_origin_server`
//!   and `custom_origin_sni` change in place (PATCH).
//! - A create succeeds while the hostname is still `pending`: the computed
//!   `ownership_verification*` and `ssl_validation_records` say which DNS/HTTP records the
//!   customer must publish. With `wait_for_active_status = true` create (and update) wait
//!   until the hostname and its certificate are `active`, bounded by `timeouts { create }`,
//!   and fail at once on a terminal state (`validation_timed_out`, `blocked`, …). Such a
//!   failure carries the hostname's state (a *partial* object): it exists, so the engine
//!   records it as tainted and the next apply replaces it instead of forgetting it.
//! - Create is idempotent by hostname: a 409 (code 1406) adopts the existing hostname when
//!   its validation method, origin and metadata are the ones configured, and fails naming
//!   the difference otherwise.
//! - An interrupted create is recovered by hostname (unique in a zone): the hostname found
//!   is adopted when its settings are the configured ones; with other settings the recovery
//!   says it cannot tell, and how to import or remove it.
//! - Drift: `read` reports the API's values for everything configured; blocks that are not
//!   configured (`ssl`, `ssl.settings`) are not tracked.
//! - Unlike the v5 Terraform resource, the certificate's status, validation records and
//!   errors are exposed as top-level computed attributes (`ssl_status`,
//!   `ssl_validation_records`, `ssl_validation_errors`), as the v4 resource did inside `ssl`.
//!   Custom certificates (`custom_certificate`, `custom_key`) are not supported.
//!
//! Import ID: `<zone_id>/<custom_hostname_id>`.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Map, Value as Json};
use tenantform_engine::provider::{
    AttributeSchema, BlockSchema, ConfigProblem, Nesting, OpContext, ProviderError, Recovery, ResourceSchema,
    ResourceType, Schema,
};
use tenantform_engine::types::{ObjectAttr, Type};
use tenantform_engine::value::{PathStep, Value};

use super::{has_code, segment, split_import, Cloudflare};
use crate::http::{poll_until, ApiRequest, PollOptions, PollStatus};
use crate::support::attrs::{path, Attrs};
use crate::support::{diff, timeouts};

/// Default limit of the wait for `active` (only when `wait_for_active_status` is set).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

fn obj_type(fields: &[(&str, Type)]) -> Type {
    Type::Object(fields.iter().map(|(k, t)| (k.to_string(), ObjectAttr::optional(t.clone(), None))).collect())
}

fn str_list() -> Type {
    Type::List(Box::new(Type::String))
}

pub fn schema() -> ResourceSchema {
    let oc = |d: &str| AttributeSchema::optional_computed(Type::String).describe(d);
    let settings = Schema::new()
        .describe("TLS settings of the hostname.")
        .attr("min_tls_version", oc("Minimum TLS version: 1.0, 1.1, 1.2 or 1.3."))
        .attr("http2", oc("\"on\" or \"off\"."))
        .attr("tls_1_3", oc("\"on\" or \"off\"."))
        .attr("early_hints", oc("\"on\" or \"off\"."))
        .attr(
            "ciphers",
            AttributeSchema::optional_computed(str_list()).describe("Allowed ciphers, in BoringSSL names."),
        );
    let ssl = Schema::new()
        .describe("Certificate settings; without this block no certificate is requested.")
        .attr("method", oc("Domain control validation method: \"http\", \"txt\" or \"email\"."))
        .attr("type", oc("Validation level: \"dv\"."))
        .attr("bundle_method", oc("\"ubiquitous\", \"optimal\" or \"force\"."))
        .attr("certificate_authority", oc("\"digicert\", \"google\", \"lets_encrypt\" or \"ssl_com\"."))
        .attr(
            "wildcard",
            AttributeSchema::optional_computed(Type::Bool).describe("Whether the certificate also covers *.hostname."),
        )
        .block(
            "settings",
            BlockSchema {
                nesting: Nesting::Single,
                schema: settings,
                min_items: 0,
                max_items: Some(1),
                force_new: false,
            },
        );
    let record = obj_type(&[
        ("txt_name", Type::String),
        ("txt_value", Type::String),
        ("http_url", Type::String),
        ("http_body", Type::String),
        ("cname", Type::String),
        ("cname_target", Type::String),
        ("emails", str_list()),
        ("status", Type::String),
    ]);
    let schema = Schema::new()
        .describe("A custom hostname of a Cloudflare for SaaS zone, with its certificate.")
        .attr("zone_id", AttributeSchema::required(Type::String).force_new().describe("ID of the SaaS zone."))
        .attr(
            "hostname",
            AttributeSchema::required(Type::String).force_new().describe("The customer's hostname, e.g. app.customer.com."),
        )
        .attr(
            "custom_metadata",
            AttributeSchema::optional(Type::Map(Box::new(Type::String)))
                .describe("Per-hostname key/value metadata (needs the entitlement)."),
        )
        .attr(
            "custom_origin_server",
            AttributeSchema::optional(Type::String).describe("Origin for this hostname instead of the fallback origin."),
        )
        .attr(
            "custom_origin_sni",
            AttributeSchema::optional(Type::String)
                .describe("SNI sent to the custom origin; \":request_host_header:\" sends the Host header."),
        )
        .attr(
            "wait_for_active_status",
            AttributeSchema::optional(Type::Bool).default(Value::Bool(false)).describe(
                "Wait on create/update until the hostname and its certificate are active (bounded by timeouts). Default false.",
            ),
        )
        .attr("id", AttributeSchema::computed(Type::String).describe("Custom hostname ID."))
        .attr("status", AttributeSchema::computed(Type::String).describe("Hostname status: pending, active, …"))
        .attr("created_at", AttributeSchema::computed(Type::String).describe("Creation time."))
        .attr(
            "verification_errors",
            AttributeSchema::computed(str_list()).describe("Why the hostname is not active yet."),
        )
        .attr(
            "ownership_verification",
            AttributeSchema::computed(obj_type(&[("name", Type::String), ("type", Type::String), ("value", Type::String)]))
                .describe("TXT record proving ownership (name, type, value); null once active."),
        )
        .attr(
            "ownership_verification_http",
            AttributeSchema::computed(obj_type(&[("http_url", Type::String), ("http_body", Type::String)]))
                .describe("HTTP token proving ownership (http_url, http_body); null once active."),
        )
        .attr("ssl_status", AttributeSchema::computed(Type::String).describe("Certificate status: initializing, pending_validation, …, active."))
        .attr(
            "ssl_validation_records",
            AttributeSchema::computed(Type::List(Box::new(record)))
                .describe("Records to publish for certificate validation (txt_name/txt_value, http_url/http_body, cname/cname_target, emails)."),
        )
        .attr("ssl_validation_errors", AttributeSchema::computed(str_list()).describe("Certificate validation errors."))
        .block(
            "ssl",
            BlockSchema { nesting: Nesting::Single, schema: ssl, min_items: 0, max_items: Some(1), force_new: false },
        )
        .block("timeouts", timeouts::block(&["create", "update"]));
    ResourceSchema { schema, version: 0, import_id: "<zone_id>/<custom_hostname_id>".into() }
}

pub struct CustomHostname(pub Cloudflare);

const ENUMS: &[(&str, &[&str])] = &[
    ("method", &["http", "txt", "email"]),
    ("type", &["dv"]),
    ("bundle_method", &["ubiquitous", "optimal", "force"]),
    ("certificate_authority", &["digicert", "google", "lets_encrypt", "ssl_com"]),
];
const SETTING_ENUMS: &[(&str, &[&str])] = &[
    ("min_tls_version", &["1.0", "1.1", "1.2", "1.3"]),
    ("http2", &["on", "off"]),
    ("tls_1_3", &["on", "off"]),
    ("early_hints", &["on", "off"]),
];

fn known(v: Option<&Value>) -> Option<&Value> {
    v.map(|x| x.unmarked().0).filter(|x| !x.is_null() && !x.is_unknown())
}

/// The `ssl` object of a request, from the configured block (unset and unknown fields left out).
fn ssl_body(ssl: &Value) -> Json {
    let mut m = Map::new();
    for k in ["method", "type", "bundle_method", "certificate_authority", "wildcard"] {
        if let Some(v) = known(ssl.get(k)) {
            m.insert(k.into(), v.to_json());
        }
    }
    if let Some(s) = known(ssl.get("settings")) {
        let mut sm = Map::new();
        for k in ["min_tls_version", "http2", "tls_1_3", "early_hints", "ciphers"] {
            if let Some(v) = known(s.get(k)) {
                sm.insert(k.into(), v.to_json());
            }
        }
        m.insert("settings".into(), Json::Object(sm));
    }
    Json::Object(m)
}

fn body(v: &Value, create: bool) -> Result<Json, ProviderError> {
    let a = Attrs::new(v);
    let mut m = Map::new();
    if create {
        m.insert("hostname".into(), json!(a.str("hostname")?));
    }
    if let Some(ssl) = known(v.get("ssl")) {
        m.insert("ssl".into(), ssl_body(ssl));
    }
    if known(v.get("custom_metadata")).is_some() {
        m.insert("custom_metadata".into(), json!(a.string_map("custom_metadata")?));
    }
    for k in ["custom_origin_server", "custom_origin_sni"] {
        match a.opt_str(k)? {
            Some(x) => {
                m.insert(k.into(), json!(x));
            }
            None if !create => {
                m.insert(k.into(), Json::Null);
            }
            None => {}
        }
    }
    Ok(Json::Object(m))
}

fn jstr(j: &Json, k: &str) -> Value {
    j.get(k).and_then(Json::as_str).map(Value::string).unwrap_or(Value::Null)
}

fn str_list_of(items: impl Iterator<Item = String>) -> Value {
    Value::List(items.map(Value::string).collect())
}

impl CustomHostname {
    /// The state from the API object; blocks not configured in `prior` stay null.
    fn state(&self, zone: &str, d: &Json, prior: &Value) -> Value {
        let a = Attrs::new(prior);
        let api_ssl = &d["ssl"];
        let ssl = match known(prior.get("ssl")) {
            Some(pssl) if api_ssl.is_object() => {
                let settings = match known(pssl.get("settings")) {
                    Some(_) => {
                        let s = &api_ssl["settings"];
                        let ciphers = s
                            .get("ciphers")
                            .and_then(Json::as_array)
                            .map(|c| str_list_of(c.iter().filter_map(Json::as_str).map(str::to_string)))
                            .unwrap_or(Value::Null);
                        Value::map([
                            ("min_tls_version", jstr(s, "min_tls_version")),
                            ("http2", jstr(s, "http2")),
                            ("tls_1_3", jstr(s, "tls_1_3")),
                            ("early_hints", jstr(s, "early_hints")),
                            ("ciphers", ciphers),
                        ])
                    }
                    None => Value::Null,
                };
                Value::map([
                    ("method", jstr(api_ssl, "method")),
                    ("type", jstr(api_ssl, "type")),
                    ("bundle_method", jstr(api_ssl, "bundle_method")),
                    ("certificate_authority", jstr(api_ssl, "certificate_authority")),
                    (
                        "wildcard",
                        api_ssl.get("wildcard").and_then(Json::as_bool).map(Value::Bool).unwrap_or(Value::Null),
                    ),
                    ("settings", settings),
                ])
            }
            _ => Value::Null,
        };
        let metadata = match (known(prior.get("custom_metadata")), d.get("custom_metadata").and_then(Json::as_object)) {
            (None, None) => Value::Null,
            (None, Some(m)) if m.is_empty() => Value::Null,
            (_, Some(m)) => Value::Map(
                m.iter()
                    .map(|(k, v)| (k.clone(), Value::string(v.as_str().unwrap_or_default())))
                    .collect::<BTreeMap<_, _>>(),
            ),
            (Some(_), None) => Value::Map(BTreeMap::new()),
        };
        let records = api_ssl["validation_records"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                let emails = r
                    .get("emails")
                    .and_then(Json::as_array)
                    .map(|e| str_list_of(e.iter().filter_map(Json::as_str).map(str::to_string)))
                    .unwrap_or(Value::Null);
                Value::map([
                    ("txt_name", jstr(r, "txt_name")),
                    ("txt_value", jstr(r, "txt_value")),
                    ("http_url", jstr(r, "http_url")),
                    ("http_body", jstr(r, "http_body")),
                    ("cname", jstr(r, "cname")),
                    ("cname_target", jstr(r, "cname_target")),
                    ("emails", emails),
                    ("status", jstr(r, "status")),
                ])
            })
            .collect();
        let ov = &d["ownership_verification"];
        let ovh = &d["ownership_verification_http"];
        Value::map([
            ("id", jstr(d, "id")),
            ("zone_id", Value::string(zone)),
            ("hostname", jstr(d, "hostname")),
            ("custom_metadata", metadata),
            ("custom_origin_server", jstr(d, "custom_origin_server")),
            ("custom_origin_sni", jstr(d, "custom_origin_sni")),
            ("wait_for_active_status", a.raw("wait_for_active_status")),
            ("status", jstr(d, "status")),
            ("created_at", jstr(d, "created_at")),
            (
                "verification_errors",
                str_list_of(
                    d["verification_errors"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Json::as_str)
                        .map(str::to_string),
                ),
            ),
            (
                "ownership_verification",
                if ov.is_object() {
                    Value::map([("name", jstr(ov, "name")), ("type", jstr(ov, "type")), ("value", jstr(ov, "value"))])
                } else {
                    Value::Null
                },
            ),
            (
                "ownership_verification_http",
                if ovh.is_object() {
                    Value::map([("http_url", jstr(ovh, "http_url")), ("http_body", jstr(ovh, "http_body"))])
                } else {
                    Value::Null
                },
            ),
            ("ssl_status", jstr(api_ssl, "status")),
            ("ssl_validation_records", Value::List(records)),
            (
                "ssl_validation_errors",
                str_list_of(
                    api_ssl["validation_errors"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|e| e.get("message").and_then(Json::as_str))
                        .map(str::to_string),
                ),
            ),
            ("ssl", ssl),
            ("timeouts", a.raw("timeouts")),
        ])
    }

    async fn get(&self, ctx: &OpContext, zone: &str, id: &str) -> Result<Json, ProviderError> {
        Ok(self.0.result(ctx, ApiRequest::get(format!("/zones/{zone}/custom_hostnames/{id}"))).await?)
    }

    /// Waits until the hostname and its certificate are active; fails on a terminal state,
    /// with the hostname's state (shaped like `reference`) as the error's partial object.
    async fn wait_active(
        &self,
        ctx: &OpContext,
        zone: &str,
        id: &str,
        hostname: &str,
        timeout: Duration,
        reference: &Value,
    ) -> Result<Json, ProviderError> {
        let opts = PollOptions::new(format!("custom hostname {hostname} to become active"), timeout)
            .intervals(self.0.poll_interval.0, self.0.poll_interval.1);
        poll_until(ctx, &opts, || async {
            let d = self.get(ctx, zone, id).await?;
            let status = d["status"].as_str().unwrap_or_default();
            let ssl_status = d["ssl"]["status"].as_str();
            let ssl_failed = ssl_status.is_some_and(|s| s.ends_with("_timed_out") || s == "deleted" || s == "expired");
            if ["moved", "deleted", "blocked", "test_failed", "test_blocked"].contains(&status) || ssl_failed {
                let errors: Vec<&str> = d["ssl"]["validation_errors"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .chain(d["verification_errors"].as_array().into_iter().flatten())
                    .filter_map(|e| e.get("message").and_then(Json::as_str).or(e.as_str()))
                    .collect();
                return Err(ProviderError::permanent(format!(
                    "custom hostname {hostname} cannot become active: status {status}, certificate {}",
                    ssl_status.unwrap_or("none")
                ))
                .with_detail(errors.join("; "))
                .with_help("the hostname exists and is kept as tainted: the next apply replaces it")
                .with_partial(self.state(zone, &d, reference)));
            }
            if status == "active" && ssl_status.is_none_or(|s| s == "active") {
                return Ok(PollStatus::Done(d));
            }
            Ok(PollStatus::Pending(format!("status {status}, certificate {}", ssl_status.unwrap_or("none"))))
        })
        .await
    }

    /// Differences between an existing hostname and the configuration (for adoption).
    fn mismatches(&self, d: &Json, planned: &Value) -> Result<Vec<String>, ProviderError> {
        let a = Attrs::new(planned);
        let mut out = Vec::new();
        if let Some(ssl) = known(planned.get("ssl")) {
            for k in ["method", "type"] {
                if let Some(v) = known(ssl.get(k)).and_then(Value::as_str) {
                    if d["ssl"][k].as_str() != Some(v) {
                        out.push(format!("ssl.{k} is {} (configured {v:?})", d["ssl"][k]));
                    }
                }
            }
        }
        for k in ["custom_origin_server", "custom_origin_sni"] {
            if let Some(v) = a.opt_str(k)? {
                if d[k].as_str() != Some(v) {
                    out.push(format!("{k} is {} (configured {v:?})", d[k]));
                }
            }
        }
        if known(planned.get("custom_metadata")).is_some() {
            let want = json!(a.string_map("custom_metadata")?);
            let have = d.get("custom_metadata").cloned().unwrap_or(json!({}));
            if want != have {
                out.push(format!("custom_metadata is {have} (configured {want})"));
            }
        }
        Ok(out)
    }
}

fn validate_enums(v: &Value, table: &[(&str, &[&str])], prefix: &[&str]) -> Vec<ConfigProblem> {
    table
        .iter()
        .filter_map(|(k, allowed)| {
            let s = v.get(k)?.as_str()?;
            (!allowed.contains(&s)).then(|| ConfigProblem {
                path: prefix.iter().chain(std::iter::once(k)).map(|p| PathStep::Key(p.to_string())).collect(),
                message: format!(
                    "must be one of {}",
                    allowed.iter().map(|x| format!("{x:?}")).collect::<Vec<_>>().join(", ")
                ),
            })
        })
        .collect()
}

#[async_trait]
impl ResourceType for CustomHostname {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        let mut out = timeouts::validate(config);
        if let Some(ssl) = config.get("ssl").filter(|s| s.as_map().is_some()) {
            out.extend(validate_enums(ssl, ENUMS, &["ssl"]));
            if let Some(settings) = ssl.get("settings").filter(|s| s.as_map().is_some()) {
                out.extend(validate_enums(settings, SETTING_ENUMS, &["ssl", "settings"]));
            }
        }
        if let Some(h) = config.get("hostname").and_then(Value::as_str) {
            if h != h.to_ascii_lowercase() || !h.contains('.') || h.ends_with('.') {
                out.push(ConfigProblem {
                    path: path("hostname"),
                    message: "must be a lowercase fully qualified name without trailing dot".into(),
                });
            }
        }
        out
    }

    async fn create(&self, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let a = Attrs::new(planned);
        let zone = segment(planned, "zone_id")?;
        let hostname = a.str("hostname")?;
        let wait = a.bool_or("wait_for_active_status", false)?;
        let timeout = timeouts::for_op(planned, "create", ctx, DEFAULT_TIMEOUT)?;
        let req =
            ApiRequest::post(format!("/zones/{zone}/custom_hostnames")).json(body(planned, true)?).idempotent(true);
        let d = match self.0.result(ctx, req).await {
            Ok(d) => d,
            Err(e) if e.is_status(409) || has_code(&e, &[1406]) => {
                let found =
                    self.0.list(ctx, &format!("/zones/{zone}/custom_hostnames"), &[("hostname", hostname)], 50).await?;
                let Some(existing) = found.into_iter().find(|d| d["hostname"] == hostname) else {
                    return Err(e.into());
                };
                let id = existing["id"].as_str().unwrap_or_default();
                let diffs = self.mismatches(&existing, planned)?;
                if !diffs.is_empty() {
                    return Err(ProviderError::permanent(format!(
                        "custom hostname {hostname} already exists in zone {zone} with different settings: {}",
                        diffs.join("; ")
                    ))
                    .with_help(format!("import it with `tenantform import <address> {zone}/{id}`")));
                }
                tracing::info!(target: crate::http::LOG_TARGET, id = %id, "adopting the existing custom hostname {hostname} (an earlier create succeeded)");
                existing
            }
            Err(e) => return Err(e.into()),
        };
        let id = d["id"].as_str().unwrap_or_default().to_string();
        let d = if wait { self.wait_active(ctx, zone, &id, hostname, timeout, planned).await? } else { d };
        Ok(self.state(zone, &d, planned))
    }

    async fn recover(&self, planned: &Value, ctx: &OpContext) -> Result<Recovery, ProviderError> {
        let zone = segment(planned, "zone_id")?;
        let hostname = Attrs::new(planned).str("hostname")?;
        let found = self.0.list(ctx, &format!("/zones/{zone}/custom_hostnames"), &[("hostname", hostname)], 50).await?;
        let Some(d) = found.into_iter().find(|d| d["hostname"] == hostname) else { return Ok(Recovery::NotMade) };
        let diffs = self.mismatches(&d, planned)?;
        if !diffs.is_empty() {
            let id = d["id"].as_str().unwrap_or_default();
            return Ok(Recovery::Unknown {
                reason: format!(
                    "custom hostname {hostname} exists in zone {zone} (id {id}) with other settings than configured ({}); \
                     if the interrupted create made it, import it with `tenantform import <address> {zone}/{id}`, otherwise \
                     remove it or choose another hostname",
                    diffs.join("; ")
                ),
            });
        }
        Ok(Recovery::Found(self.state(zone, &d, planned)))
    }

    async fn read(&self, current: &Value, ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        let zone = segment(current, "zone_id")?;
        let id = segment(current, "id")?;
        match self.get(ctx, zone, id).await {
            Ok(d) => Ok(Some(self.state(zone, &d, current))),
            Err(e) if e.kind == tenantform_engine::provider::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn update(&self, prior: &Value, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let zone = segment(prior, "zone_id")?;
        let id = segment(prior, "id")?;
        let hostname = Attrs::new(prior).str("hostname")?;
        let mut d = if diff::any_changed(
            prior,
            planned,
            &["ssl", "custom_metadata", "custom_origin_server", "custom_origin_sni"],
        ) {
            let req = ApiRequest::patch(format!("/zones/{zone}/custom_hostnames/{id}")).json(body(planned, false)?);
            self.0.result(ctx, req.idempotent(true)).await?
        } else {
            self.get(ctx, zone, id).await?
        };
        if Attrs::new(planned).bool_or("wait_for_active_status", false)? {
            let timeout = timeouts::for_op(planned, "update", ctx, DEFAULT_TIMEOUT)?;
            d = self.wait_active(ctx, zone, id, hostname, timeout, planned).await?;
        }
        Ok(self.state(zone, &d, planned))
    }

    async fn delete(&self, current: &Value, ctx: &OpContext) -> Result<(), ProviderError> {
        let zone = segment(current, "zone_id")?;
        let id = segment(current, "id")?;
        // The answer is a bare {"id"} (not an envelope); only the status matters.
        match self.0.client.send(ctx, ApiRequest::delete(format!("/zones/{zone}/custom_hostnames/{id}"))).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_status(404) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn import(&self, id: &str, ctx: &OpContext) -> Result<Value, ProviderError> {
        let (zone, ch) = split_import(id, "custom_hostname")?;
        let d = self.get(ctx, &zone, &ch).await?;
        // Imported with its ssl block tracked when it has a certificate, and the block's
        // settings when the API reports any.
        let has_settings = d["ssl"]["settings"].as_object().is_some_and(|s| s.values().any(|v| !v.is_null()));
        let settings = if has_settings { Value::Map(BTreeMap::new()) } else { Value::Null };
        let prior = Value::map([
            ("ssl", if d["ssl"].is_object() { Value::map([("settings", settings)]) } else { Value::Null }),
            ("wait_for_active_status", Value::Bool(false)),
        ]);
        Ok(self.state(&zone, &d, &prior))
    }
}

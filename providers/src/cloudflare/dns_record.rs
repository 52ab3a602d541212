//! `cloudflare_dns_record`: a DNS record in a Cloudflare zone (the v5 resource; v4 called it
//! `cloudflare_record`).
//!
//! - `zone_id` is force-new; everything else changes in place (PUT of the whole record).
//! - `name` may be written relative (`app`), as the apex (`@`) or fully qualified: the state
//!   keeps the form written as long as it means the name the API reports, so there is no
//!   perpetual diff; a real rename shows as drift.
//! - Create is idempotent by (type, name, content): an "identical record already exists"
//!   (81058) — or "record already exists" (81057) for a record with the same content — is
//!   our own earlier attempt and is adopted (ttl, proxied, priority, comment and tags are
//!   then brought in line). Another record holding the name (81057 with other content,
//!   81053/81054 across A/AAAA/CNAME) is a conflict and fails with the API's message.
//!
//! - `zone_id` comes from the configuration (or the import ID), never from the API's answer:
//!   Cloudflare stopped returning `zone_id`/`zone_name` on DNS records (deprecated
//!   2024-11-30).
//! - An interrupted create is recovered by the record's identity: the record of the
//!   configured type and (fully qualified) name with the configured content, the same rule
//!   create uses to adopt on 81057/81058. Cloudflare has no idempotency key, and carrying the
//!   create token in `comment` or `tags` would show as drift in attributes the user owns.
//!
//! Import ID: `<zone_id>/<dns_record_id>`.

use async_trait::async_trait;
use serde_json::{json, Map, Value as Json};
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, ErrorKind, OpContext, ProviderError, Recovery, ResourceSchema, ResourceType, Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use super::{has_code, segment, split_import, Cloudflare};
use crate::http::ApiRequest;
use crate::support::attrs::{path, Attrs};

pub fn schema() -> ResourceSchema {
    let schema = Schema::new()
        .describe("A DNS record in a Cloudflare zone.")
        .attr("zone_id", AttributeSchema::required(Type::String).force_new().describe("Zone ID."))
        .attr(
            "name",
            AttributeSchema::required(Type::String).describe(
                "Record name: fully qualified (app.example.com), relative to the zone (app) or \"@\" for the apex.",
            ),
        )
        .attr("type", AttributeSchema::required(Type::String).describe("Record type: A, AAAA, CNAME, TXT, MX, …"))
        .attr("content", AttributeSchema::required(Type::String).describe("Record content (address, target, text)."))
        .attr(
            "ttl",
            AttributeSchema::optional(Type::Number)
                .default(Value::number(1))
                .describe("Time to live in seconds: 1 means automatic, otherwise 60 to 86400. Default 1."),
        )
        .attr(
            "proxied",
            AttributeSchema::optional(Type::Bool)
                .default(Value::Bool(false))
                .describe("Whether traffic goes through Cloudflare's proxy (A, AAAA, CNAME only). Default false."),
        )
        .attr(
            "priority",
            AttributeSchema::optional(Type::Number).describe("Priority, required for MX, SRV and URI records."),
        )
        .attr("comment", AttributeSchema::optional(Type::String).describe("A note about the record."))
        .attr("tags", AttributeSchema::optional(Type::List(Box::new(Type::String))).describe("Tags (`name:value`)."))
        .attr("id", AttributeSchema::computed(Type::String).describe("Record ID."))
        .attr("proxiable", AttributeSchema::computed(Type::Bool).describe("Whether the record can be proxied."))
        .attr("created_on", AttributeSchema::computed(Type::String).describe("Creation time."))
        .attr("modified_on", AttributeSchema::computed(Type::String).describe("Last modification time."));
    ResourceSchema { schema, version: 0, import_id: "<zone_id>/<dns_record_id>".into() }
}

pub struct DnsRecord(pub Cloudflare);

/// The fully qualified form of a record name in a zone.
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

fn body(v: &Value) -> Result<Json, ProviderError> {
    let a = Attrs::new(v);
    let mut m = Map::new();
    m.insert("type".into(), json!(a.str("type")?));
    m.insert("name".into(), json!(a.str("name")?));
    m.insert("content".into(), json!(a.str("content")?));
    m.insert("ttl".into(), json!(a.i64_or("ttl", 1)?));
    m.insert("proxied".into(), json!(a.bool_or("proxied", false)?));
    if let Some(p) = a.opt_i64("priority")? {
        m.insert("priority".into(), json!(p));
    }
    m.insert("comment".into(), a.opt_str("comment")?.map(|c| json!(c)).unwrap_or(Json::Null));
    m.insert("tags".into(), json!(a.opt_string_list("tags")?.unwrap_or_default()));
    Ok(Json::Object(m))
}

impl DnsRecord {
    /// The state from an API record. `zone` is the zone the record was asked for in (the API
    /// no longer says).
    fn state(&self, zone: &str, r: &Json, zone_name: &str, prior: &Value) -> Value {
        let a = Attrs::new(prior);
        let api_name = r["name"].as_str().unwrap_or_default();
        let name = match a.opt_str("name").ok().flatten() {
            Some(written) if fqdn(written, zone_name) == api_name => Value::string(written),
            _ => Value::string(api_name),
        };
        let tags: Vec<Value> =
            r["tags"].as_array().into_iter().flatten().filter_map(Json::as_str).map(Value::string).collect();
        let tags = if tags.is_empty() && a.raw("tags").is_null() { Value::Null } else { Value::List(tags) };
        let s = |k: &str| r.get(k).and_then(Json::as_str).map(Value::string).unwrap_or(Value::Null);
        Value::map([
            ("id", s("id")),
            ("zone_id", Value::string(zone)),
            ("name", name),
            ("type", s("type")),
            ("content", s("content")),
            ("ttl", r.get("ttl").and_then(Json::as_f64).map(Value::number).unwrap_or(Value::Null)),
            ("proxied", r.get("proxied").and_then(Json::as_bool).map(Value::Bool).unwrap_or(Value::Null)),
            ("priority", r.get("priority").and_then(Json::as_f64).map(Value::number).unwrap_or(Value::Null)),
            ("comment", s("comment")),
            ("tags", tags),
            ("proxiable", r.get("proxiable").and_then(Json::as_bool).map(Value::Bool).unwrap_or(Value::Null)),
            ("created_on", s("created_on")),
            ("modified_on", s("modified_on")),
        ])
    }

    async fn get(&self, ctx: &OpContext, zone: &str, id: &str) -> Result<Json, ProviderError> {
        Ok(self.0.result(ctx, ApiRequest::get(format!("/zones/{zone}/dns_records/{id}"))).await?)
    }

    async fn put(&self, ctx: &OpContext, zone: &str, id: &str, planned: &Value) -> Result<Json, ProviderError> {
        Ok(self.0.result(ctx, ApiRequest::put(format!("/zones/{zone}/dns_records/{id}")).json(body(planned)?)).await?)
    }

    /// The record of `planned`'s type and name holding its content, if there is one.
    async fn find_same(
        &self,
        ctx: &OpContext,
        zone: &str,
        zone_name: &str,
        planned: &Value,
    ) -> Result<Option<Json>, ProviderError> {
        let a = Attrs::new(planned);
        let ty = a.str("type")?;
        let name = fqdn(a.str("name")?, zone_name);
        let content = a.str("content")?;
        let same =
            self.0.list(ctx, &format!("/zones/{zone}/dns_records"), &[("type", ty), ("name", &name)], 100).await?;
        Ok(same.into_iter().find(|r| r["content"].as_str() == Some(content)))
    }
}

#[async_trait]
impl ResourceType for DnsRecord {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        let mut out = Vec::new();
        if let Some(t) = config.get("ttl").and_then(Value::as_f64) {
            if t != 1.0 && !(60.0..=86_400.0).contains(&t) {
                out.push(ConfigProblem {
                    path: path("ttl"),
                    message: "must be 1 (automatic) or between 60 and 86400".into(),
                });
            }
        }
        if let Some(t) = config.get("type").and_then(Value::as_str) {
            if t != t.to_ascii_uppercase() {
                out.push(ConfigProblem {
                    path: path("type"),
                    message: format!("record types are upper case: {:?}", t.to_ascii_uppercase()),
                });
            }
        }
        out
    }

    async fn create(&self, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let a = Attrs::new(planned);
        let zone = segment(planned, "zone_id")?;
        let zone_name = self.0.zone_name(ctx, zone).await?;
        let req = ApiRequest::post(format!("/zones/{zone}/dns_records")).json(body(planned)?).idempotent(true);
        let r = match self.0.result(ctx, req).await {
            Ok(r) => r,
            Err(e) if has_code(&e, &[81057, 81058]) => {
                let ty = a.str("type")?;
                let name = fqdn(a.str("name")?, &zone_name);
                let Some(existing) = self.find_same(ctx, zone, &zone_name, planned).await? else {
                    return Err(ProviderError::from(e)
                        .with_help(format!("another {ty} record named {name} exists; import it with `tenantform import <address> {zone}/<record_id>` or remove it")));
                };
                let id = existing["id"].as_str().unwrap_or_default().to_string();
                tracing::info!(target: crate::http::LOG_TARGET, id = %id, "adopting the existing {ty} record {name} (an earlier create succeeded)");
                let current = self.state(zone, &existing, &zone_name, planned);
                let settle = ["ttl", "proxied", "priority", "comment", "tags"];
                if crate::support::diff::any_changed(&current, planned, &settle) {
                    self.put(ctx, zone, &id, planned).await?
                } else {
                    existing
                }
            }
            Err(e) => return Err(e.into()),
        };
        Ok(self.state(zone, &r, &zone_name, planned))
    }

    async fn recover(&self, planned: &Value, ctx: &OpContext) -> Result<Recovery, ProviderError> {
        let zone = segment(planned, "zone_id")?;
        let zone_name = self.0.zone_name(ctx, zone).await?;
        Ok(match self.find_same(ctx, zone, &zone_name, planned).await? {
            Some(r) => Recovery::Found(self.state(zone, &r, &zone_name, planned)),
            None => Recovery::NotMade,
        })
    }

    async fn read(&self, current: &Value, ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        let zone = segment(current, "zone_id")?;
        let id = segment(current, "id")?;
        match self.get(ctx, zone, id).await {
            Ok(r) => Ok(Some(self.state(zone, &r, &self.0.zone_name(ctx, zone).await?, current))),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn update(&self, prior: &Value, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let zone = segment(prior, "zone_id")?;
        let id = segment(prior, "id")?;
        let r = self.put(ctx, zone, id, planned).await?;
        Ok(self.state(zone, &r, &self.0.zone_name(ctx, zone).await?, planned))
    }

    async fn delete(&self, current: &Value, ctx: &OpContext) -> Result<(), ProviderError> {
        let zone = segment(current, "zone_id")?;
        let id = segment(current, "id")?;
        match self.0.result(ctx, ApiRequest::delete(format!("/zones/{zone}/dns_records/{id}"))).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_status(404) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn import(&self, id: &str, ctx: &OpContext) -> Result<Value, ProviderError> {
        let (zone, rid) = split_import(id, "dns_record")?;
        let r = self.get(ctx, &zone, &rid).await?;
        Ok(self.state(&zone, &r, &self.0.zone_name(ctx, &zone).await?, &Value::Null))
    }
}

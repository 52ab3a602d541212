//! The `cloudflare` provider (like `cloudflare/cloudflare` v5): Cloudflare for SaaS custom
//! hostnames and DNS records through the Cloudflare API v4.
//!
//! This module owns the provider configuration, the API client (the shared [`crate::http`]
//! client with Cloudflare's envelope errors), the envelope check (`success` is read, not only
//! the status: an answer can be 200 and still a failure) and listing helpers. Each resource
//! type lives in its own file.
//!
//! Errors read like `cloudflare POST /zones/…/custom_hostnames: Duplicate custom hostname
//! found. [code 1406] (409)`: the API's own message and code, then the status.

// `ApiError` carries the whole provider error plus the answer, so callers can match on the
// status; it is returned once per call, its size does not matter.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::Value as Json;
use tenantform_engine::provider::{
    AttributeSchema, ConfiguredProvider, OpContext, Provider, ProviderError, ProviderSchema, ResourceType, Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use crate::http::{
    default_error_kind, ApiClient, ApiConfig, ApiError, ApiRequest, ApiResponse, ErrorMapper, HttpFailure, Page,
    RetryPolicy,
};
use crate::support::attrs::{path, Attrs};

pub mod custom_hostname;
pub mod dns_record;

#[cfg(test)]
mod tests;

/// Default of the `base_url` provider attribute.
pub const DEFAULT_BASE_URL: &str = "https://api.cloudflare.com/client/v4";

/// The unconfigured `cloudflare` provider.
pub struct CloudflareProvider;

/// `(code, message)` pairs of an envelope's `errors`, including nested `error_chain`s.
pub fn envelope_errors(j: &Json) -> Vec<(i64, String)> {
    fn walk(items: &Json, out: &mut Vec<(i64, String)>) {
        for e in items.as_array().into_iter().flatten() {
            let code = e.get("code").and_then(Json::as_i64).unwrap_or(0);
            let msg = e.get("message").and_then(Json::as_str).unwrap_or_default().to_string();
            out.push((code, msg));
            if let Some(chain) = e.get("error_chain") {
                walk(chain, out);
            }
        }
    }
    let mut out = Vec::new();
    if let Some(errs) = j.get("errors") {
        walk(errs, &mut out);
    }
    out
}

fn describe(errors: &[(i64, String)]) -> String {
    errors
        .iter()
        .map(|(c, m)| if *c != 0 { format!("{m} [code {c}]") } else { m.clone() })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The failure envelope `{"success": false, "errors": [{code, message}]}`.
pub struct CloudflareErrors;

impl ErrorMapper for CloudflareErrors {
    fn map(&self, f: &HttpFailure<'_>) -> ProviderError {
        let errors = f.json().map(|j| envelope_errors(&j)).unwrap_or_default();
        let e = ProviderError::new(default_error_kind(f.status), f.summary(&describe(&errors)));
        match f.status {
            401 | 403 if errors.iter().any(|(c, _)| *c == 10000 || *c == 9109) => {
                e.with_help("check the Cloudflare API token (`api_token` or CLOUDFLARE_API_TOKEN) and its permissions")
            }
            _ => e,
        }
    }
}

/// Whether an error's envelope carries one of `codes`.
pub fn has_code(e: &ApiError, codes: &[i64]) -> bool {
    e.body_json().is_some_and(|j| envelope_errors(&j).iter().any(|(c, _)| codes.contains(c)))
}

/// Settings of a configured Cloudflare provider.
#[derive(Clone, Debug)]
pub struct CloudflareConfig {
    pub base_url: String,
    pub api_token: String,
    pub retry: RetryPolicy,
    /// Smallest and largest pause between two polls of a custom hostname's status.
    pub poll_interval: (std::time::Duration, std::time::Duration),
}

impl CloudflareConfig {
    pub fn new(base_url: impl Into<String>, api_token: impl Into<String>) -> Self {
        CloudflareConfig {
            base_url: base_url.into(),
            api_token: api_token.into(),
            retry: RetryPolicy::default(),
            poll_interval: (std::time::Duration::from_secs(2), std::time::Duration::from_secs(15)),
        }
    }
}

/// The API client every Cloudflare resource shares.
#[derive(Clone, Debug)]
pub struct Cloudflare {
    pub client: ApiClient,
    poll_interval: (std::time::Duration, std::time::Duration),
    zone_names: Arc<Mutex<HashMap<String, String>>>,
}

impl Cloudflare {
    pub fn new(cfg: &CloudflareConfig) -> Result<Self, ProviderError> {
        let api = ApiConfig::new("cloudflare", cfg.base_url.clone())
            .bearer(cfg.api_token.clone())
            .retry(cfg.retry.clone())
            .redact(["custom_key", "private_key"]);
        Ok(Cloudflare {
            client: ApiClient::new(api, Arc::new(CloudflareErrors))?,
            poll_interval: cfg.poll_interval,
            zone_names: Arc::default(),
        })
    }

    /// Sends and returns the envelope's `result`; `success: false` is an error even on 2xx.
    pub async fn result(&self, ctx: &OpContext, req: ApiRequest) -> Result<Json, ApiError> {
        let resp = self.client.send(ctx, req).await?;
        Self::unwrap(&self.client, &resp)
    }

    fn unwrap(client: &ApiClient, resp: &ApiResponse) -> Result<Json, ApiError> {
        let j = resp.json_value()?;
        if j.get("success") == Some(&Json::Bool(false)) {
            let mut e = client.failure(resp);
            e.error.summary = format!("cloudflare: the request failed: {}", describe(&envelope_errors(&j)));
            return Err(e);
        }
        Ok(j.get("result").cloned().unwrap_or(j))
    }

    /// Every item of a page-numbered list (`page`, `per_page`).
    pub async fn list(
        &self,
        ctx: &OpContext,
        path: &str,
        query: &[(&str, &str)],
        per_page: usize,
    ) -> Result<Vec<Json>, ApiError> {
        let client = self.client.clone();
        self.client
            .paginate(
                ctx,
                1000,
                |page| {
                    let mut r = ApiRequest::get(path).query("per_page", per_page.to_string());
                    for (k, v) in query {
                        r = r.query(*k, *v);
                    }
                    r.query("page", page.unwrap_or("1"))
                },
                |resp| {
                    let result = Self::unwrap(&client, resp).map_err(ProviderError::from)?;
                    let items = result.as_array().cloned().unwrap_or_default();
                    let page = resp.json_value()?.pointer("/result_info/page").and_then(Json::as_u64).unwrap_or(1);
                    let next = (items.len() >= per_page).then(|| (page + 1).to_string());
                    Ok(Page { items, next })
                },
            )
            .await
    }

    /// The name of a zone (cached), for expanding record names.
    pub async fn zone_name(&self, ctx: &OpContext, zone: &str) -> Result<String, ProviderError> {
        if let Some(n) = self.zone_names.lock().unwrap_or_else(|e| e.into_inner()).get(zone) {
            return Ok(n.clone());
        }
        let z = self.result(ctx, ApiRequest::get(format!("/zones/{zone}"))).await?;
        let name = z["name"].as_str().unwrap_or_default().to_string();
        self.zone_names.lock().unwrap_or_else(|e| e.into_inner()).insert(zone.to_string(), name.clone());
        Ok(name)
    }
}

/// `<zone_id>/<id>` → `(zone_id, id)`.
pub(crate) fn split_import(id: &str, what: &str) -> Result<(String, String), ProviderError> {
    match id.split_once('/') {
        Some((z, r)) if !z.is_empty() && !r.is_empty() && !r.contains('/') => Ok((z.to_string(), r.to_string())),
        _ => Err(ProviderError::permanent(format!("invalid import ID {id:?}: expected <zone_id>/<{what}_id>"))),
    }
}

/// A string attribute for a URL path segment.
pub(crate) fn segment<'a>(v: &'a Value, name: &str) -> Result<&'a str, ProviderError> {
    let s = Attrs::new(v).str(name)?;
    if s.is_empty() || s.contains(['/', '?', '#']) {
        return Err(
            ProviderError::permanent(format!("`{name}` must not be empty or contain '/', '?' or '#'")).at(path(name))
        );
    }
    Ok(s)
}

#[async_trait]
impl Provider for CloudflareProvider {
    fn name(&self) -> &'static str {
        "cloudflare"
    }

    fn schema(&self) -> ProviderSchema {
        let config = Schema::new()
            .describe("Cloudflare custom hostnames (Cloudflare for SaaS) and DNS records through the API v4.")
            .attr(
                "api_token",
                AttributeSchema::optional(Type::String)
                    .sensitive()
                    .describe("API token. Defaults to the CLOUDFLARE_API_TOKEN environment variable."),
            )
            .attr(
                "base_url",
                AttributeSchema::optional(Type::String).describe(format!(
                    "Base URL of the API (default {DEFAULT_BASE_URL}); point it at an emulator for tests."
                )),
            );
        let mut s = ProviderSchema { config, ..Default::default() };
        s.resources.insert("cloudflare_custom_hostname".into(), custom_hostname::schema());
        s.resources.insert("cloudflare_dns_record".into(), dns_record::schema());
        s
    }

    async fn configure(&self, config: &Value) -> Result<Arc<dyn ConfiguredProvider>, ProviderError> {
        let a = Attrs::new(config);
        let env = std::env::var("CLOUDFLARE_API_TOKEN").ok().filter(|t| !t.is_empty());
        let Some(token) = a.opt_str("api_token")?.map(str::to_string).or(env) else {
            return Err(ProviderError::permanent("no Cloudflare API token")
                .with_help("set `api_token` in the provider \"cloudflare\" block or CLOUDFLARE_API_TOKEN")
                .at(path("api_token")));
        };
        let base = a.str_or("base_url", DEFAULT_BASE_URL)?;
        let cfg = CloudflareConfig::new(base, token);
        Ok(Arc::new(ConfiguredCloudflare::new(&cfg).map_err(|e| e.at(path("base_url")))?))
    }
}

/// The configured provider: resource types sharing one [`Cloudflare`] client.
pub struct ConfiguredCloudflare {
    cf: Cloudflare,
}

impl ConfiguredCloudflare {
    pub fn new(cfg: &CloudflareConfig) -> Result<Self, ProviderError> {
        Ok(ConfiguredCloudflare { cf: Cloudflare::new(cfg)? })
    }
}

impl ConfiguredProvider for ConfiguredCloudflare {
    fn resource(&self, type_name: &str) -> Option<Arc<dyn ResourceType>> {
        match type_name {
            "cloudflare_custom_hostname" => Some(Arc::new(custom_hostname::CustomHostname(self.cf.clone()))),
            "cloudflare_dns_record" => Some(Arc::new(dns_record::DnsRecord(self.cf.clone()))),
            _ => None,
        }
    }
}

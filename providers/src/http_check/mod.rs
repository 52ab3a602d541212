//! The `http` provider: `http_health_check`, a resource that polls an HTTP endpoint until it
//! answers as expected, so that a stack's apply succeeds only once the service it deployed
//! really serves (like `tetratelabs/checkmate`'s `checkmate_http_health`).
//!
//! This module owns the check's schema, its polling loop and its error messages. It must not
//! share state with [`crate::http`] (the JSON API client of the cloud providers): a health
//! check talks to the user's own service, not to a cloud API, so it neither retries by API
//! rules nor maps API error bodies — every answer is one observation, and the check keeps
//! looking until the deadline.

use std::sync::Arc;

use async_trait::async_trait;
use tenantform_engine::provider::{ConfiguredProvider, Provider, ProviderError, ProviderSchema, ResourceType, Schema};
use tenantform_engine::value::Value;

pub mod health_check;

/// The unconfigured `http` provider (it takes no configuration).
pub struct HttpProvider;

#[async_trait]
impl Provider for HttpProvider {
    fn name(&self) -> &'static str {
        "http"
    }

    fn schema(&self) -> ProviderSchema {
        let mut s = ProviderSchema {
            config: Schema::new().describe("The http provider takes no configuration."),
            ..Default::default()
        };
        s.resources.insert("http_health_check".into(), health_check::schema());
        s
    }

    async fn configure(&self, _config: &Value) -> Result<Arc<dyn ConfiguredProvider>, ProviderError> {
        let client = reqwest::Client::builder()
            .user_agent(format!("tenantform-health-check/{}", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderError::permanent(format!("cannot build the HTTP client: {e}")))?;
        Ok(Arc::new(ConfiguredHttp { check: Arc::new(health_check::HealthCheck::new(client)) }))
    }
}

struct ConfiguredHttp {
    check: Arc<health_check::HealthCheck>,
}

impl ConfiguredProvider for ConfiguredHttp {
    fn resource(&self, type_name: &str) -> Option<Arc<dyn ResourceType>> {
        match type_name {
            "http_health_check" => Some(self.check.clone()),
            _ => None,
        }
    }
}

//! The `time` provider (like hashicorp/time): resources whose effect is the passage of time.
//! Waits always honour [`OpContext::cancel`](tenantform_engine::provider::OpContext), so Ctrl-C
//! during an apply never hangs on a sleep.

use std::sync::Arc;

use async_trait::async_trait;
use tenantform_engine::provider::{ConfiguredProvider, Provider, ProviderError, ProviderSchema, ResourceType, Schema};
use tenantform_engine::value::Value;

pub mod sleep;

/// The unconfigured `time` provider (it takes no configuration).
pub struct TimeProvider;

#[async_trait]
impl Provider for TimeProvider {
    fn name(&self) -> &'static str {
        "time"
    }

    fn schema(&self) -> ProviderSchema {
        let mut s = ProviderSchema {
            config: Schema::new().describe("The time provider takes no configuration."),
            ..Default::default()
        };
        s.resources.insert("time_sleep".into(), sleep::schema());
        s
    }

    async fn configure(&self, _config: &Value) -> Result<Arc<dyn ConfiguredProvider>, ProviderError> {
        Ok(Arc::new(ConfiguredTime))
    }
}

struct ConfiguredTime;

impl ConfiguredProvider for ConfiguredTime {
    fn resource(&self, type_name: &str) -> Option<Arc<dyn ResourceType>> {
        match type_name {
            "time_sleep" => Some(Arc::new(sleep::TimeSleep)),
            _ => None,
        }
    }
}

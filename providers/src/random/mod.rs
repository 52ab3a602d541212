//! The `random` provider: values generated once and then kept in state, with the attribute
//! names of hashicorp/random so existing configurations read the same.
//!
//! Every input is force-new: changing `length`, `keepers`, … generates a new value, exactly as
//! hashicorp/random does. Randomness comes from the operating system's CSPRNG (`OsRng`).
//! There is no remote object: `read` returns the state unchanged and `delete` forgets it.

use std::sync::Arc;

use async_trait::async_trait;
use tenantform_engine::provider::{
    ConfiguredProvider, Provider, ProviderError, ProviderSchema, ResourceSchema, ResourceType, Schema,
};
use tenantform_engine::value::Value;

pub mod charset;
pub mod id;
pub mod password;
pub mod pet;
pub mod string;

/// The unconfigured `random` provider (it takes no configuration).
pub struct RandomProvider;

#[async_trait]
impl Provider for RandomProvider {
    fn name(&self) -> &'static str {
        "random"
    }

    fn schema(&self) -> ProviderSchema {
        let mut s = ProviderSchema {
            config: Schema::new().describe("The random provider takes no configuration."),
            ..Default::default()
        };
        let add = |s: &mut ProviderSchema, name: &str, r: ResourceSchema| {
            s.resources.insert(name.to_string(), r);
        };
        add(&mut s, "random_password", password::schema());
        add(&mut s, "random_string", string::schema());
        add(&mut s, "random_id", id::schema());
        add(&mut s, "random_pet", pet::schema());
        s
    }

    async fn configure(&self, _config: &Value) -> Result<Arc<dyn ConfiguredProvider>, ProviderError> {
        Ok(Arc::new(ConfiguredRandom))
    }
}

struct ConfiguredRandom;

impl ConfiguredProvider for ConfiguredRandom {
    fn resource(&self, type_name: &str) -> Option<Arc<dyn ResourceType>> {
        match type_name {
            "random_password" => Some(Arc::new(password::RandomPassword)),
            "random_string" => Some(Arc::new(string::RandomString)),
            "random_id" => Some(Arc::new(id::RandomId)),
            "random_pet" => Some(Arc::new(pet::RandomPet)),
            _ => None,
        }
    }
}

/// The `keepers` attribute every random resource has.
pub(crate) fn keepers_attr() -> tenantform_engine::provider::AttributeSchema {
    use tenantform_engine::provider::AttributeSchema;
    use tenantform_engine::types::Type;
    AttributeSchema::optional(Type::Map(Box::new(Type::String))).force_new().describe(
        "Arbitrary map of values that, when changed, will trigger recreation of the resource \
         (and so a new random value).",
    )
}

/// `update` for resources whose every input is force-new: nothing to do remotely, keep the
/// generated values of the prior state.
pub(crate) fn carry_over(prior: &Value, planned: &Value, computed: &[&str]) -> Value {
    let mut out = planned.clone();
    crate::support::diff::copy(prior, &mut out, computed);
    out
}

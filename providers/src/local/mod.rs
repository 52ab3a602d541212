//! placeholder
pub struct LocalProvider;
#[async_trait::async_trait]
impl tenantform_engine::provider::Provider for LocalProvider {
    fn name(&self) -> &'static str {
        "local"
    }
    fn schema(&self) -> tenantform_engine::provider::ProviderSchema {
        Default::default()
    }
    async fn configure(
        &self,
        _c: &tenantform_engine::value::Value,
    ) -> Result<
        std::sync::Arc<dyn tenantform_engine::provider::ConfiguredProvider>,
        tenantform_engine::provider::ProviderError,
    > {
        Err(tenantform_engine::provider::ProviderError::permanent(
            "local provider not implemented yet",
        ))
    }
}

//! Providers: one module per platform, each resource type in its own file.
use std::sync::Arc;

use tenantform_engine::provider::Provider;

/// Every built-in provider.
pub fn all() -> Vec<Arc<dyn Provider>> {
    Vec::new()
}

//! Built-in providers: one module per platform, each resource type in its own file.
//!
//! This crate implements the engine's [`Provider`] trait; it owns no planning logic and never
//! prints. Shared behaviour (reading typed attributes out of a configuration value, attribute
//! diffs, durations, file helpers) lives in [`support`] and is written once.
//!
//! - [`random`]: `random_password`, `random_string`, `random_id`, `random_pet` (like
//!   hashicorp/random).
//! - [`time`]: `time_sleep` (like hashicorp/time).
//! - [`google`]: Secret Manager secrets, versions and IAM members; Cloud Run v2 services and
//!   their IAM members (like hashicorp/google).
//! - [`neon`]: Neon branches, endpoints, roles, databases and connection URIs.
//! - [`cloudflare`]: Cloudflare for SaaS custom hostnames and DNS records.
//! - [`postgres`]: roles, databases, schemas, extensions, grants and default privileges of a
//!   PostgreSQL server (like cyrilgdn/postgresql), and per-tenant connection URIs.
//! - [`http_check`]: the `http` provider's `http_health_check`, which polls a URL until it
//!   answers as expected (not to be confused with [`http`], the cloud providers' API client).
//! - [`local`]: the local tenant stack on this machine: SQLite databases, secrets files, real
//!   processes, and hostnames served by a small HTTP router.
use std::sync::Arc;

use tenantform_engine::provider::Provider;

pub mod cloudflare;
pub mod google;
pub mod http;
pub mod http_check;
pub mod local;
pub mod neon;
pub mod postgres;
pub mod random;
pub mod support;
pub mod time;

#[cfg(test)]
pub(crate) mod testkit;

/// Every built-in provider.
pub fn all() -> Vec<Arc<dyn Provider>> {
    vec![
        Arc::new(cloudflare::CloudflareProvider),
        Arc::new(google::GoogleProvider::default()),
        Arc::new(http_check::HttpProvider),
        Arc::new(local::LocalProvider),
        Arc::new(neon::NeonProvider),
        Arc::new(postgres::PostgresProvider),
        Arc::new(random::RandomProvider),
        Arc::new(time::TimeProvider),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_resource_type_is_prefixed_by_its_provider_and_documents_import() {
        for p in all() {
            let schema = p.schema();
            for (name, r) in &schema.resources {
                assert!(name.starts_with(&format!("{}_", p.name())), "{name}");
                assert!(!r.import_id.is_empty(), "{name} has no import_id");
                assert!(r.schema.attributes.contains_key("id"), "{name} has no id");
                for (attr, a) in &r.schema.attributes {
                    assert!(!a.description.is_empty(), "{name}.{attr} has no description");
                }
            }
            for name in schema.data_sources.keys() {
                assert!(name.starts_with(&format!("{}_", p.name())), "{name}");
            }
        }
    }
}

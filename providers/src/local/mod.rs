//! The `local` provider: a whole tenant stack on this machine, doing real work: SQLite database
//! files, secret files, real processes and hostnames served by a small HTTP router.
//!
//! Everything the provider creates lives under its `root` directory (default
//! `.tenantform/local` in the working directory):
//!
//! ```text
//! <root>/databases/<name>.sqlite        local_sqlite_database (unless `path` is set)
//! <root>/secrets/<name>                 local_secret (mode 0600, directory 0700)
//! <root>/services/<name>/service.json   local_service record (pid, start time, settings)
//! <root>/services/<name>/service.log    its stdout and stderr
//! <root>/routes/<hostname>              local_hostname route ("127.0.0.1:<port>")
//! <root>/router.pid, router.log         the router process serving routes/
//! ```
//!
//! This module owns the provider configuration and name rules; each resource type lives in its
//! own file. It must not hold state between calls beyond the configuration: everything is read
//! back from disk and `/proc`, so a later run (or another process) sees the same truth.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use tenantform_engine::provider::{
    AttributeSchema, ConfiguredProvider, DataSourceType, Provider, ProviderError, ProviderSchema, ResourceType, Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use crate::support::attrs::{path, Attrs};

pub mod file_data;
pub mod hostname;
pub mod http;
pub mod process;
pub mod router;
pub mod secret;
pub mod service;
pub mod sqlite_database;

#[cfg(test)]
pub(crate) mod testutil;

/// Default of the `root` provider attribute, relative to the working directory.
pub const DEFAULT_ROOT: &str = ".tenantform/local";
/// Default of the `router_listen` provider attribute.
pub const DEFAULT_ROUTER_LISTEN: &str = "127.0.0.1:8080";

/// The unconfigured `local` provider.
pub struct LocalProvider;

/// The provider configuration every local resource shares.
#[derive(Clone, Debug)]
pub struct LocalConfig {
    /// Absolute directory holding everything the provider creates.
    pub root: PathBuf,
    /// Where the hostname router listens.
    pub router_listen: SocketAddr,
}

impl LocalConfig {
    /// Builds a configuration; a relative `root` is resolved against the working directory.
    pub fn new(root: impl AsRef<Path>, router_listen: SocketAddr) -> Result<LocalConfig, ProviderError> {
        let root = absolute(root.as_ref())?;
        Ok(LocalConfig { root, router_listen })
    }

    pub fn databases_dir(&self) -> PathBuf {
        self.root.join("databases")
    }
    pub fn secrets_dir(&self) -> PathBuf {
        self.root.join("secrets")
    }
    pub fn services_dir(&self) -> PathBuf {
        self.root.join("services")
    }
    pub fn routes_dir(&self) -> PathBuf {
        self.root.join("routes")
    }
}

/// Resolves a path against the working directory (without touching the file system).
pub fn absolute(p: &Path) -> Result<PathBuf, ProviderError> {
    if p.is_absolute() {
        return Ok(p.to_path_buf());
    }
    let cwd = std::env::current_dir()
        .map_err(|e| ProviderError::permanent(format!("cannot read the working directory: {e}")))?;
    Ok(cwd.join(p))
}

/// Turns an I/O error into a provider error naming what was being done.
pub(crate) fn io_err(what: impl std::fmt::Display, e: std::io::Error) -> ProviderError {
    let kind = match e.kind() {
        std::io::ErrorKind::Interrupted | std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            tenantform_engine::provider::ErrorKind::Transient
        }
        _ => tenantform_engine::provider::ErrorKind::Permanent,
    };
    ProviderError::new(kind, format!("{what}: {e}"))
}

/// Object names (`name` of databases, secrets and services) become file names: letters,
/// digits, `_`, `-` and `.`, starting with a letter or digit, at most 128 characters.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok_start = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    let ok_chars = name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if name.is_empty() || name.len() > 128 || !ok_start || !ok_chars {
        return Err(format!(
            "invalid name {name:?}: use letters, digits, `_`, `-` and `.`, starting with a letter or digit (at most 128 characters)"
        ));
    }
    Ok(())
}

/// A `validate` check of a name attribute (skipped while unknown).
pub(crate) fn validate_name_attr(config: &Value, attr: &str) -> Vec<tenantform_engine::provider::ConfigProblem> {
    match config.get(attr).and_then(Value::as_str) {
        Some(n) => check_name(n)
            .err()
            .map(|message| tenantform_engine::provider::ConfigProblem { path: path(attr), message })
            .into_iter()
            .collect(),
        None => Vec::new(),
    }
}

/// Reads and checks a name attribute in `create`/`import`.
pub(crate) fn name_attr<'a>(v: &'a Value, attr: &str) -> Result<&'a str, ProviderError> {
    let n = Attrs::new(v).str(attr)?;
    check_name(n).map_err(|e| ProviderError::permanent(e).at(path(attr)))?;
    Ok(n)
}

#[async_trait]
impl Provider for LocalProvider {
    fn name(&self) -> &'static str {
        "local"
    }

    fn schema(&self) -> ProviderSchema {
        let config = Schema::new()
            .describe("Runs a tenant stack on this machine: SQLite files, secret files, processes and local hostnames.")
            .attr(
                "root",
                AttributeSchema::optional(Type::String).default(Value::string(DEFAULT_ROOT)).describe(
                    "Directory holding everything the provider creates (databases, secrets, service logs, routes). \
                     Relative paths are resolved against the working directory. Default \".tenantform/local\".",
                ),
            )
            .attr(
                "router_listen",
                AttributeSchema::optional(Type::String).default(Value::string(DEFAULT_ROUTER_LISTEN)).describe(
                    "Address (ip:port) the hostname router listens on; local_hostname URLs use its port. \
                     Default \"127.0.0.1:8080\".",
                ),
            );
        let mut s = ProviderSchema { config, ..Default::default() };
        s.resources.insert("local_sqlite_database".into(), sqlite_database::schema());
        s.resources.insert("local_secret".into(), secret::schema());
        s.resources.insert("local_service".into(), service::schema());
        s.resources.insert("local_hostname".into(), hostname::schema());
        s.data_sources.insert("local_file".into(), file_data::schema());
        s
    }

    async fn configure(&self, config: &Value) -> Result<Arc<dyn ConfiguredProvider>, ProviderError> {
        let a = Attrs::new(config);
        let root = a.str_or("root", DEFAULT_ROOT)?;
        if root.is_empty() {
            return Err(ProviderError::permanent("`root` must not be empty").at(path("root")));
        }
        let listen = a.str_or("router_listen", DEFAULT_ROUTER_LISTEN)?;
        let router_listen: SocketAddr = listen.parse().map_err(|_| {
            ProviderError::permanent(format!("`router_listen` must be an ip:port address, got {listen:?}"))
                .with_help("for example \"127.0.0.1:8080\"")
                .at(path("router_listen"))
        })?;
        Ok(Arc::new(ConfiguredLocal { cfg: Arc::new(LocalConfig::new(root, router_listen)?) }))
    }
}

/// The configured provider: hands out resource types bound to one [`LocalConfig`].
pub struct ConfiguredLocal {
    cfg: Arc<LocalConfig>,
}

impl ConfiguredLocal {
    pub fn new(cfg: LocalConfig) -> Self {
        ConfiguredLocal { cfg: Arc::new(cfg) }
    }
}

impl ConfiguredProvider for ConfiguredLocal {
    fn resource(&self, type_name: &str) -> Option<Arc<dyn ResourceType>> {
        let cfg = self.cfg.clone();
        match type_name {
            "local_sqlite_database" => Some(Arc::new(sqlite_database::SqliteDatabase::new(cfg))),
            "local_secret" => Some(Arc::new(secret::Secret::new(cfg))),
            "local_service" => Some(Arc::new(service::Service::new(cfg))),
            "local_hostname" => Some(Arc::new(hostname::Hostname::new(cfg))),
            _ => None,
        }
    }

    fn data_source(&self, type_name: &str) -> Option<Arc<dyn DataSourceType>> {
        match type_name {
            "local_file" => Some(Arc::new(file_data::LocalFile)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn configure_resolves_root_and_checks_listen() {
        let p = LocalProvider.configure(&Value::map([("root", Value::Null), ("router_listen", Value::Null)])).await;
        assert!(p.is_ok());
        let e =
            LocalProvider.configure(&Value::map([("router_listen", Value::string("localhost"))])).await.err().unwrap();
        assert!(e.summary.contains("ip:port"), "{e}");
        let cfg = LocalConfig::new("rel/dir", DEFAULT_ROUTER_LISTEN.parse().unwrap()).unwrap();
        assert!(cfg.root.is_absolute() && cfg.root.ends_with("rel/dir"));
        for t in ["local_sqlite_database", "local_secret", "local_service", "local_hostname"] {
            assert!(p.as_ref().unwrap().resource(t).is_some(), "{t}");
        }
        assert!(p.unwrap().data_source("local_file").is_some());
    }

    #[test]
    fn names_are_file_safe() {
        assert!(check_name("acme-db_1.main").is_ok());
        for bad in ["", "../x", "a/b", ".hidden", "-x", "a b"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}

//! What every command needs: the stack directory, variable inputs, the provider registry,
//! logging. Resolved once from arguments and the environment; the engine never reads either.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use tenantform_engine::inputs::{env_inputs, InputSources, RawInput};
use tenantform_engine::provider::ProviderRegistry;

use crate::cli::GlobalArgs;

pub struct Ctx {
    /// The stack directory (the working directory after `-chdir`).
    pub dir: PathBuf,
    pub inputs: InputSources,
    pub registry: Arc<ProviderRegistry>,
}

impl Ctx {
    pub fn new(global: &GlobalArgs, args: Vec<RawInput>) -> anyhow::Result<Ctx> {
        if let Some(d) = &global.chdir {
            std::env::set_current_dir(d).with_context(|| format!("cannot change to directory {}", d.display()))?;
        }
        let dir = std::env::current_dir().context("cannot determine the working directory")?;
        let inputs = InputSources { env: env_inputs(std::env::vars()), args, no_auto_files: false };
        let mut registry = ProviderRegistry::new();
        for p in tenantform_providers::all() {
            registry.register(p);
        }
        Ok(Ctx { dir, inputs, registry: Arc::new(registry) })
    }
}

/// Logging: `TENANTFORM_LOG=debug` (or `trace`, `info`, a filter), to stderr or to
/// `TENANTFORM_LOG_PATH`. Off by default.
pub fn init_tracing(_global: &GlobalArgs) {
    let Ok(filter) = std::env::var("TENANTFORM_LOG") else { return };
    let filter =
        tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    match std::env::var("TENANTFORM_LOG_PATH") {
        Ok(path) => {
            if let Ok(file) = std::fs::OpenOptions::new().create(true).append(true).open(&path) {
                builder.with_writer(std::sync::Mutex::new(file)).with_ansi(false).init();
            }
        }
        Err(_) => builder
            .with_writer(std::io::stderr)
            .with_ansi(crate::colour_allowed(std::io::IsTerminal::is_terminal(&std::io::stderr())))
            .init(),
    }
}

//! `tenantform-emulator <kind> [--listen ADDR] [faults…]`: runs one API emulator in the
//! foreground, printing the bound address (`127.0.0.1:PORT`) as the first line on stdout so
//! scripts and tests can read it, then the base URL to configure the provider with.
//! Stops on Ctrl-C or SIGTERM. Every flag can also be set through the environment.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tenantform_emulators::{start, FaultConfig, Kind, Options};

/// Runs a local emulator of a cloud API (neon, cloudflare, secretmanager, cloudrun).
#[derive(Parser, Debug)]
#[command(name = "tenantform-emulator", version)]
struct Args {
    /// Which API: neon, cloudflare, secretmanager, cloudrun.
    kind: Kind,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "TENANTFORM_EMULATOR_LISTEN", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// How long asynchronous work takes (Neon operations, certificate validation), in ms.
    #[arg(long, env = "TENANTFORM_EMULATOR_OPERATION_DELAY_MS", default_value_t = 2000)]
    operation_delay_ms: u64,
    /// Require exactly this bearer token (default: any non-empty token).
    #[arg(long, env = "TENANTFORM_EMULATOR_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Start empty: no seeded project or zone.
    #[arg(long, env = "TENANTFORM_EMULATOR_NO_SEED")]
    no_seed: bool,
    /// Fraction (0..1) of API requests refused with 429/503.
    #[arg(long, env = "TENANTFORM_EMULATOR_ERROR_RATE", default_value_t = 0.0)]
    error_rate: f64,
    /// Statuses used for refusals (comma-separated).
    #[arg(long, env = "TENANTFORM_EMULATOR_ERROR_STATUSES", value_delimiter = ',', default_value = "429,503")]
    error_statuses: Vec<u16>,
    /// `Retry-After` seconds sent with injected 429s.
    #[arg(long, env = "TENANTFORM_EMULATOR_RETRY_AFTER")]
    retry_after: Option<u64>,
    /// Extra latency of every API request, in ms.
    #[arg(long, env = "TENANTFORM_EMULATOR_LATENCY_MS", default_value_t = 0)]
    latency_ms: u64,
    /// Fraction (0..1) of API requests whose connection is dropped before handling.
    #[arg(long, env = "TENANTFORM_EMULATOR_DROP_RATE", default_value_t = 0.0)]
    drop_rate: f64,
    /// Fraction (0..1) of successful changes whose response is lost after committing.
    #[arg(long, env = "TENANTFORM_EMULATOR_DROP_AFTER_COMMIT_RATE", default_value_t = 0.0)]
    drop_after_commit_rate: f64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let faults = FaultConfig {
        error_rate: args.error_rate,
        error_statuses: args.error_statuses,
        retry_after_secs: args.retry_after,
        latency_ms: args.latency_ms,
        drop_rate: args.drop_rate,
        drop_after_commit: 0,
        drop_after_commit_rate: args.drop_after_commit_rate,
    };
    if let Err(e) = faults.validate() {
        let _ = writeln!(std::io::stderr(), "tenantform-emulator: {e}");
        return ExitCode::from(2);
    }
    let options = Options {
        listen: args.listen,
        operation_delay: Duration::from_millis(args.operation_delay_ms),
        token: args.token,
        seed: !args.no_seed,
        faults,
    };
    let (addr, handle) = match start(args.kind, options).await {
        Ok(x) => x,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "tenantform-emulator: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{addr}");
        let _ = writeln!(out, "{} emulator: base URL {}", args.kind, handle.base_url());
        let _ = out.flush();
    }
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return ExitCode::FAILURE,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    handle.shutdown();
    ExitCode::SUCCESS
}

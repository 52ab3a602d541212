//! Hidden `tenantform __router`: the local hostname router process that `local_hostname`
//! starts (a small HTTP reverse proxy routing by Host header).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

#[derive(Args, Debug)]
pub struct RouterArgs {
    /// Directory of route files (hostname → upstream).
    #[arg(long = "routes")]
    pub routes: PathBuf,
    /// Address to listen on.
    #[arg(long = "listen", default_value = "127.0.0.1:8080")]
    pub listen: String,
}

pub fn run(args: RouterArgs) -> anyhow::Result<ExitCode> {
    tenantform_providers::local::router::run_blocking(&args.routes, &args.listen)?;
    Ok(ExitCode::SUCCESS)
}

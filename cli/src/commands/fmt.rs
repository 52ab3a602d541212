//! `tenantform fmt [-check] [-diff] [-recursive] [FILE|DIR…]` (formatter lands with the engine's
//! `fmt` module).

use std::process::ExitCode;

use clap::Args;

use crate::context::Ctx;

#[derive(Args, Debug)]
pub struct FmtArgs {
    /// Exit 3 when files are not formatted; change nothing.
    #[arg(long)]
    pub check: bool,
    /// Print the differences.
    #[arg(long)]
    pub diff: bool,
    /// Files or directories (default: the stack directory).
    pub paths: Vec<std::path::PathBuf>,
}

pub fn run(_args: FmtArgs, _ctx: &Ctx) -> anyhow::Result<ExitCode> {
    anyhow::bail!("fmt is not available yet")
}

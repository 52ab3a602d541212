//! One module per command: clap `Args` plus `run`, which calls into the engine and renders.

pub mod apply;
pub mod console;
pub mod fmt;
pub mod force_unlock;
pub mod graph;
pub mod import;
pub mod output;
pub mod plan;
pub mod router;
pub mod show;
pub mod state;
pub mod tenants;
pub mod validate;

use std::process::ExitCode;

use tenantform_engine::inputs::RawInput;

use crate::cli::{Cli, Command};
use crate::context::Ctx;

pub fn run(cli: Cli, ordered_inputs: Vec<RawInput>) -> anyhow::Result<ExitCode> {
    if let Command::Router(a) = cli.command {
        return router::run(a);
    }
    let ctx = Ctx::new(&cli.global, ordered_inputs)?;
    match cli.command {
        Command::Validate(a) => validate::run(a, &ctx),
        Command::Fmt(a) => fmt::run(a, &ctx),
        Command::Graph(a) => graph::run(a, &ctx),
        Command::Console(a) => console::run(a, &ctx),
        Command::Plan(a) => plan::run(a, &ctx),
        Command::Apply(a) => apply::run(a, &ctx, false),
        Command::Destroy(a) => apply::run_destroy(a, &ctx),
        Command::Show(a) => show::run(a, &ctx),
        Command::Output(a) => output::run(a, &ctx),
        Command::ForceUnlock(a) => force_unlock::run(a, &ctx),
        Command::Import(a) => import::run(a, &ctx),
        Command::State(a) => state::run(a, &ctx),
        Command::Tenants(a) => tenants::run(a, &ctx),
        Command::Drift(a) => tenants::run_drift(a, &ctx),
        Command::Router(_) => unreachable!("handled above"),
    }
}

//! One module per command: clap `Args` plus `run`, which calls into the engine and renders.

pub mod console;
pub mod fmt;
pub mod graph;
pub mod validate;

use std::process::ExitCode;

use tenantform_engine::inputs::RawInput;

use crate::cli::{Cli, Command};
use crate::context::Ctx;

pub fn run(cli: Cli, ordered_inputs: Vec<RawInput>) -> anyhow::Result<ExitCode> {
    let ctx = Ctx::new(&cli.global, ordered_inputs)?;
    match cli.command {
        Command::Validate(a) => validate::run(a, &ctx),
        Command::Fmt(a) => fmt::run(a, &ctx),
        Command::Graph(a) => graph::run(a, &ctx),
        Command::Console(a) => console::run(a, &ctx),
    }
}

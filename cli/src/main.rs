//! The `tenantform` binary: argument parsing and hand-off to one command module each.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;
mod commands;
mod context;
mod diagnostics;
mod render;
mod stack;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let argv = cli::normalize_args(std::env::args_os());
    let ordered_inputs = cli::ordered_var_args(&argv);
    let parsed = cli::Cli::parse_from(argv);
    context::init_tracing(&parsed.global);
    match commands::run(parsed, ordered_inputs) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::from(1)
        }
    }
}

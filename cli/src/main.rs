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

/// A plan holds hundreds of thousands of small values; glibc's allocator spent a quarter of a
/// large apply in malloc/free and consolidation. mimalloc is faster for this pattern.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `-no-color`: the renderers and the logger look at this flag.
static NO_COLOR: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn unsafe_free_set_no_color() {
    NO_COLOR.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Whether output may use colour: a terminal, no `-no-color`, no `NO_COLOR`.
pub fn colour_allowed(terminal: bool) -> bool {
    terminal && !NO_COLOR.load(std::sync::atomic::Ordering::Relaxed) && std::env::var_os("NO_COLOR").is_none()
}

fn main() -> ExitCode {
    // `tenantform show | head`: when the reader goes away, stop quietly (as cat or grep do)
    // instead of panicking in println!.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        default_hook(info);
    }));
    let argv = cli::normalize_args(std::env::args_os());
    let ordered_inputs = cli::ordered_var_args(&argv);
    // Usage errors exit 1 (as in Terraform), never 2, which -detailed-exitcode reserves for
    // "there are changes".
    let parsed = match cli::Cli::try_parse_from(argv) {
        Ok(p) => p,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if parsed.global.no_color {
        unsafe_free_set_no_color();
    }
    for input in &ordered_inputs {
        if let tenantform_engine::inputs::RawInput::Var { name, origin, .. } = input {
            if origin.contains("expected NAME=VALUE") || name.is_empty() {
                eprintln!("Error: invalid {origin}: a variable is set as -var 'NAME=VALUE'");
                return ExitCode::from(1);
            }
        }
    }
    context::init_tracing(&parsed.global);
    match commands::run(parsed, ordered_inputs) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::from(1)
        }
    }
}

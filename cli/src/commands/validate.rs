//! `tenantform validate`.

use std::process::ExitCode;

use clap::Args;
use tenantform_engine::config::LoadOptions;
use tenantform_engine::validate::{prepare, validate};

use crate::cli::VarArgs;
use crate::context::Ctx;
use crate::diagnostics::report;

#[derive(Args, Debug)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub vars: VarArgs,
}

pub fn run(_args: ValidateArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let prepared = match prepare(&ctx.dir, &ctx.inputs, true, &LoadOptions::default()) {
        Ok(p) => p,
        Err((sources, diags)) => {
            report(&diags, &sources);
            return Ok(ExitCode::from(1));
        }
    };
    let mut diags = prepared.warnings.clone();
    diags.extend(validate(&prepared.stack, &prepared.graph, &ctx.registry));
    if report(&diags, &prepared.sources) {
        return Ok(ExitCode::from(1));
    }
    let tenants = prepared.stack.tenants.len();
    println!(
        "Success! The configuration is valid ({} resource instance{}, {tenants} tenant{}).",
        prepared.stack.resources.len(),
        if prepared.stack.resources.len() == 1 { "" } else { "s" },
        if tenants == 1 { "" } else { "s" }
    );
    Ok(ExitCode::SUCCESS)
}

//! `tenantform graph [--tenant SLUG]…`: DOT output of the resource instance graph.

use std::process::ExitCode;

use clap::Args;
use tenantform_engine::config::LoadOptions;
use tenantform_engine::validate::prepare;

use crate::cli::VarArgs;
use crate::context::Ctx;
use crate::diagnostics::report;

#[derive(Args, Debug)]
pub struct GraphArgs {
    /// Only this tenant's resources (and the shared resources they depend on). Repeatable.
    #[arg(long = "tenant", value_name = "SLUG")]
    pub tenant: Vec<String>,
    #[command(flatten)]
    pub vars: VarArgs,
}

pub fn run(args: GraphArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let p = match prepare(&ctx.dir, &ctx.inputs, true, &LoadOptions::default()) {
        Ok(p) => p,
        Err((sources, diags)) => {
            report(&diags, &sources);
            return Ok(ExitCode::from(1));
        }
    };
    report(&p.warnings, &p.sources);
    for t in &args.tenant {
        if !p.stack.tenants.contains_key(t) {
            eprintln!(
                "Error: no tenant \"{t}\" in this stack (tenants: {})",
                p.stack.tenants.keys().cloned().collect::<Vec<_>>().join(", ")
            );
            return Ok(ExitCode::from(1));
        }
    }
    let dot = if args.tenant.is_empty() {
        p.graph.to_dot(&p.stack, None)
    } else {
        let stack = &p.stack;
        let keep = |ri: usize| stack.resources[ri].addr.tenant().is_some_and(|t| args.tenant.iter().any(|x| x == t));
        p.graph.to_dot(stack, Some(&keep))
    };
    print!("{dot}");
    Ok(ExitCode::SUCCESS)
}

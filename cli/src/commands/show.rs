//! `tenantform show [-json] [PLANFILE]`: a saved plan, or the current state.

use std::process::ExitCode;

use clap::Args;
use tenantform_engine::plan::Plan;
use tenantform_engine::state::PartitionFilter;

use crate::context::Ctx;
use crate::render::json::{plan_json, redacted};
use crate::render::plan::{render_plan, render_value};
use crate::stack::{load_state, open_backend, prepare_stack, state_settings};

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// A plan file saved with `plan -out`.
    pub plan_file: Option<std::path::PathBuf>,
    /// Machine-readable output (sensitive values redacted).
    #[arg(long = "json")]
    pub json: bool,
    /// Only this tenant's objects (state view).
    #[arg(long = "tenant", value_name = "SLUG")]
    pub tenant: Option<String>,
}

pub fn run(args: ShowArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.plan_file {
        let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let plan = Plan::from_bytes(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        if args.json {
            println!("{}", plan_json(&plan));
        } else {
            print!("{}", render_plan(&plan));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let Some(p) = prepare_stack(ctx, true) else { return Ok(ExitCode::from(1)) };
    let backend = open_backend(&state_settings(&p, &ctx.dir)?)?;
    let rt = tokio::runtime::Runtime::new()?;
    let state = rt.block_on(load_state(&backend, PartitionFilter::All))?;
    let wanted = |t: Option<&str>| args.tenant.as_deref().is_none_or(|x| t == Some(x));
    if args.json {
        let resources: Vec<serde_json::Value> = state
            .resources
            .values()
            .filter(|r| wanted(r.addr.tenant()))
            .map(|r| {
                serde_json::json!({
                    "address": r.addr.to_string(),
                    "tenant": r.addr.tenant(),
                    "type": r.addr.resource.ty,
                    "name": r.addr.resource.name,
                    "provider_name": r.provider,
                    "status": r.status,
                    "values": redacted(&r.value),
                    "depends_on": r.dependencies.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({ "format_version": "1.0", "lineage": state.lineage, "serial": state.serial, "resources": resources })
        );
        return Ok(ExitCode::SUCCESS);
    }
    if state.resources.is_empty() {
        println!("The state is empty.");
        return Ok(ExitCode::SUCCESS);
    }
    for r in state.resources.values().filter(|r| wanted(r.addr.tenant())) {
        println!("# {}:", r.addr);
        println!("resource \"{}\" \"{}\" {}", r.addr.resource.ty, r.addr.resource.name, render_value(&r.value, 2));
        println!();
    }
    Ok(ExitCode::SUCCESS)
}

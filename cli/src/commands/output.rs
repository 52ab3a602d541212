//! `tenantform output [NAME] [-json] [-raw] [--tenant SLUG]`: output values from state.

use std::process::ExitCode;

use clap::Args;
use tenantform_engine::address::{ModuleAddr, ModuleStep};
use tenantform_engine::state::PartitionFilter;

use crate::context::Ctx;
use crate::render::plan::render_value;
use crate::stack::{load_state, open_backend, prepare_stack, state_settings};

#[derive(Args, Debug)]
pub struct OutputArgs {
    /// One output's name.
    pub name: Option<String>,
    /// JSON output (sensitive values included only when a single output is named, as in Terraform).
    #[arg(long = "json")]
    pub json: bool,
    /// Print a single string output without quotes.
    #[arg(long = "raw")]
    pub raw: bool,
    /// A tenant's outputs instead of the root module's.
    #[arg(long = "tenant", value_name = "SLUG")]
    pub tenant: Option<String>,
}

pub fn run(args: OutputArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let Some(p) = prepare_stack(ctx, true) else { return Ok(ExitCode::from(1)) };
    let backend = open_backend(&state_settings(&p, &ctx.dir)?)?;
    let rt = tokio::runtime::Runtime::new()?;
    let state = rt.block_on(load_state(&backend, PartitionFilter::All))?;
    let module = match &args.tenant {
        Some(t) => ModuleAddr(vec![ModuleStep::Tenant(t.clone())]),
        None => ModuleAddr::root(),
    };
    let outputs: Vec<_> = state.outputs.values().filter(|o| o.module == module && !o.name.starts_with("__")).collect();
    if let Some(name) = &args.name {
        let Some(o) = outputs.iter().find(|o| &o.name == name) else {
            eprintln!(
                "Error: output \"{name}\" not found{}",
                if outputs.is_empty() { " (the state has no outputs; run apply)" } else { "" }
            );
            return Ok(ExitCode::from(1));
        };
        if args.raw {
            match o.value.unmarked().0.to_interp_string() {
                Some(s) => print!("{s}"),
                None => anyhow::bail!("-raw works only for strings, numbers and bools; use -json"),
            }
        } else if args.json {
            println!("{}", o.value.unmarked().0.clone().unmark_deep().to_json());
        } else {
            println!("{}", render_value(&o.value.clone().unmark_deep(), 2));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.json {
        let m: serde_json::Map<String, serde_json::Value> = outputs
            .iter()
            .map(|o| {
                let v = if o.sensitive { serde_json::Value::Null } else { o.value.to_json() };
                (o.name.clone(), serde_json::json!({ "sensitive": o.sensitive, "value": v }))
            })
            .collect();
        println!("{}", serde_json::Value::Object(m));
        return Ok(ExitCode::SUCCESS);
    }
    let width = outputs.iter().map(|o| o.name.len()).max().unwrap_or(0);
    for o in outputs {
        let shown = if o.sensitive { "<sensitive>".to_string() } else { render_value(&o.value, 2) };
        println!("{:<width$} = {shown}", o.name);
    }
    Ok(ExitCode::SUCCESS)
}

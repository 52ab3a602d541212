//! `tenantform plan`: computes and shows a plan; `-out FILE` saves it for `apply FILE`.

use std::io::Write as _;
use std::process::ExitCode;

use clap::Args;
use tenantform_engine::address::{InstanceAddr, Target};
use tenantform_engine::ops;
use tenantform_engine::plan::planner::PlanOptions;
use tenantform_engine::plan::PlanMode;
use tokio_util::sync::CancellationToken;

use crate::cli::VarArgs;
use crate::context::Ctx;
use crate::diagnostics::report;
use crate::render::json::plan_json;
use crate::render::plan::render_plan;
use crate::stack::{open_stack, prepare_stack};

/// Flags shared by plan, apply and destroy.
#[derive(Args, Debug, Clone)]
pub struct PlanFlags {
    /// Only this resource, module or tenant address (and what it depends on). Repeatable.
    #[arg(long = "target", value_name = "ADDRESS")]
    pub target: Vec<String>,
    /// Only this tenant (and the shared resources it depends on). Repeatable.
    #[arg(long = "tenant", value_name = "SLUG")]
    pub tenant: Vec<String>,
    /// Plan to replace this resource instance even if nothing changed. Repeatable.
    #[arg(long = "replace", value_name = "ADDRESS")]
    pub replace: Vec<String>,
    /// Read every object through its provider before planning (default true).
    #[arg(long = "refresh", value_name = "BOOL", default_value = "true", action = clap::ArgAction::Set)]
    pub refresh: bool,
    /// Only record changes made outside tenantform; change no infrastructure.
    #[arg(long = "refresh-only")]
    pub refresh_only: bool,
    /// Provider calls to run at once (default 64; see docs/cli.md for why).
    #[arg(long = "parallelism", value_name = "N", default_value_t = 64)]
    pub parallelism: usize,
    #[command(flatten)]
    pub vars: VarArgs,
}

impl PlanFlags {
    pub fn options(&self, destroy: bool) -> anyhow::Result<PlanOptions> {
        let mut targets = Vec::new();
        for t in &self.target {
            targets.push(t.parse::<Target>().map_err(|e| anyhow::anyhow!("-target: {e}"))?);
        }
        let mut replace = Vec::new();
        for r in &self.replace {
            replace.push(r.parse::<InstanceAddr>().map_err(|e| anyhow::anyhow!("-replace: {e}"))?);
        }
        for t in &self.tenant {
            if let Err(e) = tenantform_engine::config::validate_slug(t, &[]) {
                anyhow::bail!("--tenant {t}: {}", e.message);
            }
        }
        let mode = if destroy {
            PlanMode::Destroy
        } else if self.refresh_only {
            PlanMode::RefreshOnly
        } else {
            PlanMode::Normal
        };
        if self.parallelism == 0 {
            anyhow::bail!("-parallelism must be at least 1");
        }
        Ok(PlanOptions {
            mode,
            targets,
            tenants: self.tenant.clone(),
            replace,
            refresh: self.refresh,
            parallelism: self.parallelism,
            ..PlanOptions::default()
        })
    }
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub flags: PlanFlags,
    /// Plan to destroy every object in scope.
    #[arg(long = "destroy")]
    pub destroy: bool,
    /// Save the plan to this file (apply it with `tenantform apply FILE`).
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    /// Print the plan as JSON (docs/json-format.md).
    #[arg(long = "json")]
    pub json: bool,
    /// Exit 0 when there are no changes, 2 when there are, 1 on error.
    #[arg(long = "detailed-exitcode")]
    pub detailed_exitcode: bool,
    /// Write resource blocks for import targets that have none to this new file.
    #[arg(long = "generate-config-out", value_name = "FILE")]
    pub generate_config_out: Option<std::path::PathBuf>,
}

pub fn run(args: PlanArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let opts = args.flags.options(args.destroy)?;
    if let Some(path) = &args.generate_config_out {
        match generate_config(ctx, path)? {
            Some(code) => return Ok(code),
            None => {}
        }
    }
    let Some(p) = prepare_stack(ctx, false) else { return Ok(ExitCode::from(1)) };
    for t in &opts.tenants {
        if !p.stack.tenants.contains_key(t) && !args.destroy {
            eprintln!("Warning: tenant \"{t}\" is not in the configuration; only its stored objects are considered.");
        }
    }
    let stack = open_stack(ctx, p)?;
    let rt = tokio::runtime::Runtime::new()?;
    let result = rt.block_on(ops::plan(&stack, opts, CancellationToken::new()));
    let p = &stack.prepared;
    let out = match result {
        Ok(o) => o,
        Err(diags) => {
            report(&diags, &p.sources);
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({ "errored": true, "diagnostics": diags.iter().map(|d| d.to_string()).collect::<Vec<_>>() })
                );
            }
            return Ok(ExitCode::from(1));
        }
    };
    report(&out.warnings, &p.sources);
    let plan = out.plan;
    if args.json {
        println!("{}", plan_json(&plan));
    } else {
        print!("{}", render_plan(&plan));
    }
    if let Some(path) = &args.out {
        write_plan_file(path, &plan.to_bytes())?;
        if !args.json {
            println!(
                "\nSaved the plan to: {}\n\nTo perform exactly these actions, run:\n    tenantform apply {}",
                path.display(),
                path.display()
            );
        }
    }
    let code = if args.detailed_exitcode && plan.has_changes() { 2 } else { 0 };
    Ok(ExitCode::from(code))
}

/// Writes a plan file readable only by the owner: it contains sensitive values.
pub fn write_plan_file(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot write plan file {}: {e}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

/// `-generate-config-out`: writes resource blocks for import targets the configuration lacks.
/// Returns an exit code when planning should not go on.
fn generate_config(ctx: &Ctx, path: &std::path::Path) -> anyhow::Result<Option<ExitCode>> {
    use tenantform_engine::generate::generate_import_config;
    use tenantform_engine::plan::planner::resolve_import_blocks;
    use tenantform_engine::runtime::Schemas;
    if path.exists() {
        eprintln!(
            "Error: {} already exists; -generate-config-out writes a new file and never overwrites one.",
            path.display()
        );
        return Ok(Some(ExitCode::from(1)));
    }
    // Variables the generated blocks will need do not exist yet: load leniently.
    let Some(p) = prepare_stack(ctx, true) else { return Ok(Some(ExitCode::from(1))) };
    let schemas = Schemas::new(ctx.registry.clone());
    let targets = match resolve_import_blocks(&p, &schemas) {
        Ok(t) => t,
        Err(d) => {
            report(&d, &p.sources);
            return Ok(Some(ExitCode::from(1)));
        }
    };
    let missing: Vec<_> =
        targets.into_iter().filter(|(a, _, _)| !p.stack.by_addr.contains_key(a)).map(|(a, id, _)| (a, id)).collect();
    if missing.is_empty() {
        return Ok(None);
    }
    let rt = tokio::runtime::Runtime::new()?;
    let generated = match rt.block_on(generate_import_config(&p, &schemas, &missing)) {
        Ok(g) => g,
        Err(d) => {
            report(&d, &p.sources);
            return Ok(Some(ExitCode::from(1)));
        }
    };
    let text: Vec<String> = generated.iter().map(|g| g.text.clone()).collect();
    std::fs::write(path, text.join("\n")).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    println!(
        "Generated configuration for {} import target(s) in {}: review it before applying.",
        generated.len(),
        path.display()
    );
    let vars: Vec<&str> = text
        .iter()
        .flat_map(|t| t.lines())
        .filter_map(|l| l.strip_prefix("variable \""))
        .filter_map(|l| l.split('"').next())
        .collect();
    if !vars.is_empty() {
        println!("It declares sensitive variables you must set (e.g. TENANTFORM_VAR_<name>): {}", vars.join(", "));
    }
    println!();
    Ok(None)
}

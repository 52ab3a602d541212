//! `tenantform apply [PLANFILE]` and `tenantform destroy`: plan (or read a saved plan), show
//! it, confirm, lock exactly the partitions it touches, apply, report.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use tenantform_engine::apply::{apply, ApplyInput, ApplyOptions, Committer};
use tenantform_engine::config::{load_with_sources, LoadOptions};
use tenantform_engine::diagnostics::Diagnostics;
use tenantform_engine::plan::{Plan, PlanMode};
use tenantform_engine::runtime::{ConfiguredProviders, Schemas};
use tenantform_engine::state::PartitionFilter;
use tenantform_engine::validate::{prepare_config, Prepared};
use tokio_util::sync::CancellationToken;

use super::plan::PlanFlags;
use crate::context::Ctx;
use crate::diagnostics::report;
use crate::render::json::plan_json;
use crate::render::plan::{render_plan, render_value};
use crate::render::progress::Progress;
use crate::stack::{
    load_state, lock, make_plan, open_backend, parse_duration, partition_filter, prepare_stack, state_location, unlock,
};

#[derive(Args, Debug)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub flags: PlanFlags,
    /// A plan saved with `plan -out`; applied exactly, refused if the state moved on.
    pub plan_file: Option<std::path::PathBuf>,
    /// Skip the interactive approval.
    #[arg(long = "auto-approve")]
    pub auto_approve: bool,
    /// Emit one JSON event per line instead of text.
    #[arg(long = "json")]
    pub json: bool,
    /// How long to wait for a state lock held by someone else (e.g. 30s).
    #[arg(long = "lock-timeout", value_name = "DURATION", default_value = "0s")]
    pub lock_timeout: String,
    /// Destroy what was created for a new tenant whose first provisioning failed (tenants that
    /// were already active are never rolled back).
    #[arg(long = "rollback-on-failure")]
    pub rollback_on_failure: bool,
}

#[derive(Args, Debug)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub flags: PlanFlags,
    #[arg(long = "auto-approve")]
    pub auto_approve: bool,
    #[arg(long = "json")]
    pub json: bool,
    #[arg(long = "lock-timeout", value_name = "DURATION", default_value = "0s")]
    pub lock_timeout: String,
}

pub fn run_destroy(args: DestroyArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    run(
        ApplyArgs {
            flags: args.flags,
            plan_file: None,
            auto_approve: args.auto_approve,
            json: args.json,
            lock_timeout: args.lock_timeout,
            rollback_on_failure: false,
        },
        ctx,
        true,
    )
}

fn saved_plan(path: &std::path::Path) -> anyhow::Result<(Plan, Prepared)> {
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read plan file {}: {e}", path.display()))?;
    let plan = Plan::from_bytes(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let loaded = load_with_sources(&plan.dir, &LoadOptions { files: Some(plan.config_files.clone()) });
    let Some(config) = loaded.config else {
        report(&loaded.diags, &loaded.sources);
        anyhow::bail!("the configuration saved in the plan no longer loads");
    };
    match prepare_config(Arc::new(loaded.sources), config, plan.variables.clone(), false, loaded.diags) {
        Ok(p) => Ok((plan, p)),
        Err((sources, diags)) => {
            report(&diags, &sources);
            anyhow::bail!("the configuration saved in the plan is invalid")
        }
    }
}

fn confirm(destroy: bool) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "no terminal to ask for approval: run with -auto-approve to {} without confirmation (e.g. in CI)",
            if destroy { "destroy" } else { "apply" }
        );
    }
    if destroy {
        print!("\nDo you really want to destroy these objects?\n  Tenantform will destroy the objects described above.\n  There is no undo. Only 'yes' will be accepted to confirm.\n\n  Enter a value: ");
    } else {
        print!("\nDo you want to perform these actions?\n  Tenantform will perform the actions described above.\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ");
    }
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim() == "yes")
}

pub fn run(args: ApplyArgs, ctx: &Ctx, destroy: bool) -> anyhow::Result<ExitCode> {
    let lock_timeout = parse_duration(&args.lock_timeout)?;
    let started = Instant::now();
    let (mut plan_opt, p) = match &args.plan_file {
        Some(path) => {
            let (plan, p) = saved_plan(path)?;
            (Some(plan), p)
        }
        None => match prepare_stack(ctx, false) {
            Some(p) => (None, p),
            None => return Ok(ExitCode::from(1)),
        },
    };
    let opts = args.flags.options(destroy)?;
    let backend = open_backend(&state_location(&p, &ctx.dir)?)?;
    let rt = tokio::runtime::Runtime::new()?;
    let progress = Arc::new(Progress::new(args.json));
    rt.block_on(async move {
        let filter = match &plan_opt {
            Some(plan) => partition_filter(&plan.tenants),
            None => partition_filter(&opts.tenants),
        };
        let state = load_state(&backend, filter).await?;
        let stop = CancellationToken::new();
        let kill = CancellationToken::new();
        {
            let (stop, kill) = (stop.clone(), kill.clone());
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    eprintln!("\nInterrupt received. Gracefully shutting down: running operations finish and are recorded; press Ctrl-C again to abandon them.");
                    stop.cancel();
                    if tokio::signal::ctrl_c().await.is_ok() {
                        eprintln!("\nTwo interrupts received. Abandoning running operations; state keeps what finished.");
                        kill.cancel();
                    }
                }
            });
        }
        let saved = plan_opt.take();
        let operation = if destroy { "destroy" } else { "apply" };
        let mut state = state;
        let mut attempt = 0;
        let (plan, providers, guard) = loop {
            attempt += 1;
            let (plan, providers) = match &saved {
                Some(plan) => {
                    // A store never written has a lineage that is not persisted yet: nothing to compare.
                    let made_against_empty = plan.partition_serials.values().all(|s| *s == 0);
                    if state.serial != 0 && !made_against_empty && state.lineage != plan.lineage {
                        eprintln!("Error: the saved plan was made for a different state (lineage {} vs {}).", plan.lineage, state.lineage);
                        return Ok(ExitCode::from(1));
                    }
                    (plan.clone(), ConfiguredProviders::default())
                }
                None => match make_plan(ctx, &p, &state, opts.clone(), stop.clone()).await {
                    Ok(out) => {
                        report(&out.warnings, &p.sources);
                        (out.plan, out.providers)
                    }
                    Err(diags) => {
                        report(&diags, &p.sources);
                        return Ok(ExitCode::from(1));
                    }
                },
            };
            if args.json {
                progress.json_line(serde_json::json!({ "type": "plan", "plan": plan_json(&plan) }));
            } else {
                print!("{}", render_plan(&plan));
            }
            if !plan.has_changes() {
                if !args.json {
                    println!("\nApply complete! Resources: 0 added, 0 changed, 0 destroyed.");
                }
                return Ok(ExitCode::SUCCESS);
            }
            if saved.is_none() && !args.auto_approve {
                let ok = tokio::task::block_in_place(|| confirm(destroy))?;
                if !ok {
                    eprintln!("\n{} cancelled.", if destroy { "Destroy" } else { "Apply" });
                    return Ok(ExitCode::from(1));
                }
            }
            // Lock exactly the partitions the plan touches, then make sure nobody moved them on
            // since they were read.
            let parts = plan.touched_partitions();
            let guard = match lock(&backend, parts.clone(), operation, lock_timeout).await {
                Ok(g) => g,
                Err(d) => {
                    report(&Diagnostics::from(d), &p.sources);
                    return Ok(ExitCode::from(1));
                }
            };
            let current = {
                let b = backend.clone();
                tokio::task::spawn_blocking(move || b.partition_serials()).await?
            };
            let stale: Vec<String> = match &current {
                Ok(now) => parts
                    .iter()
                    .filter(|part| now.get(part).copied().unwrap_or(0) != plan.partition_serials.get(part).copied().unwrap_or(0))
                    .map(|part| part.to_string())
                    .collect(),
                Err(e) => vec![format!("(cannot read serials: {e})")],
            };
            if stale.is_empty() {
                break (plan, providers, guard);
            }
            unlock(&backend, guard).await;
            if saved.is_some() || attempt >= 5 {
                eprintln!(
                    "Error: the state changed since this plan was made ({}). The plan is stale: run plan again.",
                    stale.join(", ")
                );
                return Ok(ExitCode::from(1));
            }
            eprintln!("\nThe state of {} changed while this plan was made (another apply finished); planning again.\n", stale.join(", "));
            state = load_state(&backend, partition_filter(&opts.tenants)).await?;
        };
        let committer = Committer::start(backend.clone(), guard, operation);
        let state = if args.plan_file.is_some() { load_state(&backend, PartitionFilter::All).await? } else { state };
        let input = ApplyInput {
            prepared: &p,
            plan: &plan,
            schemas: Schemas::new(ctx.registry.clone()),
            providers,
            state: &state,
            commits: committer.handle(),
            observer: progress.clone(),
            options: ApplyOptions {
                parallelism: args.flags.parallelism,
                rollback_on_failure: args.rollback_on_failure,
                ..ApplyOptions::default()
            },
        };
        if !args.json {
            println!();
        }
        let outcome = apply(input, stop.clone(), kill).await;
        let finished = tokio::task::spawn_blocking(move || committer.finish()).await?;
        let stats = finished.as_ref().map(|(_, s)| *s).unwrap_or_default();
        if let Some((guard, _)) = finished {
            unlock(&backend, guard).await;
        }
        report(&outcome.diags, &p.sources);
        let elapsed = started.elapsed();
        if args.json {
            progress.json_line(serde_json::json!({
                "type": "summary",
                "added": outcome.added, "changed": outcome.changed, "destroyed": outcome.destroyed,
                "failed": outcome.failed.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                "skipped": outcome.skipped.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                "interrupted": outcome.interrupted,
                "rolled_back": outcome.rolled_back,
                "state_commits": stats.transactions, "state_changes": stats.changes,
                "elapsed_seconds": elapsed.as_secs_f64(),
            }));
        } else {
            let verb = if destroy { "Destroy" } else { "Apply" };
            if outcome.succeeded() {
                if destroy {
                    println!("\n{verb} complete! Resources: {} destroyed.", outcome.destroyed);
                } else {
                    // As Terraform: imports are counted first, and only when there are any.
                    let imported = plan.changes.iter().filter(|c| c.import_id.is_some()).count();
                    let imported = if imported > 0 { format!("{imported} imported, ") } else { String::new() };
                    println!(
                        "\n{verb} complete! Resources: {imported}{} added, {} changed, {} destroyed.",
                        outcome.added, outcome.changed, outcome.destroyed
                    );
                }
            } else {
                println!(
                    "\n{verb} {}: {} added, {} changed, {} destroyed; {} failed, {} skipped.",
                    if outcome.interrupted { "interrupted" } else { "failed" },
                    outcome.added,
                    outcome.changed,
                    outcome.destroyed,
                    outcome.failed.len(),
                    outcome.skipped.len()
                );
                for a in &outcome.failed {
                    println!("  failed:  {a}");
                }
                for a in &outcome.skipped {
                    println!("  skipped: {a}");
                }
                for (t, n) in &outcome.rolled_back {
                    println!("  rolled back: tenant {t} ({n} object(s) created by this apply destroyed; `tenantform tenants` shows it as failed)");
                }
                println!("State records everything that finished; run apply again to continue.");
            }
            if plan.mode != PlanMode::Destroy && !outcome.outputs.is_empty() {
                println!("\nOutputs:\n");
                let width = outcome.outputs.keys().map(String::len).max().unwrap_or(0);
                for (k, v) in &outcome.outputs {
                    let shown = if v.is_sensitive() { "<sensitive>".to_string() } else { render_value(v, 2) };
                    println!("{k:<width$} = {shown}");
                }
            }
        }
        Ok(if outcome.succeeded() { ExitCode::SUCCESS } else { ExitCode::from(1) })
    })
}

//! `tenantform apply [PLANFILE]` and `tenantform destroy`: plan (or read a saved plan), show
//! it, confirm, lock exactly the partitions it touches, apply, report.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use tenantform_engine::apply::{ApplyEvent, ApplyObserver, ApplyOptions};
use tenantform_engine::config::{load_with_sources, LoadOptions};
use tenantform_engine::diagnostics::Diagnostics;
use tenantform_engine::ops::{self, ApplyError, ApplyHooks, ApplyRequest};
use tenantform_engine::plan::{Plan, PlanMode};
use tenantform_engine::validate::{prepare_config, Prepared};
use tokio_util::sync::CancellationToken;

use super::plan::PlanFlags;
use crate::context::Ctx;
use crate::diagnostics::report;
use crate::render::json::plan_json;
use crate::render::plan::{render_plan, render_value};
use crate::render::progress::Progress;
use crate::stack::{open_stack, parse_duration, prepare_stack};

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

/// What the apply operation tells the terminal: the plan, approval, re-plans, progress.
struct CliHooks {
    progress: Arc<Progress>,
    json: bool,
    auto_approve: bool,
    destroy: bool,
    sources: Arc<tenantform_engine::diagnostics::Sources>,
}

impl ApplyObserver for CliHooks {
    fn event(&self, e: ApplyEvent) {
        self.progress.event(e)
    }
}

impl ApplyHooks for CliHooks {
    fn planned(&self, plan: &Plan, round: usize, warnings: &Diagnostics) {
        report(warnings, &self.sources);
        if round > 1 {
            if self.json {
                self.progress.json_line(serde_json::json!({ "type": "round", "round": round }));
            } else {
                println!("\nRound {round}: planning what the previous round deferred.\n");
            }
        }
        if self.json {
            self.progress.json_line(serde_json::json!({ "type": "plan", "round": round, "plan": plan_json(plan) }));
        } else {
            print!("{}", render_plan(plan));
        }
    }

    fn approve(&self, _plan: &Plan) -> bool {
        if self.auto_approve {
            return true;
        }
        match tokio::task::block_in_place(|| confirm(self.destroy)) {
            Ok(ok) => ok,
            Err(e) => {
                eprintln!("Error: {e}");
                false
            }
        }
    }

    fn replanning(&self, stale: &[tenantform_engine::state::Partition]) {
        let names: Vec<String> = stale.iter().map(|p| p.to_string()).collect();
        eprintln!(
            "\nThe state of {} changed while this plan was made (another apply finished); planning again.\n",
            names.join(", ")
        );
    }

    fn applying(&self, _round: usize) {
        if !self.json {
            println!();
        }
    }
}

pub fn run(args: ApplyArgs, ctx: &Ctx, destroy: bool) -> anyhow::Result<ExitCode> {
    let lock_timeout = parse_duration(&args.lock_timeout)?;
    let started = Instant::now();
    let (saved, p) = match &args.plan_file {
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
    let stack = open_stack(ctx, p)?;
    let rt = tokio::runtime::Runtime::new()?;
    let progress = Arc::new(Progress::new(args.json));
    let hooks = Arc::new(CliHooks {
        progress: progress.clone(),
        json: args.json,
        auto_approve: args.auto_approve,
        destroy,
        sources: stack.prepared.sources.clone(),
    });
    rt.block_on(async move {
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
        let mut req = ApplyRequest::new(
            opts,
            ApplyOptions {
                parallelism: args.flags.parallelism,
                rollback_on_failure: args.rollback_on_failure,
                ..ApplyOptions::default()
            },
        );
        req.saved = saved;
        req.lock_timeout = lock_timeout;
        req.operation = if destroy { "destroy" } else { "apply" }.into();
        let r = ops::apply(&stack, req, hooks.clone(), stop, kill).await;
        let rep = match r {
            Ok(rep) => rep,
            Err(ApplyError::Declined) => {
                eprintln!("\n{} cancelled.", if destroy { "Destroy" } else { "Apply" });
                return Ok(ExitCode::from(1));
            }
            Err(ApplyError::Failed(diags)) => {
                report(&diags, &stack.prepared.sources);
                return Ok(ExitCode::from(1));
            }
        };
        if rep.rounds == 0 {
            if !args.json {
                println!("\nApply complete! Resources: 0 added, 0 changed, 0 destroyed.");
            }
            return Ok(ExitCode::SUCCESS);
        }
        let outcome = &rep.outcome;
        report(&outcome.diags, &stack.prepared.sources);
        report(&rep.warnings, &stack.prepared.sources);
        let elapsed = started.elapsed();
        let stats = rep.stats;
        let plan_mode = rep.plan.as_ref().map(|p| p.mode).unwrap_or_default();
        if args.json {
            progress.json_line(serde_json::json!({
                "type": "summary",
                "imported": outcome.imported, "added": outcome.added, "changed": outcome.changed, "destroyed": outcome.destroyed,
                "failed": outcome.failed.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                "skipped": outcome.skipped.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                "deferred": rep.deferred.iter().map(|d| serde_json::json!({"address": d.addr.to_string(), "reason": d.reason.describe()})).collect::<Vec<_>>(),
                "interrupted": outcome.interrupted,
                "rolled_back": outcome.rolled_back,
                "rounds": rep.rounds,
                "state_commits": stats.transactions, "state_changes": stats.changes,
                "elapsed_seconds": elapsed.as_secs_f64(),
                "apply_seconds": rep.apply_time.as_secs_f64(),
            }));
        } else {
            let verb = if destroy { "Destroy" } else { "Apply" };
            if outcome.succeeded() {
                if destroy {
                    println!("\n{verb} complete! Resources: {} destroyed.", outcome.destroyed);
                } else {
                    let imported = if outcome.imported > 0 { format!("{} imported, ", outcome.imported) } else { String::new() };
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
            if !rep.deferred.is_empty() {
                println!("\n{} instance(s) could not be planned yet:", rep.deferred.len());
                for d in &rep.deferred {
                    println!("  deferred: {} ({})", d.addr, d.reason.describe());
                }
            }
            if plan_mode != PlanMode::Destroy && !outcome.outputs.is_empty() {
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

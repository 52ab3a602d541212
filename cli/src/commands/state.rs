//! `tenantform state …`: inspect and change state records without touching infrastructure —
//! list, show, mv, rm, pull, push, migrate, history, rollback. Changes take the locks of every
//! partition they write and are recorded in the state history.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use tenantform_engine::address::Target;
use tenantform_engine::diagnostics::Diagnostics;
use tenantform_engine::refactor::{matching, move_changes, plan_move};
use tenantform_engine::state::{Change, LockGuard, Partition, PartitionFilter, StateBackend, StateSnapshot};

use crate::context::Ctx;
use crate::diagnostics::report;
use crate::render::json::redacted;
use crate::render::plan::render_value;
use crate::stack::{
    load_state, lock, open_backend, open_backend_at, parse_duration, prepare_stack, state_settings, unlock,
};

#[derive(Args, Debug)]
pub struct StateArgs {
    #[command(subcommand)]
    pub command: StateCommand,
}

#[derive(Subcommand, Debug)]
pub enum StateCommand {
    /// List resource instances in state.
    List {
        /// Only instances matching these addresses (resources, modules, tenants).
        patterns: Vec<String>,
        /// Only this tenant.
        #[arg(long = "tenant", value_name = "SLUG")]
        tenant: Option<String>,
    },
    /// Show one instance's attributes (sensitive values hidden).
    Show { address: String },
    /// Rename objects in state (a resource, an instance, a module instance, a whole tenant).
    Mv {
        source: String,
        destination: String,
        /// Show what would move; change nothing.
        #[arg(long = "dry-run")]
        dry_run: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Forget objects without destroying them.
    Rm {
        addresses: Vec<String>,
        #[arg(long = "dry-run")]
        dry_run: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Print the whole state as JSON (it contains sensitive values).
    Pull,
    /// Replace the state with a JSON document from `state pull` (lineage-checked).
    Push {
        /// A file, or `-` for stdin.
        file: String,
        /// Accept a different lineage (overwrites another stack's state).
        #[arg(long = "force")]
        force: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// List the versions of the state (newest first).
    History {
        /// How many entries.
        #[arg(short = 'n', long = "limit", default_value_t = 20)]
        limit: usize,
    },
    /// Copy this stack's state to another backend (SQLite ⇄ PostgreSQL), lineage preserved.
    Migrate {
        /// Where to copy to: a path, sqlite:///path, or postgres://…?stack=NAME.
        #[arg(long = "to", value_name = "URL")]
        to: String,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Restore the state as it was at SERIAL, as a new version.
    Rollback {
        serial: u64,
        #[arg(long = "auto-approve")]
        auto_approve: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
}

#[derive(Args, Debug, Clone)]
pub struct LockArgs {
    #[arg(long = "lock-timeout", value_name = "DURATION", default_value = "0s")]
    pub lock_timeout: String,
}

fn target(s: &str) -> anyhow::Result<Target> {
    s.parse::<Target>().map_err(|e| anyhow::anyhow!("{e}"))
}

/// Takes the locks of every partition the state knows plus `extra` (commands that rewrite
/// records lock everything, as Terraform does), then reads the state under them, so nothing
/// another apply writes meanwhile is lost.
async fn lock_all(
    backend: &Arc<dyn StateBackend>,
    extra: Vec<Partition>,
    operation: &str,
    timeout: Duration,
) -> anyhow::Result<Option<(Box<dyn LockGuard>, StateSnapshot)>> {
    let b = backend.clone();
    let known =
        tokio::task::spawn_blocking(move || b.partition_serials()).await?.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut parts: Vec<Partition> = known.into_keys().chain(extra).collect();
    parts.push(Partition::Root);
    parts.sort();
    parts.dedup();
    let guard = match lock(backend, parts, operation, timeout).await {
        Ok(g) => g,
        Err(d) => {
            report(&Diagnostics::from(d), &Default::default());
            return Ok(None);
        }
    };
    match load_state(backend, PartitionFilter::All).await {
        Ok(state) => Ok(Some((guard, state))),
        Err(e) => {
            unlock(backend, guard).await;
            Err(e)
        }
    }
}

/// Commits under a held guard, then releases it.
async fn commit_then_unlock(
    backend: &Arc<dyn StateBackend>,
    guard: Box<dyn LockGuard>,
    operation: &str,
    changes: Vec<Change>,
) -> anyhow::Result<u64> {
    let b = backend.clone();
    let op = operation.to_string();
    let (guard, r) = tokio::task::spawn_blocking(move || {
        let r = b.commit(guard.as_ref(), &op, &changes);
        (guard, r)
    })
    .await?;
    unlock(backend, guard).await;
    r.map_err(|e| anyhow::anyhow!("{e}"))
}

/// Replaces the state under a held guard, then releases it.
async fn replace_then_unlock(
    backend: &Arc<dyn StateBackend>,
    guard: Box<dyn LockGuard>,
    operation: &str,
    next: &StateSnapshot,
    force: bool,
) -> anyhow::Result<u64> {
    let b = backend.clone();
    let op = operation.to_string();
    let next = next.clone();
    let (guard, r) = tokio::task::spawn_blocking(move || {
        let r = b.replace_all(guard.as_ref(), &op, &next, force);
        (guard, r)
    })
    .await?;
    unlock(backend, guard).await;
    r.map_err(|e| anyhow::anyhow!("{e}"))
}

fn partition_of_target(t: &Target) -> Partition {
    match t {
        Target::Module(m) => Partition::of_module(m),
        Target::Resource(r) => Partition::of_module(&r.module),
        Target::Instance(i) => Partition::of(i),
    }
}

fn confirm(question: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("no terminal to confirm; pass -auto-approve");
    }
    print!("{question}\n  Only 'yes' will be accepted to confirm.\n\n  Enter a value: ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim() == "yes")
}

pub fn run(args: StateArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let Some(p) = prepare_stack(ctx, true) else { return Ok(ExitCode::from(1)) };
    let backend = open_backend(&state_settings(&p, &ctx.dir)?)?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let state = load_state(&backend, PartitionFilter::All).await?;
        match args.command {
            StateCommand::List { patterns, tenant } => {
                let targets = patterns.iter().map(|s| target(s)).collect::<anyhow::Result<Vec<_>>>()?;
                for addr in state.resources.keys() {
                    if tenant.as_deref().is_some_and(|t| addr.tenant() != Some(t)) {
                        continue;
                    }
                    if !targets.is_empty() && !targets.iter().any(|t| t.matches(addr)) {
                        continue;
                    }
                    println!("{addr}");
                }
                Ok(ExitCode::SUCCESS)
            }
            StateCommand::Show { address } => {
                let t = target(&address)?;
                let found = matching(&state, &t);
                if found.is_empty() {
                    eprintln!("Error: {address} is not in state (see `tenantform state list`)");
                    return Ok(ExitCode::from(1));
                }
                for a in found {
                    let r = &state.resources[&a];
                    println!("# {a}:");
                    println!("resource \"{}\" \"{}\" {}", a.resource.ty, a.resource.name, render_value(&r.value, 2));
                    if !r.dependencies.is_empty() {
                        println!("# depends on: {}", r.dependencies.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "));
                    }
                    println!();
                }
                Ok(ExitCode::SUCCESS)
            }
            StateCommand::Mv { source, destination, dry_run, lock } => {
                let (from, to) = (target(&source)?, target(&destination)?);
                let held = if dry_run {
                    None
                } else {
                    match lock_all(&backend, vec![partition_of_target(&to)], "state mv", parse_duration(&lock.lock_timeout)?).await? {
                        Some(x) => Some(x),
                        None => return Ok(ExitCode::from(1)),
                    }
                };
                let current = held.as_ref().map(|(_, s)| s).unwrap_or(&state);
                let moves = match plan_move(current, &from, &to) {
                    Ok(m) => m,
                    Err(e) => {
                        if let Some((g, _)) = held {
                            unlock(&backend, g).await;
                        }
                        eprintln!("Error: cannot move {source} to {destination}: {e}");
                        return Ok(ExitCode::from(1));
                    }
                };
                let changes = move_changes(current, &moves);
                let Some((guard, _)) = held else {
                    for (a, b) in &moves.resources {
                        println!("Would move {a} to {b}");
                    }
                    return Ok(ExitCode::SUCCESS);
                };
                let serial = commit_then_unlock(&backend, guard, "state mv", changes).await?;
                for (a, b) in &moves.resources {
                    println!("Moved {a} to {b}");
                }
                println!("Successfully moved {} object(s) (state serial {serial}).", moves.resources.len());
                Ok(ExitCode::SUCCESS)
            }
            StateCommand::Rm { addresses, dry_run, lock } => {
                let targets = addresses.iter().map(|a| target(a)).collect::<anyhow::Result<Vec<_>>>()?;
                let held = if dry_run {
                    None
                } else {
                    match lock_all(&backend, Vec::new(), "state rm", parse_duration(&lock.lock_timeout)?).await? {
                        Some(x) => Some(x),
                        None => return Ok(ExitCode::from(1)),
                    }
                };
                let current = held.as_ref().map(|(_, s)| s).unwrap_or(&state);
                let mut found = Vec::new();
                for (a, t) in addresses.iter().zip(&targets) {
                    let m = matching(current, t);
                    if m.is_empty() {
                        if let Some((g, _)) = held {
                            unlock(&backend, g).await;
                        }
                        eprintln!("Error: {a} is not in state (nothing was removed)");
                        return Ok(ExitCode::from(1));
                    }
                    found.extend(m);
                }
                found.sort();
                found.dedup();
                let Some((guard, _)) = held else {
                    for a in &found {
                        println!("Would remove {a}");
                    }
                    return Ok(ExitCode::SUCCESS);
                };
                let changes = found.iter().map(|a| Change::Remove(a.clone())).collect();
                commit_then_unlock(&backend, guard, "state rm", changes).await?;
                for a in &found {
                    println!("Removed {a}");
                }
                println!("Successfully removed {} object(s); the real objects were not touched.", found.len());
                Ok(ExitCode::SUCCESS)
            }
            StateCommand::Pull => {
                println!("{}", serde_json::to_string_pretty(&state)?);
                Ok(ExitCode::SUCCESS)
            }
            StateCommand::Push { file, force, lock } => {
                let mut text = String::new();
                if file == "-" {
                    std::io::stdin().read_to_string(&mut text)?;
                } else {
                    text = std::fs::read_to_string(&file).map_err(|e| anyhow::anyhow!("cannot read {file}: {e}"))?;
                }
                let next: StateSnapshot = serde_json::from_str(&text)
                    .map_err(|e| anyhow::anyhow!("{file} is not a state document from `state pull`: {e}"))?;
                let extra: Vec<Partition> = next.partitions().chain(next.outputs.keys().map(|(m, _)| Partition::of_module(m))).collect();
                let Some((guard, current)) = lock_all(&backend, extra, "state push", parse_duration(&lock.lock_timeout)?).await? else {
                    return Ok(ExitCode::from(1));
                };
                let refuse = if current.serial != 0 && !force && next.lineage != current.lineage {
                    Some(format!(
                        "the pushed state belongs to another stack (lineage {} here, {} in {file}); nothing was changed.\nUse -force only if you mean to overwrite this stack's state.",
                        current.lineage, next.lineage
                    ))
                } else if current.serial != 0 && !force && next.serial < current.serial {
                    Some(format!(
                        "the pushed state is older than the stored one (serial {} in {file}, {} here): pushing it would undo newer changes; nothing was changed.\nPull again, or use -force if undoing them is the point (state rollback SERIAL does that with history).",
                        next.serial, current.serial
                    ))
                } else {
                    None
                };
                if let Some(why) = refuse {
                    unlock(&backend, guard).await;
                    eprintln!("Error: {why}");
                    return Ok(ExitCode::from(1));
                }
                let serial = replace_then_unlock(&backend, guard, "state push", &next, force).await?;
                println!("State pushed (serial {serial}).");
                Ok(ExitCode::SUCCESS)
            }
            StateCommand::Migrate { to, lock: lock_args } => {
                let timeout = parse_duration(&lock_args.lock_timeout)?;
                let dest = open_backend_at(&to, &ctx.dir)?;
                // Hold the source's locks while copying so that no apply changes it meanwhile.
                let mut parts: Vec<Partition> = state.partitions().collect();
                parts.extend(state.outputs.keys().map(|(m, _)| Partition::of_module(m)));
                parts.push(Partition::Root);
                parts.sort();
                parts.dedup();
                let source_guard = match lock(&backend, parts, "state migrate", timeout).await {
                    Ok(g) => g,
                    Err(d) => {
                        report(&Diagnostics::from(d), &Default::default());
                        return Ok(ExitCode::from(1));
                    }
                };
                let snapshot = load_state(&backend, PartitionFilter::All).await?;
                let extra: Vec<Partition> =
                    snapshot.partitions().chain(snapshot.outputs.keys().map(|(m, _)| Partition::of_module(m))).collect();
                let copied = match lock_all(&dest, extra, "state migrate", timeout).await {
                    Ok(Some((guard, existing))) => {
                        if existing.serial != 0 && existing.lineage != snapshot.lineage {
                            unlock(&dest, guard).await;
                            Err((anyhow::anyhow!("the destination holds another stack's state"), existing.serial))
                        } else {
                            let serial = existing.serial;
                            replace_then_unlock(&dest, guard, "state migrate", &snapshot, false).await.map(Some).map_err(|e| (e, serial))
                        }
                    }
                    Ok(None) => Ok(None),
                    Err(e) => Err((e, 0)),
                };
                unlock(&backend, source_guard).await;
                match copied {
                    Ok(Some(serial)) => {
                        println!(
                            "Copied {} resource(s) and {} output(s) (lineage {}) from {} to {} (its serial {serial}).",
                            snapshot.resources.len(),
                            snapshot.outputs.len(),
                            snapshot.lineage,
                            backend.describe(),
                            dest.describe()
                        );
                        println!("History was not copied (the destination's history starts here); the source is unchanged.");
                        println!("Point the stack at the new state (the state {{}} block or TENANTFORM_STATE) before the next apply.");
                        Ok(ExitCode::SUCCESS)
                    }
                    Ok(None) => Ok(ExitCode::from(1)),
                    Err((e, existing_serial)) => {
                        eprintln!("Error: {e}");
                        if existing_serial != 0 {
                            eprintln!("The destination already holds state (serial {existing_serial}); migrate only into an empty stack, or one with the same lineage.");
                        }
                        Ok(ExitCode::from(1))
                    }
                }
            }
            StateCommand::History { limit } => {
                let b = backend.clone();
                let entries = tokio::task::spawn_blocking(move || b.history(limit)).await?.map_err(|e| anyhow::anyhow!("{e}"))?;
                if entries.is_empty() {
                    println!("The state has no history yet.");
                }
                for e in entries {
                    let parts: Vec<String> = e.partitions.iter().map(|p| p.to_string()).collect();
                    let shown = if parts.len() > 4 { format!("{} … ({} partitions)", parts[..4].join(", "), parts.len()) } else { parts.join(", ") };
                    println!("{:>6}  {}  {:<14} {:>5} change(s)  {shown}", e.serial, e.created, e.operation, e.changes);
                }
                Ok(ExitCode::SUCCESS)
            }
            StateCommand::Rollback { serial, auto_approve, lock } => {
                let b = backend.clone();
                let old = match tokio::task::spawn_blocking(move || b.snapshot_at(serial)).await? {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("Error: {e}");
                        return Ok(ExitCode::from(1));
                    }
                };
                let added: Vec<_> = old.resources.keys().filter(|a| !state.resources.contains_key(*a)).collect();
                let removed: Vec<_> = state.resources.keys().filter(|a| !old.resources.contains_key(*a)).collect();
                let changed = old.resources.iter().filter(|(a, r)| state.resources.get(*a).is_some_and(|c| c != *r)).count();
                println!(
                    "Rolling back to serial {serial} records {} object(s) again, forgets {}, and restores {changed} changed record(s):",
                    added.len(),
                    removed.len()
                );
                for a in &added {
                    println!("  + {a}");
                }
                for a in &removed {
                    println!("  - {a}");
                }
                println!("Only state changes; no infrastructure is touched. Run plan afterwards to see how reality compares.");
                if !auto_approve && !tokio::task::block_in_place(|| confirm("\nRestore this version as the new state?"))? {
                    eprintln!("Rollback cancelled.");
                    return Ok(ExitCode::from(1));
                }
                let extra: Vec<Partition> = old.partitions().chain(old.outputs.keys().map(|(m, _)| Partition::of_module(m))).collect();
                let Some((guard, current)) = lock_all(&backend, extra, "state rollback", parse_duration(&lock.lock_timeout)?).await? else {
                    return Ok(ExitCode::from(1));
                };
                if current.serial != state.serial {
                    unlock(&backend, guard).await;
                    eprintln!("Error: the state changed (serial {} → {}) while you were confirming; nothing was changed. Run the rollback again.", state.serial, current.serial);
                    return Ok(ExitCode::from(1));
                }
                let mut next = old.clone();
                next.lineage = current.lineage.clone();
                let new_serial = replace_then_unlock(&backend, guard, "state rollback", &next, false).await?;
                println!("Restored serial {serial} as serial {new_serial}.");
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

/// Redacted JSON of a record (for `tenants show -json`).
pub fn record_json(r: &tenantform_engine::state::InstanceState) -> serde_json::Value {
    serde_json::json!({
        "address": r.addr.to_string(),
        "type": r.addr.resource.ty,
        "status": r.status,
        "values": redacted(&r.value),
    })
}

//! `tenantform tenants [show SLUG]` and `tenantform drift`: every tenant's status — pending (in
//! the configuration, never applied), active, drifted (changed outside tenantform), failed (the
//! last apply errored on it), orphaned (in state, no longer configured) — with resource counts,
//! outputs, and a refresh of everything in parallel to find drift.

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;
use tenantform_engine::ops;
use tenantform_engine::plan::planner::PlanOptions;
use tenantform_engine::plan::{Drift, PlanMode};
use tenantform_engine::state::{PartitionFilter, StateSnapshot};
use tokio_util::sync::CancellationToken;

use crate::context::Ctx;
use crate::diagnostics::report;
use crate::render::plan::render_value;
use crate::stack::{load_state, make_plan, open_backend, prepare_stack, state_settings};

#[derive(Args, Debug)]
pub struct TenantsArgs {
    #[command(subcommand)]
    pub command: Option<TenantsCommand>,
    /// Machine-readable output.
    #[arg(long = "json", global = true)]
    pub json: bool,
    /// Read every object through its provider to detect drift (default true).
    #[arg(long = "refresh", value_name = "BOOL", default_value = "true", action = clap::ArgAction::Set, global = true)]
    pub refresh: bool,
    #[arg(long = "parallelism", value_name = "N", default_value_t = 64, global = true)]
    pub parallelism: usize,
}

#[derive(Subcommand, Debug)]
pub enum TenantsCommand {
    /// One tenant: its resources and outputs.
    Show { slug: String },
}

#[derive(Args, Debug)]
pub struct DriftArgs {
    /// Machine-readable report.
    #[arg(long = "json")]
    pub json: bool,
    /// Only these tenants.
    #[arg(long = "tenant", value_name = "SLUG")]
    pub tenant: Vec<String>,
    #[arg(long = "parallelism", value_name = "N", default_value_t = 64)]
    pub parallelism: usize,
}

async fn refresh(
    ctx: &Ctx,
    p: &tenantform_engine::validate::Prepared,
    state: &StateSnapshot,
    tenants: Vec<String>,
    parallelism: usize,
) -> anyhow::Result<Result<Vec<Drift>, ()>> {
    let opts = PlanOptions { mode: PlanMode::RefreshOnly, tenants, parallelism, ..PlanOptions::default() };
    match make_plan(ctx, p, state, opts, CancellationToken::new()).await {
        // Values the platform computed since (a certificate that became active) are not drift.
        Ok(out) => Ok(Ok(out.plan.drift.into_iter().filter(|d| d.external).collect())),
        Err(diags) => {
            report(&diags, &p.sources);
            Ok(Err(()))
        }
    }
}

pub fn run(args: TenantsArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let Some(p) = prepare_stack(ctx, false) else { return Ok(ExitCode::from(1)) };
    let backend = open_backend(&state_settings(&p, &ctx.dir)?)?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let only = match &args.command {
            Some(TenantsCommand::Show { slug }) => vec![slug.clone()],
            None => Vec::new(),
        };
        let filter = if only.is_empty() { PartitionFilter::All } else { crate::stack::partition_filter(&only) };
        let state = load_state(&backend, filter).await?;
        let drift = if args.refresh {
            match refresh(ctx, &p, &state, only.clone(), args.parallelism).await? {
                Ok(d) => d,
                Err(()) => return Ok(ExitCode::from(1)),
            }
        } else {
            Vec::new()
        };
        let rows = ops::tenant_statuses(&p, &state, &drift);
        match args.command {
            None => {
                if args.json {
                    let list: Vec<_> = rows
                        .iter()
                        .map(|r| json!({ "slug": r.slug, "status": r.status, "resources": r.in_state, "configured_resources": r.configured, "drifted": r.drifted, "detail": r.detail, "reasons": r.reasons }))
                        .collect();
                    println!("{}", json!({ "tenants": list, "refreshed": args.refresh }));
                } else if rows.is_empty() {
                    println!("No tenants: declare them with tenant \"slug\" {{ … }} blocks.");
                } else {
                    let w = rows.iter().map(|r| r.slug.len()).max().unwrap_or(4).max(6);
                    println!("{:<w$}  {:<9} {:>9}  DETAIL", "TENANT", "STATUS", "RESOURCES");
                    for r in &rows {
                        println!("{:<w$}  {:<9} {:>4}/{:<4}  {}", r.slug, r.status.as_str(), r.in_state, r.configured, r.detail.clone().unwrap_or_default());
                    }
                }
                Ok(ExitCode::SUCCESS)
            }
            Some(TenantsCommand::Show { slug }) => {
                let Some(row) = rows.iter().find(|r| r.slug == slug) else {
                    eprintln!("Error: no tenant \"{slug}\" in the configuration or the state");
                    return Ok(ExitCode::from(1));
                };
                let module = tenantform_engine::address::ModuleAddr(vec![tenantform_engine::address::ModuleStep::Tenant(slug.clone())]);
                let outputs: Vec<_> = state.outputs.values().filter(|o| o.module == module && !o.name.starts_with("__")).collect();
                let resources: Vec<_> = state.resources.values().filter(|r| r.addr.tenant() == Some(slug.as_str())).collect();
                if args.json {
                    println!(
                        "{}",
                        json!({
                            "slug": slug,
                            "status": row.status,
                            "detail": row.detail,
                            "reasons": row.reasons,
                            "resources": resources.iter().map(|r| super::state::record_json(r)).collect::<Vec<_>>(),
                            "outputs": outputs.iter().map(|o| (o.name.clone(), if o.sensitive { serde_json::Value::Null } else { crate::render::json::redacted(&o.value) })).collect::<serde_json::Map<_, _>>(),
                            "drifted": row.drifted,
                        })
                    );
                } else {
                    println!("Tenant:    {slug}\nStatus:    {}{}", row.status.as_str(), row.detail.as_ref().map(|d| format!(" ({d})")).unwrap_or_default());
                    println!("Resources: {} of {}", row.in_state, row.configured);
                    if !row.reasons.is_empty() {
                        println!("Problems:");
                        for (a, why) in &row.reasons {
                            println!("  {a}: {why}");
                        }
                    }
                    for r in &resources {
                        let id = r.value.get("id").and_then(|v| if v.is_sensitive() { None } else { v.as_str().map(str::to_string) }).unwrap_or_default();
                        println!("  {:<50} {}", r.addr.to_string(), id);
                    }
                    if !outputs.is_empty() {
                        println!("Outputs:");
                        for o in outputs {
                            let shown = if o.sensitive { "(sensitive value)".to_string() } else { render_value(&o.value, 4) };
                            println!("  {} = {shown}", o.name);
                        }
                    }
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

/// `tenantform drift`: exit 2 and a per-tenant report when anything changed outside
/// tenantform; 0 when nothing did (for nightly CI jobs).
pub fn run_drift(args: DriftArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let Some(p) = prepare_stack(ctx, false) else { return Ok(ExitCode::from(1)) };
    let backend = open_backend(&state_settings(&p, &ctx.dir)?)?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let state = load_state(&backend, crate::stack::partition_filter(&args.tenant)).await?;
        let drift = match refresh(ctx, &p, &state, args.tenant.clone(), args.parallelism).await? {
            Ok(d) => d,
            Err(()) => return Ok(ExitCode::from(1)),
        };
        let mut by: BTreeMap<String, Vec<&Drift>> = BTreeMap::new();
        for d in &drift {
            by.entry(d.addr.tenant().map(|t| format!("tenant {t}")).unwrap_or_else(|| "shared resources".into())).or_default().push(d);
        }
        if args.json {
            let report: serde_json::Map<String, serde_json::Value> = by
                .iter()
                .map(|(k, ds)| {
                    (
                        k.clone(),
                        json!(ds.iter().map(|d| json!({ "address": d.addr.to_string(), "change": if d.after.is_some() { "changed" } else { "deleted" } })).collect::<Vec<_>>()),
                    )
                })
                .collect();
            println!("{}", json!({ "drifted": !drift.is_empty(), "report": report }));
        } else if drift.is_empty() {
            println!("No drift: every object matches the state.");
        } else {
            println!("Drift detected in {} object(s):", drift.len());
            for (k, ds) in &by {
                println!("\n{k}:");
                for d in ds {
                    println!("  {} {}", d.addr, if d.after.is_some() { "was changed outside tenantform" } else { "was deleted outside tenantform" });
                }
            }
            println!("\nSee the details with `tenantform plan -refresh-only`; record reality with `tenantform apply -refresh-only`, or undo the changes with `tenantform apply`.");
        }
        Ok(ExitCode::from(if drift.is_empty() { 0 } else { 2 }))
    })
}

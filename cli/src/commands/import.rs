//! `tenantform import ADDRESS ID`: reads an existing object through its provider and records it
//! in state at ADDRESS (which the configuration must declare). The next plan shows how the
//! configuration and the real object differ.

use std::process::ExitCode;

use clap::Args;
use tenantform_engine::address::{InstanceAddr, Target};
use tenantform_engine::diagnostics::{did_you_mean, Diagnostic, Diagnostics};
use tenantform_engine::plan::planner::PlanOptions;
use tenantform_engine::state::{Change, InstanceState, InstanceStatus, Partition};
use tokio_util::sync::CancellationToken;

use crate::cli::VarArgs;
use crate::context::Ctx;
use crate::diagnostics::report;
use crate::stack::{
    load_state, lock, make_plan, open_backend, parse_duration, partition_filter, prepare_stack, state_settings, unlock,
};

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Where to record the object, e.g. tenant.acme.local_service.web.
    pub address: String,
    /// The object's ID in the provider's import format (see the provider docs).
    pub id: String,
    #[arg(long = "lock-timeout", value_name = "DURATION", default_value = "0s")]
    pub lock_timeout: String,
    #[command(flatten)]
    pub vars: VarArgs,
}

pub fn run(args: ImportArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let addr: InstanceAddr = match args.address.parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("Error: {e}\n\nAn import address names one resource instance, e.g. tenant.acme.local_service.web or random_id.x[0].");
            return Ok(ExitCode::from(1));
        }
    };
    let Some(p) = prepare_stack(ctx, false) else { return Ok(ExitCode::from(1)) };
    if !p.stack.by_addr.contains_key(&addr) {
        let known: Vec<String> = p.stack.by_addr.keys().map(|a| a.to_string()).collect();
        let mut d = Diagnostic::error("import-target", format!("Import target {addr} is not in the configuration"))
            .with_label("import records objects at addresses the configuration declares");
        d = match did_you_mean(&addr.to_string(), known.iter().map(String::as_str)) {
            Some(s) => d.with_help(format!("did you mean {s}?")),
            None => {
                d.with_help(format!("add a resource \"{}\" \"{}\" block first", addr.resource.ty, addr.resource.name))
            }
        };
        report(&Diagnostics::from(d), &p.sources);
        return Ok(ExitCode::from(1));
    }
    let backend = open_backend(&state_settings(&p, &ctx.dir)?)?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let tenants: Vec<String> = addr.tenant().map(|t| vec![t.to_string()]).unwrap_or_default();
        let state = load_state(&backend, partition_filter(&tenants)).await?;
        if state.resources.contains_key(&addr) {
            eprintln!("Error: {addr} is already managed by tenantform (see `tenantform state show {addr}`); remove it with `state rm` first to import another object there.");
            return Ok(ExitCode::from(1));
        }
        let opts = PlanOptions { targets: vec![Target::Instance(addr.clone())], imports: vec![(addr.clone(), args.id.clone())], ..PlanOptions::default() };
        let out = match make_plan(ctx, &p, &state, opts, CancellationToken::new()).await {
            Ok(o) => o,
            Err(diags) => {
                report(&diags, &p.sources);
                return Ok(ExitCode::from(1));
            }
        };
        let Some(change) = out.plan.changes.iter().find(|c| c.addr == addr && c.import_id.is_some()) else {
            eprintln!("Error: the provider returned nothing to import for {addr}");
            return Ok(ExitCode::from(1));
        };
        let Some(value) = change.before.clone() else {
            eprintln!("Error: the provider returned nothing to import for {addr}");
            return Ok(ExitCode::from(1));
        };
        let record = InstanceState {
            addr: addr.clone(),
            provider: change.provider.clone(),
            schema_version: change.schema_version,
            status: InstanceStatus::Ready,
            value,
            dependencies: change.dependencies.clone(),
            create_before_destroy: change.create_before_destroy,
            detail: None,
        };
        let guard = match lock(&backend, vec![Partition::of(&addr)], "import", parse_duration(&args.lock_timeout)?).await {
            Ok(g) => g,
            Err(d) => {
                report(&Diagnostics::from(d), &p.sources);
                return Ok(ExitCode::from(1));
            }
        };
        // Another import may have recorded the address while we read the object: check again
        // under the lock.
        let b = backend.clone();
        let part = vec![Partition::of(&addr)];
        let now = tokio::task::spawn_blocking(move || b.load(&tenantform_engine::state::PartitionFilter::Only(part))).await?;
        if now.map(|s| s.resources.contains_key(&addr)).unwrap_or(false) {
            unlock(&backend, guard).await;
            eprintln!("Error: {addr} was recorded by another command meanwhile; nothing was changed.");
            return Ok(ExitCode::from(1));
        }
        let b = backend.clone();
        let rec = record.clone();
        let (guard, r) = tokio::task::spawn_blocking(move || {
            let r = b.commit(guard.as_ref(), "import", &[Change::Put(rec)]);
            (guard, r)
        })
        .await?;
        unlock(&backend, guard).await;
        r.map_err(|e| anyhow::anyhow!("{e}"))?;
        let shown_id = if record.value.reveals(&args.id) { "(sensitive value)".to_string() } else { format!("\"{}\"", args.id) };
        println!("{addr}: Importing from ID {shown_id}...\n{addr}: Import prepared!\n{addr}: Refreshing state...\n\nImport successful!\n\nThe object is now managed by tenantform. Run `tenantform plan` to see how the configuration differs from it.");
        Ok(ExitCode::SUCCESS)
    })
}

//! Apply: the steps of applying a plan. Imports and moves are recorded first; then one walk
//! ([`walk`], on the shared [`crate::schedule`]r) makes every change — a resource starts the
//! moment its last dependency has finished, its configuration is evaluated just before it runs
//! (so values unknown at plan time are known), destroys are ordered by the graph (dependents
//! first) within the same walk, a failure skips only what depends on it; then new tenants whose
//! first provisioning failed are rolled back (if asked), and outputs, refreshed records and
//! each tenant's outcome are written ([`finalize`]).
//!
//! Interruption: `stop` ends scheduling (in-flight calls finish and are recorded); `kill`
//! additionally tells providers to abandon their calls.

pub mod committer;
mod destroy;
pub mod events;
mod execute;
mod finalize;
mod walk;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::address::{InstanceAddr, InstanceKey};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::plan::Plan;
use crate::runtime::{ConfiguredProviders, RetryPolicy, Schemas};
use crate::state::{Change, InstanceStatus, StateSnapshot};
use crate::validate::Prepared;
use crate::value::Value;

pub use committer::{CommitHandle, CommitStats, Committer};
pub use events::{ApplyEvent, ApplyObserver, NoObserver};

/// Internal output recording a tenant's last apply outcome (hidden from plans and `output`).
pub const TENANT_STATUS_OUTPUT: &str = "__tenantform_status";

/// How to apply.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    pub parallelism: usize,
    pub retry: RetryPolicy,
    /// How often "still running" progress events are emitted.
    pub progress_interval: Duration,
    /// When a tenant's first provisioning fails, destroy what this apply created for it (tenants
    /// that were already active are never rolled back).
    pub rollback_on_failure: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 64,
            retry: RetryPolicy::default(),
            progress_interval: Duration::from_secs(10),
            rollback_on_failure: false,
        }
    }
}

/// Everything apply needs.
pub struct ApplyInput<'a> {
    pub prepared: &'a Prepared,
    pub plan: &'a Plan,
    pub schemas: Schemas,
    /// Providers configured by the planner (empty when applying a saved plan).
    pub providers: ConfiguredProviders,
    /// The state the plan was made against.
    pub state: &'a StateSnapshot,
    pub commits: CommitHandle,
    pub observer: Arc<dyn ApplyObserver>,
    pub options: ApplyOptions,
}

/// What happened.
#[derive(Debug, Default)]
pub struct ApplyOutcome {
    pub diags: Diagnostics,
    pub imported: usize,
    pub added: usize,
    pub changed: usize,
    pub destroyed: usize,
    pub failed: Vec<InstanceAddr>,
    pub skipped: Vec<InstanceAddr>,
    pub interrupted: bool,
    /// Root module output values after the apply (sensitive ones marked).
    pub outputs: BTreeMap<String, Value>,
    /// Tenants whose failed first provisioning was rolled back, with the number of objects
    /// destroyed for each.
    pub rolled_back: BTreeMap<String, usize>,
}

impl ApplyOutcome {
    pub fn succeeded(&self) -> bool {
        !self.diags.has_errors() && self.failed.is_empty() && !self.interrupted
    }
}

/// Applies a plan. Never panics on provider failures: everything is in the outcome.
pub async fn apply(input: ApplyInput<'_>, stop: CancellationToken, kill: CancellationToken) -> ApplyOutcome {
    let plan = input.plan;
    let mut out = ApplyOutcome::default();
    let providers = input.providers.clone();

    // Imports and moves are recorded before anything changes.
    let mut adopt = Vec::new();
    for c in &plan.changes {
        let Some(before) = &c.before else { continue };
        if let Some(from) = &c.moved_from {
            adopt.push(Change::Remove(from.clone()));
            adopt.push(Change::Put(execute::record(c, before.clone(), InstanceStatus::Ready)));
        } else if c.import_id.is_some() {
            adopt.push(Change::Put(execute::record(c, before.clone(), InstanceStatus::Ready)));
            out.imported += 1;
        }
    }
    if !adopt.is_empty() {
        if let Err(e) = input.commits.commit(adopt).await {
            out.diags.push(Diagnostic::error("state", format!("Recording imports and moves failed: {e}")));
            return out;
        }
    }

    let env = destroy::DestroyEnv {
        providers: providers.clone(),
        schemas: input.schemas.clone(),
        commits: input.commits.clone(),
        observer: input.observer.clone(),
        retry: input.options.retry,
        kill: kill.clone(),
        progress: input.options.progress_interval,
    };
    let mut walked = walk::walk(&input, &providers, env.clone(), stop.clone(), kill.clone(), &mut out).await;
    walk::await_pending(&mut walked, &mut out).await;

    if input.options.rollback_on_failure {
        rollback(&input, &walked, env, &stop, &mut out).await;
    }
    finalize::finalize(&input, &walked.values, &walked.errors, stop.is_cancelled(), &mut out).await;
    out.interrupted = stop.is_cancelled();
    out
}

/// Destroys what this apply made for each new tenant whose first provisioning failed (tenants
/// that existed before are never rolled back). Only what this apply made: a create that failed
/// either made nothing, made an incomplete object (recorded tainted, destroyed here), or may
/// have made something its intent still records, which the next plan resolves — deleting by the
/// plan could destroy an object tenantform never managed.
async fn rollback(
    input: &ApplyInput<'_>,
    walked: &walk::Walked,
    env: destroy::DestroyEnv,
    stop: &CancellationToken,
    out: &mut ApplyOutcome,
) {
    let mut failed_tenants: Vec<String> = out.failed.iter().filter_map(|a| a.tenant().map(str::to_string)).collect();
    failed_tenants.sort();
    failed_tenants.dedup();
    for t in failed_tenants {
        let was_new = !input.state.resources.keys().any(|a| a.tenant() == Some(t.as_str()));
        if !was_new {
            continue;
        }
        let by_addr: std::collections::HashMap<&InstanceAddr, &crate::plan::ResourceChange> =
            input.plan.changes.iter().map(|c| (&c.addr, c)).collect();
        let mut doomed: Vec<destroy::Doomed> = walked
            .created
            .iter()
            .filter(|(a, _)| a.tenant() == Some(t.as_str()))
            .map(|(addr, value)| {
                let base = by_addr.get(addr).copied();
                destroy::Doomed {
                    addr: addr.clone(),
                    provider: base.map(|c| c.provider.clone()).unwrap_or_else(|| provider_of(input, addr)),
                    before: value.clone(),
                    dependencies: base.map(|c| c.dependencies.clone()).unwrap_or_default(),
                    record_only: false,
                }
            })
            .collect();
        doomed.sort_by(|a, b| a.addr.cmp(&b.addr));
        let made = doomed.len();
        if made > 0 {
            let r = destroy::destroy_all(doomed, env.clone(), input.options.parallelism, stop.clone()).await;
            for (addr, d) in r.failed {
                out.diags.push(d);
                out.failed.push(addr);
            }
            out.skipped.extend(r.skipped);
        }
        out.rolled_back.insert(t, made);
    }
}

/// The provider key of an address that has no planned change (a tainted object at a deposed
/// address): that of its resource's planned change.
fn provider_of(input: &ApplyInput<'_>, addr: &InstanceAddr) -> String {
    input
        .plan
        .changes
        .iter()
        .find(|c| c.addr.resource == addr.resource)
        .map(|c| c.provider.clone())
        .unwrap_or_else(|| addr.ty().split('_').next().unwrap_or_default().to_string())
}

/// The address under which the old object of a create-before-destroy replacement waits for
/// deletion: the same resource with a `deposed-…` key.
pub fn deposed_addr(addr: &InstanceAddr) -> InstanceAddr {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let orig = match &addr.key {
        InstanceKey::None => String::new(),
        k => k.to_string(),
    };
    addr.resource.instance(InstanceKey::Str(format!("{orig}deposed-{}", &id[..8])))
}

/// True for addresses made by [`deposed_addr`].
pub fn is_deposed(addr: &InstanceAddr) -> bool {
    matches!(&addr.key, InstanceKey::Str(k) if k.contains("deposed-"))
}

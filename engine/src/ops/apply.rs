//! The apply operation (and destroy, which is an apply of a destroy plan).
//!
//! 1. Read the partitions in scope and plan (or take the saved plan).
//! 2. Show it; stop when it changes nothing; ask for approval.
//! 3. Lock exactly the partitions it changes; under the lock, check that neither those nor the
//!    root partition (whose shared values a tenant's plan reads) moved on since they were read.
//!    If they did, unlock, read again and re-plan (a saved plan is refused instead).
//! 4. Apply through a group committer; unlock.
//! 5. If the plan deferred instances that applying it makes plannable (a provider configured
//!    from a resource this round created), plan and apply again, as further rounds of the same
//!    operation, until nothing more can be planned.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::locks::{load_state, lock, partition_filter, unlock};
use super::plan::plan_against;
use super::Stack;
use crate::apply::{self as applying, ApplyInput, ApplyObserver, ApplyOptions, ApplyOutcome, CommitStats, Committer};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::plan::planner::PlanOptions;
use crate::plan::Plan;
use crate::runtime::ConfiguredProviders;
use crate::state::{Partition, PartitionFilter};

/// What to apply.
#[derive(Clone, Debug)]
pub struct ApplyRequest {
    /// How to plan (ignored for the first round of a saved plan).
    pub plan: PlanOptions,
    /// A plan saved with `plan -out`: applied exactly, refused when the state moved on.
    pub saved: Option<Plan>,
    pub apply: ApplyOptions,
    /// How long to wait for a lock someone else holds.
    pub lock_timeout: Duration,
    /// The lock's operation name (`apply`, `destroy`).
    pub operation: String,
    /// How many times to re-plan when the state moved on between planning and locking.
    pub max_replans: usize,
    /// The most rounds of deferred instances.
    pub max_rounds: usize,
}

impl ApplyRequest {
    pub fn new(plan: PlanOptions, apply: ApplyOptions) -> ApplyRequest {
        ApplyRequest {
            plan,
            saved: None,
            apply,
            lock_timeout: Duration::ZERO,
            operation: "apply".into(),
            max_replans: 4,
            max_rounds: 8,
        }
    }
}

/// What an apply tells its caller as it goes. Apply events (per resource) go to the
/// [`ApplyObserver`] side.
pub trait ApplyHooks: ApplyObserver {
    /// A plan was made (`round` 1 is the one the user approves).
    fn planned(&self, plan: &Plan, round: usize, warnings: &Diagnostics);
    /// Whether to go ahead with the first round's plan (the CLI asks, unless -auto-approve).
    fn approve(&self, plan: &Plan) -> bool;
    /// The state of these partitions moved on while the plan was made: planning again.
    fn replanning(&self, stale: &[Partition]);
    /// A round is about to apply.
    fn applying(&self, _round: usize) {}
}

/// What happened.
#[derive(Debug, Default)]
pub struct ApplyReport {
    /// The plan of the first round (what the user approved).
    pub plan: Option<Plan>,
    /// The outcome of every round together.
    pub outcome: ApplyOutcome,
    pub stats: CommitStats,
    /// Time spent applying (all rounds), without planning and approval.
    pub apply_time: Duration,
    /// Rounds applied (0 when the plan changed nothing).
    pub rounds: usize,
    /// Instances still deferred at the end, with the reason.
    pub deferred: Vec<crate::plan::Deferred>,
    /// Warnings to show after the outcome (a lock that could not be released).
    pub warnings: Diagnostics,
}

/// Why an apply did not run.
#[derive(Debug)]
pub enum ApplyError {
    /// Planning, locking or reading state failed.
    Failed(Diagnostics),
    /// The user declined the plan.
    Declined,
}

impl From<Diagnostic> for ApplyError {
    fn from(d: Diagnostic) -> Self {
        ApplyError::Failed(d.into())
    }
}

impl From<Diagnostics> for ApplyError {
    fn from(d: Diagnostics) -> Self {
        ApplyError::Failed(d)
    }
}

/// Plans (or takes the saved plan), asks, locks, applies, in rounds. See the module docs.
pub async fn apply(
    stack: &Stack,
    req: ApplyRequest,
    hooks: std::sync::Arc<dyn ApplyHooks>,
    stop: CancellationToken,
    kill: CancellationToken,
) -> Result<ApplyReport, ApplyError> {
    let mut report = ApplyReport::default();
    let mut saved = req.saved.clone();
    let tenants = saved.as_ref().map(|p| p.tenants.clone()).unwrap_or_else(|| req.plan.tenants.clone());
    let mut round = 0;
    let mut last_deferred = usize::MAX;
    loop {
        round += 1;
        let Some((plan, providers, guard, state)) =
            plan_and_lock(stack, &req, saved.take(), round, &tenants, &hooks, &stop).await?
        else {
            // Nothing to do (round 1: the plan changes nothing).
            break;
        };
        if round == 1 {
            report.plan = Some(plan.clone());
        }
        hooks.applying(round);
        let committer = Committer::start(stack.backend.clone(), guard, &req.operation);
        let observer: std::sync::Arc<dyn ApplyObserver> = hooks.clone().as_observer();
        let input = ApplyInput {
            prepared: &stack.prepared,
            plan: &plan,
            schemas: stack.schemas.clone(),
            providers,
            state: &state,
            commits: committer.handle(),
            observer,
            options: req.apply.clone(),
        };
        let started = Instant::now();
        let outcome = applying::apply(input, stop.clone(), kill.clone()).await;
        report.apply_time += started.elapsed();
        let finished = tokio::task::spawn_blocking(move || committer.finish()).await.ok().flatten();
        if let Some((guard, stats)) = finished {
            report.stats.transactions += stats.transactions;
            report.stats.changes += stats.changes;
            report.stats.busy += stats.busy;
            report.stats.last_serial = stats.last_serial;
            if let Some(w) = unlock(&stack.backend, guard).await {
                report.warnings.push(w);
            }
        }
        report.rounds = round;
        let ok = outcome.succeeded();
        merge(&mut report.outcome, outcome);
        report.deferred = plan.deferred.clone();
        // Another round only when this one worked and can make progress.
        let resolvable = plan.deferred.iter().filter(|d| d.reason.resolves_by_applying()).count();
        if !ok || resolvable == 0 || resolvable >= last_deferred || round >= req.max_rounds || stop.is_cancelled() {
            break;
        }
        last_deferred = resolvable;
    }
    Ok(report)
}

type Locked = (Plan, ConfiguredProviders, Box<dyn crate::state::LockGuard>, crate::state::StateSnapshot);

/// Steps 1–3: a plan whose partitions are locked and current, or `None` when there is
/// nothing to apply.
async fn plan_and_lock(
    stack: &Stack,
    req: &ApplyRequest,
    saved: Option<Plan>,
    round: usize,
    tenants: &[String],
    hooks: &std::sync::Arc<dyn ApplyHooks>,
    stop: &CancellationToken,
) -> Result<Option<Locked>, ApplyError> {
    let is_saved = saved.is_some();
    let mut state = load_state(&stack.backend, partition_filter(tenants)).await?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (plan, providers, warnings) = match &saved {
            Some(plan) => {
                // A store never written has a lineage that is not persisted yet: nothing to compare.
                let made_against_empty = plan.partition_serials.values().all(|s| *s == 0);
                if state.serial != 0 && !made_against_empty && state.lineage != plan.lineage {
                    return Err(Diagnostic::error(
                        "stale-plan",
                        format!(
                            "The saved plan was made for a different state (lineage {} vs {})",
                            plan.lineage, state.lineage
                        ),
                    )
                    .into());
                }
                (plan.clone(), ConfiguredProviders::default(), Diagnostics::new())
            }
            None => {
                let mut opts = req.plan.clone();
                if round > 1 {
                    // A further round plans what the first one deferred; nothing else changed.
                    opts.imports.clear();
                }
                let r = plan_against(stack, &state, opts, stop.clone()).await?;
                (r.plan, r.providers, r.warnings)
            }
        };
        hooks.planned(&plan, round, &warnings);
        if !plan.has_changes() {
            return Ok(None);
        }
        if round == 1 && attempt == 1 && !is_saved && !hooks.approve(&plan) {
            return Err(ApplyError::Declined);
        }
        let parts = plan.touched_partitions();
        let guard = lock(&stack.backend, parts.clone(), &req.operation, req.lock_timeout).await?;
        // The partitions it changes, and the root, whose shared values it read.
        let mut checked = parts.clone();
        if !checked.contains(&Partition::Root) {
            checked.push(Partition::Root);
        }
        let b = stack.backend.clone();
        let now = tokio::task::spawn_blocking(move || b.partition_serials()).await;
        let stale: Vec<Partition> = match now {
            Ok(Ok(now)) => checked
                .into_iter()
                .filter(|part| {
                    now.get(part).copied().unwrap_or(0) != plan.partition_serials.get(part).copied().unwrap_or(0)
                })
                .collect(),
            Ok(Err(e)) => {
                unlock(&stack.backend, guard).await;
                return Err(Diagnostic::error("state", format!("Cannot read the state's serials: {e}")).into());
            }
            Err(e) => {
                unlock(&stack.backend, guard).await;
                return Err(Diagnostic::error("internal", format!("{e}")).into());
            }
        };
        if stale.is_empty() {
            // A saved plan's apply reads everything it may refer to.
            let state = if is_saved { load_state(&stack.backend, PartitionFilter::All).await? } else { state };
            return Ok(Some((plan, providers, guard, state)));
        }
        unlock(&stack.backend, guard).await;
        let names: Vec<String> = stale.iter().map(|p| p.to_string()).collect();
        if is_saved || attempt > req.max_replans {
            return Err(Diagnostic::error(
                "stale-plan",
                format!("The state changed since this plan was made ({})", names.join(", ")),
            )
            .with_help("the plan is stale: run plan again")
            .into());
        }
        hooks.replanning(&stale);
        state = load_state(&stack.backend, partition_filter(tenants)).await?;
    }
}

fn merge(into: &mut ApplyOutcome, o: ApplyOutcome) {
    into.diags.extend(o.diags);
    into.imported += o.imported;
    into.added += o.added;
    into.changed += o.changed;
    into.destroyed += o.destroyed;
    into.failed.extend(o.failed);
    into.skipped.extend(o.skipped);
    into.interrupted |= o.interrupted;
    into.outputs.extend(o.outputs);
    into.rolled_back.extend(o.rolled_back);
}

/// Upcasting an `Arc<dyn ApplyHooks>` to its observer half.
trait AsObserver {
    fn as_observer(self) -> std::sync::Arc<dyn ApplyObserver>;
}

impl AsObserver for std::sync::Arc<dyn ApplyHooks> {
    fn as_observer(self) -> std::sync::Arc<dyn ApplyObserver> {
        std::sync::Arc::new(HooksObserver(self))
    }
}

struct HooksObserver(std::sync::Arc<dyn ApplyHooks>);

impl ApplyObserver for HooksObserver {
    fn event(&self, e: crate::apply::ApplyEvent) {
        self.0.event(e)
    }
}

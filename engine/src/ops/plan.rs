//! The plan operation: read the partitions in scope and plan against them, without a lock.

use tokio_util::sync::CancellationToken;

use super::locks::{load_state, partition_filter};
use super::Stack;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::plan::planner::{self, PlanInput, PlanOptions};
use crate::plan::Plan;
use crate::runtime::ConfiguredProviders;
use crate::state::StateSnapshot;

/// A plan and what came with it.
pub struct PlanReport {
    pub plan: Plan,
    /// Providers configured while planning (an apply of this plan reuses them).
    pub providers: ConfiguredProviders,
    pub warnings: Diagnostics,
    /// The state the plan was made against.
    pub state: StateSnapshot,
}

/// Plans against current state. A plan takes no lock: when an apply runs, the objects it is
/// creating right now show as interrupted creates, and a warning names that apply.
pub async fn plan(stack: &Stack, options: PlanOptions, cancel: CancellationToken) -> Result<PlanReport, Diagnostics> {
    let state = load_state(&stack.backend, partition_filter(&options.tenants)).await.map_err(Diagnostics::from)?;
    let mut report = plan_against(stack, &state, options, cancel).await?;
    if let Ok(locks) = stack.backend.locks() {
        let mut seen = std::collections::BTreeSet::new();
        for l in locks.iter().filter(|l| seen.insert(l.id.clone())) {
            report.warnings.push(
                Diagnostic::warning(
                    "running-apply",
                    format!("{} by {}@{} (pid {}) is running since {}", l.operation, l.who, l.host, l.pid, l.created),
                )
                .with_detail("objects it is creating right now show as interrupted creates in this plan"),
            );
        }
    }
    report.state = state;
    Ok(report)
}

/// Plans against a state already read.
pub(super) async fn plan_against(
    stack: &Stack,
    state: &StateSnapshot,
    options: PlanOptions,
    cancel: CancellationToken,
) -> Result<PlanReport, Diagnostics> {
    let input = PlanInput {
        prepared: &stack.prepared,
        schemas: stack.schemas.clone(),
        state,
        options,
        config_files: stack.config_files(),
    };
    let out = planner::plan(input, cancel).await?;
    Ok(PlanReport { plan: out.plan, providers: out.providers, warnings: out.warnings, state: StateSnapshot::default() })
}

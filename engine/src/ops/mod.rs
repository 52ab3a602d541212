//! Operations: what a command does, as typed functions the CLI and the control plane share.
//!
//! Like Terraform's `backend/local` (`opPlan`, `opApply`), an operation owns the whole
//! sequence — read state, plan, lock exactly the partitions the plan changes, check nothing
//! moved on (re-planning when it did), apply with a group committer, further rounds for
//! deferred instances, unlock — and reports through hooks instead of printing. The CLI only
//! parses, renders and wires; `tenantform serve` calls the same functions.
//!
//! - [`plan()`]: a plan against current state (no lock).
//! - [`apply()`]: plan (or a saved plan) → approve → lock → staleness check → apply → unlock,
//!   in rounds while deferred instances become plannable.
//! - [`StateSettings`]: where state lives, evaluated from the `state {}` block.
//! - [`tenant_statuses()`]: every tenant's status (pending, active, drifted, failed, orphaned).

mod apply;
mod locks;
mod plan;
mod settings;
mod tenants;

use std::sync::Arc;

pub use apply::{apply, ApplyError, ApplyHooks, ApplyReport, ApplyRequest};
pub use locks::{load_state, lock, locked_diag, partition_filter, unlock};
pub use plan::{plan, PlanReport};
pub use settings::{StateSettings, DEFAULT_STATE_FILE};
pub use tenants::{tenant_statuses, TenantState, TenantStatus};

use crate::runtime::Schemas;
use crate::state::StateBackend;
use crate::validate::Prepared;

/// A loaded stack and its state backend: what every operation works on.
pub struct Stack {
    pub prepared: Prepared,
    pub schemas: Schemas,
    pub backend: Arc<dyn StateBackend>,
}

impl Stack {
    pub fn new(prepared: Prepared, schemas: Schemas, backend: Arc<dyn StateBackend>) -> Stack {
        Stack { prepared, schemas, backend }
    }

    /// The configuration files a plan embeds (every `.hcl`/`.tf` file that was read).
    pub fn config_files(&self) -> std::collections::BTreeMap<std::path::PathBuf, String> {
        config_files(&self.prepared)
    }
}

/// The configuration files a plan embeds (every `.hcl`/`.tf` file that was read).
pub fn config_files(p: &Prepared) -> std::collections::BTreeMap<std::path::PathBuf, String> {
    p.sources
        .iter()
        .filter(|(_, f)| {
            let n = f.path.to_string_lossy();
            n.ends_with(".hcl") || n.ends_with(".tf")
        })
        .map(|(_, f)| (f.path.clone(), f.text.to_string()))
        .collect()
}

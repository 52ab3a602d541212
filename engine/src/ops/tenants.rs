//! Tenant status: what `tenantform tenants` and the control plane's status page report for
//! each tenant, decided from the configuration, the state and (optionally) a refresh.
//!
//! - `pending`: configured, not (fully) applied yet;
//! - `active`: everything configured is applied and matches;
//! - `drifted`: an object changed or vanished outside tenantform;
//! - `failed`: the last apply that touched the tenant failed on it (with the provider's reason
//!   per address), or an object of it is tainted (made, but its create failed) or an
//!   interrupted create of it cannot be resolved;
//! - `orphaned`: in state, no longer configured (the next apply destroys it).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::address::{Mode, ModuleAddr, ModuleStep};
use crate::apply::TENANT_STATUS_OUTPUT;
use crate::plan::Drift;
use crate::state::{InstanceStatus, StateSnapshot};
use crate::validate::Prepared;
use crate::value::Value;

/// A tenant's status word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantState {
    Pending,
    Active,
    Drifted,
    Failed,
    Orphaned,
}

impl TenantState {
    pub fn as_str(self) -> &'static str {
        match self {
            TenantState::Pending => "pending",
            TenantState::Active => "active",
            TenantState::Drifted => "drifted",
            TenantState::Failed => "failed",
            TenantState::Orphaned => "orphaned",
        }
    }
}

/// One tenant's status.
#[derive(Clone, Debug, Serialize)]
pub struct TenantStatus {
    pub slug: String,
    pub status: TenantState,
    /// Records in state (ready, tainted or interrupted).
    pub in_state: usize,
    /// Managed resource instances the configuration declares.
    pub configured: usize,
    /// Addresses changed or deleted outside tenantform (when refreshed).
    pub drifted: Vec<String>,
    /// One line saying why, for humans.
    pub detail: Option<String>,
    /// Address → what went wrong there (the provider's error, why an object is tainted).
    pub reasons: BTreeMap<String, String>,
}

/// Every tenant of the configuration or the state, by slug.
pub fn tenant_statuses(p: &Prepared, state: &StateSnapshot, drift: &[Drift]) -> Vec<TenantStatus> {
    let mut slugs: BTreeSet<String> = p.stack.tenants.keys().cloned().collect();
    slugs.extend(state.resources.keys().filter_map(|a| a.tenant().map(str::to_string)));
    let mut drifted_by: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for d in drift {
        if let Some(t) = d.addr.tenant() {
            drifted_by.entry(t).or_default().push(d.addr.to_string());
        }
    }
    let mut configured_by: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &p.stack.resources {
        if let (Some(t), Mode::Managed) = (r.addr.tenant(), r.addr.mode()) {
            *configured_by.entry(t).or_default() += 1;
        }
    }
    let mut records_by: BTreeMap<&str, Vec<&crate::state::InstanceState>> = BTreeMap::new();
    for r in state.resources.values() {
        if let Some(t) = r.addr.tenant() {
            records_by.entry(t).or_default().push(r);
        }
    }
    slugs
        .into_iter()
        .map(|slug| {
            let records = records_by.get(slug.as_str()).map(Vec::as_slice).unwrap_or(&[]);
            let configured = configured_by.get(slug.as_str()).copied().unwrap_or(0);
            let drifted = drifted_by.remove(slug.as_str()).unwrap_or_default();
            status_of(p, state, slug, records, configured, drifted)
        })
        .collect()
}

fn status_of(
    p: &Prepared,
    state: &StateSnapshot,
    slug: String,
    records: &[&crate::state::InstanceState],
    configured: usize,
    drifted: Vec<String>,
) -> TenantStatus {
    let in_state = records.len();
    let module = ModuleAddr(vec![ModuleStep::Tenant(slug.clone())]);
    let last = state.outputs.get(&(module, TENANT_STATUS_OUTPUT.to_string())).map(|o| o.value.clone());
    let mut reasons: BTreeMap<String, String> = BTreeMap::new();
    if let Some(Value::Map(m)) = last.as_ref().and_then(|f| f.get("reasons")) {
        for (a, r) in m {
            if let Some(r) = r.as_str() {
                reasons.insert(a.clone(), r.to_string());
            }
        }
    }
    let mut tainted = Vec::new();
    for r in records {
        if r.status == InstanceStatus::Tainted {
            tainted.push(r.addr.to_string());
            let why = r.detail.as_ref().and_then(|d| d.reason.clone()).unwrap_or_else(|| "tainted".into());
            reasons.entry(r.addr.to_string()).or_insert(format!("tainted: {why}"));
        }
    }
    let status = |s: TenantState, detail: Option<String>, reasons: BTreeMap<String, String>| TenantStatus {
        slug: slug.clone(),
        status: s,
        in_state,
        configured,
        drifted: drifted.clone(),
        detail,
        reasons,
    };
    if !p.stack.tenants.contains_key(&slug) {
        return status(
            TenantState::Orphaned,
            Some("in state but no longer in the configuration; the next apply destroys it".into()),
            reasons,
        );
    }
    if let Some(f) = &last {
        let failed: Vec<String> = f
            .get("failed")
            .and_then(|l| l.as_list())
            .map(|l| l.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        let at = f.get("at").and_then(|x| x.as_str()).unwrap_or("");
        let rolled_back = f.get("rolled_back").and_then(|x| x.as_bool()).unwrap_or(false);
        let tail = if rolled_back { "; its first provisioning was rolled back" } else { "" };
        let what = if f.get("status").and_then(|s| s.as_str()) == Some("interrupted") {
            "was interrupted before"
        } else {
            "failed"
        };
        let first_reason = failed.first().and_then(|a| reasons.get(a)).map(|r| format!(": {r}")).unwrap_or_default();
        let detail = format!("last apply ({at}) {what} on: {}{first_reason}{tail}", failed.join(", "));
        return status(TenantState::Failed, Some(detail), reasons);
    }
    if !tainted.is_empty() {
        let detail =
            format!("tainted (made, but its create failed; the next apply replaces it): {}", tainted.join(", "));
        return status(TenantState::Failed, Some(detail), reasons);
    }
    if in_state == 0 {
        return status(TenantState::Pending, Some("not applied yet".into()), reasons);
    }
    if !drifted.is_empty() {
        let detail = format!("changed or deleted outside tenantform: {}", drifted.join(", "));
        return status(TenantState::Drifted, Some(detail), reasons);
    }
    let interrupted: Vec<String> =
        records.iter().filter(|r| r.status == InstanceStatus::Creating).map(|r| r.addr.to_string()).collect();
    if !interrupted.is_empty() {
        let detail = format!("interrupted creates the next plan resolves: {}", interrupted.join(", "));
        return status(TenantState::Pending, Some(detail), reasons);
    }
    if in_state < configured {
        return status(TenantState::Pending, Some(format!("{in_state} of {configured} resources applied")), reasons);
    }
    status(TenantState::Active, None, reasons)
}

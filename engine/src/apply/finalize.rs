//! The records an apply writes after its walk: refreshed objects that drifted, outputs, and
//! each touched tenant's outcome (for `tenantform tenants`).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{ApplyInput, ApplyOutcome, TENANT_STATUS_OUTPUT};
use crate::address::InstanceAddr;
use crate::diagnostics::Diagnostic;
use crate::plan::{Action, PlanMode, ResourceChange};
use crate::state::{Change, OutputState, Partition};
use crate::value::Value;

/// Writes drift, outputs and tenant outcomes.
pub(super) async fn finalize(
    input: &ApplyInput<'_>,
    values: &[Option<Value>],
    walked_errors: &HashMap<InstanceAddr, String>,
    stopped: bool,
    out: &mut ApplyOutcome,
) {
    let plan = input.plan;
    let stack = &input.prepared.stack;
    let graph = &input.prepared.graph;
    let changes: HashMap<&InstanceAddr, &ResourceChange> = plan.changes.iter().map(|c| (&c.addr, c)).collect();
    let locked: HashSet<Partition> = plan.touched_partitions().into_iter().collect();
    // Drift that the plan found and nothing above rewrote.
    let mut drift_changes = Vec::new();
    for d in &plan.drift {
        let touched = changes.get(&d.addr).is_some_and(|c| c.action != Action::NoOp);
        match (&d.after, plan.mode) {
            (None, _) if !touched && locked.contains(&Partition::of(&d.addr)) => {
                drift_changes.push(Change::Remove(d.addr.clone()))
            }
            (Some(after), PlanMode::RefreshOnly) => {
                if let Some(prior) = input.state.resources.get(&d.addr) {
                    let mut rec = prior.clone();
                    rec.value = after.clone();
                    drift_changes.push(Change::Put(rec));
                }
            }
            _ => {}
        }
    }
    // Outputs.
    for o in &plan.outputs {
        let mi =
            if o.module.is_root() { Some(0) } else { o.module.tenant().and_then(|t| stack.tenants.get(t).copied()) };
        let now = match (plan.mode, mi) {
            (PlanMode::Destroy, _) | (_, None) => None,
            (_, Some(mi)) => graph.output_nodes.get(&(mi, o.name.clone())).and_then(|n| values[n.index()].clone()),
        };
        match now {
            Some(v) if v.is_wholly_known() => {
                if o.module.is_root() {
                    out.outputs.insert(o.name.clone(), v.clone());
                }
                if o.before.as_ref() != Some(&v) {
                    drift_changes.push(Change::PutOutput(OutputState {
                        module: o.module.clone(),
                        name: o.name.clone(),
                        value: v,
                        sensitive: o.sensitive,
                    }));
                }
            }
            Some(_) => {}
            None => {
                let gone = plan.mode == PlanMode::Destroy || o.after.is_none();
                if gone && o.before.is_some() {
                    drift_changes.push(Change::RemoveOutput { module: o.module.clone(), name: o.name.clone() });
                }
            }
        }
    }
    // Per-tenant outcome, for `tenantform tenants` ("failed" until an apply succeeds again).
    let mut touched: Vec<&str> = plan.actionable().filter_map(|c| c.addr.tenant()).collect();
    touched.sort_unstable();
    touched.dedup();
    for t in touched {
        let module = crate::address::ModuleAddr(vec![crate::address::ModuleStep::Tenant(t.to_string())]);
        let failed: Vec<&InstanceAddr> = out.failed.iter().filter(|a| a.tenant() == Some(t)).collect();
        let errors: Vec<String> = failed.iter().map(|a| a.to_string()).collect();
        let reasons: BTreeMap<String, Value> = failed
            .iter()
            .filter_map(|a| Some((a.to_string(), Value::string(walked_errors.get(*a)?.clone()))))
            .collect();
        let had = input.state.outputs.contains_key(&(module.clone(), TENANT_STATUS_OUTPUT.to_string()));
        if !errors.is_empty() || stopped && out.skipped.iter().any(|a| a.tenant() == Some(t)) {
            let status = if errors.is_empty() { "interrupted" } else { "failed" };
            // An interrupted tenant lists what was left undone.
            let errors = if errors.is_empty() {
                out.skipped.iter().filter(|a| a.tenant() == Some(t)).map(|a| a.to_string()).collect()
            } else {
                errors
            };
            let value = Value::map([
                ("status", Value::string(status)),
                ("at", Value::string(crate::state::now_rfc3339())),
                ("failed", Value::List(errors.into_iter().map(Value::String).collect())),
                ("rolled_back", Value::Bool(out.rolled_back.contains_key(t))),
                ("reasons", Value::Map(reasons)),
            ]);
            drift_changes.push(Change::PutOutput(OutputState {
                module,
                name: TENANT_STATUS_OUTPUT.into(),
                value,
                sensitive: false,
            }));
        } else if had {
            drift_changes.push(Change::RemoveOutput { module, name: TENANT_STATUS_OUTPUT.into() });
        }
    }
    if !drift_changes.is_empty() {
        if let Err(e) = input.commits.commit(drift_changes).await {
            out.diags.push(Diagnostic::error("state", format!("Recording outputs and refreshed objects failed: {e}")));
        }
    }
}

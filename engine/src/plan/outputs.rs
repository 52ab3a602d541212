//! The output changes of a plan: the root module's and every tenant module's outputs compared
//! with what state stores.

use std::collections::HashSet;

use super::planner::PlanOptions;
use super::{OutputChange, PlanMode};
use crate::address::ModuleAddr;
use crate::expand::Stack;
use crate::graph::StackGraph;
use crate::state::StateSnapshot;
use crate::value::Value;

/// Output changes of the root module and every tenant module.
pub(super) fn output_changes(
    stack: &Stack,
    graph: &StackGraph,
    values: &[Option<Value>],
    state: &StateSnapshot,
    opts: &PlanOptions,
    tenant_filter: &Option<HashSet<&str>>,
) -> Vec<OutputChange> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let wanted = |m: &ModuleAddr| match (tenant_filter, m.tenant()) {
        (Some(f), Some(t)) => f.contains(t),
        (Some(_), None) => false,
        (None, _) => true,
    };
    for (mi, m) in stack.modules.iter().enumerate() {
        let is_tenant_root = matches!(m.origin, crate::expand::Origin::Tenant { .. });
        if !(mi == 0 || is_tenant_root) || !wanted(&m.addr) {
            continue;
        }
        for (name, o) in &m.module.outputs {
            let before = state.outputs.get(&(m.addr.clone(), name.clone())).map(|s| s.value.clone());
            let after = if opts.mode == PlanMode::Destroy {
                None
            } else {
                graph.output_nodes.get(&(mi, name.clone())).and_then(|n| values[n.index()].clone())
            };
            seen.insert((m.addr.clone(), name.clone()));
            if opts.mode == PlanMode::RefreshOnly && before.is_none() {
                continue;
            }
            out.push(OutputChange {
                module: m.addr.clone(),
                name: name.clone(),
                before,
                after,
                sensitive: o.sensitive,
            });
        }
    }
    // Outputs in state whose module or declaration is gone (internal ones are apply's business,
    // except when the whole tenant goes).
    for ((module, name), o) in &state.outputs {
        let internal = name.starts_with("__");
        let tenant_gone =
            module.tenant().is_some_and(|t| !stack.tenants.contains_key(t)) || opts.mode == PlanMode::Destroy;
        if internal && !tenant_gone {
            continue;
        }
        if !seen.contains(&(module.clone(), name.clone())) && wanted(module) && opts.mode != PlanMode::RefreshOnly {
            out.push(OutputChange {
                module: module.clone(),
                name: name.clone(),
                before: Some(o.value.clone()),
                after: None,
                sensitive: o.sensitive,
            });
        }
    }
    out.sort_by(|a, b| (&a.module, &a.name).cmp(&(&b.module, &b.name)));
    out
}

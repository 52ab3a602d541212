//! The planner: the steps of one plan. `moved` blocks rename stored objects, import requests
//! are resolved, the scope (`-target`, `--tenant`) is decided, the orphans are chosen, then
//! one walk ([`super::walk`], on the shared [`crate::schedule`]r) refreshes and plans every
//! instance and orphan, and the result is checked (`prevent_destroy`) and assembled.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

use super::imports::import_requests;
pub use super::imports::resolve_import_blocks;
use super::moved::apply_moved_blocks;
use super::outputs::output_changes;
use super::{Plan, PlanMode};
use crate::address::{InstanceAddr, Mode, Target};
use crate::diagnostics::{Diagnostic, Diagnostics, Span};
use crate::expand::RiId;
use crate::provider::ProviderError;
use crate::runtime::{ConfiguredProviders, RetryPolicy, Schemas};
use crate::state::{InstanceState, Partition, StateSnapshot};
use crate::validate::Prepared;

/// What to plan.
#[derive(Clone, Debug)]
pub struct PlanOptions {
    pub mode: PlanMode,
    /// `-target`: only these (and what they depend on).
    pub targets: Vec<Target>,
    /// `--tenant`: only these tenants (and the shared resources they depend on).
    pub tenants: Vec<String>,
    /// `-replace`: plan these for replacement.
    pub replace: Vec<InstanceAddr>,
    /// Read every prior object through its provider first (`-refresh=false` turns it off).
    pub refresh: bool,
    pub parallelism: usize,
    pub retry: RetryPolicy,
    /// Objects to adopt: (address, import ID), from `tenantform import` (config `import {}`
    /// blocks are added by the planner).
    pub imports: Vec<(InstanceAddr, String)>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            mode: PlanMode::Normal,
            targets: Vec::new(),
            tenants: Vec::new(),
            replace: Vec::new(),
            refresh: true,
            parallelism: 64,
            retry: RetryPolicy::default(),
            imports: Vec::new(),
        }
    }
}

/// Everything the planner reads.
pub struct PlanInput<'a> {
    pub prepared: &'a Prepared,
    pub schemas: Schemas,
    pub state: &'a StateSnapshot,
    pub options: PlanOptions,
    /// The configuration files to embed in the plan.
    pub config_files: BTreeMap<PathBuf, String>,
}

/// A plan and the provider instances configured while making it (apply reuses them).
pub struct PlanOutput {
    pub plan: Plan,
    pub providers: ConfiguredProviders,
    pub warnings: Diagnostics,
}

/// Turns a provider error into a diagnostic about one instance.
pub fn provider_diag(addr: &InstanceAddr, op: &str, e: &ProviderError, span: Option<Span>) -> Diagnostic {
    let mut d = Diagnostic::error("provider", format!("{addr}: {op} failed: {}", e.summary)).with_span(span);
    d.label = Some(format!("{op} of {addr}"));
    if let Some(detail) = &e.detail {
        d = d.with_detail(detail.clone());
    }
    if let Some(h) = &e.help {
        d = d.with_help(h.clone());
    }
    d
}

/// Computes a plan.
pub async fn plan(input: PlanInput<'_>, cancel: CancellationToken) -> Result<PlanOutput, Diagnostics> {
    let p = input.prepared;
    tracing::info!(
        resources = p.stack.resources.len(),
        tenants = p.stack.tenants.len(),
        stored = input.state.resources.len(),
        mode = ?input.options.mode,
        "planning"
    );
    let stack = &p.stack;
    let opts = &input.options;
    // `moved {}` blocks rename stored objects before anything is compared.
    let (moved_state, moved_from) = apply_moved_blocks(p, input.state)?;
    let state: &StateSnapshot = moved_state.as_ref().unwrap_or(input.state);
    let imports = import_requests(p, &input.schemas, &opts.imports)?;
    check_replace_targets(stack, &opts.replace)?;

    let deps = p.graph.resource_dependencies();
    let in_scope = if opts.mode == PlanMode::Destroy {
        // Destroying a target takes what depends on it along, never what it depends on.
        let mut dependents = vec![Vec::new(); deps.len()];
        for (ri, ds) in deps.iter().enumerate() {
            for d in ds {
                dependents[*d].push(ri);
            }
        }
        scope(stack, &dependents, &opts.targets, &opts.tenants)
    } else {
        scope(stack, &deps, &opts.targets, &opts.tenants)
    };
    let tenant_filter: Option<HashSet<&str>> =
        if opts.tenants.is_empty() { None } else { Some(opts.tenants.iter().map(String::as_str).collect()) };
    let orphans = select_orphans(stack, state, opts, &in_scope, &tenant_filter);

    let walked = super::walk::walk(super::walk::PlanWalkInput {
        prepared: p,
        schemas: &input.schemas,
        state,
        options: opts,
        deps: &deps,
        in_scope: &in_scope,
        imports: &imports,
        moved_from: &moved_from,
        orphans,
        cancel: cancel.clone(),
    })
    .await;
    let super::walk::Walked { mut changes, mut drift, mut deferred, mut diags, values, providers } = walked;
    if cancel.is_cancelled() {
        diags.push(Diagnostic::error("interrupted", "Planning was interrupted"));
    }
    // prevent_destroy on replacements.
    for c in &changes {
        if c.action.is_replace() {
            if let Some(ri) = stack.by_addr.get(&c.addr) {
                let r = &stack.resources[*ri];
                if r.config.lifecycle.prevent_destroy {
                    diags.push(prevent_destroy_diag(&c.addr, r.config.lifecycle.span.or(Some(r.config.span))));
                }
            }
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    changes.sort_by(|a, b| a.addr.cmp(&b.addr));
    drift.sort_by(|a, b| a.addr.cmp(&b.addr));
    deferred.sort_by(|a, b| a.addr.cmp(&b.addr));

    // Outputs compare with what is stored (a `moved` rename is not stored until apply), so a
    // renamed tenant's outputs are written under the new name and removed under the old one.
    let outputs = output_changes(stack, &p.graph, &values, input.state, opts, &tenant_filter);
    let mut partition_serials = BTreeMap::new();
    let mut parts: HashSet<Partition> = changes.iter().map(|c| c.partition()).collect();
    parts.extend(state.partition_serials.keys().cloned());
    for part in parts {
        let serial = state.partition_serials.get(&part).copied().unwrap_or(0);
        partition_serials.insert(part, serial);
    }
    let plan = Plan {
        format_version: Plan::FORMAT_VERSION,
        tenantform_version: env!("CARGO_PKG_VERSION").to_string(),
        mode: opts.mode,
        lineage: state.lineage.clone(),
        partition_serials,
        changes,
        outputs,
        drift,
        variables: stack.root_inputs.clone(),
        config_files: input.config_files,
        dir: stack.config.dir.clone(),
        targets: opts.targets.clone(),
        tenants: opts.tenants.clone(),
        deferred,
    };
    Ok(PlanOutput { plan, providers, warnings: diags })
}

/// `-replace` may name only configured instances.
fn check_replace_targets(stack: &crate::expand::Stack, replace: &[InstanceAddr]) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::new();
    for r in replace {
        if !stack.by_addr.contains_key(r) {
            diags.push(
                Diagnostic::error(
                    "invalid-target",
                    format!("-replace {r}: no such resource instance in the configuration"),
                )
                .with_help("check the address with `tenantform state list`"),
            );
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(())
    }
}

/// Objects in state that the configuration no longer has (or everything in scope, when
/// destroying).
fn select_orphans(
    stack: &crate::expand::Stack,
    state: &StateSnapshot,
    opts: &PlanOptions,
    in_scope: &[bool],
    tenant_filter: &Option<HashSet<&str>>,
) -> Vec<InstanceState> {
    let mut orphans = Vec::new();
    for (addr, s) in &state.resources {
        let configured = stack.by_addr.get(addr);
        let wanted = match (tenant_filter, addr.tenant()) {
            (Some(f), Some(t)) => f.contains(t),
            (Some(_), None) => false,
            (None, _) => true,
        } && (opts.targets.is_empty() || opts.targets.iter().any(|t| t.matches(addr)));
        let orphan = match (opts.mode, configured) {
            (PlanMode::Destroy, Some(ri)) => in_scope[*ri],
            (PlanMode::Destroy, None) => wanted,
            (PlanMode::Normal | PlanMode::RefreshOnly, None) => wanted,
            _ => false,
        };
        if orphan && addr.mode() == Mode::Managed {
            orphans.push(s.clone());
        }
    }
    orphans
}

pub(super) fn prevent_destroy_diag(addr: &InstanceAddr, span: Option<Span>) -> Diagnostic {
    Diagnostic::error("prevent-destroy", format!("Instance cannot be destroyed: {addr}"))
        .with_span(span)
        .with_label("lifecycle.prevent_destroy is set")
        .with_help("the plan would destroy it; remove prevent_destroy deliberately, or change the plan so the object survives (e.g. undo the change that forces replacement)")
}

/// Which resource instances are in scope: all, or the targeted ones and everything reachable
/// from them through `links` (dependencies when planning, dependents when destroying).
pub fn scope(stack: &crate::expand::Stack, links: &[Vec<RiId>], targets: &[Target], tenants: &[String]) -> Vec<bool> {
    if targets.is_empty() && tenants.is_empty() {
        return vec![true; stack.resources.len()];
    }
    let mut keep = vec![false; stack.resources.len()];
    let mut todo: Vec<RiId> = stack
        .resources
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            targets.iter().any(|t| t.matches(&r.addr))
                || r.addr.tenant().is_some_and(|t| tenants.iter().any(|x| x == t))
        })
        .map(|(i, _)| i)
        .collect();
    while let Some(r) = todo.pop() {
        if !keep[r] {
            keep[r] = true;
            todo.extend(links[r].iter().copied());
        }
    }
    keep
}

//! The planner: walks the graph, refreshing each prior object through its provider and
//! diffing it against the configuration, with provider calls running concurrently (bounded
//! by parallelism) and evaluation on one coordinator. Orphans (in state, not in
//! configuration) are refreshed and planned for deletion after the walk.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use petgraph::graph::NodeIndex;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::diff::{changed_paths, copy_config_marks, proposed, replace_paths};
use super::{Action, Drift, OutputChange, Plan, PlanMode, ResourceChange};
use crate::address::{InstanceAddr, Mode, ModuleAddr, Target};
use crate::config::Resource;
use crate::diagnostics::{Diagnostic, Diagnostics, Span};
use crate::expand::RiId;
use crate::graph::{provider_key, Node};
use crate::provider::{
    ConfiguredProvider, DataSourceType, OpContext, PlanRequest, ProviderError, ResourceType, Schema,
};
use crate::runtime::{with_retries, ConfiguredProviders, RetryPolicy, Schemas};
use crate::state::{InstanceState, InstanceStatus, Partition, StateSnapshot};
use crate::validate::{unknown_type, Prepared};
use crate::value::Value;
use crate::walk::{mark_schema_sensitive, with_unknown_computed, Walker};

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

enum Done {
    Provider(Result<Arc<dyn ConfiguredProvider>, Diagnostic>),
    Resource(Result<Planned, Diagnostics>),
}

struct Planned {
    change: Option<ResourceChange>,
    value: Value,
    drift: Option<Drift>,
}

/// Static facts about one instance that the async planning task needs.
struct InstanceJob {
    addr: InstanceAddr,
    provider: String,
    mode: Mode,
    schema: Arc<Schema>,
    schema_version: u32,
    config: Option<Value>,
    prior: Option<InstanceState>,
    refresh: bool,
    plan_mode: PlanMode,
    force_replace: Option<String>,
    ignore: Vec<String>,
    ignore_all: bool,
    cbd: bool,
    prevent_destroy: bool,
    lifecycle_span: Option<Span>,
    span: Span,
    dependencies: Vec<InstanceAddr>,
    resource: Option<Arc<dyn ResourceType>>,
    data_source: Option<Arc<dyn DataSourceType>>,
    retry: RetryPolicy,
    cancel: CancellationToken,
    /// Adopt the object with this import ID (there is no prior state).
    import_id: Option<String>,
    /// The provider's documented import ID format, for the error when the ID matches nothing.
    import_format: String,
    moved_from: Option<InstanceAddr>,
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
    let graph = &p.graph;
    let opts = &input.options;
    // `moved {}` blocks rename stored objects before anything is compared.
    let (moved_state, moved_from) = match apply_moved_blocks(p, input.state) {
        Ok(x) => x,
        Err(d) => return Err(d),
    };
    let state: &StateSnapshot = moved_state.as_ref().unwrap_or(input.state);
    let imports = match import_requests(p, &input.schemas, &opts.imports) {
        Ok(i) => i,
        Err(d) => return Err(d),
    };
    let providers = ConfiguredProviders::default();
    let semaphore = Arc::new(Semaphore::new(opts.parallelism.max(1)));
    let mut diags = Diagnostics::new();
    let mut seen_diag = HashSet::new();

    let deps = graph.resource_dependencies();
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

    for r in &opts.replace {
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
        return Err(diags);
    }

    let mut changes: Vec<ResourceChange> = Vec::new();
    let mut drift: Vec<Drift> = Vec::new();
    // Actions decided so far, for replace_triggered_by.
    let mut planned_actions: std::collections::HashMap<RiId, Action> = std::collections::HashMap::new();
    let mut w = Walker::new(stack, graph);
    let mut set: JoinSet<(NodeIndex, Done)> = JoinSet::new();
    let cap = opts.parallelism.max(1);
    let mut deferred: std::collections::VecDeque<NodeIndex> = std::collections::VecDeque::new();
    loop {
        // Resource nodes start only while fewer than `parallelism` calls are in flight; the
        // others wait here, unevaluated (evaluating them just before they run is the point).
        loop {
            let next = if set.len() < cap { deferred.pop_front().or_else(|| w.next_ready()) } else { w.next_ready() };
            let Some(n) = next else { break };
            if matches!(graph.graph[n], Node::Resource(_)) && set.len() >= cap {
                deferred.push_back(n);
                continue;
            }
            if cancel.is_cancelled() {
                w.fail(n);
                continue;
            }
            match &graph.graph[n] {
                Node::Provider(key) => match w.eval_node(n) {
                    Ok(cfg) => {
                        let name = key.split('.').next().unwrap_or(key).to_string();
                        let Some(provider) = input.schemas.registry().get(&name).cloned() else {
                            let d = Diagnostic::error("unknown-provider", format!("Unknown provider \"{name}\""))
                                .with_help(format!(
                                    "available providers: {}",
                                    input.schemas.registry().names().collect::<Vec<_>>().join(", ")
                                ));
                            push_once(&mut diags, &mut seen_diag, d);
                            w.fail(n);
                            continue;
                        };
                        w.values[n.index()] = Some(cfg.clone());
                        let key = key.clone();
                        set.spawn(async move {
                            let cfg = cfg.unmark_deep();
                            let r = provider.configure(&cfg).await.map_err(|e| {
                                let mut d = Diagnostic::error(
                                    "provider",
                                    format!("Configuring provider \"{key}\" failed: {}", e.summary),
                                );
                                if let Some(x) = e.detail {
                                    d = d.with_detail(x);
                                }
                                if let Some(h) = e.help {
                                    d = d.with_help(h);
                                }
                                d
                            });
                            (n, Done::Provider(r))
                        });
                    }
                    Err(d) => {
                        push_once(&mut diags, &mut seen_diag, d);
                        w.fail(n);
                    }
                },
                Node::Resource(ri) => {
                    let ri = *ri;
                    let r = &stack.resources[ri];
                    let prior = state.resources.get(&r.addr).cloned();
                    if !in_scope[ri] || opts.mode == PlanMode::Destroy {
                        // Outside the plan: its stored value stands in for references.
                        let v = prior.map(|s| s.value).unwrap_or(Value::Unknown);
                        w.complete(n, v);
                        continue;
                    }
                    let Some((schema, version)) = input.schemas.get(r.config.mode, &r.config.ty) else {
                        push_once(
                            &mut diags,
                            &mut seen_diag,
                            unknown_type(input.schemas.registry(), r.config.mode, &r.config.ty, r.config.type_span),
                        );
                        w.fail(n);
                        continue;
                    };
                    // A refresh-only plan reads data sources (outputs may use them) but only
                    // when what they depend on exists: a data source of a tenant that was never
                    // applied would be read with null arguments.
                    if opts.mode == PlanMode::RefreshOnly && r.config.mode == Mode::Data {
                        let inputs_exist = deps[ri].iter().all(|d| {
                            let dr = &stack.resources[*d];
                            dr.config.mode == Mode::Data || state.resources.contains_key(&dr.addr)
                        });
                        if !inputs_exist {
                            w.complete(n, Value::Unknown);
                            continue;
                        }
                    }
                    let config = if opts.mode == PlanMode::RefreshOnly && r.config.mode == Mode::Managed {
                        None
                    } else {
                        match w.eval_resource_config(ri, &schema) {
                            Ok(c) => Some(c),
                            Err(_) if opts.mode == PlanMode::RefreshOnly => {
                                // An input object was deleted outside tenantform: the drift
                                // shows on that object; this data source cannot be read.
                                w.complete(n, Value::Unknown);
                                continue;
                            }
                            Err(ds) => {
                                for d in ds {
                                    push_once(&mut diags, &mut seen_diag, d);
                                }
                                w.fail(n);
                                continue;
                            }
                        }
                    };
                    let pkey = provider_key(&r.config);
                    let (resource, data_source) = match r.config.mode {
                        Mode::Managed => match providers.resource(&pkey, &r.config.ty) {
                            Ok(rt) => (Some(rt), None),
                            Err(e) => {
                                diags.push(provider_diag(&r.addr, "plan", &e, Some(r.config.span)));
                                w.fail(n);
                                continue;
                            }
                        },
                        Mode::Data => match providers.data_source(&pkey, &r.config.ty) {
                            Ok(ds) => (None, Some(ds)),
                            Err(e) => {
                                diags.push(provider_diag(&r.addr, "read", &e, Some(r.config.span)));
                                w.fail(n);
                                continue;
                            }
                        },
                    };
                    let triggered_by = r.config.lifecycle.replace_triggered_by.iter().find_map(|reference| {
                        let crate::config::RefTarget::Resource(mode, ty, name) = &reference.target else { return None };
                        let inst = stack.modules[r.mi].resources.get(&crate::expand::resource_key(*mode, ty, name))?;
                        inst.items.iter().find_map(|(_, dep)| {
                            let a = planned_actions.get(dep)?;
                            matches!(a, Action::Create | Action::Update | Action::Replace | Action::CreateThenDelete)
                                .then(|| stack.resources[*dep].addr.to_string())
                        })
                    });
                    let force_replace = if opts.replace.contains(&r.addr) {
                        Some("requested with -replace".to_string())
                    } else if prior.as_ref().is_some_and(|s| s.status == InstanceStatus::Tainted) {
                        Some("tainted: a previous apply left it incomplete".to_string())
                    } else if let (Some(t), Some(_)) = (&triggered_by, &prior) {
                        Some(format!("replace_triggered_by: {t} changes"))
                    } else {
                        None
                    };
                    let import_id = if prior.is_none() { imports.get(&r.addr).cloned() } else { None };
                    let import_format = input
                        .schemas
                        .registry()
                        .resource_schema(&r.config.ty)
                        .map(|s| s.import_id.clone())
                        .unwrap_or_default();
                    let job = job_for(
                        ri,
                        r.config.as_ref(),
                        prior,
                        config,
                        schema,
                        version,
                        pkey,
                        force_replace,
                        &deps,
                        stack,
                        opts,
                        &cancel,
                    );
                    let job = InstanceJob {
                        resource,
                        data_source,
                        import_id,
                        import_format,
                        moved_from: moved_from.get(&r.addr).cloned(),
                        ..job
                    };
                    let sem = semaphore.clone();
                    set.spawn(async move {
                        let _permit = sem.acquire_owned().await;
                        (n, Done::Resource(plan_instance(job).await))
                    });
                }
                _ => match w.eval_node(n) {
                    Ok(v) => w.complete(n, v),
                    Err(d) => {
                        push_once(&mut diags, &mut seen_diag, d);
                        w.fail(n);
                    }
                },
            }
        }
        let Some(joined) = set.join_next().await else { break };
        let (n, done) = match joined {
            Ok(x) => x,
            Err(e) => {
                diags.push(Diagnostic::error("internal", format!("a planning task failed: {e}")));
                continue;
            }
        };
        match done {
            Done::Provider(Ok(cp)) => {
                if let Node::Provider(key) = &graph.graph[n] {
                    providers.insert(key, cp);
                }
                let v = w.values[n.index()].take().unwrap_or(Value::Null);
                w.complete(n, v);
            }
            Done::Provider(Err(d)) => {
                diags.push(d);
                w.fail(n);
            }
            Done::Resource(Ok(planned)) => {
                if let Some(c) = planned.change {
                    if let Node::Resource(ri) = &graph.graph[n] {
                        planned_actions.insert(*ri, c.action);
                    }
                    changes.push(c);
                }
                if let Some(d) = planned.drift {
                    drift.push(d);
                }
                w.complete(n, planned.value);
            }
            Done::Resource(Err(ds)) => {
                for d in ds {
                    push_once(&mut diags, &mut seen_diag, d);
                }
                w.fail(n);
            }
        }
    }
    if cancel.is_cancelled() {
        diags.push(Diagnostic::error("interrupted", "Planning was interrupted"));
    }
    if diags.has_errors() {
        return Err(diags);
    }

    // Objects in state that the configuration no longer has (or everything, when destroying).
    let tenant_filter: Option<HashSet<&str>> =
        if opts.tenants.is_empty() { None } else { Some(opts.tenants.iter().map(String::as_str).collect()) };
    let mut orphans: Vec<&InstanceState> = Vec::new();
    for (addr, s) in &state.resources {
        let configured = stack.by_addr.get(addr);
        let wanted = match (&tenant_filter, addr.tenant()) {
            (Some(f), Some(t)) => f.contains(t),
            (Some(_), None) => false,
            (None, _) => true,
        } && (opts.targets.is_empty() || opts.targets.iter().any(|t| t.matches(addr)));
        match (opts.mode, configured) {
            (PlanMode::Destroy, Some(ri)) if in_scope[*ri] => orphans.push(s),
            (PlanMode::Destroy, None) if wanted => orphans.push(s),
            (PlanMode::Normal | PlanMode::RefreshOnly, None) if wanted => orphans.push(s),
            _ => {}
        }
    }
    let mut set: JoinSet<Result<(Option<ResourceChange>, Option<Drift>), Diagnostic>> = JoinSet::new();
    for s in orphans {
        let s = s.clone();
        let configured = stack.by_addr.get(&s.addr).map(|ri| &stack.resources[*ri]);
        if let Some(r) = configured {
            if r.config.lifecycle.prevent_destroy && opts.mode == PlanMode::Destroy {
                diags.push(prevent_destroy_diag(&s.addr, r.config.lifecycle.span.or(Some(r.config.span))));
                continue;
            }
        }
        if s.addr.mode() == Mode::Data {
            continue;
        }
        let Some((schema, _)) = input.schemas.get(Mode::Managed, s.addr.ty()) else {
            diags.push(
                Diagnostic::error(
                    "unknown-resource-type",
                    format!("{}: state holds an unknown resource type \"{}\"", s.addr, s.addr.ty()),
                )
                .with_help("the provider that manages it is not built in; remove it with `tenantform state rm`"),
            );
            continue;
        };
        let rt = match ensure_provider(&providers, &input.schemas, &s.provider).await {
            Ok(p) => p.resource(s.addr.ty()),
            Err(d) => {
                diags.push(d);
                continue;
            }
        };
        let Some(rt) = rt else { continue };
        let refresh = opts.refresh;
        let mode = opts.mode;
        let retry = opts.retry;
        let cancel = cancel.clone();
        let sem = semaphore.clone();
        set.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let ctx = OpContext { cancel, address: s.addr.to_string(), ..OpContext::default() };
            let current = if refresh || s.status == InstanceStatus::Creating {
                let plain = s.value.clone().unmark_deep().unknown_to_null();
                with_retries(retry, || rt.read(&plain, &ctx))
                    .await
                    .map_err(|e| provider_diag(&s.addr, "refresh", &e, None))?
            } else {
                Some(s.value.clone().unmark_deep())
            };
            let Some(current) = current else {
                return Ok((None, Some(Drift::deleted(s.addr.clone(), s.value.clone()))));
            };
            let current = mark_schema_sensitive(copy_config_marks(&s.value, current), &schema);
            let d = drift_of(&schema, &s, &current);
            if mode == PlanMode::RefreshOnly {
                return Ok((None, d));
            }
            let reason =
                if mode == PlanMode::Destroy { None } else { Some("no longer in the configuration".to_string()) };
            Ok((
                Some(ResourceChange {
                    addr: s.addr.clone(),
                    provider: s.provider.clone(),
                    action: Action::Delete,
                    before: Some(current),
                    after: None,
                    replace_paths: Vec::new(),
                    reason,
                    dependencies: s.dependencies.clone(),
                    create_before_destroy: s.create_before_destroy,
                    import_id: None,
                    moved_from: None,
                    schema_version: s.schema_version,
                    record_only: false,
                }),
                d,
            ))
        });
    }
    while let Some(j) = set.join_next().await {
        match j {
            Ok(Ok((c, d))) => {
                changes.extend(c);
                drift.extend(d);
            }
            Ok(Err(d)) => diags.push(d),
            Err(e) => diags.push(Diagnostic::error("internal", format!("a refresh task failed: {e}"))),
        }
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

    // Outputs compare with what is stored (a `moved` rename is not stored until apply), so a
    // renamed tenant's outputs are written under the new name and removed under the old one.
    let outputs = output_changes(&w, input.state, opts, &tenant_filter);
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
    };
    Ok(PlanOutput { plan, providers, warnings: diags })
}

fn push_once(diags: &mut Diagnostics, seen: &mut HashSet<(Option<Span>, String)>, d: Diagnostic) {
    if seen.insert((d.span, d.summary.clone())) {
        diags.push(d);
    }
}

fn prevent_destroy_diag(addr: &InstanceAddr, span: Option<Span>) -> Diagnostic {
    Diagnostic::error("prevent-destroy", format!("Instance cannot be destroyed: {addr}"))
        .with_span(span)
        .with_label("lifecycle.prevent_destroy is set")
        .with_help("the plan would destroy it; remove prevent_destroy deliberately, or change the plan so the object survives (e.g. undo the change that forces replacement)")
}

/// Configures a provider that the walk did not (it manages only orphans).
async fn ensure_provider(
    providers: &ConfiguredProviders,
    schemas: &Schemas,
    key: &str,
) -> Result<Arc<dyn ConfiguredProvider>, Diagnostic> {
    if let Some(p) = providers.get(key) {
        return Ok(p);
    }
    let name = key.split('.').next().unwrap_or(key);
    let Some(provider) = schemas.registry().get(name) else {
        return Err(Diagnostic::error("unknown-provider", format!("State refers to unknown provider \"{name}\"")));
    };
    let p = provider
        .configure(&Value::Map(BTreeMap::new()))
        .await
        .map_err(|e| Diagnostic::error("provider", format!("Configuring provider \"{key}\" failed: {}", e.summary)))?;
    providers.insert(key, p.clone());
    Ok(p)
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

#[allow(clippy::too_many_arguments)]
fn job_for(
    ri: RiId,
    r: &Resource,
    prior: Option<InstanceState>,
    config: Option<Value>,
    schema: Arc<Schema>,
    schema_version: u32,
    provider: String,
    force_replace: Option<String>,
    deps: &[Vec<RiId>],
    stack: &crate::expand::Stack,
    opts: &PlanOptions,
    cancel: &CancellationToken,
) -> InstanceJob {
    InstanceJob {
        addr: stack.resources[ri].addr.clone(),
        provider,
        mode: r.mode,
        schema,
        schema_version,
        config,
        prior,
        refresh: opts.refresh,
        plan_mode: opts.mode,
        force_replace,
        ignore: r.lifecycle.ignore_changes.clone(),
        ignore_all: r.lifecycle.ignore_all_changes,
        cbd: r.lifecycle.create_before_destroy,
        prevent_destroy: r.lifecycle.prevent_destroy,
        lifecycle_span: r.lifecycle.span,
        span: r.span,
        dependencies: deps[ri].iter().map(|d| stack.resources[*d].addr.clone()).collect(),
        resource: None,
        data_source: None,
        retry: opts.retry,
        cancel: cancel.clone(),
        import_id: None,
        import_format: String::new(),
        moved_from: None,
    }
}

fn drift_of(schema: &Schema, prior: &InstanceState, current: &Value) -> Option<Drift> {
    Drift::changed(schema, prior.addr.clone(), prior.value.clone(), current.clone())
}

async fn plan_instance(job: InstanceJob) -> Result<Planned, Diagnostics> {
    let r = plan_instance_inner(&job).await;
    match &r {
        Ok(p) => tracing::debug!(
            address = %job.addr,
            action = ?p.change.as_ref().map(|c| c.action),
            drift = p.drift.is_some(),
            "planned"
        ),
        Err(_) => tracing::debug!(address = %job.addr, "planning failed"),
    }
    r
}

async fn plan_instance_inner(job: &InstanceJob) -> Result<Planned, Diagnostics> {
    let ctx = OpContext { cancel: job.cancel.clone(), address: job.addr.to_string(), ..OpContext::default() };
    let fail = |op: &str, e: ProviderError| -> Diagnostics { provider_diag(&job.addr, op, &e, Some(job.span)).into() };
    let schema = &job.schema;

    if job.mode == Mode::Data {
        let config = job.config.clone().unwrap_or(Value::Null);
        let Some(ds) = &job.data_source else { return Err(fail("read", ProviderError::permanent("no data source"))) };
        if job.plan_mode == PlanMode::RefreshOnly {
            // Nothing is planned; a data source that cannot be read (an input object deleted
            // outside tenantform) must not hide the drift this plan is for.
            if !config.is_wholly_known() {
                return Ok(Planned { change: None, value: Value::Unknown, drift: None });
            }
            let plain = config.clone().unmark_deep();
            return match with_retries(job.retry, || ds.read(&plain, &ctx)).await {
                Ok(v) => Ok(Planned {
                    change: None,
                    value: mark_schema_sensitive(copy_config_marks(&config, v), schema),
                    drift: None,
                }),
                Err(e) => {
                    tracing::warn!(address = %job.addr, error = %e.summary, "data source not read in a refresh-only plan");
                    Ok(Planned { change: None, value: Value::Unknown, drift: None })
                }
            };
        }
        if !config.is_wholly_known() {
            // Read during apply, once the inputs are known.
            let after = mark_schema_sensitive(with_unknown_computed(&config, schema), schema);
            let change = ResourceChange {
                addr: job.addr.clone(),
                provider: job.provider.clone(),
                action: Action::Read,
                before: None,
                after: Some(after.clone()),
                replace_paths: Vec::new(),
                reason: Some("its configuration depends on values known only after apply".into()),
                dependencies: job.dependencies.clone(),
                create_before_destroy: false,
                import_id: None,
                moved_from: None,
                schema_version: job.schema_version,
                record_only: false,
            };
            return Ok(Planned { change: Some(change), value: after, drift: None });
        }
        let plain = config.clone().unmark_deep();
        let v = with_retries(job.retry, || ds.read(&plain, &ctx)).await.map_err(|e| fail("read", e))?;
        let v = mark_schema_sensitive(copy_config_marks(&config, v), schema);
        return Ok(Planned { change: None, value: v, drift: None });
    }

    let Some(rt) = &job.resource else { return Err(fail("plan", ProviderError::permanent("no resource type"))) };
    // Refresh.
    let mut reason: Option<String> = None;
    let mut drift = None;
    let mut record_only = false;
    let current: Option<Value> = match &job.prior {
        None if job.import_id.is_some() => {
            let id = job.import_id.clone().unwrap_or_default();
            match with_retries(job.retry, || rt.import(&id, &ctx)).await {
                Ok(v) => {
                    let v = adopt_unreadable(v, job.config.as_ref().unwrap_or(&Value::Null), schema);
                    Some(mark_schema_sensitive(
                        copy_config_marks(job.config.as_ref().unwrap_or(&Value::Null), v),
                        schema,
                    ))
                }
                Err(e) if e.kind == crate::provider::ErrorKind::NotFound => {
                    let mut d = Diagnostic::error(
                        "import-not-found",
                        format!("Cannot import non-existent remote object: {} (ID \"{id}\")", job.addr),
                    )
                    .with_span(Some(job.span))
                    .with_detail(e.summary.clone());
                    d = d.with_help(if job.import_format.is_empty() {
                        "check the ID; nothing with this ID exists".to_string()
                    } else {
                        format!("check the ID; this resource type is imported by {}", job.import_format)
                    });
                    return Err(d.into());
                }
                Err(e) => return Err(fail("import", e)),
            }
        }
        None => None,
        Some(prior) => {
            let interrupted = prior.status == InstanceStatus::Creating;
            if job.refresh || interrupted {
                let plain = prior.value.clone().unmark_deep().unknown_to_null();
                let mut read =
                    with_retries(job.retry, || rt.read(&plain, &ctx)).await.map_err(|e| fail("refresh", e))?;
                if interrupted
                    && read.as_ref().is_some_and(|v| !v.is_wholly_known() || v.get("id").is_some_and(Value::is_null))
                {
                    // The provider could not identify an object from the intent: nothing was made.
                    read = None;
                }
                match read {
                    Some(v) => {
                        let v = mark_schema_sensitive(copy_config_marks(&prior.value, v), schema);
                        if interrupted {
                            record_only = true;
                            reason =
                                Some("adopted: a previous create was interrupted after the object was made".into());
                        } else {
                            drift = drift_of(schema, prior, &v);
                        }
                        Some(v)
                    }
                    None => {
                        if interrupted {
                            reason = Some("a previous create was interrupted before the object was made".into());
                        } else {
                            reason = Some("it was deleted outside tenantform".into());
                            drift = Some(Drift::deleted(job.addr.clone(), prior.value.clone()));
                        }
                        None
                    }
                }
            } else {
                Some(prior.value.clone())
            }
        }
    };
    if job.plan_mode == PlanMode::RefreshOnly {
        // An object that does not exist (a tenant never applied, or deleted outside
        // tenantform) has no attributes to show: references to it are unknown, not errors.
        let value = current.clone().unwrap_or(Value::Unknown);
        return Ok(Planned { change: None, value, drift });
    }
    let config = job.config.clone().unwrap_or(Value::Null);
    let import_id = job.import_id.as_ref().filter(|_| job.prior.is_none()).map(|id| {
        if current.as_ref().is_some_and(|c| c.reveals(id)) {
            "(sensitive value)".to_string()
        } else {
            id.clone()
        }
    });
    let base = |action: Action, before: Option<Value>, after: Value, replace_paths, reason| ResourceChange {
        addr: job.addr.clone(),
        provider: job.provider.clone(),
        action,
        before,
        after: Some(after),
        replace_paths,
        reason,
        dependencies: job.dependencies.clone(),
        create_before_destroy: job.cbd,
        import_id: import_id.clone(),
        moved_from: job.moved_from.clone(),
        schema_version: job.schema_version,
        record_only: false,
    };
    let plan_new = |config: &Value| {
        let proposed = with_unknown_computed(config, schema);
        let req = PlanRequest { prior: None, config: config.clone().unmark_deep(), proposed: proposed.unmark_deep() };
        async move {
            let resp = rt.plan(req).await?;
            Ok::<Value, ProviderError>(resp.planned)
        }
    };
    let Some(current) = current else {
        let planned = plan_new(&config).await.map_err(|e| fail("plan", e))?;
        let after = mark_schema_sensitive(copy_config_marks(&config, planned), schema);
        let change = base(Action::Create, None, after.clone(), Vec::new(), reason);
        return Ok(Planned { change: Some(change), value: after, drift });
    };
    let prop = proposed(schema, &config, &current, &job.ignore, job.ignore_all);
    let req = PlanRequest {
        prior: Some(current.clone().unmark_deep()),
        config: config.clone().unmark_deep(),
        proposed: prop.clone().unmark_deep(),
    };
    let resp = rt.plan(req).await.map_err(|e| fail("plan", e))?;
    let planned = mark_schema_sensitive(copy_config_marks(&prop, resp.planned), schema);
    let changed = changed_paths(schema, &current, &planned);
    let mut rpaths = replace_paths(schema, &changed, &resp.requires_replace);
    if let Some(r) = &job.force_replace {
        reason = Some(r.clone());
    }
    if !rpaths.is_empty() || job.force_replace.is_some() {
        if job.prevent_destroy {
            return Err(prevent_destroy_diag(&job.addr, job.lifecycle_span.or(Some(job.span))).into());
        }
        let planned_new = plan_new(&config).await.map_err(|e| fail("plan", e))?;
        let after = mark_schema_sensitive(copy_config_marks(&config, planned_new), schema);
        let action = if job.cbd { Action::CreateThenDelete } else { Action::Replace };
        rpaths.sort();
        let change = base(action, Some(current), after.clone(), rpaths, reason);
        return Ok(Planned { change: Some(change), value: after, drift });
    }
    let action = if changed.is_empty() { Action::NoOp } else { Action::Update };
    let mut change = base(action, Some(current), planned.clone(), Vec::new(), reason);
    change.record_only = record_only;
    if action == Action::NoOp && change.import_id.is_none() && change.moved_from.is_none() && !record_only {
        // Nothing to show or apply: the planned object is the current one (saves memory on
        // large no-change plans).
        change.after = None;
    }
    Ok(Planned { change: Some(change), value: planned, drift })
}

/// Output changes of the root module and every tenant module.
fn output_changes(
    w: &Walker<'_>,
    state: &StateSnapshot,
    opts: &PlanOptions,
    tenant_filter: &Option<HashSet<&str>>,
) -> Vec<OutputChange> {
    let stack = w.stack;
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
                w.graph.output_nodes.get(&(mi, name.clone())).and_then(|n| w.values[n.index()].clone())
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

/// The source text of an address expression (`tenant.acme.x.y`, `module.a["k"]`) or the value
/// of a string, parsed as a target.
fn address_of(
    p: &Prepared,
    e: &crate::config::Expr,
    scope: Option<&dyn crate::eval::Scope>,
) -> Result<Target, Diagnostic> {
    let text = match (&e.expr, scope) {
        (hcl_edit::expr::Expression::String(_) | hcl_edit::expr::Expression::StringTemplate(_), Some(scope)) => {
            let v = crate::eval::eval(e, scope)?;
            v.as_str().map(str::to_string).ok_or_else(|| {
                Diagnostic::error("invalid-address", "The address must be a known string").with_span(e.span())
            })?
        }
        _ => e.span().map(|s| p.sources.snippet(s).trim().to_string()).unwrap_or_default(),
    };
    text.parse::<Target>().map_err(|err| {
        Diagnostic::error("invalid-address", "Invalid address")
            .with_span(e.span())
            .with_label(err.reason.clone())
            .with_help("addresses look like tenant.acme.local_service.web, random_id.x[0] or module.db[\"k\"]")
    })
}

type MovedFrom = std::collections::HashMap<InstanceAddr, InstanceAddr>;

/// Applies the root module's `moved {}` blocks to a copy of the state. Returns the renamed
/// state (None when nothing moved) and, for each new address, where it came from.
fn apply_moved_blocks(p: &Prepared, state: &StateSnapshot) -> Result<(Option<StateSnapshot>, MovedFrom), Diagnostics> {
    let mut from_of = MovedFrom::new();
    // `moved` blocks of every module instance, their addresses relative to that instance (a
    // block in the tenant stack moves the object in every tenant).
    let blocks: Vec<(&crate::address::ModuleAddr, &crate::config::MovedBlock)> =
        p.stack.modules.iter().flat_map(|mi| mi.module.moved.iter().map(move |m| (&mi.addr, m))).collect();
    if blocks.is_empty() {
        return Ok((None, from_of));
    }
    let mut diags = Diagnostics::new();
    let mut current: Option<StateSnapshot> = None;
    let mut reported = HashSet::new();
    for (base, m) in blocks {
        let (from, to) = match (address_of(p, &m.from, None), address_of(p, &m.to, None)) {
            (Ok(f), Ok(t)) => (relative_to(base, f), relative_to(base, t)),
            (Err(d), _) | (_, Err(d)) => {
                if reported.insert((d.span, d.summary.clone())) {
                    diags.push(d);
                }
                continue;
            }
        };
        let view = current.as_ref().unwrap_or(state);
        // A move whose source is no longer in state has already happened: nothing to do.
        if crate::refactor::matching(view, &from).is_empty() {
            continue;
        }
        match crate::refactor::plan_move(view, &from, &to) {
            Ok(moves) => {
                let changes = crate::refactor::move_changes(view, &moves);
                let mut next = view.clone();
                next.apply_changes(&changes);
                for (old, new) in &moves.resources {
                    let origin = from_of.remove(old).unwrap_or_else(|| old.clone());
                    from_of.insert(new.clone(), origin);
                }
                current = Some(next);
            }
            Err(e) => diags.push(
                Diagnostic::error("invalid-move", format!("Cannot move {from} to {to}"))
                    .with_span(Some(m.span))
                    .with_label(e.0),
            ),
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok((current, from_of))
    }
}

/// Import requests from the command line and the root module's `import {}` blocks; every
/// target must be declared by the configuration.
fn import_requests(
    p: &Prepared,
    schemas: &Schemas,
    cli: &[(InstanceAddr, String)],
) -> Result<std::collections::HashMap<InstanceAddr, String>, Diagnostics> {
    let mut out: std::collections::HashMap<InstanceAddr, String> = cli.iter().cloned().collect();
    let mut diags = Diagnostics::new();
    for (to, id, span) in resolve_import_blocks(p, schemas)? {
        if !p.stack.by_addr.contains_key(&to) {
            diags.push(
                Diagnostic::error("import-target", format!("Import target {to} is not in the configuration"))
                    .with_span(span)
                    .with_label("no resource block declares this instance")
                    .with_help("add the resource block, or generate it with plan -generate-config-out=FILE"),
            );
            continue;
        }
        out.insert(to, id);
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(out)
    }
}

/// The root module's `import {}` blocks, expanded and evaluated: (target, ID, span of `to`).
pub fn resolve_import_blocks(
    p: &Prepared,
    schemas: &Schemas,
) -> Result<Vec<(InstanceAddr, String, Option<Span>)>, Diagnostics> {
    use crate::expand::EachData;
    let mut out = Vec::new();
    let root = &p.stack.config.root;
    if root.imports.is_empty() {
        return Ok(out);
    }
    let mut diags = Diagnostics::new();
    let (values, _) = crate::validate::validate_walk(&p.stack, &p.graph, schemas.registry());
    let scope_with = |each: Option<&EachData>| {
        let scope = crate::walk::NodeScope { stack: &p.stack, graph: &p.graph, values: &values, mi: 0, each: None };
        (scope, each.cloned())
    };
    for block in &root.imports {
        let items: Vec<Option<EachData>> = match &block.for_each {
            None => vec![None],
            Some(fe) => {
                let (scope, _) = scope_with(None);
                match crate::eval::eval(fe, &scope).map(|v| v.unmark_deep()) {
                    Ok(Value::Map(m)) => m
                        .into_iter()
                        .map(|(k, v)| Some(EachData { key: crate::address::InstanceKey::Str(k), value: v }))
                        .collect(),
                    Ok(Value::Set(items)) | Ok(Value::List(items)) if items.iter().all(|v| v.as_str().is_some()) => {
                        items
                            .into_iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .map(|k| {
                                Some(EachData {
                                    key: crate::address::InstanceKey::Str(k.clone()),
                                    value: Value::String(k),
                                })
                            })
                            .collect()
                    }
                    Ok(other) => {
                        diags.push(
                            Diagnostic::error("invalid-for-each", "Invalid for_each in an import block")
                                .with_span(fe.span())
                                .with_label(format!(
                                    "a map or a set of strings is required, got {}",
                                    other.type_name()
                                )),
                        );
                        continue;
                    }
                    Err(d) => {
                        diags.push(d);
                        continue;
                    }
                }
            }
        };
        for each in &items {
            let scope = crate::walk::NodeScope {
                stack: &p.stack,
                graph: &p.graph,
                values: &values,
                mi: 0,
                each: each.as_ref(),
            };
            let to = match address_of(p, &block.to, Some(&scope)) {
                Ok(Target::Instance(i)) => i,
                Ok(Target::Resource(r)) => r.instance(crate::address::InstanceKey::None),
                Ok(Target::Module(m)) => {
                    diags.push(
                        Diagnostic::error("invalid-address", "An import target must be a resource instance")
                            .with_span(block.to.span())
                            .with_label(format!("{m} is a module or tenant")),
                    );
                    continue;
                }
                Err(d) => {
                    diags.push(d);
                    continue;
                }
            };
            match crate::eval::eval(&block.id, &scope) {
                Ok(v) => match v.unmark_deep() {
                    Value::String(id) => {
                        out.push((to, id, block.to.span()));
                    }
                    other => diags.push(
                        Diagnostic::error("invalid-import-id", "The import ID must be a known string")
                            .with_span(block.id.span())
                            .with_label(format!("got {}", other.type_name())),
                    ),
                },
                Err(d) => diags.push(d),
            }
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(out)
    }
}

/// After an import: attributes the provider cannot read back take their configured value
/// (see [`crate::provider::AttributeSchema::from_config_on_import`]).
fn adopt_unreadable(imported: Value, config: &Value, schema: &Schema) -> Value {
    let Value::Map(mut m) = imported else { return imported };
    for (name, a) in &schema.attributes {
        if a.from_config_on_import {
            let c = config.get(name).cloned().unwrap_or(Value::Null).unmark_deep();
            let v = if c.is_null() { a.default.clone().unwrap_or(Value::Null) } else { c };
            m.insert(name.clone(), v);
        }
    }
    Value::Map(m)
}

/// A target written in module instance `base`, made absolute.
fn relative_to(base: &crate::address::ModuleAddr, t: Target) -> Target {
    if base.is_root() {
        return t;
    }
    let prefix = |m: &crate::address::ModuleAddr| {
        let mut steps = base.0.clone();
        steps.extend(m.0.iter().cloned());
        crate::address::ModuleAddr(steps)
    };
    match t {
        Target::Module(m) => Target::Module(prefix(&m)),
        Target::Resource(mut r) => {
            r.module = prefix(&r.module);
            Target::Resource(r)
        }
        Target::Instance(mut i) => {
            i.resource.module = prefix(&i.resource.module);
            Target::Instance(i)
        }
    }
}

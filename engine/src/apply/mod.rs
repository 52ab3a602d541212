//! Apply: a bounded walk of the graph where a resource starts the moment its last dependency
//! has finished (not level by level), its configuration is evaluated just before it runs (so
//! values that were unknown at plan time are known), and its result is committed to state
//! before its dependents start. A failure skips only what depends on it. Deletions (orphans,
//! destroy, the old half of a create-before-destroy replacement) run afterwards in reverse
//! dependency order with the same parallelism.
//!
//! Interruption: `stop` ends scheduling (in-flight calls finish and are recorded); `kill`
//! additionally tells providers to abandon their calls.

pub mod committer;
pub mod events;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use petgraph::graph::NodeIndex;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::address::{InstanceAddr, InstanceKey, Mode};
use crate::diagnostics::{Diagnostic, Diagnostics, Span};
use crate::graph::{provider_key, Node};
use crate::plan::diff::{copy_config_marks, proposed};
use crate::plan::planner::provider_diag;
use crate::plan::{Action, Plan, PlanMode, ResourceChange};
use crate::provider::{DataSourceType, ErrorKind, OpContext, PlanRequest, ProviderError, ResourceType, Schema};
use crate::runtime::{with_retries, with_retries_notify, ConfiguredProviders, RetryPolicy, Schemas};
use crate::state::{Change, InstanceState, InstanceStatus, OutputState, StateSnapshot};
use crate::validate::Prepared;
use crate::value::Value;
use crate::walk::{mark_schema_sensitive, with_unknown_computed, Walker};

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

struct Job {
    addr: InstanceAddr,
    change: ResourceChange,
    config: Value,
    schema: Arc<Schema>,
    prior: Option<InstanceState>,
    resource: Option<Arc<dyn ResourceType>>,
    data_source: Option<Arc<dyn DataSourceType>>,
    span: Span,
    retry: RetryPolicy,
    commits: CommitHandle,
    observer: Arc<dyn ApplyObserver>,
    kill: CancellationToken,
    progress: Duration,
}

struct JobResult {
    value: Value,
    /// The old object of a create-before-destroy replacement, now stored under this address.
    deposed: Option<(InstanceAddr, InstanceState)>,
    /// The result's commit, when it was queued without waiting (see [`execute`]).
    pending: Option<(InstanceAddr, tokio::sync::oneshot::Receiver<Result<u64, String>>)>,
}

enum Done {
    Provider(Result<Arc<dyn crate::provider::ConfiguredProvider>, Diagnostic>),
    Resource(Action, Result<JobResult, Diagnostic>),
}

/// Applies a plan. Never panics on provider failures: everything is in the outcome.
pub async fn apply(input: ApplyInput<'_>, stop: CancellationToken, kill: CancellationToken) -> ApplyOutcome {
    let p = input.prepared;
    let stack = &p.stack;
    let graph = &p.graph;
    let plan = input.plan;
    let mut out = ApplyOutcome::default();
    let changes: HashMap<&InstanceAddr, &ResourceChange> = plan.changes.iter().map(|c| (&c.addr, c)).collect();
    let semaphore = Arc::new(Semaphore::new(input.options.parallelism.max(1)));
    let providers = input.providers.clone();
    let mut deposed: Vec<(InstanceAddr, InstanceState)> = Vec::new();
    // Only partitions this apply changes are locked: refreshed values of unchanged objects are
    // recorded there and nowhere else (`apply -refresh-only` records drift everywhere).
    let locked: HashSet<crate::state::Partition> = plan.touched_partitions().into_iter().collect();
    let mut failed_nodes: HashSet<InstanceAddr> = HashSet::new();
    // Result records queued without waiting; all must be durable before the apply ends.
    let mut pending_commits: Vec<(InstanceAddr, tokio::sync::oneshot::Receiver<Result<u64, String>>)> = Vec::new();
    // What this apply created, for --rollback-on-failure.
    let mut created: HashMap<InstanceAddr, Value> = HashMap::new();

    // Phase 0: adopt imported objects and record moves before anything changes.
    let mut adopt = Vec::new();
    for c in &plan.changes {
        let Some(before) = &c.before else { continue };
        if let Some(from) = &c.moved_from {
            adopt.push(Change::Remove(from.clone()));
            adopt.push(Change::Put(record(c, before.clone(), InstanceStatus::Ready)));
        } else if c.import_id.is_some() {
            adopt.push(Change::Put(record(c, before.clone(), InstanceStatus::Ready)));
            out.imported += 1;
        }
    }
    if !adopt.is_empty() {
        if let Err(e) = input.commits.commit(adopt).await {
            out.diags.push(Diagnostic::error("state", format!("Recording imports and moves failed: {e}")));
            return out;
        }
    }

    // Phase 1: creates, updates, replacements, reads, in dependency order.
    let mut w = Walker::new(stack, graph);
    let mut set: JoinSet<(NodeIndex, Done)> = JoinSet::new();
    let cap = input.options.parallelism.max(1);
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
            match &graph.graph[n] {
                Node::Provider(key) => {
                    let cfg = match w.eval_node(n) {
                        Ok(c) => c,
                        Err(d) => {
                            out.diags.push(d);
                            skip_dependents(&mut w, n, &mut out, &changes, "its provider failed to configure");
                            continue;
                        }
                    };
                    if providers.contains(key) {
                        w.complete(n, cfg);
                        continue;
                    }
                    let name = key.split('.').next().unwrap_or(key).to_string();
                    let Some(provider) = input.schemas.registry().get(&name).cloned() else {
                        out.diags.push(Diagnostic::error("unknown-provider", format!("Unknown provider \"{name}\"")));
                        skip_dependents(&mut w, n, &mut out, &changes, "its provider is unknown");
                        continue;
                    };
                    w.values[n.index()] = Some(cfg.clone());
                    let key = key.clone();
                    set.spawn(async move {
                        let r = provider.configure(&cfg.unmark_deep()).await.map_err(|e| {
                            Diagnostic::error(
                                "provider",
                                format!("Configuring provider \"{key}\" failed: {}", e.summary),
                            )
                        });
                        (n, Done::Provider(r))
                    });
                }
                Node::Resource(ri) => {
                    let r = &stack.resources[*ri];
                    let prior = input.state.resources.get(&r.addr).cloned();
                    let change = changes.get(&r.addr).copied();
                    let action = change.map(|c| c.action);
                    match action {
                        None | Some(Action::NoOp) | Some(Action::Delete) => {
                            // Unchanged: refreshed value (or stored value) stands in for references.
                            let v = match (change, r.config.mode) {
                                (Some(c), _) if c.action == Action::NoOp => {
                                    let v = c.before.clone().unwrap_or(Value::Null);
                                    if let Some(pr) = &prior {
                                        let stale = pr.value != v || pr.status != InstanceStatus::Ready;
                                        if c.record_only || (stale && locked.contains(&c.partition())) {
                                            let rec = record(c, v.clone(), InstanceStatus::Ready);
                                            if let Err(e) = input.commits.commit(vec![Change::Put(rec)]).await {
                                                out.diags.push(commit_failed(&r.addr, &e));
                                            }
                                        }
                                    }
                                    v
                                }
                                (None, Mode::Data) if plan.mode != PlanMode::Destroy => {
                                    // Known at plan time: read again for this walk.
                                    match read_data_now(&w, *ri, &input, &providers).await {
                                        Ok(v) => v,
                                        Err(d) => {
                                            out.diags.push(d);
                                            skip_dependents(
                                                &mut w,
                                                n,
                                                &mut out,
                                                &changes,
                                                "a data source it reads failed",
                                            );
                                            continue;
                                        }
                                    }
                                }
                                _ => prior.map(|s| s.value).unwrap_or(Value::Unknown),
                            };
                            w.complete(n, v);
                            continue;
                        }
                        Some(_) => {}
                    }
                    let change = change.cloned().unwrap_or_else(|| unreachable_change(&r.addr));
                    if stop.is_cancelled() {
                        skip_dependents(&mut w, n, &mut out, &changes, "the apply was interrupted");
                        out.skipped.push(r.addr.clone());
                        input.observer.event(ApplyEvent::Skipped {
                            address: r.addr.clone(),
                            action: change.action,
                            reason: "the apply was interrupted".into(),
                        });
                        continue;
                    }
                    let Some((schema, _)) = input.schemas.get(r.config.mode, &r.config.ty) else {
                        out.diags.push(Diagnostic::error("unknown-resource-type", format!("{}: unknown type", r.addr)));
                        fail_node(
                            &mut w,
                            n,
                            &r.addr,
                            &mut out,
                            &changes,
                            &input.observer,
                            change.action,
                            "unknown type",
                        );
                        continue;
                    };
                    let config = match w.eval_resource_config(*ri, &schema) {
                        Ok(c) => c,
                        Err(ds) => {
                            out.diags.extend(ds);
                            fail_node(
                                &mut w,
                                n,
                                &r.addr,
                                &mut out,
                                &changes,
                                &input.observer,
                                change.action,
                                "invalid configuration",
                            );
                            continue;
                        }
                    };
                    let pkey = provider_key(&r.config);
                    let (resource, data_source) = match r.config.mode {
                        Mode::Managed => (providers.resource(&pkey, &r.config.ty).ok(), None),
                        Mode::Data => (None, providers.data_source(&pkey, &r.config.ty).ok()),
                    };
                    let job = Job {
                        addr: r.addr.clone(),
                        change,
                        config,
                        schema,
                        prior,
                        resource,
                        data_source,
                        span: r.config.span,
                        retry: input.options.retry,
                        commits: input.commits.clone(),
                        observer: input.observer.clone(),
                        kill: kill.clone(),
                        progress: input.options.progress_interval,
                    };
                    let sem = semaphore.clone();
                    let action = job.change.action;
                    set.spawn(async move {
                        let _permit = sem.acquire_owned().await;
                        (n, Done::Resource(action, run_job(job).await))
                    });
                }
                _ => match w.eval_node(n) {
                    Ok(v) => w.complete(n, v),
                    Err(d) => {
                        out.diags.push(d);
                        skip_dependents(&mut w, n, &mut out, &changes, "a value it depends on could not be evaluated");
                    }
                },
            }
        }
        let Some(joined) = set.join_next().await else { break };
        let Ok((n, done)) = joined else {
            out.diags.push(Diagnostic::error("internal", "an apply task panicked"));
            continue;
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
                out.diags.push(d);
                skip_dependents(&mut w, n, &mut out, &changes, "its provider failed to configure");
            }
            Done::Resource(action, Ok(res)) => {
                if action == Action::Create {
                    if let Node::Resource(ri) = &graph.graph[n] {
                        created.insert(stack.resources[*ri].addr.clone(), res.value.clone());
                    }
                }
                match action {
                    Action::Create => out.added += 1,
                    Action::Update => out.changed += 1,
                    Action::Replace | Action::CreateThenDelete => out.added += 1,
                    _ => {}
                }
                if action == Action::Replace {
                    out.destroyed += 1;
                }
                if let Some(d) = res.deposed {
                    deposed.push(d);
                }
                if let Some(p) = res.pending {
                    pending_commits.push(p);
                }
                w.complete(n, res.value);
            }
            Done::Resource(action, Err(d)) => {
                let addr = match &graph.graph[n] {
                    Node::Resource(ri) => stack.resources[*ri].addr.clone(),
                    _ => continue,
                };
                failed_nodes.insert(addr.clone());
                out.diags.push(d);
                fail_node(&mut w, n, &addr, &mut out, &changes, &input.observer, action, "");
            }
        }
    }

    for (addr, wait) in pending_commits {
        match wait.await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => out.diags.push(commit_failed(&addr, &e)),
            Err(_) => out.diags.push(commit_failed(&addr, "the state committer stopped")),
        }
    }

    // Phase 2: deletions in reverse dependency order.
    let mut deletes: Vec<(InstanceAddr, String, Value, Vec<InstanceAddr>, Option<InstanceState>)> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| {
            (c.addr.clone(), c.provider.clone(), c.before.clone().unwrap_or(Value::Null), c.dependencies.clone(), None)
        })
        .collect();
    for (addr, s) in deposed {
        deletes.push((addr, s.provider.clone(), s.value.clone(), s.dependencies.clone(), Some(s)));
    }
    if !deletes.is_empty() {
        run_deletes(deletes, &input, &providers, &semaphore, &stop, &kill, &mut out).await;
    }

    // Rollback of tenants whose first provisioning failed.
    if input.options.rollback_on_failure {
        let mut failed_tenants: Vec<String> =
            out.failed.iter().filter_map(|a| a.tenant().map(str::to_string)).collect();
        failed_tenants.sort();
        failed_tenants.dedup();
        for t in failed_tenants {
            let was_new = !input.state.resources.keys().any(|a| a.tenant() == Some(t.as_str()));
            if !was_new {
                continue;
            }
            let jobs: Vec<DeleteJob> = plan
                .changes
                .iter()
                .filter(|c| c.addr.tenant() == Some(t.as_str()) && c.action == Action::Create)
                // Only what this apply made: a create that failed either made nothing (a
                // refused request) or may have made something its intent still records, which the
                // next plan reconciles — deleting by the plan could destroy an object tenantform
                // never managed.
                .filter_map(|c| {
                    let value = created.get(&c.addr)?.clone();
                    Some((c.addr.clone(), c.provider.clone(), value, c.dependencies.clone(), None))
                })
                .collect();
            let before = out.destroyed;
            let made = jobs.iter().filter(|j| created.contains_key(&j.0)).count();
            if !jobs.is_empty() {
                run_deletes(jobs, &input, &providers, &semaphore, &stop, &kill, &mut out).await;
            }
            out.destroyed = before;
            out.rolled_back.insert(t, made);
        }
    }

    // Drift that the plan found and nothing above rewrote.
    let mut drift_changes = Vec::new();
    for d in &plan.drift {
        let touched = changes.get(&d.addr).is_some_and(|c| c.action != Action::NoOp);
        match (&d.after, plan.mode) {
            (None, _) if !touched && locked.contains(&crate::state::Partition::of(&d.addr)) => {
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
            (_, Some(mi)) => graph.output_nodes.get(&(mi, o.name.clone())).and_then(|n| w.values[n.index()].clone()),
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
        let errors: Vec<String> = out.failed.iter().filter(|a| a.tenant() == Some(t)).map(|a| a.to_string()).collect();
        let had = input.state.outputs.contains_key(&(module.clone(), TENANT_STATUS_OUTPUT.to_string()));
        if !errors.is_empty() || stop.is_cancelled() && out.skipped.iter().any(|a| a.tenant() == Some(t)) {
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
    out.interrupted = stop.is_cancelled();
    out
}

fn unreachable_change(addr: &InstanceAddr) -> ResourceChange {
    ResourceChange {
        addr: addr.clone(),
        provider: String::new(),
        action: Action::NoOp,
        before: None,
        after: None,
        replace_paths: Vec::new(),
        reason: None,
        dependencies: Vec::new(),
        create_before_destroy: false,
        import_id: None,
        moved_from: None,
        schema_version: 0,
        record_only: false,
    }
}

fn commit_failed(addr: &InstanceAddr, e: &str) -> Diagnostic {
    Diagnostic::error("state", format!("{addr}: the change was made but recording it in state failed: {e}")).with_help(format!(
        "the object exists but state does not know it; once the state backend works again, adopt it with `tenantform import {addr} <id>`"
    ))
}

/// Marks a node failed, reports it and everything that depended on it.
#[allow(clippy::too_many_arguments)]
fn fail_node(
    w: &mut Walker<'_>,
    n: NodeIndex,
    addr: &InstanceAddr,
    out: &mut ApplyOutcome,
    changes: &HashMap<&InstanceAddr, &ResourceChange>,
    observer: &Arc<dyn ApplyObserver>,
    action: Action,
    message: &str,
) {
    if !message.is_empty() {
        observer.event(ApplyEvent::Errored { address: addr.clone(), action, message: message.to_string() });
    }
    out.failed.push(addr.clone());
    let skipped = w.fail(n);
    for ri in skipped {
        let a = w.stack.resources[ri].addr.clone();
        if let Some(c) = changes.get(&a) {
            if c.action != Action::NoOp {
                observer.event(ApplyEvent::Skipped {
                    address: a.clone(),
                    action: c.action,
                    reason: format!("{addr} failed"),
                });
                out.skipped.push(a);
            }
        }
    }
}

fn skip_dependents(
    w: &mut Walker<'_>,
    n: NodeIndex,
    out: &mut ApplyOutcome,
    changes: &HashMap<&InstanceAddr, &ResourceChange>,
    _why: &str,
) {
    for ri in w.fail(n) {
        let a = w.stack.resources[ri].addr.clone();
        if changes.get(&a).is_some_and(|c| c.action != Action::NoOp) {
            out.skipped.push(a);
        }
    }
}

async fn read_data_now(
    w: &Walker<'_>,
    ri: usize,
    input: &ApplyInput<'_>,
    providers: &ConfiguredProviders,
) -> Result<Value, Diagnostic> {
    let r = &w.stack.resources[ri];
    let Some((schema, _)) = input.schemas.get(Mode::Data, &r.config.ty) else {
        return Err(Diagnostic::error("unknown-resource-type", format!("{}: unknown data source", r.addr)));
    };
    let config = w
        .eval_resource_config(ri, &schema)
        .map_err(|d| d.0.into_iter().next().unwrap_or_else(|| Diagnostic::error("config", "invalid")))?;
    if !config.is_wholly_known() {
        // Its inputs are outside this apply (another tenant's objects that were never
        // created, with `--tenant`): nothing here uses it; the plan read it if it could.
        return Ok(Value::Unknown);
    }
    let ds = providers
        .data_source(&provider_key(&r.config), &r.config.ty)
        .map_err(|e| provider_diag(&r.addr, "read", &e, Some(r.config.span)))?;
    let ctx = OpContext { address: r.addr.to_string(), ..OpContext::default() };
    let plain = config.clone().unmark_deep();
    let v = with_retries(input.options.retry, || ds.read(&plain, &ctx))
        .await
        .map_err(|e| provider_diag(&r.addr, "read", &e, Some(r.config.span)))?;
    Ok(mark_schema_sensitive(copy_config_marks(&config, v), &schema))
}

/// A state record for an instance of a change.
fn record(c: &ResourceChange, value: Value, status: InstanceStatus) -> InstanceState {
    InstanceState {
        addr: c.addr.clone(),
        provider: c.provider.clone(),
        schema_version: c.schema_version,
        status,
        value,
        dependencies: c.dependencies.clone(),
        create_before_destroy: c.create_before_destroy,
        detail: None,
    }
}

/// The `id` attribute for progress lines, unless sensitive.
fn display_id(v: &Value) -> Option<String> {
    match v.get("id") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(crate::value::format_number(*n)),
        _ => None,
    }
}

/// Checks that the final plan (with every value now known) agrees with the saved plan: a
/// value the plan showed as known must not have changed.
fn check_consistent(saved: &Value, final_: &Value, path: &mut Vec<String>) -> Result<(), String> {
    match (saved.unmarked().0, final_.unmarked().0) {
        (Value::Unknown, _) => Ok(()),
        (Value::Map(a), Value::Map(b)) => {
            for (k, av) in a {
                path.push(k.clone());
                let bv = b.get(k).unwrap_or(&Value::Null);
                check_consistent(av, bv, path)?;
                path.pop();
            }
            Ok(())
        }
        (Value::List(a), Value::List(b)) if a.len() == b.len() => {
            for (i, (av, bv)) in a.iter().zip(b).enumerate() {
                path.push(i.to_string());
                check_consistent(av, bv, path)?;
                path.pop();
            }
            Ok(())
        }
        (a, b) => {
            if crate::eval::values_equal(a, b) {
                Ok(())
            } else {
                Err(path.join("."))
            }
        }
    }
}

async fn run_job(job: Job) -> Result<JobResult, Diagnostic> {
    let action = job.change.action;
    tracing::debug!(address = %job.addr, ?action, "applying");
    let started = Instant::now();
    let observer = job.observer.clone();
    let addr = job.addr.clone();
    observer.event(ApplyEvent::Start { address: addr.clone(), action });
    let ticker = {
        let observer = observer.clone();
        let addr = addr.clone();
        let every = job.progress;
        tokio::spawn(async move {
            let mut t = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            loop {
                t.tick().await;
                observer.event(ApplyEvent::Progress { address: addr.clone(), action, elapsed: started.elapsed() });
            }
        })
    };
    let r = execute(&job).await;
    ticker.abort();
    match &r {
        Ok(_) => {
            tracing::info!(address = %job.addr, ?action, elapsed_ms = started.elapsed().as_millis() as u64, "applied")
        }
        Err(d) => tracing::warn!(address = %job.addr, ?action, error = %d.summary, "apply failed"),
    }
    match &r {
        Ok(res) => observer.event(ApplyEvent::Complete {
            address: addr,
            action,
            elapsed: started.elapsed(),
            id: display_id(&res.value),
        }),
        Err(d) => observer.event(ApplyEvent::Errored { address: addr, action, message: d.summary.clone() }),
    }
    r
}

async fn execute(job: &Job) -> Result<JobResult, Diagnostic> {
    let ctx = OpContext { cancel: job.kill.clone(), address: job.addr.to_string(), ..OpContext::default() };
    let notify = |attempt: u32, e: &ProviderError| {
        job.observer.event(ApplyEvent::Retrying {
            address: job.addr.clone(),
            action: job.change.action,
            attempt,
            message: e.summary.clone(),
        })
    };
    let notify: &(dyn Fn(u32, &ProviderError) + Send + Sync) = &notify;
    let fail = |op: &str, e: ProviderError| provider_diag(&job.addr, op, &e, Some(job.span));
    let schema = &job.schema;
    let config = &job.config;
    if job.change.action == Action::Read {
        let ds = job
            .data_source
            .as_ref()
            .ok_or_else(|| fail("read", ProviderError::permanent("provider not configured")))?;
        let plain = config.clone().unmark_deep();
        let v = with_retries_notify(job.retry, notify, || ds.read(&plain, &ctx)).await.map_err(|e| fail("read", e))?;
        return Ok(JobResult {
            value: mark_schema_sensitive(copy_config_marks(config, v), schema),
            deposed: None,
            pending: None,
        });
    }
    let rt = job.resource.as_ref().ok_or_else(|| fail("apply", ProviderError::permanent("provider not configured")))?;
    let saved_after = job.change.after.clone().unwrap_or(Value::Null);
    let plan_new = || async {
        let proposed = with_unknown_computed(config, schema);
        let req = PlanRequest { prior: None, config: config.clone().unmark_deep(), proposed: proposed.unmark_deep() };
        rt.plan(req).await.map(|r| r.planned)
    };
    let consistent = |final_: &Value| -> Result<(), Diagnostic> {
        check_consistent(&saved_after, final_, &mut Vec::new()).map_err(|path| {
            Diagnostic::error(
                "inconsistent-plan",
                format!("{}: the final plan differs from the saved plan at \"{path}\"", job.addr),
            )
            .with_help("the configuration or the objects it depends on changed after planning; run plan again")
        })
    };
    let commit = |changes: Vec<Change>| async move {
        job.commits.commit(changes).await.map_err(|e| commit_failed(&job.addr, &e))
    };
    let ctx = &ctx;
    let create = |planned: Value| async move {
        let marked = mark_schema_sensitive(copy_config_marks(config, planned.clone()), schema);
        // Record the intent first: a crash during the call leaves a row the next plan reconciles.
        commit(vec![Change::Put(record(&job.change, marked, InstanceStatus::Creating))]).await?;
        match with_retries_notify(job.retry, notify, || rt.create(&planned, ctx)).await {
            Ok(v) => Ok(mark_schema_sensitive(copy_config_marks(config, v), schema)),
            Err(e) => {
                if e.kind == ErrorKind::Permanent || e.kind == ErrorKind::NotFound {
                    // A refused request made nothing: forget the intent.
                    commit(vec![Change::Remove(job.addr.clone())]).await?;
                }
                Err(fail("create", e))
            }
        }
    };
    match job.change.action {
        Action::Create => {
            let planned = plan_new().await.map_err(|e| fail("plan", e))?;
            consistent(&planned)?;
            let v = create(planned).await?;
            // Dependents need not wait for this record to be durable: each of them records its
            // own intent before it creates anything, and until this record lands the intent
            // written above says the object may exist, which the next plan reconciles by reading
            // it back. So the result is queued, and a level of the graph costs one commit.
            let wait = job.commits.submit(vec![Change::Put(record(&job.change, v.clone(), InstanceStatus::Ready))]);
            Ok(JobResult { value: v, deposed: None, pending: Some((job.addr.clone(), wait)) })
        }
        Action::Update => {
            let prior = job
                .prior
                .as_ref()
                .map(|p| p.value.clone())
                .or_else(|| job.change.before.clone())
                .unwrap_or(Value::Null);
            let before = job.change.before.clone().unwrap_or_else(|| prior.clone());
            let prop = proposed(schema, config, &before, &[], false);
            let req = PlanRequest {
                prior: Some(before.clone().unmark_deep()),
                config: config.clone().unmark_deep(),
                proposed: prop.clone().unmark_deep(),
            };
            let planned = rt.plan(req).await.map_err(|e| fail("plan", e))?.planned;
            consistent(&planned)?;
            let plain_before = before.unmark_deep();
            let v = with_retries_notify(job.retry, notify, || rt.update(&plain_before, &planned, ctx))
                .await
                .map_err(|e| fail("update", e))?;
            let v = mark_schema_sensitive(copy_config_marks(config, v), schema);
            commit(vec![Change::Put(record(&job.change, v.clone(), InstanceStatus::Ready))]).await?;
            Ok(JobResult { value: v, deposed: None, pending: None })
        }
        Action::Replace => {
            let before = job.change.before.clone().unwrap_or(Value::Null).unmark_deep();
            with_retries_notify(job.retry, notify, || rt.delete(&before, ctx)).await.map_err(|e| fail("delete", e))?;
            commit(vec![Change::Remove(job.addr.clone())]).await?;
            let planned = plan_new().await.map_err(|e| fail("plan", e))?;
            let v = create(planned).await?;
            commit(vec![Change::Put(record(&job.change, v.clone(), InstanceStatus::Ready))]).await?;
            Ok(JobResult { value: v, deposed: None, pending: None })
        }
        Action::CreateThenDelete => {
            let planned = plan_new().await.map_err(|e| fail("plan", e))?;
            consistent(&planned)?;
            // The old object moves to a deposed address first, so the intent does not hide it.
            let old = job.prior.clone().map(|mut s| {
                s.addr = deposed_addr(&job.addr);
                s.status = InstanceStatus::Ready;
                s
            });
            if let Some(old) = &old {
                commit(vec![Change::Put(old.clone())]).await?;
            }
            let v = create(planned).await?;
            commit(vec![Change::Put(record(&job.change, v.clone(), InstanceStatus::Ready))]).await?;
            Ok(JobResult { value: v, deposed: old.map(|o| (o.addr.clone(), o)), pending: None })
        }
        Action::NoOp | Action::Delete | Action::Read => {
            Ok(JobResult { value: job.change.before.clone().unwrap_or(Value::Null), deposed: None, pending: None })
        }
    }
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

type DeleteJob = (InstanceAddr, String, Value, Vec<InstanceAddr>, Option<InstanceState>);

async fn run_deletes(
    jobs: Vec<DeleteJob>,
    input: &ApplyInput<'_>,
    providers: &ConfiguredProviders,
    semaphore: &Arc<Semaphore>,
    stop: &CancellationToken,
    kill: &CancellationToken,
    out: &mut ApplyOutcome,
) {
    let index: HashMap<InstanceAddr, usize> = jobs.iter().enumerate().map(|(i, j)| (j.0.clone(), i)).collect();
    // waiting[x] = number of pending deletes that depend on x.
    let mut waiting = vec![0usize; jobs.len()];
    for j in &jobs {
        for d in &j.3 {
            if let Some(&x) = index.get(d) {
                waiting[x] += 1;
            }
        }
    }
    let mut blocked = vec![false; jobs.len()];
    let mut ready: Vec<usize> = (0..jobs.len()).filter(|&i| waiting[i] == 0).collect();
    let mut set: JoinSet<(usize, Result<(), Diagnostic>)> = JoinSet::new();
    loop {
        while let Some(i) = ready.pop() {
            let (addr, pkey, before, _, _) = jobs[i].clone();
            if blocked[i] || stop.is_cancelled() {
                out.skipped.push(addr.clone());
                input.observer.event(ApplyEvent::Skipped {
                    address: addr,
                    action: Action::Delete,
                    reason: if blocked[i] {
                        "an object that depends on it could not be destroyed".into()
                    } else {
                        "the apply was interrupted".into()
                    },
                });
                release(i, &jobs, &index, &mut waiting, &mut ready, &mut blocked, true);
                continue;
            }
            let rt = match providers.resource(&pkey, addr.ty()) {
                Ok(rt) => rt,
                Err(_) => {
                    // Provider used only by orphans: configure it with an empty configuration.
                    let name = pkey.split('.').next().unwrap_or(&pkey);
                    match input.schemas.registry().get(name) {
                        Some(p) => match p.configure(&Value::Map(BTreeMap::new())).await {
                            Ok(cp) => {
                                providers.insert(&pkey, cp.clone());
                                match cp.resource(addr.ty()) {
                                    Some(rt) => rt,
                                    None => {
                                        out.diags.push(Diagnostic::error(
                                            "provider",
                                            format!("{addr}: provider has no such type"),
                                        ));
                                        release(i, &jobs, &index, &mut waiting, &mut ready, &mut blocked, true);
                                        continue;
                                    }
                                }
                            }
                            Err(e) => {
                                out.diags.push(provider_diag(&addr, "configure", &e, None));
                                release(i, &jobs, &index, &mut waiting, &mut ready, &mut blocked, true);
                                continue;
                            }
                        },
                        None => {
                            out.diags.push(Diagnostic::error(
                                "unknown-provider",
                                format!("{addr}: unknown provider \"{pkey}\""),
                            ));
                            release(i, &jobs, &index, &mut waiting, &mut ready, &mut blocked, true);
                            continue;
                        }
                    }
                }
            };
            let commits = input.commits.clone();
            let observer = input.observer.clone();
            let retry = input.options.retry;
            let sem = semaphore.clone();
            let kill = kill.clone();
            set.spawn(async move {
                let _permit = sem.acquire_owned().await;
                let started = Instant::now();
                observer.event(ApplyEvent::Start { address: addr.clone(), action: Action::Delete });
                let ctx = OpContext { cancel: kill, address: addr.to_string(), ..OpContext::default() };
                let plain = before.unmark_deep();
                let r = match with_retries(retry, || rt.delete(&plain, &ctx)).await {
                    Ok(()) => commits
                        .commit(vec![Change::Remove(addr.clone())])
                        .await
                        .map(|_| ())
                        .map_err(|e| commit_failed(&addr, &e)),
                    Err(e) => Err(provider_diag(&addr, "delete", &e, None)),
                };
                match &r {
                    Ok(()) => observer.event(ApplyEvent::Complete {
                        address: addr.clone(),
                        action: Action::Delete,
                        elapsed: started.elapsed(),
                        id: display_id(&plain),
                    }),
                    Err(d) => observer.event(ApplyEvent::Errored {
                        address: addr.clone(),
                        action: Action::Delete,
                        message: d.summary.clone(),
                    }),
                }
                (i, r)
            });
        }
        let Some(j) = set.join_next().await else { break };
        let Ok((i, r)) = j else { continue };
        match r {
            Ok(()) => {
                out.destroyed += 1;
                release(i, &jobs, &index, &mut waiting, &mut ready, &mut blocked, false);
            }
            Err(d) => {
                out.diags.push(d);
                out.failed.push(jobs[i].0.clone());
                release(i, &jobs, &index, &mut waiting, &mut ready, &mut blocked, true);
            }
        }
    }
}

/// A delete finished (or was given up): its dependencies may go now, unless it failed, in
/// which case they must stay (something still depends on them).
fn release(
    i: usize,
    jobs: &[DeleteJob],
    index: &HashMap<InstanceAddr, usize>,
    waiting: &mut [usize],
    ready: &mut Vec<usize>,
    blocked: &mut [bool],
    failed: bool,
) {
    for d in &jobs[i].3 {
        if let Some(&x) = index.get(d) {
            if failed {
                blocked[x] = true;
            }
            waiting[x] = waiting[x].saturating_sub(1);
            if waiting[x] == 0 {
                ready.push(x);
            }
        }
    }
}

//! The apply walk: the graph's nodes plus one task per object to destroy, on the shared
//! scheduler, in the order Terraform uses:
//! - a destroy goes only after the destroys of everything that depended on the object
//!   (dependents first), so when A and its dependent B are both replaced, B's old object goes
//!   before A's;
//! - a `-/+` replacement creates only after its old object is destroyed;
//! - an orphan goes only after the resources that depended on it were updated;
//! - a `create_before_destroy` old object (deposed) goes only after its replacement exists and
//!   what depends on it was updated — and never when the replacement failed: it stays current.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use tokio_util::sync::CancellationToken;

use super::destroy::{destroy_work, order_destroys, DestroyEnv, Doomed};
use super::execute::{commit_failed, run_job, Job, JobError, JobResult, Left};
use super::{deposed_addr, is_deposed, ApplyInput, ApplyOutcome};
use crate::address::{InstanceAddr, Mode};
use crate::diagnostics::Diagnostic;
use crate::expand::RiId;
use crate::graph::{provider_key, Node};
use crate::plan::diff::copy_config_marks;
use crate::plan::planner::provider_diag;
use crate::plan::{Action, PlanMode, ResourceChange};
use crate::provider::{ConfiguredProvider, OpContext};
use crate::runtime::{with_retries, ConfiguredProviders};
use crate::schedule::{self, Finish, NotRun, Step, TaskGraph, TaskId};
use crate::state::{Change, InstanceState, InstanceStatus, Partition};
use crate::value::Value;
use crate::walk::{mark_schema_sensitive, Walker};

/// Why an object is destroyed (for counting and ordering).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DoomKind {
    /// Planned `Delete` (orphan, destroy, a deposed object left by an earlier apply).
    Planned,
    /// The old object of a `-/+` replacement of this resource.
    ReplacedBy(RiId),
    /// The old object of a `+/-` replacement of this resource, at its deposed address.
    DeposedBy(RiId),
}

pub(super) enum Done {
    Provider(Result<Arc<dyn ConfiguredProvider>, Diagnostic>),
    Data(Result<Value, Diagnostic>),
    Resource(Action, Result<JobResult, JobError>),
    Destroy(Result<(), Diagnostic>),
}

/// What the walk leaves for the steps after it.
pub(super) struct Walked {
    pub values: Vec<Option<Value>>,
    /// What this apply created (including incomplete objects it recorded as tainted), for
    /// `--rollback-on-failure`.
    pub created: HashMap<InstanceAddr, Value>,
    /// Result records queued without waiting; all must be durable before the apply ends.
    pub pending: Vec<(InstanceAddr, tokio::sync::oneshot::Receiver<Result<u64, String>>)>,
    /// The provider's message per failed instance.
    pub errors: HashMap<InstanceAddr, String>,
}

struct ApplyWalk<'a, 'i> {
    input: &'a ApplyInput<'i>,
    w: Walker<'a>,
    node_count: usize,
    changes: HashMap<&'a InstanceAddr, &'a ResourceChange>,
    doomed: Vec<(Doomed, DoomKind)>,
    /// Per resource instance: the deposed address its `+/-` old object moves to.
    deposed_of: HashMap<RiId, InstanceAddr>,
    /// Per resource instance: the object that becomes current again if its create fails.
    fallback_of: HashMap<RiId, (InstanceAddr, InstanceState)>,
    providers: ConfiguredProviders,
    locked: HashSet<Partition>,
    env: DestroyEnv,
    stop: CancellationToken,
    kill: CancellationToken,
    /// Tasks that did not start because the apply was interrupted.
    interrupted: HashSet<TaskId>,
    out: &'a mut ApplyOutcome,
    walked: Walked,
}

/// Runs the apply walk, filling `out`.
pub(super) async fn walk(
    input: &ApplyInput<'_>,
    providers: &ConfiguredProviders,
    env: DestroyEnv,
    stop: CancellationToken,
    kill: CancellationToken,
    out: &mut ApplyOutcome,
) -> Walked {
    let p = input.prepared;
    let stack = &p.stack;
    let graph = &p.graph;
    let plan = input.plan;
    let node_count = graph.graph.node_count();
    let changes: HashMap<&InstanceAddr, &ResourceChange> = plan.changes.iter().map(|c| (&c.addr, c)).collect();

    // The objects to destroy.
    let mut doomed: Vec<(Doomed, DoomKind)> = Vec::new();
    let mut deposed_of = HashMap::new();
    for c in &plan.changes {
        let before = c.before.clone().unwrap_or(Value::Null);
        let prior = input.state.resources.get(&c.addr);
        let mut deps = c.dependencies.clone();
        if let Some(s) = prior {
            deps.extend(s.dependencies.iter().cloned());
            deps.sort();
            deps.dedup();
        }
        let doom = |addr: InstanceAddr, dependencies: Vec<InstanceAddr>, record_only: bool| Doomed {
            addr,
            provider: c.provider.clone(),
            before: before.clone(),
            dependencies,
            record_only,
        };
        match (c.action, stack.by_addr.get(&c.addr)) {
            (Action::Delete, _) => doomed.push((doom(c.addr.clone(), deps, c.record_only), DoomKind::Planned)),
            (Action::Replace, Some(ri)) => doomed.push((doom(c.addr.clone(), deps, false), DoomKind::ReplacedBy(*ri))),
            (Action::CreateThenDelete, Some(ri)) => {
                let at = deposed_addr(&c.addr);
                deposed_of.insert(*ri, at.clone());
                let old_deps = prior.map(|s| s.dependencies.clone()).unwrap_or_default();
                doomed.push((doom(at, old_deps, false), DoomKind::DeposedBy(*ri)));
            }
            _ => {}
        }
    }

    // Configured resources that depend (or depended, as last applied) on each address.
    let deps = graph.resource_dependencies();
    let mut dependents_of: HashMap<&InstanceAddr, Vec<RiId>> = HashMap::new();
    for (ri, ds) in deps.iter().enumerate() {
        for d in ds {
            dependents_of.entry(&stack.resources[*d].addr).or_default().push(ri);
        }
        if let Some(s) = input.state.resources.get(&stack.resources[ri].addr) {
            for d in &s.dependencies {
                dependents_of.entry(d).or_default().push(ri);
            }
        }
    }

    let mut tasks = TaskGraph::with_tasks(node_count);
    for e in graph.graph.edge_references() {
        tasks.order(e.source().index(), e.target().index());
    }
    let task_of: Vec<TaskId> = doomed.iter().map(|_| tasks.add_task()).collect();
    let plain: Vec<Doomed> = doomed.iter().map(|(d, _)| d.clone()).collect();
    order_destroys(&mut tasks, &plain, &task_of);
    let node_of = |ri: RiId| graph.resource_nodes[ri].index();
    let mut fallback_of = HashMap::new();
    for (i, (d, kind)) in doomed.iter().enumerate() {
        let t = task_of[i];
        let after_dependents = |tasks: &mut TaskGraph, addr: &InstanceAddr| {
            for &z in dependents_of.get(addr).map(Vec::as_slice).unwrap_or(&[]) {
                let zc = changes.get(&stack.resources[z].addr).map(|c| c.action);
                if zc != Some(Action::Delete) {
                    tasks.order(node_of(z), t);
                }
            }
        };
        match kind {
            DoomKind::ReplacedBy(ri) => tasks.order(t, node_of(*ri)),
            DoomKind::DeposedBy(ri) => {
                tasks.order(node_of(*ri), t);
                after_dependents(&mut tasks, &stack.resources[*ri].addr);
            }
            DoomKind::Planned => {
                after_dependents(&mut tasks, &d.addr);
                // An object deposed by an earlier apply goes only once its replacement exists.
                if is_deposed(&d.addr) {
                    let base = d.addr.resource.instance(original_key(&d.addr));
                    if let Some(&ri) = stack.by_addr.get(&base) {
                        tasks.order(node_of(ri), t);
                        after_dependents(&mut tasks, &base);
                        let replaces = changes.get(&base).is_some_and(|c| c.action == Action::Create);
                        if let (true, Some(s)) = (replaces, input.state.resources.get(&d.addr)) {
                            fallback_of.entry(ri).or_insert((d.addr.clone(), s.clone()));
                        }
                    }
                }
            }
        }
    }

    let mut v = ApplyWalk {
        w: Walker::new(stack, graph),
        node_count,
        changes,
        doomed,
        deposed_of,
        fallback_of,
        providers: providers.clone(),
        locked: plan.touched_partitions().into_iter().collect(),
        env,
        stop,
        kill,
        interrupted: HashSet::new(),
        walked: Walked { values: Vec::new(), created: HashMap::new(), pending: Vec::new(), errors: HashMap::new() },
        out,
        input,
    };
    schedule::run(&tasks, &mut v, input.options.parallelism).await;
    let mut walked = v.walked;
    walked.values = v.w.values;
    walked
}

/// The instance key a deposed address was made from (see [`deposed_addr`]).
fn original_key(addr: &InstanceAddr) -> crate::address::InstanceKey {
    use crate::address::InstanceKey;
    let InstanceKey::Str(k) = &addr.key else { return addr.key.clone() };
    let Some(at) = k.rfind("deposed-") else { return addr.key.clone() };
    let orig = &k[..at];
    if orig.is_empty() {
        return InstanceKey::None;
    }
    format!("x_y.z{orig}").parse::<InstanceAddr>().map(|a| a.key).unwrap_or_else(|_| InstanceKey::Str(orig.to_string()))
}

impl ApplyWalk<'_, '_> {
    fn node(&self, t: TaskId) -> Option<NodeIndex> {
        (t < self.node_count).then(|| NodeIndex::new(t))
    }

    fn resource_addr(&self, t: TaskId) -> Option<&InstanceAddr> {
        match self.node(t) {
            Some(n) => match self.input.prepared.graph.graph[n] {
                Node::Resource(ri) => Some(&self.input.prepared.stack.resources[ri].addr),
                _ => None,
            },
            None => Some(&self.doomed[t - self.node_count].0.addr),
        }
    }

    fn start_provider(&mut self, n: NodeIndex, key: &str) -> Step<Done> {
        let cfg = match self.w.eval_node(n) {
            Ok(c) => c,
            Err(d) => {
                self.out.diags.push(d);
                return Step::Failed;
            }
        };
        if self.providers.contains(key) {
            self.w.set(n, cfg);
            return Step::Done;
        }
        let name = key.split('.').next().unwrap_or(key).to_string();
        let Some(provider) = self.input.schemas.registry().get(&name).cloned() else {
            self.out.diags.push(Diagnostic::error("unknown-provider", format!("Unknown provider \"{name}\"")));
            return Step::Failed;
        };
        if !cfg.is_wholly_known() {
            // Only deferred instances use it: the further round configures it.
            self.w.set(n, cfg);
            return Step::Done;
        }
        self.w.set(n, cfg.clone());
        let key = key.to_string();
        Step::Spawn(Box::pin(async move {
            let r = provider.configure(&cfg.unmark_deep()).await.map_err(|e| {
                Diagnostic::error("provider", format!("Configuring provider \"{key}\" failed: {}", e.summary))
            });
            Done::Provider(r)
        }))
    }

    /// A resource without a change (or whose change is only a delete): its value stands in for
    /// references, and a refreshed or adopted record is written where the apply holds the lock.
    fn unchanged(&mut self, n: NodeIndex, ri: RiId, change: Option<&ResourceChange>) -> Step<Done> {
        let r = &self.input.prepared.stack.resources[ri];
        let prior = self.input.state.resources.get(&r.addr);
        match (change, r.config.mode) {
            (Some(c), _) if c.action == Action::NoOp => {
                let v = c.before.clone().unwrap_or(Value::Null);
                if let Some(pr) = prior {
                    let stale = pr.value != v || pr.status != InstanceStatus::Ready;
                    if c.record_only || (stale && self.locked.contains(&c.partition())) {
                        let mut rec = super::execute::record(c, v.clone(), InstanceStatus::Ready);
                        rec.detail = None;
                        let wait = self.input.commits.submit(vec![Change::Put(rec)]);
                        self.walked.pending.push((r.addr.clone(), wait));
                    }
                }
                self.w.set(n, v);
                Step::Done
            }
            (None, Mode::Data) if self.input.plan.mode != PlanMode::Destroy => self.read_data_now(ri),
            _ => {
                let v = prior.map(|s| s.value.clone()).unwrap_or(Value::Unknown);
                self.w.set(n, v);
                Step::Done
            }
        }
    }

    /// A data source known at plan time, read again for this walk.
    fn read_data_now(&mut self, ri: RiId) -> Step<Done> {
        let r = &self.input.prepared.stack.resources[ri];
        let Some((schema, _)) = self.input.schemas.get(Mode::Data, &r.config.ty) else {
            self.out.diags.push(Diagnostic::error("unknown-resource-type", format!("{}: unknown data source", r.addr)));
            return Step::Failed;
        };
        let config = match self.w.eval_resource_config(ri, &schema) {
            Ok(c) => c,
            Err(ds) => {
                self.out.diags.extend(ds);
                return Step::Failed;
            }
        };
        if !config.is_wholly_known() {
            // Its inputs are outside this apply (another tenant's objects that were never
            // created, with `--tenant`): nothing here uses it; the plan read it if it could.
            self.w.set(self.input.prepared.graph.resource_nodes[ri], Value::Unknown);
            return Step::Done;
        }
        let ds = match self.providers.data_source(&provider_key(&r.config), &r.config.ty) {
            Ok(ds) => ds,
            Err(e) => {
                self.out.diags.push(provider_diag(&r.addr, "read", &e, Some(r.config.span)));
                return Step::Failed;
            }
        };
        let (addr, span, retry) = (r.addr.clone(), r.config.span, self.input.options.retry);
        Step::Spawn(Box::pin(async move {
            let ctx = OpContext { address: addr.to_string(), ..OpContext::default() };
            let plain = config.clone().unmark_deep();
            let r = with_retries(retry, || ds.read(&plain, &ctx))
                .await
                .map(|v| mark_schema_sensitive(copy_config_marks(&config, v), &schema))
                .map_err(|e| provider_diag(&addr, "read", &e, Some(span)));
            Done::Data(r)
        }))
    }

    fn start_resource(&mut self, t: TaskId, n: NodeIndex, ri: RiId) -> Step<Done> {
        let input = self.input;
        let r = &input.prepared.stack.resources[ri];
        let change = self.changes.get(&r.addr).copied();
        let Some(change) = change.filter(|c| !matches!(c.action, Action::NoOp | Action::Delete)) else {
            return self.unchanged(n, ri, change);
        };
        if self.stop.is_cancelled() {
            self.interrupted.insert(t);
            self.out.skipped.push(r.addr.clone());
            input.observer.event(crate::apply::ApplyEvent::Skipped {
                address: r.addr.clone(),
                action: change.action,
                reason: "the apply was interrupted".into(),
            });
            return Step::Failed;
        }
        let fail = |this: &mut Self, d: Vec<Diagnostic>, why: &str| {
            for x in d {
                this.out.diags.push(x);
            }
            this.out.failed.push(r.addr.clone());
            this.walked.errors.insert(r.addr.clone(), why.to_string());
            input.observer.event(crate::apply::ApplyEvent::Errored {
                address: r.addr.clone(),
                action: change.action,
                message: why.to_string(),
            });
            Step::Failed
        };
        let Some((schema, _)) = input.schemas.get(r.config.mode, &r.config.ty) else {
            let d = Diagnostic::error("unknown-resource-type", format!("{}: unknown type", r.addr));
            return fail(self, vec![d], "unknown type");
        };
        let config = match self.w.eval_resource_config(ri, &schema) {
            Ok(c) => c,
            Err(ds) => return fail(self, ds.into_iter().collect(), "invalid configuration"),
        };
        let pkey = provider_key(&r.config);
        let (resource, data_source) = match r.config.mode {
            Mode::Managed => (self.providers.resource(&pkey, &r.config.ty).ok(), None),
            Mode::Data => (None, self.providers.data_source(&pkey, &r.config.ty).ok()),
        };
        let job = Job {
            addr: r.addr.clone(),
            change: change.clone(),
            config,
            schema,
            prior: input.state.resources.get(&r.addr).cloned(),
            resource,
            data_source,
            span: r.config.span,
            retry: input.options.retry,
            commits: input.commits.clone(),
            observer: input.observer.clone(),
            kill: self.kill.clone(),
            progress: input.options.progress_interval,
            fallback: self.fallback_of.get(&ri).cloned().or_else(|| {
                let at = self.deposed_of.get(&ri)?;
                let old = input.state.resources.get(&r.addr)?;
                Some((at.clone(), old.clone()))
            }),
            deposed: self.deposed_of.get(&ri).cloned(),
        };
        let action = change.action;
        Step::Spawn(Box::pin(async move { Done::Resource(action, run_job(job).await) }))
    }

    fn start_destroy(&mut self, t: TaskId) -> Step<Done> {
        let (d, _) = &self.doomed[t - self.node_count];
        if self.stop.is_cancelled() {
            self.interrupted.insert(t);
            self.out.skipped.push(d.addr.clone());
            self.input.observer.event(crate::apply::ApplyEvent::Skipped {
                address: d.addr.clone(),
                action: Action::Delete,
                reason: "the apply was interrupted".into(),
            });
            return Step::Failed;
        }
        let work = destroy_work(d.clone(), self.env.clone());
        Step::Spawn(Box::pin(async move { Done::Destroy(work.await) }))
    }
}

impl schedule::Visitor for ApplyWalk<'_, '_> {
    type Output = Done;

    fn bounded(&self, t: TaskId) -> bool {
        match self.node(t) {
            Some(n) => matches!(self.input.prepared.graph.graph[n], Node::Resource(_)),
            None => true,
        }
    }

    fn start(&mut self, t: TaskId) -> Step<Done> {
        let Some(n) = self.node(t) else { return self.start_destroy(t) };
        match &self.input.prepared.graph.graph[n] {
            Node::Provider(key) => {
                let key = key.clone();
                self.start_provider(n, &key)
            }
            Node::Resource(ri) => self.start_resource(t, n, *ri),
            _ => match self.w.eval_node(n) {
                Ok(v) => {
                    self.w.set(n, v);
                    Step::Done
                }
                Err(d) => {
                    self.out.diags.push(d);
                    Step::Failed
                }
            },
        }
    }

    fn finish(&mut self, t: TaskId, out: Done) -> Finish {
        let graph = &self.input.prepared.graph;
        match out {
            Done::Provider(Ok(cp)) => {
                if let Some(Node::Provider(key)) = self.node(t).map(|n| &graph.graph[n]) {
                    self.providers.insert(key, cp);
                }
                Finish::Done
            }
            Done::Provider(Err(d)) => {
                self.out.diags.push(d);
                Finish::Failed
            }
            Done::Data(Ok(v)) => {
                if let Some(n) = self.node(t) {
                    self.w.set(n, v);
                }
                Finish::Done
            }
            Done::Data(Err(d)) => {
                self.out.diags.push(d);
                Finish::Failed
            }
            Done::Resource(action, Ok(res)) => {
                let Some(addr) = self.resource_addr(t).cloned() else { return Finish::Failed };
                match action {
                    Action::Create => {
                        self.out.added += 1;
                        self.walked.created.insert(addr.clone(), res.value.clone());
                    }
                    Action::Update => self.out.changed += 1,
                    Action::Replace | Action::CreateThenDelete => self.out.added += 1,
                    _ => {}
                }
                if let Some(wait) = res.pending {
                    self.walked.pending.push((addr, wait));
                }
                if let Some(n) = self.node(t) {
                    self.w.set(n, res.value);
                }
                Finish::Done
            }
            Done::Resource(action, Err(e)) => {
                let Some(addr) = self.resource_addr(t).cloned() else { return Finish::Failed };
                if let (Left::Tainted(at, v), Action::Create) = (&e.left, action) {
                    self.walked.created.insert(at.clone(), v.clone());
                }
                self.walked.errors.insert(addr.clone(), e.diag.summary.clone());
                self.out.diags.push(e.diag);
                self.out.failed.push(addr);
                Finish::Failed
            }
            Done::Destroy(Ok(())) => {
                self.out.destroyed += 1;
                Finish::Done
            }
            Done::Destroy(Err(d)) => {
                let addr = self.doomed[t - self.node_count].0.addr.clone();
                self.walked.errors.insert(addr.clone(), d.summary.clone());
                self.out.diags.push(d);
                self.out.failed.push(addr);
                Finish::Failed
            }
        }
    }

    fn panicked(&mut self, t: TaskId, message: String) {
        self.out.diags.push(Diagnostic::error("internal", format!("an apply task panicked: {message}")));
        if let Some(addr) = self.resource_addr(t).cloned() {
            self.out.failed.push(addr);
        }
    }

    fn not_run(&mut self, t: TaskId, why: NotRun) {
        let reason = match why {
            NotRun::Skipped { cause } if self.interrupted.contains(&cause) => "the apply was interrupted".to_string(),
            NotRun::Skipped { cause } => match self.resource_addr(cause) {
                Some(a) => format!("{a} failed"),
                None => "a value it depends on could not be evaluated".to_string(),
            },
            NotRun::Unreachable => {
                self.out.diags.push(Diagnostic::error("internal", format!("apply task {t} could never run (a cycle)")));
                "it could never run".to_string()
            }
        };
        if let NotRun::Skipped { cause } = why {
            if self.interrupted.contains(&cause) {
                self.interrupted.insert(t);
            }
        }
        let (addr, action) = match self.node(t) {
            Some(n) => match self.input.prepared.graph.graph[n] {
                Node::Resource(ri) => {
                    let addr = &self.input.prepared.stack.resources[ri].addr;
                    match self.changes.get(addr) {
                        Some(c) if !matches!(c.action, Action::NoOp | Action::Delete) => (addr.clone(), c.action),
                        _ => return,
                    }
                }
                _ => return,
            },
            None => (self.doomed[t - self.node_count].0.addr.clone(), Action::Delete),
        };
        self.input.observer.event(crate::apply::ApplyEvent::Skipped { address: addr.clone(), action, reason });
        self.out.skipped.push(addr);
    }
}

/// Waits for every queued record; a record that could not be written is an error.
pub(super) async fn await_pending(walked: &mut Walked, out: &mut ApplyOutcome) {
    for (addr, wait) in walked.pending.drain(..) {
        match wait.await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => out.diags.push(commit_failed(&addr, &e)),
            Err(_) => out.diags.push(commit_failed(&addr, "the state committer stopped")),
        }
    }
}

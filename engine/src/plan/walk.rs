//! The plan walk: what planning does with each task of the graph, on the shared scheduler.
//!
//! Tasks are the graph's nodes (variables, locals, outputs, provider configurations, resource
//! instances, evaluated in place on the coordinator or, for provider calls, concurrently) plus
//! one task per orphan. An orphan waits for its provider's configuration node when the
//! configuration has one, so it is refreshed with the same provider settings as everything else.
//!
//! An instance that cannot be planned now is *deferred* (its provider's configuration is not
//! known yet, an interrupted create cannot be resolved, or it depends on a deferred instance):
//! it is listed in the plan, not planned, and references to it are unknown.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use tokio_util::sync::CancellationToken;

use super::instance::{plan_instance, plan_orphan, unresolved_diag, InstanceJob, Planned};
use super::moved::MovedFrom;
use super::planner::{provider_diag, PlanOptions};
use super::{Action, DeferReason, Deferred, Drift, PlanMode, ResourceChange};
use crate::address::{InstanceAddr, Mode};
use crate::diagnostics::{Diagnostic, Diagnostics, Span};
use crate::expand::RiId;
use crate::graph::{provider_key, Node};
use crate::provider::ConfiguredProvider;
use crate::runtime::{ConfiguredProviders, Schemas};
use crate::schedule::{self, Finish, NotRun, Step, TaskGraph, TaskId};
use crate::state::{InstanceState, InstanceStatus, StateSnapshot};
use crate::validate::{unknown_type, Prepared};
use crate::value::Value;
use crate::walk::Walker;

pub(super) struct PlanWalkInput<'a> {
    pub prepared: &'a Prepared,
    pub schemas: &'a Schemas,
    pub state: &'a StateSnapshot,
    pub options: &'a PlanOptions,
    pub deps: &'a [Vec<RiId>],
    pub in_scope: &'a [bool],
    pub imports: &'a HashMap<InstanceAddr, String>,
    pub moved_from: &'a MovedFrom,
    pub orphans: Vec<InstanceState>,
    pub cancel: CancellationToken,
}

/// What the walk found.
pub(super) struct Walked {
    pub changes: Vec<ResourceChange>,
    pub drift: Vec<Drift>,
    pub deferred: Vec<Deferred>,
    pub diags: Diagnostics,
    /// Node values at the end (outputs read them).
    pub values: Vec<Option<Value>>,
    pub providers: ConfiguredProviders,
}

pub(super) enum Done {
    Provider(Result<Arc<dyn ConfiguredProvider>, Diagnostic>),
    Resource(Result<Planned, Diagnostics>),
    Orphan(Result<Planned, Diagnostic>),
}

struct PlanWalk<'a> {
    input: PlanWalkInput<'a>,
    w: Walker<'a>,
    node_count: usize,
    providers: ConfiguredProviders,
    changes: Vec<ResourceChange>,
    drift: Vec<Drift>,
    deferred: Vec<Deferred>,
    /// Per resource instance: why it is deferred.
    deferred_ri: Vec<Option<DeferReason>>,
    /// Provider configurations not known at plan time.
    deferred_providers: HashSet<String>,
    diags: Diagnostics,
    seen_diag: HashSet<(Option<Span>, String)>,
    /// Actions decided so far, for replace_triggered_by.
    planned_actions: HashMap<RiId, Action>,
}

/// Runs the plan walk.
pub(super) async fn walk(input: PlanWalkInput<'_>) -> Walked {
    let p = input.prepared;
    let node_count = p.graph.graph.node_count();
    let mut tasks = TaskGraph::with_tasks(node_count);
    for e in p.graph.graph.edge_references() {
        tasks.order(e.source().index(), e.target().index());
    }
    for s in &input.orphans {
        let t = tasks.add_task();
        if let Some(n) = p.graph.provider_nodes.get(&s.provider) {
            tasks.order(n.index(), t);
        }
    }
    let parallelism = input.options.parallelism;
    let mut v = PlanWalk {
        w: Walker::new(&p.stack, &p.graph),
        node_count,
        providers: ConfiguredProviders::default(),
        changes: Vec::new(),
        drift: Vec::new(),
        deferred: Vec::new(),
        deferred_ri: vec![None; p.stack.resources.len()],
        deferred_providers: HashSet::new(),
        diags: Diagnostics::new(),
        seen_diag: HashSet::new(),
        planned_actions: HashMap::new(),
        input,
    };
    schedule::run(&tasks, &mut v, parallelism).await;
    Walked {
        changes: v.changes,
        drift: v.drift,
        deferred: v.deferred,
        diags: v.diags,
        values: v.w.values,
        providers: v.providers,
    }
}

impl PlanWalk<'_> {
    fn push_once(&mut self, d: Diagnostic) {
        if self.seen_diag.insert((d.span, d.summary.clone())) {
            self.diags.push(d);
        }
    }

    fn node(&self, t: TaskId) -> Option<NodeIndex> {
        (t < self.node_count).then(|| NodeIndex::new(t))
    }

    fn defer(&mut self, ri: RiId, reason: DeferReason) {
        let addr = self.input.prepared.stack.resources[ri].addr.clone();
        self.deferred_ri[ri] = Some(reason.clone());
        self.deferred.push(Deferred { addr, reason });
    }

    /// Why a resource instance cannot be planned now, if it cannot.
    fn blocked(&self, ri: RiId, pkey: &str) -> Option<DeferReason> {
        if self.deferred_providers.contains(pkey) {
            return Some(DeferReason::ProviderConfig { provider: pkey.to_string() });
        }
        let stack = &self.input.prepared.stack;
        self.input.deps[ri].iter().find_map(|d| {
            self.deferred_ri[*d].as_ref().map(|why| DeferReason::Dependency {
                on: stack.resources[*d].addr.clone(),
                resolves: why.resolves_by_applying(),
            })
        })
    }

    fn start_provider(&mut self, n: NodeIndex, key: &str) -> Step<Done> {
        let cfg = match self.w.eval_node(n) {
            Ok(cfg) => cfg,
            Err(d) => {
                self.push_once(d);
                return Step::Failed;
            }
        };
        let name = key.split('.').next().unwrap_or(key).to_string();
        let registry = self.input.schemas.registry();
        let Some(provider) = registry.get(&name).cloned() else {
            let d = Diagnostic::error("unknown-provider", format!("Unknown provider \"{name}\""))
                .with_help(format!("available providers: {}", registry.names().collect::<Vec<_>>().join(", ")));
            self.push_once(d);
            return Step::Failed;
        };
        if !cfg.is_wholly_known() && self.input.options.mode != PlanMode::Destroy {
            // Configured from values known only after apply (a server this stack creates):
            // what it manages waits for a further round.
            self.deferred_providers.insert(key.to_string());
            self.w.values[n.index()] = Some(cfg);
            return Step::Done;
        }
        self.w.values[n.index()] = Some(cfg.clone());
        let key = key.to_string();
        Step::Spawn(Box::pin(async move {
            let cfg = cfg.unmark_deep();
            let r = provider.configure(&cfg).await.map_err(|e| configure_diag(&key, &e));
            Done::Provider(r)
        }))
    }

    fn start_resource(&mut self, n: NodeIndex, ri: RiId) -> Step<Done> {
        let input = &self.input;
        let stack = &input.prepared.stack;
        let opts = input.options;
        let r = &stack.resources[ri];
        let prior = input.state.resources.get(&r.addr).cloned();
        if !input.in_scope[ri] || opts.mode == PlanMode::Destroy {
            // Outside the plan: its stored value stands in for references.
            let v = prior.map(|s| s.value).unwrap_or(Value::Unknown);
            self.w.set(n, v);
            return Step::Done;
        }
        let pkey = provider_key(&r.config);
        if let Some(why) = self.blocked(ri, &pkey) {
            self.defer(ri, why);
            self.w.set(n, Value::Unknown);
            return Step::Done;
        }
        let Some((schema, version)) = input.schemas.get(r.config.mode, &r.config.ty) else {
            let d = unknown_type(input.schemas.registry(), r.config.mode, &r.config.ty, r.config.type_span);
            self.push_once(d);
            return Step::Failed;
        };
        // A refresh-only plan reads data sources (outputs may use them) but only when what they
        // depend on exists: a data source of a tenant that was never applied would be read with
        // null arguments.
        if opts.mode == PlanMode::RefreshOnly && r.config.mode == Mode::Data {
            let inputs_exist = input.deps[ri].iter().all(|d| {
                let dr = &stack.resources[*d];
                dr.config.mode == Mode::Data || input.state.resources.contains_key(&dr.addr)
            });
            if !inputs_exist {
                self.w.set(n, Value::Unknown);
                return Step::Done;
            }
        }
        let config = if opts.mode == PlanMode::RefreshOnly && r.config.mode == Mode::Managed {
            None
        } else {
            match self.w.eval_resource_config(ri, &schema) {
                Ok(c) => Some(c),
                Err(_) if opts.mode == PlanMode::RefreshOnly => {
                    // An input object was deleted outside tenantform: the drift shows on that
                    // object; this data source cannot be read.
                    self.w.set(n, Value::Unknown);
                    return Step::Done;
                }
                Err(ds) => {
                    for d in ds {
                        self.push_once(d);
                    }
                    return Step::Failed;
                }
            }
        };
        let (resource, data_source) = match r.config.mode {
            Mode::Managed => match self.providers.resource(&pkey, &r.config.ty) {
                Ok(rt) => (Some(rt), None),
                Err(e) => {
                    self.diags.push(provider_diag(&r.addr, "plan", &e, Some(r.config.span)));
                    return Step::Failed;
                }
            },
            Mode::Data => match self.providers.data_source(&pkey, &r.config.ty) {
                Ok(ds) => (None, Some(ds)),
                Err(e) => {
                    self.diags.push(provider_diag(&r.addr, "read", &e, Some(r.config.span)));
                    return Step::Failed;
                }
            },
        };
        let triggered_by = r.config.lifecycle.replace_triggered_by.iter().find_map(|reference| {
            let crate::config::RefTarget::Resource(mode, ty, name) = &reference.target else { return None };
            let inst = stack.modules[r.mi].resources.get(&crate::expand::resource_key(*mode, ty, name))?;
            inst.items.iter().find_map(|(_, dep)| {
                let a = self.planned_actions.get(dep)?;
                matches!(a, Action::Create | Action::Update | Action::Replace | Action::CreateThenDelete)
                    .then(|| stack.resources[*dep].addr.to_string())
            })
        });
        let force_replace = if opts.replace.contains(&r.addr) {
            Some("requested with -replace".to_string())
        } else if let Some(s) = prior.as_ref().filter(|s| s.status == InstanceStatus::Tainted) {
            Some(match s.detail.as_ref().and_then(|d| d.reason.as_deref()) {
                Some(why) => format!("tainted: a previous apply failed after it was made ({why})"),
                None => "tainted: a previous apply left it incomplete".to_string(),
            })
        } else if let (Some(t), Some(_)) = (&triggered_by, &prior) {
            Some(format!("replace_triggered_by: {t} changes"))
        } else {
            None
        };
        let import_format =
            input.schemas.registry().resource_schema(&r.config.ty).map(|s| s.import_id.clone()).unwrap_or_default();
        // An import replaces nothing, except an interrupted create a person resolved by
        // importing the object it made.
        let import_id = match &prior {
            None => input.imports.get(&r.addr).cloned(),
            Some(s) if s.status == InstanceStatus::Creating => input.imports.get(&r.addr).cloned(),
            Some(_) => None,
        };
        let prior = if import_id.is_some() { None } else { prior };
        let lc = &r.config.lifecycle;
        let job = InstanceJob {
            addr: r.addr.clone(),
            provider: pkey,
            mode: r.config.mode,
            schema,
            schema_version: version,
            config,
            prior,
            refresh: opts.refresh,
            plan_mode: opts.mode,
            force_replace,
            ignore: lc.ignore_changes.clone(),
            ignore_all: lc.ignore_all_changes,
            cbd: lc.create_before_destroy,
            prevent_destroy: lc.prevent_destroy,
            lifecycle_span: lc.span,
            span: r.config.span,
            dependencies: input.deps[ri].iter().map(|d| stack.resources[*d].addr.clone()).collect(),
            resource,
            data_source,
            retry: opts.retry,
            cancel: input.cancel.clone(),
            import_id,
            import_format,
            moved_from: input.moved_from.get(&r.addr).cloned(),
        };
        Step::Spawn(Box::pin(async move { Done::Resource(plan_instance(job).await) }))
    }

    fn start_orphan(&mut self, i: usize) -> Step<Done> {
        let s = self.input.orphans[i].clone();
        let opts = self.input.options;
        let stack = &self.input.prepared.stack;
        if let Some(ri) = stack.by_addr.get(&s.addr) {
            let r = &stack.resources[*ri];
            if r.config.lifecycle.prevent_destroy && opts.mode == PlanMode::Destroy {
                self.diags.push(super::planner::prevent_destroy_diag(
                    &s.addr,
                    r.config.lifecycle.span.or(Some(r.config.span)),
                ));
                return Step::Failed;
            }
        }
        if self.deferred_providers.contains(&s.provider) {
            self.deferred.push(Deferred {
                addr: s.addr.clone(),
                reason: DeferReason::ProviderConfig { provider: s.provider.clone() },
            });
            return Step::Done;
        }
        let Some((schema, _)) = self.input.schemas.get(Mode::Managed, s.addr.ty()) else {
            self.diags.push(
                Diagnostic::error(
                    "unknown-resource-type",
                    format!("{}: state holds an unknown resource type \"{}\"", s.addr, s.addr.ty()),
                )
                .with_help("the provider that manages it is not built in; remove it with `tenantform state rm`"),
            );
            return Step::Failed;
        };
        let providers = self.providers.clone();
        let schemas = self.input.schemas.clone();
        let (mode, refresh, retry, cancel) = (opts.mode, opts.refresh, opts.retry, self.input.cancel.clone());
        Step::Spawn(Box::pin(async move {
            let rt = match providers.ensure(&schemas, &s.provider).await {
                Ok(p) => match p.resource(s.addr.ty()) {
                    Some(rt) => rt,
                    None => {
                        return Done::Orphan(Err(Diagnostic::error(
                            "provider",
                            format!("{}: provider \"{}\" has no resource type \"{}\"", s.addr, s.provider, s.addr.ty()),
                        )))
                    }
                },
                Err(e) => return Done::Orphan(Err(configure_diag(&s.provider, &e))),
            };
            Done::Orphan(plan_orphan(rt, s, schema, mode, refresh, retry, cancel).await)
        }))
    }

    fn record(&mut self, ri: Option<RiId>, addr: &InstanceAddr, planned: Planned) -> Value {
        if let Some(c) = planned.change {
            if let Some(ri) = ri {
                self.planned_actions.insert(ri, c.action);
            }
            self.changes.push(c);
        }
        if let Some(d) = planned.drift {
            self.drift.push(d);
        }
        if let Some(why) = planned.deferred {
            if let DeferReason::Unresolved { detail } = &why {
                let format = self
                    .input
                    .schemas
                    .registry()
                    .resource_schema(addr.ty())
                    .map(|s| s.import_id.clone())
                    .unwrap_or_default();
                let d = unresolved_diag(addr, detail, &format);
                self.push_once(d);
            }
            match ri {
                Some(ri) => self.defer(ri, why),
                None => self.deferred.push(Deferred { addr: addr.clone(), reason: why }),
            }
        }
        planned.value
    }
}

fn configure_diag(key: &str, e: &crate::provider::ProviderError) -> Diagnostic {
    let mut d = Diagnostic::error("provider", format!("Configuring provider \"{key}\" failed: {}", e.summary));
    if let Some(x) = &e.detail {
        d = d.with_detail(x.clone());
    }
    if let Some(h) = &e.help {
        d = d.with_help(h.clone());
    }
    d
}

impl schedule::Visitor for PlanWalk<'_> {
    type Output = Done;

    fn bounded(&self, t: TaskId) -> bool {
        match self.node(t) {
            Some(n) => matches!(self.input.prepared.graph.graph[n], Node::Resource(_)),
            None => true,
        }
    }

    fn start(&mut self, t: TaskId) -> Step<Done> {
        if self.input.cancel.is_cancelled() {
            return Step::Failed;
        }
        let Some(n) = self.node(t) else { return self.start_orphan(t - self.node_count) };
        match &self.input.prepared.graph.graph[n] {
            Node::Provider(key) => {
                let key = key.clone();
                self.start_provider(n, &key)
            }
            Node::Resource(ri) => self.start_resource(n, *ri),
            _ => match self.w.eval_node(n) {
                Ok(v) => {
                    self.w.set(n, v);
                    Step::Done
                }
                Err(d) => {
                    self.push_once(d);
                    Step::Failed
                }
            },
        }
    }

    fn finish(&mut self, t: TaskId, out: Done) -> Finish {
        match out {
            Done::Provider(Ok(cp)) => {
                if let Some(n) = self.node(t) {
                    if let Node::Provider(key) = &self.input.prepared.graph.graph[n] {
                        self.providers.insert(key, cp);
                    }
                }
                Finish::Done
            }
            Done::Provider(Err(d)) => {
                self.diags.push(d);
                Finish::Failed
            }
            Done::Resource(Ok(planned)) => {
                let Some(n) = self.node(t) else { return Finish::Failed };
                let Node::Resource(ri) = self.input.prepared.graph.graph[n] else { return Finish::Failed };
                let addr = self.input.prepared.stack.resources[ri].addr.clone();
                let v = self.record(Some(ri), &addr, planned);
                self.w.set(n, v);
                Finish::Done
            }
            Done::Resource(Err(ds)) => {
                for d in ds {
                    self.push_once(d);
                }
                Finish::Failed
            }
            Done::Orphan(Ok(planned)) => {
                let addr = self.input.orphans[t - self.node_count].addr.clone();
                self.record(None, &addr, planned);
                Finish::Done
            }
            Done::Orphan(Err(d)) => {
                self.diags.push(d);
                Finish::Failed
            }
        }
    }

    fn panicked(&mut self, t: TaskId, message: String) {
        self.diags.push(Diagnostic::error("internal", format!("a planning task failed (task {t}): {message}")));
    }

    fn not_run(&mut self, t: TaskId, why: NotRun) {
        if why == NotRun::Unreachable {
            self.diags.push(Diagnostic::error("internal", format!("planning task {t} could never run (a cycle)")));
        }
    }
}

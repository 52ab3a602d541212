//! The dependency graph of an expanded stack (petgraph).
//!
//! Nodes are the things that get a value: input variables, locals and outputs of every module
//! instance, every resource instance, and provider configurations. An edge `A → B` means B
//! refers to A (B waits for A); it carries the span of the reference, so a cycle is reported
//! edge by edge at the source lines that create it. References are extracted once per module
//! *configuration* and resolved per instance, so 10,000 tenants cost one parse of their
//! module. The graph of resource instances alone (what `tenantform graph` prints, what state
//! records as dependencies) is derived by looking through the other nodes.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::Arc;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;

use crate::address::Mode;
use crate::config::{Body, Module, RefTarget, Reference};
use crate::diagnostics::{Diagnostic, Diagnostics, Span};
use crate::eval::references;
use crate::expand::{resource_key, undeclared, MiId, Origin, RiId, Stack};

/// A node of the graph.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    Var {
        mi: MiId,
        name: String,
    },
    Local {
        mi: MiId,
        name: String,
    },
    Output {
        mi: MiId,
        name: String,
    },
    Resource(RiId),
    /// A provider configuration: `name` or `name.alias`.
    Provider(String),
}

/// Why an edge exists: the reference (in the dependent) that creates it.
#[derive(Clone, Copy, Debug)]
pub struct Edge {
    pub span: Option<Span>,
}

/// The graph plus indexes from names to nodes.
#[derive(Debug)]
pub struct StackGraph {
    pub graph: DiGraph<Node, Edge>,
    pub resource_nodes: Vec<NodeIndex>,
    pub var_nodes: HashMap<(MiId, String), NodeIndex>,
    pub local_nodes: HashMap<(MiId, String), NodeIndex>,
    pub output_nodes: HashMap<(MiId, String), NodeIndex>,
    pub provider_nodes: HashMap<String, NodeIndex>,
}

/// References of one module configuration, computed once however many instances it has.
#[derive(Default)]
struct ModuleRefs {
    locals: HashMap<String, Vec<Reference>>,
    outputs: HashMap<String, Vec<Reference>>,
    resources: HashMap<String, Vec<Reference>>,
    /// (call name, input name) → references in the calling module.
    call_inputs: HashMap<(String, String), Vec<Reference>>,
    call_depends_on: HashMap<String, Vec<Reference>>,
    validations: HashMap<String, Vec<Reference>>,
    providers: HashMap<String, Vec<Reference>>,
}

fn body_refs(body: &Body, out: &mut Vec<Reference>) {
    for a in body.attrs.values() {
        out.extend(references(&a.expr));
    }
    for b in &body.blocks {
        if b.ty == "dynamic" {
            // The iterator (named by the label, or `iterator =`) is not a resource reference.
            let iter_name = b
                .body
                .attrs
                .get("iterator")
                .and_then(|a| {
                    crate::config::literal_value(&a.expr.expr).or_else(|| match &a.expr.expr {
                        hcl_edit::expr::Expression::Variable(v) => {
                            Some(crate::value::Value::string(v.value().as_str()))
                        }
                        _ => None,
                    })
                })
                .and_then(|v| v.as_str().map(str::to_string))
                .or_else(|| b.labels.first().cloned())
                .unwrap_or_default();
            let mut inner = Vec::new();
            body_refs(&b.body, &mut inner);
            out.extend(
                inner
                    .into_iter()
                    .filter(|r| !matches!(&r.target, RefTarget::Resource(Mode::Managed, t, _) if *t == iter_name)),
            );
        } else {
            body_refs(&b.body, out);
        }
    }
}

impl ModuleRefs {
    fn of(m: &Module) -> ModuleRefs {
        let mut r = ModuleRefs::default();
        for (n, l) in &m.locals {
            r.locals.insert(n.clone(), references(&l.expr));
        }
        for (n, o) in &m.outputs {
            let mut refs = references(&o.value);
            refs.extend(o.depends_on.iter().cloned());
            r.outputs.insert(n.clone(), refs);
        }
        for (k, res) in &m.resources {
            let mut refs = Vec::new();
            body_refs(&res.body, &mut refs);
            if let Some(c) = &res.count {
                refs.extend(references(c));
            }
            if let Some(f) = &res.for_each {
                refs.extend(references(f));
            }
            refs.extend(res.depends_on.iter().cloned());
            refs.extend(res.lifecycle.replace_triggered_by.iter().cloned());
            r.resources.insert(k.clone(), refs);
        }
        for (cn, call) in &m.module_calls {
            let mut shared = Vec::new();
            if let Some(c) = &call.count {
                shared.extend(references(c));
            }
            if let Some(f) = &call.for_each {
                shared.extend(references(f));
            }
            for (input, attr) in &call.inputs {
                let mut refs = references(&attr.expr);
                refs.extend(shared.iter().cloned());
                r.call_inputs.insert((cn.clone(), input.clone()), refs);
            }
            r.call_depends_on.insert(cn.clone(), call.depends_on.clone());
        }
        for (n, v) in &m.variables {
            let mut refs = Vec::new();
            for val in &v.validations {
                refs.extend(references(&val.condition));
                refs.extend(references(&val.error_message));
            }
            refs.retain(|x| x.target != RefTarget::Var(n.clone()));
            r.validations.insert(n.clone(), refs);
        }
        for p in &m.providers {
            let mut refs = Vec::new();
            body_refs(&p.body, &mut refs);
            r.providers.insert(p.key(), refs);
        }
        r
    }
}

struct Builder<'a> {
    stack: &'a Stack,
    g: StackGraph,
    refs: HashMap<*const Module, Arc<ModuleRefs>>,
    diags: Diagnostics,
    reported: HashSet<(Span, &'static str)>,
}

impl StackGraph {
    /// Builds the graph and checks it: undefined references, misplaced `each`/`count`/`tenant`,
    /// cycles. Every problem is reported, once per source location.
    pub fn build(stack: &Stack) -> Result<StackGraph, Diagnostics> {
        let g = StackGraph {
            graph: DiGraph::with_capacity(stack.resources.len() * 2, stack.resources.len() * 2),
            resource_nodes: Vec::with_capacity(stack.resources.len()),
            var_nodes: HashMap::new(),
            local_nodes: HashMap::new(),
            output_nodes: HashMap::new(),
            provider_nodes: HashMap::new(),
        };
        let mut b = Builder { stack, g, refs: HashMap::new(), diags: Diagnostics::new(), reported: HashSet::new() };
        b.add_nodes();
        b.add_edges();
        let Builder { g, mut diags, .. } = b;
        diags.extend(g.cycles(stack));
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(g)
        }
    }

    /// A readable name for a node: `tenant.acme.local.url`, `random_id.x[0]`, `provider["local"]`.
    pub fn node_name(&self, stack: &Stack, n: NodeIndex) -> String {
        let prefix = |mi: MiId| {
            let a = &stack.modules[mi].addr;
            if a.is_root() {
                String::new()
            } else {
                format!("{a}.")
            }
        };
        match &self.graph[n] {
            Node::Var { mi, name } => format!("{}var.{name}", prefix(*mi)),
            Node::Local { mi, name } => format!("{}local.{name}", prefix(*mi)),
            Node::Output { mi, name } => format!("{}output.{name}", prefix(*mi)),
            Node::Resource(ri) => stack.resources[*ri].addr.to_string(),
            Node::Provider(k) => format!("provider[\"{k}\"]"),
        }
    }

    fn cycles(&self, stack: &Stack) -> Diagnostics {
        let mut diags = Diagnostics::new();
        if petgraph::algo::toposort(&self.graph, None).is_ok() {
            return diags;
        }
        let mut seen_signatures = HashSet::new();
        for scc in petgraph::algo::tarjan_scc(&self.graph) {
            let self_loop = scc.len() == 1 && self.graph.find_edge(scc[0], scc[0]).is_some();
            if scc.len() < 2 && !self_loop {
                continue;
            }
            let members: HashSet<NodeIndex> = scc.iter().copied().collect();
            // Walk "refers to" edges (incoming) inside the component back to the start.
            let start = *scc.iter().min().unwrap_or(&scc[0]);
            let path = find_cycle(&self.graph, start, &members);
            let mut spans = Vec::new();
            let mut names = Vec::new();
            for w in path.windows(2) {
                let (from, to) = (w[0], w[1]);
                // `from` refers to `to`: the edge is to → from.
                let span = self.graph.find_edge(to, from).and_then(|e| self.graph[e].span);
                spans.push((span, self.node_name(stack, from), self.node_name(stack, to)));
                names.push(self.node_name(stack, from));
            }
            names.push(self.node_name(stack, start));
            let signature: Vec<Option<Span>> = spans.iter().map(|s| s.0).collect();
            if !seen_signatures.insert(signature) {
                continue;
            }
            let mut d = Diagnostic::error("cycle", "Cycle in the dependency graph")
                .with_detail(names.join(" → "))
                .with_help("break the cycle: one of these references must go, or come from a variable instead");
            let mut first = true;
            for (span, from, to) in spans {
                let Some(span) = span else { continue };
                if first {
                    d = d.with_span(Some(span)).with_label(format!("{from} refers to {to}"));
                    first = false;
                } else {
                    d = d.with_secondary(span, format!("{from} refers to {to}"));
                }
            }
            diags.push(d);
        }
        diags
    }

    /// For each resource instance, the resource instances it depends on (directly or through
    /// variables, locals and outputs), sorted and deduplicated.
    pub fn resource_dependencies(&self) -> Vec<Vec<RiId>> {
        let mut memo: HashMap<NodeIndex, Arc<Vec<RiId>>> = HashMap::new();
        let mut out = Vec::with_capacity(self.resource_nodes.len());
        for &n in &self.resource_nodes {
            let mut deps: Vec<RiId> = Vec::new();
            for e in self.graph.edges_directed(n, Direction::Incoming) {
                deps.extend(self.resources_behind(e.source(), &mut memo).iter().copied());
            }
            deps.sort_unstable();
            deps.dedup();
            out.push(deps);
        }
        out
    }

    /// The resource instances a node stands for: itself if it is one, else those behind it.
    fn resources_behind(&self, n: NodeIndex, memo: &mut HashMap<NodeIndex, Arc<Vec<RiId>>>) -> Arc<Vec<RiId>> {
        if let Node::Resource(ri) = &self.graph[n] {
            return Arc::new(vec![*ri]);
        }
        if let Some(v) = memo.get(&n) {
            return v.clone();
        }
        // Iterative post-order to survive long chains of locals.
        let mut stack = vec![(n, false)];
        while let Some((cur, expanded)) = stack.pop() {
            if memo.contains_key(&cur) {
                continue;
            }
            if expanded {
                let mut deps = Vec::new();
                for e in self.graph.edges_directed(cur, Direction::Incoming) {
                    let s = e.source();
                    match &self.graph[s] {
                        Node::Resource(ri) => deps.push(*ri),
                        _ => deps.extend(memo.get(&s).map(|v| v.as_slice()).unwrap_or(&[]).iter().copied()),
                    }
                }
                deps.sort_unstable();
                deps.dedup();
                memo.insert(cur, Arc::new(deps));
            } else {
                stack.push((cur, true));
                for e in self.graph.edges_directed(cur, Direction::Incoming) {
                    let s = e.source();
                    if !matches!(self.graph[s], Node::Resource(_)) && !memo.contains_key(&s) {
                        stack.push((s, false));
                    }
                }
            }
        }
        memo.get(&n).cloned().unwrap_or_default()
    }

    /// DOT output of the resource instance graph (edges point from a resource to what it
    /// depends on, as in `terraform graph`). `filter` keeps some instances (plus the instances
    /// they depend on).
    pub fn to_dot(&self, stack: &Stack, filter: Option<&dyn Fn(RiId) -> bool>) -> String {
        let deps = self.resource_dependencies();
        let mut keep = vec![filter.is_none(); stack.resources.len()];
        if let Some(f) = filter {
            let mut todo: Vec<RiId> = (0..stack.resources.len()).filter(|&r| f(r)).collect();
            while let Some(r) = todo.pop() {
                if !keep[r] {
                    keep[r] = true;
                    todo.extend(deps[r].iter().copied());
                }
            }
        }
        let mut order: Vec<RiId> = (0..stack.resources.len()).filter(|&r| keep[r]).collect();
        order.sort_by_cached_key(|r| stack.resources[*r].addr.to_string());
        let mut out = String::from(
            "digraph {\n  compound = \"true\"\n  newrank = \"true\"\n  rankdir = \"RL\"\n  node [shape = \"box\"]\n",
        );
        for &r in &order {
            let _ = writeln!(out, "  \"{}\"", stack.resources[r].addr.to_string().replace('"', "\\\""));
        }
        for &r in &order {
            let from = stack.resources[r].addr.to_string().replace('"', "\\\"");
            let mut targets: Vec<String> = deps[r]
                .iter()
                .filter(|d| keep[**d])
                .map(|d| stack.resources[*d].addr.to_string().replace('"', "\\\""))
                .collect();
            targets.sort();
            for t in targets {
                let _ = writeln!(out, "  \"{from}\" -> \"{t}\"");
            }
        }
        out.push_str("}\n");
        out
    }
}

fn find_cycle(g: &DiGraph<Node, Edge>, start: NodeIndex, members: &HashSet<NodeIndex>) -> Vec<NodeIndex> {
    // BFS over "refers to" edges (incoming) within the component, back to start.
    let mut prev: HashMap<NodeIndex, NodeIndex> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    let mut found = None;
    'outer: while let Some(cur) = queue.pop_front() {
        for e in g.edges_directed(cur, Direction::Incoming) {
            let next = e.source();
            if !members.contains(&next) {
                continue;
            }
            if next == start {
                found = Some(cur);
                break 'outer;
            }
            if let std::collections::hash_map::Entry::Vacant(v) = prev.entry(next) {
                v.insert(cur);
                queue.push_back(next);
            }
        }
    }
    let Some(last) = found else { return vec![start, start] };
    let mut path = vec![last];
    let mut cur = last;
    while cur != start {
        cur = prev[&cur];
        path.push(cur);
    }
    path.reverse();
    path.push(start);
    path
}

impl Builder<'_> {
    fn module_refs(&mut self, m: &Arc<Module>) -> Arc<ModuleRefs> {
        let key = Arc::as_ptr(m);
        self.refs.entry(key).or_insert_with(|| Arc::new(ModuleRefs::of(m))).clone()
    }

    fn add_nodes(&mut self) {
        let stack = self.stack;
        for (mi, m) in stack.modules.iter().enumerate() {
            for name in m.module.variables.keys() {
                let n = self.g.graph.add_node(Node::Var { mi, name: name.clone() });
                self.g.var_nodes.insert((mi, name.clone()), n);
            }
            for name in m.module.locals.keys() {
                let n = self.g.graph.add_node(Node::Local { mi, name: name.clone() });
                self.g.local_nodes.insert((mi, name.clone()), n);
            }
            for name in m.module.outputs.keys() {
                let n = self.g.graph.add_node(Node::Output { mi, name: name.clone() });
                self.g.output_nodes.insert((mi, name.clone()), n);
            }
        }
        for ri in 0..stack.resources.len() {
            let n = self.g.graph.add_node(Node::Resource(ri));
            self.g.resource_nodes.push(n);
        }
        for p in &stack.config.root.providers {
            let n = self.g.graph.add_node(Node::Provider(p.key()));
            self.g.provider_nodes.insert(p.key(), n);
        }
        // Providers used without a configuration block get an empty one.
        for r in &stack.resources {
            let key = provider_key(&r.config);
            if !self.g.provider_nodes.contains_key(&key) && !key.contains('.') {
                let n = self.g.graph.add_node(Node::Provider(key.clone()));
                self.g.provider_nodes.insert(key, n);
            }
        }
    }

    fn report(&mut self, d: Diagnostic) {
        let key = (d.span.unwrap_or(Span { file: crate::diagnostics::FileId(u32::MAX), start: 0, end: 0 }), d.code);
        if self.reported.insert(key) {
            self.diags.push(d);
        }
    }

    fn add_edges(&mut self) {
        let stack = self.stack;
        for (mi, m) in stack.modules.iter().enumerate() {
            let refs = self.module_refs(&m.module);
            // Locals and outputs.
            for (name, rs) in &refs.locals {
                let n = self.g.local_nodes[&(mi, name.clone())];
                self.connect(n, mi, rs, false, false);
            }
            for (name, rs) in &refs.outputs {
                let n = self.g.output_nodes[&(mi, name.clone())];
                self.connect(n, mi, rs, false, false);
            }
            // Variables: validation references in this module, input expressions in the parent.
            for (name, rs) in &refs.validations {
                let n = self.g.var_nodes[&(mi, name.clone())];
                self.connect(n, mi, rs, false, false);
            }
            match &m.origin {
                Origin::Root => {}
                Origin::Call { name: call, each } => {
                    let parent = m.parent.unwrap_or(0);
                    let prefs = self.module_refs(&stack.modules[parent].module);
                    let (has_each, has_count) = each_kind(each.as_ref());
                    for var in m.module.variables.keys() {
                        if let Some(rs) = prefs.call_inputs.get(&(call.clone(), var.clone())) {
                            let n = self.g.var_nodes[&(mi, var.clone())];
                            self.connect(n, parent, rs, has_each, has_count);
                        }
                    }
                }
                Origin::Tenant { slug } => {
                    let root = &stack.config.root;
                    let tenant = &root.tenants[slug];
                    let shared: Vec<Reference> = root
                        .tenant_stack
                        .as_ref()
                        .and_then(|s| s.inputs.as_ref())
                        .map(|e| references(e))
                        .unwrap_or_default();
                    for var in m.module.variables.keys() {
                        let n = self.g.var_nodes[&(mi, var.clone())];
                        let rs = match tenant.inputs.get(var) {
                            Some(a) => references(&a.expr),
                            None => shared.clone(),
                        };
                        self.connect(n, 0, &rs, false, false);
                    }
                }
            }
            // Missing required inputs.
            if !matches!(m.origin, Origin::Root) {
                for (name, decl) in &m.module.variables {
                    if decl.default.is_none() && stack.input_expr(mi, name).is_none() {
                        let (span, what) = match &m.origin {
                            Origin::Tenant { slug } => {
                                (stack.config.root.tenants[slug].span, format!("tenant \"{slug}\""))
                            }
                            Origin::Call { name: call, .. } => {
                                let parent = m.parent.unwrap_or(0);
                                (stack.modules[parent].module.module_calls[call].span, format!("module \"{call}\""))
                            }
                            Origin::Root => unreachable!(),
                        };
                        self.report(
                            Diagnostic::error("missing-argument", format!("Missing required input \"{name}\""))
                                .with_span(Some(span))
                                .with_label(format!("{what} does not set \"{name}\", which has no default"))
                                .with_secondary(decl.span, "declared here")
                                .with_help(format!("set {name} = … in the block, or give the variable a default")),
                        );
                    }
                }
            }
        }
        // Resources.
        for (ri, r) in stack.resources.iter().enumerate() {
            let mi = r.mi;
            let refs = self.module_refs(&stack.modules[mi].module);
            let n = self.g.resource_nodes[ri];
            let key = r.config.key();
            let (has_each, has_count) = (r.config.for_each.is_some(), r.config.count.is_some());
            if let Some(rs) = refs.resources.get(&key) {
                self.connect(n, mi, rs, has_each, has_count);
            }
            // depends_on of enclosing module calls applies to everything inside.
            let mut cur = mi;
            while let Some(parent) = stack.modules[cur].parent {
                if let Origin::Call { name, .. } = &stack.modules[cur].origin {
                    let prefs = self.module_refs(&stack.modules[parent].module);
                    if let Some(rs) = prefs.call_depends_on.get(name) {
                        if !rs.is_empty() {
                            let rs = rs.clone();
                            self.connect(n, parent, &rs, false, false);
                        }
                    }
                }
                cur = parent;
            }
            let pkey = provider_key(&r.config);
            match self.g.provider_nodes.get(&pkey) {
                Some(&p) => {
                    self.g.graph.add_edge(p, n, Edge { span: None });
                }
                None => self.report(
                    Diagnostic::error(
                        "undefined-provider",
                        format!("Provider configuration \"{pkey}\" is not declared"),
                    )
                    .with_span(Some(r.config.span))
                    .with_label("this resource uses it")
                    .with_help(format!(
                        "add provider \"{}\" {{ alias = \"{}\" … }} to the root module",
                        pkey.split('.').next().unwrap_or(""),
                        pkey.split('.').nth(1).unwrap_or("")
                    )),
                ),
            }
        }
        // Provider configurations live in the root module.
        let root_refs = self.module_refs(&stack.config.root);
        for (key, rs) in &root_refs.providers {
            let n = self.g.provider_nodes[key];
            self.connect(n, 0, rs, false, false);
        }
    }

    /// Adds edges from what `refs` (written in module instance `mi`) resolve to, into `to`.
    fn connect(&mut self, to: NodeIndex, mi: MiId, refs: &[Reference], has_each: bool, has_count: bool) {
        for r in refs {
            for from in self.resolve(mi, r, has_each, has_count) {
                self.g.graph.add_edge(from, to, Edge { span: Some(r.span) });
            }
        }
    }

    fn resolve(&mut self, mi: MiId, r: &Reference, has_each: bool, has_count: bool) -> Vec<NodeIndex> {
        let stack = self.stack;
        let m = &stack.modules[mi];
        let module = &m.module;
        match &r.target {
            RefTarget::Var(n) => match self.g.var_nodes.get(&(mi, n.clone())) {
                Some(&x) => vec![x],
                None => {
                    self.report(undeclared("input variable", n, r.span, module.variables.keys().map(String::as_str)));
                    vec![]
                }
            },
            RefTarget::Local(n) => match self.g.local_nodes.get(&(mi, n.clone())) {
                Some(&x) => vec![x],
                None => {
                    self.report(undeclared("local value", n, r.span, module.locals.keys().map(String::as_str)));
                    vec![]
                }
            },
            RefTarget::Resource(mode, ty, name) => {
                let key = resource_key(*mode, ty, name);
                match m.resources.get(&key) {
                    Some(inst) => inst.items.iter().map(|(_, ri)| self.g.resource_nodes[*ri]).collect(),
                    None => {
                        if module.resources.contains_key(&key) {
                            return vec![]; // declared, zero instances
                        }
                        let names: Vec<String> = module
                            .resources
                            .values()
                            .filter(|res| res.mode == *mode)
                            .filter(|res| {
                                (res.ty == *ty && strsim::jaro_winkler(&res.name, name) > 0.8)
                                    || (res.name == *name && strsim::jaro_winkler(&res.ty, ty) > 0.8)
                            })
                            .map(|res| res.key())
                            .collect();
                        let kind = if *mode == Mode::Data { "data source" } else { "resource" };
                        let mut d = undeclared(kind, &key, r.span, names.iter().map(String::as_str));
                        if d.help.is_none() && *mode == Mode::Managed {
                            d = d.with_help(format!(
                                "a resource is declared as resource \"{ty}\" \"{name}\" {{ … }}; variables are var.NAME, locals local.NAME"
                            ));
                        }
                        self.report(d);
                        vec![]
                    }
                }
            }
            RefTarget::Module(call, output) => {
                let Some(call_cfg) = module.module_calls.get(call) else {
                    self.report(undeclared("module", call, r.span, module.module_calls.keys().map(String::as_str)));
                    return vec![];
                };
                if let Some(o) = output {
                    if !call_cfg.module.outputs.contains_key(o) {
                        let mut d = Diagnostic::error(
                            "undefined-reference",
                            format!("Module \"{call}\" has no output \"{o}\""),
                        )
                        .with_span(Some(r.span))
                        .with_label("not an output of this module");
                        if let Some(s) =
                            crate::diagnostics::did_you_mean(o, call_cfg.module.outputs.keys().map(String::as_str))
                        {
                            d = d.with_help(format!("did you mean \"{s}\"?"));
                        }
                        self.report(d);
                        return vec![];
                    }
                }
                let Some(inst) = m.calls.get(call) else { return vec![] };
                let mut out = Vec::new();
                for (_, child) in &inst.items {
                    match output {
                        Some(o) => out.extend(self.g.output_nodes.get(&(*child, o.clone())).copied()),
                        None => {
                            for o in call_cfg.module.outputs.keys() {
                                out.extend(self.g.output_nodes.get(&(*child, o.clone())).copied());
                            }
                        }
                    }
                }
                out
            }
            RefTarget::Each => {
                if !has_each {
                    self.report(
                        Diagnostic::error("invalid-reference", "Reference to \"each\" in a context without for_each")
                            .with_span(Some(r.span))
                            .with_label("each.key and each.value exist only in blocks with for_each")
                            .with_help("add for_each to the block, or use count.index with count"),
                    );
                }
                vec![]
            }
            RefTarget::Count => {
                if !has_count {
                    self.report(
                        Diagnostic::error("invalid-reference", "Reference to \"count\" in a non-counted context")
                            .with_span(Some(r.span))
                            .with_label("count.index exists only in blocks with count"),
                    );
                }
                vec![]
            }
            RefTarget::Tenant => {
                if m.tenant.is_none() {
                    self.report(
                        Diagnostic::error("invalid-reference", "Reference to \"tenant\" outside a tenant")
                            .with_span(Some(r.span))
                            .with_label("tenant.slug exists only inside the tenant stack module")
                            .with_help("pass the value in as a variable instead"),
                    );
                }
                vec![]
            }
            RefTarget::Tenants => {
                if mi != 0 {
                    self.report(
                        Diagnostic::error("invalid-reference", "Reference to \"tenants\" outside the root module")
                            .with_span(Some(r.span))
                            .with_label("tenants (every tenant's outputs) exists only in the root module"),
                    );
                    return vec![];
                }
                let mut out = Vec::new();
                if let Some(ts) = &stack.config.root.tenant_stack {
                    for &tmi in stack.tenants.values() {
                        for o in ts.module.outputs.keys() {
                            out.extend(self.g.output_nodes.get(&(tmi, o.clone())).copied());
                        }
                    }
                }
                out
            }
            RefTarget::Path => vec![],
            RefTarget::SelfRef => {
                self.report(
                    Diagnostic::error("invalid-reference", "\"self\" is not supported here")
                        .with_span(Some(r.span))
                        .with_label("refer to the resource by its address instead"),
                );
                vec![]
            }
        }
    }
}

fn each_kind(each: Option<&crate::expand::EachData>) -> (bool, bool) {
    match each.map(|e| &e.key) {
        Some(crate::address::InstanceKey::Int(_)) => (false, true),
        Some(crate::address::InstanceKey::Str(_)) => (true, false),
        _ => (false, false),
    }
}

/// The provider configuration key a resource uses: `name` or `name.alias`.
pub fn provider_key(r: &crate::config::Resource) -> String {
    match &r.provider {
        Some((name, alias)) if !alias.is_empty() => format!("{name}.{alias}"),
        Some((name, _)) => name.clone(),
        None => r.ty.split('_').next().unwrap_or(&r.ty).to_string(),
    }
}

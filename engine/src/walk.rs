//! Walking the graph: node readiness, the values computed so far, and the evaluation of
//! every node that is not a resource (variables, locals, outputs, provider configurations)
//! plus the decoding of a resource's body against its schema.
//!
//! Validate, plan and apply share this: they differ only in what a resource node's value is
//! (unknown computed attributes, the planned state, the applied state), which they compute
//! themselves and hand back through [`Walker::complete`]. The walker is single-threaded by
//! design: evaluation is cheap and happens on the coordinator; only provider calls run
//! concurrently.

use std::collections::BTreeMap;
use std::path::Path;

use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use petgraph::Direction;

use crate::address::InstanceKey;
use crate::config::{Body, RefTarget};
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, Span};
use crate::eval::{eval, eval_with_locals, Scope};
use crate::expand::{
    path_value, resource_key, tenant_value, EachData, Expansion, InputSource, MiId, Origin, RiId, Stack,
};
use crate::graph::{Node, StackGraph};
use crate::provider::{AttrKind, Nesting, Schema};
use crate::value::Value;

/// State of one node during a walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeState {
    Waiting,
    Ready,
    Running,
    Done,
    Failed,
    /// A dependency failed; this node was not attempted.
    Skipped,
}

/// Readiness bookkeeping and values of a walk.
pub struct Walker<'a> {
    pub stack: &'a Stack,
    pub graph: &'a StackGraph,
    pub values: Vec<Option<Value>>,
    pub states: Vec<NodeState>,
    remaining_deps: Vec<u32>,
    ready: Vec<NodeIndex>,
}

impl<'a> Walker<'a> {
    pub fn new(stack: &'a Stack, graph: &'a StackGraph) -> Self {
        let n = graph.graph.node_count();
        let mut remaining_deps = vec![0u32; n];
        let mut ready = Vec::new();
        for idx in graph.graph.node_indices() {
            let deps = graph.graph.edges_directed(idx, Direction::Incoming).count() as u32;
            remaining_deps[idx.index()] = deps;
            if deps == 0 {
                ready.push(idx);
            }
        }
        // Pop from the end: reverse so that the first nodes start first.
        ready.reverse();
        let mut states = vec![NodeState::Waiting; n];
        for r in &ready {
            states[r.index()] = NodeState::Ready;
        }
        Walker { stack, graph, values: vec![None; n], states, remaining_deps, ready }
    }

    /// Records a node's value without touching readiness (walks on [`crate::schedule`] keep
    /// readiness there).
    pub fn set(&mut self, n: NodeIndex, value: Value) {
        self.values[n.index()] = Some(value);
        self.states[n.index()] = NodeState::Done;
    }

    /// Takes the next ready node, if any.
    pub fn next_ready(&mut self) -> Option<NodeIndex> {
        let n = self.ready.pop()?;
        self.states[n.index()] = NodeState::Running;
        Some(n)
    }

    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Records a node's value and readies its dependents.
    pub fn complete(&mut self, n: NodeIndex, value: Value) {
        self.values[n.index()] = Some(value);
        self.states[n.index()] = NodeState::Done;
        let dependents: Vec<NodeIndex> =
            self.graph.graph.edges_directed(n, Direction::Outgoing).map(|e| e.target()).collect();
        for d in dependents {
            let r = &mut self.remaining_deps[d.index()];
            *r = r.saturating_sub(1);
            if *r == 0 && self.states[d.index()] == NodeState::Waiting {
                self.states[d.index()] = NodeState::Ready;
                self.ready.push(d);
            }
        }
    }

    /// Marks a node failed and every node depending on it (transitively) skipped. Returns the
    /// resource instances that were skipped.
    pub fn fail(&mut self, n: NodeIndex) -> Vec<RiId> {
        self.states[n.index()] = NodeState::Failed;
        let mut skipped = Vec::new();
        let mut todo: Vec<NodeIndex> =
            self.graph.graph.edges_directed(n, Direction::Outgoing).map(|e| e.target()).collect();
        while let Some(d) = todo.pop() {
            if matches!(self.states[d.index()], NodeState::Waiting | NodeState::Ready) {
                self.states[d.index()] = NodeState::Skipped;
                self.ready.retain(|r| *r != d);
                if let Node::Resource(ri) = self.graph.graph[d] {
                    skipped.push(ri);
                }
                todo.extend(self.graph.graph.edges_directed(d, Direction::Outgoing).map(|e| e.target()));
            }
        }
        skipped
    }

    /// A scope for evaluating expressions written in module instance `mi`.
    pub fn scope(&self, mi: MiId, each: Option<&'a EachData>) -> NodeScope<'_> {
        NodeScope { stack: self.stack, graph: self.graph, values: &self.values, mi, each }
    }

    /// Evaluates a variable, local, output or provider node.
    pub fn eval_node(&self, n: NodeIndex) -> Result<Value, Diagnostic> {
        match &self.graph.graph[n] {
            Node::Var { mi, name } => self.eval_var(*mi, name),
            Node::Local { mi, name } => {
                let l = &self.stack.modules[*mi].module.locals[name];
                eval(&l.expr, &self.scope(*mi, None))
            }
            Node::Output { mi, name } => {
                let m = &self.stack.modules[*mi];
                let o = &m.module.outputs[name];
                let v = eval(&o.value, &self.scope(*mi, None))?;
                if m.addr.is_root() && !o.sensitive && v.contains_sensitive() {
                    return Err(Diagnostic::error("sensitive-output", "Output refers to sensitive values")
                        .with_span(Some(o.span))
                        .with_label(format!("output \"{name}\" would show a sensitive value"))
                        .with_help("add `sensitive = true` to the output block to show it as (sensitive value)"));
                }
                Ok(v.with_sensitive(o.sensitive))
            }
            Node::Provider(key) => {
                let Some(p) = self.stack.config.root.providers.iter().find(|p| &p.key() == key) else {
                    return Ok(Value::Map(BTreeMap::new()));
                };
                let mut m = BTreeMap::new();
                for (k, a) in &p.body.attrs {
                    m.insert(k.clone(), eval(&a.expr, &self.scope(0, None))?);
                }
                Ok(Value::Map(m))
            }
            Node::Resource(_) => Err(Diagnostic::error("internal", "resource nodes are evaluated by their walk")),
        }
    }

    fn eval_var(&self, mi: MiId, name: &str) -> Result<Value, Diagnostic> {
        let m = &self.stack.modules[mi];
        let decl = &m.module.variables[name];
        let (raw, mut at) = match &m.origin {
            Origin::Root => match self.stack.root_inputs.get(name) {
                Some(v) => (Some(v.clone()), None),
                None if self.stack.lenient && decl.default.is_none() => (Some(Value::Unknown), None),
                None => (None, None),
            },
            _ => match self.stack.input_expr(mi, name) {
                Some(InputSource::Expr { expr, scope_mi, each }) => {
                    let scope = NodeScope {
                        stack: self.stack,
                        graph: self.graph,
                        values: &self.values,
                        mi: scope_mi,
                        each: each.as_ref(),
                    };
                    (Some(eval(expr, &scope)?), expr.span())
                }
                Some(InputSource::SharedAttr { expr, key }) => {
                    let all = eval(expr, &self.scope(0, None))?;
                    let v = match all.unmarked() {
                        (Value::Map(mm), s) => mm.get(&key).cloned().map(|v| v.with_sensitive(s)),
                        (Value::Unknown, _) => Some(Value::Unknown),
                        _ => {
                            return Err(Diagnostic::error("type-mismatch", "tenant_stack inputs must be an object")
                                .with_span(expr.span())
                                .with_label("inputs = { name = value, … }"))
                        }
                    };
                    (v, expr.span())
                }
                None => (None, None),
            },
        };
        let raw = match raw {
            // As in Terraform: an explicit null stays null unless `nullable = false`, which makes
            // it take the default (or fail without one).
            Some(Value::Null) if decl.nullable => Value::Null,
            Some(Value::Null) if decl.default.is_none() => {
                return Err(Diagnostic::error("null-value", format!("Variable \"{name}\" may not be null"))
                    .with_span(at.or(Some(decl.span)))
                    .with_label("nullable = false and there is no default"))
            }
            Some(Value::Null) | None => match &decl.default {
                Some(d) => {
                    at = d.span();
                    eval(d, &self.scope(mi, None))?
                }
                None if raw.is_some() => Value::Null,
                None => return Err(crate::validate::missing_variable(name, decl.span)),
            },
            Some(v) => v,
        };
        let v = decl.ty.convert(raw).map_err(|e| {
            Diagnostic::error("type-mismatch", format!("Invalid value for variable \"{name}\""))
                .with_span(at.or(decl.type_span).or(Some(decl.span)))
                .with_label(e.to_string())
                .with_help(format!("the variable's type is {}", decl.ty))
        })?;
        let v = v.with_sensitive(decl.sensitive);
        for val in &decl.validations {
            let scope = VarOverlay { inner: self.scope(mi, None), name, value: &v };
            let ok = eval(&val.condition, &scope)?;
            match ok.unmarked().0 {
                Value::Bool(true) | Value::Unknown => {}
                Value::Bool(false) => {
                    let msg = eval(&val.error_message, &scope)
                        .ok()
                        .and_then(|m| if m.is_sensitive() { None } else { m.as_str().map(str::to_string) })
                        .unwrap_or_else(|| "the value is invalid".to_string());
                    return Err(Diagnostic::error("validation", "Invalid value for variable")
                        .with_span(at.or(Some(val.condition.span().unwrap_or(decl.span))))
                        .with_label(msg)
                        .with_secondary(val.span, format!("validation rule of var.{name}")));
                }
                other => {
                    return Err(Diagnostic::error("type-mismatch", "Invalid validation condition")
                        .with_span(val.condition.span())
                        .with_label(format!("a condition must be true or false, got {}", other.type_name())))
                }
            }
        }
        Ok(v)
    }

    /// Evaluates a resource instance's body into an object following `schema`: every schema
    /// attribute present (null or default when unset; computed ones null here), nested blocks
    /// as objects or lists. Reports unknown arguments, computed attributes set in config,
    /// missing required arguments and type mismatches, all at once.
    pub fn eval_resource_config(&self, ri: RiId, schema: &Schema) -> Result<Value, Diagnostics> {
        let r = &self.stack.resources[ri];
        let scope = self.scope(r.mi, r.each.as_ref());
        let what = format!("resource type \"{}\"", r.config.ty);
        decode_body(&r.config.body, schema, &scope, &what, Some(r.config.span))
    }
}

/// Decodes a block body against a schema (see [`Walker::eval_resource_config`]).
pub fn decode_body(
    body: &Body,
    schema: &Schema,
    scope: &dyn Scope,
    what: &str,
    block_span: Option<Span>,
) -> Result<Value, Diagnostics> {
    decode(body, schema, scope, &mut Vec::new(), what, block_span)
}

fn decode(
    body: &Body,
    schema: &Schema,
    scope: &dyn Scope,
    locals: &mut Vec<(String, Value)>,
    what: &str,
    block_span: Option<Span>,
) -> Result<Value, Diagnostics> {
    let mut diags = Diagnostics::new();
    let mut out = BTreeMap::new();
    for (name, attr) in &body.attrs {
        let Some(a) = schema.attributes.get(name) else {
            let mut d = Diagnostic::error("unknown-argument", format!("Unsupported argument \"{name}\""))
                .with_span(Some(attr.name_span))
                .with_label(format!("{what} has no argument \"{name}\""));
            let candidates = schema
                .attributes
                .iter()
                .filter(|(_, a)| a.is_settable())
                .map(|(k, _)| k.as_str())
                .chain(schema.blocks.keys().map(String::as_str));
            if let Some(s) = did_you_mean(name, candidates) {
                d = d.with_help(format!("did you mean \"{s}\"?"));
            } else if schema.blocks.contains_key(name) {
                d = d.with_help(format!("\"{name}\" is a block: write {name} {{ … }}"));
            }
            diags.push(d);
            continue;
        };
        if a.kind == AttrKind::Computed {
            diags.push(
                Diagnostic::error("computed-argument", format!("Invalid argument \"{name}\""))
                    .with_span(Some(attr.name_span))
                    .with_label(format!("\"{name}\" is computed by the provider and cannot be set")),
            );
            continue;
        }
        let v = if locals.is_empty() {
            eval(&attr.expr, scope)
        } else {
            eval_with_locals(&attr.expr, scope, locals.clone())
        };
        match v {
            Ok(v) => match a.ty.convert(v) {
                Ok(v) => {
                    out.insert(name.clone(), v);
                }
                Err(e) => diags.push(
                    Diagnostic::error("type-mismatch", format!("Incorrect attribute value type for \"{name}\""))
                        .with_span(attr.expr.span())
                        .with_label(e.to_string())
                        .with_help(format!("\"{name}\" is {}", a.ty)),
                ),
            },
            Err(d) => diags.push(d),
        }
    }
    for (name, a) in &schema.attributes {
        if out.contains_key(name) || body.attrs.contains_key(name) {
            continue;
        }
        if a.kind == AttrKind::Required {
            diags.push(
                Diagnostic::error("missing-argument", format!("Missing required argument \"{name}\""))
                    .with_span(block_span)
                    .with_label(format!("{what} requires \"{name}\""))
                    .with_help(format!("add {name} = … ({})", a.ty)),
            );
            continue;
        }
        let v = match (&a.default, a.kind) {
            (Some(d), AttrKind::Optional | AttrKind::OptionalComputed) => d.clone(),
            _ => Value::Null,
        };
        out.insert(name.clone(), v);
    }
    // Nested blocks, including `dynamic` ones.
    let mut blocks: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for nb in &body.blocks {
        let (ty, instances): (String, Vec<(Vec<(String, Value)>, &Body, Span)>) = if nb.ty == "dynamic" {
            let Some(label) = nb.labels.first() else {
                diags.push(
                    Diagnostic::error("invalid-labels", "A dynamic block needs the block type as its label")
                        .with_span(Some(nb.type_span)),
                );
                continue;
            };
            let Some(fe) = nb.body.attrs.get("for_each") else {
                diags.push(
                    Diagnostic::error("missing-argument", "A dynamic block needs for_each")
                        .with_span(Some(nb.type_span)),
                );
                continue;
            };
            let Some(content) = nb.body.blocks.iter().find(|b| b.ty == "content") else {
                diags.push(
                    Diagnostic::error("missing-argument", "A dynamic block needs a content block")
                        .with_span(Some(nb.type_span)),
                );
                continue;
            };
            let iter = nb
                .body
                .attrs
                .get("iterator")
                .and_then(|a| match &a.expr.expr {
                    hcl_edit::expr::Expression::Variable(v) => Some(v.value().to_string()),
                    _ => None,
                })
                .unwrap_or_else(|| label.clone());
            let coll = match if locals.is_empty() {
                eval(&fe.expr, scope)
            } else {
                eval_with_locals(&fe.expr, scope, locals.clone())
            } {
                Ok(v) => v,
                Err(d) => {
                    diags.push(d);
                    continue;
                }
            };
            let pairs: Vec<(Value, Value)> = match coll.unmark().0 {
                Value::Unknown => {
                    // The number of blocks is unknown: the whole block list is unknown.
                    blocks.entry(label.clone()).or_default();
                    out.insert(label.clone(), Value::Unknown);
                    continue;
                }
                Value::List(items) => {
                    items.into_iter().enumerate().map(|(i, v)| (Value::number(i as f64), v)).collect()
                }
                Value::Set(items) => items.into_iter().map(|v| (v.clone(), v)).collect(),
                Value::Map(m) => m.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
                Value::Null => Vec::new(),
                other => {
                    diags.push(
                        Diagnostic::error("type-mismatch", "Invalid dynamic for_each value")
                            .with_span(fe.expr.span())
                            .with_label(format!("a collection is required, got {}", other.type_name())),
                    );
                    continue;
                }
            };
            let insts = pairs
                .into_iter()
                .map(|(k, v)| (vec![(iter.clone(), Value::map([("key", k), ("value", v)]))], &content.body, nb.span))
                .collect();
            (label.clone(), insts)
        } else {
            (nb.ty.clone(), vec![(Vec::new(), &nb.body, nb.span)])
        };
        let Some(bs) = schema.blocks.get(&ty) else {
            let mut d = Diagnostic::error("unknown-block", format!("Unsupported block type \"{ty}\""))
                .with_span(Some(nb.type_span))
                .with_label(format!("{what} has no block \"{ty}\""));
            if let Some(s) = did_you_mean(&ty, schema.blocks.keys().map(String::as_str)) {
                d = d.with_help(format!("did you mean \"{s}\"?"));
            } else if schema.attributes.contains_key(&ty) {
                d = d.with_help(format!("\"{ty}\" is an argument: write {ty} = …"));
            }
            diags.push(d);
            continue;
        };
        for (extra, b, span) in instances {
            let n = locals.len();
            locals.extend(extra);
            let r = decode(b, &bs.schema, scope, locals, &format!("block \"{ty}\""), Some(span));
            locals.truncate(n);
            match r {
                Ok(v) => blocks.entry(ty.clone()).or_default().push(v),
                Err(d) => diags.extend(d),
            }
        }
    }
    for (name, bs) in &schema.blocks {
        if out.get(name).is_some_and(Value::is_unknown) {
            continue;
        }
        let items = blocks.remove(name).unwrap_or_default();
        if items.len() < bs.min_items {
            diags.push(
                Diagnostic::error("missing-block", format!("Missing required block \"{name}\""))
                    .with_span(block_span)
                    .with_label(format!("{what} needs at least {} \"{name}\" block(s)", bs.min_items)),
            );
        }
        let limit = match bs.nesting {
            Nesting::Single => Some(1),
            Nesting::List => bs.max_items,
        };
        if let Some(max) = limit {
            if items.len() > max {
                diags.push(
                    Diagnostic::error("too-many-blocks", format!("Too many \"{name}\" blocks"))
                        .with_span(block_span)
                        .with_label(format!("at most {max} allowed")),
                );
            }
        }
        let v = match bs.nesting {
            Nesting::Single => items.into_iter().next().unwrap_or(Value::Null),
            Nesting::List => Value::List(items),
        };
        out.insert(name.clone(), v);
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(Value::Map(out))
    }
}

/// The value a resource has before it exists: its configuration with every computed
/// attribute the configuration does not set unknown.
pub fn with_unknown_computed(config: &Value, schema: &Schema) -> Value {
    let Value::Map(m) = config else { return config.clone() };
    let mut out = m.clone();
    for (name, a) in &schema.attributes {
        let unset = out.get(name).is_none_or(|v| v.is_null());
        if a.is_computed() && unset {
            out.insert(name.clone(), Value::Unknown);
        }
    }
    for (name, b) in &schema.blocks {
        if let Some(v) = out.get_mut(name) {
            match (b.nesting, &*v) {
                (Nesting::Single, Value::Map(_)) => *v = with_unknown_computed(v, &b.schema),
                (Nesting::List, Value::List(items)) => {
                    *v = Value::List(items.iter().map(|i| with_unknown_computed(i, &b.schema)).collect())
                }
                _ => {}
            }
        }
    }
    Value::Map(out)
}

/// Re-applies sensitive marks that a schema declares, at every depth.
pub fn mark_schema_sensitive(v: Value, schema: &Schema) -> Value {
    let (v, outer) = v.unmark();
    let Value::Map(mut m) = v else { return v.with_sensitive(outer) };
    for (name, a) in &schema.attributes {
        if a.sensitive {
            if let Some(x) = m.remove(name) {
                m.insert(name.clone(), x.mark_sensitive());
            }
        }
    }
    for (name, b) in &schema.blocks {
        if let Some(x) = m.remove(name) {
            let x = match (b.nesting, x) {
                (Nesting::Single, x @ Value::Map(_)) => mark_schema_sensitive(x, &b.schema),
                (Nesting::List, Value::List(items)) => {
                    Value::List(items.into_iter().map(|i| mark_schema_sensitive(i, &b.schema)).collect())
                }
                (_, x) => x,
            };
            m.insert(name.clone(), x);
        }
    }
    Value::Map(m).with_sensitive(outer)
}

/// Scope over the values computed so far in a walk.
pub struct NodeScope<'a> {
    pub stack: &'a Stack,
    pub graph: &'a StackGraph,
    pub values: &'a [Option<Value>],
    pub mi: MiId,
    pub each: Option<&'a EachData>,
}

impl NodeScope<'_> {
    fn node_value(&self, n: Option<&NodeIndex>) -> Value {
        n.and_then(|n| self.values[n.index()].clone()).unwrap_or(Value::Unknown)
    }
}

impl Scope for NodeScope<'_> {
    fn lookup(&self, target: &RefTarget, span: Span) -> Result<Value, Diagnostic> {
        let m = &self.stack.modules[self.mi];
        match target {
            RefTarget::Var(n) => Ok(self.node_value(self.graph.var_nodes.get(&(self.mi, n.clone())))),
            RefTarget::Local(n) => Ok(self.node_value(self.graph.local_nodes.get(&(self.mi, n.clone())))),
            RefTarget::Resource(mode, ty, name) => {
                let key = resource_key(*mode, ty, name);
                let Some(inst) = m.resources.get(&key) else {
                    return Err(crate::expand::undeclared(
                        "resource",
                        &key,
                        span,
                        m.module.resources.keys().map(String::as_str),
                    ));
                };
                let value_of =
                    |ri: RiId| self.values[self.graph.resource_nodes[ri].index()].clone().unwrap_or(Value::Unknown);
                Ok(collect(inst.expansion, inst.items.iter().map(|(k, ri)| (k.clone(), value_of(*ri)))))
            }
            RefTarget::Module(call, _) => {
                let Some(inst) = m.calls.get(call) else {
                    return Err(crate::expand::undeclared(
                        "module",
                        call,
                        span,
                        m.module.module_calls.keys().map(String::as_str),
                    ));
                };
                let outputs = |child: MiId| {
                    let cm = &self.stack.modules[child];
                    Value::Map(
                        cm.module
                            .outputs
                            .keys()
                            .map(|o| (o.clone(), self.node_value(self.graph.output_nodes.get(&(child, o.clone())))))
                            .collect(),
                    )
                };
                Ok(collect(inst.expansion, inst.items.iter().map(|(k, mi)| (k.clone(), outputs(*mi)))))
            }
            RefTarget::Each => match self.each {
                Some(EachData { key: InstanceKey::Str(k), value }) => {
                    Ok(Value::map([("key", Value::string(k.clone())), ("value", value.clone())]))
                }
                _ => Err(Diagnostic::error("invalid-reference", "Reference to \"each\" in a context without for_each")
                    .with_span(Some(span))),
            },
            RefTarget::Count => match self.each {
                Some(EachData { key: InstanceKey::Int(i), .. }) => {
                    Ok(Value::map([("index", Value::number(*i as f64))]))
                }
                _ => Err(Diagnostic::error("invalid-reference", "Reference to \"count\" in a non-counted context")
                    .with_span(Some(span))),
            },
            RefTarget::Tenant => match &m.tenant {
                Some(slug) => Ok(tenant_value(slug)),
                None => Err(Diagnostic::error("invalid-reference", "Reference to \"tenant\" outside a tenant")
                    .with_span(Some(span))),
            },
            RefTarget::Tenants => Ok(Value::Map(
                self.stack
                    .tenants
                    .iter()
                    .map(|(slug, &tmi)| {
                        let tm = &self.stack.modules[tmi];
                        let outputs = tm
                            .module
                            .outputs
                            .keys()
                            .map(|o| (o.clone(), self.node_value(self.graph.output_nodes.get(&(tmi, o.clone())))))
                            .collect();
                        (slug.clone(), Value::Map(outputs))
                    })
                    .collect(),
            )),
            RefTarget::Path => Ok(path_value(&m.module.dir, &self.stack.config.dir)),
            RefTarget::SelfRef => {
                Err(Diagnostic::error("invalid-reference", "\"self\" is not supported here").with_span(Some(span)))
            }
        }
    }

    /// Relative paths in `file()` resolve against the stack directory, as Terraform resolves
    /// them against the working directory; `path.module` is absolute for module-relative ones.
    fn base_dir(&self) -> &Path {
        &self.stack.config.dir
    }
}

fn collect(expansion: Expansion, items: impl Iterator<Item = (InstanceKey, Value)>) -> Value {
    match expansion {
        Expansion::Single => items.map(|(_, v)| v).next().unwrap_or(Value::Null),
        Expansion::Count => Value::List(items.map(|(_, v)| v).collect()),
        Expansion::ForEach => Value::Map(
            items
                .map(|(k, v)| match k {
                    InstanceKey::Str(s) => (s, v),
                    other => (other.to_string(), v),
                })
                .collect(),
        ),
    }
}

/// A scope where `var.<name>` is the value being validated.
struct VarOverlay<'a> {
    inner: NodeScope<'a>,
    name: &'a str,
    value: &'a Value,
}

impl Scope for VarOverlay<'_> {
    fn lookup(&self, target: &RefTarget, span: Span) -> Result<Value, Diagnostic> {
        match target {
            RefTarget::Var(n) if n == self.name => Ok(self.value.clone()),
            other => self.inner.lookup(other, span),
        }
    }
    fn base_dir(&self) -> &Path {
        self.inner.base_dir()
    }
}

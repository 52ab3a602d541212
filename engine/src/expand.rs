//! Expansion: from the configuration tree to concrete module instances (module calls with
//! `count`/`for_each`, one instance per tenant) and resource instances, each with its address.
//!
//! `count` and `for_each` must be known while expanding: they are evaluated here with
//! variables and locals (lazily, memoized) and with every resource attribute unknown. A value
//! that depends on a resource attribute is an error, as in Terraform ("known only after
//! apply"). This module does not build the dependency graph or evaluate anything else.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use crate::address::{InstanceAddr, InstanceKey, Mode, ModuleAddr, ModuleStep, ResourceAddr};
use crate::config::{Config, Expr, Module, RefTarget, Resource};
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, Span};
use crate::eval::{eval, Scope};
use crate::value::Value;

pub type MiId = usize;
pub type RiId = usize;

/// How a resource or module call is repeated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expansion {
    Single,
    Count,
    ForEach,
}

/// `each.key`/`each.value` (for_each) or `count.index` (count) of one instance.
#[derive(Clone, Debug, PartialEq)]
pub struct EachData {
    pub key: InstanceKey,
    pub value: Value,
}

/// How a module instance came to be.
#[derive(Clone, Debug)]
pub enum Origin {
    Root,
    Call { name: String, each: Option<EachData> },
    Tenant { slug: String },
}

/// Instances of one resource or module call, in key order.
#[derive(Clone, Debug)]
pub struct Instances<T> {
    pub expansion: Expansion,
    pub items: Vec<(InstanceKey, T)>,
}

/// One instance of a module (the root, a module call instance, or a tenant).
#[derive(Debug)]
pub struct ModuleInstance {
    pub addr: ModuleAddr,
    pub module: Arc<Module>,
    pub parent: Option<MiId>,
    pub origin: Origin,
    /// The tenant this instance belongs to (for `tenant.slug`).
    pub tenant: Option<String>,
    pub calls: HashMap<String, Instances<MiId>>,
    /// Keyed by [`Resource::key`].
    pub resources: HashMap<String, Instances<RiId>>,
}

/// One resource instance: the unit of planning and state.
#[derive(Debug)]
pub struct ResourceInstance {
    pub addr: InstanceAddr,
    pub mi: MiId,
    pub config: Arc<Resource>,
    pub each: Option<EachData>,
}

/// The expanded stack.
#[derive(Debug)]
pub struct Stack {
    pub config: Arc<Config>,
    /// Values of the root module's variables as given (before type conversion).
    pub root_inputs: BTreeMap<String, Value>,
    pub modules: Vec<ModuleInstance>,
    pub resources: Vec<ResourceInstance>,
    pub by_addr: HashMap<InstanceAddr, RiId>,
    /// Tenant slug → module instance.
    pub tenants: BTreeMap<String, MiId>,
    /// Validation mode: root variables without a value are unknown, and `count`/`for_each`
    /// that cannot be known expand to one placeholder instance instead of failing.
    pub lenient: bool,
}

impl Stack {
    pub fn root(&self) -> &ModuleInstance {
        &self.modules[0]
    }

    /// Expands the configuration. `root_inputs` are the root variables' raw values.
    pub fn expand(
        config: Arc<Config>,
        root_inputs: BTreeMap<String, Value>,
        lenient: bool,
    ) -> Result<Stack, Diagnostics> {
        let mut stack = Stack {
            lenient,
            config: config.clone(),
            root_inputs,
            modules: Vec::new(),
            resources: Vec::new(),
            by_addr: HashMap::new(),
            tenants: BTreeMap::new(),
        };
        let mut diags = Diagnostics::new();
        stack.modules.push(ModuleInstance {
            addr: ModuleAddr::root(),
            module: config.root.clone(),
            parent: None,
            origin: Origin::Root,
            tenant: None,
            calls: HashMap::new(),
            resources: HashMap::new(),
        });
        // Breadth-first: a module instance's expansion may read its parent's values.
        let mut queue = std::collections::VecDeque::from([0usize]);
        while let Some(mi) = queue.pop_front() {
            let children = stack.expand_module(mi, &mut diags);
            queue.extend(children);
        }
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(stack)
        }
    }

    fn expand_module(&mut self, mi: MiId, diags: &mut Diagnostics) -> Vec<MiId> {
        let module = self.modules[mi].module.clone();
        let addr = self.modules[mi].addr.clone();
        let tenant = self.modules[mi].tenant.clone();
        // Evaluate every count/for_each of this module instance first (immutable borrow).
        let mut resource_plans = Vec::new();
        let mut call_plans = Vec::new();
        {
            let ev = StaticEval::new(self);
            for (key, r) in &module.resources {
                match ev.instances(mi, r.count.as_deref(), r.for_each.as_deref()) {
                    Ok(inst) => resource_plans.push((key.clone(), r.clone(), inst)),
                    Err(d) => diags.push(d),
                }
            }
            for (name, call) in &module.module_calls {
                match ev.instances(mi, call.count.as_deref(), call.for_each.as_deref()) {
                    Ok(inst) => call_plans.push((name.clone(), call.module.clone(), inst)),
                    Err(d) => diags.push(d),
                }
            }
        }
        for (key, r, (expansion, items)) in resource_plans {
            let raddr = ResourceAddr { module: addr.clone(), mode: r.mode, ty: r.ty.clone(), name: r.name.clone() };
            let mut ids = Vec::with_capacity(items.len());
            for each in items {
                let iaddr = raddr.instance(each.as_ref().map(|e| e.key.clone()).unwrap_or_default());
                let id = self.resources.len();
                self.by_addr.insert(iaddr.clone(), id);
                ids.push((iaddr.key.clone(), id));
                self.resources.push(ResourceInstance { addr: iaddr, mi, config: r.clone(), each });
            }
            self.modules[mi].resources.insert(key, Instances { expansion, items: ids });
        }
        let mut children = Vec::new();
        for (name, child_module, (expansion, items)) in call_plans {
            let mut ids = Vec::with_capacity(items.len());
            for each in items {
                let key = each.as_ref().map(|e| e.key.clone()).unwrap_or_default();
                let id = self.modules.len();
                self.modules.push(ModuleInstance {
                    addr: addr.child(ModuleStep::Module { name: name.clone(), key: key.clone() }),
                    module: child_module.clone(),
                    parent: Some(mi),
                    origin: Origin::Call { name: name.clone(), each },
                    tenant: tenant.clone(),
                    calls: HashMap::new(),
                    resources: HashMap::new(),
                });
                ids.push((key, id));
                children.push(id);
            }
            self.modules[mi].calls.insert(name, Instances { expansion, items: ids });
        }
        if mi == 0 {
            if let Some(stack) = &module.tenant_stack {
                for slug in module.tenants.keys() {
                    let id = self.modules.len();
                    self.modules.push(ModuleInstance {
                        addr: ModuleAddr(vec![ModuleStep::Tenant(slug.clone())]),
                        module: stack.module.clone(),
                        parent: Some(0),
                        origin: Origin::Tenant { slug: slug.clone() },
                        tenant: Some(slug.clone()),
                        calls: HashMap::new(),
                        resources: HashMap::new(),
                    });
                    self.tenants.insert(slug.clone(), id);
                    children.push(id);
                }
            }
        }
        children
    }

    /// The input expression for variable `name` of module instance `mi`, with the scope it is
    /// evaluated in: (expression, parent instance, parent's each). `None` when not set.
    pub fn input_expr(&self, mi: MiId, name: &str) -> Option<InputSource<'_>> {
        let m = &self.modules[mi];
        match &m.origin {
            Origin::Root => None,
            Origin::Call { name: call, each } => {
                let parent = m.parent?;
                let attr = self.modules[parent].module.module_calls.get(call)?.inputs.get(name)?;
                Some(InputSource::Expr { expr: &attr.expr, scope_mi: parent, each: each.clone() })
            }
            Origin::Tenant { slug } => {
                let root = &self.config.root;
                if let Some(attr) = root.tenants.get(slug).and_then(|t| t.inputs.get(name)) {
                    return Some(InputSource::Expr { expr: &attr.expr, scope_mi: 0, each: None });
                }
                let shared = root.tenant_stack.as_ref()?.inputs.as_ref()?;
                Some(InputSource::SharedAttr { expr: shared, key: name.to_string() })
            }
        }
    }

    /// Every resource instance of a tenant.
    pub fn tenant_resources(&self, slug: &str) -> impl Iterator<Item = RiId> + '_ {
        let slug = slug.to_string();
        self.resources.iter().enumerate().filter(move |(_, r)| r.addr.tenant() == Some(slug.as_str())).map(|(i, _)| i)
    }
}

/// Where a module instance's input comes from.
#[derive(Debug)]
pub enum InputSource<'a> {
    /// An argument of the module call or tenant block.
    Expr { expr: &'a Arc<Expr>, scope_mi: MiId, each: Option<EachData> },
    /// One key of `tenant_stack { inputs = {…} }` (evaluated in the root module).
    SharedAttr { expr: &'a Arc<Expr>, key: String },
}

/// Lazy evaluation of variables and locals with every resource unknown, for count/for_each.
struct StaticEval<'a> {
    stack: &'a Stack,
    /// Memoized values, with whether they depend on a resource or module output.
    memo: RefCell<HashMap<(MiId, bool, String), (Value, bool)>>,
    /// Set when the evaluation in progress read a resource or module output.
    touched_resource: std::cell::Cell<bool>,
    in_progress: RefCell<HashSet<(MiId, bool, String)>>,
}

struct StaticScope<'a, 'b> {
    ev: &'b StaticEval<'a>,
    mi: MiId,
    each: Option<EachData>,
}

impl<'a> StaticEval<'a> {
    fn new(stack: &'a Stack) -> Self {
        StaticEval {
            stack,
            memo: RefCell::new(HashMap::new()),
            touched_resource: std::cell::Cell::new(false),
            in_progress: RefCell::new(HashSet::new()),
        }
    }

    /// Evaluates count/for_each of a block in module instance `mi`.
    fn instances(
        &self,
        mi: MiId,
        count: Option<&Expr>,
        for_each: Option<&Expr>,
    ) -> Result<(Expansion, Vec<Option<EachData>>), Diagnostic> {
        let scope = StaticScope { ev: self, mi, each: None };
        let lenient = self.stack.lenient;
        // In validation mode only values unknown for lack of root variables are excused;
        // values that come from resources are an error there too.
        let placeholder = |e: &Expr| -> Result<(Value, bool), Diagnostic> {
            self.touched_resource.set(false);
            let v = eval(e, &scope)?;
            let from_resources = self.touched_resource.get();
            let excused = lenient && !from_resources && (v.is_unknown() || v.is_null());
            Ok((v, excused))
        };
        if let Some(c) = count {
            let (v, excused) = placeholder(c)?;
            if excused {
                return Ok((Expansion::Count, vec![Some(EachData { key: InstanceKey::Int(0), value: Value::Null })]));
            }
            let (v, sensitive) = v.unmark();
            if sensitive {
                return Err(Diagnostic::error("invalid-count", "Invalid count argument")
                    .with_span(c.span())
                    .with_label("count cannot be derived from a sensitive value"));
            }
            let n = match v {
                Value::Unknown => {
                    return Err(Diagnostic::error("invalid-count", "Invalid count argument")
                        .with_span(c.span())
                        .with_label("this value depends on resource attributes that cannot be determined until apply")
                        .with_help("count must be known when planning: derive it from variables and locals, or apply the dependency first with -target"))
                }
                Value::Number(n) if n >= 0.0 && n.fract() == 0.0 => n as i64,
                other => {
                    return Err(Diagnostic::error("invalid-count", "Invalid count argument")
                        .with_span(c.span())
                        .with_label(format!("count must be a whole number of at least 0, got {other}")))
                }
            };
            return Ok((
                Expansion::Count,
                (0..n).map(|i| Some(EachData { key: InstanceKey::Int(i), value: Value::Null })).collect(),
            ));
        }
        if let Some(f) = for_each {
            let (v, excused) = placeholder(f)?;
            if excused {
                let each = EachData { key: InstanceKey::Str("(known after apply)".into()), value: Value::Unknown };
                return Ok((Expansion::ForEach, vec![Some(each)]));
            }
            let (v, sensitive) = v.unmark();
            if sensitive || v.contains_sensitive() {
                return Err(Diagnostic::error("invalid-for-each", "Invalid for_each argument")
                    .with_span(f.span())
                    .with_label("for_each cannot use sensitive values: instance keys appear in plans and state")
                    .with_help("use nonsensitive() on the keys if they are not secret"));
            }
            let items = match v {
                Value::Unknown => {
                    return Err(Diagnostic::error("invalid-for-each", "Invalid for_each argument")
                        .with_span(f.span())
                        .with_label("the keys depend on resource attributes that cannot be determined until apply")
                        .with_help("for_each keys must be known when planning: use values from variables and locals"))
                }
                Value::Map(m) => {
                    m.into_iter().map(|(k, v)| Some(EachData { key: InstanceKey::Str(k), value: v })).collect()
                }
                Value::Set(items) => {
                    let mut out = Vec::new();
                    for i in items {
                        match i {
                            Value::String(s) => {
                                out.push(Some(EachData { key: InstanceKey::Str(s.clone()), value: Value::String(s) }))
                            }
                            Value::Unknown => {
                                return Err(Diagnostic::error("invalid-for-each", "Invalid for_each argument")
                                    .with_span(f.span())
                                    .with_label("the set contains values that are known only after apply"))
                            }
                            other => {
                                return Err(Diagnostic::error("invalid-for-each", "Invalid for_each argument")
                                    .with_span(f.span())
                                    .with_label(format!(
                                        "a set given to for_each must contain strings, found {}",
                                        other.type_name()
                                    )))
                            }
                        }
                    }
                    out
                }
                Value::List(_) => {
                    return Err(Diagnostic::error("invalid-for-each", "Invalid for_each argument")
                        .with_span(f.span())
                        .with_label("for_each takes a map or a set of strings, got a list")
                        .with_help("convert it with toset(...)"))
                }
                Value::Null => {
                    return Err(Diagnostic::error("invalid-for-each", "Invalid for_each argument")
                        .with_span(f.span())
                        .with_label("for_each is null"))
                }
                other => {
                    return Err(Diagnostic::error("invalid-for-each", "Invalid for_each argument")
                        .with_span(f.span())
                        .with_label(format!("for_each takes a map or a set of strings, got {}", other.type_name())))
                }
            };
            return Ok((Expansion::ForEach, items));
        }
        Ok((Expansion::Single, vec![None]))
    }

    fn value(&self, mi: MiId, is_var: bool, name: &str, span: Span) -> Result<Value, Diagnostic> {
        let key = (mi, is_var, name.to_string());
        if let Some((v, touched)) = self.memo.borrow().get(&key) {
            if *touched {
                self.touched_resource.set(true);
            }
            return Ok(v.clone());
        }
        let outer = self.touched_resource.replace(false);
        if !self.in_progress.borrow_mut().insert(key.clone()) {
            // A cycle; the graph reports it with every edge. Unknown keeps expansion going.
            return Ok(Value::Unknown);
        }
        let r = if is_var { self.var(mi, name, span) } else { self.local(mi, name, span) };
        self.in_progress.borrow_mut().remove(&key);
        let touched = self.touched_resource.get();
        self.touched_resource.set(outer || touched);
        let v = r?;
        self.memo.borrow_mut().insert(key, (v.clone(), touched));
        Ok(v)
    }

    fn var(&self, mi: MiId, name: &str, span: Span) -> Result<Value, Diagnostic> {
        let m = &self.stack.modules[mi];
        let Some(decl) = m.module.variables.get(name) else {
            return Err(undeclared("input variable", name, span, m.module.variables.keys().map(String::as_str)));
        };
        let raw = match &m.origin {
            Origin::Root => match self.stack.root_inputs.get(name) {
                Some(v) => Some(v.clone()),
                None if self.stack.lenient && decl.default.is_none() => Some(Value::Unknown),
                None => None,
            },
            _ => match self.stack.input_expr(mi, name) {
                Some(InputSource::Expr { expr, scope_mi, each }) => {
                    Some(eval(expr, &StaticScope { ev: self, mi: scope_mi, each }).unwrap_or(Value::Unknown))
                }
                Some(InputSource::SharedAttr { expr, key }) => {
                    let all = eval(expr, &StaticScope { ev: self, mi: 0, each: None }).unwrap_or(Value::Unknown);
                    match all.unmarked().0 {
                        Value::Map(m) => m.get(&key).cloned(),
                        Value::Unknown => Some(Value::Unknown),
                        _ => None,
                    }
                }
                None => None,
            },
        };
        let raw = match raw {
            Some(v) => v,
            None => match &decl.default {
                Some(d) => eval(d, &StaticScope { ev: self, mi, each: None }).unwrap_or(Value::Unknown),
                None => Value::Null,
            },
        };
        Ok(decl.ty.convert(raw).unwrap_or(Value::Unknown).with_sensitive(decl.sensitive))
    }

    fn local(&self, mi: MiId, name: &str, span: Span) -> Result<Value, Diagnostic> {
        let m = &self.stack.modules[mi];
        let Some(l) = m.module.locals.get(name) else {
            return Err(undeclared("local value", name, span, m.module.locals.keys().map(String::as_str)));
        };
        Ok(eval(&l.expr, &StaticScope { ev: self, mi, each: None }).unwrap_or(Value::Unknown))
    }
}

impl Scope for StaticScope<'_, '_> {
    fn lookup(&self, target: &RefTarget, span: Span) -> Result<Value, Diagnostic> {
        let m = &self.ev.stack.modules[self.mi];
        match target {
            RefTarget::Var(n) => self.ev.value(self.mi, true, n, span),
            RefTarget::Local(n) => self.ev.value(self.mi, false, n, span),
            RefTarget::Each => match &self.each {
                Some(e) if e.key != InstanceKey::None && !matches!(e.key, InstanceKey::Int(_)) => {
                    Ok(Value::map([("key", e.key.to_value()), ("value", e.value.clone())]))
                }
                _ => Err(Diagnostic::error("invalid-reference", "Reference to \"each\" in context without for_each")
                    .with_span(Some(span))),
            },
            RefTarget::Count => match &self.each {
                Some(EachData { key: InstanceKey::Int(i), .. }) => {
                    Ok(Value::map([("index", Value::number(*i as f64))]))
                }
                _ => Err(Diagnostic::error("invalid-reference", "Reference to \"count\" in non-counted context")
                    .with_span(Some(span))),
            },
            RefTarget::Tenant => match &m.tenant {
                Some(slug) => Ok(tenant_value(slug)),
                None => Err(Diagnostic::error("invalid-reference", "Reference to \"tenant\" outside a tenant")
                    .with_span(Some(span))),
            },
            RefTarget::Path => Ok(path_value(&m.module.dir, &self.ev.stack.config.dir)),
            // Resources and module outputs are not known while expanding.
            _ => {
                self.ev.touched_resource.set(true);
                Ok(Value::Unknown)
            }
        }
    }

    fn base_dir(&self) -> &Path {
        &self.ev.stack.config.dir
    }
}

/// The `tenant` object inside a tenant's modules.
pub fn tenant_value(slug: &str) -> Value {
    Value::map([("slug", Value::string(slug))])
}

/// The `path` object.
pub fn path_value(module_dir: &Path, root_dir: &Path) -> Value {
    let cwd = std::env::current_dir().unwrap_or_default();
    Value::map([
        ("module", Value::string(module_dir.display().to_string())),
        ("root", Value::string(root_dir.display().to_string())),
        ("cwd", Value::string(cwd.display().to_string())),
    ])
}

pub(crate) fn undeclared<'a>(
    kind: &str,
    name: &str,
    span: Span,
    names: impl IntoIterator<Item = &'a str>,
) -> Diagnostic {
    let mut d = Diagnostic::error("undefined-reference", format!("Reference to undeclared {kind} \"{name}\""))
        .with_span(Some(span))
        .with_label(format!("no {kind} named \"{name}\" is declared in this module"));
    if let Some(s) = did_you_mean(name, names) {
        d = d.with_help(format!("did you mean \"{s}\"?"));
    }
    d
}

/// The key of a resource in its module's map, for a mode/type/name triple.
pub fn resource_key(mode: Mode, ty: &str, name: &str) -> String {
    match mode {
        Mode::Managed => format!("{ty}.{name}"),
        Mode::Data => format!("data.{ty}.{name}"),
    }
}

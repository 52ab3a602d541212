//! The configuration model: a stack directory's HCL files decoded into typed blocks with spans.
//!
//! [`load`] reads the root module (every `*.hcl`/`*.tf` file in the stack directory and, by
//! convention, in its `tenants/` directory), every module it calls (local `source`
//! directories, each parsed once however many instances or tenants use it) and checks what
//! can be checked without evaluating: block and argument names, duplicates, labels, tenant
//! slugs. Expressions stay as hcl-edit syntax trees ([`Expr`]) for the evaluator. This module
//! does not evaluate expressions and knows no provider schema.

mod load;
pub mod tenant;
mod typeexpr;

use std::path::PathBuf;
use std::sync::Arc;

use hcl_edit::expr::Expression;
use hcl_edit::Span as _;
use indexmap::IndexMap;

use crate::address::Mode;
use crate::diagnostics::{FileId, Span};
use crate::types::Type;
use crate::value::Value;

pub use load::{load, load_with_sources, LoadOptions, Loaded};
pub use tenant::{validate_slug, SlugError, DEFAULT_RESERVED_SLUGS};
pub use typeexpr::parse_type;

/// An expression and the file it came from.
#[derive(Debug)]
pub struct Expr {
    pub file: FileId,
    pub expr: Expression,
}

impl Expr {
    pub fn span(&self) -> Option<Span> {
        self.expr.span().map(|r| Span::new(self.file, r))
    }

    /// Span of any sub-expression of this one.
    pub fn span_of(&self, e: &Expression) -> Option<Span> {
        e.span().map(|r| Span::new(self.file, r))
    }
}

/// `name = expr` inside a block.
#[derive(Debug, Clone)]
pub struct Attr {
    pub name: String,
    pub name_span: Span,
    pub expr: Arc<Expr>,
    /// The whole `name = expr`.
    pub span: Span,
}

/// The generic content of a block: attributes and nested blocks, decoded later against a
/// schema (resource, provider) or a fixed shape.
#[derive(Debug, Clone, Default)]
pub struct Body {
    pub attrs: IndexMap<String, Attr>,
    pub blocks: Vec<NestedBlock>,
}

/// A nested block such as `timeouts { create = "5m" }` or `dynamic "env" { … }`.
#[derive(Debug, Clone)]
pub struct NestedBlock {
    pub ty: String,
    pub labels: Vec<String>,
    pub type_span: Span,
    pub span: Span,
    pub body: Body,
}

/// `variable "name" {}`.
#[derive(Debug)]
pub struct Variable {
    pub name: String,
    pub span: Span,
    pub ty: Type,
    pub type_span: Option<Span>,
    pub default: Option<Arc<Expr>>,
    pub description: Option<String>,
    pub sensitive: bool,
    pub nullable: bool,
    pub validations: Vec<Validation>,
}

/// A `validation { condition, error_message }` block.
#[derive(Debug)]
pub struct Validation {
    pub condition: Arc<Expr>,
    pub error_message: Arc<Expr>,
    pub span: Span,
}

/// One entry of a `locals {}` block.
#[derive(Debug)]
pub struct Local {
    pub name: String,
    pub span: Span,
    pub expr: Arc<Expr>,
}

/// `output "name" {}`.
#[derive(Debug)]
pub struct Output {
    pub name: String,
    pub span: Span,
    pub value: Arc<Expr>,
    pub description: Option<String>,
    pub sensitive: bool,
    pub depends_on: Vec<Reference>,
}

/// A static reference to a named object, e.g. from `depends_on` or found in an expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefTarget {
    Var(String),
    Local(String),
    /// A resource (`mode`, type, name) — all its instances.
    Resource(Mode, String, String),
    /// A module call's outputs (all instances), optionally one output.
    Module(String, Option<String>),
    /// `each.key` / `each.value`.
    Each,
    /// `count.index`.
    Count,
    /// `tenant.slug` and friends.
    Tenant,
    /// `tenants`: every tenant's outputs, by slug (root module only).
    Tenants,
    /// `path.module`, `path.root`, `path.cwd`.
    Path,
    /// `self` (only valid in some contexts).
    SelfRef,
}

/// A reference and where it was written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    pub target: RefTarget,
    pub span: Span,
}

/// `lifecycle {}` of a resource.
#[derive(Debug, Clone, Default)]
pub struct Lifecycle {
    pub prevent_destroy: bool,
    pub create_before_destroy: bool,
    /// Attribute names (top-level) whose changes are ignored; `all` ignores every change.
    pub ignore_changes: Vec<String>,
    pub ignore_all_changes: bool,
    pub replace_triggered_by: Vec<Reference>,
    pub span: Option<Span>,
}

/// `resource "type" "name" {}` or `data "type" "name" {}`.
#[derive(Debug)]
pub struct Resource {
    pub mode: Mode,
    pub ty: String,
    pub name: String,
    /// The block header, for diagnostics.
    pub span: Span,
    pub type_span: Span,
    pub count: Option<Arc<Expr>>,
    pub for_each: Option<Arc<Expr>>,
    pub depends_on: Vec<Reference>,
    /// `provider = google.europe`: (provider name, alias).
    pub provider: Option<(String, String)>,
    pub lifecycle: Lifecycle,
    /// Everything else: the resource's own arguments and nested blocks.
    pub body: Body,
}

impl Resource {
    /// `type.name` or `data.type.name`.
    pub fn key(&self) -> String {
        match self.mode {
            Mode::Managed => format!("{}.{}", self.ty, self.name),
            Mode::Data => format!("data.{}.{}", self.ty, self.name),
        }
    }

    /// The provider local name: explicit `provider =`, else the type's prefix.
    pub fn provider_name(&self) -> &str {
        match &self.provider {
            Some((name, _)) => name,
            None => self.ty.split('_').next().unwrap_or(&self.ty),
        }
    }
}

/// `provider "name" { alias = … }`.
#[derive(Debug)]
pub struct ProviderConfig {
    pub name: String,
    pub alias: Option<String>,
    pub span: Span,
    pub body: Body,
}

impl ProviderConfig {
    /// `name` or `name.alias`.
    pub fn key(&self) -> String {
        match &self.alias {
            Some(a) => format!("{}.{a}", self.name),
            None => self.name.clone(),
        }
    }
}

/// `module "name" { source = "./dir" … }`.
#[derive(Debug)]
pub struct ModuleCall {
    pub name: String,
    pub span: Span,
    pub source: String,
    pub source_span: Span,
    pub count: Option<Arc<Expr>>,
    pub for_each: Option<Arc<Expr>>,
    pub depends_on: Vec<Reference>,
    /// Input variables of the called module.
    pub inputs: IndexMap<String, Attr>,
    pub module: Arc<Module>,
}

/// `tenant_stack { source = "./tenant" inputs = {…} reserved_slugs = […] }`.
#[derive(Debug)]
pub struct TenantStack {
    pub span: Span,
    pub source: String,
    pub source_span: Span,
    /// Inputs every tenant gets (an object expression, evaluated in the root module); a
    /// tenant's own arguments take precedence.
    pub inputs: Option<Arc<Expr>>,
    pub reserved_slugs: Vec<String>,
    pub module: Arc<Module>,
}

/// `tenant "slug" { … }`: one instance of the tenant stack; its arguments are module inputs.
#[derive(Debug)]
pub struct Tenant {
    pub slug: String,
    pub span: Span,
    pub slug_span: Span,
    pub inputs: IndexMap<String, Attr>,
}

/// `import { to = ADDRESS  id = "…" }`.
#[derive(Debug)]
pub struct ImportBlock {
    pub span: Span,
    /// The target address as written (a traversal), parsed by the planner.
    pub to: Arc<Expr>,
    pub id: Arc<Expr>,
    pub for_each: Option<Arc<Expr>>,
}

/// `moved { from = …  to = … }`.
#[derive(Debug)]
pub struct MovedBlock {
    pub span: Span,
    pub from: Arc<Expr>,
    pub to: Arc<Expr>,
}

/// `state { backend = "sqlite" path = "…" }` / `state { backend = "pg" url = … }`.
#[derive(Debug)]
pub struct StateConfig {
    pub span: Span,
    pub body: Body,
}

/// One module: the files of one directory, decoded.
#[derive(Debug, Default)]
pub struct Module {
    pub dir: PathBuf,
    pub variables: IndexMap<String, Variable>,
    pub locals: IndexMap<String, Local>,
    pub outputs: IndexMap<String, Output>,
    /// Keyed by [`Resource::key`].
    pub resources: IndexMap<String, Arc<Resource>>,
    pub providers: Vec<ProviderConfig>,
    pub module_calls: IndexMap<String, ModuleCall>,
    pub tenant_stack: Option<TenantStack>,
    pub tenants: IndexMap<String, Tenant>,
    pub imports: Vec<ImportBlock>,
    pub moved: Vec<MovedBlock>,
    pub state: Option<StateConfig>,
}

impl Module {
    pub fn resource(&self, mode: Mode, ty: &str, name: &str) -> Option<&Arc<Resource>> {
        let key = match mode {
            Mode::Managed => format!("{ty}.{name}"),
            Mode::Data => format!("data.{ty}.{name}"),
        };
        self.resources.get(&key)
    }
}

/// A loaded stack: the root module and the directory it came from.
#[derive(Debug)]
pub struct Config {
    pub root: Arc<Module>,
    /// The stack directory.
    pub dir: PathBuf,
}

/// A constant-folded literal (strings, numbers, bools, null, lists/objects of those), used for
/// arguments that must be static such as `source`.
pub fn literal_value(e: &Expression) -> Option<Value> {
    use hcl_edit::expr::Expression as E;
    Some(match e {
        E::Null(_) => Value::Null,
        E::Bool(b) => Value::Bool(*b.value()),
        E::Number(n) => Value::Number(n.value().as_f64()?),
        E::String(s) => Value::String(s.value().to_string()),
        E::StringTemplate(t) => {
            let mut out = String::new();
            for el in t.iter() {
                out.push_str(el.as_literal()?.as_str());
            }
            Value::String(out)
        }
        E::Array(a) => Value::List(a.iter().map(literal_value).collect::<Option<Vec<_>>>()?),
        E::Parenthesis(p) => literal_value(p.inner())?,
        _ => return None,
    })
}

//! Expression evaluation with unknown and sensitive marks ([`expr`]) and static reference
//! extraction ([`refs`]).

mod expr;
pub mod refs;

pub use expr::{eval, eval_with_locals, values_equal, Scope};
pub use refs::references;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::{Expr, RefTarget};
use crate::diagnostics::{did_you_mean, Diagnostic, Sources, Span};
use crate::value::Value;

/// A scope backed by plain maps: what `console`, tests and simple callers need.
#[derive(Debug, Default, Clone)]
pub struct MapScope {
    pub vars: BTreeMap<String, Value>,
    pub locals: BTreeMap<String, Value>,
    /// Keyed by `type.name` / `data.type.name`.
    pub resources: BTreeMap<String, Value>,
    pub modules: BTreeMap<String, Value>,
    pub each: Option<Value>,
    pub count: Option<Value>,
    pub tenant: Option<Value>,
    pub base_dir: PathBuf,
}

impl Scope for MapScope {
    fn lookup(&self, target: &RefTarget, span: Span) -> Result<Value, Diagnostic> {
        let missing = |kind: &str, name: &str, names: Vec<&str>| {
            let mut d = Diagnostic::error("undefined-reference", format!("Reference to undeclared {kind} \"{name}\""))
                .with_span(Some(span))
                .with_label(format!("no {kind} named \"{name}\""));
            if let Some(s) = did_you_mean(name, names) {
                d = d.with_help(format!("did you mean \"{s}\"?"));
            }
            d
        };
        match target {
            RefTarget::Var(n) => self
                .vars
                .get(n)
                .cloned()
                .ok_or_else(|| missing("input variable", n, self.vars.keys().map(String::as_str).collect())),
            RefTarget::Local(n) => self
                .locals
                .get(n)
                .cloned()
                .ok_or_else(|| missing("local value", n, self.locals.keys().map(String::as_str).collect())),
            RefTarget::Resource(mode, t, n) => {
                let key = match mode {
                    crate::address::Mode::Managed => format!("{t}.{n}"),
                    crate::address::Mode::Data => format!("data.{t}.{n}"),
                };
                self.resources
                    .get(&key)
                    .cloned()
                    .ok_or_else(|| missing("resource", &key, self.resources.keys().map(String::as_str).collect()))
            }
            RefTarget::Module(n, _) => self
                .modules
                .get(n)
                .cloned()
                .ok_or_else(|| missing("module", n, self.modules.keys().map(String::as_str).collect())),
            RefTarget::Each => self.each.clone().ok_or_else(|| missing("name", "each", vec![])),
            RefTarget::Count => self.count.clone().ok_or_else(|| missing("name", "count", vec![])),
            RefTarget::Tenant => self.tenant.clone().ok_or_else(|| missing("name", "tenant", vec![])),
            RefTarget::Path => Ok(Value::map([
                ("module", Value::string(self.base_dir.display().to_string())),
                ("root", Value::string(self.base_dir.display().to_string())),
                ("cwd", Value::string(self.base_dir.display().to_string())),
            ])),
            RefTarget::SelfRef => Err(missing("name", "self", vec![])),
            RefTarget::Tenants => Err(missing("name", "tenants", vec![])),
        }
    }

    fn base_dir(&self) -> &Path {
        &self.base_dir
    }
}

/// Parses and evaluates one expression from source text: the `eval` helper tests and
/// `tenantform console` use. Errors come back as diagnostics over a one-file [`Sources`].
pub fn eval_source(src: &str, scope: &dyn Scope) -> Result<Value, (Sources, Diagnostic)> {
    // Parsed as the value of an attribute: hcl-edit records spans for every sub-expression
    // only inside a body.
    let text = format!("x = {src}\n");
    let mut sources = Sources::default();
    let file = sources.add("<expr>", "<expr>", text.as_str());
    let body = hcl_edit::parser::parse_body(&text);
    let expr = match body.map(|b| b.into_attributes().next().map(|a| a.value)) {
        Ok(Some(e)) => e,
        Ok(None) => return Err((sources, Diagnostic::error("syntax", "Empty expression"))),
        Err(e) => {
            let off = e.location().offset().min(text.len());
            let d = Diagnostic::error("syntax", "Syntax error")
                .with_span(Some(Span::new(file, off..(off + 1).min(text.len()))))
                .with_label(e.message().to_string());
            return Err((sources, d));
        }
    };
    let expr = Expr { file, expr };
    eval(&expr, scope).map_err(|d| (sources, d))
}

#[cfg(test)]
mod tests;

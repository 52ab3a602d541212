//! Static reference extraction: which named objects (variables, locals, resources, modules,
//! `each`, `count`, `tenant`) an expression refers to, with the span of each reference. The
//! graph builder turns these into edges; nothing is evaluated here.

use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::template::{Directive, Element, Template};
use hcl_edit::Span as _;

use crate::address::Mode;
use crate::config::{Expr, RefTarget, Reference};
use crate::diagnostics::{FileId, Span};

/// Every reference in `e`, in source order (duplicates kept; callers dedup as they need).
pub fn references(e: &Expr) -> Vec<Reference> {
    let mut w = Walker { file: e.file, bound: Vec::new(), out: Vec::new() };
    w.expr(&e.expr);
    w.out
}

struct Walker {
    file: FileId,
    /// Names bound by enclosing `for` expressions/directives.
    bound: Vec<String>,
    out: Vec<Reference>,
}

impl Walker {
    fn span(&self, e: &Expression) -> Span {
        Span::new(self.file, e.span().unwrap_or(0..0))
    }

    fn push(&mut self, target: RefTarget, span: Span) {
        self.out.push(Reference { target, span });
    }

    fn root(&mut self, name: &str, ops: &[hcl_edit::Decorated<TraversalOperator>], whole: &Expression) {
        if self.bound.iter().any(|b| b == name) {
            return;
        }
        let attr = |i: usize| -> Option<String> {
            match ops.get(i).map(|o| o.value()) {
                Some(TraversalOperator::GetAttr(a)) => Some(a.value().to_string()),
                _ => None,
            }
        };
        let span = self.span(whole);
        let target = match name {
            "var" => attr(0).map(RefTarget::Var),
            "local" => attr(0).map(RefTarget::Local),
            "module" => attr(0).map(|m| {
                // module.NAME.OUTPUT or module.NAME[KEY].OUTPUT
                let out = match ops.get(1).map(|o| o.value()) {
                    Some(TraversalOperator::GetAttr(a)) => Some(a.value().to_string()),
                    Some(TraversalOperator::Index(_) | TraversalOperator::LegacyIndex(_)) => attr(2),
                    _ => None,
                };
                RefTarget::Module(m, out)
            }),
            "data" => match (attr(0), attr(1)) {
                (Some(t), Some(n)) => Some(RefTarget::Resource(Mode::Data, t, n)),
                _ => None,
            },
            "each" => Some(RefTarget::Each),
            "count" => Some(RefTarget::Count),
            "tenant" => Some(RefTarget::Tenant),
            "tenants" => Some(RefTarget::Tenants),
            "path" => Some(RefTarget::Path),
            "self" => Some(RefTarget::SelfRef),
            ty => attr(0).map(|n| RefTarget::Resource(Mode::Managed, ty.to_string(), n)),
        };
        if let Some(t) = target {
            self.push(t, span);
        }
    }

    fn expr(&mut self, e: &Expression) {
        match e {
            Expression::Null(_) | Expression::Bool(_) | Expression::Number(_) | Expression::String(_) => {}
            Expression::Array(a) => a.iter().for_each(|x| self.expr(x)),
            Expression::Object(o) => {
                for (k, v) in o.iter() {
                    if let ObjectKey::Expression(ke) = k {
                        self.expr(ke);
                    }
                    self.expr(v.expr());
                }
            }
            Expression::StringTemplate(t) => self.template(t),
            Expression::HeredocTemplate(h) => self.template(&h.template),
            Expression::Parenthesis(p) => self.expr(p.inner()),
            Expression::Variable(v) => self.root(v.value().as_str(), &[], e),
            Expression::Conditional(c) => {
                self.expr(&c.cond_expr);
                self.expr(&c.true_expr);
                self.expr(&c.false_expr);
            }
            Expression::FuncCall(f) => f.args.iter().for_each(|a| self.expr(a)),
            Expression::Traversal(t) => {
                match &t.expr {
                    Expression::Variable(v) => self.root(v.value().as_str(), &t.operators, e),
                    // hcl-edit 0.8 parsed `-a.b` as `(-a).b`.
                    Expression::UnaryOp(u) => match &u.expr {
                        Expression::Variable(v) => self.root(v.value().as_str(), &t.operators, e),
                        other => self.expr(other),
                    },
                    other => self.expr(other),
                }
                for op in &t.operators {
                    if let TraversalOperator::Index(ix) = op.value() {
                        self.expr(ix);
                    }
                }
            }
            Expression::UnaryOp(u) => self.expr(&u.expr),
            Expression::BinaryOp(b) => {
                self.expr(&b.lhs_expr);
                self.expr(&b.rhs_expr);
            }
            Expression::ForExpr(f) => {
                self.expr(&f.intro.collection_expr);
                let n = self.bound.len();
                if let Some(k) = &f.intro.key_var {
                    self.bound.push(k.value().to_string());
                }
                self.bound.push(f.intro.value_var.value().to_string());
                if let Some(k) = &f.key_expr {
                    self.expr(k);
                }
                self.expr(&f.value_expr);
                if let Some(c) = &f.cond {
                    self.expr(&c.expr);
                }
                self.bound.truncate(n);
            }
        }
    }

    fn template(&mut self, t: &Template) {
        for el in t.iter() {
            match el {
                Element::Literal(_) => {}
                Element::Interpolation(i) => self.expr(&i.expr),
                Element::Directive(dir) => match dir.as_ref() {
                    Directive::If(d) => {
                        self.expr(&d.if_expr.cond_expr);
                        self.template(&d.if_expr.template);
                        if let Some(e) = &d.else_expr {
                            self.template(&e.template);
                        }
                    }
                    Directive::For(d) => {
                        self.expr(&d.for_expr.collection_expr);
                        let n = self.bound.len();
                        if let Some(k) = &d.for_expr.key_var {
                            self.bound.push(k.value().to_string());
                        }
                        self.bound.push(d.for_expr.value_var.value().to_string());
                        self.template(&d.for_expr.template);
                        self.bound.truncate(n);
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(src: &str) -> Vec<RefTarget> {
        let e = Expr { file: FileId(0), expr: hcl_edit::parser::parse_expr(src).unwrap() };
        references(&e).into_iter().map(|r| r.target).collect()
    }

    #[test]
    fn finds_references_of_every_kind() {
        let r = refs(r#""${var.a}-${local.b}" == random_id.x.hex ? module.db["k"].url : data.local_file.f.content"#);
        assert_eq!(
            r,
            vec![
                RefTarget::Var("a".into()),
                RefTarget::Local("b".into()),
                RefTarget::Resource(Mode::Managed, "random_id".into(), "x".into()),
                RefTarget::Module("db".into(), Some("url".into())),
                RefTarget::Resource(Mode::Data, "local_file".into(), "f".into()),
            ]
        );
    }

    #[test]
    fn for_variables_are_not_references() {
        let r = refs("[for s in var.list : upper(s.name) if s.enabled]");
        assert_eq!(r, vec![RefTarget::Var("list".into())]);
        let r = refs(r#""%{ for k, v in local.m }${k}=${v}${tenant.slug}%{ endfor }""#);
        assert_eq!(r, vec![RefTarget::Local("m".into()), RefTarget::Tenant]);
    }
}

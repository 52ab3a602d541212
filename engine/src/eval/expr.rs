//! Expression evaluation over hcl-edit syntax trees, carrying unknown and sensitive marks.
//!
//! Rules every operator follows: an unknown operand makes the result unknown (after the
//! checks that can be made without the value); a sensitive operand makes the result
//! sensitive. Names are resolved through a [`Scope`], which the caller (validate, plan,
//! apply) backs with whatever it knows at that moment.

use std::collections::BTreeMap;
use std::path::Path;

use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::template::{Directive, Element, Template};
use hcl_edit::{Decorated, Span as _};

use crate::config::{Expr, RefTarget};
use crate::diagnostics::{did_you_mean, Diagnostic, FileId, Span};
use crate::functions::{self, FuncContext};
use crate::value::{format_number, Value};

/// What names mean where an expression is evaluated.
pub trait Scope {
    /// The value of a root reference: `var.x`, `local.x`, a resource (object, list or map of
    /// instances), a module call's outputs, `each`, `count`, `tenant`, `path`. The span is the
    /// whole traversal, for the error.
    fn lookup(&self, target: &RefTarget, span: Span) -> Result<Value, Diagnostic>;

    /// Directory that relative paths in `file()` and friends resolve against.
    fn base_dir(&self) -> &Path;
}

/// Evaluates an expression.
pub fn eval(expr: &Expr, scope: &dyn Scope) -> Result<Value, Diagnostic> {
    Evaluator { scope, file: expr.file, locals: Vec::new(), isolated: false }.expr(&expr.expr)
}

/// Evaluates an expression with extra names bound.
pub fn eval_with_locals(expr: &Expr, scope: &dyn Scope, locals: Vec<(String, Value)>) -> Result<Value, Diagnostic> {
    Evaluator { scope, file: expr.file, locals, isolated: false }.expr(&expr.expr)
}

struct Evaluator<'a> {
    scope: &'a dyn Scope,
    file: FileId,
    /// Names bound by `for` expressions and directives, innermost last.
    locals: Vec<(String, Value)>,
    /// Inside `templatefile`: only the template's own variables are visible.
    isolated: bool,
}

type R = Result<Value, Diagnostic>;

fn err(code: &'static str, summary: impl Into<String>, span: Option<Span>, label: impl Into<String>) -> Diagnostic {
    Diagnostic::error(code, summary).with_span(span).with_label(label)
}

impl Evaluator<'_> {
    fn span(&self, e: &Expression) -> Option<Span> {
        e.span().map(|r| Span::new(self.file, r))
    }

    fn expr(&mut self, e: &Expression) -> R {
        match e {
            Expression::Null(_) => Ok(Value::Null),
            Expression::Bool(b) => Ok(Value::Bool(*b.value())),
            Expression::Number(n) => Ok(Value::Number(n.value().as_f64().unwrap_or(f64::NAN))),
            Expression::String(s) => Ok(Value::String(s.value().to_string())),
            Expression::Array(a) => {
                let mut items = Vec::with_capacity(a.len());
                for x in a.iter() {
                    items.push(self.expr(x)?);
                }
                Ok(Value::List(items))
            }
            Expression::Object(o) => {
                let mut m = BTreeMap::new();
                let mut sensitive_key = false;
                for (k, v) in o.iter() {
                    let key = match k {
                        ObjectKey::Ident(i) => i.value().to_string(),
                        ObjectKey::Expression(ke) => {
                            let kv = self.expr(ke)?;
                            if kv.is_unknown() {
                                return Ok(Value::Unknown);
                            }
                            let (kv, s) = kv.unmark();
                            sensitive_key |= s;
                            match kv.to_interp_string() {
                                Some(s) => s,
                                None => {
                                    return Err(err(
                                        "type-mismatch",
                                        "Invalid object key",
                                        self.span(ke),
                                        format!("object keys must be strings, got {}", kv.type_name()),
                                    ))
                                }
                            }
                        }
                    };
                    let val = self.expr(v.expr())?;
                    m.insert(key, val);
                }
                Ok(Value::Map(m).with_sensitive(sensitive_key))
            }
            Expression::StringTemplate(t) => self.template(t),
            Expression::HeredocTemplate(h) => self.template(&h.template),
            Expression::Parenthesis(p) => self.expr(p.inner()),
            Expression::Variable(v) => self.traversal(v.value().as_str(), &[], e),
            Expression::Traversal(t) => match &t.expr {
                Expression::Variable(v) => self.traversal(v.value().as_str(), &t.operators, e),
                // hcl-edit 0.8 parsed `-a.b` as `(-a).b` (0.10 no longer does); the operator binds
                // looser than traversal either way.
                Expression::UnaryOp(u) => {
                    let v = match &u.expr {
                        Expression::Variable(v) => self.traversal(v.value().as_str(), &t.operators, e)?,
                        inner => {
                            let base = self.expr(inner)?;
                            self.apply_ops(base, &t.operators, e)?
                        }
                    };
                    self.unary(*u.operator.value(), v, &u.expr)
                }
                inner => {
                    let base = self.expr(inner)?;
                    self.apply_ops(base, &t.operators, e)
                }
            },
            Expression::Conditional(c) => {
                let cond = self.expr(&c.cond_expr)?;
                let (cond, sensitive) = cond.unmark();
                let pick = match cond {
                    Value::Unknown => {
                        // Still evaluate both sides so their errors surface during plan.
                        self.expr(&c.true_expr)?;
                        self.expr(&c.false_expr)?;
                        return Ok(Value::Unknown.with_sensitive(sensitive));
                    }
                    Value::Bool(b) => b,
                    Value::String(s) if s == "true" || s == "false" => s == "true",
                    Value::Null => {
                        return Err(err(
                            "type-mismatch",
                            "Null condition",
                            self.span(&c.cond_expr),
                            "the condition is null; it must be true or false",
                        ))
                    }
                    other => {
                        return Err(err(
                            "type-mismatch",
                            "Incorrect condition type",
                            self.span(&c.cond_expr),
                            format!("a bool is required, got {}", other.type_name()),
                        ))
                    }
                };
                let v = if pick { self.expr(&c.true_expr)? } else { self.expr(&c.false_expr)? };
                Ok(v.with_sensitive(sensitive))
            }
            Expression::FuncCall(f) => self.call(f, e),
            Expression::UnaryOp(u) => {
                let v = self.expr(&u.expr)?;
                self.unary(*u.operator.value(), v, &u.expr)
            }
            Expression::BinaryOp(b) => self.binary(b),
            Expression::ForExpr(f) => self.for_expr(f),
        }
    }

    fn unary(&self, op: UnaryOperator, v: Value, e: &Expression) -> R {
        let (v, s) = v.unmark();
        let out = match (op, v) {
            (_, Value::Unknown) => Value::Unknown,
            (UnaryOperator::Neg, v) => Value::Number(-self.number(v, e, "-")?),
            (UnaryOperator::Not, v) => Value::Bool(!self.boolean(v, e, "!")?),
        };
        Ok(out.with_sensitive(s))
    }

    fn number(&self, v: Value, e: &Expression, op: &str) -> Result<f64, Diagnostic> {
        self.number_at(v, self.span(e), op)
    }

    fn number_at(&self, v: Value, span: Option<Span>, op: &str) -> Result<f64, Diagnostic> {
        match v {
            Value::Number(n) => Ok(n),
            Value::String(s) => s.trim().parse::<f64>().map_err(|_| {
                err(
                    "type-mismatch",
                    format!("Invalid operand for \"{op}\""),
                    span,
                    format!("a number is required, got the string {s:?}"),
                )
            }),
            Value::Null => Err(err(
                "type-mismatch",
                format!("Invalid operand for \"{op}\""),
                span,
                "a number is required, got null",
            )),
            other => Err(err(
                "type-mismatch",
                format!("Invalid operand for \"{op}\""),
                span,
                format!("a number is required, got {}", other.type_name()),
            )),
        }
    }

    fn boolean(&self, v: Value, e: &Expression, op: &str) -> Result<bool, Diagnostic> {
        self.boolean_at(v, self.span(e), op)
    }

    fn boolean_at(&self, v: Value, span: Option<Span>, op: &str) -> Result<bool, Diagnostic> {
        match v {
            Value::Bool(b) => Ok(b),
            Value::String(s) if s == "true" => Ok(true),
            Value::String(s) if s == "false" => Ok(false),
            other => Err(err(
                "type-mismatch",
                format!("Invalid operand for \"{op}\""),
                span,
                format!("a bool is required, got {}", other.type_name()),
            )),
        }
    }

    /// Binary operators. hcl-edit 0.8 parsed an operator chain right-leaning without
    /// precedence (`1 - 2 - 3` as `1 - (2 - 3)`); 0.10 builds correct trees. The right spine is
    /// flattened and re-associated here with HCL's precedence (all levels left-associative),
    /// which gives the same result for a correct tree and keeps the evaluator independent of
    /// how the parser associates.
    fn binary(&mut self, b: &hcl_edit::expr::BinaryOp) -> R {
        let mut operands: Vec<&Expression> = Vec::new();
        let mut ops: Vec<BinaryOperator> = Vec::new();
        let mut cur = b;
        loop {
            operands.push(&cur.lhs_expr);
            ops.push(*cur.operator.value());
            match &cur.rhs_expr {
                Expression::BinaryOp(next) => cur = next,
                last => {
                    operands.push(last);
                    break;
                }
            }
        }
        let mut values = Vec::with_capacity(operands.len());
        for e in &operands {
            values.push((self.expr(e)?, self.span(e)));
        }
        // Precedence climbing over the evaluated operands.
        let mut values = values.into_iter();
        let first = values.next().unwrap_or((Value::Null, None));
        let rest: Vec<(BinaryOperator, (Value, Option<Span>))> = ops.into_iter().zip(values).collect();
        let mut pos = 0;
        self.climb(first, &rest, &mut pos, 1).map(|(v, _)| v)
    }

    fn climb(
        &self,
        mut lhs: (Value, Option<Span>),
        rest: &[(BinaryOperator, (Value, Option<Span>))],
        pos: &mut usize,
        min_prec: u8,
    ) -> Result<(Value, Option<Span>), Diagnostic> {
        while *pos < rest.len() && precedence(rest[*pos].0) >= min_prec {
            let (op, rhs0) = &rest[*pos];
            let op = *op;
            *pos += 1;
            let mut rhs = rhs0.clone();
            while *pos < rest.len() && precedence(rest[*pos].0) > precedence(op) {
                rhs = self.climb(rhs, rest, pos, precedence(op) + 1)?;
            }
            let span = match (lhs.1, rhs.1) {
                (Some(a), Some(b)) => Some(a.to(b)),
                (a, b) => a.or(b),
            };
            lhs = (self.apply_binary(op, lhs, rhs)?, span);
        }
        Ok(lhs)
    }

    fn apply_binary(&self, op: BinaryOperator, lhs: (Value, Option<Span>), rhs: (Value, Option<Span>)) -> R {
        use BinaryOperator as Op;
        let (lhs, lspan) = lhs;
        let (rhs, rspan) = rhs;
        let (lhs, ls) = lhs.unmark();
        let (rhs, rs) = rhs.unmark();
        let sensitive = ls || rs;
        let sym = op.as_str();
        let out = match op {
            Op::Eq | Op::NotEq => {
                if !lhs.is_wholly_known() || !rhs.is_wholly_known() {
                    Value::Unknown
                } else {
                    let eq = values_equal(&lhs, &rhs);
                    Value::Bool(if op == Op::Eq { eq } else { !eq })
                }
            }
            Op::And | Op::Or => match (lhs, rhs) {
                (Value::Unknown, _) | (_, Value::Unknown) => Value::Unknown,
                (l, r) => {
                    let l = self.boolean_at(l, lspan, sym)?;
                    let r = self.boolean_at(r, rspan, sym)?;
                    Value::Bool(if op == Op::And { l && r } else { l || r })
                }
            },
            _ => match (lhs, rhs) {
                (Value::Unknown, _) | (_, Value::Unknown) => Value::Unknown,
                (l, r) => {
                    let l = self.number_at(l, lspan, sym)?;
                    let r = self.number_at(r, rspan, sym)?;
                    match op {
                        Op::Plus => Value::Number(l + r),
                        Op::Minus => Value::Number(l - r),
                        Op::Mul => Value::Number(l * r),
                        Op::Div | Op::Mod if r == 0.0 => {
                            return Err(err("division-by-zero", "Division by zero", rspan, "the divisor is zero"))
                        }
                        Op::Div => Value::Number(l / r),
                        Op::Mod => Value::Number(l % r),
                        Op::Less => Value::Bool(l < r),
                        Op::LessEq => Value::Bool(l <= r),
                        Op::Greater => Value::Bool(l > r),
                        Op::GreaterEq => Value::Bool(l >= r),
                        Op::Eq | Op::NotEq | Op::And | Op::Or => unreachable!("handled above"),
                    }
                }
            },
        };
        Ok(out.with_sensitive(sensitive))
    }

    fn traversal(&mut self, root: &str, ops: &[Decorated<TraversalOperator>], whole: &Expression) -> R {
        if let Some((_, v)) = self.locals.iter().rev().find(|(n, _)| n == root) {
            let v = v.clone();
            return self.apply_ops(v, ops, whole);
        }
        let span = self.span(whole).unwrap_or(Span::new(self.file, 0..0));
        if self.isolated {
            let names: Vec<&str> = self.locals.iter().map(|(n, _)| n.as_str()).collect();
            let mut d = err(
                "undefined-reference",
                format!("Unknown template variable \"{root}\""),
                Some(span),
                "templates see only the variables passed to templatefile()",
            );
            if let Some(s) = did_you_mean(root, names) {
                d = d.with_help(format!("did you mean \"{s}\"?"));
            }
            return Err(d);
        }
        let attr = |i: usize| -> Option<String> {
            match ops.get(i).map(|o| o.value()) {
                Some(TraversalOperator::GetAttr(a)) => Some(a.value().to_string()),
                _ => None,
            }
        };
        let need_attr = |what: &str, example: &str| {
            err(
                "invalid-reference",
                "Invalid reference",
                Some(span),
                format!("{what} must be followed by an attribute name, e.g. {example}"),
            )
        };
        let (target, consumed) = match root {
            "var" => (RefTarget::Var(attr(0).ok_or_else(|| need_attr("var", "var.region"))?), 1),
            "local" => (RefTarget::Local(attr(0).ok_or_else(|| need_attr("local", "local.name"))?), 1),
            "module" => (RefTarget::Module(attr(0).ok_or_else(|| need_attr("module", "module.db.url"))?, None), 1),
            "data" => {
                let t = attr(0).ok_or_else(|| need_attr("data", "data.local_file.config"))?;
                let n = attr(1).ok_or_else(|| need_attr("data.TYPE", "data.local_file.config"))?;
                (RefTarget::Resource(crate::address::Mode::Data, t, n), 2)
            }
            "each" => (RefTarget::Each, 0),
            "count" => (RefTarget::Count, 0),
            "tenant" => (RefTarget::Tenant, 0),
            "tenants" => (RefTarget::Tenants, 0),
            "path" => (RefTarget::Path, 0),
            "self" => (RefTarget::SelfRef, 0),
            ty => match attr(0) {
                Some(name) => (RefTarget::Resource(crate::address::Mode::Managed, ty.to_string(), name), 1),
                None => {
                    let mut names: Vec<&str> =
                        vec!["var", "local", "module", "data", "each", "count", "tenant", "path"];
                    names.extend(self.locals.iter().map(|(n, _)| n.as_str()));
                    let mut d = err(
                        "undefined-reference",
                        format!("Unknown name \"{ty}\""),
                        Some(span),
                        "not a variable, local, resource or other known name",
                    );
                    if let Some(s) = did_you_mean(ty, names) {
                        d = d.with_help(format!("did you mean \"{s}\"?"));
                    } else {
                        d = d.with_help(
                            "a resource is referenced as TYPE.NAME, a variable as var.NAME, a local as local.NAME",
                        );
                    }
                    return Err(d);
                }
            },
        };
        let v = self.scope.lookup(&target, span)?;
        self.apply_ops(v, &ops[consumed..], whole)
    }

    fn apply_ops(&mut self, mut v: Value, ops: &[Decorated<TraversalOperator>], whole: &Expression) -> R {
        let mut i = 0;
        while i < ops.len() {
            let op = ops[i].value();
            let op_span = ops[i].span().map(|r| Span::new(self.file, r)).or_else(|| self.span(whole));
            match op {
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    let full = matches!(op, TraversalOperator::FullSplat(_));
                    // The operators the splat applies to each element.
                    let mut j = i + 1;
                    while j < ops.len() {
                        match ops[j].value() {
                            TraversalOperator::GetAttr(_) => j += 1,
                            TraversalOperator::Index(_) | TraversalOperator::LegacyIndex(_) if full => j += 1,
                            _ => break,
                        }
                    }
                    let (base, s) = v.unmark();
                    let items = match base {
                        Value::Unknown => return Ok(Value::Unknown.with_sensitive(s)),
                        Value::Null => Vec::new(),
                        Value::List(items) | Value::Set(items) => items,
                        other => vec![other],
                    };
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        out.push(self.apply_ops(item, &ops[i + 1..j], whole)?);
                    }
                    v = Value::List(out).with_sensitive(s);
                    i = j;
                    continue;
                }
                TraversalOperator::GetAttr(name) => {
                    v = self.get_attr(v, name.value().as_str(), op_span)?;
                }
                TraversalOperator::Index(ix) => {
                    let key = self.expr(ix)?;
                    v = self.index(v, key, op_span)?;
                }
                TraversalOperator::LegacyIndex(n) => {
                    v = self.index(v, Value::Number(*n.value() as f64), op_span)?;
                }
            }
            i += 1;
        }
        Ok(v)
    }

    fn get_attr(&self, v: Value, name: &str, span: Option<Span>) -> R {
        let (v, s) = v.unmark();
        let out = match v {
            Value::Unknown => Value::Unknown,
            Value::Map(mut m) => match m.remove(name) {
                Some(x) => x,
                None => {
                    let mut d = err(
                        "unsupported-attribute",
                        "Unsupported attribute",
                        span,
                        format!("this object has no attribute \"{name}\""),
                    );
                    if let Some(s) = did_you_mean(name, m.keys().map(String::as_str)) {
                        d = d.with_help(format!("did you mean \"{s}\"?"));
                    } else if !m.is_empty() && m.len() <= 12 {
                        d = d.with_help(format!(
                            "its attributes are: {}",
                            m.keys().cloned().collect::<Vec<_>>().join(", ")
                        ));
                    }
                    return Err(d);
                }
            },
            Value::Null => {
                return Err(err(
                    "null-value",
                    "Attempt to get attribute from null value",
                    span,
                    format!("this value is null, so it has no attribute \"{name}\""),
                ))
            }
            Value::List(_) | Value::Set(_) => {
                return Err(err(
                    "unsupported-attribute",
                    "Unsupported attribute",
                    span,
                    format!("a list has no attribute \"{name}\""),
                )
                .with_help(format!(
                "to take \"{name}\" of every element, use a splat: [*].{name}; for one element, index it: [0].{name}"
            )))
            }
            other => {
                return Err(err(
                    "unsupported-attribute",
                    "Unsupported attribute",
                    span,
                    format!("a {} has no attributes", other.type_name()),
                ))
            }
        };
        Ok(out.with_sensitive(s))
    }

    fn index(&self, v: Value, key: Value, span: Option<Span>) -> R {
        let (v, s1) = v.unmark();
        let (key, s2) = key.unmark();
        let s = s1 || s2;
        if matches!(v, Value::Unknown) || matches!(key, Value::Unknown) {
            return Ok(Value::Unknown.with_sensitive(s));
        }
        let out = match v {
            Value::List(items) => {
                let idx = match &key {
                    Value::Number(n) if n.fract() == 0.0 => *n,
                    Value::String(st) => st.parse::<f64>().unwrap_or(f64::NAN),
                    _ => f64::NAN,
                };
                if idx.is_nan() {
                    return Err(err(
                        "invalid-index",
                        "Invalid index",
                        span,
                        format!("a list index must be a whole number, got {}", key.type_name()),
                    ));
                }
                if idx < 0.0 || idx as usize >= items.len() {
                    return Err(err(
                        "invalid-index",
                        "Invalid index",
                        span,
                        format!(
                            "index {} is out of range for a list of {} element(s)",
                            format_number(idx),
                            items.len()
                        ),
                    ));
                }
                items.into_iter().nth(idx as usize).unwrap_or(Value::Null)
            }
            Value::Map(mut m) => {
                let Some(k) = key.to_interp_string() else {
                    return Err(err(
                        "invalid-index",
                        "Invalid index",
                        span,
                        format!("a map key must be a string, got {}", key.type_name()),
                    ));
                };
                match m.remove(&k) {
                    Some(x) => x,
                    None if s2 => {
                        return Err(err(
                            "invalid-index",
                            "Invalid index",
                            span,
                            "the map has no element for this (sensitive) key",
                        ));
                    }
                    None => {
                        let mut d = err(
                            "invalid-index",
                            "Invalid index",
                            span,
                            format!("the map has no element for the key \"{k}\""),
                        );
                        if let Some(sug) = did_you_mean(&k, m.keys().map(String::as_str)) {
                            d = d.with_help(format!("did you mean \"{sug}\"?"));
                        }
                        return Err(d);
                    }
                }
            }
            Value::Set(_) => {
                return Err(err(
                    "invalid-index",
                    "Invalid index",
                    span,
                    "elements of a set cannot be accessed by index",
                )
                .with_help("convert it with tolist() first"))
            }
            Value::Null => return Err(err("null-value", "Attempt to index a null value", span, "this value is null")),
            other => {
                return Err(err(
                    "invalid-index",
                    "Invalid index",
                    span,
                    format!("a {} cannot be indexed", other.type_name()),
                ))
            }
        };
        Ok(out.with_sensitive(s))
    }

    fn template(&mut self, t: &Template) -> R {
        let mut out = String::new();
        let mut unknown = false;
        let mut sensitive = false;
        self.template_into(t, (false, false), &mut out, &mut unknown, &mut sensitive)?;
        let v = if unknown { Value::Unknown } else { Value::String(out) };
        Ok(v.with_sensitive(sensitive))
    }

    /// Renders a template. `edges` says whether the enclosing directive strips the whitespace at
    /// the start and at the end of this (nested) template.
    fn template_into(
        &mut self,
        t: &Template,
        edges: (bool, bool),
        out: &mut String,
        unknown: &mut bool,
        sensitive: &mut bool,
    ) -> Result<(), Diagnostic> {
        let elements: Vec<&Element> = t.iter().collect();
        for (idx, el) in elements.iter().enumerate() {
            // Strip markers (`~`) on neighbours trim whitespace of literals.
            let strip_before = if idx == 0 { edges.0 } else { strips_end(elements[idx - 1]) };
            let strip_after = match elements.get(idx + 1) {
                Some(n) => strips_start(n),
                None => edges.1,
            };
            match el {
                Element::Literal(s) => {
                    let mut lit: &str = s.as_str();
                    if strip_before {
                        lit = lit.trim_start();
                    }
                    if strip_after {
                        lit = lit.trim_end();
                    }
                    out.push_str(lit);
                }
                Element::Interpolation(i) => {
                    let v = self.expr(&i.expr)?;
                    let (v, s) = v.unmark();
                    *sensitive |= s || v.contains_sensitive();
                    match v {
                        Value::Unknown => *unknown = true,
                        Value::Null => {
                            return Err(err(
                                "null-value",
                                "Invalid template interpolation value",
                                self.span(&i.expr),
                                "the value is null; templates cannot include null",
                            )
                            .with_help("use coalesce(x, \"\") or a conditional to provide a fallback"))
                        }
                        other => match other.to_interp_string() {
                            Some(s) => out.push_str(&s),
                            None if !other.is_wholly_known() => *unknown = true,
                            None => {
                                return Err(err(
                                    "type-mismatch",
                                    "Invalid template interpolation value",
                                    self.span(&i.expr),
                                    format!("cannot include a {} in a string", other.type_name()),
                                )
                                .with_help("use jsonencode() or join() to turn it into a string"))
                            }
                        },
                    }
                }
                Element::Directive(dir) => match dir.as_ref() {
                    Directive::If(d) => {
                        let c = self.expr(&d.if_expr.cond_expr)?;
                        let (c, s) = c.unmark();
                        *sensitive |= s;
                        match c {
                            Value::Unknown => *unknown = true,
                            other => {
                                let b = self.boolean(other, &d.if_expr.cond_expr, "%{if}")?;
                                let else_strip = d.else_expr.as_ref().map(|e| e.strip);
                                if b {
                                    let end = match else_strip {
                                        Some(s) => s.strip_start(),
                                        None => d.endif_expr.strip.strip_start(),
                                    };
                                    self.template_into(
                                        &d.if_expr.template,
                                        (d.if_expr.strip.strip_end(), end),
                                        out,
                                        unknown,
                                        sensitive,
                                    )?;
                                } else if let Some(e) = &d.else_expr {
                                    let edges = (e.strip.strip_end(), d.endif_expr.strip.strip_start());
                                    self.template_into(&e.template, edges, out, unknown, sensitive)?;
                                }
                            }
                        }
                    }
                    Directive::For(d) => {
                        let coll = self.expr(&d.for_expr.collection_expr)?;
                        let (coll, s) = coll.unmark();
                        *sensitive |= s;
                        let pairs = match self.iteration_pairs(coll, &d.for_expr.collection_expr)? {
                            Some(p) => p,
                            None => {
                                *unknown = true;
                                continue;
                            }
                        };
                        for (k, v) in pairs {
                            let n = self.locals.len();
                            if let Some(kv) = &d.for_expr.key_var {
                                self.locals.push((kv.value().to_string(), k));
                            }
                            self.locals.push((d.for_expr.value_var.value().to_string(), v));
                            let edges = (d.for_expr.strip.strip_end(), d.endfor_expr.strip.strip_start());
                            let r = self.template_into(&d.for_expr.template, edges, out, unknown, sensitive);
                            self.locals.truncate(n);
                            r?;
                        }
                    }
                },
            }
        }
        Ok(())
    }

    /// (key, value) pairs of a collection for `for`; `None` when unknown.
    fn iteration_pairs(&self, coll: Value, e: &Expression) -> Result<Option<Vec<(Value, Value)>>, Diagnostic> {
        Ok(Some(match coll {
            Value::Unknown => return Ok(None),
            Value::List(items) => items.into_iter().enumerate().map(|(i, v)| (Value::Number(i as f64), v)).collect(),
            Value::Set(items) => items.into_iter().map(|v| (v.clone(), v)).collect(),
            Value::Map(m) => m.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
            Value::Null => {
                return Err(err(
                    "null-value",
                    "Iteration over null value",
                    self.span(e),
                    "a for expression needs a collection, got null",
                ))
            }
            other => {
                return Err(err(
                    "type-mismatch",
                    "Iteration over non-iterable value",
                    self.span(e),
                    format!("a for expression needs a list, set, map or object, got {}", other.type_name()),
                ))
            }
        }))
    }

    fn for_expr(&mut self, f: &hcl_edit::expr::ForExpr) -> R {
        let coll = self.expr(&f.intro.collection_expr)?;
        let (coll, sensitive) = coll.unmark();
        let Some(pairs) = self.iteration_pairs(coll, &f.intro.collection_expr)? else {
            return Ok(Value::Unknown.with_sensitive(sensitive));
        };
        let mut list = Vec::new();
        let mut map: BTreeMap<String, Value> = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut unknown = false;
        let mut marked = false;
        for (k, v) in pairs {
            let n = self.locals.len();
            if let Some(kv) = &f.intro.key_var {
                self.locals.push((kv.value().to_string(), k));
            }
            self.locals.push((f.intro.value_var.value().to_string(), v));
            let r = (|| -> Result<(), Diagnostic> {
                if let Some(c) = &f.cond {
                    let cv = self.expr(&c.expr)?;
                    let (cv, s) = cv.unmark();
                    marked |= s;
                    match cv {
                        Value::Unknown => {
                            unknown = true;
                            return Ok(());
                        }
                        other => {
                            if !self.boolean(other, &c.expr, "if")? {
                                return Ok(());
                            }
                        }
                    }
                }
                let val = self.expr(&f.value_expr)?;
                match &f.key_expr {
                    None => list.push(val),
                    Some(ke) => {
                        let kv = self.expr(ke)?;
                        let (kv, s) = kv.unmark();
                        // A key derived from a secret would show the secret: the whole result is
                        // sensitive.
                        marked |= s;
                        if matches!(kv, Value::Unknown) {
                            unknown = true;
                            return Ok(());
                        }
                        let Some(key) = kv.to_interp_string() else {
                            return Err(err(
                                "type-mismatch",
                                "Invalid object key",
                                self.span(ke),
                                format!("keys must be strings, got {}", kv.type_name()),
                            ));
                        };
                        if f.grouping {
                            groups.entry(key).or_default().push(val);
                        } else if map.contains_key(&key) {
                            return Err(err(
                                "duplicate-key",
                                "Duplicate object key",
                                self.span(ke),
                                format!("two elements produce the key \"{key}\""),
                            )
                            .with_help("add `...` after the value expression to group values with the same key"));
                        } else {
                            map.insert(key, val);
                        }
                    }
                }
                Ok(())
            })();
            self.locals.truncate(n);
            r?;
        }
        let sensitive = sensitive || marked;
        if unknown {
            return Ok(Value::Unknown.with_sensitive(sensitive));
        }
        let out = match &f.key_expr {
            None => Value::List(list),
            Some(_) if f.grouping => Value::Map(groups.into_iter().map(|(k, v)| (k, Value::List(v))).collect()),
            Some(_) => Value::Map(map),
        };
        Ok(out.with_sensitive(sensitive))
    }

    fn call(&mut self, f: &hcl_edit::expr::FuncCall, whole: &Expression) -> R {
        let name = f.name.name.value().as_str();
        let span = self.span(whole);
        let args: Vec<&Expression> = f.args.iter().collect();
        match name {
            "try" => {
                if args.is_empty() {
                    return Err(err("arguments", "try() needs at least one argument", span, "no arguments"));
                }
                let mut last = None;
                for a in &args {
                    match self.expr(a) {
                        Ok(v) => return Ok(v),
                        Err(d) => last = Some(d),
                    }
                }
                let d = last.unwrap_or_else(|| err("arguments", "try() failed", span, ""));
                return Err(err(
                    "try-failed",
                    "No try() argument succeeded",
                    span,
                    format!("the last one failed: {}", d.summary),
                )
                .with_detail(d.label.unwrap_or_default()));
            }
            "can" => {
                if args.len() != 1 {
                    return Err(err(
                        "arguments",
                        "can() takes exactly one argument",
                        span,
                        format!("{} given", args.len()),
                    ));
                }
                return Ok(match self.expr(args[0]) {
                    Ok(v) if v.is_unknown() => Value::Unknown,
                    Ok(_) => Value::Bool(true),
                    Err(_) => Value::Bool(false),
                });
            }
            "templatefile" => return self.templatefile(&args, span),
            _ => {}
        }
        if !functions::exists(name) {
            let mut d = err(
                "unknown-function",
                format!("Call to unknown function \"{name}\""),
                span,
                "no function with this name",
            );
            if let Some(s) = did_you_mean(name, functions::names()) {
                d = d.with_help(format!("did you mean \"{s}\"?"));
            }
            return Err(d);
        }
        let mut values = Vec::with_capacity(args.len());
        for a in &args {
            values.push(self.expr(a)?);
        }
        // `f(list...)` expands the final argument.
        if f.args.expand_final() {
            if let Some(last) = values.pop() {
                match last.unmark() {
                    (Value::List(items) | Value::Set(items), s) => {
                        values.extend(items.into_iter().map(|i| i.with_sensitive(s)))
                    }
                    (Value::Unknown, _) => return Ok(Value::Unknown),
                    (other, _) => {
                        return Err(err(
                            "type-mismatch",
                            "Invalid expanding argument",
                            args.last().and_then(|a| self.span(a)),
                            format!("the final argument must be a list to expand with ..., got {}", other.type_name()),
                        ))
                    }
                }
            }
        }
        let ctx = FuncContext { base_dir: self.scope.base_dir() };
        functions::call(name, values, &ctx).map_err(|fe| {
            let arg_span = fe.arg.and_then(|i| args.get(i)).and_then(|a| self.span(a));
            let mut d =
                err("function-error", format!("Error in function call {name}()"), arg_span.or(span), fe.message);
            if let Some(sig) = functions::signature(name) {
                if !d.label.as_deref().unwrap_or("").contains("usage:") {
                    d = d.with_help(format!("usage: {sig}"));
                }
            }
            d
        })
    }

    fn templatefile(&mut self, args: &[&Expression], span: Option<Span>) -> R {
        if args.len() != 2 {
            return Err(err(
                "arguments",
                "templatefile() takes a path and an object of variables",
                span,
                format!("{} argument(s) given", args.len()),
            ));
        }
        let path = self.expr(args[0])?;
        let vars = self.expr(args[1])?;
        if !path.is_wholly_known() || !vars.is_wholly_known() {
            return Ok(Value::Unknown);
        }
        let (vars, sensitive) = vars.unmark();
        let Some(p) = path.as_str() else {
            return Err(err(
                "type-mismatch",
                "Invalid templatefile() path",
                self.span(args[0]),
                "the path must be a string",
            ));
        };
        let full = self.scope.base_dir().join(p);
        let text = std::fs::read_to_string(&full).map_err(|e| {
            err(
                "function-error",
                "Error in function call templatefile()",
                self.span(args[0]),
                format!("cannot read {}: {e}", full.display()),
            )
        })?;
        let template = hcl_edit::parser::parse_template(&text).map_err(|e| {
            err(
                "function-error",
                "Error in function call templatefile()",
                self.span(args[0]),
                format!("{} line {}: {}", full.display(), e.location().line(), e.message()),
            )
        })?;
        let Value::Map(m) = vars else {
            return Err(err(
                "type-mismatch",
                "Invalid templatefile() variables",
                self.span(args[1]),
                "the variables must be an object",
            ));
        };
        // The template sees only its variables, never the caller's names.
        let saved = std::mem::take(&mut self.locals);
        self.locals = m.into_iter().collect();
        let was_isolated = std::mem::replace(&mut self.isolated, true);
        let r = self.template(&template).map_err(|mut d| {
            d.summary = format!("In template {}: {}", full.display(), d.summary);
            d.span = self.span(args[0]);
            d
        });
        self.isolated = was_isolated;
        self.locals = saved;
        Ok(r?.with_sensitive(sensitive))
    }
}

/// HCL operator precedence (higher binds tighter).
fn precedence(op: BinaryOperator) -> u8 {
    use BinaryOperator as Op;
    match op {
        Op::Or => 1,
        Op::And => 2,
        Op::Eq | Op::NotEq => 3,
        Op::Less | Op::LessEq | Op::Greater | Op::GreaterEq => 4,
        Op::Plus | Op::Minus => 5,
        Op::Mul | Op::Div | Op::Mod => 6,
    }
}

fn strips_start(el: &Element) -> bool {
    match el {
        Element::Interpolation(i) => i.strip.strip_start(),
        Element::Directive(dir) => match dir.as_ref() {
            Directive::If(d) => d.if_expr.strip.strip_start(),
            Directive::For(d) => d.for_expr.strip.strip_start(),
        },
        Element::Literal(_) => false,
    }
}

fn strips_end(el: &Element) -> bool {
    match el {
        Element::Interpolation(i) => i.strip.strip_end(),
        Element::Directive(dir) => match dir.as_ref() {
            Directive::If(d) => d.endif_expr.strip.strip_end(),
            Directive::For(d) => d.endfor_expr.strip.strip_end(),
        },
        Element::Literal(_) => false,
    }
}

/// Deep equality ignoring marks; numbers compare numerically, lists and sets by elements.
pub fn values_equal(a: &Value, b: &Value) -> bool {
    let (a, _) = a.unmarked();
    let (b, _) = b.unmarked();
    match (a, b) {
        (Value::List(x), Value::List(y)) | (Value::Set(x), Value::Set(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((k1, v1), (k2, v2))| k1 == k2 && values_equal(v1, v2))
        }
        (x, y) => x == y,
    }
}

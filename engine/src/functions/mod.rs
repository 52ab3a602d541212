//! The expression function library: every built-in function a configuration can call
//! (`upper`, `join`, `merge`, `jsonencode`, `file`, …), with Terraform's semantics.
//!
//! This module owns the registry, the public call API and the one generic wrapper that every
//! call goes through. The wrapper checks arity, checks and converts argument types (numbers and
//! bools convert to strings and back, like Terraform), and applies the mark rules so that no
//! function has to: *sensitive in → sensitive out* and *unknown in → unknown out*.
//!
//! By default a mark anywhere inside an argument marks the whole result. A parameter declared
//! *structural* ([`Param::structural`]) belongs to a function that only moves elements around
//! (`length`, `concat`, `merge`, `lookup`, `element`, …): there only the argument's own marks
//! count, and unknown or sensitive elements travel through to the result as they are. So
//! `length([unknown])` is 1, and `lookup(m, "host")` is not sensitive just because
//! `m.password` is — both as in Terraform. The three mark functions handle marks themselves.
//!
//! The submodules hold the implementations by family. They never see a marked argument unless
//! they ask for it, and they must never echo a value that came from a sensitive argument into an
//! error message (see [`Args::show`]).
//!
//! Not here: the special forms `try`, `can` and `templatefile`, which need unevaluated
//! expressions and belong to the evaluator.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::OnceLock;

use crate::types::Type;
use crate::value::{path_to_string, Value};

mod collection;
mod conversion;
mod encoding;
mod filesystem;
mod format;
mod hash;
mod network;
mod numeric;
mod string;

/// What a function may know about the place it is called from.
pub struct FuncContext<'a> {
    /// Directory that relative paths in `file`, `fileexists`, `filebase64` and `abspath` are
    /// resolved against. Terraform resolves them against the working directory (the root
    /// module), which is why configurations write `"${path.module}/x"`; so either pass the root
    /// module directory here, or make `path.module` absolute.
    pub base_dir: &'a Path,
}

/// Why a call failed. `arg` is the zero-based index of the offending argument, so that the
/// diagnostic can underline it; `None` points at the call as a whole.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionError {
    pub message: String,
    pub arg: Option<usize>,
}

impl FunctionError {
    /// An error about the call as a whole.
    pub(crate) fn new(message: impl Into<String>) -> FunctionError {
        FunctionError { message: message.into(), arg: None }
    }

    /// An error about argument `index` (zero-based).
    pub(crate) fn at(index: usize, message: impl Into<String>) -> FunctionError {
        FunctionError { message: message.into(), arg: Some(index) }
    }
}

impl fmt::Display for FunctionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FunctionError {}

/// True when `name` is a function of this library.
pub fn exists(name: &str) -> bool {
    registry().contains_key(name)
}

/// Every function name, sorted, for "did you mean" suggestions.
pub fn names() -> impl Iterator<Item = &'static str> {
    static SORTED: OnceLock<Vec<&'static str>> = OnceLock::new();
    SORTED
        .get_or_init(|| {
            let mut names: Vec<&'static str> = all_defs().map(|d| d.name).collect();
            names.sort_unstable();
            names
        })
        .iter()
        .copied()
}

/// The call signature for help texts, e.g. `join(separator, lists...)`; `[x]` marks an
/// optional parameter and `x...` a repeated one.
pub fn signature(name: &str) -> Option<&'static str> {
    static SIGS: OnceLock<HashMap<&'static str, String>> = OnceLock::new();
    SIGS.get_or_init(|| all_defs().map(|d| (d.name, d.render_signature())).collect()).get(name).map(String::as_str)
}

/// Calls function `name` with already evaluated arguments.
pub fn call(name: &str, args: Vec<Value>, ctx: &FuncContext) -> Result<Value, FunctionError> {
    match registry().get(name) {
        Some(def) => def.invoke(args, ctx),
        None => Err(FunctionError::new(format!("there is no function named \"{name}\""))),
    }
}

// ---------------------------------------------------------------------------------------------
// Definitions

/// The type an argument must have. The wrapper converts each known argument to it before the
/// implementation runs, so implementations can rely on the shape.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    Any,
    String,
    Number,
    Bool,
    /// A list, tuple or set (sets arrive as lists, in their sorted order).
    List(&'static Kind),
    /// A map or object.
    Map(&'static Kind),
}

impl Kind {
    fn to_type(self) -> Type {
        match self {
            Kind::Any => Type::Any,
            Kind::String => Type::String,
            Kind::Number => Type::Number,
            Kind::Bool => Type::Bool,
            Kind::List(inner) => Type::List(Box::new(inner.to_type())),
            Kind::Map(inner) => Type::Map(Box::new(inner.to_type())),
        }
    }

    /// "a list of strings", for "argument 2 must be …".
    fn describe(self) -> String {
        match self {
            Kind::Any => "a value".into(),
            Kind::String => "a string".into(),
            Kind::Number => "a number".into(),
            Kind::Bool => "a bool".into(),
            Kind::List(Kind::Any) => "a list".into(),
            Kind::List(inner) => format!("a list of {}", inner.plural()),
            Kind::Map(Kind::Any) => "a map or object".into(),
            Kind::Map(inner) => format!("a map of {}", inner.plural()),
        }
    }

    fn plural(self) -> String {
        match self {
            Kind::Any => "values".into(),
            Kind::String => "strings".into(),
            Kind::Number => "numbers".into(),
            Kind::Bool => "bools".into(),
            Kind::List(Kind::Any) => "lists".into(),
            Kind::List(inner) => format!("lists of {}", inner.plural()),
            Kind::Map(Kind::Any) => "maps".into(),
            Kind::Map(inner) => format!("maps of {}", inner.plural()),
        }
    }
}

/// How much of an argument must be known for the function to compute a known result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Known {
    /// Any unknown anywhere inside the argument makes the result unknown (the default).
    Deep,
    /// Structural: the function only moves elements around (e.g. `length`, `concat`,
    /// `merge`). Only the argument's own marks count: an argument that is itself unknown makes
    /// the result unknown, one that is itself sensitive makes it sensitive, and unknown or
    /// sensitive elements pass through the implementation untouched.
    Structural,
    /// The implementation sees unknowns and decides (e.g. `coalesce`, the mark functions).
    Raw,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Param {
    pub name: &'static str,
    pub kind: Kind,
    pub nullable: bool,
    pub optional: bool,
    pub known: Known,
}

/// A required parameter that rejects null and needs a wholly known value.
pub(crate) const fn p(name: &'static str, kind: Kind) -> Param {
    Param { name, kind, nullable: false, optional: false, known: Known::Deep }
}

impl Param {
    pub const fn nullable(mut self) -> Param {
        self.nullable = true;
        self
    }
    pub const fn optional(mut self) -> Param {
        self.optional = true;
        self
    }
    pub const fn structural(mut self) -> Param {
        self.known = Known::Structural;
        self
    }
    pub const fn raw(mut self) -> Param {
        self.known = Known::Raw;
        self
    }
}

/// Whether the wrapper handles sensitive marks (all functions but three) or the function does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Marks {
    Propagate,
    Own,
}

/// The arguments as an implementation sees them: converted to the declared kinds, and unmarked
/// unless the function owns marks.
pub(crate) struct Args<'c, 'a> {
    pub vals: Vec<Value>,
    /// True when any argument carried a sensitive mark anywhere: error messages must not
    /// reveal argument values.
    pub sensitive: bool,
    pub ctx: &'c FuncContext<'a>,
}

impl Args<'_, '_> {
    /// Quotes `s` for an error message, or hides it when the call involves sensitive values.
    pub fn show(&self, s: &str) -> String {
        if self.sensitive {
            "(sensitive value)".into()
        } else {
            format!("{s:?}")
        }
    }

    /// Argument `i` as a string (the wrapper has converted it already).
    pub fn str(&self, i: usize) -> &str {
        self.vals.get(i).and_then(Value::as_str).unwrap_or_default()
    }

    /// Argument `i` as a number (the wrapper has converted it already).
    pub fn num(&self, i: usize) -> f64 {
        self.vals.get(i).and_then(Value::as_f64).unwrap_or_default()
    }

    /// Argument `i` as a whole number.
    pub fn int(&self, i: usize) -> Result<i64, FunctionError> {
        let n = self.num(i);
        if n.fract() != 0.0 || !n.is_finite() {
            return Err(FunctionError::at(
                i,
                format!("argument {} must be a whole number, got {}", i + 1, show_number(n, self)),
            ));
        }
        if n.abs() >= 9.007_199_254_740_992e15 {
            return Err(FunctionError::at(i, format!("argument {} is too large", i + 1)));
        }
        Ok(n as i64)
    }

    /// Argument `i` as the elements of a list, tuple or set.
    pub fn list(&self, i: usize) -> &[Value] {
        self.vals.get(i).and_then(Value::as_list).unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.vals.len()
    }
}

fn show_number(n: f64, args: &Args) -> String {
    if args.sensitive {
        "(sensitive value)".into()
    } else {
        crate::value::format_number(n)
    }
}

pub(crate) type Impl = fn(Args) -> Result<Value, FunctionError>;

pub(crate) struct FuncDef {
    pub name: &'static str,
    pub params: &'static [Param],
    pub variadic: Option<Param>,
    /// How many values the variadic parameter needs at least (`join` needs one list).
    pub variadic_min: usize,
    pub marks: Marks,
    /// Overrides the rendered signature where the parameters alone would mislead (`range`).
    pub sig: Option<&'static str>,
    pub imp: Impl,
}

/// A function with fixed parameters that propagates marks.
pub(crate) const fn def(name: &'static str, params: &'static [Param], imp: Impl) -> FuncDef {
    FuncDef { name, params, variadic: None, variadic_min: 0, marks: Marks::Propagate, sig: None, imp }
}

impl FuncDef {
    pub const fn variadic(mut self, param: Param) -> FuncDef {
        self.variadic = Some(param);
        self
    }
    /// A variadic parameter that must be given at least `min` times.
    pub const fn variadic_at_least(mut self, param: Param, min: usize) -> FuncDef {
        self.variadic = Some(param);
        self.variadic_min = min;
        self
    }
    pub const fn owns_marks(mut self) -> FuncDef {
        self.marks = Marks::Own;
        self
    }
    pub const fn signature(mut self, sig: &'static str) -> FuncDef {
        self.sig = Some(sig);
        self
    }

    fn render_signature(&self) -> String {
        if let Some(sig) = self.sig {
            return sig.to_string();
        }
        let mut parts: Vec<String> =
            self.params.iter().map(|p| if p.optional { format!("[{}]", p.name) } else { p.name.to_string() }).collect();
        if let Some(v) = &self.variadic {
            parts.push(format!("{}...", v.name));
        }
        format!("{}({})", self.name, parts.join(", "))
    }

    fn min_args(&self) -> usize {
        self.params.iter().filter(|p| !p.optional).count() + self.variadic_min
    }

    fn arity_error(&self, got: usize) -> Option<FunctionError> {
        let min = self.min_args();
        let max = if self.variadic.is_some() { None } else { Some(self.params.len()) };
        let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
        let expected = match max {
            Some(max) if max == min => format!("{min} {}", plural(min)),
            Some(max) => format!("{min} to {max} arguments"),
            None => format!("at least {min} {}", plural(min)),
        };
        let usage = self.render_signature();
        if got < min {
            Some(FunctionError::new(format!("{}: expected {expected}, got {got}; usage: {usage}", self.name)))
        } else if max.is_some_and(|max| got > max) {
            Some(FunctionError::at(
                max.unwrap_or_default(),
                format!("{}: expected {expected}, got {got}; usage: {usage}", self.name),
            ))
        } else {
            None
        }
    }

    fn param(&self, i: usize) -> Option<&Param> {
        self.params.get(i).or(self.variadic.as_ref())
    }

    /// The one place where arity, argument types and the mark rules are enforced.
    fn invoke(&self, args: Vec<Value>, ctx: &FuncContext) -> Result<Value, FunctionError> {
        if let Some(e) = self.arity_error(args.len()) {
            return Err(e);
        }
        let own_marks = self.marks == Marks::Own;
        // `sensitive` guards error messages; `mark_result` decides the result's mark. They differ
        // only for structural parameters, whose elements keep their own marks.
        let sensitive = !own_marks && args.iter().any(Value::contains_sensitive);
        let mut mark_result = false;
        let mut vals = Vec::with_capacity(args.len());
        for (i, arg) in args.into_iter().enumerate() {
            let param = match self.param(i) {
                Some(p) => p,
                None => return Err(FunctionError::at(i, format!("{}: too many arguments", self.name))),
            };
            let arg = match (own_marks, param.known) {
                (true, _) => arg,
                (false, Known::Structural) => {
                    let (v, marked) = arg.unmark();
                    mark_result |= marked;
                    v
                }
                (false, _) => {
                    mark_result |= arg.contains_sensitive();
                    arg.unmark_deep()
                }
            };
            vals.push(self.check_arg(i, param, arg, sensitive)?);
        }
        // Types are checked for every argument before unknowns short-circuit, so that a typo
        // is reported at plan time even when another argument is known only after apply.
        for (i, v) in vals.iter().enumerate() {
            let known = self.param(i).map(|p| p.known).unwrap_or(Known::Deep);
            let unknown = match known {
                Known::Deep => !v.is_wholly_known(),
                Known::Structural => v.is_unknown(),
                Known::Raw => false,
            };
            if unknown {
                return Ok(Value::Unknown.with_sensitive(mark_result));
            }
        }
        let out = (self.imp)(Args { vals, sensitive, ctx })
            .map_err(|e| FunctionError { message: format!("{}: {}", self.name, e.message), arg: e.arg })?;
        Ok(out.with_sensitive(mark_result))
    }

    fn check_arg(&self, i: usize, param: &Param, arg: Value, sensitive: bool) -> Result<Value, FunctionError> {
        if arg.is_unknown() {
            return Ok(arg);
        }
        if arg.is_null() {
            if param.nullable {
                return Ok(arg);
            }
            return Err(FunctionError::at(i, format!("{}: argument {} must not be null", self.name, i + 1)));
        }
        if matches!(param.kind, Kind::Any) {
            return Ok(arg);
        }
        let got = match &arg {
            Value::String(text) if !sensitive => format!("the string {text:?}"),
            other => other.type_name().to_string(),
        };
        param.kind.to_type().convert(arg).map_err(|e| {
            let base = format!("{}: argument {} must be {}", self.name, i + 1, param.kind.describe());
            let message = if e.path.is_empty() {
                format!("{base}, got {got}")
            } else if sensitive {
                // The conversion message may quote the offending element.
                format!("{base}; the element at {} does not conform", path_to_string(&e.path))
            } else {
                format!("{base}; at {}: {}", path_to_string(&e.path), e.message)
            };
            FunctionError::at(i, message)
        })
    }
}

fn all_defs() -> impl Iterator<Item = &'static FuncDef> {
    [
        string::FUNCTIONS,
        format::FUNCTIONS,
        collection::FUNCTIONS,
        numeric::FUNCTIONS,
        network::FUNCTIONS,
        encoding::FUNCTIONS,
        hash::FUNCTIONS,
        conversion::FUNCTIONS,
        filesystem::FUNCTIONS,
    ]
    .into_iter()
    .flatten()
}

fn registry() -> &'static HashMap<&'static str, &'static FuncDef> {
    static REGISTRY: OnceLock<HashMap<&'static str, &'static FuncDef>> = OnceLock::new();
    REGISTRY.get_or_init(|| all_defs().map(|d| (d.name, d)).collect())
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the families

/// Equality as the language sees it: marks ignored, numbers by value.
pub(crate) fn values_equal(a: &Value, b: &Value) -> bool {
    let (a, _) = a.unmarked();
    let (b, _) = b.unmarked();
    match (a, b) {
        (Value::List(x), Value::List(y)) | (Value::Set(x), Value::Set(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((ka, va), (kb, vb))| ka == kb && values_equal(va, vb))
        }
        _ => a == b,
    }
}

/// Makes a collection's primitive elements share one type the way Terraform's type
/// unification does for `tolist`, `toset`, `tomap` and `coalesce`: when different primitive
/// types are mixed, everything becomes a string (`[1, "a", true]` → `["1", "a", "true"]`).
/// Mixing primitives with collections, or lists with maps, is an error.
pub(crate) fn unify_primitives(items: Vec<Value>) -> Result<Vec<Value>, String> {
    let mut primitives = std::collections::BTreeSet::new();
    let mut collections = std::collections::BTreeSet::new();
    for v in &items {
        match v.unmarked().0 {
            Value::String(_) => primitives.insert("string"),
            Value::Number(_) => primitives.insert("number"),
            Value::Bool(_) => primitives.insert("bool"),
            Value::List(_) | Value::Set(_) => collections.insert("list"),
            Value::Map(_) => collections.insert("map"),
            Value::Null | Value::Unknown | Value::Sensitive(_) => false,
        };
    }
    if collections.len() + usize::from(!primitives.is_empty()) > 1 {
        return Err("all elements must have the same type".into());
    }
    if primitives.len() < 2 {
        return Ok(items);
    }
    Ok(items.into_iter().map(|v| Type::String.convert(v.clone()).unwrap_or(v)).collect())
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Shorthands for the family tests.

    use std::path::Path;

    use super::{call, FuncContext, FunctionError};
    use crate::value::Value;

    pub fn s(x: &str) -> Value {
        Value::string(x)
    }
    pub fn n(x: f64) -> Value {
        Value::Number(x)
    }
    pub fn b(x: bool) -> Value {
        Value::Bool(x)
    }
    pub fn l(items: Vec<Value>) -> Value {
        Value::List(items)
    }
    pub fn sl(items: &[&str]) -> Value {
        Value::List(items.iter().map(|x| s(x)).collect())
    }
    pub fn m(entries: Vec<(&str, Value)>) -> Value {
        Value::map(entries)
    }

    pub fn try_call(name: &str, args: Vec<Value>) -> Result<Value, FunctionError> {
        call(name, args, &FuncContext { base_dir: Path::new("/nonexistent-base") })
    }

    #[track_caller]
    pub fn ok(name: &str, args: Vec<Value>) -> Value {
        match try_call(name, args) {
            Ok(v) => v,
            Err(e) => panic!("{name} failed: {}", e.message),
        }
    }

    #[track_caller]
    pub fn err(name: &str, args: Vec<Value>) -> String {
        match try_call(name, args) {
            Ok(v) => panic!("{name} unexpectedly returned {v:?}"),
            Err(e) => e.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;

    #[test]
    fn registry_answers_exists_names_and_signatures() {
        assert!(exists("join"));
        assert!(!exists("try"), "try is a special form of the evaluator");
        assert!(!exists("templatefile"));
        assert!(!exists("nope"));
        let all: Vec<&str> = names().collect();
        assert!(all.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
        assert!(all.len() >= 100, "{}", all.len());
        assert_eq!(signature("join"), Some("join(separator, lists...)"));
        assert_eq!(signature("lookup"), Some("lookup(map, key, [default])"));
        assert_eq!(signature("range"), Some("range([start,] limit[, step])"));
        assert_eq!(signature("nope"), None);
        for name in names() {
            assert!(signature(name).is_some_and(|s| s.starts_with(name)), "{name}");
        }
    }

    #[test]
    fn unknown_function_is_an_error() {
        assert_eq!(err("nope", vec![]), "there is no function named \"nope\"");
    }

    #[test]
    fn arity_errors_name_the_expectation_and_usage() {
        let e = try_call("upper", vec![]).unwrap_err();
        assert_eq!(e.message, "upper: expected 1 argument, got 0; usage: upper(str)");
        assert_eq!(e.arg, None);
        let e = try_call("upper", vec![s("a"), s("b")]).unwrap_err();
        assert_eq!(e.message, "upper: expected 1 argument, got 2; usage: upper(str)");
        assert_eq!(e.arg, Some(1), "points at the first extra argument");
        assert_eq!(
            err("join", vec![s(",")]),
            "join: expected at least 2 arguments, got 1; usage: join(separator, lists...)"
        );
        assert_eq!(
            err("lookup", vec![m(vec![])]),
            "lookup: expected 2 to 3 arguments, got 1; usage: lookup(map, key, [default])"
        );
    }

    #[test]
    fn type_errors_point_at_the_argument() {
        let e = try_call("join", vec![s(","), m(vec![("a", s("b"))])]).unwrap_err();
        assert_eq!(e.message, "join: argument 2 must be a list of strings, got object");
        assert_eq!(e.arg, Some(1));
        let e = try_call("join", vec![s(","), sl(&["a"]), l(vec![s("b"), m(vec![])])]).unwrap_err();
        assert_eq!(e.message, "join: argument 3 must be a list of strings; at [1]: string required, got object");
        assert_eq!(e.arg, Some(2));
        assert_eq!(err("upper", vec![sl(&["a"])]), "upper: argument 1 must be a string, got list");
        assert_eq!(err("abs", vec![s("x")]), "abs: argument 1 must be a number, got the string \"x\"");
        assert_eq!(err("abs", vec![b(true)]), "abs: argument 1 must be a number, got bool");
        assert_eq!(err("upper", vec![Value::Null]), "upper: argument 1 must not be null");
    }

    #[test]
    fn primitive_arguments_convert_like_terraform() {
        assert_eq!(ok("upper", vec![n(5.0)]), s("5"));
        assert_eq!(ok("abs", vec![s("-3")]), n(3.0));
        assert_eq!(ok("join", vec![s("-"), l(vec![n(1.0), b(true)])]), s("1-true"));
    }

    #[test]
    fn type_errors_win_over_unknowns() {
        let e = try_call("join", vec![Value::Unknown, m(vec![])]).unwrap_err();
        assert_eq!(e.message, "join: argument 2 must be a list of strings, got object");
        let e = try_call("substr", vec![Value::Unknown, s("x"), n(1.0)]).unwrap_err();
        assert_eq!(e.arg, Some(1));
        assert!(try_call("upper", vec![Value::Unknown, Value::Unknown]).is_err(), "arity");
    }

    #[test]
    fn unknown_in_unknown_out() {
        assert_eq!(ok("upper", vec![Value::Unknown]), Value::Unknown);
        assert_eq!(ok("join", vec![s(","), l(vec![s("a"), Value::Unknown])]), Value::Unknown);
        assert_eq!(ok("jsonencode", vec![m(vec![("a", Value::Unknown)])]), Value::Unknown);
        assert_eq!(ok("format", vec![s("%s-%s"), s("a"), Value::Unknown]), Value::Unknown);
    }

    #[test]
    fn structural_functions_keep_unknown_elements() {
        assert_eq!(ok("length", vec![l(vec![Value::Unknown])]), n(1.0));
        assert_eq!(ok("length", vec![Value::Unknown]), Value::Unknown);
        assert_eq!(ok("keys", vec![m(vec![("a", Value::Unknown), ("b", s("x"))])]), sl(&["a", "b"]));
        assert_eq!(ok("concat", vec![l(vec![Value::Unknown]), sl(&["a"])]), l(vec![Value::Unknown, s("a")]));
        assert_eq!(ok("lookup", vec![m(vec![("a", s("x")), ("b", Value::Unknown)]), s("a")]), s("x"));
        assert_eq!(
            ok("lookup", vec![m(vec![("a", s("x"))]), Value::Unknown]),
            Value::Unknown,
            "an unknown key makes the result unknown"
        );
    }

    #[test]
    fn sensitive_in_sensitive_out() {
        let secret = s("hunter2").mark_sensitive();
        assert_eq!(ok("upper", vec![secret.clone()]), s("HUNTER2").mark_sensitive());
        assert_eq!(ok("join", vec![s(","), l(vec![s("a"), secret.clone()])]), s("a,hunter2").mark_sensitive());
        assert_eq!(ok("length", vec![secret.clone()]), n(7.0).mark_sensitive());
        assert!(ok("sha256", vec![secret.clone()]).is_sensitive());
        let nested = m(vec![("db", m(vec![("password", secret.clone())]))]);
        assert_eq!(ok("jsonencode", vec![nested]), s(r#"{"db":{"password":"hunter2"}}"#).mark_sensitive());
    }

    #[test]
    fn structural_functions_keep_element_marks() {
        let secret = s("hunter2").mark_sensitive();
        let db = m(vec![("host", s("db.internal")), ("password", secret.clone())]);
        assert_eq!(ok("length", vec![l(vec![secret.clone(), s("x")])]), n(2.0), "not sensitive");
        assert_eq!(ok("lookup", vec![db.clone(), s("host")]), s("db.internal"));
        assert_eq!(ok("lookup", vec![db.clone(), s("password")]), secret);
        assert_eq!(ok("keys", vec![db.clone()]), sl(&["host", "password"]));
        assert_eq!(
            ok("merge", vec![db.clone(), m(vec![("port", n(5432.0))])]),
            m(vec![("host", s("db.internal")), ("password", secret.clone()), ("port", n(5432.0))])
        );
        assert_eq!(ok("concat", vec![l(vec![secret.clone()]), sl(&["a"])]), l(vec![secret.clone(), s("a")]));
        // The argument's own mark still marks the result.
        assert_eq!(ok("keys", vec![db.clone().mark_sensitive()]), sl(&["host", "password"]).mark_sensitive());
        assert_eq!(ok("length", vec![sl(&["a"]).mark_sensitive()]), n(1.0).mark_sensitive());
        // A sensitive key marks the lookup result.
        assert_eq!(ok("lookup", vec![db, s("host").mark_sensitive()]), s("db.internal").mark_sensitive());
        // Non-structural functions mark the whole result.
        assert_eq!(
            ok("flatten", vec![l(vec![l(vec![secret.clone()]), sl(&["a"])])]),
            sl(&["hunter2", "a"]).mark_sensitive()
        );
    }

    #[test]
    fn sensitive_and_unknown_combine() {
        let v = ok("upper", vec![Value::Unknown.mark_sensitive()]);
        assert_eq!(v, Value::Unknown.mark_sensitive());
        let v = ok("join", vec![s(",").mark_sensitive(), l(vec![Value::Unknown])]);
        assert_eq!(v, Value::Unknown.mark_sensitive());
    }

    #[test]
    fn errors_do_not_reveal_sensitive_arguments() {
        let e = err("tonumber", vec![s("hunter2").mark_sensitive()]);
        assert!(!e.contains("hunter2"), "{e}");
        let e = err("abs", vec![s("hunter2").mark_sensitive()]);
        assert_eq!(e, "abs: argument 1 must be a number, got string");
        let e = err("base64decode", vec![s("hunter2!").mark_sensitive()]);
        assert!(!e.contains("hunter2"), "{e}");
        let e = err("parseint", vec![s("hunter2").mark_sensitive(), n(10.0)]);
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn mark_functions_own_their_marks() {
        let secret = s("x").mark_sensitive();
        assert_eq!(ok("sensitive", vec![s("x")]), secret);
        assert_eq!(ok("nonsensitive", vec![secret.clone()]), s("x"));
        let nested = l(vec![secret.clone(), m(vec![("k", secret.clone())])]);
        assert_eq!(ok("nonsensitive", vec![nested]), l(vec![s("x"), m(vec![("k", s("x"))])]));
        assert_eq!(ok("issensitive", vec![secret.clone()]), b(true));
        assert_eq!(ok("issensitive", vec![s("x")]), b(false));
        assert_eq!(ok("issensitive", vec![Value::Unknown.mark_sensitive()]), b(true));
        assert_eq!(ok("sensitive", vec![Value::Unknown]), Value::Unknown.mark_sensitive());
        assert_eq!(ok("nonsensitive", vec![Value::Unknown]), Value::Unknown);
    }

    #[test]
    fn every_function_honours_unknown_in_unknown_out() {
        for name in names() {
            let def = registry()[name];
            if def.marks == Marks::Own {
                continue;
            }
            let n = def.min_args().max(1);
            if def.arity_error(n).is_some() {
                continue;
            }
            let got = try_call(name, vec![Value::Unknown; n]);
            assert_eq!(got, Ok(Value::Unknown), "{name}");
            let got = try_call(name, vec![Value::Unknown.mark_sensitive(); n]);
            assert_eq!(got, Ok(Value::Unknown.mark_sensitive()), "{name}");
        }
    }

    /// Every function, with every combination of awkward arguments up to its arity: no
    /// panics, and a sensitive argument never leaks into a result unmarked or into an error.
    #[test]
    fn no_function_panics_or_leaks_on_awkward_input() {
        let palette = vec![
            Value::Null,
            b(true),
            n(0.0),
            n(-1.0),
            n(1.5),
            n(1e300),
            s(""),
            s("a,b"),
            s("%d %s %[3]q %-08.3f %"),
            s("/(/"),
            s("10.0.0.0/8"),
            s("~/x"),
            s("💃🏿e\u{301}"),
            sl(&["a", "b"]),
            l(vec![n(1.0), l(vec![s("x")]), Value::Null]),
            m(vec![("k", sl(&["v"])), ("n", Value::Null)]),
            Value::set(vec![s("b"), s("a")]),
            l(vec![]),
            m(vec![]),
        ];
        let secret = "s3cr3t-value";
        for name in names() {
            let def = registry()[name];
            let max = if def.variadic.is_some() { def.params.len().max(2) } else { def.params.len() };
            let mut combos: Vec<Vec<Value>> = vec![vec![]];
            for _ in 0..max.min(3) {
                let mut next = Vec::new();
                for c in &combos {
                    for v in &palette {
                        let mut c = c.clone();
                        c.push(v.clone());
                        next.push(c);
                    }
                }
                combos.extend(next);
            }
            for args in combos {
                let _ = try_call(name, args.clone());
                if args.is_empty() || def.marks == Marks::Own {
                    continue;
                }
                let secrets = [
                    s(secret).mark_sensitive(),
                    l(vec![s(secret).mark_sensitive()]),
                    m(vec![("k", s(secret).mark_sensitive())]),
                ];
                for pos in [0, args.len() - 1] {
                    for hidden in &secrets {
                        let mut marked = args.clone();
                        marked[pos] = hidden.clone();
                        match try_call(name, marked) {
                            Ok(v) => assert!(
                                v.contains_sensitive() || !format!("{v:?}").contains(secret),
                                "{name} dropped the mark: {v:?}"
                            ),
                            Err(e) => {
                                assert!(!e.message.contains(secret), "{name} leaked: {}", e.message)
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn unify_mixes_primitives_into_strings() {
        assert_eq!(unify_primitives(vec![s("a"), n(1.0), b(true)]), Ok(vec![s("a"), s("1"), s("true")]));
        assert_eq!(unify_primitives(vec![n(1.0), n(2.0)]), Ok(vec![n(1.0), n(2.0)]));
        assert!(unify_primitives(vec![s("a"), sl(&["b"])]).is_err());
    }
}

//! Conversion and mark functions: `tostring`, `tonumber`, `tobool`, `tolist`, `toset`,
//! `tomap`, and `sensitive`, `nonsensitive`, `issensitive`.
//!
//! Primitive conversions reuse [`crate::types`] so that `tonumber("5")` and a `number`
//! variable given `"5"` agree. The three mark functions are the only ones that handle marks
//! themselves; every other function gets marks applied by the wrapper in `mod.rs`.

use super::{def, p, unify_primitives, Args, FuncDef, FunctionError, Kind};
use crate::types::Type;
use crate::value::Value;

pub(super) const FUNCTIONS: &[FuncDef] = &[
    def("tostring", &[p("v", Kind::Any).nullable()], tostring),
    def("tonumber", &[p("v", Kind::Any).nullable()], tonumber),
    def("tobool", &[p("v", Kind::Any).nullable()], tobool),
    def("tolist", &[p("v", Kind::Any).nullable().structural()], tolist),
    // Deep: a set cannot be ordered or deduplicated while some elements are unknown.
    def("toset", &[p("v", Kind::Any).nullable()], toset),
    def("tomap", &[p("v", Kind::Any).nullable().structural()], tomap),
    def("sensitive", &[p("value", Kind::Any).nullable().raw()], sensitive).owns_marks(),
    def("nonsensitive", &[p("value", Kind::Any).nullable().raw()], nonsensitive).owns_marks(),
    def("issensitive", &[p("value", Kind::Any).nullable().raw()], issensitive).owns_marks(),
];

fn primitive(a: &Args, ty: Type, name: &str) -> Result<Value, FunctionError> {
    let v = a.vals[0].clone();
    let got = v.type_name();
    let text = v.as_str().map(str::to_string);
    ty.convert(v).map_err(|_| match text {
        Some(s) => FunctionError::at(0, format!("cannot convert {} to {name}", a.show(&s))),
        None => FunctionError::at(0, format!("cannot convert {got} to {name}")),
    })
}

fn tostring(a: Args) -> Result<Value, FunctionError> {
    primitive(&a, Type::String, "string")
}

fn tonumber(a: Args) -> Result<Value, FunctionError> {
    primitive(&a, Type::Number, "number")
}

fn tobool(a: Args) -> Result<Value, FunctionError> {
    primitive(&a, Type::Bool, "bool")
}

fn sequence(a: &Args, target: &str) -> Result<Option<Vec<Value>>, FunctionError> {
    match &a.vals[0] {
        Value::Null => Ok(None),
        Value::List(items) | Value::Set(items) => unify_primitives(items.clone())
            .map(Some)
            .map_err(|e| FunctionError::at(0, format!("cannot convert to {target}: {e}"))),
        other => Err(FunctionError::at(0, format!("cannot convert {} to {target}", other.type_name()))),
    }
}

fn tolist(a: Args) -> Result<Value, FunctionError> {
    Ok(sequence(&a, "list")?.map(Value::List).unwrap_or(Value::Null))
}

fn toset(a: Args) -> Result<Value, FunctionError> {
    Ok(sequence(&a, "set")?.map(Value::set).unwrap_or(Value::Null))
}

fn tomap(a: Args) -> Result<Value, FunctionError> {
    match &a.vals[0] {
        Value::Null => Ok(Value::Null),
        Value::Map(m) => {
            let keys: Vec<String> = m.keys().cloned().collect();
            let vals = unify_primitives(m.values().cloned().collect())
                .map_err(|e| FunctionError::at(0, format!("cannot convert to map: {e}")))?;
            Ok(Value::Map(keys.into_iter().zip(vals).collect()))
        }
        other => Err(FunctionError::at(0, format!("cannot convert {} to map", other.type_name()))),
    }
}

fn sensitive(a: Args) -> Result<Value, FunctionError> {
    Ok(a.vals[0].clone().mark_sensitive())
}

/// Removes every mark, at every depth. Unlike early Terraform 1.x, a value that was not
/// sensitive is not an error: modules often cannot know.
fn nonsensitive(a: Args) -> Result<Value, FunctionError> {
    Ok(a.vals[0].clone().unmark_deep())
}

/// Whether the value itself is marked (like Terraform, a mark on a nested attribute does not
/// make the containing object sensitive). Known even when the value is unknown.
fn issensitive(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::Bool(a.vals[0].is_sensitive()))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use crate::value::Value;

    #[test]
    fn primitives() {
        assert_eq!(ok("tostring", vec![n(5.0)]), s("5"));
        assert_eq!(ok("tostring", vec![b(true)]), s("true"));
        assert_eq!(ok("tostring", vec![s("x")]), s("x"));
        assert_eq!(ok("tostring", vec![Value::Null]), Value::Null);
        assert_eq!(err("tostring", vec![sl(&["a"])]), "tostring: cannot convert list to string");
        assert_eq!(ok("tonumber", vec![s("1.5")]), n(1.5));
        assert_eq!(ok("tonumber", vec![n(1.0)]), n(1.0));
        assert_eq!(err("tonumber", vec![s("no")]), "tonumber: cannot convert \"no\" to number");
        assert_eq!(
            err("tonumber", vec![s("hunter2").mark_sensitive()]),
            "tonumber: cannot convert (sensitive value) to number"
        );
        assert_eq!(ok("tobool", vec![s("true")]), b(true));
        assert_eq!(err("tobool", vec![n(1.0)]), "tobool: cannot convert number to bool");
        assert_eq!(ok("tonumber", vec![Value::Unknown]), Value::Unknown);
    }

    #[test]
    fn collections() {
        assert_eq!(ok("tolist", vec![l(vec![s("a"), n(1.0)])]), sl(&["a", "1"]));
        assert_eq!(ok("tolist", vec![Value::set(vec![s("b"), s("a")])]), sl(&["a", "b"]));
        assert_eq!(ok("tolist", vec![l(vec![Value::Unknown, s("a")])]), l(vec![Value::Unknown, s("a")]));
        assert_eq!(ok("toset", vec![sl(&["c", "a", "c"])]), Value::set(vec![s("a"), s("c")]));
        assert_eq!(ok("toset", vec![l(vec![s("a"), n(1.0)])]), Value::set(vec![s("1"), s("a")]));
        assert_eq!(ok("toset", vec![l(vec![s("a"), Value::Unknown])]), Value::Unknown);
        assert_eq!(ok("tomap", vec![m(vec![("a", s("x")), ("b", n(1.0))])]), m(vec![("a", s("x")), ("b", s("1"))]));
        assert_eq!(err("tomap", vec![sl(&[])]), "tomap: cannot convert list to map");
        assert_eq!(err("tolist", vec![s("x")]), "tolist: cannot convert string to list");
        assert_eq!(
            err("tolist", vec![l(vec![s("x"), sl(&[])])]),
            "tolist: cannot convert to list: all elements must have the same type"
        );
    }
}

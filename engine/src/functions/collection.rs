//! Collection functions over lists, sets and maps: size and access (`length`, `element`,
//! `lookup`, `keys`, `values`, `index`, `one`), combination (`concat`, `merge`, `zipmap`,
//! `flatten`, `setproduct`, …), selection and ordering (`slice`, `sort`, `distinct`,
//! `compact`, `matchkeys`, …) and the set algebra.
//!
//! Functions that only move elements around (`length`, `concat`, `merge`, `lookup`,
//! `element`, …) declare their collection parameter *structural*, so that unknown and
//! sensitive elements pass through and the result stays known (and unmarked) where
//! Terraform's does. Functions that must compare or order elements (`contains`, `distinct`,
//! `sort`, the set functions) need wholly known input.
//!
//! Deviation kept simple on purpose: `coalesce` and `coalescelist` return unknown as soon as
//! they meet an unknown argument before a usable one, where Terraform may sometimes predict
//! the result's type.

use std::collections::BTreeMap;

use unicode_segmentation::UnicodeSegmentation;

use super::{def, p, unify_primitives, values_equal, Args, FuncDef, FunctionError, Kind};
use crate::value::Value;

const LIST: Kind = Kind::List(&Kind::Any);
const MAP: Kind = Kind::Map(&Kind::Any);

pub(super) const FUNCTIONS: &[FuncDef] = &[
    def("length", &[p("value", Kind::Any).structural()], length),
    def("keys", &[p("inputMap", MAP).structural()], keys),
    def("values", &[p("mapping", MAP).structural()], values),
    def("merge", &[], merge).variadic(p("maps", MAP).nullable().structural()),
    def(
        "lookup",
        &[p("map", MAP).structural(), p("key", Kind::String), p("default", Kind::Any).nullable().raw().optional()],
        lookup,
    ),
    def("concat", &[], concat).variadic(p("seqs", LIST).structural()),
    def("contains", &[p("list", LIST), p("value", Kind::Any).nullable()], contains),
    def("coalesce", &[], coalesce).variadic(p("vals", Kind::Any).nullable().raw()),
    def("coalescelist", &[], coalescelist).variadic(p("vals", LIST).nullable().raw()),
    def("flatten", &[p("list", LIST)], flatten),
    def("zipmap", &[p("keys", Kind::List(&Kind::String)), p("values", LIST).structural()], zipmap),
    def("distinct", &[p("list", LIST)], distinct),
    def("element", &[p("list", LIST).structural(), p("index", Kind::Number)], element),
    def("index", &[p("list", LIST), p("value", Kind::Any).nullable()], index),
    def(
        "range",
        &[p("start", Kind::Number), p("limit", Kind::Number).optional(), p("step", Kind::Number).optional()],
        range,
    )
    .signature("range([start,] limit[, step])"),
    def("reverse", &[p("list", LIST).structural()], reverse),
    def("slice", &[p("list", LIST).structural(), p("start_index", Kind::Number), p("end_index", Kind::Number)], slice),
    def("sort", &[p("list", Kind::List(&Kind::String))], sort),
    def("compact", &[p("list", Kind::List(&Kind::String))], compact),
    def("one", &[p("list", LIST).structural()], one),
    def("alltrue", &[p("list", Kind::List(&Kind::Bool))], alltrue),
    def("anytrue", &[p("list", Kind::List(&Kind::Bool))], anytrue),
    def("setunion", &[p("first_set", LIST)], setunion).variadic(p("other_sets", LIST)),
    def("setintersection", &[p("first_set", LIST)], setintersection).variadic(p("other_sets", LIST)),
    def("setsubtract", &[p("a", LIST), p("b", LIST)], setsubtract),
    def("setproduct", &[], setproduct).variadic_at_least(p("sets", Kind::Any), 2),
    def("chunklist", &[p("list", LIST).structural(), p("size", Kind::Number)], chunklist),
    def("sum", &[p("list", Kind::List(&Kind::Number))], sum),
    def("transpose", &[p("values", Kind::Map(&Kind::List(&Kind::String)))], transpose),
    def("matchkeys", &[p("values", LIST), p("keys", LIST), p("searchset", LIST)], matchkeys),
];

/// `length`: characters (grapheme clusters) of a string, elements of a list or set,
/// attributes of a map. Known even when the elements are not.
fn length(a: Args) -> Result<Value, FunctionError> {
    let n = match &a.vals[0] {
        Value::String(s) => s.graphemes(true).count(),
        Value::List(items) | Value::Set(items) => items.len(),
        Value::Map(m) => m.len(),
        other => {
            return Err(FunctionError::at(
                0,
                format!("argument 1 must be a string, list, set or map, got {}", other.type_name()),
            ))
        }
    };
    Ok(Value::Number(n as f64))
}

fn map_arg(a: &Args, i: usize) -> BTreeMap<String, Value> {
    a.vals.get(i).and_then(Value::as_map).cloned().unwrap_or_default()
}

fn keys(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::List(map_arg(&a, 0).into_keys().map(Value::String).collect()))
}

fn values(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::List(map_arg(&a, 0).into_values().collect()))
}

/// Later arguments win; null arguments are skipped.
fn merge(a: Args) -> Result<Value, FunctionError> {
    let mut out = BTreeMap::new();
    for v in a.vals {
        if let Value::Map(m) = v {
            out.extend(m);
        }
    }
    Ok(Value::Map(out))
}

fn lookup(a: Args) -> Result<Value, FunctionError> {
    let key = a.str(1);
    match a.vals[0].get(key) {
        Some(v) => Ok(v.clone()),
        None => match a.vals.get(2) {
            Some(default) => Ok(default.clone()),
            None => Err(FunctionError::at(
                1,
                format!("the given key {} does not exist in the map, and no default was given", a.show(key)),
            )),
        },
    }
}

fn concat(a: Args) -> Result<Value, FunctionError> {
    let mut out = Vec::new();
    for i in 0..a.len() {
        out.extend_from_slice(a.list(i));
    }
    Ok(Value::List(out))
}

fn contains(a: Args) -> Result<Value, FunctionError> {
    let needle = &a.vals[1];
    Ok(Value::Bool(a.list(0).iter().any(|v| values_equal(v, needle))))
}

/// The first argument that is neither null nor an empty string. When primitive types are mixed,
/// the result is converted to a string, as Terraform's type unification does. (Terraform
/// rejects arguments that cannot be unified at all; here the first usable one wins.)
fn coalesce(a: Args) -> Result<Value, FunctionError> {
    for (i, v) in a.vals.iter().enumerate() {
        if v.is_unknown() {
            return Ok(Value::Unknown);
        }
        if v.is_null() || v.as_str() == Some("") {
            continue;
        }
        let unified = unify_primitives(a.vals.clone()).unwrap_or_else(|_| a.vals.clone());
        return Ok(unified[i].clone());
    }
    Err(FunctionError::new("no non-null, non-empty-string arguments"))
}

fn coalescelist(a: Args) -> Result<Value, FunctionError> {
    for v in &a.vals {
        if v.is_unknown() {
            return Ok(Value::Unknown);
        }
        match v.as_list() {
            Some(items) if !items.is_empty() => return Ok(v.clone()),
            _ => {}
        }
    }
    Err(FunctionError::new("no non-null, non-empty arguments"))
}

/// Flattens nested lists and sets at any depth; other elements (maps included) stay.
fn flatten(a: Args) -> Result<Value, FunctionError> {
    fn walk(items: &[Value], out: &mut Vec<Value>) {
        for v in items {
            match v {
                Value::List(inner) | Value::Set(inner) => walk(inner, out),
                other => out.push(other.clone()),
            }
        }
    }
    let mut out = Vec::new();
    walk(a.list(0), &mut out);
    Ok(Value::List(out))
}

fn zipmap(a: Args) -> Result<Value, FunctionError> {
    let (ks, vs) = (a.list(0), a.list(1));
    if ks.len() != vs.len() {
        return Err(FunctionError::at(
            1,
            format!("number of keys ({}) does not match number of values ({})", ks.len(), vs.len()),
        ));
    }
    let mut out = BTreeMap::new();
    for (i, (k, v)) in ks.iter().zip(vs).enumerate() {
        let Some(k) = k.as_str() else {
            return Err(FunctionError::at(0, format!("key {i} is null; keys must be strings")));
        };
        out.insert(k.to_string(), v.clone());
    }
    Ok(Value::Map(out))
}

/// Removes duplicates, keeping the first occurrence of each element.
fn distinct(a: Args) -> Result<Value, FunctionError> {
    let mut out: Vec<Value> = Vec::new();
    for v in a.list(0) {
        if !out.iter().any(|seen| values_equal(seen, v)) {
            out.push(v.clone());
        }
    }
    Ok(Value::List(out))
}

/// `element(list, index)`: the index wraps around the list's length.
fn element(a: Args) -> Result<Value, FunctionError> {
    let items = a.list(0);
    let idx = a.int(1)?;
    if items.is_empty() {
        return Err(FunctionError::at(0, "cannot use element function with an empty list"));
    }
    if idx < 0 {
        return Err(FunctionError::at(1, "cannot use element function with a negative index"));
    }
    Ok(items[(idx as usize) % items.len()].clone())
}

fn index(a: Args) -> Result<Value, FunctionError> {
    let needle = &a.vals[1];
    match a.list(0).iter().position(|v| values_equal(v, needle)) {
        Some(i) => Ok(Value::Number(i as f64)),
        None => Err(FunctionError::at(1, "item not found")),
    }
}

const RANGE_MAX: usize = 1024;

/// `range(limit)`, `range(start, limit)`, `range(start, limit, step)`; the default step is 1
/// or -1 towards the limit, and at most 1024 numbers are produced.
fn range(a: Args) -> Result<Value, FunctionError> {
    let (start, limit) = if a.len() == 1 { (0.0, a.num(0)) } else { (a.num(0), a.num(1)) };
    let step = if a.len() == 3 {
        a.num(2)
    } else if limit >= start {
        1.0
    } else {
        -1.0
    };
    if step == 0.0 {
        return Err(FunctionError::at(2, "step must not be zero"));
    }
    let mut out = Vec::new();
    let mut i = 0.0;
    loop {
        let v = start + i * step;
        let more = if step > 0.0 { v < limit } else { v > limit };
        if !more {
            break;
        }
        if out.len() == RANGE_MAX {
            return Err(FunctionError::new(
                "more than 1024 values were generated; either decrease the difference between \
                 start and limit or use a larger step",
            ));
        }
        out.push(Value::Number(v));
        i += 1.0;
    }
    Ok(Value::List(out))
}

fn reverse(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::List(a.list(0).iter().rev().cloned().collect()))
}

fn slice(a: Args) -> Result<Value, FunctionError> {
    let items = a.list(0);
    let (start, end) = (a.int(1)?, a.int(2)?);
    if start < 0 {
        return Err(FunctionError::at(1, "start index must not be less than zero"));
    }
    if end > items.len() as i64 {
        return Err(FunctionError::at(
            2,
            format!("end index must not be greater than the length of the list ({})", items.len()),
        ));
    }
    if start > end {
        return Err(FunctionError::at(1, "start index must not be greater than end index"));
    }
    Ok(Value::List(items[start as usize..end as usize].to_vec()))
}

/// Lexicographic, by Unicode code point (numbers are sorted as strings, like Terraform).
fn sort(a: Args) -> Result<Value, FunctionError> {
    let mut strs = Vec::new();
    for (i, v) in a.list(0).iter().enumerate() {
        match v.as_str() {
            Some(s) => strs.push(s.to_string()),
            None => {
                return Err(FunctionError::at(
                    0,
                    format!("given list element {i} is null; a null string cannot be sorted"),
                ))
            }
        }
    }
    strs.sort();
    Ok(Value::List(strs.into_iter().map(Value::String).collect()))
}

fn compact(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::List(a.list(0).iter().filter(|v| v.as_str().is_some_and(|s| !s.is_empty())).cloned().collect()))
}

fn one(a: Args) -> Result<Value, FunctionError> {
    match a.list(0) {
        [] => Ok(Value::Null),
        [only] => Ok(only.clone()),
        more => Err(FunctionError::at(
            0,
            format!("must be a list, set, or tuple value with either zero or one elements, got {}", more.len()),
        )),
    }
}

fn alltrue(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::Bool(a.list(0).iter().all(|v| v.as_bool() == Some(true))))
}

fn anytrue(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::Bool(a.list(0).iter().any(|v| v.as_bool() == Some(true))))
}

fn setunion(a: Args) -> Result<Value, FunctionError> {
    let all: Vec<Value> = (0..a.len()).flat_map(|i| a.list(i).iter().cloned()).collect();
    Ok(Value::set(all))
}

fn setintersection(a: Args) -> Result<Value, FunctionError> {
    let keep: Vec<Value> = a
        .list(0)
        .iter()
        .filter(|v| (1..a.len()).all(|i| a.list(i).iter().any(|w| values_equal(v, w))))
        .cloned()
        .collect();
    Ok(Value::set(keep))
}

fn setsubtract(a: Args) -> Result<Value, FunctionError> {
    let keep: Vec<Value> =
        a.list(0).iter().filter(|v| !a.list(1).iter().any(|w| values_equal(v, w))).cloned().collect();
    Ok(Value::set(keep))
}

/// A guard against a typo turning into an out-of-memory abort.
const PRODUCT_MAX: usize = 1 << 20;

/// Every combination of one element from each argument, as lists; the result is a list when
/// every argument is a list (or tuple), and a set otherwise.
fn setproduct(a: Args) -> Result<Value, FunctionError> {
    if a.len() < 2 {
        return Err(FunctionError::new("at least two arguments are required"));
    }
    let mut all_lists = true;
    for (i, v) in a.vals.iter().enumerate() {
        match v {
            Value::List(_) => {}
            Value::Set(_) => all_lists = false,
            other => {
                return Err(FunctionError::at(
                    i,
                    format!("argument {} must be a list or set, got {}", i + 1, other.type_name()),
                ))
            }
        }
    }
    let total = (0..a.len()).try_fold(1usize, |acc, i| acc.checked_mul(a.list(i).len()));
    if total.is_none_or(|t| t > PRODUCT_MAX) {
        return Err(FunctionError::new(format!("the product would have more than {PRODUCT_MAX} elements")));
    }
    let mut combos: Vec<Vec<Value>> = vec![Vec::new()];
    for i in 0..a.len() {
        let items = a.list(i);
        let mut next = Vec::with_capacity(combos.len() * items.len());
        for combo in &combos {
            for item in items {
                let mut c = combo.clone();
                c.push(item.clone());
                next.push(c);
            }
        }
        combos = next;
    }
    let rows: Vec<Value> = combos.into_iter().map(Value::List).collect();
    Ok(if all_lists { Value::List(rows) } else { Value::set(rows) })
}

fn chunklist(a: Args) -> Result<Value, FunctionError> {
    let items = a.list(0);
    let size = a.int(1)?;
    if size < 0 {
        return Err(FunctionError::at(1, "the size argument must be positive"));
    }
    if size == 0 {
        return Ok(Value::List(vec![Value::List(items.to_vec())]));
    }
    Ok(Value::List(items.chunks(size as usize).map(|c| Value::List(c.to_vec())).collect()))
}

fn sum(a: Args) -> Result<Value, FunctionError> {
    let items = a.list(0);
    if items.is_empty() {
        return Err(FunctionError::at(0, "cannot sum an empty list"));
    }
    let mut total = 0.0;
    for (i, v) in items.iter().enumerate() {
        match v.as_f64() {
            Some(n) => total += n,
            None => return Err(FunctionError::at(0, format!("element {i} is null; cannot sum null values"))),
        }
    }
    if !total.is_finite() {
        return Err(FunctionError::new("the result is not a finite number"));
    }
    Ok(Value::Number(total))
}

/// Swaps keys and values of a map of lists of strings.
fn transpose(a: Args) -> Result<Value, FunctionError> {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (k, list) in map_arg(&a, 0) {
        for (i, v) in list.as_list().unwrap_or_default().iter().enumerate() {
            let Some(v) = v.as_str() else {
                return Err(FunctionError::at(0, format!("element {i} of {} is null", a.show(&k))));
            };
            out.entry(v.to_string()).or_default().push(Value::String(k.clone()));
        }
    }
    Ok(Value::Map(out.into_iter().map(|(k, v)| (k, Value::List(v))).collect()))
}

fn matchkeys(a: Args) -> Result<Value, FunctionError> {
    let (vals, ks, search) = (a.list(0), a.list(1), a.list(2));
    if vals.len() != ks.len() {
        return Err(FunctionError::at(
            1,
            format!("length of keys ({}) and values ({}) should be equal", ks.len(), vals.len()),
        ));
    }
    Ok(Value::List(
        vals.iter()
            .zip(ks)
            .filter(|(_, k)| search.iter().any(|s| values_equal(k, s)))
            .map(|(v, _)| v.clone())
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use crate::value::Value;

    fn nl(xs: &[f64]) -> Value {
        l(xs.iter().map(|x| n(*x)).collect())
    }

    #[test]
    fn length_of_everything() {
        assert_eq!(ok("length", vec![sl(&["a", "b"])]), n(2.0));
        assert_eq!(ok("length", vec![m(vec![("a", n(1.0))])]), n(1.0));
        assert_eq!(ok("length", vec![s("hello")]), n(5.0));
        assert_eq!(ok("length", vec![s("💃🏿é")]), n(2.0), "grapheme clusters");
        assert_eq!(ok("length", vec![s("")]), n(0.0));
        assert_eq!(ok("length", vec![Value::set(vec![s("a"), s("a")])]), n(1.0));
        assert_eq!(ok("length", vec![l(vec![Value::Unknown, Value::Unknown])]), n(2.0));
        assert_eq!(err("length", vec![n(5.0)]), "length: argument 1 must be a string, list, set or map, got number");
        assert_eq!(err("length", vec![Value::Null]), "length: argument 1 must not be null");
    }

    #[test]
    fn keys_values_lookup() {
        let mp = m(vec![("b", n(2.0)), ("a", n(1.0)), ("c", n(3.0))]);
        assert_eq!(ok("keys", vec![mp.clone()]), sl(&["a", "b", "c"]));
        assert_eq!(ok("values", vec![mp.clone()]), nl(&[1.0, 2.0, 3.0]));
        assert_eq!(err("keys", vec![sl(&["a"])]), "keys: argument 1 must be a map or object, got list");
        assert_eq!(ok("lookup", vec![mp.clone(), s("a")]), n(1.0));
        assert_eq!(ok("lookup", vec![mp.clone(), s("z"), s("what?")]), s("what?"));
        assert_eq!(ok("lookup", vec![mp.clone(), s("z"), Value::Null]), Value::Null);
        assert_eq!(ok("lookup", vec![mp.clone(), s("a"), Value::Unknown]), n(1.0));
        let e = try_call("lookup", vec![mp, s("z")]).unwrap_err();
        assert_eq!(e.message, "lookup: the given key \"z\" does not exist in the map, and no default was given");
        assert_eq!(e.arg, Some(1));
    }

    #[test]
    fn merge_precedence() {
        assert_eq!(
            ok("merge", vec![m(vec![("a", s("b")), ("c", s("d"))]), m(vec![("e", s("f")), ("c", s("z"))]),]),
            m(vec![("a", s("b")), ("c", s("z")), ("e", s("f"))])
        );
        assert_eq!(
            ok("merge", vec![m(vec![("a", n(1.0))]), Value::Null, m(vec![("a", m(vec![]))])]),
            m(vec![("a", m(vec![]))]),
            "later wins even with a different type; nulls skipped"
        );
        assert_eq!(ok("merge", vec![]), m(vec![]));
        let e = try_call("merge", vec![m(vec![]), sl(&["x"])]).unwrap_err();
        assert_eq!(e.message, "merge: argument 2 must be a map or object, got list");
        assert_eq!(e.arg, Some(1));
        assert_eq!(ok("merge", vec![m(vec![]), Value::Unknown]), Value::Unknown);
        assert_eq!(ok("merge", vec![m(vec![("a", Value::Unknown)])]), m(vec![("a", Value::Unknown)]));
    }

    #[test]
    fn concat_contains_coalesce() {
        assert_eq!(ok("concat", vec![sl(&["a", ""]), sl(&["b", "c"])]), sl(&["a", "", "b", "c"]));
        assert_eq!(ok("concat", vec![Value::set(vec![s("b"), s("a")]), sl(&["c"])]), sl(&["a", "b", "c"]));
        assert_eq!(ok("contains", vec![sl(&["a", "b", "c"]), s("a")]), b(true));
        assert_eq!(ok("contains", vec![sl(&["a", "b", "c"]), s("d")]), b(false));
        assert_eq!(ok("contains", vec![l(vec![m(vec![("k", n(1.0))])]), m(vec![("k", n(1.0))])]), b(true));
        assert_eq!(ok("contains", vec![l(vec![Value::Unknown]), s("a")]), Value::Unknown);
        assert_eq!(ok("coalesce", vec![s("a"), s("b")]), s("a"));
        assert_eq!(ok("coalesce", vec![s(""), s("b")]), s("b"));
        assert_eq!(ok("coalesce", vec![Value::Null, n(1.0), n(2.0)]), n(1.0));
        assert_eq!(ok("coalesce", vec![n(1.0), s("b")]), s("1"), "unified to string");
        assert_eq!(ok("coalesce", vec![Value::Null, Value::Unknown, s("b")]), Value::Unknown);
        assert_eq!(ok("coalesce", vec![s("a"), Value::Unknown]), s("a"));
        assert_eq!(err("coalesce", vec![Value::Null, s("")]), "coalesce: no non-null, non-empty-string arguments");
        assert_eq!(ok("coalescelist", vec![sl(&[]), sl(&["c", "d"])]), sl(&["c", "d"]));
        assert_eq!(ok("coalescelist", vec![sl(&["a", "b"]), sl(&["c", "d"])]), sl(&["a", "b"]));
        assert_eq!(ok("coalescelist", vec![sl(&[]), Value::Unknown]), Value::Unknown);
        assert_eq!(err("coalescelist", vec![sl(&[])]), "coalescelist: no non-null, non-empty arguments");
    }

    #[test]
    fn flatten_deep() {
        assert_eq!(ok("flatten", vec![l(vec![sl(&["a", "b"]), sl(&[]), sl(&["c"])])]), sl(&["a", "b", "c"]));
        assert_eq!(
            ok("flatten", vec![l(vec![l(vec![s("a"), l(vec![s("b"), l(vec![s("c")])])]), s("d")])]),
            sl(&["a", "b", "c", "d"])
        );
        assert_eq!(
            ok("flatten", vec![l(vec![l(vec![m(vec![("k", s("v"))])]), Value::Null])]),
            l(vec![m(vec![("k", s("v"))]), Value::Null]),
            "maps and nulls are elements, not flattened"
        );
        assert_eq!(ok("flatten", vec![l(vec![l(vec![Value::Unknown])])]), Value::Unknown);
    }

    #[test]
    fn zipmap_distinct_element_index() {
        assert_eq!(
            ok("zipmap", vec![sl(&["a", "b"]), l(vec![n(1.0), Value::Unknown])]),
            m(vec![("a", n(1.0)), ("b", Value::Unknown)])
        );
        assert_eq!(
            err("zipmap", vec![sl(&["a", "b"]), nl(&[1.0])]),
            "zipmap: number of keys (2) does not match number of values (1)"
        );
        assert_eq!(ok("distinct", vec![sl(&["a", "b", "a", "c", "d", "b"])]), sl(&["a", "b", "c", "d"]));
        assert_eq!(ok("element", vec![sl(&["a", "b", "c"]), n(1.0)]), s("b"));
        assert_eq!(ok("element", vec![sl(&["a", "b", "c"]), n(3.0)]), s("a"), "wraps around");
        assert_eq!(ok("element", vec![l(vec![Value::Unknown, s("b")]), n(1.0)]), s("b"));
        assert_eq!(err("element", vec![sl(&[]), n(0.0)]), "element: cannot use element function with an empty list");
        assert_eq!(
            err("element", vec![sl(&["a"]), n(-1.0)]),
            "element: cannot use element function with a negative index"
        );
        assert_eq!(ok("index", vec![sl(&["a", "b", "c"]), s("b")]), n(1.0));
        assert_eq!(err("index", vec![sl(&["a"]), s("z")]), "index: item not found");
    }

    #[test]
    fn range_forms() {
        assert_eq!(ok("range", vec![n(3.0)]), nl(&[0.0, 1.0, 2.0]));
        assert_eq!(ok("range", vec![n(1.0), n(4.0)]), nl(&[1.0, 2.0, 3.0]));
        assert_eq!(ok("range", vec![n(1.0), n(8.0), n(2.0)]), nl(&[1.0, 3.0, 5.0, 7.0]));
        assert_eq!(ok("range", vec![n(4.0), n(1.0)]), nl(&[4.0, 3.0, 2.0]));
        assert_eq!(ok("range", vec![n(10.0), n(5.0), n(-2.0)]), nl(&[10.0, 8.0, 6.0]));
        assert_eq!(ok("range", vec![n(0.0), n(1.0), n(0.25)]), nl(&[0.0, 0.25, 0.5, 0.75]));
        assert_eq!(ok("range", vec![n(0.0)]), nl(&[]));
        assert_eq!(ok("range", vec![n(1.0), n(4.0), n(-1.0)]), nl(&[]), "step away from the limit");
        assert_eq!(err("range", vec![n(1.0), n(4.0), n(0.0)]), "range: step must not be zero");
        assert!(err("range", vec![n(2000.0)]).starts_with("range: more than 1024 values"));
        assert_eq!(
            err("range", vec![]),
            "range: expected 1 to 3 arguments, got 0; usage: range([start,] limit[, step])"
        );
    }

    #[test]
    fn reverse_slice_sort_compact() {
        assert_eq!(ok("reverse", vec![nl(&[1.0, 2.0, 3.0])]), nl(&[3.0, 2.0, 1.0]));
        assert_eq!(ok("slice", vec![sl(&["a", "b", "c", "d"]), n(1.0), n(3.0)]), sl(&["b", "c"]));
        assert_eq!(ok("slice", vec![sl(&["a"]), n(1.0), n(1.0)]), sl(&[]));
        assert_eq!(
            err("slice", vec![sl(&["a"]), n(0.0), n(2.0)]),
            "slice: end index must not be greater than the length of the list (1)"
        );
        assert_eq!(
            err("slice", vec![sl(&["a", "b"]), n(2.0), n(1.0)]),
            "slice: start index must not be greater than end index"
        );
        assert_eq!(err("slice", vec![sl(&["a"]), n(-1.0), n(1.0)]), "slice: start index must not be less than zero");
        assert_eq!(ok("sort", vec![sl(&["e", "d", "a", "x"])]), sl(&["a", "d", "e", "x"]));
        assert_eq!(ok("sort", vec![nl(&[3.0, 10.0, 1.0])]), sl(&["1", "10", "3"]), "lexical, like Terraform");
        assert_eq!(ok("sort", vec![l(vec![s("b"), Value::Unknown])]), Value::Unknown);
        assert_eq!(ok("compact", vec![l(vec![s("a"), s(""), Value::Null, s("b")])]), sl(&["a", "b"]));
    }

    #[test]
    fn one_alltrue_anytrue() {
        assert_eq!(ok("one", vec![sl(&[])]), Value::Null);
        assert_eq!(ok("one", vec![sl(&["hello"])]), s("hello"));
        assert_eq!(
            err("one", vec![sl(&["a", "b"])]),
            "one: must be a list, set, or tuple value with either zero or one elements, got 2"
        );
        assert_eq!(ok("alltrue", vec![sl(&["true", "true"])]), b(true));
        assert_eq!(ok("alltrue", vec![l(vec![b(true), b(false)])]), b(false));
        assert_eq!(ok("alltrue", vec![sl(&[])]), b(true));
        assert_eq!(ok("anytrue", vec![l(vec![b(false), b(true)])]), b(true));
        assert_eq!(ok("anytrue", vec![sl(&[])]), b(false));
        assert_eq!(
            err("alltrue", vec![sl(&["yes"])]),
            "alltrue: argument 1 must be a list of bools; at [0]: a bool is required, got the string \"yes\""
        );
    }

    #[test]
    fn set_algebra() {
        assert_eq!(
            ok("setunion", vec![sl(&["a", "b"]), sl(&["b", "c"]), sl(&["d"])]),
            Value::set(vec![s("a"), s("b"), s("c"), s("d")])
        );
        assert_eq!(
            ok("setintersection", vec![sl(&["a", "b"]), sl(&["b", "c"]), sl(&["b", "d"])]),
            Value::set(vec![s("b")])
        );
        assert_eq!(ok("setsubtract", vec![sl(&["a", "b", "c"]), sl(&["a", "c"])]), Value::set(vec![s("b")]));
        assert_eq!(
            ok("setproduct", vec![sl(&["development", "staging"]), sl(&["app1", "app2"])]),
            l(vec![
                sl(&["development", "app1"]),
                sl(&["development", "app2"]),
                sl(&["staging", "app1"]),
                sl(&["staging", "app2"]),
            ])
        );
        assert_eq!(
            ok("setproduct", vec![Value::set(vec![s("a")]), sl(&["x", "y"])]),
            Value::set(vec![sl(&["a", "x"]), sl(&["a", "y"])])
        );
        assert_eq!(ok("setproduct", vec![sl(&["a"]), sl(&[])]), l(vec![]));
        assert_eq!(
            err("setproduct", vec![sl(&["a"])]),
            "setproduct: expected at least 2 arguments, got 1; usage: setproduct(sets...)"
        );
    }

    #[test]
    fn chunklist_sum_transpose_matchkeys() {
        assert_eq!(
            ok("chunklist", vec![sl(&["a", "b", "c", "d", "e"]), n(2.0)]),
            l(vec![sl(&["a", "b"]), sl(&["c", "d"]), sl(&["e"])])
        );
        assert_eq!(ok("chunklist", vec![sl(&["a", "b"]), n(0.0)]), l(vec![sl(&["a", "b"])]));
        assert_eq!(err("chunklist", vec![sl(&["a"]), n(-1.0)]), "chunklist: the size argument must be positive");
        assert_eq!(ok("sum", vec![nl(&[10.0, 13.0, 6.0, 4.5])]), n(33.5));
        assert_eq!(ok("sum", vec![sl(&["1", "2"])]), n(3.0));
        assert_eq!(err("sum", vec![nl(&[])]), "sum: cannot sum an empty list");
        assert_eq!(
            ok("transpose", vec![m(vec![("a", sl(&["1", "2"])), ("b", sl(&["2", "3"]))])]),
            m(vec![("1", sl(&["a"])), ("2", sl(&["a", "b"])), ("3", sl(&["b"]))])
        );
        assert_eq!(
            ok(
                "matchkeys",
                vec![sl(&["i-123", "i-abc", "i-def"]), sl(&["us-west", "us-east", "us-east"]), sl(&["us-east"])]
            ),
            sl(&["i-abc", "i-def"])
        );
        assert_eq!(
            err("matchkeys", vec![sl(&["a"]), sl(&[]), sl(&[])]),
            "matchkeys: length of keys (0) and values (1) should be equal"
        );
    }
}

//! Attribute-level comparisons between a prior state and a planned value, used by resource
//! `plan` refinements (which computed attributes become unknown) and by `update` (what really
//! changed, so only the necessary work is done).
//!
//! Comparisons ignore sensitive marks; an unknown planned value always counts as a change.

use tenantform_engine::value::Value;

/// True when the attribute differs between `prior` and `planned` (unknown counts as changed).
pub fn changed(prior: &Value, planned: &Value, name: &str) -> bool {
    let p = prior.get(name).map(|v| v.clone().unmark_deep()).unwrap_or(Value::Null);
    let n = planned.get(name).map(|v| v.clone().unmark_deep()).unwrap_or(Value::Null);
    !n.is_wholly_known() || p != n
}

/// True when any of the named attributes changed.
pub fn any_changed(prior: &Value, planned: &Value, names: &[&str]) -> bool {
    names.iter().any(|n| changed(prior, planned, n))
}

/// Sets a top-level attribute of an object value (no-op on non-objects).
pub fn set(value: &mut Value, name: &str, v: Value) {
    if let Value::Map(m) = value {
        m.insert(name.to_string(), v);
    } else if let Value::Sensitive(inner) = value {
        set(inner, name, v);
    }
}

/// Marks the named attributes unknown ("known after apply").
pub fn mark_unknown(value: &mut Value, names: &[&str]) {
    for n in names {
        set(value, n, Value::Unknown);
    }
}

/// Copies the named attributes from `from` into `to` (used to carry computed values over).
pub fn copy(from: &Value, to: &mut Value, names: &[&str]) {
    for n in names {
        if let Some(v) = from.get(n) {
            set(to, n, v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_ignore_marks_and_count_unknowns() {
        let prior = Value::map([("a", Value::string("x")), ("b", Value::number(1))]);
        let mut planned = Value::map([("a", Value::string("x").mark_sensitive()), ("b", Value::number(2))]);
        assert!(!changed(&prior, &planned, "a"));
        assert!(changed(&prior, &planned, "b"));
        assert!(!changed(&prior, &planned, "missing"));
        mark_unknown(&mut planned, &["a"]);
        assert!(changed(&prior, &planned, "a"));
        assert!(any_changed(&prior, &planned, &["missing", "a"]));
        copy(&prior, &mut planned, &["a"]);
        assert_eq!(planned.get("a"), Some(&Value::string("x")));
    }
}

//! The schema-driven diff: the proposed new state of an object, the attributes that change,
//! and whether the change can happen in place. Providers may refine a proposal, but the
//! update-vs-replace decision is made here from the schema (force-new attributes and
//! blocks), never by provider code alone.

use std::collections::BTreeMap;

use crate::eval::values_equal;
use crate::provider::{AttrKind, Nesting, Schema};
use crate::value::{AttrPath, PathStep, Value};

/// The proposed new state for an existing object: what the configuration sets; for
/// attributes it leaves unset, the prior value when the attribute is computed (the provider
/// owns it) and null otherwise; attributes listed in `ignore_changes` keep their prior value.
pub fn proposed(schema: &Schema, config: &Value, prior: &Value, ignore: &[String], ignore_all: bool) -> Value {
    let (Some(cfg), Some(pri)) = (config.as_map(), prior.as_map()) else { return config.clone() };
    let mut out = BTreeMap::new();
    for (name, a) in &schema.attributes {
        let c = cfg.get(name).cloned().unwrap_or(Value::Null);
        let p = pri.get(name).cloned().unwrap_or(Value::Null);
        let v = if ignore_all || ignore.iter().any(|i| i == name) {
            p
        } else if a.kind == AttrKind::Computed {
            p
        } else if c.is_null() && a.kind == AttrKind::OptionalComputed {
            p
        } else {
            c
        };
        out.insert(name.clone(), v);
    }
    for (name, b) in &schema.blocks {
        let c = cfg.get(name).cloned().unwrap_or(Value::Null);
        let p = pri.get(name).cloned().unwrap_or(Value::Null);
        let v = if ignore_all || ignore.iter().any(|i| i == name) {
            p
        } else {
            match (b.nesting, &c, &p) {
                (Nesting::Single, Value::Map(_), Value::Map(_)) => proposed(&b.schema, &c, &p, &[], false),
                (Nesting::List, Value::List(cs), Value::List(ps)) => Value::List(
                    cs.iter()
                        .enumerate()
                        .map(|(i, ci)| match ps.get(i) {
                            Some(pi) => proposed(&b.schema, ci, pi, &[], false),
                            None => ci.clone(),
                        })
                        .collect(),
                ),
                _ => c,
            }
        };
        out.insert(name.clone(), v);
    }
    Value::Map(out)
}

/// Attribute paths whose value differs between `before` and `after` (marks ignored; an
/// unknown `after` counts as a change). Nested blocks are compared attribute by attribute.
pub fn changed_paths(schema: &Schema, before: &Value, after: &Value) -> Vec<AttrPath> {
    let mut out = Vec::new();
    walk_changes(schema, before, after, &mut Vec::new(), &mut out);
    out
}

fn differs(a: &Value, b: &Value) -> bool {
    if !b.is_wholly_known() {
        return true;
    }
    !values_equal(a, b)
}

fn walk_changes(schema: &Schema, before: &Value, after: &Value, prefix: &mut AttrPath, out: &mut Vec<AttrPath>) {
    let empty = BTreeMap::new();
    let bm = before.as_map().unwrap_or(&empty);
    let Some(am) = after.as_map() else {
        if differs(before, after) {
            out.push(prefix.clone());
        }
        return;
    };
    for name in schema.attributes.keys() {
        let b = bm.get(name).unwrap_or(&Value::Null);
        let a = am.get(name).unwrap_or(&Value::Null);
        if differs(b, a) {
            let mut p = prefix.clone();
            p.push(PathStep::Key(name.clone()));
            out.push(p);
        }
    }
    for (name, bs) in &schema.blocks {
        let b = bm.get(name).unwrap_or(&Value::Null);
        let a = am.get(name).unwrap_or(&Value::Null);
        prefix.push(PathStep::Key(name.clone()));
        match (bs.nesting, b.unmarked().0, a.unmarked().0) {
            (Nesting::Single, Value::Map(_), Value::Map(_)) => walk_changes(&bs.schema, b, a, prefix, out),
            (Nesting::List, Value::List(bl), Value::List(al)) if bl.len() == al.len() => {
                for (i, (bi, ai)) in bl.iter().zip(al).enumerate() {
                    prefix.push(PathStep::Index(i));
                    walk_changes(&bs.schema, bi, ai, prefix, out);
                    prefix.pop();
                }
            }
            _ => {
                if differs(b, a) {
                    out.push(prefix.clone());
                }
            }
        }
        prefix.pop();
    }
}

/// The changed paths that force replacement: force-new attributes, anything inside a
/// force-new block, and whatever the provider asked for.
pub fn replace_paths(schema: &Schema, changed: &[AttrPath], provider_asked: &[AttrPath]) -> Vec<AttrPath> {
    let mut out: Vec<AttrPath> = changed.iter().filter(|p| forces_new(schema, p)).cloned().collect();
    for p in provider_asked {
        if !out.contains(p) {
            out.push(p.clone());
        }
    }
    out
}

fn forces_new(schema: &Schema, path: &[PathStep]) -> bool {
    let Some((PathStep::Key(first), rest)) = path.split_first() else { return false };
    if let Some(a) = schema.attributes.get(first) {
        return a.force_new;
    }
    if let Some(b) = schema.blocks.get(first) {
        if b.force_new {
            return true;
        }
        let rest = match (b.nesting, rest.first()) {
            (Nesting::List, Some(PathStep::Index(_))) => &rest[1..],
            _ => rest,
        };
        return !rest.is_empty() && forces_new(&b.schema, rest);
    }
    false
}

/// Copies sensitive marks from the configuration onto a provider's (unmarked) value, so that
/// a value derived from a sensitive input stays sensitive in plans and state.
pub fn copy_config_marks(config: &Value, target: Value) -> Value {
    let paths = config.sensitive_paths();
    if paths.is_empty() {
        target
    } else {
        target.mark_paths(&paths)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{AttributeSchema, BlockSchema};
    use crate::types::Type;

    fn schema() -> Schema {
        Schema::new()
            .attr("name", AttributeSchema::required(Type::String).force_new())
            .attr("plan", AttributeSchema::optional(Type::String))
            .attr("id", AttributeSchema::computed(Type::String))
            .attr("port", AttributeSchema::optional_computed(Type::Number))
            .block(
                "limits",
                BlockSchema {
                    nesting: Nesting::Single,
                    schema: Schema::new().attr("cpu", AttributeSchema::optional(Type::String).force_new()),
                    min_items: 0,
                    max_items: None,
                    force_new: false,
                },
            )
    }

    fn obj(name: &str, plan: &str, id: Value, port: Value, cpu: &str) -> Value {
        Value::map([
            ("name", Value::string(name)),
            ("plan", Value::string(plan)),
            ("id", id),
            ("port", port),
            ("limits", Value::map([("cpu", Value::string(cpu))])),
        ])
    }

    #[test]
    fn proposal_keeps_computed_values() {
        let prior = obj("a", "pro", Value::string("id-1"), Value::number(80), "1");
        let config = obj("a", "starter", Value::Null, Value::Null, "1");
        let p = proposed(&schema(), &config, &prior, &[], false);
        assert_eq!(p.get("id"), Some(&Value::string("id-1")));
        assert_eq!(p.get("port"), Some(&Value::number(80)));
        assert_eq!(p.get("plan"), Some(&Value::string("starter")));
        let changed = changed_paths(&schema(), &prior, &p);
        assert_eq!(changed, vec![vec![PathStep::Key("plan".into())]]);
        assert!(replace_paths(&schema(), &changed, &[]).is_empty());
    }

    #[test]
    fn force_new_attributes_and_nested_blocks_replace() {
        let prior = obj("a", "pro", Value::string("id-1"), Value::number(80), "1");
        let config = obj("b", "pro", Value::Null, Value::Null, "2");
        let p = proposed(&schema(), &config, &prior, &[], false);
        let changed = changed_paths(&schema(), &prior, &p);
        let r = replace_paths(&schema(), &changed, &[]);
        assert_eq!(r.len(), 2, "{r:?}");
        // Unknown counts as a change.
        let config = obj("a", "pro", Value::Null, Value::Null, "1");
        let mut p = proposed(&schema(), &config, &prior, &[], false);
        if let Value::Map(m) = &mut p {
            m.insert("name".into(), Value::Unknown);
        }
        assert_eq!(replace_paths(&schema(), &changed_paths(&schema(), &prior, &p), &[]).len(), 1);
    }

    #[test]
    fn ignore_changes_keeps_prior() {
        let prior = obj("a", "pro", Value::string("id-1"), Value::number(80), "1");
        let config = obj("a", "starter", Value::Null, Value::Null, "1");
        let p = proposed(&schema(), &config, &prior, &["plan".into()], false);
        assert!(changed_paths(&schema(), &prior, &p).is_empty());
    }

    #[test]
    fn marks_follow_the_config() {
        let config = Value::map([("password", Value::string("x").mark_sensitive())]);
        let out =
            copy_config_marks(&config, Value::map([("password", Value::string("x")), ("id", Value::string("1"))]));
        assert!(out.get("password").unwrap().is_sensitive());
        assert!(!out.get("id").unwrap().is_sensitive());
    }
}

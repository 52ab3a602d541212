//! Schema-driven conversion between our resource values (snake_case attributes and nested
//! blocks, as in the Terraform google provider) and Google's JSON (camelCase fields).
//!
//! Most Google fields are the camelCase of the Terraform attribute name, so one walk over the
//! [`Schema`] does the work; the few exceptions (`replication.auto` ↔ `automatic`) come as a
//! rename table. What cannot be expressed generically — output-only structures such as
//! `terminal_condition`, int64-as-string counters — is handled by the resource that owns it.
//!
//! Rules: `to_api` sends settable attributes that are set (null and unknown are omitted;
//! computed-only attributes are never sent); a `Single` block becomes an object (an empty
//! block `{}` stays `{}`: `auto {}` means something), a `List` block an array. `from_api`
//! produces a value of the same shape the engine decodes from configuration: every attribute
//! present (null when the API omits it), `Single` blocks null or an object, `List` blocks a
//! list.
//!
//! Google answers in proto3 JSON, which omits every field at its default value (`0`, `false`,
//! `""`, an empty list or map). An omitted field therefore reads as its default wherever the
//! reference value (the plan or the prior state) holds that default — so a configured
//! `min_instance_count = 0` stays `0` rather than turning into null and diffing on every
//! plan — and as null otherwise (an optional attribute the user left unset stays unset),
//! except a computed number or flag, which reads as `0` / `false` even without a reference
//! (an import, a create's unknown): the server decided it, and omitted means zero.

use std::collections::BTreeMap;

use serde_json::{Map as JsonMap, Value as Json};
use tenantform_engine::provider::{Nesting, Schema};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

/// Attribute or block names whose API field is not the plain camelCase (`("auto", "automatic")`).
pub type Renames = &'static [(&'static str, &'static str)];

/// `max_instance_count` → `maxInstanceCount`.
pub fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn api_name(name: &str, renames: Renames) -> String {
    renames.iter().find(|(ours, _)| *ours == name).map(|(_, api)| api.to_string()).unwrap_or_else(|| camel(name))
}

/// Converts a resource value (or a nested block's value) to the API's JSON object, skipping
/// the attributes and blocks named in `skip` at this level (handled by the caller).
pub fn to_api(schema: &Schema, value: &Value, renames: Renames, skip: &[&str]) -> Json {
    let mut out = JsonMap::new();
    let (value, _) = value.unmarked();
    let Some(m) = value.as_map() else { return Json::Object(out) };
    for (name, a) in &schema.attributes {
        if skip.contains(&name.as_str()) || !a.is_settable() {
            continue;
        }
        if let Some(j) = m.get(name).and_then(primitive_to_json) {
            out.insert(api_name(name, renames), j);
        }
    }
    for (name, b) in &schema.blocks {
        if skip.contains(&name.as_str()) {
            continue;
        }
        let Some(v) = m.get(name) else { continue };
        match (b.nesting, v.unmarked().0) {
            (Nesting::Single, x @ Value::Map(_)) => {
                out.insert(api_name(name, renames), to_api(&b.schema, x, renames, &[]));
            }
            (Nesting::List, Value::List(items)) if !items.is_empty() => {
                let arr = items.iter().map(|i| to_api(&b.schema, i, renames, &[])).collect();
                out.insert(api_name(name, renames), Json::Array(arr));
            }
            _ => {}
        }
    }
    Json::Object(out)
}

/// JSON for a known attribute value; `None` for null and unknown.
pub fn primitive_to_json(v: &Value) -> Option<Json> {
    let (v, _) = v.unmarked();
    match v {
        Value::Null | Value::Unknown => None,
        Value::Bool(b) => Some(Json::Bool(*b)),
        Value::Number(n) => {
            if n.fract() == 0.0 && n.abs() < 9.0e15 {
                Some(Json::from(*n as i64))
            } else {
                serde_json::Number::from_f64(*n).map(Json::Number)
            }
        }
        Value::String(s) => Some(Json::String(s.clone())),
        Value::List(items) | Value::Set(items) => {
            Some(Json::Array(items.iter().filter_map(primitive_to_json).collect()))
        }
        Value::Map(m) => {
            Some(Json::Object(m.iter().filter_map(|(k, v)| primitive_to_json(v).map(|j| (k.clone(), j))).collect()))
        }
        Value::Sensitive(inner) => primitive_to_json(inner),
    }
}

/// Converts an API JSON object to a value of `schema`'s shape. Attributes of types this walk
/// cannot map (lists of objects) are left null for the caller to fill. Without a reference, an
/// omitted field reads as null; see [`from_api_with`].
pub fn from_api(schema: &Schema, json: &Json, renames: Renames) -> Value {
    from_api_with(schema, json, renames, &Value::Null)
}

/// [`from_api`], reading a field the API omitted (proto3 JSON leaves out default values) as
/// its default when `reference` (the plan or prior state, same shape) holds that default at
/// the same place, and as null otherwise. List blocks are matched index by index.
pub fn from_api_with(schema: &Schema, json: &Json, renames: Renames, reference: &Value) -> Value {
    let empty = JsonMap::new();
    let obj = json.as_object().unwrap_or(&empty);
    let reference = reference.unmarked().0;
    let at = |name: &str| reference.get(name).map(|v| v.unmarked().0).unwrap_or(&Value::Null);
    let mut out = BTreeMap::new();
    for (name, a) in &schema.attributes {
        let v = match obj.get(&api_name(name, renames)) {
            Some(j) if !j.is_null() => json_to_value(j, &a.ty),
            _ if is_proto_default(at(name)) => at(name).clone(),
            // A number or flag the server decides (computed) and omits *is* zero / false:
            // nothing else is left out of proto3 JSON. This is what an import (no reference)
            // or a create (the plan says "known after apply") must read.
            _ if a.is_computed() && a.ty == Type::Number => Value::number(0),
            _ if a.is_computed() && a.ty == Type::Bool => Value::Bool(false),
            _ => Value::Null,
        };
        out.insert(name.clone(), v);
    }
    for (name, b) in &schema.blocks {
        let j = obj.get(&api_name(name, renames));
        let r = at(name);
        let v = match (b.nesting, j) {
            (Nesting::Single, Some(j @ Json::Object(_))) => from_api_with(&b.schema, j, renames, r),
            (Nesting::Single, _) => Value::Null,
            (Nesting::List, Some(Json::Array(items))) => {
                let refs = r.as_list().unwrap_or(&[]);
                Value::List(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| from_api_with(&b.schema, item, renames, refs.get(i).unwrap_or(&Value::Null)))
                        .collect(),
                )
            }
            (Nesting::List, _) => Value::List(Vec::new()),
        };
        out.insert(name.clone(), v);
    }
    Value::Map(out)
}

/// Whether a value is what proto3 JSON leaves out: `0`, `false`, `""`, an empty list, set or map.
pub fn is_proto_default(v: &Value) -> bool {
    match v.unmarked().0 {
        Value::Number(n) => *n == 0.0,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::List(items) | Value::Set(items) => items.is_empty(),
        Value::Map(m) => m.is_empty(),
        _ => false,
    }
}

/// A JSON value as a value of type `ty` (int64 strings become numbers where a number is
/// wanted; numbers become strings where a string is wanted).
pub fn json_to_value(j: &Json, ty: &Type) -> Value {
    match (ty, j) {
        (_, Json::Null) => Value::Null,
        (Type::String, Json::String(s)) => Value::string(s.as_str()),
        (Type::String, Json::Number(n)) => Value::string(n.to_string()),
        (Type::String, Json::Bool(b)) => Value::string(b.to_string()),
        (Type::Number, Json::Number(n)) => n.as_f64().map(Value::number).unwrap_or(Value::Null),
        (Type::Number, Json::String(s)) => s.parse::<f64>().map(Value::number).unwrap_or(Value::Null),
        (Type::Bool, Json::Bool(b)) => Value::Bool(*b),
        (Type::Map(inner), Json::Object(m)) => {
            Value::Map(m.iter().map(|(k, v)| (k.clone(), json_to_value(v, inner))).collect())
        }
        (Type::List(inner), Json::Array(items)) => Value::List(items.iter().map(|i| json_to_value(i, inner)).collect()),
        (Type::Set(inner), Json::Array(items)) => Value::set(items.iter().map(|i| json_to_value(i, inner)).collect()),
        (Type::Object(attrs), Json::Object(m)) => Value::Map(
            attrs
                .iter()
                .map(|(k, a)| (k.clone(), m.get(&camel(k)).map(|v| json_to_value(v, &a.ty)).unwrap_or(Value::Null)))
                .collect(),
        ),
        (Type::Any, other) => Value::from_json(other),
        _ => Value::Null,
    }
}

/// Keeps out of `read` the blocks the API fills with defaults when the user configured none:
/// for each path (block names from the top), a block that is null/empty in `reference` (the
/// prior state or the plan) is reset to null/empty in `read`. Lists are matched index by index.
/// This is how a server default (`ports`, `resources`, `traffic`) stays out of the diff without
/// hiding drift in anything the user did configure.
pub fn drop_unconfigured_blocks(schema: &Schema, read: &mut Value, reference: &Value, paths: &[&[&str]]) {
    for p in paths {
        drop_path(schema, read, reference, p);
    }
}

fn drop_path(schema: &Schema, read: &mut Value, reference: &Value, path: &[&str]) {
    let Some((first, rest)) = path.split_first() else { return };
    let Some(b) = schema.blocks.get(*first) else { return };
    let Value::Map(rm) = read else { return };
    let refv = reference.get(first).map(|v| v.unmarked().0).unwrap_or(&Value::Null);
    let Some(slot) = rm.get_mut(*first) else { return };
    if rest.is_empty() {
        let configured = match refv {
            Value::Null => false,
            Value::List(items) => !items.is_empty(),
            Value::Unknown => true,
            _ => true,
        };
        if !configured {
            *slot = match b.nesting {
                Nesting::Single => Value::Null,
                Nesting::List => Value::List(Vec::new()),
            };
        }
        return;
    }
    match (b.nesting, slot) {
        (Nesting::Single, s @ Value::Map(_)) => drop_path(&b.schema, s, refv, rest),
        (Nesting::List, Value::List(items)) => {
            let refs = refv.as_list().unwrap_or(&[]);
            for (i, item) in items.iter_mut().enumerate() {
                drop_path(&b.schema, item, refs.get(i).unwrap_or(&Value::Null), rest);
            }
        }
        _ => {}
    }
}

/// The counterpart of [`drop_unconfigured_blocks`] at plan time: a server-defaulted block the
/// configuration leaves out but the prior state holds (an imported object keeps every block
/// the API returns) is planned as it is, so leaving it out of the configuration is no change
/// (Terraform's optional+computed blocks).
pub fn keep_unconfigured_blocks(
    schema: &Schema,
    planned: &mut Value,
    config: &Value,
    prior: &Value,
    paths: &[&[&str]],
) {
    for p in paths {
        keep_path(schema, planned, config, prior, p);
    }
}

fn present(v: &Value) -> bool {
    match v {
        Value::Null | Value::Unknown => false,
        Value::List(items) => !items.is_empty(),
        _ => true,
    }
}

fn keep_path(schema: &Schema, planned: &mut Value, config: &Value, prior: &Value, path: &[&str]) {
    let Some((first, rest)) = path.split_first() else { return };
    let Some(b) = schema.blocks.get(*first) else { return };
    let cfg = config.get(first).map(|v| v.unmarked().0).unwrap_or(&Value::Null);
    let pri = prior.get(first).map(|v| v.unmarked().0).unwrap_or(&Value::Null);
    let Value::Map(pm) = planned else { return };
    let Some(slot) = pm.get_mut(*first) else { return };
    if rest.is_empty() {
        if !present(cfg) && present(pri) && !slot.is_unknown() {
            *slot = pri.clone();
        }
        return;
    }
    match (b.nesting, slot) {
        (Nesting::Single, s @ Value::Map(_)) => keep_path(&b.schema, s, cfg, pri, rest),
        (Nesting::List, Value::List(items)) => {
            let (cfgs, pris) = (cfg.as_list().unwrap_or(&[]), pri.as_list().unwrap_or(&[]));
            for (i, item) in items.iter_mut().enumerate() {
                let (c, p) = (cfgs.get(i).unwrap_or(&Value::Null), pris.get(i).unwrap_or(&Value::Null));
                keep_path(&b.schema, item, c, p, rest);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use tenantform_engine::provider::{AttributeSchema, BlockSchema};

    use super::*;

    fn schema() -> Schema {
        let limits = Schema::new()
            .attr("limits", AttributeSchema::optional(Type::Map(Box::new(Type::String))))
            .attr("cpu_idle", AttributeSchema::optional_computed(Type::Bool));
        let container = Schema::new()
            .attr("image", AttributeSchema::required(Type::String))
            .attr("args", AttributeSchema::optional(Type::List(Box::new(Type::String))))
            .block(
                "resources",
                BlockSchema {
                    nesting: Nesting::Single,
                    schema: limits,
                    min_items: 0,
                    max_items: None,
                    force_new: false,
                },
            );
        let auto = Schema::new();
        Schema::new()
            .attr("max_instance_count", AttributeSchema::optional(Type::Number))
            .attr("generation", AttributeSchema::computed(Type::String))
            .attr("uri", AttributeSchema::computed(Type::String))
            .block(
                "containers",
                BlockSchema {
                    nesting: Nesting::List,
                    schema: container,
                    min_items: 0,
                    max_items: None,
                    force_new: false,
                },
            )
            .block(
                "auto",
                BlockSchema { nesting: Nesting::Single, schema: auto, min_items: 0, max_items: None, force_new: false },
            )
    }

    #[test]
    fn round_trips_through_camel_case_json() {
        let v = Value::map([
            ("max_instance_count", Value::number(3)),
            ("generation", Value::Unknown),
            ("uri", Value::Null),
            ("auto", Value::map::<&str>([])),
            (
                "containers",
                Value::List(vec![Value::map([
                    ("image", Value::string("hello")),
                    ("args", Value::Null),
                    (
                        "resources",
                        Value::map([
                            ("limits", Value::map([("cpu", Value::string("1"))])),
                            ("cpu_idle", Value::Unknown),
                        ]),
                    ),
                ])]),
            ),
        ]);
        let j = to_api(&schema(), &v, &[("auto", "automatic")], &[]);
        assert_eq!(
            j,
            serde_json::json!({"maxInstanceCount": 3, "automatic": {}, "containers": [{"image": "hello", "resources": {"limits": {"cpu": "1"}}}]})
        );
        let mut back = from_api(
            &schema(),
            &serde_json::json!({
                "maxInstanceCount": 3, "generation": "7", "automatic": {}, "uri": "https://x",
                "containers": [{"image": "hello", "resources": {"limits": {"cpu": "1"}, "cpuIdle": true}}],
            }),
            &[("auto", "automatic")],
        );
        assert_eq!(back.get("generation"), Some(&Value::string("7")));
        assert_eq!(back.get("auto"), Some(&Value::map([] as [(&str, Value); 0])));
        let c = &back.get("containers").unwrap().as_list().unwrap()[0];
        assert_eq!(c.get("args"), Some(&Value::Null));
        assert_eq!(c.get("resources").unwrap().get("cpu_idle"), Some(&Value::Bool(true)));

        // A server-filled block the user never configured stays out of the state.
        let reference = Value::map([("containers", Value::List(vec![Value::map([("resources", Value::Null)])]))]);
        drop_unconfigured_blocks(&schema(), &mut back, &reference, &[&["containers", "resources"]]);
        let c = &back.get("containers").unwrap().as_list().unwrap()[0];
        assert_eq!(c.get("resources"), Some(&Value::Null));
        assert_eq!(camel("max_instance_request_concurrency"), "maxInstanceRequestConcurrency");
    }

    #[test]
    fn omitted_fields_read_as_their_default_where_the_reference_has_it() {
        let reference = Value::map([
            ("max_instance_count", Value::number(0)),
            ("generation", Value::Unknown),
            ("uri", Value::Null),
            ("auto", Value::Null),
            (
                "containers",
                Value::List(vec![Value::map([
                    ("image", Value::string("hello")),
                    ("args", Value::List(vec![])),
                    ("resources", Value::map([("limits", Value::Null), ("cpu_idle", Value::Bool(false))])),
                ])]),
            ),
        ]);
        // proto3 JSON: maxInstanceCount 0, args [] and cpuIdle false are not on the wire.
        let api = serde_json::json!({"containers": [{"image": "hello", "resources": {}}]});
        let v = from_api_with(&schema(), &api, &[], &reference);
        assert_eq!(v.get("max_instance_count"), Some(&Value::number(0)));
        assert_eq!(v.get("generation"), Some(&Value::Null), "unknown in the plan: not a default");
        assert_eq!(v.get("uri"), Some(&Value::Null));
        let c = &v.get("containers").unwrap().as_list().unwrap()[0];
        assert_eq!(c.get("args"), Some(&Value::List(vec![])));
        assert_eq!(c.get("resources").unwrap().get("cpu_idle"), Some(&Value::Bool(false)));
        assert_eq!(c.get("resources").unwrap().get("limits"), Some(&Value::Null), "unset stays unset");
        // Without a reference (an import), a computed flag the server omitted is false.
        let imported =
            from_api(&schema(), &serde_json::json!({"containers": [{"image": "hello", "resources": {}}]}), &[]);
        let c = &imported.get("containers").unwrap().as_list().unwrap()[0];
        assert_eq!(c.get("resources").unwrap().get("cpu_idle"), Some(&Value::Bool(false)));
        assert_eq!(imported.get("max_instance_count"), Some(&Value::Null), "not computed: unset stays unset");
        // A real value wins over the reference (drift shows).
        let api = serde_json::json!({"maxInstanceCount": 2, "containers": [{"image": "hello"}]});
        assert_eq!(from_api_with(&schema(), &api, &[], &reference).get("max_instance_count"), Some(&Value::number(2)));
    }

    #[test]
    fn a_server_defaulted_block_the_configuration_leaves_out_is_planned_as_it_is() {
        let resources =
            Value::map([("limits", Value::map([("cpu", Value::string("1"))])), ("cpu_idle", Value::Bool(true))]);
        let container =
            |res: Value| Value::map([("image", Value::string("hello")), ("args", Value::Null), ("resources", res)]);
        // An imported service: the API's resources block is in the prior state.
        let prior = Value::map([("containers", Value::List(vec![container(resources.clone())]))]);
        let config = Value::map([("containers", Value::List(vec![container(Value::Null)]))]);
        let mut planned = config.clone();
        keep_unconfigured_blocks(&schema(), &mut planned, &config, &prior, &[&["containers", "resources"]]);
        assert_eq!(planned, prior, "no diff for a block the configuration does not set");

        // A configured block wins; an unknown one is left to the plan.
        let configured = Value::map([("limits", Value::map([("cpu", Value::string("2"))])), ("cpu_idle", Value::Null)]);
        let config = Value::map([("containers", Value::List(vec![container(configured.clone())]))]);
        let mut planned = config.clone();
        keep_unconfigured_blocks(&schema(), &mut planned, &config, &prior, &[&["containers", "resources"]]);
        assert_eq!(planned, config);
        let unknown = Value::map([("containers", Value::List(vec![container(Value::Unknown)]))]);
        let mut planned = unknown.clone();
        keep_unconfigured_blocks(&schema(), &mut planned, &config, &prior, &[&["containers", "resources"]]);
        assert_eq!(planned, unknown);
    }
}

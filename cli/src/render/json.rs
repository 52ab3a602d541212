//! The machine-readable plan (`plan -json`, `show -json FILE`), documented in
//! `docs/json-format.md`. Shaped like Terraform's JSON plan (`resource_changes` with
//! `actions`, `before`, `after`, `after_unknown`, `*_sensitive`), with one deliberate
//! difference: sensitive values are **redacted** (`null`), never printed.

use serde_json::{json, Map, Value as Json};
use tenantform_engine::address::{InstanceKey, Mode};
use tenantform_engine::plan::{Action, Plan, PlanMode, ResourceChange};
use tenantform_engine::value::Value;

/// Plain JSON with sensitive subtrees replaced by null and unknowns by null.
pub fn redacted(v: &Value) -> Json {
    match v {
        Value::Sensitive(_) | Value::Unknown | Value::Null => Json::Null,
        Value::List(items) | Value::Set(items) => Json::Array(items.iter().map(redacted).collect()),
        Value::Map(m) => Json::Object(m.iter().map(|(k, x)| (k.clone(), redacted(x))).collect()),
        other => other.to_json(),
    }
}

/// A tree mirroring `v` with `true` where `pred` holds (Terraform's `after_unknown` shape).
fn mark_tree(v: &Value, pred: &dyn Fn(&Value) -> bool) -> Json {
    if pred(v) {
        return Json::Bool(true);
    }
    match v.unmarked().0 {
        Value::Map(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                let t = mark_tree(x, pred);
                if t != Json::Bool(false) {
                    out.insert(k.clone(), t);
                }
            }
            Json::Object(out)
        }
        Value::List(items) | Value::Set(items) => Json::Array(items.iter().map(|x| mark_tree(x, pred)).collect()),
        _ => Json::Bool(false),
    }
}

fn unknown_tree(v: &Option<Value>) -> Json {
    match v {
        Some(v) => mark_tree(v, &|x| matches!(x.unmarked().0, Value::Unknown)),
        None => Json::Bool(false),
    }
}

fn sensitive_tree(v: &Option<Value>) -> Json {
    match v {
        Some(v) => mark_tree(v, &Value::is_sensitive),
        None => Json::Bool(false),
    }
}

fn change_json(c: &ResourceChange) -> Json {
    let a = &c.addr;
    let index = match &a.key {
        InstanceKey::None => Json::Null,
        InstanceKey::Int(i) => json!(i),
        InstanceKey::Str(s) => json!(s),
    };
    json!({
        "address": a.to_string(),
        "module_address": if a.module().is_root() { Json::Null } else { json!(a.module().to_string()) },
        "tenant": a.tenant(),
        "mode": if a.mode() == Mode::Data { "data" } else { "managed" },
        "type": a.resource.ty,
        "name": a.resource.name,
        "index": index,
        "provider_name": c.provider,
        "change": {
            "actions": c.action.json_actions(),
            "before": c.before.as_ref().map(redacted),
            "after": c.after.as_ref().map(redacted),
            "after_unknown": unknown_tree(&c.after),
            "before_sensitive": sensitive_tree(&c.before),
            "after_sensitive": sensitive_tree(&c.after),
            "replace_paths": c.replace_paths.iter().map(|p| serde_json::to_value(p).unwrap_or(Json::Null)).collect::<Vec<_>>(),
            "importing": c.import_id.as_ref().map(|id| json!({ "id": id })),
        },
        "action_reason": c.reason,
        "previous_address": c.moved_from.as_ref().map(|m| m.to_string()),
    })
}

/// The JSON document of a plan.
pub fn plan_json(plan: &Plan) -> Json {
    let s = plan.summary();
    let outputs: Map<String, Json> = plan
        .outputs
        .iter()
        .filter(|o| (o.before != o.after || plan.mode == PlanMode::Normal) && !o.name.starts_with("__"))
        .map(|o| {
            let name = if o.module.is_root() { o.name.clone() } else { format!("{}.{}", o.module, o.name) };
            let actions = match (&o.before, &o.after) {
                (None, Some(_)) => vec!["create"],
                (Some(_), None) => vec!["delete"],
                (Some(b), Some(a)) if b == a => vec!["no-op"],
                (Some(_), Some(_)) => vec!["update"],
                (None, None) => vec!["no-op"],
            };
            let hide = |v: &Option<Value>| {
                if o.sensitive {
                    Json::Null
                } else {
                    v.as_ref().map(redacted).unwrap_or(Json::Null)
                }
            };
            (
                name,
                json!({
                    "actions": actions,
                    "before": hide(&o.before),
                    "after": hide(&o.after),
                    "after_unknown": o.after.as_ref().is_some_and(|a| !a.is_wholly_known()),
                    "before_sensitive": o.sensitive,
                    "after_sensitive": o.sensitive,
                }),
            )
        })
        .collect();
    let drift: Vec<Json> = plan
        .drift
        .iter()
        .map(|d| {
            json!({
                "address": d.addr.to_string(),
                "tenant": d.addr.tenant(),
                "change": {
                    "actions": if d.after.is_some() { vec!["update"] } else { vec!["delete"] },
                    // true: changed outside tenantform; false: values the platform computes
                    // as it goes (listed only by refresh-only plans).
                    "external": d.external,
                    "before": redacted(&d.before),
                    "after": d.after.as_ref().map(redacted),
                    "before_sensitive": sensitive_tree(&Some(d.before.clone())),
                    "after_sensitive": sensitive_tree(&d.after),
                }
            })
        })
        .collect();
    json!({
        "format_version": "1.0",
        "tenantform_version": plan.tenantform_version,
        "mode": plan.mode,
        "lineage": plan.lineage,
        "resource_changes": plan.changes.iter().filter(|c| c.action != Action::NoOp || c.import_id.is_some() || c.moved_from.is_some()).map(change_json).collect::<Vec<_>>(),
        "output_changes": outputs,
        "resource_drift": drift,
        "deferred_changes": plan.deferred.iter().map(deferred_json).collect::<Vec<_>>(),
        "summary": { "add": s.add, "change": s.change, "destroy": s.destroy, "import": s.import, "read": s.read, "deferred": s.deferred },
        "has_changes": plan.has_changes(),
    })
}

/// A deferred instance, with Terraform's reason names where Terraform has one
/// (`provider_config_unknown`, `instance_count_unknown`, `deferred_prereq`).
fn deferred_json(d: &tenantform_engine::plan::Deferred) -> Json {
    use tenantform_engine::plan::DeferReason;
    let reason = match &d.reason {
        DeferReason::ProviderConfig { .. } => "provider_config_unknown",
        DeferReason::Expansion => "instance_count_unknown",
        DeferReason::Dependency { .. } => "deferred_prereq",
        DeferReason::Unresolved { .. } => "unresolved_create",
    };
    json!({
        "address": d.addr.to_string(),
        "tenant": d.addr.tenant(),
        "reason": reason,
        "detail": d.reason.describe(),
        "planned_in_later_round": d.reason.resolves_by_applying(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_values_are_redacted_and_flagged() {
        let v = Value::map([("password", Value::string("hunter2").mark_sensitive()), ("id", Value::Unknown)]);
        let j = redacted(&v);
        assert_eq!(j, json!({ "password": null, "id": null }));
        assert_eq!(sensitive_tree(&Some(v.clone())), json!({ "password": true }));
        assert_eq!(unknown_tree(&Some(v)), json!({ "id": true }));
    }
}

//! Human-readable plans, in the shape Terraform users read every day: `+ ~ - -/+` symbols, an
//! attribute-level diff with `(known after apply)` and `(sensitive value)`, `# forces
//! replacement`, multi-line strings diffed line by line, unchanged attributes hidden and
//! counted, changes grouped by tenant, and the `Plan: …` summary.

use std::fmt::Write as _;

use tenantform_engine::plan::{Action, Drift, OutputChange, Plan, PlanMode, ResourceChange};
use tenantform_engine::value::{format_number, is_identifier, quote_string, AttrPath, PathStep, Value};

/// Renders the whole plan.
pub fn render_plan(plan: &Plan) -> String {
    let mut out = String::new();
    // A normal plan lists changes made outside tenantform, not values the platform computed
    // since (a certificate that became active); a refresh-only plan lists everything.
    let refresh_only = plan.mode == PlanMode::RefreshOnly;
    let drift: Vec<Drift> = plan.drift.iter().filter(|d| refresh_only || d.external).cloned().collect();
    if !drift.is_empty() {
        out.push_str(&render_drift(&drift, refresh_only));
    }
    let actionable: Vec<&ResourceChange> = plan.actionable().collect();
    let output_changes: Vec<&OutputChange> =
        plan.outputs.iter().filter(|o| o.before != o.after && !o.name.starts_with("__")).collect();
    if plan.mode == PlanMode::RefreshOnly {
        if plan.drift.is_empty() {
            out.push_str("No changes. Your infrastructure still matches the configuration.\n\nTenantform has checked that the real objects match the state, and found no differences.\n");
        } else {
            out.push_str("This is a refresh-only plan, so tenantform will not take any actions to undo these. Applying it records the changes in state.\n");
        }
        return out;
    }
    if actionable.is_empty() && output_changes.is_empty() && plan.deferred.is_empty() {
        if plan.mode == PlanMode::Destroy {
            out.push_str("No changes. No objects need to be destroyed.\n");
        } else {
            out.push_str("No changes. Your infrastructure matches the configuration.\n\nTenantform has compared your real infrastructure against your configuration and found no differences, so no changes are needed.\n");
        }
        return out;
    }
    if !actionable.is_empty() {
        out.push_str("Tenantform will perform the following actions:\n");
        let mut used: Vec<Action> = actionable.iter().map(|c| c.action).filter(|a| *a != Action::NoOp).collect();
        used.sort();
        used.dedup();
        let mut legend = if used.is_empty() {
            String::new()
        } else {
            String::from("\nResource actions are indicated with the following symbols:\n")
        };
        for a in &used {
            let text = match a {
                Action::Create => "create",
                Action::Update => "update in-place",
                Action::Replace => "destroy and then create replacement",
                Action::CreateThenDelete => "create replacement and then destroy",
                Action::Delete => "destroy",
                Action::Read => "read (data resources)",
                Action::NoOp => continue,
            };
            let _ = writeln!(legend, "{:>3} {text}", a.symbol());
        }
        out.push_str(&legend);
        let mut current_group: Option<Option<String>> = None;
        for c in &actionable {
            let group = c.addr.tenant().map(str::to_string);
            if current_group.as_ref() != Some(&group) {
                let (add, change, destroy) = group_counts(&actionable, group.as_deref());
                let title = match &group {
                    Some(t) => format!("tenant {t}"),
                    None => "shared resources".to_string(),
                };
                let _ = writeln!(out, "\n── {title}: {add} to add, {change} to change, {destroy} to destroy");
                current_group = Some(group);
            }
            out.push('\n');
            out.push_str(&render_change(c));
        }
    }
    let s = plan.summary();
    let _ = write!(out, "\nPlan: ");
    if s.import > 0 {
        let _ = write!(out, "{} to import, ", s.import);
    }
    let _ = write!(out, "{} to add, {} to change, {} to destroy", s.add, s.change, s.destroy);
    if s.deferred > 0 {
        let _ = write!(out, ", {} deferred", s.deferred);
    }
    out.push_str(".\n");
    if !plan.deferred.is_empty() {
        out.push_str(&render_deferred(plan));
    }
    if !output_changes.is_empty() {
        out.push_str("\nChanges to Outputs:\n");
        out.push_str(&render_outputs(&output_changes));
    }
    out
}

/// Instances the plan could not plan yet, and why: those waiting on values known after apply
/// are planned in a further round of the same apply; an unresolved interrupted create waits
/// for the user.
fn render_deferred(plan: &Plan) -> String {
    let mut out = String::new();
    let (later, blocked): (Vec<_>, Vec<_>) = plan.deferred.iter().partition(|d| d.reason.resolves_by_applying());
    if !later.is_empty() {
        out.push_str("\nDeferred until values known after apply exist (apply plans them in a further round):\n");
        for d in later {
            let _ = writeln!(out, "  ~ {}: {}", d.addr, d.reason.describe());
        }
    }
    if !blocked.is_empty() {
        out.push_str("\nNot planned until you decide (an interrupted create whose object cannot be found):\n");
        for d in blocked {
            let _ = writeln!(out, "  ! {}: {}", d.addr, d.reason.describe());
        }
        let _ = writeln!(
            out,
            "\n  If the object exists, adopt it with `tenantform import ADDRESS ID`; if it does not, forget the\n  interrupted create with `tenantform state rm ADDRESS` so the next plan creates it."
        );
    }
    out
}

fn group_counts(changes: &[&ResourceChange], group: Option<&str>) -> (usize, usize, usize) {
    let (mut a, mut c, mut d) = (0, 0, 0);
    for ch in changes.iter().filter(|ch| ch.addr.tenant() == group) {
        match ch.action {
            Action::Create => a += 1,
            Action::Update => c += 1,
            Action::Replace | Action::CreateThenDelete => {
                a += 1;
                d += 1
            }
            Action::Delete => d += 1,
            _ => {}
        }
    }
    (a, c, d)
}

/// One resource change block.
pub fn render_change(c: &ResourceChange) -> String {
    let mut out = String::new();
    let addr = &c.addr;
    let deposed = matches!(&addr.key, tenantform_engine::address::InstanceKey::Str(k) if k.contains("deposed-"));
    let what = match c.action {
        Action::Create => "will be created".to_string(),
        Action::Update => "will be updated in-place".to_string(),
        Action::Replace | Action::CreateThenDelete => {
            if c.reason.as_deref().is_some_and(|r| r.starts_with("tainted")) {
                "is tainted, so must be replaced".to_string()
            } else {
                "must be replaced".to_string()
            }
        }
        Action::Delete if deposed => "(deposed object) will be destroyed".to_string(),
        Action::Delete => "will be destroyed".to_string(),
        Action::Read => "will be read during apply".to_string(),
        Action::NoOp if c.import_id.is_some() => "will be imported".to_string(),
        Action::NoOp if c.moved_from.is_some() => "has moved".to_string(),
        Action::NoOp => "has no changes".to_string(),
    };
    let _ = writeln!(out, "  # {addr} {what}");
    if let Some(from) = &c.moved_from {
        let _ = writeln!(out, "  # (moved from {from})");
    }
    if let Some(id) = &c.import_id {
        let _ = writeln!(out, "  # (imported from \"{id}\")");
    }
    if let Some(r) = &c.reason {
        if !(c.action.is_replace() && r.starts_with("tainted")) {
            let _ = writeln!(out, "  # (because {r})");
        }
    }
    let kind = if addr.mode() == tenantform_engine::address::Mode::Data { "data" } else { "resource" };
    let name = match &addr.key {
        tenantform_engine::address::InstanceKey::None => addr.resource.name.clone(),
        _ => addr.resource.name.clone(),
    };
    let sym = c.action.symbol();
    let _ = writeln!(out, "{:>3} {kind} \"{}\" \"{}\" {{", sym, addr.resource.ty, name);
    let empty = Value::Map(Default::default());
    let before = c.before.as_ref();
    let after = c.after.as_ref();
    let mode = match c.action {
        Action::Create | Action::Read => DiffMode::Create,
        Action::Delete => DiffMode::Delete,
        _ => DiffMode::Update,
    };
    let body = render_object_diff(
        before.unwrap_or(&empty),
        after.unwrap_or(&empty),
        mode,
        6,
        &c.replace_paths,
        &mut Vec::new(),
        true,
    );
    out.push_str(&body);
    out.push_str("    }\n");
    out
}

#[derive(Clone, Copy, PartialEq)]
enum DiffMode {
    Create,
    Update,
    Delete,
}

fn pad(n: usize) -> String {
    " ".repeat(n)
}

/// Attributes always shown even when unchanged, as Terraform does (identity).
fn always_show(name: &str) -> bool {
    matches!(name, "id" | "name" | "tags")
}

#[allow(clippy::too_many_arguments)]
fn render_object_diff(
    before: &Value,
    after: &Value,
    mode: DiffMode,
    indent: usize,
    replace_paths: &[AttrPath],
    path: &mut AttrPath,
    top: bool,
) -> String {
    let empty = Default::default();
    let bm = before.as_map().unwrap_or(&empty);
    let am = after.as_map().unwrap_or(&empty);
    let mut keys: Vec<&String> = bm.keys().chain(am.keys()).collect();
    keys.sort();
    keys.dedup();
    // Split into attributes (primitive/collection) and nested objects that look like blocks.
    let width = keys
        .iter()
        .filter(|k| {
            let b = bm.get(k.as_str()).unwrap_or(&Value::Null);
            let a = am.get(k.as_str()).unwrap_or(&Value::Null);
            shown(b, a, mode) || (top && always_show(k) && !a.is_null())
        })
        .map(|k| display_key(k).len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    let mut hidden = 0usize;
    for k in keys {
        let b = bm.get(k.as_str()).unwrap_or(&Value::Null);
        let a = am.get(k.as_str()).unwrap_or(&Value::Null);
        path.push(PathStep::Key(k.clone()));
        let forces = replace_paths.iter().any(|p| p == path);
        let suffix = if forces { " # forces replacement" } else { "" };
        let key = format!("{:<width$}", display_key(k));
        let line = match mode {
            DiffMode::Create => {
                if a.is_null() {
                    None
                } else if let Some(blocks) = as_blocks(a) {
                    Some(render_blocks(k, blocks, '+', indent, replace_paths, path))
                } else {
                    Some(format!("{}+ {key} = {}{suffix}\n", pad(indent), render_signed(a, indent + 4, '+')))
                }
            }
            DiffMode::Delete => {
                if b.is_null() {
                    None
                } else if let Some(blocks) = as_blocks(b) {
                    Some(render_blocks(k, blocks, '-', indent, replace_paths, path))
                } else {
                    Some(format!("{}- {key} = {} -> null\n", pad(indent), render_signed(b, indent + 4, '-')))
                }
            }
            DiffMode::Update => {
                if !changed(b, a) {
                    if top && always_show(k) && !a.is_null() {
                        Some(format!("{}  {key} = {}\n", pad(indent), render_value(a, indent + 4)))
                    } else {
                        if !a.is_null() || !b.is_null() {
                            hidden += 1;
                        }
                        None
                    }
                } else if b.is_null() {
                    Some(format!("{}+ {key} = {}{suffix}\n", pad(indent), render_value(a, indent + 4)))
                } else if a.is_null() {
                    Some(format!("{}- {key} = {} -> null{suffix}\n", pad(indent), render_value(b, indent + 4)))
                } else if let (Some(bb), Some(ab)) = (as_blocks(b), as_blocks(a)) {
                    Some(render_block_updates(k, bb, ab, indent, replace_paths, path))
                } else {
                    Some(render_update(&key, b, a, indent, suffix, replace_paths, path))
                }
            }
        };
        path.pop();
        if let Some(l) = line {
            out.push_str(&l);
        }
    }
    if hidden > 0 {
        let _ = writeln!(
            out,
            "{}  # ({hidden} unchanged attribute{} hidden)",
            pad(indent),
            if hidden == 1 { "" } else { "s" }
        );
    }
    out
}

/// A list of objects: how nested blocks (`template { containers { … } }`) are stored. They are
/// rendered as Terraform renders blocks — `~ containers {` with the changed attributes inside
/// — not as a list value.
fn as_blocks(v: &Value) -> Option<&[Value]> {
    match v {
        Value::List(items) if !items.is_empty() && items.iter().all(|i| matches!(i, Value::Map(_))) => Some(items),
        _ => None,
    }
}

/// Blocks being created (`+`) or destroyed (`-`), null attributes left out.
fn render_blocks(
    key: &str,
    blocks: &[Value],
    sign: char,
    indent: usize,
    replace_paths: &[AttrPath],
    path: &mut AttrPath,
) -> String {
    let empty = Value::Map(Default::default());
    let mode = if sign == '+' { DiffMode::Create } else { DiffMode::Delete };
    let mut out = String::new();
    for (i, b) in blocks.iter().enumerate() {
        path.push(PathStep::Index(i));
        let (before, after) = if sign == '+' { (&empty, b) } else { (b, &empty) };
        let inner = render_object_diff(before, after, mode, indent + 4, replace_paths, path, false);
        path.pop();
        let _ = write!(
            out,
            "{}{sign} {} {{
{inner}{}}}
",
            pad(indent),
            display_key(key),
            pad(indent + 2)
        );
    }
    out
}

/// Blocks changed in place: each changed one as `~ key {` with its own diff, unchanged ones
/// counted; blocks added or removed at the end as `+`/`-`.
fn render_block_updates(
    key: &str,
    before: &[Value],
    after: &[Value],
    indent: usize,
    replace_paths: &[AttrPath],
    path: &mut AttrPath,
) -> String {
    let mut out = String::new();
    let mut unchanged = 0;
    for i in 0..before.len().max(after.len()) {
        match (before.get(i), after.get(i)) {
            (Some(b), Some(a)) if !changed(b, a) => unchanged += 1,
            (Some(b), Some(a)) => {
                path.push(PathStep::Index(i));
                let forces = replace_paths.iter().any(|p| p == path);
                let inner = render_object_diff(b, a, DiffMode::Update, indent + 4, replace_paths, path, false);
                path.pop();
                let suffix = if forces { " # forces replacement" } else { "" };
                let _ = write!(
                    out,
                    "{}~ {} {{{suffix}
{inner}{}}}
",
                    pad(indent),
                    display_key(key),
                    pad(indent + 2)
                );
            }
            (None, Some(a)) => {
                out.push_str(&render_blocks(key, std::slice::from_ref(a), '+', indent, replace_paths, path))
            }
            (Some(b), None) => {
                out.push_str(&render_blocks(key, std::slice::from_ref(b), '-', indent, replace_paths, path))
            }
            (None, None) => {}
        }
    }
    if unchanged > 0 {
        let _ = writeln!(
            out,
            "{}  # ({unchanged} unchanged block{} hidden)",
            pad(indent),
            if unchanged == 1 { "" } else { "s" }
        );
    }
    out
}

fn shown(b: &Value, a: &Value, mode: DiffMode) -> bool {
    match mode {
        DiffMode::Create => !a.is_null(),
        DiffMode::Delete => !b.is_null(),
        DiffMode::Update => changed(b, a),
    }
}

fn changed(b: &Value, a: &Value) -> bool {
    !a.is_wholly_known()
        || !tenantform_engine::eval::values_equal(b, a)
        || (a.contains_sensitive() != b.contains_sensitive())
}

fn display_key(k: &str) -> String {
    if is_identifier(k) {
        k.to_string()
    } else {
        quote_string(k)
    }
}

fn render_update(
    key: &str,
    b: &Value,
    a: &Value,
    indent: usize,
    suffix: &str,
    replace_paths: &[AttrPath],
    path: &mut AttrPath,
) -> String {
    let p = pad(indent);
    if b.is_sensitive() || a.is_sensitive() {
        return format!("{p}~ {key} = (sensitive value){suffix}\n");
    }
    if a.is_unknown() {
        return format!("{p}~ {key} = {} -> (known after apply){suffix}\n", render_value(b, indent + 4));
    }
    match (b, a) {
        (Value::String(bs), Value::String(as_)) if bs.contains('\n') || as_.contains('\n') => {
            let mut out = format!("{p}~ {key} = <<-EOT{suffix}\n");
            let diff = similar::TextDiff::from_lines(bs.as_str(), as_.as_str());
            for change in diff.iter_all_changes() {
                let sign = match change.tag() {
                    similar::ChangeTag::Equal => " ",
                    similar::ChangeTag::Delete => "-",
                    similar::ChangeTag::Insert => "+",
                };
                let text = change.value().trim_end_matches('\n');
                let _ = writeln!(out, "{}{sign} {text}", pad(indent + 4));
            }
            let _ = writeln!(out, "{}EOT", pad(indent + 4));
            out
        }
        (Value::Map(_), Value::Map(_)) => {
            let inner = render_object_diff(b, a, DiffMode::Update, indent + 4, replace_paths, path, false);
            format!("{p}~ {key} = {{{suffix}\n{inner}{}}}\n", pad(indent + 2))
        }
        (Value::List(bl), Value::List(al)) | (Value::Set(bl), Value::Set(al)) => {
            let mut out = format!("{p}~ {key} = [{suffix}\n");
            let ip = pad(indent + 4);
            let ops = similar::capture_diff_slices(
                similar::Algorithm::Myers,
                &bl.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
                &al.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
            );
            let mut unchanged = 0;
            for op in ops {
                for (tag, old, new) in op
                    .iter_changes(
                        &bl.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
                        &al.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
                    )
                    .map(|c| (c.tag(), c.old_index(), c.new_index()))
                {
                    match tag {
                        similar::ChangeTag::Equal => unchanged += 1,
                        similar::ChangeTag::Delete => {
                            let _ = writeln!(out, "{ip}- {},", render_value(&bl[old.unwrap_or(0)], indent + 6));
                        }
                        similar::ChangeTag::Insert => {
                            let _ = writeln!(out, "{ip}+ {},", render_value(&al[new.unwrap_or(0)], indent + 6));
                        }
                    }
                }
            }
            if unchanged > 0 {
                let _ = writeln!(
                    out,
                    "{ip}  # ({unchanged} unchanged element{} hidden)",
                    if unchanged == 1 { "" } else { "s" }
                );
            }
            let _ = writeln!(out, "{}]", pad(indent + 2));
            out
        }
        _ => format!("{p}~ {key} = {} -> {}{suffix}\n", render_value(b, indent + 4), render_value(a, indent + 4)),
    }
}

/// Like [`render_value`], with every element of a collection prefixed by `sign` (how
/// Terraform shows objects being created or destroyed).
fn render_signed(v: &Value, indent: usize, sign: char) -> String {
    match v {
        Value::List(items) | Value::Set(items) if !items.is_empty() => {
            let mut out = String::from("[\n");
            for i in items {
                let _ = writeln!(out, "{}{sign} {},", pad(indent), render_signed(i, indent + 4, sign));
            }
            let _ = write!(out, "{}]", pad(indent.saturating_sub(2)));
            out
        }
        Value::Map(m) if !m.is_empty() => {
            let width = m.keys().map(|k| display_key(k).len()).max().unwrap_or(0);
            let mut out = String::from("{\n");
            for (k, x) in m.iter().filter(|(_, x)| !x.is_null()) {
                let _ = writeln!(
                    out,
                    "{}{sign} {:<width$} = {}",
                    pad(indent),
                    display_key(k),
                    render_signed(x, indent + 4, sign)
                );
            }
            let _ = write!(out, "{}}}", pad(indent.saturating_sub(2)));
            out
        }
        other => render_value(other, indent),
    }
}

/// A value in HCL-like syntax; nested collections span lines, indented to `indent`.
pub fn render_value(v: &Value, indent: usize) -> String {
    match v {
        Value::Sensitive(_) => "(sensitive value)".to_string(),
        Value::Unknown => "(known after apply)".to_string(),
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format_number(*n),
        Value::String(s) if s.contains('\n') => {
            let mut out = String::from("<<-EOT\n");
            for line in s.trim_end_matches('\n').split('\n') {
                let _ = writeln!(out, "{}{line}", pad(indent));
            }
            let _ = write!(out, "{}EOT", pad(indent.saturating_sub(2)));
            out
        }
        Value::String(s) => quote_string(s),
        Value::List(items) | Value::Set(items) => {
            if items.is_empty() {
                return "[]".to_string();
            }
            let mut out = String::from("[\n");
            for i in items {
                let _ = writeln!(out, "{}{},", pad(indent), render_value(i, indent + 2));
            }
            let _ = write!(out, "{}]", pad(indent.saturating_sub(2)));
            out
        }
        Value::Map(m) => {
            if m.is_empty() {
                return "{}".to_string();
            }
            let width = m.keys().map(|k| display_key(k).len()).max().unwrap_or(0);
            let mut out = String::from("{\n");
            for (k, x) in m {
                let _ = writeln!(out, "{}{:<width$} = {}", pad(indent), display_key(k), render_value(x, indent + 2));
            }
            let _ = write!(out, "{}}}", pad(indent.saturating_sub(2)));
            out
        }
    }
}

fn render_outputs(changes: &[&OutputChange]) -> String {
    let mut out = String::new();
    let width = changes.iter().map(|o| output_name(o).len()).max().unwrap_or(0);
    for o in changes {
        let name = format!("{:<width$}", output_name(o));
        let shown = |v: &Value| if o.sensitive { "(sensitive value)".to_string() } else { render_value(v, 6) };
        let line = match (&o.before, &o.after) {
            (None, Some(a)) => format!("  + {name} = {}", shown(a)),
            (Some(b), None) => format!("  - {name} = {} -> null", shown(b)),
            (Some(b), Some(a)) => format!("  ~ {name} = {} -> {}", shown(b), shown(a)),
            (None, None) => continue,
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn output_name(o: &OutputChange) -> String {
    if o.module.is_root() {
        o.name.clone()
    } else {
        format!("{}.{}", o.module, o.name)
    }
}

fn render_drift(drift: &[Drift], refresh_only: bool) -> String {
    let mut out = String::from("Note: Objects have changed outside of tenantform\n\nTenantform detected the following changes made outside of tenantform since the last apply:\n");
    for d in drift {
        out.push('\n');
        match &d.after {
            None => {
                let _ = writeln!(out, "  # {} has been deleted", d.addr);
                let _ = writeln!(out, "  - resource \"{}\" \"{}\" {{", d.addr.resource.ty, d.addr.resource.name);
                out.push_str(&render_object_diff(
                    &d.before,
                    &Value::Null,
                    DiffMode::Delete,
                    6,
                    &[],
                    &mut Vec::new(),
                    true,
                ));
                out.push_str("    }\n");
            }
            Some(after) => {
                let _ = writeln!(out, "  # {} has changed", d.addr);
                let _ = writeln!(out, "  ~ resource \"{}\" \"{}\" {{", d.addr.resource.ty, d.addr.resource.name);
                out.push_str(&render_object_diff(&d.before, after, DiffMode::Update, 6, &[], &mut Vec::new(), true));
                out.push_str("    }\n");
            }
        }
    }
    if !refresh_only {
        out.push_str("\nUnless you have made equivalent changes to your configuration, or ignored the relevant attributes using ignore_changes, the following plan may include actions to undo or respond to these changes.\n");
    }
    out.push_str("\n─────────────────────────────────────────────────────────────────────────────\n\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenantform_engine::address::InstanceAddr;

    fn change(action: Action, before: Option<Value>, after: Option<Value>) -> ResourceChange {
        ResourceChange {
            addr: "tenant.acme.local_service.web".parse::<InstanceAddr>().unwrap(),
            provider: "local".into(),
            action,
            before,
            after,
            replace_paths: vec![],
            reason: None,
            dependencies: vec![],
            create_before_destroy: false,
            import_id: None,
            moved_from: None,
            schema_version: 0,
            record_only: false,
        }
    }

    #[test]
    fn create_shows_known_unknown_and_sensitive() {
        let after = Value::map([
            ("name", Value::string("acme")),
            ("id", Value::Unknown),
            ("password", Value::string("hunter2").mark_sensitive()),
            ("command", Value::List(vec![Value::string("python3"), Value::string("app.py")])),
        ]);
        let s = render_change(&change(Action::Create, None, Some(after)));
        assert!(s.contains("# tenant.acme.local_service.web will be created"), "{s}");
        assert!(s.contains("+ id       = (known after apply)"), "{s}");
        assert!(s.contains("+ password = (sensitive value)"), "{s}");
        assert!(!s.contains("hunter2"));
        assert!(s.contains("+ resource \"local_service\" \"web\" {"), "{s}");
    }

    #[test]
    fn update_hides_unchanged_and_diffs_lines() {
        let before = Value::map([
            ("name", Value::string("acme")),
            ("plan", Value::string("pro")),
            ("sql", Value::string("a\nb\nc\n")),
            ("port", Value::number(8080)),
        ]);
        let after = Value::map([
            ("name", Value::string("acme")),
            ("plan", Value::string("starter")),
            ("sql", Value::string("a\nB\nc\n")),
            ("port", Value::number(8080)),
        ]);
        let s = render_change(&change(Action::Update, Some(before), Some(after)));
        assert!(s.contains("~ plan = \"pro\" -> \"starter\""), "{s}");
        assert!(s.contains("  name = \"acme\""), "{s}");
        assert!(s.contains("- b"), "{s}");
        assert!(s.contains("+ B"), "{s}");
        assert!(s.contains("# (1 unchanged attribute hidden)"), "{s}");
    }

    #[test]
    fn nested_blocks_diff_inside_the_block_as_terraform_does() {
        let container = |cpu: &str| {
            Value::map([
                ("image", Value::string("app:1")),
                ("cpu", Value::string(cpu)),
                ("memory", Value::string("512Mi")),
                ("command", Value::Null),
            ])
        };
        let svc = |cpu: &str| {
            Value::map([
                ("name", Value::string("api")),
                (
                    "template",
                    Value::List(vec![Value::map([
                        ("containers", Value::List(vec![container(cpu)])),
                        ("timeout", Value::string("300s")),
                    ])]),
                ),
            ])
        };
        let s = render_change(&change(Action::Update, Some(svc("1")), Some(svc("2"))));
        let expected = r#"      ~ template {
          ~ containers {
              ~ cpu = "1" -> "2"
                # (2 unchanged attributes hidden)
            }
            # (1 unchanged attribute hidden)
        }
"#;
        assert!(s.contains(expected), "{s}");
        assert!(!s.contains("command"), "null attributes are not shown: {s}");
        let s = render_change(&change(Action::Create, None, Some(svc("1"))));
        assert!(s.contains("      + template {\n          + containers {\n              + cpu    = \"1\""), "{s}");
        assert!(!s.contains("command"), "null attributes of a new block are not shown: {s}");
    }

    #[test]
    fn replace_marks_the_forcing_attribute() {
        let mut c = change(
            Action::Replace,
            Some(Value::map([("name", Value::string("a"))])),
            Some(Value::map([("name", Value::string("b"))])),
        );
        c.replace_paths = vec![vec![PathStep::Key("name".into())]];
        let s = render_change(&c);
        assert!(s.contains("-/+ resource"), "{s}");
        assert!(s.contains("~ name = \"a\" -> \"b\" # forces replacement"), "{s}");
    }
}

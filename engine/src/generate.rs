//! Configuration generation for import targets that have no resource block yet
//! (`plan -generate-config-out=FILE`): the provider reads the real object, and the settable
//! attributes it returns become a resource block. Computed-only attributes are left out;
//! sensitive ones become references to new sensitive variables, so no secret is written into
//! configuration. Output is in canonical format.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::address::{InstanceAddr, Mode};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::graph::Node;
use crate::provider::{AttrKind, Nesting, OpContext, Schema};
use crate::runtime::{with_retries, RetryPolicy, Schemas};
use crate::validate::Prepared;
use crate::value::{is_identifier, Value};

/// One generated block's text and the variables it needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Generated {
    pub addr: InstanceAddr,
    pub text: String,
}

/// Reads each target through its provider and writes HCL for it.
pub async fn generate_import_config(
    p: &Prepared,
    schemas: &Schemas,
    targets: &[(InstanceAddr, String)],
) -> Result<Vec<Generated>, Diagnostics> {
    let mut diags = Diagnostics::new();
    let mut out = Vec::new();
    // Provider configurations depend only on variables and locals of the root module.
    let (values, _) = crate::validate::validate_walk(&p.stack, &p.graph, schemas.registry());
    for (addr, id) in targets {
        if !addr.module().is_root() {
            diags.push(
                Diagnostic::error("generate-config", format!("Cannot generate configuration for {addr}"))
                    .with_label("configuration is generated for root-module addresses only")
                    .with_help("resources inside the tenant stack are shared by every tenant: add the resource block to the tenant module, then import each tenant's object with an import block"),
            );
            continue;
        }
        if addr.mode() != Mode::Managed {
            diags.push(Diagnostic::error(
                "generate-config",
                format!("{addr} is a data source; only managed resources are imported"),
            ));
            continue;
        }
        let ty = addr.ty();
        let Some(rs) = schemas.registry().resource_schema(ty) else {
            diags.push(
                crate::validate::unknown_type(
                    schemas.registry(),
                    Mode::Managed,
                    ty,
                    crate::diagnostics::Span::new(crate::diagnostics::FileId(u32::MAX), 0..0),
                )
                .with_span(None),
            );
            continue;
        };
        let provider_name = ty.split('_').next().unwrap_or(ty);
        let config = p
            .graph
            .provider_nodes
            .get(provider_name)
            .and_then(|n| match &p.graph.graph[*n] {
                Node::Provider(_) => values[n.index()].clone(),
                _ => None,
            })
            .unwrap_or(Value::Map(BTreeMap::new()));
        let Some(provider) = schemas.registry().get(provider_name) else { continue };
        let configured = match provider.configure(&config.unmark_deep()).await {
            Ok(c) => c,
            Err(e) => {
                diags.push(Diagnostic::error(
                    "provider",
                    format!("Configuring provider \"{provider_name}\" failed: {}", e.summary),
                ));
                continue;
            }
        };
        let Some(rt) = configured.resource(ty) else { continue };
        let ctx = OpContext { address: addr.to_string(), ..OpContext::default() };
        match with_retries(RetryPolicy::default(), || rt.import(id, &ctx)).await {
            Ok(v) => out.push(Generated { addr: addr.clone(), text: render(addr, id, &v, &rs.schema) }),
            Err(e) => diags.push(
                Diagnostic::error("import-not-found", format!("Cannot import {addr} from ID \"{id}\": {}", e.summary))
                    .with_help(format!(
                        "this resource type is imported by {}",
                        if rs.import_id.is_empty() { "its ID" } else { &rs.import_id }
                    )),
            ),
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(out)
    }
}

fn var_name(addr: &InstanceAddr, attr: &str) -> String {
    let mut s = format!("{}_{}_{attr}", addr.resource.ty, addr.resource.name);
    s.retain(|c| c.is_alphanumeric() || c == '_');
    s
}

/// Renders one resource block (plus variables for its sensitive attributes).
fn render(addr: &InstanceAddr, id: &str, v: &Value, schema: &Schema) -> String {
    let mut out = format!("# __generated__ by tenantform from import ID \"{}\"\n", id.replace('"', "'"));
    let mut vars = Vec::new();
    let _ = writeln!(out, "resource \"{}\" \"{}\" {{", addr.resource.ty, addr.resource.name);
    body(&mut out, &mut vars, addr, v, schema, 1);
    out.push_str("}\n");
    for (name, ty) in vars {
        let _ = write!(out, "\nvariable \"{name}\" {{\n  type      = {ty}\n  sensitive = true\n}}\n");
    }
    out
}

fn body(
    out: &mut String,
    vars: &mut Vec<(String, String)>,
    addr: &InstanceAddr,
    v: &Value,
    schema: &Schema,
    depth: usize,
) {
    let indent = "  ".repeat(depth);
    let empty = BTreeMap::new();
    let m = v.as_map().unwrap_or(&empty);
    let mut lines: Vec<(String, String)> = Vec::new();
    for (name, a) in &schema.attributes {
        if a.kind == AttrKind::Computed {
            continue;
        }
        let val = m.get(name).cloned().unwrap_or(Value::Null);
        if val.is_null() || a.default.as_ref() == Some(&val) {
            continue;
        }
        let text = if a.sensitive && depth == 1 {
            let vn = var_name(addr, name);
            vars.push((vn.clone(), a.ty.to_string()));
            format!("var.{vn}")
        } else {
            literal(&val)
        };
        lines.push((name.clone(), text));
    }
    let width = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, text) in &lines {
        let _ = writeln!(out, "{indent}{k:<width$} = {text}");
    }
    for (name, b) in &schema.blocks {
        let items: Vec<Value> = match (b.nesting, m.get(name)) {
            (Nesting::Single, Some(x @ Value::Map(_))) => vec![x.clone()],
            (Nesting::List, Some(Value::List(xs))) => xs.clone(),
            _ => Vec::new(),
        };
        for item in items {
            let _ = writeln!(out, "\n{indent}{name} {{");
            body(out, vars, addr, &item, &b.schema, depth + 1);
            let _ = writeln!(out, "{indent}}}");
        }
    }
}

/// An HCL literal for a value (single line; strings escaped so templates stay literal).
pub fn literal(v: &Value) -> String {
    match v.unmarked().0 {
        Value::Map(m) => {
            if m.is_empty() {
                return "{}".into();
            }
            let parts: Vec<String> = m
                .iter()
                .map(|(k, x)| {
                    let key = if is_identifier(k) { k.clone() } else { crate::value::quote_string(k) };
                    format!("{key} = {}", literal(x))
                })
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
        Value::List(items) | Value::Set(items) => {
            format!("[{}]", items.iter().map(literal).collect::<Vec<_>>().join(", "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::AttributeSchema;
    use crate::types::Type;

    #[test]
    fn renders_settable_attributes_and_sensitive_variables() {
        let schema = Schema::new()
            .attr("name", AttributeSchema::required(Type::String))
            .attr("value", AttributeSchema::required(Type::String).sensitive())
            .attr("path", AttributeSchema::computed(Type::String))
            .attr("tags", AttributeSchema::optional(Type::Map(Box::new(Type::String))));
        let v = Value::map([
            ("name", Value::string("legacy")),
            ("value", Value::string("s3cret")),
            ("path", Value::string("/x")),
            ("tags", Value::map([("team", Value::string("core"))])),
        ]);
        let addr: InstanceAddr = "local_secret.legacy".parse().unwrap();
        let text = render(&addr, "legacy", &v, &schema);
        assert!(!text.contains("s3cret"), "{text}");
        assert!(!text.contains("path"), "{text}");
        assert!(text.contains("  name  = \"legacy\"\n"), "{text}");
        assert!(text.contains("  tags  = { team = \"core\" }\n"), "{text}");
        assert!(text.contains("  value = var.local_secret_legacy_value\n"), "{text}");
        assert!(
            text.contains("variable \"local_secret_legacy_value\" {\n  type      = string\n  sensitive = true\n}"),
            "{text}"
        );
    }
}

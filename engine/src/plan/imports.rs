//! Import requests: `tenantform import` and the root module's `import {}` blocks, and what an
//! imported object takes from its configuration.

use crate::address::{InstanceAddr, Target};
use crate::diagnostics::{Diagnostic, Diagnostics, Span};
use crate::provider::Schema;
use crate::runtime::Schemas;
use crate::validate::Prepared;
use crate::value::Value;

use super::moved::address_of;

/// Import requests from the command line and the root module's `import {}` blocks; every
/// target must be declared by the configuration.
pub(super) fn import_requests(
    p: &Prepared,
    schemas: &Schemas,
    cli: &[(InstanceAddr, String)],
) -> Result<std::collections::HashMap<InstanceAddr, String>, Diagnostics> {
    let mut out: std::collections::HashMap<InstanceAddr, String> = cli.iter().cloned().collect();
    let mut diags = Diagnostics::new();
    for (to, id, span) in resolve_import_blocks(p, schemas)? {
        if !p.stack.by_addr.contains_key(&to) {
            diags.push(
                Diagnostic::error("import-target", format!("Import target {to} is not in the configuration"))
                    .with_span(span)
                    .with_label("no resource block declares this instance")
                    .with_help("add the resource block, or generate it with plan -generate-config-out=FILE"),
            );
            continue;
        }
        out.insert(to, id);
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(out)
    }
}

/// The root module's `import {}` blocks, expanded and evaluated: (target, ID, span of `to`).
pub fn resolve_import_blocks(
    p: &Prepared,
    schemas: &Schemas,
) -> Result<Vec<(InstanceAddr, String, Option<Span>)>, Diagnostics> {
    use crate::expand::EachData;
    let mut out = Vec::new();
    let root = &p.stack.config.root;
    if root.imports.is_empty() {
        return Ok(out);
    }
    let mut diags = Diagnostics::new();
    let (values, _) = crate::validate::validate_walk(&p.stack, &p.graph, schemas.registry());
    let scope_with = |each: Option<&EachData>| {
        let scope = crate::walk::NodeScope { stack: &p.stack, graph: &p.graph, values: &values, mi: 0, each: None };
        (scope, each.cloned())
    };
    for block in &root.imports {
        let items: Vec<Option<EachData>> = match &block.for_each {
            None => vec![None],
            Some(fe) => {
                let (scope, _) = scope_with(None);
                match crate::eval::eval(fe, &scope).map(|v| v.unmark_deep()) {
                    Ok(Value::Map(m)) => m
                        .into_iter()
                        .map(|(k, v)| Some(EachData { key: crate::address::InstanceKey::Str(k), value: v }))
                        .collect(),
                    Ok(Value::Set(items)) | Ok(Value::List(items)) if items.iter().all(|v| v.as_str().is_some()) => {
                        items
                            .into_iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .map(|k| {
                                Some(EachData {
                                    key: crate::address::InstanceKey::Str(k.clone()),
                                    value: Value::String(k),
                                })
                            })
                            .collect()
                    }
                    Ok(other) => {
                        diags.push(
                            Diagnostic::error("invalid-for-each", "Invalid for_each in an import block")
                                .with_span(fe.span())
                                .with_label(format!(
                                    "a map or a set of strings is required, got {}",
                                    other.type_name()
                                )),
                        );
                        continue;
                    }
                    Err(d) => {
                        diags.push(d);
                        continue;
                    }
                }
            }
        };
        for each in &items {
            let scope = crate::walk::NodeScope {
                stack: &p.stack,
                graph: &p.graph,
                values: &values,
                mi: 0,
                each: each.as_ref(),
            };
            let to = match address_of(p, &block.to, Some(&scope)) {
                Ok(Target::Instance(i)) => i,
                Ok(Target::Resource(r)) => r.instance(crate::address::InstanceKey::None),
                Ok(Target::Module(m)) => {
                    diags.push(
                        Diagnostic::error("invalid-address", "An import target must be a resource instance")
                            .with_span(block.to.span())
                            .with_label(format!("{m} is a module or tenant")),
                    );
                    continue;
                }
                Err(d) => {
                    diags.push(d);
                    continue;
                }
            };
            match crate::eval::eval(&block.id, &scope) {
                Ok(v) => match v.unmark_deep() {
                    Value::String(id) => {
                        out.push((to, id, block.to.span()));
                    }
                    other => diags.push(
                        Diagnostic::error("invalid-import-id", "The import ID must be a known string")
                            .with_span(block.id.span())
                            .with_label(format!("got {}", other.type_name())),
                    ),
                },
                Err(d) => diags.push(d),
            }
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(out)
    }
}

/// After an import: attributes the provider cannot read back take their configured value
/// (see [`crate::provider::AttributeSchema::from_config_on_import`]).
pub(super) fn adopt_unreadable(imported: Value, config: &Value, schema: &Schema) -> Value {
    let Value::Map(mut m) = imported else { return imported };
    for (name, a) in &schema.attributes {
        if a.from_config_on_import {
            let c = config.get(name).cloned().unwrap_or(Value::Null).unmark_deep();
            let v = if c.is_null() { a.default.clone().unwrap_or(Value::Null) } else { c };
            m.insert(name.clone(), v);
        }
    }
    Value::Map(m)
}

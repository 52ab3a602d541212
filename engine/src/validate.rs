//! `validate`: everything that can be checked without state or credentials — syntax,
//! references, types, tenant slugs, cycles, and resource arguments against provider schemas.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::address::Mode;
use crate::config::{load_with_sources, Config, LoadOptions};
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, Sources};
use crate::expand::Stack;
use crate::graph::{Node, StackGraph};
use crate::inputs::{resolve_inputs, InputSources};
use crate::provider::ProviderRegistry;
use crate::value::Value;
use crate::walk::{mark_schema_sensitive, with_unknown_computed, Walker};

/// A loaded, expanded and graphed stack.
pub struct Prepared {
    pub sources: Arc<Sources>,
    pub stack: Stack,
    pub graph: StackGraph,
    pub warnings: Diagnostics,
}

/// Loads, expands and builds the graph. On failure, the sources (for rendering) and every
/// diagnostic found.
pub fn prepare(
    dir: &Path,
    input_sources: &InputSources,
    lenient: bool,
    opts: &LoadOptions,
) -> Result<Prepared, (Arc<Sources>, Diagnostics)> {
    let loaded = load_with_sources(dir, opts);
    let mut sources = loaded.sources;
    let mut diags = loaded.diags;
    let Some(config) = loaded.config else { return Err((Arc::new(sources), diags)) };
    let (inputs, input_diags) = resolve_inputs(&config, input_sources, &mut sources);
    diags.extend(input_diags);
    let sources = Arc::new(sources);
    if diags.has_errors() {
        return Err((sources, diags));
    }
    Ok(prepare_config(sources, config, inputs, lenient, diags)?)
}

/// "No value for required variable", as Terraform says it.
pub fn missing_variable(name: &str, span: crate::diagnostics::Span) -> Diagnostic {
    Diagnostic::error("missing-variable", format!("No value for required variable \"{name}\""))
        .with_span(Some(span))
        .with_label("this variable has no default")
        .with_help(format!(
            "set it with -var '{name}=…', a .tfvars file, or the environment variable TENANTFORM_VAR_{name}"
        ))
}

/// Expands and graphs an already loaded configuration.
pub fn prepare_config(
    sources: Arc<Sources>,
    config: Config,
    inputs: BTreeMap<String, Value>,
    lenient: bool,
    mut diags: Diagnostics,
) -> Result<Prepared, (Arc<Sources>, Diagnostics)> {
    // A required root variable without a value is reported as such, every one at once, before
    // expansion could trip over its null in a `count` or `for_each`.
    if !lenient {
        let missing: Vec<Diagnostic> = config
            .root
            .variables
            .values()
            .filter(|v| v.default.is_none() && !inputs.contains_key(&v.name))
            .map(|v| missing_variable(&v.name, v.span))
            .collect();
        if !missing.is_empty() {
            for d in missing {
                diags.push(d);
            }
            return Err((sources, diags));
        }
    }
    let stack = match Stack::expand(Arc::new(config), inputs, lenient) {
        Ok(s) => s,
        Err(d) => {
            diags.extend(d);
            return Err((sources, diags));
        }
    };
    let graph = match StackGraph::build(&stack) {
        Ok(g) => g,
        Err(d) => {
            diags.extend(d);
            return Err((sources, diags));
        }
    };
    Ok(Prepared { sources, stack, graph, warnings: diags })
}

/// Walks the whole graph evaluating every node, with resources as their configuration plus
/// unknown computed attributes. Returns every problem found.
pub fn validate(stack: &Stack, graph: &StackGraph, registry: &ProviderRegistry) -> Diagnostics {
    validate_walk(stack, graph, registry).1
}

/// Like [`validate`], also returning every node's value (for `console`).
pub fn validate_walk(
    stack: &Stack,
    graph: &StackGraph,
    registry: &ProviderRegistry,
) -> (Vec<Option<Value>>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut seen = std::collections::HashSet::new();
    let mut push = |diags: &mut Diagnostics, d: Diagnostic| {
        // Module configurations are shared by many instances: report each location once.
        if seen.insert((d.span, d.summary.clone())) {
            diags.push(d);
        }
    };
    let mut w = Walker::new(stack, graph);
    while let Some(n) = w.next_ready() {
        let result = match &graph.graph[n] {
            Node::Resource(ri) => {
                let r = &stack.resources[*ri];
                let schema = match r.config.mode {
                    Mode::Managed => registry.resource_schema(&r.config.ty).map(|s| &s.schema),
                    Mode::Data => registry.data_source_schema(&r.config.ty),
                };
                match schema {
                    None => Err(unknown_type(registry, r.config.mode, &r.config.ty, r.config.type_span)),
                    Some(schema) => match w.eval_resource_config(*ri, schema) {
                        Ok(cfg) => Ok(mark_schema_sensitive(with_unknown_computed(&cfg, schema), schema)),
                        Err(ds) => {
                            for d in ds {
                                push(&mut diags, d);
                            }
                            w.fail(n);
                            continue;
                        }
                    },
                }
            }
            _ => w.eval_node(n),
        };
        match result {
            Ok(v) => w.complete(n, v),
            Err(d) => {
                push(&mut diags, d);
                w.fail(n);
            }
        }
    }
    (w.values, diags)
}

/// "Unknown resource type", with a suggestion.
pub fn unknown_type(registry: &ProviderRegistry, mode: Mode, ty: &str, span: crate::diagnostics::Span) -> Diagnostic {
    let (kind, candidates): (&str, Vec<&str>) = match mode {
        Mode::Managed => ("resource type", registry.resource_types().collect()),
        Mode::Data => ("data source", registry.data_source_types().collect()),
    };
    let mut d = Diagnostic::error("unknown-resource-type", format!("Unknown {kind} \"{ty}\""))
        .with_span(Some(span))
        .with_label(format!("no provider offers this {kind}"));
    match did_you_mean(ty, candidates) {
        Some(s) => d = d.with_help(format!("did you mean \"{s}\"?")),
        None => {
            let provider = ty.split('_').next().unwrap_or(ty);
            if registry.get(provider).is_none() {
                d = d.with_help(format!(
                    "there is no provider \"{provider}\"; available providers: {}",
                    registry.names().collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }
    d
}

//! Root variable values from the outside world, with Terraform's precedence (lowest first):
//!
//! 1. environment variables `TENANTFORM_VAR_<name>`
//! 2. `tenantform.tfvars`, then `tenantform.tfvars.json` in the stack directory
//! 3. `*.auto.tfvars` / `*.auto.tfvars.json` in the stack directory, in lexical order
//! 4. `-var name=value` and `-var-file FILE`, in command-line order
//!
//! Raw strings (`-var`, environment) are taken literally for `string` variables and parsed as
//! HCL expressions otherwise, as Terraform does. The CLI gathers the raw material (it reads
//! flags and the environment); this module resolves it against the configuration.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::diagnostics::{Diagnostic, Diagnostics, Sources, Span};
use crate::eval::{eval, MapScope};
use crate::types::Type;
use crate::value::Value;

/// One command-line or environment input, in precedence order.
#[derive(Clone, Debug, PartialEq)]
pub enum RawInput {
    /// `-var name=value` (`origin` names it in errors).
    Var { name: String, text: String, origin: String },
    /// `-var-file FILE`.
    File(PathBuf),
}

/// Everything the CLI collected.
#[derive(Clone, Debug, Default)]
pub struct InputSources {
    /// `(name, value)` of every `TENANTFORM_VAR_*` environment variable.
    pub env: Vec<(String, String)>,
    /// `-var` and `-var-file` in command-line order.
    pub args: Vec<RawInput>,
    /// Skip `tenantform.tfvars` and `*.auto.tfvars` (used when a saved plan supplies values).
    pub no_auto_files: bool,
}

/// The environment prefix for variables.
pub const ENV_PREFIX: &str = "TENANTFORM_VAR_";

/// Collects `TENANTFORM_VAR_*` from an environment listing.
pub fn env_inputs(vars: impl IntoIterator<Item = (String, String)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        vars.into_iter().filter_map(|(k, v)| k.strip_prefix(ENV_PREFIX).map(|n| (n.to_string(), v))).collect();
    out.sort();
    out
}

/// Resolves input sources to root variable values. Variables files are added to `sources` so
/// that their diagnostics render like any other.
pub fn resolve_inputs(
    config: &Config,
    src: &InputSources,
    sources: &mut Sources,
) -> (BTreeMap<String, Value>, Diagnostics) {
    let mut values = BTreeMap::new();
    let mut diags = Diagnostics::new();
    let ty_of = |name: &str| config.root.variables.get(name).map(|v| v.ty.clone());

    for (name, text) in &src.env {
        // Undeclared environment variables are ignored: the environment is shared.
        if let Some(ty) = ty_of(name) {
            match raw_value(text, &ty) {
                Ok(v) => {
                    values.insert(name.clone(), v);
                }
                Err(e) => diags.push(
                    Diagnostic::error("invalid-input", format!("Invalid value in {ENV_PREFIX}{name}")).with_detail(e),
                ),
            }
        }
    }
    if !src.no_auto_files {
        let mut files = Vec::new();
        for f in ["tenantform.tfvars", "tenantform.tfvars.json"] {
            let p = config.dir.join(f);
            if p.is_file() {
                files.push(p);
            }
        }
        let mut auto: Vec<PathBuf> = std::fs::read_dir(&config.dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                        n.ends_with(".auto.tfvars") || n.ends_with(".auto.tfvars.json")
                    })
                    .collect()
            })
            .unwrap_or_default();
        auto.sort();
        files.extend(auto);
        for f in files {
            read_var_file(config, &f, &mut values, sources, &mut diags);
        }
    }
    for a in &src.args {
        match a {
            RawInput::Var { name, text, origin } => match ty_of(name) {
                Some(ty) => match raw_value(text, &ty) {
                    Ok(v) => {
                        values.insert(name.clone(), v);
                    }
                    Err(e) => diags.push(
                        Diagnostic::error(
                            "invalid-input",
                            format!("Invalid value for variable \"{name}\" in {origin}"),
                        )
                        .with_detail(e),
                    ),
                },
                None => diags.push(
                    Diagnostic::error("undeclared-variable", format!("Value for undeclared variable \"{name}\""))
                        .with_label(format!("{origin} sets it, but the root module declares no variable \"{name}\""))
                        .with_help(
                            crate::diagnostics::did_you_mean(name, config.root.variables.keys().map(String::as_str))
                                .map(|s| format!("did you mean \"{s}\"?"))
                                .unwrap_or_else(|| format!("declare it with variable \"{name}\" {{}}")),
                        ),
                ),
            },
            RawInput::File(p) => read_var_file(config, p, &mut values, sources, &mut diags),
        }
    }
    (values, diags)
}

/// A raw string for a variable of type `ty`: literal for strings, an HCL expression otherwise.
fn raw_value(text: &str, ty: &Type) -> Result<Value, String> {
    if matches!(ty, Type::String) {
        return Ok(Value::String(text.to_string()));
    }
    let scope = MapScope::default();
    match crate::eval::eval_source(text, &scope) {
        Ok(v) => Ok(v),
        // `any` accepts a bare word as a string, as Terraform does.
        Err(_) if matches!(ty, Type::Any) => Ok(Value::String(text.to_string())),
        Err((_, d)) => Err(format!("{}: {}", d.summary, d.label.unwrap_or_default())),
    }
}

fn read_var_file(
    config: &Config,
    path: &Path,
    values: &mut BTreeMap<String, Value>,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            diags.push(
                Diagnostic::error("io", format!("Cannot read variables file {}", path.display()))
                    .with_detail(e.to_string()),
            );
            return;
        }
    };
    let file = sources.add(path.display().to_string(), path, text.as_str());
    let is_json = path.extension().is_some_and(|e| e == "json");
    if is_json {
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(m)) => {
                for (k, v) in m {
                    if config.root.variables.contains_key(&k) {
                        values.insert(k, Value::from_json(&v));
                    } else {
                        diags.push(undeclared_warning(&k, path, None));
                    }
                }
            }
            Ok(_) => {
                diags.push(Diagnostic::error("invalid-input", format!("{} must hold a JSON object", path.display())))
            }
            Err(e) => diags.push(
                Diagnostic::error("syntax", format!("Invalid JSON in {}", path.display())).with_detail(e.to_string()),
            ),
        }
        return;
    }
    let body = match hcl_edit::parser::parse_body(&text) {
        Ok(b) => b,
        Err(e) => {
            let off = e.location().offset().min(text.len());
            diags.push(
                Diagnostic::error("syntax", "Syntax error in variables file")
                    .with_span(Some(Span::new(file, off..(off + 1).min(text.len()))))
                    .with_label(e.message().to_string()),
            );
            return;
        }
    };
    let scope = MapScope { base_dir: path.parent().unwrap_or(Path::new(".")).to_path_buf(), ..MapScope::default() };
    for attr in body.into_attributes() {
        let name = attr.key.value().to_string();
        let span = hcl_edit::Span::span(&attr.key).map(|r| Span::new(file, r));
        if !config.root.variables.contains_key(&name) {
            diags.push(undeclared_warning(&name, path, span));
            continue;
        }
        let expr = crate::config::Expr { file, expr: attr.value };
        match eval(&expr, &scope) {
            Ok(v) => {
                values.insert(name, v);
            }
            Err(d) => diags.push(d.with_help("variables files hold literal values only")),
        }
    }
}

fn undeclared_warning(name: &str, path: &Path, span: Option<Span>) -> Diagnostic {
    Diagnostic::warning("undeclared-variable", format!("Value for undeclared variable \"{name}\""))
        .with_span(span)
        .with_label(format!("{} sets it, but no variable \"{name}\" is declared", path.display()))
}

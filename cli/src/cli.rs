//! Command-line shape (clap). Plain data: commands turn it into engine calls.
//!
//! Terraform users type single-dash long flags (`-auto-approve`, `-var-file=x`); clap wants
//! two dashes, so [`normalize_args`] rewrites them before parsing. Both forms work.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use tenantform_engine::inputs::RawInput;

#[derive(Parser, Debug)]
#[command(name = "tenantform", version, about = "Plan and apply per-tenant infrastructure stacks", long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// Switch to this directory before doing anything (the stack directory).
    #[arg(long = "chdir", global = true, value_name = "DIR")]
    pub chdir: Option<PathBuf>,
    /// Disable colour in output.
    #[arg(long = "no-color", global = true)]
    pub no_color: bool,
}

/// `-var` / `-var-file` (their order is recovered from the raw arguments).
#[derive(Args, Debug, Clone, Default)]
pub struct VarArgs {
    /// Set a root variable: -var 'name=value' (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub var: Vec<String>,
    /// Load root variables from a .tfvars file (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_file: Vec<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check the configuration: syntax, references, types, tenant slugs, cycles, schemas.
    Validate(crate::commands::validate::ValidateArgs),
    /// Rewrite configuration files in the canonical format.
    Fmt(crate::commands::fmt::FmtArgs),
    /// Print the resource dependency graph in DOT format.
    Graph(crate::commands::graph::GraphArgs),
    /// Evaluate expressions against the configuration (reads lines from stdin).
    Console(crate::commands::console::ConsoleArgs),
    /// Show what would change (refresh, then diff configuration against state).
    Plan(crate::commands::plan::PlanArgs),
    /// Make the changes: plan (or take a saved plan), confirm, apply under a lock.
    Apply(crate::commands::apply::ApplyArgs),
    /// Destroy every object in scope (`--tenant SLUG` deprovisions one tenant).
    Destroy(crate::commands::apply::DestroyArgs),
    /// Show a saved plan or the current state.
    Show(crate::commands::show::ShowArgs),
    /// Show output values from state.
    Output(crate::commands::output::OutputArgs),
    /// Record an existing object in state at an address the configuration declares.
    Import(crate::commands::import::ImportArgs),
    /// Inspect and change state records (list, show, mv, rm, pull, push, history, rollback).
    State(crate::commands::state::StateArgs),
    /// Every tenant with its status (pending, active, drifted, failed, orphaned).
    Tenants(crate::commands::tenants::TenantsArgs),
    /// Report objects changed outside tenantform (exit 2 when any did).
    Drift(crate::commands::tenants::DriftArgs),
    /// Release a state lock whose holder is gone.
    ForceUnlock(crate::commands::force_unlock::ForceUnlockArgs),
    /// The local hostname router (started by local_hostname; not for direct use).
    #[command(name = "__router", hide = true)]
    Router(crate::commands::router::RouterArgs),
}

/// Rewrites `-flag` and `-flag=value` (single dash, several letters) to `--flag…`.
pub fn normalize_args(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut out = Vec::new();
    let mut rest_verbatim = false;
    for (i, a) in args.into_iter().enumerate() {
        if i == 0 || rest_verbatim {
            out.push(a);
            continue;
        }
        let Some(s) = a.to_str() else {
            out.push(a);
            continue;
        };
        if s == "--" {
            rest_verbatim = true;
            out.push(a);
            continue;
        }
        let bytes = s.as_bytes();
        let looks_like_long = bytes.len() > 2
            && bytes[0] == b'-'
            && bytes[1].is_ascii_alphabetic()
            && bytes[2] != b'='
            && s[1..].split('=').next().is_some_and(|name| {
                name.len() > 1 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            });
        if looks_like_long {
            out.push(OsString::from(format!("-{s}")));
        } else {
            out.push(a);
        }
    }
    out
}

/// `-var`/`-var-file` values in command-line order (after [`normalize_args`]).
pub fn ordered_var_args(argv: &[OsString]) -> Vec<RawInput> {
    let mut out = Vec::new();
    let mut it = argv.iter().filter_map(|a| a.to_str()).peekable();
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (a, None),
        };
        let value = match flag {
            "--var" | "--var-file" => match inline {
                Some(v) => v,
                None => match it.next() {
                    Some(v) => v.to_string(),
                    None => continue,
                },
            },
            _ => continue,
        };
        if flag == "--var-file" {
            out.push(RawInput::File(PathBuf::from(value)));
        } else if let Some((name, text)) = value.split_once('=') {
            out.push(RawInput::Var {
                name: name.trim().to_string(),
                text: text.to_string(),
                origin: format!("-var '{value}'"),
            });
        } else {
            out.push(RawInput::Var {
                name: value.clone(),
                text: String::new(),
                origin: format!("-var '{value}' (expected NAME=VALUE)"),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(args: &[&str]) -> Vec<String> {
        normalize_args(args.iter().map(OsString::from)).into_iter().map(|a| a.into_string().unwrap()).collect()
    }

    #[test]
    fn single_dash_long_flags_become_double() {
        assert_eq!(
            norm(&["tf", "plan", "-out", "p", "-var=x=-1", "-var", "y=-z", "--tenant", "acme", "-v", "-"]),
            vec!["tf", "plan", "--out", "p", "--var=x=-1", "--var", "y=-z", "--tenant", "acme", "-v", "-"]
        );
        assert_eq!(norm(&["tf", "apply", "--", "-foo"]), vec!["tf", "apply", "--", "-foo"]);
    }

    #[test]
    fn var_order_is_kept() {
        let argv: Vec<OsString> =
            ["tf", "plan", "--var-file", "a.tfvars", "--var", "x=1", "--var=y=2"].iter().map(OsString::from).collect();
        let got = ordered_var_args(&argv);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], RawInput::File("a.tfvars".into()));
        assert!(matches!(&got[2], RawInput::Var { name, text, .. } if name == "y" && text == "2"));
    }
}

//! `tenantform console`: evaluates expressions (one per line of stdin) in the root module, or
//! inside a tenant with `--tenant`. Resource attributes are unknown; sensitive values print as
//! `(sensitive value)`.

use std::io::BufRead;
use std::process::ExitCode;

use clap::Args;
use tenantform_engine::config::{Expr, LoadOptions};
use tenantform_engine::diagnostics::{Sources, Span};
use tenantform_engine::eval::eval;
use tenantform_engine::validate::{prepare, validate_walk};
use tenantform_engine::walk::NodeScope;

use crate::cli::VarArgs;
use crate::context::Ctx;
use crate::diagnostics::report;

#[derive(Args, Debug)]
pub struct ConsoleArgs {
    /// Evaluate inside this tenant's module instance.
    #[arg(long = "tenant", value_name = "SLUG")]
    pub tenant: Option<String>,
    #[command(flatten)]
    pub vars: VarArgs,
}

pub fn run(args: ConsoleArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    let p = match prepare(&ctx.dir, &ctx.inputs, true, &LoadOptions::default()) {
        Ok(p) => p,
        Err((sources, diags)) => {
            report(&diags, &sources);
            return Ok(ExitCode::from(1));
        }
    };
    let (values, diags) = validate_walk(&p.stack, &p.graph, &ctx.registry);
    // Values that failed to evaluate show as unknown below; say why first.
    report(&diags, &p.sources);
    let mi = match &args.tenant {
        Some(t) => match p.stack.tenants.get(t) {
            Some(mi) => *mi,
            None => anyhow::bail!("no tenant \"{t}\" in this stack"),
        },
        None => 0,
    };
    let scope = NodeScope { stack: &p.stack, graph: &p.graph, values: &values, mi, each: None };
    let mut failed = false;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let text = format!("x = {line}\n");
        let mut sources = Sources::default();
        let file = sources.add("<console>", "<console>", text.as_str());
        let parsed = hcl_edit::parser::parse_body(&text);
        let expr = match parsed.map(|b| b.into_attributes().next()) {
            Ok(Some(a)) => Expr { file, expr: a.value },
            _ => {
                eprintln!("Error: cannot parse {line:?} as an expression");
                failed = true;
                continue;
            }
        };
        match eval(&expr, &scope) {
            Ok(v) => println!("{v}"),
            Err(mut d) => {
                failed = true;
                // The expression was parsed as `x = <line>`: show spans on the line itself.
                let mut shown = Sources::default();
                let line_file = shown.add("<console>", "<console>", line.as_str());
                let shift =
                    |s: Span| Span { file: line_file, start: s.start.saturating_sub(4), end: s.end.saturating_sub(4) };
                d.span = d.span.filter(|s| s.file == file).map(shift);
                d.labels.retain(|l| l.span.file == file);
                for l in &mut d.labels {
                    l.span = shift(l.span);
                }
                report(&d.into(), &shown);
            }
        }
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

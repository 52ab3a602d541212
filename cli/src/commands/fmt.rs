//! `tenantform fmt [-check] [-diff] [-recursive] [-list=false] [-write=false] [PATH…|-]`:
//! rewrites configuration files in the canonical format (comments kept), like `terraform fmt`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use tenantform_engine::diagnostics::{Diagnostic, Diagnostics, Sources, Span};
use tenantform_engine::fmt::format_source;

use crate::context::Ctx;
use crate::diagnostics::report;

#[derive(Args, Debug)]
pub struct FmtArgs {
    /// Change nothing; exit 3 when a file is not formatted (for CI).
    #[arg(long)]
    pub check: bool,
    /// Print the differences.
    #[arg(long)]
    pub diff: bool,
    /// Also process subdirectories.
    #[arg(long)]
    pub recursive: bool,
    /// List the files whose formatting differs (default true).
    #[arg(long, value_name = "BOOL", default_value = "true", action = clap::ArgAction::Set)]
    pub list: bool,
    /// Write the result back to the files (default true; false with -check).
    #[arg(long, value_name = "BOOL", default_value = "true", action = clap::ArgAction::Set)]
    pub write: bool,
    /// Files or directories (default: the stack directory); `-` reads stdin and writes stdout.
    pub paths: Vec<PathBuf>,
}

fn is_config(p: &Path) -> bool {
    let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    !n.starts_with('.') && (n.ends_with(".hcl") || n.ends_with(".tf") || n.ends_with(".tfvars"))
}

fn collect(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        let hidden = p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if p.is_dir() {
            if recursive && !hidden {
                collect(&p, recursive, out)?;
            }
        } else if is_config(&p) {
            out.push(p);
        }
    }
    Ok(())
}

fn syntax_diag(name: &str, text: &str, message: &str, offset: usize) -> (Sources, Diagnostics) {
    let mut sources = Sources::default();
    let file = sources.add(name, name, text);
    let offset = offset.min(text.len());
    let end = text[offset..].chars().next().map(|c| offset + c.len_utf8()).unwrap_or(offset);
    let d = Diagnostic::error("syntax", "Syntax error; the file was not formatted")
        .with_span(Some(Span::new(file, offset..end)))
        .with_label(message.to_string());
    (sources, d.into())
}

pub fn run(args: FmtArgs, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    if args.paths.len() == 1 && args.paths[0].as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        return match format_source(&text) {
            Ok(out) => {
                if args.check && out != text {
                    return Ok(ExitCode::from(3));
                }
                if !args.check {
                    std::io::stdout().write_all(out.as_bytes())?;
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                let (s, d) = syntax_diag("<stdin>", &text, &e.message, e.offset);
                report(&d, &s);
                Ok(ExitCode::from(1))
            }
        };
    }
    let roots = if args.paths.is_empty() { vec![ctx.dir.clone()] } else { args.paths.clone() };
    let mut files = Vec::new();
    for r in &roots {
        if r.is_dir() {
            collect(r, args.recursive, &mut files)?;
        } else if r.exists() {
            files.push(r.clone());
        } else {
            eprintln!("Error: no such file or directory: {}", r.display());
            return Ok(ExitCode::from(1));
        }
    }
    let mut unformatted = 0;
    let mut failed = false;
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", f.display()))?;
        let shown = f.strip_prefix(&ctx.dir).unwrap_or(&f).display().to_string();
        let out = match format_source(&text) {
            Ok(o) => o,
            Err(e) => {
                let (s, d) = syntax_diag(&shown, &text, &e.message, e.offset);
                report(&d, &s);
                failed = true;
                continue;
            }
        };
        if out == text {
            continue;
        }
        unformatted += 1;
        if args.list {
            println!("{shown}");
        }
        if args.diff {
            let diff = similar::TextDiff::from_lines(&text, &out);
            print!("{}", diff.unified_diff().header(&format!("old/{shown}"), &format!("new/{shown}")));
        }
        if args.write && !args.check {
            std::fs::write(&f, out).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", f.display()))?;
        }
    }
    if failed {
        return Ok(ExitCode::from(1));
    }
    Ok(if args.check && unformatted > 0 { ExitCode::from(3) } else { ExitCode::SUCCESS })
}

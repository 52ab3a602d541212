//! Rendering of engine diagnostics with miette: file, line, column, the underlined span, the
//! label, and the help. Output is deterministic without a terminal (no colour, fixed width),
//! which is what tests and CI logs see.

use std::fmt;
use std::io::IsTerminal;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, Severity as MSeverity, SourceSpan};
use tenantform_engine::diagnostics::{Diagnostic, Diagnostics, Severity, Sources, Span};

/// One engine diagnostic adapted to miette.
#[derive(Debug)]
struct Rendered {
    summary: String,
    code: String,
    severity: MSeverity,
    help: Option<String>,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Rendered>,
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary)
    }
}

impl std::error::Error for Rendered {}

impl miette::Diagnostic for Rendered {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }
    fn severity(&self) -> Option<MSeverity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(self.related.iter().map(|r| r as &dyn miette::Diagnostic)))
        }
    }
}

fn source_span(span: Span) -> SourceSpan {
    let len = (span.end.saturating_sub(span.start)).max(1) as usize;
    SourceSpan::new((span.start as usize).into(), len)
}

fn adapt(d: &Diagnostic, sources: &Sources) -> Rendered {
    let severity = match d.severity {
        Severity::Error => MSeverity::Error,
        Severity::Warning => MSeverity::Warning,
    };
    let mut summary = d.summary.clone();
    if let Some(detail) = &d.detail {
        summary = format!("{summary}: {detail}");
    }
    let mut labels = Vec::new();
    let mut related = Vec::new();
    let mut source = None;
    if let Some(span) = d.span.filter(|s| (s.file.0 as usize) < sources.len()) {
        let f = sources.get(span.file);
        source = Some(NamedSource::new(f.name.clone(), f.text.to_string()));
        labels.push(LabeledSpan::new_with_span(d.label.clone(), source_span(span)));
        for l in &d.labels {
            if l.span.file == span.file {
                labels.push(LabeledSpan::new_with_span(Some(l.message.clone()), source_span(l.span)));
            } else if (l.span.file.0 as usize) < sources.len() {
                let lf = sources.get(l.span.file);
                let (ll, lc) = lf.line_col(l.span.start as usize);
                related.push(Rendered {
                    summary: format!("{}\n  at {}:{ll}:{lc}", l.message, lf.name),
                    code: d.code.to_string(),
                    severity: MSeverity::Advice,
                    help: None,
                    source: Some(NamedSource::new(lf.name.clone(), lf.text.to_string())),
                    labels: vec![LabeledSpan::new_with_span(Some(l.message.clone()), source_span(l.span))],
                    related: Vec::new(),
                });
            }
        }
    } else if let Some(label) = &d.label {
        summary = format!("{summary}\n  {label}");
    }
    Rendered { summary, code: d.code.to_string(), severity, help: d.help.clone(), source, labels, related }
}

/// Renders diagnostics to a string (for stderr).
pub fn render(diags: &Diagnostics, sources: &Sources) -> String {
    let tty = crate::colour_allowed(std::io::stderr().is_terminal());
    let theme = if tty { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(if tty { 120 } else { 100 }).with_links(false);
    let mut out = String::new();
    // Errors first, then warnings, each in source order.
    let mut list: Vec<&Diagnostic> = diags.iter().collect();
    list.sort_by_key(|d| (std::cmp::Reverse(d.severity), d.span.map(|s| (s.file, s.start))));
    for d in list {
        let r = adapt(d, sources);
        let _ = handler.render_report(&mut out, &r);
        out.push('\n');
    }
    let errors = diags.errors().count();
    if errors > 1 {
        out.push_str(&format!("{errors} errors\n"));
    }
    out
}

/// Renders and prints diagnostics to stderr; returns whether there were errors.
pub fn report(diags: &Diagnostics, sources: &Sources) -> bool {
    if !diags.is_empty() {
        eprint!("{}", render(diags, sources));
    }
    diags.has_errors()
}

//! `tenantform fmt`: rewrites HCL source into the canonical layout, byte for byte what
//! `terraform fmt` (Terraform 1.11) produces, so teams can switch tools without a diff.
//!
//! # Why a token-level formatter and not hcl-edit's encoder
//!
//! `terraform fmt` is Go's `hclwrite` formatter plus three small syntax rewrites. `hclwrite`
//! does not pretty-print a tree: it keeps every token of the input and only recomputes the
//! spaces before each one, from per-line bracket counting (indentation), pairwise token rules
//! (spacing) and runs of consecutive lines (alignment of `=` and trailing comments). Its
//! quirks — which lines join an alignment group, how a multi-line call's closing line is
//! indented, that blank lines are never collapsed, that heredoc bodies are untouched but
//! `${ x }` inside them becomes `${x}` — all fall out of that token model. Re-encoding an
//! hcl-edit tree would need to reproduce them by decor surgery, with comments and blank lines
//! living in decor strings. So this module re-implements the token model:
//!
//! - `lexer` tokenizes like `hclsyntax`'s scanner (and rejects what it rejects lexically);
//! - hcl-edit parses the same source, which both validates the grammar — the engine loads
//!   configuration with the same parser, so a file it cannot load is not formatted — and
//!   gives spans for the rewrites Terraform applies on top of `hclwrite`: an attribute value
//!   that is a lone interpolation (`"${var.x}"`) is unwrapped to `var.x`, legacy variable type
//!   spellings (`"string"`, `list`) become `string` and `list(any)`, and block labels are
//!   re-quoted (`resource aws_x y` → `resource "aws_x" "y"`), dropping inline comments among them;
//! - `checks` refuses the few things hcl-edit accepts and Terraform does not, `rewrite`
//!   plans those rewrites, and `layout` recomputes the whitespace.
//!
//! The output is parsed again before it is returned: the formatter returns an error rather
//! than ever hand back a file the engine cannot read.
//!
//! # Where we differ from `terraform fmt`
//!
//! - On purpose: Terraform silently deletes block labels that contain `$` or `%`
//!   (`resource "a$b" "x" {}` becomes `resource "x" {}`) and rewrites `x[null]` and `x[true]`
//!   to `x[]`, artefacts of how `hclwrite` reads those tokens back; we keep the text.
//! - Which files count as valid: hcl-edit is the judge, plus a few checks (in this module) for
//!   what it accepts and Terraform does not (`%{ifx}`, `for a inb`, `x.0.1`, an expression
//!   continued after a heredoc's end marker). hcl-edit 0.8 rejects some valid files Terraform
//!   formats, e.g. a conditional inside a call or collection on the right of a binary operator
//!   (`a = 1 + f(x ? 1 : 0)`, fixed in hcl-edit 0.10); the engine cannot load those either.
//! - Labels are re-escaped without Unicode NFC normalisation, which Terraform applies.
//! - Alignment counts grapheme clusters with a small built-in approximation (combining marks,
//!   joiners, variation selectors, skin tones, flags) rather than the full Unicode tables.
//!
//! Like Terraform, and unlike many formatters, this never adds a final newline, never removes
//! blank lines at the end of the file, and keeps spaces after the last newline, so both tools'
//! `-check` modes agree on how files end. (`terraform fmt -` on stdin does end its output with
//! one newline: its terminal writer adds it. That is for the CLI to mirror.)
//!
//! This module owns layout only. Apart from Terraform's three rewrites above it changes nothing
//! but the whitespace between tokens: it never evaluates, never reorders or removes attributes
//! or blocks, and never touches the text inside strings, heredocs or comments.

mod checks;
mod layout;
mod lexer;
mod rewrite;

use std::fmt;

use crate::diagnostics::{Diagnostic, FileId, Span};

/// A syntax error that stops formatting: what is wrong and the byte offset in the input where
/// it was found, so the CLI can point at it.
#[derive(Debug, Clone, PartialEq)]
pub struct FormatError {
    pub message: String,
    pub offset: usize,
}

impl FormatError {
    /// The 1-based line and column (in characters) of [`FormatError::offset`] within `src`, the
    /// text that was passed to [`format_source`].
    pub fn line_col(&self, src: &str) -> (usize, usize) {
        let mut offset = self.offset.min(src.len());
        while !src.is_char_boundary(offset) {
            offset -= 1;
        }
        // A byte order mark is invisible in editors, so it takes no column.
        let before = src[..offset].trim_start_matches('\u{feff}');
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }
}

impl FormatError {
    /// The error as a diagnostic on `file` (the source that was formatted), pointing at the
    /// character at [`FormatError::offset`], for the CLI to render like any other.
    pub fn to_diagnostic(&self, file: FileId, src: &str) -> Diagnostic {
        let mut start = self.offset.min(src.len());
        while !src.is_char_boundary(start) {
            start -= 1;
        }
        let end = src[start..].chars().next().map_or(start, |c| start + c.len_utf8());
        Diagnostic::error("syntax-error", "Invalid HCL syntax: nothing was formatted")
            .with_span(Some(Span::new(file, start..end)))
            .with_label(self.message.clone())
    }
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.offset)
    }
}

impl std::error::Error for FormatError {}

/// Formats one HCL file the way `terraform fmt` does.
///
/// # Errors
///
/// Returns a [`FormatError`] when `src` is not valid HCL native syntax; nothing is formatted
/// then, so a broken file is never mangled further.
pub fn format_source(src: &str) -> Result<String, FormatError> {
    // Terraform drops a UTF-8 byte order mark.
    let (bom, text) = match src.strip_prefix('\u{feff}') {
        Some(text) => (src.len() - text.len(), text),
        None => (0, src),
    };
    format_text(text).map_err(|mut err| {
        err.offset = (err.offset + bom).min(src.len());
        err
    })
}

fn format_text(src: &str) -> Result<String, FormatError> {
    let tokens = lexer::lex(src)?;
    checks::check_tokens(&tokens)?;
    let body = hcl_edit::parser::parse_body(src).map_err(|err| FormatError {
        message: err.message().to_string(),
        offset: err.location().offset().min(src.len()),
    })?;

    let mut edits = Vec::new();
    rewrite::collect_edits(&tokens, &body, &mut Vec::new(), &mut edits)?;
    let mut tokens = rewrite::apply_edits(tokens, edits);
    layout::layout(&mut tokens);

    let mut out = String::with_capacity(src.len() + src.len() / 8);
    for tok in &tokens {
        out.extend(std::iter::repeat_n(' ', tok.spaces));
        out.push_str(&tok.text);
    }

    if let Err(err) = hcl_edit::parser::parse_body(&out) {
        return Err(FormatError {
            message: format!(
                "internal formatter error: the formatted text would not parse ({}); \
                 the file was left unchanged",
                err.message()
            ),
            offset: 0,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_location() {
        let err = FormatError { message: String::new(), offset: 7 };
        assert_eq!(err.line_col("a = 1\nb = ="), (2, 2));
    }

    #[test]
    fn errors_become_diagnostics_pointing_at_one_character() {
        let src = "a = \"é\nb";
        let err = format_source(src).unwrap_err();
        let diag = err.to_diagnostic(FileId(0), src);
        assert_eq!(diag.code, "syntax-error");
        let span = diag.span.unwrap();
        assert_eq!(&src[span.range()], "\n");
        assert_eq!(diag.label.as_deref(), Some(err.message.as_str()));
    }

    #[test]
    fn simple_alignment() {
        assert_eq!(format_source("a=1\nbbb  =  2\n").unwrap(), "a   = 1\nbbb = 2\n");
    }
}

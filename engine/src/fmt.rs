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
//! - [`lexer`] tokenizes like `hclsyntax`'s scanner (and rejects what it rejects lexically);
//! - hcl-edit parses the same source, which both validates the grammar — the engine loads
//!   configuration with the same parser, so a file it cannot load is not formatted — and
//!   gives spans for the rewrites Terraform applies on top of `hclwrite`: an attribute value
//!   that is a lone interpolation (`"${var.x}"`) is unwrapped to `var.x`, legacy variable type
//!   spellings (`"string"`, `list`) become `string` and `list(any)`, and block labels are
//!   re-quoted (`resource aws_x y` → `resource "aws_x" "y"`), dropping inline comments among them;
//! - [`layout`] recomputes the whitespace.
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

mod layout;
mod lexer;

use std::fmt;
use std::ops::Range;

use hcl_edit::structure::{BlockLabel, Body, Structure};
use hcl_edit::Span as _;

use crate::diagnostics::{Diagnostic, FileId, Span};

use lexer::{Kind, Token};

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
        let end = src[start..]
            .chars()
            .next()
            .map_or(start, |c| start + c.len_utf8());
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
    check_keywords(&tokens)?;
    let body = hcl_edit::parser::parse_body(src).map_err(|err| FormatError {
        message: err.message().to_string(),
        offset: err.location().offset().min(src.len()),
    })?;

    let mut edits = Vec::new();
    collect_edits(&tokens, &body, &mut Vec::new(), &mut edits)?;
    let mut tokens = apply_edits(tokens, edits);
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

/// Checks that Terraform's parser makes and hcl-edit's does not: hcl-edit reads `%{ifx}` as
/// `%{if x}` and `[for a inb : a]` as `[for a in b : a]`, where Terraform sees the identifiers
/// `ifx` and `inb`, and it reads `x.0.1` as two steps where Terraform sees the number `0.1`.
/// Such files are refused rather than silently given a meaning.
fn check_keywords(tokens: &[Token<'_>]) -> Result<(), FormatError> {
    for (i, tok) in tokens.iter().enumerate() {
        match tok.kind {
            Kind::TemplateControl => {
                let Some(next) = tokens.get(i + 1) else {
                    continue;
                };
                let known = ["if", "else", "endif", "for", "endfor"];
                if next.kind == Kind::Ident && !known.contains(&&*next.text) {
                    return Err(FormatError {
                        message: format!(
                            "{:?} is not a valid template control keyword; expected one of \
                             if, else, endif, for, endfor",
                            next.text
                        ),
                        offset: next.start,
                    });
                }
                if next.kind == Kind::Ident && next.text == "for" {
                    check_for_names(tokens, i + 1)?;
                }
            }
            Kind::Dot => {
                if let Some(next) = tokens.get(i + 1) {
                    if next.kind == Kind::NumberLit && next.text.contains('.') {
                        return Err(FormatError {
                            message: format!(
                                "invalid attribute access .{}: index with brackets instead",
                                next.text
                            ),
                            offset: next.start,
                        });
                    }
                }
            }
            Kind::OBrack | Kind::OBrace => {
                if let Some(kw) = significant(tokens, i + 1) {
                    if tokens[kw].kind == Kind::Ident && tokens[kw].text == "for" {
                        check_for_names(tokens, kw)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The first token at or after `from` that is not a newline.
fn significant(tokens: &[Token<'_>], from: usize) -> Option<usize> {
    (from..tokens.len()).find(|&i| tokens[i].kind != Kind::Newline)
}

/// After the `for` keyword at `kw`: when names follow (`for k, v`), `in` must come next.
fn check_for_names(tokens: &[Token<'_>], kw: usize) -> Result<(), FormatError> {
    let Some(first) = significant(tokens, kw + 1) else {
        return Ok(());
    };
    if tokens[first].kind != Kind::Ident {
        return Ok(());
    }
    let mut at = significant(tokens, first + 1);
    if let Some(comma) = at.filter(|&c| tokens[c].kind == Kind::Comma) {
        at = significant(tokens, comma + 1)
            .filter(|&v| tokens[v].kind == Kind::Ident)
            .and_then(|v| significant(tokens, v + 1));
    }
    match at {
        Some(j) if tokens[j].kind == Kind::Ident && tokens[j].text == "in" => Ok(()),
        other => Err(FormatError {
            message: "invalid 'for': the 'in' keyword must follow its name declarations"
                .to_string(),
            offset: other.map_or(tokens[first].start, |j| tokens[j].start),
        }),
    }
}

/// A heredoc's closing marker ends its line, and that newline ends the expression unless
/// brackets or parentheses are open. hcl-edit reads `x = <<EOT ... EOT` followed by `[0]` or
/// `? a : b` on the next line as one expression; Terraform rejects it. So do we.
fn check_heredoc_ends(expr: &[Token<'_>]) -> Result<(), FormatError> {
    let mut open: Vec<Kind> = Vec::new();
    for (i, tok) in expr.iter().enumerate() {
        match tok.kind {
            Kind::OParen | Kind::OBrack | Kind::OBrace => open.push(tok.kind),
            Kind::TemplateInterp | Kind::TemplateControl => open.push(tok.kind),
            Kind::CParen | Kind::CBrack | Kind::CBrace | Kind::TemplateSeqEnd => {
                open.pop();
            }
            Kind::CHeredoc => {
                let newline_ends_item = matches!(open.last(), None | Some(Kind::OBrace));
                let Some(next) = expr[i + 1..].iter().find(|t| t.kind != Kind::Newline) else {
                    continue;
                };
                let continues = match open.last() {
                    None => true,
                    Some(Kind::OBrace) => !matches!(
                        next.kind,
                        Kind::CBrace | Kind::Comma | Kind::Ident | Kind::OQuote | Kind::OParen
                    ),
                    Some(_) => false,
                };
                if newline_ends_item && continues {
                    return Err(FormatError {
                        message: "a heredoc's end marker ends the expression; to continue it \
                                  on the next line, wrap the heredoc in parentheses"
                            .to_string(),
                        offset: next.start,
                    });
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Replace `tokens[range]` with `tokens`.
struct Edit<'a> {
    range: Range<usize>,
    tokens: Vec<Token<'a>>,
}

fn apply_edits<'a>(tokens: Vec<Token<'a>>, mut edits: Vec<Edit<'a>>) -> Vec<Token<'a>> {
    edits.sort_by_key(|e| e.range.start);
    let mut out = Vec::with_capacity(tokens.len());
    let mut edits = edits.into_iter().peekable();
    let mut skip_until = 0;
    for (i, tok) in tokens.into_iter().enumerate() {
        while let Some(edit) = edits.next_if(|e| e.range.start <= i) {
            if edit.range.start >= skip_until {
                skip_until = edit.range.end;
                out.extend(edit.tokens);
            }
        }
        if i >= skip_until {
            out.push(tok);
        }
    }
    out
}

/// Indices of the tokens starting within `span`.
fn token_range(tokens: &[Token<'_>], span: &Range<usize>) -> Range<usize> {
    let start = tokens.partition_point(|t| t.start < span.start);
    let end = tokens.partition_point(|t| t.start < span.end).max(start);
    start..end
}

/// Narrows `range` to an expression's own tokens, without surrounding comments and newlines.
fn trim_trivia(tokens: &[Token<'_>], mut range: Range<usize>) -> Range<usize> {
    let trivia = |t: &Token<'_>| matches!(t.kind, Kind::Comment | Kind::Newline);
    while range.start < range.end && trivia(&tokens[range.start]) {
        range.start += 1;
    }
    while range.start < range.end && trivia(&tokens[range.end - 1]) {
        range.end -= 1;
    }
    range
}

fn collect_edits<'a>(
    tokens: &[Token<'a>],
    body: &Body,
    blocks: &mut Vec<String>,
    edits: &mut Vec<Edit<'a>>,
) -> Result<(), FormatError> {
    for structure in body {
        match structure {
            Structure::Attribute(attr) => {
                let Some(span) = attr.value.span() else {
                    continue;
                };
                let range = trim_trivia(tokens, token_range(tokens, &span));
                let expr = &tokens[range.clone()];
                check_heredoc_ends(expr)?;
                let is_variable_type =
                    blocks.len() == 1 && blocks[0] == "variable" && attr.key.as_str() == "type";
                let replacement = if is_variable_type {
                    legacy_type(expr)
                } else {
                    unwrap_interpolation(expr)
                };
                if let Some(tokens) = replacement {
                    edits.push(Edit { range, tokens });
                }
            }
            Structure::Block(block) => {
                if let Some(edit) = relabel(tokens, block)? {
                    edits.push(edit);
                }
                blocks.push(block.ident.as_str().to_string());
                collect_edits(tokens, &block.body, blocks, edits)?;
                blocks.pop();
            }
        }
    }
    Ok(())
}

/// `"${expr}"` → `expr`, as Terraform rewrites attribute values that are a single
/// interpolation (a Terraform 0.11 idiom). A value spanning lines is parenthesized so that it
/// still parses.
fn unwrap_interpolation<'a>(expr: &[Token<'a>]) -> Option<Vec<Token<'a>>> {
    let n = expr.len();
    if n < 5
        || expr[0].kind != Kind::OQuote
        || expr[1].kind != Kind::TemplateInterp
        || expr[n - 2].kind != Kind::TemplateSeqEnd
        || expr[n - 1].kind != Kind::CQuote
    {
        return None;
    }
    let inside = &expr[2..n - 2];
    let mut quotes = 0i32;
    for tok in inside {
        match tok.kind {
            Kind::OQuote => quotes += 1,
            Kind::CQuote => quotes -= 1,
            _ if quotes > 0 => {}
            // `"${a}${b}"` or `"${a}-x"`: a real template, not a lone interpolation.
            Kind::TemplateInterp | Kind::TemplateSeqEnd | Kind::QuotedLit => return None,
            _ => {}
        }
    }
    let first = inside.iter().position(|t| t.kind != Kind::Newline)?;
    let last = inside.iter().rposition(|t| t.kind != Kind::Newline)?;
    let trimmed = &inside[first..=last];
    let multi_line = trimmed.iter().any(|t| t.kind == Kind::Newline);
    let parenthesized = trimmed.len() > 1
        && trimmed[0].kind == Kind::OParen
        && trimmed[trimmed.len() - 1].kind == Kind::CParen;
    let mut out = Vec::with_capacity(trimmed.len() + 2);
    let wrap = multi_line && !parenthesized;
    if wrap {
        out.push(Token::synthetic(Kind::OParen, "("));
    }
    out.extend(trimmed.iter().cloned());
    if wrap {
        out.push(Token::synthetic(Kind::CParen, ")"));
    }
    Some(out)
}

/// Terraform's normalisation of a top-level `variable` block's `type`: bare `list`, `map` and
/// `set` gain `(any)`; the quoted 0.11 spellings `"string"`, `"list"`, `"map"` become
/// `string`, `list(string)` and `map(string)`.
fn legacy_type<'a>(expr: &[Token<'a>]) -> Option<Vec<Token<'a>>> {
    let call = |name: &'a str, arg: &'a str| {
        vec![
            Token::synthetic(Kind::Ident, name),
            Token::synthetic(Kind::OParen, "("),
            Token::synthetic(Kind::Ident, arg),
            Token::synthetic(Kind::CParen, ")"),
        ]
    };
    match expr {
        [tok] if tok.kind == Kind::Ident => match &*tok.text {
            "list" => Some(call("list", "any")),
            "map" => Some(call("map", "any")),
            "set" => Some(call("set", "any")),
            _ => None,
        },
        [open, lit, close]
            if open.kind == Kind::OQuote
                && lit.kind == Kind::QuotedLit
                && close.kind == Kind::CQuote =>
        {
            match &*lit.text {
                "string" => Some(vec![Token::synthetic(Kind::Ident, "string")]),
                "list" => Some(call("list", "string")),
                "map" => Some(call("map", "string")),
                _ => None,
            }
        }
        _ => None,
    }
}

fn label_span(label: &BlockLabel) -> Option<Range<usize>> {
    match label {
        BlockLabel::Ident(ident) => ident.span(),
        BlockLabel::String(string) => string.span(),
    }
}

/// Rewrites a block's labels as Terraform does: every label quoted and canonically escaped,
/// anything between the block type and the last label (inline comments) dropped.
fn relabel<'a>(
    tokens: &[Token<'a>],
    block: &hcl_edit::structure::Block,
) -> Result<Option<Edit<'a>>, FormatError> {
    let (Some(first), Some(last)) = (block.labels.first(), block.labels.last()) else {
        return Ok(None);
    };
    let (Some(ident_span), Some(first_span), Some(last_span)) =
        (block.ident.span(), label_span(first), label_span(last))
    else {
        return Ok(None);
    };
    let type_idx = token_range(tokens, &ident_span).start;
    if tokens.get(type_idx).map(|t| t.kind) != Some(Kind::Ident) {
        return Ok(None);
    }
    let all = token_range(tokens, &(first_span.start..last_span.end));
    if tokens[type_idx + 1..all.start.max(type_idx + 1)]
        .iter()
        .any(|t| t.kind != Kind::Comment)
    {
        return Err(internal_error(tokens[type_idx].start));
    }

    let mut replacement = Vec::new();
    let mut i = all.start;
    while i < all.end {
        let tok = &tokens[i];
        match tok.kind {
            Kind::Comment => i += 1,
            Kind::Ident => {
                push_label(&mut replacement, &tok.text);
                i += 1;
            }
            Kind::OQuote => {
                let mut text = String::new();
                let mut j = i + 1;
                while j < all.end && tokens[j].kind == Kind::QuotedLit {
                    text.push_str(&tokens[j].text);
                    j += 1;
                }
                if tokens.get(j).map(|t| t.kind) != Some(Kind::CQuote) {
                    return Err(FormatError {
                        message: "block labels must be literal strings: template sequences \
                                  (${ } and %{ }) are not allowed here; write $${ or %%{ \
                                  for a literal"
                            .to_string(),
                        offset: tokens.get(j).map_or(tok.start, |t| t.start),
                    });
                }
                let value = unescape(&text).map_err(|message| FormatError {
                    message,
                    offset: tok.start,
                })?;
                push_label(&mut replacement, &value);
                i = j + 1;
            }
            _ => {
                return Err(FormatError {
                    message: "invalid block label".to_string(),
                    offset: tok.start,
                })
            }
        }
    }
    Ok(Some(Edit {
        range: type_idx + 1..all.end.max(type_idx + 1),
        tokens: replacement,
    }))
}

fn internal_error(offset: usize) -> FormatError {
    FormatError {
        message: "internal formatter error: the parser and the tokenizer disagree about this \
                  block header; the file was left unchanged"
            .to_string(),
        offset,
    }
}

fn push_label<'a>(out: &mut Vec<Token<'a>>, value: &str) {
    out.push(Token::synthetic(Kind::OQuote, "\""));
    if !value.is_empty() {
        out.push(Token::synthetic(Kind::QuotedLit, escape(value)));
    }
    out.push(Token::synthetic(Kind::CQuote, "\""));
}

/// Decodes a quoted literal's escapes (`\n`, `\uXXXX`, `$${`, ...) to its value.
fn unescape(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let esc = chars.next().ok_or("unterminated escape sequence")?;
                match esc {
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    'u' | 'U' => {
                        let width = if esc == 'u' { 4 } else { 8 };
                        let hex: String = chars.by_ref().take(width).collect();
                        let code = (hex.len() == width)
                            .then(|| u32::from_str_radix(&hex, 16).ok())
                            .flatten()
                            .and_then(char::from_u32)
                            .ok_or_else(|| format!("invalid unicode escape \\{esc}{hex}"))?;
                        out.push(code);
                    }
                    other => return Err(format!("invalid escape sequence \\{other}")),
                }
            }
            '$' | '%' if chars.peek() == Some(&c) => {
                // `$${` and `%%{` stand for a literal `${` and `%{`.
                let mut ahead = chars.clone();
                ahead.next();
                if ahead.peek() == Some(&'{') {
                    chars.next();
                }
                out.push(c);
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Encodes `value` as quoted-literal text, as `hclwrite` generates string literals.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' | '%' => {
                out.push(c);
                if chars.peek() == Some(&'{') {
                    out.push(c);
                }
            }
            c if is_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out
}

/// Go's `unicode.IsPrint`, closely enough: letters, marks, numbers, punctuation, symbols and
/// the ASCII space, but no other spaces, controls or format characters.
fn is_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(c as u32,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F
        | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB
        | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF | 0xE0001 | 0xE0020..=0xE007F)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_round_trip() {
        for s in ["plain", "a\"b\\c", "${x}", "%{y}", "$x", "tab\there", "é😀"] {
            assert_eq!(unescape(&escape(s)).unwrap(), s);
        }
        assert_eq!(escape("${x}"), "$${x}");
        assert_eq!(unescape("\\u00e9").unwrap(), "é");
    }

    #[test]
    fn error_location() {
        let err = FormatError {
            message: String::new(),
            offset: 7,
        };
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
        assert_eq!(
            format_source("a=1\nbbb  =  2\n").unwrap(),
            "a   = 1\nbbb = 2\n"
        );
    }
}

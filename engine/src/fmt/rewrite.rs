//! The three rewrites `terraform fmt` makes on top of `hclwrite`'s whitespace layout, planned
//! from hcl-edit's syntax tree and applied to the token stream: a lone interpolation as an
//! attribute value is unwrapped (`"${var.x}"` → `var.x`), a top-level `variable` block's legacy
//! `type` is modernised (`"string"` → `string`, `list` → `list(any)`), and block labels are
//! re-quoted and re-escaped (`resource aws_x y` → `resource "aws_x" "y"`), dropping inline
//! comments among them. Nothing else here touches a token.

use std::ops::Range;

use hcl_edit::structure::{BlockLabel, Body, Structure};
use hcl_edit::Span as _;

use super::checks::check_heredoc_ends;
use super::lexer::{Kind, Token};
use super::FormatError;

/// Replace `tokens[range]` with `tokens`.
pub(super) struct Edit<'a> {
    range: Range<usize>,
    tokens: Vec<Token<'a>>,
}

pub(super) fn apply_edits<'a>(tokens: Vec<Token<'a>>, mut edits: Vec<Edit<'a>>) -> Vec<Token<'a>> {
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

pub(super) fn collect_edits<'a>(
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
                let is_variable_type = blocks.len() == 1 && blocks[0] == "variable" && attr.key.as_str() == "type";
                let replacement = if is_variable_type { legacy_type(expr) } else { unwrap_interpolation(expr) };
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
    let parenthesized =
        trimmed.len() > 1 && trimmed[0].kind == Kind::OParen && trimmed[trimmed.len() - 1].kind == Kind::CParen;
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
            if open.kind == Kind::OQuote && lit.kind == Kind::QuotedLit && close.kind == Kind::CQuote =>
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
fn relabel<'a>(tokens: &[Token<'a>], block: &hcl_edit::structure::Block) -> Result<Option<Edit<'a>>, FormatError> {
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
    if tokens[type_idx + 1..all.start.max(type_idx + 1)].iter().any(|t| t.kind != Kind::Comment) {
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
                let value = unescape(&text).map_err(|message| FormatError { message, offset: tok.start })?;
                push_label(&mut replacement, &value);
                i = j + 1;
            }
            _ => return Err(FormatError { message: "invalid block label".to_string(), offset: tok.start }),
        }
    }
    Ok(Some(Edit { range: type_idx + 1..all.end.max(type_idx + 1), tokens: replacement }))
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
}

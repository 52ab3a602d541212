//! Whitespace layout over a token stream, rule for rule what `hclwrite` (and so
//! `terraform fmt`) does: indentation from bracket counting per line, spacing between tokens
//! from their kinds, then vertical alignment of `=` and of trailing comments across
//! consecutive lines.
//!
//! It only rewrites each token's `spaces`; it never adds, drops or changes a token, so the
//! formatted file keeps exactly the input's tokens (comments, newlines, heredoc and template
//! text included). Knowledge of the HCL grammar stays out of here: that is the parent's job.

use super::lexer::{Kind, Token};

/// One physical line split into `hclwrite`'s three cells: `lead`, then an optional `assign`
/// cell (from an attribute's `=` on), then an optional trailing-comment cell. Indices are into
/// the token slice; `end` is exclusive and includes the line's terminating newline token.
#[derive(Debug, Clone, Copy)]
struct Line {
    start: usize,
    assign: Option<usize>,
    comment: Option<usize>,
    end: usize,
}

impl Line {
    fn lead_end(&self) -> usize {
        self.assign.or(self.comment).unwrap_or(self.end)
    }

    fn assign_end(&self) -> usize {
        self.comment.unwrap_or(self.end)
    }
}

/// Lays out `tokens` (which end with an EOF token) in place.
pub(crate) fn layout(tokens: &mut [Token<'_>]) {
    let lines = split_lines(tokens);
    indent(tokens, &lines);
    space(tokens, &lines);
    align(tokens, &lines);
}

fn split_lines(tokens: &[Token<'_>]) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, tok) in tokens.iter().enumerate() {
        if tok.kind == Kind::Eof {
            lines.push((start, i));
            start = usize::MAX;
            break;
        }
        if tok.ends_line() {
            lines.push((start, i + 1));
            start = i + 1;
        }
    }
    if start != usize::MAX && start < tokens.len() {
        lines.push((start, tokens.len()));
    }

    lines
        .into_iter()
        .map(|(start, end)| {
            let mut line = Line { start, assign: None, comment: None, end };
            if end - start > 1 && tokens[end - 1].kind == Kind::Comment {
                line.comment = Some(end - 1);
            }
            let lead_end = line.lead_end();
            if let Some(eq) = (start + 1..lead_end).find(|&i| tokens[i].kind == Kind::Equal) {
                // Only a whole expression on this line makes an alignable assignment; an
                // opening bracket left unclosed means a multi-line value starts here.
                let net: i32 = tokens[eq..lead_end].iter().map(Token::bracket_change).sum();
                if net == 0 {
                    line.assign = Some(eq);
                }
            }
            line
        })
        .collect()
}

fn indent(tokens: &mut [Token<'_>], lines: &[Line]) {
    let mut stack: Vec<i32> = Vec::new();
    for line in lines {
        if line.start == line.lead_end() {
            continue;
        }
        if tokens[line.start].kind == Kind::Newline {
            tokens[line.start].spaces = 0;
            continue;
        }
        let mut net = 0;
        for tok in &tokens[line.start..line.lead_end()] {
            net += tok.bracket_change();
            // Brackets inside a heredoc's body are text, not structure.
            if tok.kind == Kind::OHeredoc {
                break;
            }
        }
        if let Some(assign) = line.assign {
            net += tokens[assign..line.assign_end()].iter().map(Token::bracket_change).sum::<i32>();
        }
        if net < 0 {
            let mut closed = -net;
            while closed > 0 {
                let Some(top) = stack.last_mut() else { break };
                if closed >= *top {
                    closed -= *top;
                    stack.pop();
                } else {
                    *top -= closed;
                    closed = 0;
                }
            }
        }
        tokens[line.start].spaces = 2 * stack.len();
        if net > 0 {
            stack.push(net);
        }
    }
}

fn space(tokens: &mut [Token<'_>], lines: &[Line]) {
    for line in lines {
        space_cell(tokens, line.start, line.lead_end());
        if let Some(assign) = line.assign {
            tokens[assign].spaces = 1;
            space_cell(tokens, assign, line.assign_end());
        }
    }
}

fn space_cell(tokens: &mut [Token<'_>], start: usize, end: usize) {
    for i in start..end.saturating_sub(1) {
        let before = (i > start).then(|| tokens[i - 1].kind);
        let wants = space_after(&tokens[i], before, &tokens[i + 1]);
        tokens[i + 1].spaces = usize::from(wants);
    }
}

/// Whether `subject` is followed by a space when `after` comes next; `before` is the token
/// preceding `subject` in the same cell, if any.
fn space_after(subject: &Token<'_>, before: Option<Kind>, after: &Token<'_>) -> bool {
    use Kind::*;
    let (s, a) = (subject.kind, after.kind);
    let is_literal = |k| matches!(k, QuotedLit | StringLit);
    if a == Newline {
        return false;
    }
    if s == Ident && a == OParen {
        return false;
    }
    if (s == Ident && a == DoubleColon) || (s == DoubleColon && a == Ident) {
        return false;
    }
    if s == Dot || a == Dot {
        return false;
    }
    if a == Comma || a == Ellipsis {
        return false;
    }
    if s == Comma {
        return true;
    }
    if is_literal(s) || s == OQuote || s == OHeredoc || is_literal(a) || a == CQuote || a == CHeredoc {
        return false;
    }
    if s == Ident && subject.text == "in" && before == Some(Ident) {
        // `for x in [a, b]` must not read as an index into `in`.
        return true;
    }
    if a == OBrack && (s == Ident || s == NumberLit || subject.bracket_change() < 0) {
        return false;
    }
    if s == Bang {
        return false;
    }
    if s == Minus {
        // Negation hugs its operand; subtraction is spaced. Guess which from what precedes.
        return match before {
            None => false,
            Some(
                OParen | OBrace | OBrack | Equal | Colon | Comma | Question | Plus | Star | Slash | Percent | Minus
                | EqualOp | NotEqual | GreaterThan | GreaterThanEq | LessThan | LessThanEq | And | Or | Bang,
            ) => false,
            Some(_) => true,
        };
    }
    if s == OBrace || a == CBrace {
        // Braces are spaced inside (`{ a = 1 }`), except an empty pair: `{}`.
        return !(s == OBrace && a == CBrace);
    }
    if (s == TemplateInterp || s == TemplateControl) && a == OBrace {
        return true;
    }
    if s == CBrace && a == TemplateSeqEnd {
        return true;
    }
    if s == TemplateSeqEnd && (a == TemplateInterp || a == TemplateControl) {
        return false;
    }
    if subject.bracket_change() > 0 || after.bracket_change() < 0 {
        return false;
    }
    true
}

fn align(tokens: &mut [Token<'_>], lines: &[Line]) {
    // `=` first, since moving it moves the trailing comments too.
    for chain in chains(lines, |l| l.assign.is_some()) {
        let widths: Vec<usize> = chain.iter().map(|l| columns(&tokens[l.start..l.lead_end()])).collect();
        let max = widths.iter().copied().max().unwrap_or(0);
        for (line, width) in chain.iter().zip(widths) {
            if let Some(assign) = line.assign {
                tokens[assign].spaces = max - width + 1;
            }
        }
    }
    for chain in chains(lines, |l| l.comment.is_some()) {
        let widths: Vec<usize> = chain.iter().map(|l| columns(&tokens[l.start..l.assign_end()])).collect();
        let max = widths.iter().copied().max().unwrap_or(0);
        for (line, width) in chain.iter().zip(widths) {
            if let Some(comment) = line.comment {
                tokens[comment].spaces = max - width + 1;
            }
        }
    }
}

/// Runs of consecutive lines that all satisfy `member`.
fn chains(lines: &[Line], member: impl Fn(&Line) -> bool) -> Vec<&[Line]> {
    lines.split(|l| !member(l)).filter(|chain| !chain.is_empty()).collect()
}

/// Display columns of a token run as `hclwrite` counts them: spaces plus grapheme clusters.
fn columns(tokens: &[Token<'_>]) -> usize {
    tokens.iter().map(|t| t.spaces + graphemes(&t.text)).sum()
}

/// Approximates extended grapheme clusters without a segmentation table: combining marks,
/// variation selectors, emoji modifiers and zero-width joiner sequences do not start a new
/// cluster, and `\r\n` is one.
fn graphemes(text: &str) -> usize {
    if text.is_ascii() {
        return text.len() - text.matches("\r\n").count();
    }
    let mut count = 0;
    let mut prev: Option<char> = None;
    // Regional indicators pair up into flags.
    let mut regional_run = 0;
    for c in text.chars() {
        let regional = matches!(c as u32, 0x1F1E6..=0x1F1FF);
        let extends = matches!(c as u32,
            0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05BD | 0x0610..=0x061A
            | 0x064B..=0x065F | 0x0E31 | 0x0E34..=0x0E3A | 0x0E47..=0x0E4E
            | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x200C | 0x200D | 0x20D0..=0x20FF
            | 0xFE00..=0xFE0F | 0xFE20..=0xFE2F | 0x1F3FB..=0x1F3FF | 0xE0020..=0xE007F)
            || (c == '\n' && prev == Some('\r'))
            || (prev == Some('\u{200D}') && is_pictographic(c))
            || (regional && regional_run % 2 == 1);
        regional_run = if regional { regional_run + 1 } else { 0 };
        if !extends {
            count += 1;
        }
        prev = Some(c);
    }
    count
}

/// Roughly Unicode's `Extended_Pictographic`: what a zero-width joiner glues onto.
fn is_pictographic(c: char) -> bool {
    matches!(c as u32,
        0xA9 | 0xAE | 0x203C | 0x2049 | 0x2122 | 0x2139 | 0x2194..=0x21AA | 0x231A..=0x23FF
        | 0x24C2 | 0x25AA..=0x27BF | 0x2934 | 0x2935 | 0x2B05..=0x2B55 | 0x3030 | 0x303D
        | 0x3297 | 0x3299 | 0x1F000..=0x1FAFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grapheme_counts() {
        assert_eq!(graphemes("abc"), 3);
        assert_eq!(graphemes("a\r\n"), 2);
        assert_eq!(graphemes("e\u{301}"), 1);
        assert_eq!(graphemes("\u{1F469}\u{200D}\u{1F4BB}"), 1);
        assert_eq!(graphemes("\u{1F469}\u{200D}  \u{1F4BB}"), 4);
        assert_eq!(graphemes("é"), 1);
        assert_eq!(graphemes("\u{1F1E9}\u{1F1EA}\u{1F1E9}"), 2);
    }
}

//! Syntax rules Terraform's parser enforces and hcl-edit's does not, checked on the token
//! stream before formatting. Without them the formatter would accept (and give a meaning to)
//! files that `terraform fmt` and `terraform plan` reject. They only ever refuse input; they
//! never change what gets formatted.

use super::lexer::{Kind, Token};
use super::FormatError;

/// Checks that Terraform's parser makes and hcl-edit's does not: hcl-edit reads `%{ifx}` as
/// `%{if x}` and `[for a inb : a]` as `[for a in b : a]`, where Terraform sees the identifiers
/// `ifx` and `inb`, and it reads `x.0.1` as two steps where Terraform sees the number `0.1`.
/// Such files are refused rather than silently given a meaning.
pub(super) fn check_tokens(tokens: &[Token<'_>]) -> Result<(), FormatError> {
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
                            message: format!("invalid attribute access .{}: index with brackets instead", next.text),
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
            message: "invalid 'for': the 'in' keyword must follow its name declarations".to_string(),
            offset: other.map_or(tokens[first].start, |j| tokens[j].start),
        }),
    }
}

/// A heredoc's closing marker ends its line, and that newline ends the expression unless
/// brackets or parentheses are open. hcl-edit reads `x = <<EOT ... EOT` followed by `[0]` or
/// `? a : b` on the next line as one expression; Terraform rejects it. So do we.
pub(super) fn check_heredoc_ends(expr: &[Token<'_>]) -> Result<(), FormatError> {
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
                    Some(Kind::OBrace) => {
                        !matches!(next.kind, Kind::CBrace | Kind::Comma | Kind::Ident | Kind::OQuote | Kind::OParen)
                    }
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

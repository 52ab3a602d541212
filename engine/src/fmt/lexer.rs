//! The formatter's tokenizer: splits HCL native syntax into the same token kinds, with the same
//! boundaries where they matter, as Go's `hclsyntax` scanner that `terraform fmt` relies on.
//!
//! It owns lexical validity only (stray characters, strings split over lines, unterminated
//! strings, heredocs and templates); grammar is checked by hcl-edit in the parent module. Every
//! byte of the input ends up either inside a token or in the run of spaces/tabs before one, so
//! the token stream can always be written back out. It must never panic on any input.

use std::borrow::Cow;

use super::FormatError;

/// Token kinds, named after `hclsyntax.TokenType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    OBrace,
    CBrace,
    OBrack,
    CBrack,
    OParen,
    CParen,
    OQuote,
    CQuote,
    OHeredoc,
    CHeredoc,
    Star,
    Slash,
    Plus,
    Minus,
    Percent,
    Equal,
    EqualOp,
    NotEqual,
    LessThan,
    LessThanEq,
    GreaterThan,
    GreaterThanEq,
    And,
    Or,
    Bang,
    Dot,
    Comma,
    DoubleColon,
    Ellipsis,
    FatArrow,
    Question,
    Colon,
    TemplateInterp,
    TemplateControl,
    TemplateSeqEnd,
    /// Literal text inside a quoted template.
    QuotedLit,
    /// Literal text inside a heredoc template.
    StringLit,
    NumberLit,
    Ident,
    /// `#` and `//` comments include their terminating newline; `/* */` comments do not.
    Comment,
    Newline,
    Eof,
}

/// One token: its kind, its exact text, and how many bytes of spaces/tabs preceded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub(crate) kind: Kind,
    pub(crate) text: Cow<'a, str>,
    /// Number of spaces written before the token (the source's space/tab byte count until the
    /// layout pass recomputes it).
    pub(crate) spaces: usize,
    /// Byte offset of the token in the source; `usize::MAX` for tokens the formatter made.
    pub(crate) start: usize,
}

impl<'a> Token<'a> {
    pub(crate) fn synthetic(kind: Kind, text: impl Into<Cow<'a, str>>) -> Self {
        Token { kind, text: text.into(), spaces: 0, start: usize::MAX }
    }

    /// True for tokens that end a line: newlines and line comments, which carry their newline.
    pub(crate) fn ends_line(&self) -> bool {
        match self.kind {
            Kind::Newline => true,
            Kind::Comment => self.text.ends_with('\n'),
            _ => false,
        }
    }

    /// +1 for openers, -1 for closers, as `hclwrite` counts brackets for indentation.
    pub(crate) fn bracket_change(&self) -> i32 {
        match self.kind {
            Kind::OBrace | Kind::OBrack | Kind::OParen | Kind::TemplateControl => 1,
            Kind::TemplateInterp => 1,
            Kind::CBrace | Kind::CBrack | Kind::CParen | Kind::TemplateSeqEnd => -1,
            _ => 0,
        }
    }
}

/// What the scanner is inside of.
enum Mode {
    /// Expression tokens (the top level, or inside `${ }` / `%{ }`).
    Main,
    /// A `"..."` template.
    Quoted,
    /// A heredoc body waiting for a line that is just `marker`.
    Heredoc { marker: String, start_of_line: bool },
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    spaces: usize,
    tokens: Vec<Token<'a>>,
    modes: Vec<Mode>,
    /// Current `{` nesting depth in expression mode.
    braces: usize,
    /// Brace depths at which an open `${`/`%{` returns to its template.
    returns: Vec<usize>,
}

fn error(message: impl Into<String>, offset: usize) -> FormatError {
    FormatError { message: message.into(), offset }
}

/// Splits `src` into tokens, ending with one [`Kind::Eof`] token.
pub(crate) fn lex(src: &str) -> Result<Vec<Token<'_>>, FormatError> {
    let mut lexer =
        Lexer { src, pos: 0, spaces: 0, tokens: Vec::new(), modes: vec![Mode::Main], braces: 0, returns: Vec::new() };
    lexer.run()?;
    Ok(lexer.tokens)
}

pub(crate) fn is_ident_start(c: char) -> bool {
    c == '_' || unicode_ident::is_xid_start(c)
}

pub(crate) fn is_ident_continue(c: char) -> bool {
    c == '-' || unicode_ident::is_xid_continue(c)
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn push(&mut self, kind: Kind, len: usize) {
        let start = self.pos;
        let end = (start + len).min(self.src.len());
        self.tokens.push(Token { kind, text: Cow::Borrowed(&self.src[start..end]), spaces: self.spaces, start });
        self.spaces = 0;
        self.pos = end;
    }

    fn run(&mut self) -> Result<(), FormatError> {
        loop {
            let done = match self.modes.last() {
                None | Some(Mode::Main) => self.main()?,
                Some(Mode::Quoted) => self.quoted()?,
                Some(Mode::Heredoc { .. }) => self.heredoc()?,
            };
            if done {
                break;
            }
        }
        if self.modes.len() > 1 {
            let what = match self.modes.last() {
                Some(Mode::Quoted) => "unterminated template string",
                Some(Mode::Heredoc { .. }) => "unterminated heredoc: no line holds its end marker",
                _ => "unclosed template interpolation or directive",
            };
            return Err(error(what, self.src.len()));
        }
        self.push(Kind::Eof, 0);
        Ok(())
    }

    /// Scans one token in expression mode. Returns true at end of input.
    fn main(&mut self) -> Result<bool, FormatError> {
        let rest = self.rest();
        let Some(c) = rest.chars().next() else {
            return Ok(true);
        };
        let b = rest.as_bytes();
        let at = |i: usize| b.get(i).copied().unwrap_or(0);
        match c {
            ' ' | '\t' => {
                self.spaces += 1;
                self.pos += 1;
            }
            '\n' => self.push(Kind::Newline, 1),
            '\r' if at(1) == b'\n' => self.push(Kind::Newline, 2),
            '0'..='9' => {
                let len = number_len(b);
                self.push(Kind::NumberLit, len);
            }
            '#' => self.push(Kind::Comment, line_comment_len(rest)),
            '/' if at(1) == b'/' => self.push(Kind::Comment, line_comment_len(rest)),
            '/' if at(1) == b'*' => match rest[2..].find("*/") {
                Some(i) => self.push(Kind::Comment, i + 4),
                None => return Err(error("unterminated block comment", self.pos)),
            },
            '=' if at(1) == b'=' => self.push(Kind::EqualOp, 2),
            '=' if at(1) == b'>' => self.push(Kind::FatArrow, 2),
            '!' if at(1) == b'=' => self.push(Kind::NotEqual, 2),
            '>' if at(1) == b'=' => self.push(Kind::GreaterThanEq, 2),
            '<' if at(1) == b'=' => self.push(Kind::LessThanEq, 2),
            '<' if at(1) == b'<' => match heredoc_intro(rest) {
                Some((len, marker)) => {
                    self.push(Kind::OHeredoc, len);
                    self.modes.push(Mode::Heredoc { marker, start_of_line: true });
                }
                None => self.push(Kind::LessThan, 1),
            },
            '&' if at(1) == b'&' => self.push(Kind::And, 2),
            '|' if at(1) == b'|' => self.push(Kind::Or, 2),
            ':' if at(1) == b':' => self.push(Kind::DoubleColon, 2),
            '.' if at(1) == b'.' && at(2) == b'.' => self.push(Kind::Ellipsis, 3),
            '~' if at(1) == b'}' => {
                if self.returns.last() != Some(&self.braces) {
                    return Err(error("unexpected `~}` outside a template sequence", self.pos));
                }
                self.close_sequence(2);
            }
            '[' => self.push(Kind::OBrack, 1),
            ']' => self.push(Kind::CBrack, 1),
            '(' => self.push(Kind::OParen, 1),
            ')' => self.push(Kind::CParen, 1),
            '.' => self.push(Kind::Dot, 1),
            ',' => self.push(Kind::Comma, 1),
            '*' => self.push(Kind::Star, 1),
            '/' => self.push(Kind::Slash, 1),
            '%' => self.push(Kind::Percent, 1),
            '+' => self.push(Kind::Plus, 1),
            '-' => self.push(Kind::Minus, 1),
            '=' => self.push(Kind::Equal, 1),
            '<' => self.push(Kind::LessThan, 1),
            '>' => self.push(Kind::GreaterThan, 1),
            '!' => self.push(Kind::Bang, 1),
            '?' => self.push(Kind::Question, 1),
            ':' => self.push(Kind::Colon, 1),
            '{' => {
                self.braces += 1;
                self.push(Kind::OBrace, 1);
            }
            '}' => {
                if self.returns.last() == Some(&self.braces) {
                    self.close_sequence(1);
                } else {
                    self.braces = self.braces.saturating_sub(1);
                    self.push(Kind::CBrace, 1);
                }
            }
            '"' => {
                self.push(Kind::OQuote, 1);
                self.modes.push(Mode::Quoted);
            }
            c if is_ident_start(c) => {
                let len =
                    rest.char_indices().skip(1).find(|&(_, c)| !is_ident_continue(c)).map_or(rest.len(), |(i, _)| i);
                self.push(Kind::Ident, len);
            }
            '\r' => return Err(error("carriage return without a following newline", self.pos)),
            c => return Err(error(format!("invalid character {c:?}: not valid in HCL expressions"), self.pos)),
        }
        Ok(false)
    }

    /// Ends a `${ }`/`%{ }` sequence with a `}` or `~}` of `len` bytes.
    fn close_sequence(&mut self, len: usize) {
        self.push(Kind::TemplateSeqEnd, len);
        self.braces = self.braces.saturating_sub(1);
        self.returns.pop();
        self.modes.pop();
        if let Some(Mode::Heredoc { start_of_line, .. }) = self.modes.last_mut() {
            *start_of_line = false;
        }
    }

    /// Starts a `${`/`%{` sequence (with optional `~`) inside a template.
    fn open_sequence(&mut self, kind: Kind) {
        let len = if self.rest().as_bytes().get(2) == Some(&b'~') { 3 } else { 2 };
        self.push(kind, len);
        self.braces += 1;
        self.returns.push(self.braces);
        self.modes.push(Mode::Main);
    }

    fn quoted(&mut self) -> Result<bool, FormatError> {
        let rest = self.rest();
        let b = rest.as_bytes();
        match b.first() {
            None => return Ok(true),
            Some(b'"') => {
                self.push(Kind::CQuote, 1);
                self.modes.pop();
            }
            Some(b'\r' | b'\n') => {
                return Err(error(
                    "quoted strings may not be split over multiple lines; use a heredoc \
                     (<<EOT) or the \"\\n\" escape for newlines",
                    self.pos,
                ))
            }
            Some(b'$') if b.get(1) == Some(&b'{') => self.open_sequence(Kind::TemplateInterp),
            Some(b'%') if b.get(1) == Some(&b'{') => self.open_sequence(Kind::TemplateControl),
            Some(_) => {
                let mut i = 0;
                while i < b.len() {
                    match b[i] {
                        b'"' | b'\r' | b'\n' => break,
                        b'\\' => match b.get(i + 1) {
                            None | Some(b'\r' | b'\n') => {
                                return Err(error(
                                    "a backslash at the end of a line is not a valid escape",
                                    self.pos + i,
                                ))
                            }
                            Some(_) => i += 2,
                        },
                        b'$' | b'%' if b.get(i + 1) == Some(&b'{') => break,
                        c @ (b'$' | b'%') if b.get(i + 1) == Some(&c) && b.get(i + 2) == Some(&b'{') => i += 3,
                        _ => i += 1,
                    }
                }
                // An escape may have jumped into the middle of a multi-byte character.
                while i < rest.len() && !rest.is_char_boundary(i) {
                    i += 1;
                }
                self.push(Kind::QuotedLit, i.min(rest.len()));
            }
        }
        Ok(false)
    }

    fn heredoc(&mut self) -> Result<bool, FormatError> {
        let rest = self.rest();
        if rest.is_empty() {
            return Ok(true);
        }
        let b = rest.as_bytes();
        if b.starts_with(b"${") {
            self.open_sequence(Kind::TemplateInterp);
            return Ok(false);
        }
        if b.starts_with(b"%{") {
            self.open_sequence(Kind::TemplateControl);
            return Ok(false);
        }
        let Some(Mode::Heredoc { marker, start_of_line }) = self.modes.last() else {
            return Ok(true);
        };
        // Literal text up to and including the end of the line, or up to a template sequence.
        let mut i = 0;
        let mut ends_line = false;
        while i < b.len() {
            match b[i] {
                b'\n' => {
                    i += 1;
                    ends_line = true;
                    break;
                }
                b'$' | b'%' if b.get(i + 1) == Some(&b'{') => break,
                c @ (b'$' | b'%') if b.get(i + 1) == Some(&c) && b.get(i + 2) == Some(&b'{') => i += 3,
                _ => i += 1,
            }
        }
        if ends_line && *start_of_line {
            let line = &rest[..i];
            if line.trim() == marker.as_str() {
                let content = line.strip_suffix('\n').unwrap_or(line);
                let content_len = content.strip_suffix('\r').unwrap_or(content).len();
                self.push(Kind::CHeredoc, content_len);
                self.push(Kind::Newline, i - content_len);
                self.modes.pop();
                return Ok(false);
            }
        }
        if let Some(Mode::Heredoc { start_of_line, .. }) = self.modes.last_mut() {
            *start_of_line = ends_line;
        }
        self.push(Kind::StringLit, i);
        Ok(false)
    }
}

/// Length of a number literal at the start of `b` (which starts with a digit): digits, `.` and
/// exponents, never ending in `.` (so `foo.0.bar` keeps its dots).
fn number_len(b: &[u8]) -> usize {
    let mut i = 1;
    let mut last_good = 1;
    loop {
        match b.get(i) {
            Some(b'0'..=b'9') => {
                i += 1;
                last_good = i;
            }
            Some(b'.') => i += 1,
            Some(b'e' | b'E') => {
                let mut j = i + 1;
                if matches!(b.get(j), Some(b'+' | b'-')) {
                    j += 1;
                }
                if matches!(b.get(j), Some(b'0'..=b'9')) {
                    i = j + 1;
                    last_good = i;
                } else {
                    break;
                }
            }
            _ => break,
        }
    }
    last_good
}

/// Length of a `#`/`//` comment including its `\n` (or `\r\n`) if present.
fn line_comment_len(rest: &str) -> usize {
    rest.find('\n').map_or(rest.len(), |i| i + 1)
}

/// Recognises `<<ID\n` or `<<-ID\n` (also with `\r\n`): returns the introducer's length,
/// newline included, and the marker.
fn heredoc_intro(rest: &str) -> Option<(usize, String)> {
    let after = rest.strip_prefix("<<")?;
    let after = after.strip_prefix('-').unwrap_or(after);
    let skipped = rest.len() - after.len();
    let mut chars = after.char_indices();
    let (_, first) = chars.next()?;
    if !is_ident_start(first) {
        return None;
    }
    let id_len = chars.find(|&(_, c)| !is_ident_continue(c)).map_or(after.len(), |(i, _)| i);
    let marker = &after[..id_len];
    let tail = &after[id_len..];
    let nl = if tail.starts_with("\r\n") {
        2
    } else if tail.starts_with('\n') {
        1
    } else {
        return None;
    };
    Some((skipped + id_len + nl, marker.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Kind> {
        lex(src).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn numbers_stop_before_a_trailing_dot() {
        assert_eq!(number_len(b"1.5e3"), 5);
        assert_eq!(number_len(b"0.bar"), 1);
        assert_eq!(number_len(b"1e"), 1);
        assert_eq!(number_len(b"12."), 2);
    }

    #[test]
    fn template_tokens() {
        use Kind::*;
        assert_eq!(
            kinds("a = \"x${ b }%{if c}y%{endif}\"\n"),
            vec![
                Ident,
                Equal,
                OQuote,
                QuotedLit,
                TemplateInterp,
                Ident,
                TemplateSeqEnd,
                TemplateControl,
                Ident,
                Ident,
                TemplateSeqEnd,
                QuotedLit,
                TemplateControl,
                Ident,
                TemplateSeqEnd,
                CQuote,
                Newline,
                Eof
            ]
        );
    }

    #[test]
    fn heredoc_tokens_keep_the_marker_line() {
        let toks = lex("a = <<-EOT\n  x ${y}\n  EOT  \r\nb = 1").unwrap();
        let close = toks.iter().find(|t| t.kind == Kind::CHeredoc).unwrap();
        assert_eq!(close.text, "  EOT  ");
        assert!(lex("a = <<EOT\nx\nEOT").is_err());
    }

    #[test]
    fn line_comments_carry_their_newline() {
        let toks = lex("# a\r\nb = 1 // c\n").unwrap();
        assert_eq!(toks[0].text, "# a\r\n");
        assert!(toks[0].ends_line());
        assert_eq!(toks[4].text, "// c\n");
    }

    #[test]
    fn lexical_errors() {
        assert!(lex("a = \"x\ny\"").is_err());
        assert!(lex("a = \"x").is_err());
        assert!(lex("a = 1 & 2").is_err());
        assert!(lex("a = \"${x\"").is_err());
        assert!(lex("/* open").is_err());
    }
}

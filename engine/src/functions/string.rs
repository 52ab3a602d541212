//! String functions: case, trimming, splitting and joining, substrings, regular expressions,
//! and tenantform's own `slugify`.
//!
//! "Character" means a grapheme cluster, as in Terraform: `substr`, `strrev` (and `length`,
//! in the collection family) never split an emoji with a skin-tone modifier or a letter from
//! its combining accent. Regular expressions use the `regex` crate, whose syntax is RE2's, the
//! same as Terraform's Go `regexp`.

use std::collections::BTreeMap;

use regex::Regex;
use unicode_segmentation::UnicodeSegmentation;

use super::{def, p, Args, FuncDef, FunctionError, Kind};
use crate::value::Value;

pub(super) const FUNCTIONS: &[FuncDef] = &[
    def("lower", &[p("str", Kind::String)], lower),
    def("upper", &[p("str", Kind::String)], upper),
    def("title", &[p("str", Kind::String)], title),
    def("replace", &[p("str", Kind::String), p("substring", Kind::String), p("replacement", Kind::String)], replace),
    def("join", &[p("separator", Kind::String)], join).variadic_at_least(p("lists", Kind::List(&Kind::String)), 1),
    def("split", &[p("separator", Kind::String), p("str", Kind::String)], split),
    def("trim", &[p("str", Kind::String), p("cutset", Kind::String)], trim),
    def("trimspace", &[p("str", Kind::String)], trimspace),
    def("trimprefix", &[p("str", Kind::String), p("prefix", Kind::String)], trimprefix),
    def("trimsuffix", &[p("str", Kind::String), p("suffix", Kind::String)], trimsuffix),
    def("substr", &[p("str", Kind::String), p("offset", Kind::Number), p("length", Kind::Number)], substr),
    def("regex", &[p("pattern", Kind::String), p("str", Kind::String)], regex_fn),
    def("regexall", &[p("pattern", Kind::String), p("str", Kind::String)], regexall),
    def("startswith", &[p("str", Kind::String), p("prefix", Kind::String)], startswith),
    def("endswith", &[p("str", Kind::String), p("suffix", Kind::String)], endswith),
    def("strcontains", &[p("str", Kind::String), p("substr", Kind::String)], strcontains),
    def("chomp", &[p("str", Kind::String)], chomp),
    def("indent", &[p("spaces", Kind::Number), p("str", Kind::String)], indent),
    def("strrev", &[p("str", Kind::String)], strrev),
    def("slugify", &[p("str", Kind::String)], slugify_fn),
];

fn lower(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::String(a.str(0).chars().map(lower_char).collect()))
}

fn upper(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::String(a.str(0).chars().map(upper_char).collect()))
}

/// Go's per-character (simple) case mapping, which Terraform uses: characters whose full
/// uppercase is several characters stay as they are (`upper("straße")` is `STRAßE`), and
/// there is no context-dependent final sigma.
fn upper_char(c: char) -> char {
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

fn lower_char(c: char) -> char {
    // Only U+0130 (İ) lowercases to more than one character; Go maps it to a plain `i`.
    c.to_lowercase().next().unwrap_or(c)
}

/// Go's `strings.Title`, which Terraform uses: a letter is capitalised when it follows a
/// separator, and separators are spaces and ASCII punctuation (so `o'neil` → `O'Neil`).
fn title(a: Args) -> Result<Value, FunctionError> {
    fn is_separator(c: char) -> bool {
        if c.is_ascii() {
            return !(c.is_ascii_alphanumeric() || c == '_');
        }
        if c.is_alphanumeric() {
            return false;
        }
        c.is_whitespace()
    }
    let mut out = String::with_capacity(a.str(0).len());
    let mut prev_sep = true;
    for c in a.str(0).chars() {
        if prev_sep {
            out.push(upper_char(c));
        } else {
            out.push(c);
        }
        prev_sep = is_separator(c);
    }
    Ok(Value::string(out))
}

fn compile(pattern: &str, arg: usize, a: &Args) -> Result<Regex, FunctionError> {
    Regex::new(&ascii_perl_classes(pattern)).map_err(|e| {
        let detail = if a.sensitive { String::new() } else { format!(": {e}") };
        FunctionError::at(arg, format!("invalid regular expression pattern{detail}"))
    })
}

/// Rewrites `\d \w \s \b` (and their negations) to the ASCII-only meaning they have in Go's
/// RE2, which Terraform uses; the `regex` crate makes them Unicode-aware. Everything else in
/// the two syntaxes agrees.
fn ascii_perl_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    let mut class_start = false;
    while let Some(c) = chars.next() {
        let at_class_start = std::mem::take(&mut class_start);
        match c {
            '\\' => {
                let Some(e) = chars.next() else {
                    out.push(c);
                    break;
                };
                let rewritten = match (e, in_class) {
                    ('d', false) => "[0-9]",
                    ('D', false) => "[^0-9]",
                    ('w', false) => "[0-9A-Za-z_]",
                    ('W', false) => "[^0-9A-Za-z_]",
                    ('s', false) => "[\\t\\n\\f\\r ]",
                    ('S', false) => "[^\\t\\n\\f\\r ]",
                    ('b', false) => "(?-u:\\b)",
                    ('B', false) => "(?-u:\\B)",
                    ('d', true) => "0-9",
                    ('D', true) => "[^0-9]",
                    ('w', true) => "0-9A-Za-z_",
                    ('W', true) => "[^0-9A-Za-z_]",
                    ('s', true) => "\\t\\n\\f\\r ",
                    ('S', true) => "[^\\t\\n\\f\\r ]",
                    _ => {
                        out.push(c);
                        out.push(e);
                        continue;
                    }
                };
                out.push_str(rewritten);
            }
            '[' if !in_class => {
                out.push(c);
                in_class = true;
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                class_start = true;
            }
            '[' if chars.peek() == Some(&':') => {
                // A POSIX class such as [:alpha:], copied whole.
                out.push(c);
                for p in chars.by_ref() {
                    out.push(p);
                    if p == ']' {
                        break;
                    }
                }
            }
            // Go reads any other `[` in a class literally; the regex crate would nest.
            '[' => out.push_str("\\["),
            ']' if in_class && !at_class_start => {
                out.push(c);
                in_class = false;
            }
            ']' if in_class => out.push_str("\\]"),
            _ => out.push(c),
        }
    }
    out
}

/// `replace(str, substring, replacement)`; a substring wrapped in slashes is a regular
/// expression and the replacement may refer to its groups as `$1` or `${name}`.
fn replace(a: Args) -> Result<Value, FunctionError> {
    let (s, sub, rep) = (a.str(0), a.str(1), a.str(2));
    if sub.len() > 1 && sub.starts_with('/') && sub.ends_with('/') {
        let re = compile(&sub[1..sub.len() - 1], 1, &a)?;
        return Ok(Value::string(re.replace_all(s, rep).into_owned()));
    }
    if sub.is_empty() {
        // Go's strings.Replace inserts the replacement around every character.
        let mut out = String::from(rep);
        for c in s.chars() {
            out.push(c);
            out.push_str(rep);
        }
        return Ok(Value::string(out));
    }
    Ok(Value::string(s.replace(sub, rep)))
}

fn join(a: Args) -> Result<Value, FunctionError> {
    let sep = a.str(0);
    let lists = a.len() - 1;
    let mut parts = Vec::new();
    for li in 1..a.len() {
        for (ei, item) in a.list(li).iter().enumerate() {
            match item.as_str() {
                Some(s) => parts.push(s),
                None if lists > 1 => {
                    return Err(FunctionError::at(
                        li,
                        format!("element {ei} of list {li} is null; cannot concatenate null values"),
                    ))
                }
                None => {
                    return Err(FunctionError::at(li, format!("element {ei} is null; cannot concatenate null values")))
                }
            }
        }
    }
    Ok(Value::string(parts.join(sep)))
}

/// Go's `strings.Split`: an empty separator splits into characters, and splitting an empty
/// string by a non-empty separator yields one empty string.
fn split(a: Args) -> Result<Value, FunctionError> {
    let (sep, s) = (a.str(0), a.str(1));
    let parts: Vec<Value> = if sep.is_empty() {
        s.chars().map(|c| Value::string(c.to_string())).collect()
    } else {
        s.split(sep).map(Value::string).collect()
    };
    Ok(Value::List(parts))
}

fn trim(a: Args) -> Result<Value, FunctionError> {
    let cutset: Vec<char> = a.str(1).chars().collect();
    Ok(Value::string(a.str(0).trim_matches(cutset.as_slice())))
}

fn trimspace(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::string(a.str(0).trim()))
}

fn trimprefix(a: Args) -> Result<Value, FunctionError> {
    let s = a.str(0);
    Ok(Value::string(s.strip_prefix(a.str(1)).unwrap_or(s)))
}

fn trimsuffix(a: Args) -> Result<Value, FunctionError> {
    let s = a.str(0);
    Ok(Value::string(s.strip_suffix(a.str(1)).unwrap_or(s)))
}

/// `substr(str, offset, length)` over grapheme clusters: a negative offset counts from the
/// end, a length of -1 (or any negative) takes the rest, and running past the end is not an
/// error.
fn substr(a: Args) -> Result<Value, FunctionError> {
    let graphemes: Vec<&str> = a.str(0).graphemes(true).collect();
    let len = graphemes.len() as i64;
    let mut offset = a.int(1)?;
    let length = a.int(2)?;
    if offset < 0 {
        offset = (offset + len).max(0);
    }
    if offset >= len || length == 0 {
        return Ok(Value::string(""));
    }
    let start = offset as usize;
    let end = if length < 0 { graphemes.len() } else { (start + length as usize).min(graphemes.len()) };
    Ok(Value::string(graphemes[start..end].concat()))
}

enum Shape {
    Whole,
    Positional(usize),
    Named(Vec<(usize, String)>),
}

fn shape(re: &Regex) -> Result<Shape, FunctionError> {
    let groups = re.captures_len() - 1;
    if groups == 0 {
        return Ok(Shape::Whole);
    }
    let named: Vec<(usize, String)> =
        re.capture_names().enumerate().filter_map(|(i, n)| n.map(|n| (i, n.to_string()))).collect();
    if named.is_empty() {
        Ok(Shape::Positional(groups))
    } else if named.len() == groups {
        Ok(Shape::Named(named))
    } else {
        Err(FunctionError::at(0, "pattern cannot mix named and unnamed capture groups"))
    }
}

fn match_value(shape: &Shape, caps: &regex::Captures) -> Value {
    let group = |i: usize| match caps.get(i) {
        Some(m) => Value::string(m.as_str()),
        // A group inside an alternative that did not take part in the match.
        None => Value::Null,
    };
    match shape {
        Shape::Whole => group(0),
        Shape::Positional(n) => Value::List((1..=*n).map(group).collect()),
        Shape::Named(names) => {
            Value::Map(names.iter().map(|(i, name)| (name.clone(), group(*i))).collect::<BTreeMap<_, _>>())
        }
    }
}

/// `regex(pattern, str)`: the match, a list of the capture groups, or a map of the named
/// groups; no match is an error (wrap in `try` or use `regexall` to test).
fn regex_fn(a: Args) -> Result<Value, FunctionError> {
    let re = compile(a.str(0), 0, &a)?;
    let shape = shape(&re)?;
    match re.captures(a.str(1)) {
        Some(caps) => Ok(match_value(&shape, &caps)),
        None => Err(FunctionError::new("pattern did not match any part of the given string")),
    }
}

fn regexall(a: Args) -> Result<Value, FunctionError> {
    let re = compile(a.str(0), 0, &a)?;
    let shape = shape(&re)?;
    Ok(Value::List(re.captures_iter(a.str(1)).map(|c| match_value(&shape, &c)).collect()))
}

fn startswith(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::Bool(a.str(0).starts_with(a.str(1))))
}

fn endswith(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::Bool(a.str(0).ends_with(a.str(1))))
}

fn strcontains(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::Bool(a.str(0).contains(a.str(1))))
}

/// Removes every trailing `\n`, `\r\n` or `\r`.
fn chomp(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::string(a.str(0).trim_end_matches(['\r', '\n'])))
}

/// Indents every line but the first, which is already placed by the surrounding template.
fn indent(a: Args) -> Result<Value, FunctionError> {
    let spaces = a.int(0)?;
    if spaces < 0 {
        return Err(FunctionError::at(0, "argument 1 must not be negative"));
    }
    if spaces > 1 << 16 {
        return Err(FunctionError::at(0, "argument 1 is too large"));
    }
    let pad = " ".repeat(spaces as usize);
    Ok(Value::string(a.str(1).replace('\n', &format!("\n{pad}"))))
}

fn strrev(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::string(a.str(0).graphemes(true).rev().collect::<String>()))
}

fn slugify_fn(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::string(slugify(a.str(0))))
}

/// The longest slug: a DNS label, which is where tenant slugs end up.
const SLUG_MAX: usize = 63;

/// Lowercases, transliterates common Latin letters to ASCII, turns every run of other
/// characters into one `-`, trims `-` at both ends and cuts to 63 characters:
/// `"  Café  Ünïcode!! "` → `cafe-unicode`.
pub(crate) fn slugify(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_dash = false;
    for c in s.chars().flat_map(char::to_lowercase) {
        // Combining accents (from decomposed input such as "e\u{301}") belong to the letter.
        if ('\u{300}'..='\u{36f}').contains(&c) {
            continue;
        }
        let ascii = transliterate(c);
        match ascii {
            Some(t) => {
                if pending_dash && !out.is_empty() {
                    out.push('-');
                }
                pending_dash = false;
                out.push_str(t);
            }
            None => pending_dash = true,
        }
    }
    if out.len() > SLUG_MAX {
        out.truncate(SLUG_MAX);
        while out.ends_with('-') {
            out.pop();
        }
    }
    out
}

/// The ASCII spelling of a lowercase letter or digit, or `None` for a separator.
fn transliterate(c: char) -> Option<&'static str> {
    const ASCII: &str = "abcdefghijklmnopqrstuvwxyz0123456789";
    if c.is_ascii_lowercase() || c.is_ascii_digit() {
        let i = ASCII.find(c)?;
        return ASCII.get(i..i + 1);
    }
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' | 'ǎ' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' | 'ǐ' => "i",
        'ĳ' => "ij",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' | 'ŉ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' | 'ǒ' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' | 'ǔ' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use crate::value::Value;

    #[test]
    fn case_functions() {
        assert_eq!(ok("lower", vec![s("HeLLo ÜBER")]), s("hello über"));
        assert_eq!(ok("upper", vec![s("straße")]), s("STRAßE"), "Go's simple case mapping");
        assert_eq!(ok("lower", vec![s("ΟΔΟΣ")]), s("οδοσ"), "no final-sigma context, like Go");
        assert_eq!(ok("lower", vec![s("İ")]), s("i"));
        assert_eq!(ok("title", vec![s("hello world")]), s("Hello World"));
        assert_eq!(ok("title", vec![s("o'neil-smith my_var")]), s("O'Neil-Smith My_var"));
        assert_eq!(ok("title", vec![s("élan vital")]), s("Élan Vital"));
    }

    #[test]
    fn replace_plain_and_regex() {
        assert_eq!(ok("replace", vec![s("1 + 2 + 3"), s("+"), s("-")]), s("1 - 2 - 3"));
        assert_eq!(ok("replace", vec![s("hello world"), s("/w.*d/"), s("everybody")]), s("hello everybody"));
        assert_eq!(ok("replace", vec![s("acme-prod"), s("/^(\\w+)-(\\w+)$/"), s("$2.$1")]), s("prod.acme"));
        assert_eq!(ok("replace", vec![s("k=v"), s("/(?P<k>\\w)=(?P<v>\\w)/"), s("${v}=${k}")]), s("v=k"));
        assert_eq!(ok("replace", vec![s("a/b"), s("/"), s("_")]), s("a_b"), "a lone slash is literal");
        assert_eq!(ok("replace", vec![s("ab"), s(""), s("-")]), s("-a-b-"));
        let e = err("replace", vec![s("x"), s("/(/"), s("y")]);
        assert!(e.starts_with("replace: invalid regular expression pattern: "), "{e}");
    }

    #[test]
    fn join_and_split() {
        assert_eq!(ok("join", vec![s(", "), sl(&["foo", "bar", "baz"])]), s("foo, bar, baz"));
        assert_eq!(ok("join", vec![s(","), sl(&["a"]), sl(&[]), sl(&["b", "c"])]), s("a,b,c"));
        assert_eq!(ok("join", vec![s(","), sl(&[])]), s(""));
        let e = err("join", vec![s(","), l(vec![s("a"), Value::Null])]);
        assert_eq!(e, "join: element 1 is null; cannot concatenate null values");
        assert_eq!(ok("split", vec![s(","), s("foo,bar,baz")]), sl(&["foo", "bar", "baz"]));
        assert_eq!(ok("split", vec![s(","), s("foo")]), sl(&["foo"]));
        assert_eq!(ok("split", vec![s(","), s("")]), sl(&[""]));
        assert_eq!(ok("split", vec![s(""), s("abc")]), sl(&["a", "b", "c"]));
        assert_eq!(ok("split", vec![s(""), s("")]), sl(&[]));
        assert_eq!(ok("split", vec![s(","), s("a,,b,")]), sl(&["a", "", "b", ""]));
    }

    #[test]
    fn trimming() {
        assert_eq!(ok("trim", vec![s("?!hello?!"), s("!?")]), s("hello"));
        assert_eq!(ok("trim", vec![s("foobar"), s("far")]), s("oob"));
        assert_eq!(ok("trimspace", vec![s("  hello\n\t")]), s("hello"));
        assert_eq!(ok("trimprefix", vec![s("helloworld"), s("hello")]), s("world"));
        assert_eq!(ok("trimprefix", vec![s("hellohello"), s("hello")]), s("hello"), "only once");
        assert_eq!(ok("trimsuffix", vec![s("helloworld"), s("world")]), s("hello"));
        assert_eq!(ok("trimsuffix", vec![s("hello"), s("x")]), s("hello"));
        assert_eq!(ok("chomp", vec![s("hello\n\n")]), s("hello"));
        assert_eq!(ok("chomp", vec![s("hello\r\n")]), s("hello"));
        assert_eq!(ok("chomp", vec![s("hel\nlo")]), s("hel\nlo"));
    }

    #[test]
    fn substr_edges() {
        let sub = |x: &str, o: i32, len: i32| ok("substr", vec![s(x), n(o.into()), n(len.into())]);
        assert_eq!(sub("hello world", 1, 4), s("ello"));
        assert_eq!(sub("🤔🤷", 0, 1), s("🤔"));
        assert_eq!(sub("hello world", -5, -1), s("world"));
        assert_eq!(sub("hello world", 6, 100), s("world"), "beyond the end is clipped");
        assert_eq!(sub("hello", 10, 2), s(""), "offset past the end");
        assert_eq!(sub("hello", -10, 2), s("he"), "offset before the start clamps to 0");
        assert_eq!(sub("hello", 2, 0), s(""));
        assert_eq!(sub("hello", 0, -1), s("hello"));
        assert_eq!(sub("e\u{301}tude", 0, 1), s("e\u{301}"), "grapheme clusters stay whole");
        assert_eq!(sub("💃🏿x", 1, 1), s("x"));
        let e = err("substr", vec![s("hello"), n(1.5), n(1.0)]);
        assert_eq!(e, "substr: argument 2 must be a whole number, got 1.5");
    }

    #[test]
    fn regex_shapes() {
        assert_eq!(ok("regex", vec![s("[a-z]+"), s("53453453.345345aaabbbccc23454")]), s("aaabbbccc"));
        assert_eq!(
            ok("regex", vec![s("(\\d\\d\\d\\d)-(\\d\\d)-(\\d\\d)"), s("2019-02-01")]),
            sl(&["2019", "02", "01"])
        );
        assert_eq!(
            ok(
                "regex",
                vec![s("^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?"), s("https://terraform.io/docs/")]
            ),
            m(vec![("authority", s("terraform.io")), ("scheme", s("https"))])
        );
        assert_eq!(ok("regex", vec![s("(a)|(b)"), s("b")]), l(vec![Value::Null, s("b")]));
        assert_eq!(
            err("regex", vec![s("[a-z]+"), s("123")]),
            "regex: pattern did not match any part of the given string"
        );
        assert_eq!(
            err("regex", vec![s("(?P<x>a)(b)"), s("ab")]),
            "regex: pattern cannot mix named and unnamed capture groups"
        );
        assert_eq!(ok("regexall", vec![s("[a-z]+"), s("1234abcd5678efgh9")]), sl(&["abcd", "efgh"]));
        assert_eq!(ok("regexall", vec![s("[a-z]+"), s("123")]), sl(&[]));
        assert_eq!(ok("regexall", vec![s("(\\w)=(\\d)"), s("a=1 b=2")]), l(vec![sl(&["a", "1"]), sl(&["b", "2"])]));
    }

    #[test]
    fn perl_classes_are_ascii_like_go() {
        use super::ascii_perl_classes as a;
        assert_eq!(a(r"\d+"), "[0-9]+");
        assert_eq!(a(r"[\w-]+"), "[0-9A-Za-z_-]+");
        assert_eq!(a(r"[^\s]"), r"[^\t\n\f\r ]");
        assert_eq!(a(r"\bx\B"), r"(?-u:\b)x(?-u:\B)");
        assert_eq!(a(r"\\d"), r"\\d", "an escaped backslash is not a class");
        assert_eq!(a(r"[]a]"), r"[\]a]", "a leading ] is literal, as in Go");
        assert_eq!(a(r"[[:alpha:]\d]"), "[[:alpha:]0-9]");
        assert_eq!(a(r"[a[]"), r"[a\[]");
        assert_eq!(ok("regex", vec![s(r"\d+"), s("x\u{661}\u{662}42")]), s("42"));
        assert_eq!(ok("regex", vec![s(r"[\w.]+"), s("été-a.b")]), s("t"));
        assert_eq!(ok("replace", vec![s("a b\u{a0}c"), s(r"/\s/"), s("_")]), s("a_b\u{a0}c"));
        assert_eq!(ok("regexall", vec![s(r"\bgo\b"), s("go gopher go")]), sl(&["go", "go"]));
    }

    #[test]
    fn predicates() {
        assert_eq!(ok("startswith", vec![s("hello world"), s("hello")]), b(true));
        assert_eq!(ok("startswith", vec![s("hello world"), s("world")]), b(false));
        assert_eq!(ok("startswith", vec![s("x"), s("")]), b(true));
        assert_eq!(ok("endswith", vec![s("hello world"), s("world")]), b(true));
        assert_eq!(ok("strcontains", vec![s("hello world"), s("o w")]), b(true));
        assert_eq!(ok("strcontains", vec![s("hello world"), s("banana")]), b(false));
    }

    #[test]
    fn indent_and_strrev() {
        assert_eq!(ok("indent", vec![n(2.0), s("[\n  foo,\n]")]), s("[\n    foo,\n  ]"));
        assert_eq!(ok("indent", vec![n(4.0), s("one line")]), s("one line"));
        assert_eq!(err("indent", vec![n(-1.0), s("x")]), "indent: argument 1 must not be negative");
        assert_eq!(ok("strrev", vec![s("hello")]), s("olleh"));
        assert_eq!(ok("strrev", vec![s("a☃💃🏿")]), s("💃🏿☃a"));
    }

    #[test]
    fn slugify_cases() {
        let slug = |x: &str| ok("slugify", vec![s(x)]);
        assert_eq!(slug("Acme Auto Repair"), s("acme-auto-repair"));
        assert_eq!(slug("  Café  Ünïcode!! "), s("cafe-unicode"));
        assert_eq!(slug("Straße & Söhne GmbH"), s("strasse-sohne-gmbh"));
        assert_eq!(slug("Ærø Œuvre Łódź"), s("aero-oeuvre-lodz"));
        assert_eq!(slug("e\u{301}cole"), s("ecole"), "decomposed accents");
        assert_eq!(slug("---a---b---"), s("a-b"));
        assert_eq!(slug("日本"), s(""));
        assert_eq!(slug("Tenant_42.prod"), s("tenant-42-prod"));
        let long = format!("{}-{}", "a".repeat(62), "bbbb");
        assert_eq!(slug(&long), s(&"a".repeat(62)), "no trailing dash after truncation");
        assert_eq!(slug(&"x".repeat(100)), s(&"x".repeat(63)));
    }
}

//! `format` and `formatlist`: printf-style formatting with Terraform's verbs, flags, widths,
//! precisions and `%[n]` argument indexes.
//!
//! The rules follow Terraform (go-cty's `format`), including its Go heritage: `%v` prints a
//! number in Go's shortest `%g` form (so `format("%v", 100000000)` is `1e+08`, unlike string
//! interpolation), `%q` and `%#v` produce JSON, widths and string precisions count grapheme
//! clusters, and unused arguments are an error.

use unicode_segmentation::UnicodeSegmentation;

use super::encoding::json_encode;
use super::{def, p, Args, FuncDef, FunctionError, Kind};
use crate::types::Type;
use crate::value::{format_number, Value};

pub(super) const FUNCTIONS: &[FuncDef] = &[
    def("format", &[p("spec", Kind::String)], format).variadic(p("values", Kind::Any).nullable()),
    def("formatlist", &[p("spec", Kind::String)], formatlist).variadic(p("values", Kind::Any).nullable().raw()),
];

fn format(a: Args) -> Result<Value, FunctionError> {
    format_values(a.str(0), &a.vals[1..], a.sensitive).map(Value::String).map_err(|e| hide_if_sensitive(e, &a))
}

/// Format errors quote pieces of the spec; with a sensitive argument, say less.
fn hide_if_sensitive(e: FunctionError, a: &Args) -> FunctionError {
    if !a.sensitive {
        return e;
    }
    FunctionError {
        message: "invalid format string or value (details hidden because an argument is \
                  sensitive)"
            .into(),
        arg: e.arg,
    }
}

/// Like `format`, but list arguments are iterated in step (they must have the same length)
/// and other arguments repeat, producing a list of strings.
fn formatlist(a: Args) -> Result<Value, FunctionError> {
    let spec = a.str(0);
    let vals = &a.vals[1..];
    // An unknown argument could be a list of any length: the whole result is unknown.
    if vals.iter().any(Value::is_unknown) {
        return Ok(Value::Unknown);
    }
    let mut iter_len: Option<(usize, usize)> = None;
    for (i, v) in vals.iter().enumerate() {
        if let Some(items) = v.as_list() {
            match iter_len {
                None => iter_len = Some((items.len(), i)),
                Some((len, first)) if len != items.len() => {
                    return Err(FunctionError::at(
                        i + 1,
                        format!(
                            "argument {} has length {}, which is inconsistent with argument {} \
                             of length {len}",
                            i + 2,
                            items.len(),
                            first + 2
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
    }
    let rounds = iter_len.map(|(len, _)| len).unwrap_or(1);
    let mut out = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let row: Vec<Value> = vals
            .iter()
            .map(|v| match v.as_list() {
                Some(items) => items[round].clone(),
                None => v.clone(),
            })
            .collect();
        if !row.iter().all(Value::is_wholly_known) {
            out.push(Value::Unknown);
            continue;
        }
        let s = format_values(spec, &row, a.sensitive).map_err(|e| {
            let e = FunctionError { message: format!("error on format iteration {round}: {}", e.message), arg: e.arg };
            hide_if_sensitive(e, &a)
        })?;
        out.push(Value::String(s));
    }
    Ok(Value::List(out))
}

#[derive(Default)]
struct Verb {
    raw: String,
    offset: usize,
    arg: usize,
    mode: char,
    zero: bool,
    sharp: bool,
    plus: bool,
    minus: bool,
    space: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// Formats `args` by `spec`. Errors carry the index of the call argument they concern
/// (the spec is argument 0).
pub(super) fn format_values(spec: &str, args: &[Value], sensitive: bool) -> Result<String, FunctionError> {
    let mut out = String::with_capacity(spec.len());
    let mut chars = spec.char_indices().peekable();
    let mut next_arg = 1;
    let mut max_used = 0;
    let mut verbs = 0;
    let syntax = |msg: String| FunctionError::at(0, msg);
    while let Some((start, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if let Some((_, '%')) = chars.peek() {
            chars.next();
            out.push('%');
            continue;
        }
        let mut verb = Verb { offset: start, arg: next_arg, ..Verb::default() };
        // flags
        while let Some(&(_, f)) = chars.peek() {
            match f {
                '0' => verb.zero = true,
                '#' => verb.sharp = true,
                '-' => verb.minus = true,
                '+' => verb.plus = true,
                ' ' => verb.space = true,
                _ => break,
            }
            chars.next();
        }
        // [n] argument index
        if let Some(&(_, '[')) = chars.peek() {
            chars.next();
            let n = read_number(&mut chars, start, false)?;
            match chars.next() {
                Some((_, ']')) if n > 0 => verb.arg = n,
                Some((at, ch)) => return Err(syntax(format!("unrecognized format character '{ch}' at offset {at}"))),
                None => return Err(syntax(format!("invalid format string starting at offset {start}"))),
            }
        }
        // width
        if let Some(&(_, '1'..='9')) = chars.peek() {
            verb.width = Some(read_number(&mut chars, start, false)?);
        }
        // precision
        if let Some(&(_, '.')) = chars.peek() {
            chars.next();
            let prec = match chars.peek() {
                Some(&(_, '0'..='9')) => read_number(&mut chars, start, true)?,
                _ => 0,
            };
            verb.prec = Some(prec);
        }
        match chars.next() {
            Some((at, m)) if m.is_ascii_alphabetic() => {
                verb.mode = m;
                verb.raw = spec[start..at + 1].to_string();
            }
            Some((at, ch)) => return Err(syntax(format!("unrecognized format character '{ch}' at offset {at}"))),
            None => return Err(syntax(format!("invalid format string starting at offset {start}"))),
        }
        verbs += 1;
        max_used = max_used.max(verb.arg);
        next_arg = verb.arg + 1;
        append_verb(&mut out, &verb, args, sensitive)?;
    }
    if max_used < args.len() {
        let msg = if verbs == 0 {
            "too many arguments; no verbs in format string".to_string()
        } else {
            format!("too many arguments; only {max_used} used by format string")
        };
        return Err(FunctionError::at(max_used + 1, msg));
    }
    Ok(out)
}

fn read_number(
    chars: &mut std::iter::Peekable<std::str::CharIndices>,
    start: usize,
    leading_zero: bool,
) -> Result<usize, FunctionError> {
    let mut n: usize = 0;
    let mut any = false;
    while let Some(&(at, d)) = chars.peek() {
        let Some(digit) = d.to_digit(10) else { break };
        if !any && digit == 0 && !leading_zero {
            return Err(FunctionError::at(0, format!("unrecognized format character '0' at offset {at}")));
        }
        any = true;
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(digit as usize))
            .ok_or_else(|| FunctionError::at(0, format!("number too large in format verb at offset {start}")))?;
        chars.next();
    }
    // Widths and precisions beyond this are typos, and would allocate without bound.
    if n > 1 << 16 {
        return Err(FunctionError::at(0, format!("number too large in format verb at offset {start}")));
    }
    Ok(n)
}

fn append_verb(out: &mut String, verb: &Verb, args: &[Value], sensitive: bool) -> Result<(), FunctionError> {
    let Some(arg) = args.get(verb.arg - 1) else {
        return Err(FunctionError::at(
            0,
            format!(
                "not enough arguments for {:?} at {}: need index {} but have {} total",
                verb.raw,
                verb.offset,
                verb.arg,
                args.len()
            ),
        ));
    };
    let unsupported = |detail: &str| {
        FunctionError::at(verb.arg, format!("unsupported value for {:?} at {}: {detail}", verb.raw, verb.offset))
    };
    if verb.mode != 'v' && arg.is_null() {
        return Err(unsupported("null value cannot be formatted"));
    }
    match verb.mode {
        'v' => {
            let text = match arg {
                Value::String(s) if !verb.sharp => s.clone(),
                Value::Number(n) if !verb.sharp => float_text(*n, 'g', None),
                other => json_encode(other).map_err(|e| unsupported(&e))?,
            };
            out.push_str(&pad(verb, text));
        }
        't' => match Type::Bool.convert(arg.clone()) {
            Ok(Value::Bool(b)) => out.push_str(if b { "true" } else { "false" }),
            _ => return Err(unsupported("bool required")),
        },
        'b' | 'd' | 'o' | 'x' | 'X' | 'e' | 'E' | 'f' | 'g' | 'G' => {
            let n = match Type::Number.convert(arg.clone()) {
                Ok(Value::Number(n)) => n,
                _ if matches!(arg, Value::String(_)) && !sensitive => return Err(unsupported("a number is required")),
                _ => return Err(unsupported("number required")),
            };
            if matches!(verb.mode, 'b' | 'd' | 'o' | 'x' | 'X') {
                if n.fract() != 0.0 || !n.is_finite() {
                    return Err(unsupported("an integer is required"));
                }
                out.push_str(&format_integer(verb, n));
            } else {
                out.push_str(&format_float(verb, n));
            }
        }
        's' | 'q' => {
            let mut s = match arg {
                Value::String(s) => s.clone(),
                Value::Number(n) => format_number(*n),
                Value::Bool(b) => b.to_string(),
                _ => return Err(unsupported("string required")),
            };
            if let Some(prec) = verb.prec.filter(|p| *p > 0) {
                s = s.graphemes(true).take(prec).collect();
            }
            if verb.mode == 'q' {
                s = json_encode(&Value::String(s)).map_err(|e| unsupported(&e))?;
            }
            out.push_str(&pad(verb, s));
        }
        other => {
            return Err(FunctionError::at(
                0,
                format!("unsupported format verb '{other}' in {:?} at offset {}", verb.raw, verb.offset),
            ))
        }
    }
    Ok(())
}

/// Pads to the verb's width in grapheme clusters (with zeros when the `0` flag is given, on the
/// right with `-`), as Terraform does for `%s`, `%q` and `%v`.
fn pad(verb: &Verb, s: String) -> String {
    let Some(width) = verb.width else { return s };
    let len = s.graphemes(true).count();
    if len >= width {
        return s;
    }
    let fill = if verb.zero { "0" } else { " " }.repeat(width - len);
    if verb.minus {
        s + &fill
    } else {
        fill + &s
    }
}

/// `%b %d %o %x %X` like Go's big.Int formatting: sign flags, `#` prefixes, precision as the
/// minimum number of digits, width padding with spaces or zeros.
fn format_integer(verb: &Verb, n: f64) -> String {
    let neg = n < 0.0;
    let abs = n.abs();
    // Integral f64 up to 2^1024: print exactly through u128 where possible, else via Display.
    let digits = if abs < 3.4e38 {
        let v = abs as u128;
        match verb.mode {
            'b' => format!("{v:b}"),
            'o' => format!("{v:o}"),
            'x' => format!("{v:x}"),
            'X' => format!("{v:X}"),
            _ => v.to_string(),
        }
    } else {
        format!("{abs:.0}")
    };
    let sign = if neg {
        "-"
    } else if verb.plus {
        "+"
    } else if verb.space {
        " "
    } else {
        ""
    };
    let prefix = match (verb.sharp, verb.mode) {
        (true, 'b') => "0b",
        (true, 'o') => "0",
        (true, 'x') => "0x",
        (true, 'X') => "0X",
        _ => "",
    };
    let mut zeros = 0;
    if let Some(prec) = verb.prec {
        if digits.len() < prec {
            zeros = prec - digits.len();
        } else if digits == "0" && prec == 0 {
            return pad_spaces(verb, String::new());
        }
    }
    let len = sign.len() + prefix.len() + zeros + digits.len();
    let (mut left, mut right) = (0, 0);
    if let Some(width) = verb.width.filter(|w| *w > len) {
        let d = width - len;
        if verb.minus {
            right = d;
        } else if verb.zero && verb.prec.is_none() {
            zeros = d;
        } else {
            left = d;
        }
    }
    format!("{}{sign}{prefix}{}{digits}{}", " ".repeat(left), "0".repeat(zeros), " ".repeat(right))
}

fn pad_spaces(verb: &Verb, s: String) -> String {
    match verb.width {
        Some(w) if w > s.len() && verb.minus => format!("{s:<w$}"),
        Some(w) if w > s.len() => format!("{s:>w$}"),
        _ => s,
    }
}

/// `%e %E %f %g %G` like Go's big.Float formatting.
fn format_float(verb: &Verb, n: f64) -> String {
    let text = float_text(n.abs(), verb.mode, verb.prec);
    let sign = if n.is_sign_negative() && n != 0.0 {
        "-"
    } else if verb.plus {
        "+"
    } else if verb.space {
        " "
    } else {
        ""
    };
    let padding = verb.width.map(|w| w.saturating_sub(sign.len() + text.len())).unwrap_or(0);
    if verb.zero && n.is_finite() {
        format!("{sign}{}{text}", "0".repeat(padding))
    } else if verb.minus {
        format!("{sign}{text}{}", " ".repeat(padding))
    } else {
        format!("{}{sign}{text}", " ".repeat(padding))
    }
}

/// Decimal digits of `x` (non-negative) and the exponent `e` with `x = 0.d1d2… × 10^e`,
/// either shortest round-trip (`sig = None`) or rounded to `sig` significant digits, without
/// trailing zeros.
fn decimal(x: f64, sig: Option<usize>) -> (Vec<u8>, i32) {
    let sci = match sig {
        None => format!("{x:e}"),
        Some(n) => format!("{x:.*e}", n.saturating_sub(1)),
    };
    let (mant, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    while digits.len() > 1 && digits.last() == Some(&b'0') {
        digits.pop();
    }
    if digits == [b'0'] {
        return (Vec::new(), 0);
    }
    (digits, exp + 1)
}

/// Go's `%e` body: `d.dddde±dd`.
fn fmt_e(digits: &[u8], dexp: i32, prec: usize, upper: bool) -> String {
    let first = digits.first().copied().unwrap_or(b'0') as char;
    let mut s = String::new();
    s.push(first);
    if prec > 0 {
        s.push('.');
        for i in 1..=prec {
            s.push(digits.get(i).copied().unwrap_or(b'0') as char);
        }
    }
    let exp = if digits.is_empty() { 0 } else { dexp - 1 };
    s.push(if upper { 'E' } else { 'e' });
    s.push(if exp < 0 { '-' } else { '+' });
    s.push_str(&format!("{:02}", exp.abs()));
    s
}

/// Go's `%f` body from decimal digits.
fn fmt_f(digits: &[u8], dexp: i32, prec: usize) -> String {
    let digit = |i: i32| -> char {
        if i >= 0 {
            digits.get(i as usize).copied().unwrap_or(b'0') as char
        } else {
            '0'
        }
    };
    let mut s = String::new();
    if dexp > 0 {
        for i in 0..dexp {
            s.push(digit(i));
        }
    } else {
        s.push('0');
    }
    if prec > 0 {
        s.push('.');
        for i in 0..prec as i32 {
            s.push(digit(dexp + i));
        }
    }
    s
}

/// The text of a non-negative number in Go's float formats (`prec = None` is the default:
/// 6 for `e`/`f`, shortest for `g`).
pub(super) fn float_text(x: f64, mode: char, prec: Option<usize>) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if x < 0.0 {
        return format!("-{}", float_text(-x, mode, prec));
    }
    let upper = mode.is_ascii_uppercase();
    match mode.to_ascii_lowercase() {
        'e' => {
            let p = prec.unwrap_or(6);
            let (d, e) = decimal(x, Some(p + 1));
            fmt_e(&d, e, p, upper)
        }
        'f' => format!("{x:.*}", prec.unwrap_or(6)),
        _ => {
            let shortest = prec.is_none();
            let (d, e) = match prec {
                None => decimal(x, None),
                Some(p) => decimal(x, Some(p.max(1))),
            };
            let mut p = match prec {
                None => d.len().max(1),
                Some(p) => p.max(1),
            };
            let mut eprec = p;
            if eprec > d.len() && d.len() as i32 >= e {
                eprec = d.len();
            }
            if shortest {
                eprec = 6;
            }
            let exp = if d.is_empty() { 0 } else { e - 1 };
            if exp < -4 || exp >= eprec as i32 {
                p = p.min(d.len().max(1));
                return fmt_e(&d, e, p - 1, upper);
            }
            if p as i32 > e {
                p = d.len();
            }
            fmt_f(&d, e, (p as i32 - e).max(0) as usize)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::float_text;
    use crate::value::Value;

    fn f(spec: &str, args: Vec<Value>) -> String {
        let mut all = vec![s(spec)];
        all.extend(args);
        match ok("format", all) {
            Value::String(s) => s,
            other => panic!("{other:?}"),
        }
    }

    fn ferr(spec: &str, args: Vec<Value>) -> String {
        let mut all = vec![s(spec)];
        all.extend(args);
        err("format", all)
    }

    #[test]
    fn basics_from_the_terraform_docs() {
        assert_eq!(f("Hello, %s!", vec![s("Ander")]), "Hello, Ander!");
        assert_eq!(f("There are %d lights", vec![n(4.0)]), "There are 4 lights");
        assert_eq!(f("100%% successful", vec![]), "100% successful");
        assert_eq!(f("%#v", vec![s("hello")]), "\"hello\"");
        assert_eq!(f("%#v", vec![b(true)]), "true");
        assert_eq!(f("%#v", vec![n(1.0)]), "1");
        assert_eq!(f("%#v", vec![m(vec![("a", n(1.0))])]), "{\"a\":1}");
        assert_eq!(f("%#v", vec![l(vec![b(true)])]), "[true]");
        assert_eq!(f("%#v", vec![Value::Null]), "null");
        assert_eq!(f("%v", vec![Value::Null]), "null");
    }

    #[test]
    fn default_verb() {
        assert_eq!(f("%v", vec![s("hello")]), "hello");
        assert_eq!(f("%v", vec![n(2.0)]), "2");
        assert_eq!(f("%v", vec![n(1.5)]), "1.5");
        assert_eq!(f("%v", vec![n(123456.0)]), "123456");
        assert_eq!(f("%v", vec![n(100000000.0)]), "1e+08", "Go's shortest %g");
        assert_eq!(f("%v", vec![n(0.00001)]), "1e-05");
        assert_eq!(f("%v", vec![b(false)]), "false");
        assert_eq!(f("%v", vec![m(vec![])]), "{}");
        assert_eq!(f("%v", vec![sl(&["a"])]), "[\"a\"]");
        assert_eq!(f("%5v|%-5v|", vec![s("ab"), n(7.0)]), "   ab|7    |");
    }

    #[test]
    fn strings() {
        assert_eq!(f("%q", vec![s("Ermintrude")]), "\"Ermintrude\"");
        assert_eq!(f("%q", vec![b(false)]), "\"false\"");
        assert_eq!(f("%s", vec![n(12.5)]), "12.5");
        assert_eq!(f("%q", vec![s("Hello\nWorld")]), "\"Hello\\nWorld\"");
        assert_eq!(f("%q", vec![s("<b>")]), "\"\\u003cb\\u003e\"", "JSON escaping like Go");
        assert_eq!(f("%10s|", vec![s("hello")]), "     hello|");
        assert_eq!(f("%-10s|", vec![s("hello")]), "hello     |");
        assert_eq!(f("%4s", vec![s("💃🏿")]), "   💃🏿");
        assert_eq!(f("%.2s", vec![s("hello")]), "he");
        assert_eq!(f("%.2q", vec![s("hello")]), "\"he\"");
        assert_eq!(f("%.5s", vec![s("日本語日本語")]), "日本語日本");
        assert_eq!(f("%6.2q", vec![s("hello")]), "  \"he\"");
        assert_eq!(f("%-4.2s|", vec![s("hello")]), "he  |");
        assert_eq!(f("%05s", vec![s("ab")]), "000ab");
    }

    #[test]
    fn integers() {
        assert_eq!(f("%d", vec![n(10.0)]), "10");
        assert_eq!(f("%+d", vec![n(10.0)]), "+10");
        assert_eq!(f("% d", vec![n(10.0)]), " 10");
        assert_eq!(f("%5d|", vec![n(10.0)]), "   10|");
        assert_eq!(f("%-5d|", vec![n(10.0)]), "10   |");
        assert_eq!(f("%05d", vec![n(-42.0)]), "-0042");
        assert_eq!(f("%.3d", vec![n(7.0)]), "007");
        assert_eq!(f("%d", vec![s("42")]), "42");
        assert_eq!(f("%b", vec![n(5.0)]), "101");
        assert_eq!(f("%o", vec![n(9.0)]), "11");
        assert_eq!(f("%x", vec![n(254.0)]), "fe");
        assert_eq!(f("%X", vec![n(254.0)]), "FE");
        assert_eq!(f("%#x", vec![n(255.0)]), "0xff");
        assert_eq!(f("%x", vec![n(-255.0)]), "-ff");
        assert_eq!(f("%08b", vec![n(5.0)]), "00000101");
        assert_eq!(f("%d", vec![n(1e20)]), "100000000000000000000");
    }

    #[test]
    fn floats() {
        assert_eq!(f("%f", vec![n(10.0)]), "10.000000");
        assert_eq!(f("%.2f", vec![n(1.23456)]), "1.23");
        assert_eq!(f("%.2f", vec![n(2.0)]), "2.00");
        assert_eq!(f("%.0f", vec![n(2.5)]), "2", "round half to even on exact ties, like Go");
        assert_eq!(f("%.1f", vec![s("1.06")]), "1.1");
        assert_eq!(f("%+f", vec![n(10.0)]), "+10.000000");
        assert_eq!(f("% f", vec![n(10.0)]), " 10.000000");
        assert_eq!(f("%+f", vec![n(-10.0)]), "-10.000000");
        assert_eq!(f("%8.3f|", vec![n(1.23456)]), "   1.235|");
        assert_eq!(f("%-8.3f|", vec![n(1.23456)]), "1.235   |");
        assert_eq!(f("%08.3f", vec![n(-1.23456)]), "-001.235");
        assert_eq!(f("%e", vec![n(1000.0)]), "1.000000e+03");
        assert_eq!(f("%E", vec![n(1000.0)]), "1.000000E+03");
        assert_eq!(f("%.2e", vec![n(123456.0)]), "1.23e+05");
        assert_eq!(f("%e", vec![n(0.0)]), "0.000000e+00");
        assert_eq!(f("%g", vec![n(1000.0)]), "1000");
        assert_eq!(f("%G", vec![n(1e-23)]), "1E-23");
        assert_eq!(f("%g", vec![n(0.0)]), "0");
        assert_eq!(f("%.3g", vec![n(1234.5678)]), "1.23e+03");
        assert_eq!(f("%.3g", vec![n(0.5)]), "0.5");
        assert_eq!(f("%.10g", vec![n(1234.5678)]), "1234.5678");
        assert_eq!(float_text(0.1, 'g', None), "0.1");
        assert_eq!(float_text(1e21, 'g', None), "1e+21");
        assert_eq!(float_text(123.456, 'e', Some(1)), "1.2e+02");
    }

    #[test]
    fn booleans_and_indexes() {
        assert_eq!(f("%t", vec![b(true)]), "true");
        assert_eq!(f("%t", vec![s("false")]), "false");
        assert_eq!(f("%[2]s %[1]s", vec![s("a"), s("b")]), "b a");
        assert_eq!(f("%[2]d %d", vec![n(1.0), n(2.0), n(3.0)]), "2 3", "continues after [n]");
    }

    #[test]
    fn errors() {
        assert_eq!(ferr("%s", vec![]), "format: not enough arguments for \"%s\" at 0: need index 1 but have 0 total");
        assert_eq!(
            ferr("%v %v %v", vec![b(true), b(true)]),
            "format: not enough arguments for \"%v\" at 6: need index 3 but have 2 total"
        );
        assert_eq!(ferr("%[0]s", vec![b(true)]), "format: unrecognized format character '0' at offset 2");
        assert_eq!(ferr("%z", vec![n(1.0)]), "format: unsupported format verb 'z' in \"%z\" at offset 0");
        assert_eq!(ferr("%☠", vec![n(1.0)]), "format: unrecognized format character '☠' at offset 1");
        assert_eq!(ferr("abc %", vec![]), "format: invalid format string starting at offset 4");
        assert_eq!(ferr("no verbs", vec![n(1.0)]), "format: too many arguments; no verbs in format string");
        assert_eq!(
            ferr("only one %d", vec![n(1.0), n(2.0)]),
            "format: too many arguments; only 1 used by format string"
        );
        assert_eq!(ferr("%d", vec![b(true)]), "format: unsupported value for \"%d\" at 0: number required");
        assert_eq!(ferr("%d", vec![n(1.5)]), "format: unsupported value for \"%d\" at 0: an integer is required");
        assert_eq!(
            ferr("%s", vec![Value::Null]),
            "format: unsupported value for \"%s\" at 0: null value cannot be formatted"
        );
        assert_eq!(ferr("%s", vec![m(vec![])]), "format: unsupported value for \"%s\" at 0: string required");
        let e = try_call("format", vec![s("%s %d"), s("a"), s("x")]).unwrap_err();
        assert_eq!(e.arg, Some(2), "points at the offending value");
    }

    #[test]
    fn errors_with_sensitive_arguments_say_less() {
        let e = err("format", vec![s("%z").mark_sensitive()]);
        assert_eq!(
            e,
            "format: invalid format string or value (details hidden because an argument is \
             sensitive)"
        );
        assert_eq!(ok("format", vec![s("pw=%s"), s("x").mark_sensitive()]), s("pw=x").mark_sensitive());
    }

    #[test]
    fn unknowns() {
        assert_eq!(ok("format", vec![s("%s"), Value::Unknown]), Value::Unknown);
        assert_eq!(ok("format", vec![Value::Unknown, s("x")]), Value::Unknown);
    }

    #[test]
    fn formatlist_iterates_lists_in_step() {
        assert_eq!(
            ok("formatlist", vec![s("Hello, %s!"), sl(&["Valentina", "Ander", "Olivia", "Sam"])]),
            sl(&["Hello, Valentina!", "Hello, Ander!", "Hello, Olivia!", "Hello, Sam!"])
        );
        assert_eq!(
            ok("formatlist", vec![s("%s, %s!"), s("Salutations"), sl(&["Valentina", "Ander"])]),
            sl(&["Salutations, Valentina!", "Salutations, Ander!"])
        );
        assert_eq!(ok("formatlist", vec![s("hello")]), sl(&["hello"]));
        assert_eq!(ok("formatlist", vec![s("%v"), sl(&[])]), sl(&[]));
        assert_eq!(
            err("formatlist", vec![s("%s %s"), sl(&["a", "b"]), sl(&["c"])]),
            "formatlist: argument 3 has length 1, which is inconsistent with argument 2 of length 2"
        );
        assert_eq!(ok("formatlist", vec![s("%s"), l(vec![s("a"), Value::Unknown])]), l(vec![s("a"), Value::Unknown]));
        assert_eq!(ok("formatlist", vec![s("%s"), Value::Unknown]), Value::Unknown);
        assert_eq!(
            err("formatlist", vec![s("%d"), sl(&["x"])]),
            "formatlist: error on format iteration 0: unsupported value for \"%d\" at 0: a number is required"
        );
    }
}

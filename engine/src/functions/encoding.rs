//! Encoding functions: JSON, YAML, CSV, base64, URL query escaping and text encodings.
//!
//! The encoders write their output themselves rather than through serde so that the text is
//! byte-for-byte what Terraform produces: `jsonencode` sorts object keys, prints integral
//! numbers without a fraction, never uses exponents and escapes `<`, `>`, `&`, U+2028 and
//! U+2029 like Go; `yamlencode` writes block style with every string and key double-quoted.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::{def, p, Args, FuncDef, FunctionError, Kind};
use crate::value::Value;

pub(super) const FUNCTIONS: &[FuncDef] = &[
    def("jsonencode", &[p("value", Kind::Any).nullable()], jsonencode),
    def("jsondecode", &[p("str", Kind::String)], jsondecode),
    def("yamlencode", &[p("value", Kind::Any).nullable()], yamlencode),
    def("yamldecode", &[p("src", Kind::String)], yamldecode),
    def("csvdecode", &[p("str", Kind::String)], csvdecode),
    def("base64encode", &[p("str", Kind::String)], base64encode),
    def("base64decode", &[p("str", Kind::String)], base64decode),
    def("urlencode", &[p("str", Kind::String)], urlencode),
    def("textencodebase64", &[p("str", Kind::String), p("encoding_name", Kind::String)], textencodebase64),
    def("textdecodebase64", &[p("source", Kind::String), p("encoding_name", Kind::String)], textdecodebase64),
];

// ---------------------------------------------------------------------------------------------
// JSON

fn jsonencode(a: Args) -> Result<Value, FunctionError> {
    json_encode(&a.vals[0]).map(Value::String).map_err(|e| FunctionError::at(0, e))
}

/// Compact JSON the way Terraform writes it. Fails only for non-finite numbers.
pub(super) fn json_encode(v: &Value) -> Result<String, String> {
    let mut out = String::new();
    write_json(v, &mut out)?;
    Ok(out)
}

fn write_json(v: &Value, out: &mut String) -> Result<(), String> {
    match v {
        Value::Null | Value::Unknown => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&json_number(*n)?),
        Value::String(s) => write_json_string(s, out),
        Value::List(items) | Value::Set(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out)?;
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(k, out);
                out.push(':');
                write_json(item, out)?;
            }
            out.push('}');
        }
        Value::Sensitive(inner) => write_json(inner, out)?,
    }
    Ok(())
}

/// Decimal notation without exponent, integral values without a fraction.
pub(super) fn json_number(n: f64) -> Result<String, String> {
    if !n.is_finite() {
        return Err(format!("cannot encode the number {n} in JSON"));
    }
    if n == 0.0 {
        return Ok("0".into());
    }
    // Rust's Display for f64 is the shortest round-trip decimal and never uses an exponent.
    Ok(format!("{n}"))
}

/// Go's `encoding/json` string escaping, HTML-safe characters included.
fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn jsondecode(a: Args) -> Result<Value, FunctionError> {
    let json: serde_json::Value =
        serde_json::from_str(a.str(0)).map_err(|e| FunctionError::at(0, format!("invalid JSON: {e}")))?;
    Ok(Value::from_json(&json))
}

// ---------------------------------------------------------------------------------------------
// YAML

fn yamlencode(a: Args) -> Result<Value, FunctionError> {
    let v = &a.vals[0];
    let mut out = String::new();
    match yaml_lines(v).map_err(|e| FunctionError::at(0, e))? {
        Some(lines) => {
            for line in lines {
                out.push_str(&line);
                out.push('\n');
            }
        }
        None => {
            out.push_str(&yaml_scalar(v).map_err(|e| FunctionError::at(0, e))?);
            out.push('\n');
        }
    }
    Ok(Value::String(out))
}

/// Block-style lines of a non-empty collection, or `None` for a value written inline.
fn yaml_lines(v: &Value) -> Result<Option<Vec<String>>, String> {
    match v.unmarked().0 {
        Value::Map(m) if !m.is_empty() => {
            let mut lines = Vec::new();
            for (k, item) in m {
                let key = format!("{}:", yaml_string(k));
                match yaml_lines(item)? {
                    Some(sub) => {
                        lines.push(key);
                        // Sequences under a key are not indented, mappings are (go-yaml style).
                        let nested_map = matches!(item.unmarked().0, Value::Map(_));
                        let indent = if nested_map { "  " } else { "" };
                        lines.extend(sub.into_iter().map(|l| format!("{indent}{l}")));
                    }
                    None => lines.push(format!("{key} {}", yaml_scalar(item)?)),
                }
            }
            Ok(Some(lines))
        }
        Value::List(items) | Value::Set(items) if !items.is_empty() => {
            let mut lines = Vec::new();
            for item in items {
                match yaml_lines(item)? {
                    Some(sub) => {
                        for (i, l) in sub.into_iter().enumerate() {
                            lines.push(if i == 0 { format!("- {l}") } else { format!("  {l}") });
                        }
                    }
                    None => lines.push(format!("- {}", yaml_scalar(item)?)),
                }
            }
            Ok(Some(lines))
        }
        _ => Ok(None),
    }
}

fn yaml_scalar(v: &Value) -> Result<String, String> {
    Ok(match v.unmarked().0 {
        Value::Null | Value::Unknown => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => json_number(*n)?,
        Value::String(s) => yaml_string(s),
        Value::Map(_) => "{}".into(),
        Value::List(_) | Value::Set(_) => "[]".into(),
        Value::Sensitive(_) => "null".into(),
    })
}

/// A YAML double-quoted scalar with the escapes go-yaml uses.
fn yaml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            '\u{feff}' => out.push_str("\\uFEFF"),
            c if (c as u32) < 0x20 || (0x7f..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn yamldecode(a: Args) -> Result<Value, FunctionError> {
    let src = a.str(0);
    if src.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---"
    }) {
        return Ok(Value::Null);
    }
    let mut doc: serde_yaml::Value =
        serde_yaml::from_str(src).map_err(|e| FunctionError::at(0, format!("invalid YAML: {e}")))?;
    doc.apply_merge().map_err(|e| FunctionError::at(0, format!("invalid YAML: {e}")))?;
    Ok(from_yaml(doc))
}

fn from_yaml(v: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::List(items.into_iter().map(from_yaml).collect()),
        Y::Mapping(m) => {
            Value::Map(m.into_iter().map(|(k, v)| (yaml_key(k), from_yaml(v))).collect::<BTreeMap<_, _>>())
        }
        Y::Tagged(t) => from_yaml(t.value),
    }
}

fn yaml_key(k: serde_yaml::Value) -> String {
    match from_yaml(k) {
        Value::String(s) => s,
        Value::Null => "null".into(),
        other => other.to_interp_string().unwrap_or_else(|| other.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// CSV

/// `csvdecode(str)`: the first line names the columns; every row becomes a map of strings.
fn csvdecode(a: Args) -> Result<Value, FunctionError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(a.str(0).as_bytes());
    let headers: Vec<String> =
        reader.headers().map_err(|e| FunctionError::at(0, csv_error(e)))?.iter().map(str::to_string).collect();
    if headers.is_empty() {
        return Err(FunctionError::at(0, "missing header line"));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| FunctionError::at(0, csv_error(e)))?;
        let row: BTreeMap<String, Value> = headers.iter().cloned().zip(record.iter().map(Value::string)).collect();
        rows.push(Value::Map(row));
    }
    Ok(Value::List(rows))
}

fn csv_error(e: csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { pos, expected_len, len } => {
            let line = pos.as_ref().map(|p| p.line()).unwrap_or_default();
            format!("line {line} has {len} fields, but the header line has {expected_len}")
        }
        _ => format!("invalid CSV: {e}"),
    }
}

// ---------------------------------------------------------------------------------------------
// base64, URLs, text encodings

fn base64encode(a: Args) -> Result<Value, FunctionError> {
    Ok(Value::string(STANDARD.encode(a.str(0))))
}

fn base64decode(a: Args) -> Result<Value, FunctionError> {
    let bytes = STANDARD
        .decode(a.str(0))
        .map_err(|_| FunctionError::at(0, format!("failed to decode base64 data {}", a.show(a.str(0)))))?;
    String::from_utf8(bytes).map(Value::String).map_err(|_| {
        FunctionError::at(
            0,
            "the result of decoding the provided string is not valid UTF-8; use filebase64 or \
             textdecodebase64 for other data",
        )
    })
}

/// Go's `url.QueryEscape`: unreserved characters stay, space becomes `+`, the rest `%XX`.
fn urlencode(a: Args) -> Result<Value, FunctionError> {
    let mut out = String::new();
    for byte in a.str(0).bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    Ok(Value::String(out))
}

#[derive(Clone, Copy)]
enum TextEncoding {
    Utf8,
    Utf16Le,
    Utf16Be,
    Latin1,
}

fn text_encoding(name: &str, a: &Args) -> Result<TextEncoding, FunctionError> {
    match name.to_ascii_uppercase().replace('_', "-").as_str() {
        "UTF-8" | "UTF8" => Ok(TextEncoding::Utf8),
        "UTF-16LE" => Ok(TextEncoding::Utf16Le),
        "UTF-16BE" => Ok(TextEncoding::Utf16Be),
        "ISO-8859-1" | "LATIN1" | "LATIN-1" => Ok(TextEncoding::Latin1),
        _ => Err(FunctionError::at(
            1,
            format!(
                "{} is not a supported encoding name; use UTF-8, UTF-16LE, UTF-16BE or \
                 ISO-8859-1",
                a.show(name)
            ),
        )),
    }
}

fn textencodebase64(a: Args) -> Result<Value, FunctionError> {
    let s = a.str(0);
    let bytes: Vec<u8> = match text_encoding(a.str(1), &a)? {
        TextEncoding::Utf8 => s.as_bytes().to_vec(),
        TextEncoding::Utf16Le => s.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        TextEncoding::Utf16Be => s.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        TextEncoding::Latin1 => {
            let mut out = Vec::with_capacity(s.len());
            for c in s.chars() {
                let code = c as u32;
                if code > 0xff {
                    return Err(FunctionError::at(
                        0,
                        "the given string contains characters that cannot be represented in \
                         ISO-8859-1",
                    ));
                }
                out.push(code as u8);
            }
            out
        }
    };
    Ok(Value::string(STANDARD.encode(bytes)))
}

fn textdecodebase64(a: Args) -> Result<Value, FunctionError> {
    let encoding = text_encoding(a.str(1), &a)?;
    let bytes = STANDARD
        .decode(a.str(0))
        .map_err(|_| FunctionError::at(0, format!("failed to decode base64 data {}", a.show(a.str(0)))))?;
    let invalid = || FunctionError::at(0, "the decoded bytes are not valid in the given encoding");
    let s = match encoding {
        TextEncoding::Utf8 => String::from_utf8(bytes).map_err(|_| invalid())?,
        TextEncoding::Utf16Le | TextEncoding::Utf16Be => {
            if bytes.len() % 2 != 0 {
                return Err(invalid());
            }
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| match encoding {
                    TextEncoding::Utf16Le => u16::from_le_bytes([c[0], c[1]]),
                    _ => u16::from_be_bytes([c[0], c[1]]),
                })
                .collect();
            String::from_utf16(&units).map_err(|_| invalid())?
        }
        TextEncoding::Latin1 => bytes.iter().map(|b| *b as char).collect(),
    };
    Ok(Value::String(s))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use crate::value::Value;

    fn text(v: Value) -> String {
        match v {
            Value::String(s) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn jsonencode_matches_terraform() {
        let v = m(vec![
            ("zeta", n(1.0)),
            ("alpha", l(vec![n(1.5), n(-2.0), b(true), Value::Null])),
            ("mid", m(vec![("b", s("x")), ("a", s("y"))])),
        ]);
        assert_eq!(text(ok("jsonencode", vec![v])), r#"{"alpha":[1.5,-2,true,null],"mid":{"a":"y","b":"x"},"zeta":1}"#);
        assert_eq!(text(ok("jsonencode", vec![s("hello")])), "\"hello\"");
        assert_eq!(text(ok("jsonencode", vec![Value::Null])), "null");
        assert_eq!(text(ok("jsonencode", vec![n(1e21)])), "1000000000000000000000");
        assert_eq!(text(ok("jsonencode", vec![n(0.1)])), "0.1");
        assert_eq!(text(ok("jsonencode", vec![n(1e-7)])), "0.0000001");
        assert_eq!(text(ok("jsonencode", vec![n(-0.0)])), "0");
        assert_eq!(
            text(ok("jsonencode", vec![s("<a href=\"x\">&</a>\n\u{2028}")])),
            r#""\u003ca href=\"x\"\u003e\u0026\u003c/a\u003e\n\u2028""#
        );
        assert_eq!(text(ok("jsonencode", vec![s("tab\tctl\u{1}")])), r#""tab\tctl\u0001""#);
        assert_eq!(text(ok("jsonencode", vec![Value::set(vec![s("b"), s("a")])])), r#"["a","b"]"#);
        assert_eq!(text(ok("jsonencode", vec![m(vec![])])), "{}");
    }

    #[test]
    fn jsondecode_round_trips() {
        assert_eq!(
            ok("jsondecode", vec![s(r#"{"hello": "world", "n": [1, 2.5, null, true]}"#)]),
            m(vec![("hello", s("world")), ("n", l(vec![n(1.0), n(2.5), Value::Null, b(true)]))])
        );
        assert_eq!(ok("jsondecode", vec![s("true")]), b(true));
        assert_eq!(ok("jsondecode", vec![s("null")]), Value::Null);
        let e = err("jsondecode", vec![s("{oops")]);
        assert!(e.starts_with("jsondecode: invalid JSON: "), "{e}");
    }

    #[test]
    fn yamlencode_shape() {
        assert_eq!(text(ok("yamlencode", vec![m(vec![("a", s("b")), ("c", s("d"))])])), "\"a\": \"b\"\n\"c\": \"d\"\n");
        assert_eq!(
            text(ok("yamlencode", vec![m(vec![("foo", l(vec![n(1.0), n(2.0), n(3.0)])), ("bar", s("baz"))])])),
            "\"bar\": \"baz\"\n\"foo\":\n- 1\n- 2\n- 3\n"
        );
        assert_eq!(
            text(ok(
                "yamlencode",
                vec![m(vec![
                    ("foo", l(vec![n(1.0), m(vec![("a", s("b")), ("c", s("d"))]), n(3.0)])),
                    ("bar", s("baz")),
                ])]
            )),
            "\"bar\": \"baz\"\n\"foo\":\n- 1\n- \"a\": \"b\"\n  \"c\": \"d\"\n- 3\n"
        );
        assert_eq!(
            text(ok(
                "yamlencode",
                vec![m(vec![
                    ("outer", m(vec![("inner", m(vec![("x", b(true))])), ("empty", m(vec![]))])),
                    ("list", l(vec![sl(&["a", "b"]), sl(&[])])),
                    ("nothing", Value::Null),
                    ("pi", n(3.25)),
                ])]
            )),
            "\"list\":\n- - \"a\"\n  - \"b\"\n- []\n\"nothing\": null\n\"outer\":\n  \"empty\": {}\n  \"inner\":\n    \"x\": true\n\"pi\": 3.25\n"
        );
        assert_eq!(text(ok("yamlencode", vec![s("multi\nline \"q\"")])), "\"multi\\nline \\\"q\\\"\"\n");
        assert_eq!(text(ok("yamlencode", vec![sl(&[])])), "[]\n");
        assert_eq!(text(ok("yamlencode", vec![n(42.0)])), "42\n");
    }

    #[test]
    fn yamldecode_values() {
        let src = "a: 1\nb: [x, y]\nc:\n  d: true\n  e: null\n\"5\": five\n";
        assert_eq!(
            ok("yamldecode", vec![s(src)]),
            m(vec![
                ("5", s("five")),
                ("a", n(1.0)),
                ("b", sl(&["x", "y"])),
                ("c", m(vec![("d", b(true)), ("e", Value::Null)])),
            ])
        );
        assert_eq!(ok("yamldecode", vec![s("")]), Value::Null);
        assert_eq!(ok("yamldecode", vec![s("hello")]), s("hello"));
        let merged = ok("yamldecode", vec![s("base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n")]);
        assert_eq!(merged.get("derived"), Some(&m(vec![("x", n(1.0)), ("y", n(2.0))])));
        assert!(err("yamldecode", vec![s("a: [")]).starts_with("yamldecode: invalid YAML"));
        let round = ok("yamlencode", vec![m(vec![("k", sl(&["v", "w"])), ("n", n(1.5))])]);
        assert_eq!(ok("yamldecode", vec![round]), m(vec![("k", sl(&["v", "w"])), ("n", n(1.5))]));
    }

    #[test]
    fn csvdecode_rows() {
        assert_eq!(
            ok("csvdecode", vec![s("a,b,c\n1,2,3\n4,5,6\n")]),
            l(vec![
                m(vec![("a", s("1")), ("b", s("2")), ("c", s("3"))]),
                m(vec![("a", s("4")), ("b", s("5")), ("c", s("6"))]),
            ])
        );
        assert_eq!(
            ok("csvdecode", vec![s("name,note\n\"Acme, Inc\",\"said \"\"hi\"\"\"")]),
            l(vec![m(vec![("name", s("Acme, Inc")), ("note", s("said \"hi\""))])])
        );
        assert_eq!(ok("csvdecode", vec![s("a,b\n")]), l(vec![]));
        assert_eq!(err("csvdecode", vec![s("")]), "csvdecode: missing header line");
        assert_eq!(
            err("csvdecode", vec![s("a,b\n1,2\n3\n")]),
            "csvdecode: line 3 has 1 fields, but the header line has 2"
        );
    }

    #[test]
    fn base64_and_url() {
        assert_eq!(ok("base64encode", vec![s("Hello World")]), s("SGVsbG8gV29ybGQ="));
        assert_eq!(ok("base64decode", vec![s("SGVsbG8gV29ybGQ=")]), s("Hello World"));
        assert_eq!(err("base64decode", vec![s("!!")]), "base64decode: failed to decode base64 data \"!!\"");
        assert!(err("base64decode", vec![s("/w==")]).contains("not valid UTF-8"));
        assert_eq!(ok("urlencode", vec![s("Hello World!")]), s("Hello+World%21"));
        assert_eq!(ok("urlencode", vec![s("☃")]), s("%E2%98%83"));
        assert_eq!(
            ok("urlencode", vec![s("foo:bar@localhost?foo=bar&bar=baz")]),
            s("foo%3Abar%40localhost%3Ffoo%3Dbar%26bar%3Dbaz")
        );
        assert_eq!(ok("urlencode", vec![s("a-b_c.d~e")]), s("a-b_c.d~e"));
    }

    #[test]
    fn text_encodings() {
        assert_eq!(
            ok("textencodebase64", vec![s("Hello World"), s("UTF-16LE")]),
            s("SABlAGwAbABvACAAVwBvAHIAbABkAA==")
        );
        assert_eq!(
            ok("textdecodebase64", vec![s("SABlAGwAbABvACAAVwBvAHIAbABkAA=="), s("UTF-16LE")]),
            s("Hello World")
        );
        assert_eq!(ok("textencodebase64", vec![s("é"), s("ISO-8859-1")]), s("6Q=="));
        assert_eq!(ok("textdecodebase64", vec![s("6Q=="), s("latin1")]), s("é"));
        assert!(err("textencodebase64", vec![s("x"), s("EBCDIC")]).contains("not a supported encoding"));
    }
}

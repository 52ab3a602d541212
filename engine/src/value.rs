//! The value model every part of tenantform speaks: configuration results, planned and applied
//! resource attributes, outputs and state.
//!
//! A [`Value`] is JSON-like data plus two marks that Terraform users rely on:
//! *unknown* ("known after apply") and *sensitive* (never shown, never logged). Marks are
//! carried by the data itself so that they survive every operator and function: unknown in →
//! unknown out; sensitive in → sensitive out. This module owns the representation, the mark
//! helpers and the JSON encoding (plain JSON plus mark paths) used by plans and state. It must
//! not know about HCL syntax, providers or storage.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A configuration or resource value.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    /// All numbers are IEEE doubles; integral values print without a fraction.
    Number(f64),
    String(String),
    /// Lists and tuples.
    List(Vec<Value>),
    /// Sets: kept sorted and without duplicates (see [`Value::set`]).
    Set(Vec<Value>),
    /// Maps and objects. Keys are sorted, which keeps plans and state dumps stable.
    Map(BTreeMap<String, Value>),
    /// A value that is known only after apply.
    Unknown,
    /// A value that must never be displayed.
    Sensitive(Box<Value>),
}

/// One step into a nested value: an attribute/map key or a list index.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PathStep {
    Key(String),
    Index(usize),
}

/// A path into a nested value, e.g. `template.containers[0].image`.
pub type AttrPath = Vec<PathStep>;

/// Renders a path the way Terraform prints it: `a.b[0]["x y"]`.
pub fn path_to_string(path: &[PathStep]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            PathStep::Key(k) => {
                if is_identifier(k) {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                } else {
                    out.push_str(&format!("[{k:?}]"));
                }
            }
            PathStep::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// True for HCL identifiers (letters, digits, `_`, `-`, not starting with a digit or `-`).
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn number(n: impl Into<f64>) -> Value {
        Value::Number(n.into())
    }

    /// Builds a set value: elements sorted by their canonical order, duplicates removed.
    /// Elements that are not wholly known are never merged: two unknown IDs are two elements
    /// until apply tells whether they are equal (a set of them may shrink then, never grow).
    pub fn set(mut items: Vec<Value>) -> Value {
        items.sort_by(cmp_values);
        items.dedup_by(|a, b| a == b && a.is_wholly_known());
        Value::Set(items)
    }

    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// Wraps the value in a sensitive mark (idempotent).
    pub fn mark_sensitive(self) -> Value {
        match self {
            Value::Sensitive(_) => self,
            other => Value::Sensitive(Box::new(other)),
        }
    }

    /// Applies the sensitive mark when `sensitive` is true.
    pub fn with_sensitive(self, sensitive: bool) -> Value {
        if sensitive {
            self.mark_sensitive()
        } else {
            self
        }
    }

    /// Removes a top-level sensitive mark, returning the inner value and whether it was marked.
    pub fn unmark(self) -> (Value, bool) {
        match self {
            Value::Sensitive(inner) => {
                let (v, _) = inner.unmark();
                (v, true)
            }
            other => (other, false),
        }
    }

    /// Borrowing version of [`Value::unmark`].
    pub fn unmarked(&self) -> (&Value, bool) {
        match self {
            Value::Sensitive(inner) => (inner.unmarked().0, true),
            other => (other, false),
        }
    }

    /// Replaces every unknown value with null (for providers that must never see unknowns,
    /// such as reads of an interrupted create's intent).
    pub fn unknown_to_null(self) -> Value {
        match self {
            Value::Unknown => Value::Null,
            Value::Sensitive(inner) => Value::Sensitive(Box::new(inner.unknown_to_null())),
            Value::List(items) => Value::List(items.into_iter().map(Value::unknown_to_null).collect()),
            Value::Set(items) => Value::Set(items.into_iter().map(Value::unknown_to_null).collect()),
            Value::Map(m) => Value::Map(m.into_iter().map(|(k, v)| (k, v.unknown_to_null())).collect()),
            other => other,
        }
    }

    /// Removes every sensitive mark, at every depth.
    pub fn unmark_deep(self) -> Value {
        match self {
            Value::Sensitive(inner) => inner.unmark_deep(),
            Value::List(items) => Value::List(items.into_iter().map(Value::unmark_deep).collect()),
            Value::Set(items) => Value::Set(items.into_iter().map(Value::unmark_deep).collect()),
            Value::Map(m) => Value::Map(m.into_iter().map(|(k, v)| (k, v.unmark_deep())).collect()),
            other => other,
        }
    }

    /// True when the value itself (not counting nested elements) is marked sensitive.
    pub fn is_sensitive(&self) -> bool {
        matches!(self, Value::Sensitive(_))
    }

    /// True when `text` equals a string inside a sensitive part of the value (used to keep
    /// import IDs that are secrets, such as a random_password's, out of output).
    pub fn reveals(&self, text: &str) -> bool {
        fn walk(v: &Value, inside: bool, text: &str) -> bool {
            match v {
                Value::Sensitive(inner) => walk(inner, true, text),
                Value::String(s) => inside && s == text,
                Value::List(items) | Value::Set(items) => items.iter().any(|i| walk(i, inside, text)),
                Value::Map(m) => m.values().any(|i| walk(i, inside, text)),
                _ => false,
            }
        }
        walk(self, false, text)
    }

    /// True when the value or anything inside it is marked sensitive.
    pub fn contains_sensitive(&self) -> bool {
        match self {
            Value::Sensitive(_) => true,
            Value::List(items) | Value::Set(items) => items.iter().any(Value::contains_sensitive),
            Value::Map(m) => m.values().any(Value::contains_sensitive),
            _ => false,
        }
    }

    /// True when the value (ignoring marks) is unknown at the top level.
    pub fn is_unknown(&self) -> bool {
        matches!(self.unmarked().0, Value::Unknown)
    }

    /// True when no part of the value is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::Sensitive(inner) => inner.is_wholly_known(),
            Value::List(items) | Value::Set(items) => items.iter().all(Value::is_wholly_known),
            Value::Map(m) => m.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.unmarked().0, Value::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self.unmarked().0 {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.unmarked().0 {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self.unmarked().0 {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The number as an integer, when it is one.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_f64().filter(|n| n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15).map(|n| n as i64)
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self.unmarked().0 {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Elements of a list, tuple or set.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self.unmarked().0 {
            Value::List(items) | Value::Set(items) => Some(items),
            _ => None,
        }
    }

    /// Looks up an attribute of a map/object value (marks on the map are not propagated).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(key))
    }

    /// Follows a path; `None` when a step is missing.
    pub fn get_path(&self, path: &[PathStep]) -> Option<&Value> {
        let mut cur = self;
        for step in path {
            let (inner, _) = cur.unmarked();
            cur = match (inner, step) {
                (Value::Map(m), PathStep::Key(k)) => m.get(k)?,
                (Value::List(items) | Value::Set(items), PathStep::Index(i)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// A short name of the value's kind, for error messages ("string", "list of …" is not tried).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Map(_) => "object",
            Value::Unknown => "unknown",
            Value::Sensitive(inner) => inner.type_name(),
        }
    }

    /// Converts the value to a string the way HCL does for interpolation, if it is a primitive.
    pub fn to_interp_string(&self) -> Option<String> {
        match self.unmarked().0 {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(format_number(*n)),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Every path at which a sensitive mark sits.
    pub fn sensitive_paths(&self) -> Vec<AttrPath> {
        let mut out = Vec::new();
        collect_paths(self, &mut Vec::new(), &mut out, &|v| v.is_sensitive(), true);
        out
    }

    /// Every path at which an unknown value sits (looking through sensitive marks).
    pub fn unknown_paths(&self) -> Vec<AttrPath> {
        let mut out = Vec::new();
        collect_paths(self, &mut Vec::new(), &mut out, &|v| matches!(v, Value::Unknown), false);
        out
    }

    /// Marks the values at the given paths as sensitive (paths that do not exist are ignored).
    pub fn mark_paths(mut self, paths: &[AttrPath]) -> Value {
        for p in paths {
            self.mark_path(p);
        }
        self
    }

    fn mark_path(&mut self, path: &[PathStep]) {
        if path.is_empty() {
            let v = std::mem::take(self);
            *self = v.mark_sensitive();
            return;
        }
        let target = match self {
            Value::Sensitive(inner) => {
                inner.mark_path(path);
                return;
            }
            Value::Map(m) => match &path[0] {
                PathStep::Key(k) => m.get_mut(k),
                PathStep::Index(_) => None,
            },
            Value::List(items) | Value::Set(items) => match &path[0] {
                PathStep::Index(i) => items.get_mut(*i),
                PathStep::Key(_) => None,
            },
            _ => None,
        };
        if let Some(t) = target {
            t.mark_path(&path[1..]);
        }
    }

    /// Converts to plain JSON, dropping marks. Unknown values become `null`; use
    /// [`Value::unknown_paths`] alongside when they matter.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null | Value::Unknown => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => number_to_json(*n),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::List(items) | Value::Set(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Map(m) => serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
            Value::Sensitive(inner) => inner.to_json(),
        }
    }

    /// Converts plain JSON into a value (arrays become lists, objects maps).
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(items) => Value::List(items.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(m) => {
                Value::Map(m.iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect())
            }
        }
    }

    /// Replaces the values at the given paths with [`Value::Unknown`].
    pub fn with_unknown_paths(mut self, paths: &[AttrPath]) -> Value {
        for p in paths {
            if let Some(slot) = self.get_path_mut(p) {
                *slot = Value::Unknown;
            } else if p.is_empty() {
                return Value::Unknown;
            }
        }
        self
    }

    fn get_path_mut(&mut self, path: &[PathStep]) -> Option<&mut Value> {
        let mut cur = self;
        for step in path {
            if let Value::Sensitive(inner) = cur {
                cur = inner.as_mut();
            }
            cur = match (cur, step) {
                (Value::Map(m), PathStep::Key(k)) => m.get_mut(k)?,
                (Value::List(items) | Value::Set(items), PathStep::Index(i)) => items.get_mut(*i)?,
                _ => return None,
            };
        }
        Some(cur)
    }
}

fn collect_paths(
    v: &Value,
    prefix: &mut AttrPath,
    out: &mut Vec<AttrPath>,
    pred: &dyn Fn(&Value) -> bool,
    stop_at_match: bool,
) {
    if pred(v) {
        out.push(prefix.clone());
        if stop_at_match {
            return;
        }
    }
    match v {
        Value::Sensitive(inner) => collect_paths(inner, prefix, out, pred, stop_at_match),
        Value::List(items) | Value::Set(items) => {
            for (i, item) in items.iter().enumerate() {
                prefix.push(PathStep::Index(i));
                collect_paths(item, prefix, out, pred, stop_at_match);
                prefix.pop();
            }
        }
        Value::Map(m) => {
            for (k, item) in m {
                prefix.push(PathStep::Key(k.clone()));
                collect_paths(item, prefix, out, pred, stop_at_match);
                prefix.pop();
            }
        }
        _ => {}
    }
}

/// Formats a number the way HCL prints it: integers without a fraction.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e17 {
        format!("{}", n as i64)
    } else {
        let s = format!("{n}");
        s
    }
}

fn number_to_json(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map(serde_json::Value::Number).unwrap_or(serde_json::Value::Null)
    }
}

/// A total order over values, used to sort sets and map keys deterministically.
pub fn cmp_values(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            Value::List(_) => 4,
            Value::Set(_) => 5,
            Value::Map(_) => 6,
            Value::Unknown => 7,
            Value::Sensitive(_) => 8,
        }
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::List(x), Value::List(y)) | (Value::Set(x), Value::Set(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                let o = cmp_values(p, q);
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Map(x), Value::Map(y)) => {
            for ((ka, va), (kb, vb)) in x.iter().zip(y.iter()) {
                let o = ka.cmp(kb).then_with(|| cmp_values(va, vb));
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Sensitive(x), Value::Sensitive(y)) => cmp_values(x, y),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// HCL-like rendering, used by `console`, error messages and tests. Sensitive values print as
/// `(sensitive value)` and unknown ones as `(known after apply)`; never use this to reveal data.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => write!(f, "{}", format_number(*n)),
            Value::String(s) => write!(f, "{}", quote_string(s)),
            Value::List(items) | Value::Set(items) => {
                write!(f, "[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{item}")?;
                }
                write!(f, "]")
            }
            Value::Map(m) => {
                write!(f, "{{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    } else {
                        write!(f, " ")?;
                    }
                    if is_identifier(k) {
                        write!(f, "{k} = {v}")?;
                    } else {
                        write!(f, "{} = {v}", quote_string(k))?;
                    }
                }
                if m.is_empty() {
                    write!(f, "}}")
                } else {
                    write!(f, " }}")
                }
            }
            Value::Unknown => write!(f, "(known after apply)"),
            Value::Sensitive(_) => write!(f, "(sensitive value)"),
        }
    }
}

/// Quotes a string with HCL escapes.
pub fn quote_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' => out.push('$'),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    // `${` and `%{` would start a template sequence when read back.
    let out = out.replace("${", "$${").replace("%{", "%%{");
    out + "\""
}

/// A value encoded for storage: plain JSON plus the paths of its marks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EncodedValue {
    pub value: serde_json::Value,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<AttrPath>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<AttrPath>,
}

impl EncodedValue {
    pub fn encode(v: &Value) -> EncodedValue {
        EncodedValue { value: v.to_json(), sensitive: v.sensitive_paths(), unknown: v.unknown_paths() }
    }

    pub fn decode(&self) -> Value {
        Value::from_json(&self.value).with_unknown_paths(&self.unknown).mark_paths(&self.sensitive)
    }
}

impl Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        EncodedValue::encode(self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(EncodedValue::deserialize(deserializer)?.decode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj() -> Value {
        Value::map([
            ("name", Value::string("acme")),
            ("password", Value::string("hunter2").mark_sensitive()),
            ("id", Value::Unknown),
            ("tags", Value::List(vec![Value::number(1), Value::Unknown])),
        ])
    }

    #[test]
    fn marks_round_trip_through_encoding() {
        let v = obj();
        let enc = EncodedValue::encode(&v);
        assert_eq!(enc.sensitive, vec![vec![PathStep::Key("password".into())]]);
        assert_eq!(enc.unknown.len(), 2);
        assert_eq!(enc.decode(), v);
        let json = serde_json::to_string(&v).unwrap();
        let back: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn display_hides_sensitive_and_unknown() {
        let s = obj().to_string();
        assert!(!s.contains("hunter2"), "{s}");
        assert!(s.contains("(sensitive value)"));
        assert!(s.contains("(known after apply)"));
    }

    #[test]
    fn sets_are_sorted_and_deduplicated() {
        let s = Value::set(vec![Value::string("b"), Value::string("a"), Value::string("b")]);
        assert_eq!(s, Value::Set(vec![Value::string("a"), Value::string("b")]));
    }

    #[test]
    fn numbers_format_like_hcl() {
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(1.5), "1.5");
        assert_eq!(Value::number(2).to_json(), serde_json::json!(2));
    }

    #[test]
    fn quoting_escapes_template_sequences() {
        assert_eq!(quote_string("a${b}"), "\"a$${b}\"");
        assert_eq!(quote_string("line\n"), "\"line\\n\"");
    }

    #[test]
    fn path_rendering() {
        let p = vec![PathStep::Key("a".into()), PathStep::Index(0), PathStep::Key("x y".into())];
        assert_eq!(path_to_string(&p), "a[0][\"x y\"]");
    }
}

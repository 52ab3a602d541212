//! Redaction of secrets in what the HTTP client logs: JSON bodies (by field name or dotted
//! path) and query strings. Nothing else in the client may log a body or a query.

use serde_json::Value as Json;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Field names and paths whose values never reach a log.
///
/// A plain name (`password`) matches that key at any depth; a dotted path (`payload.data`)
/// matches the key `data` inside an object under the key `payload`, at any depth (array
/// levels in between are transparent). Matching is case-insensitive.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    fields: Vec<Vec<String>>,
}

/// Names redacted by every client, whatever the API: the usual spellings of secrets.
const ALWAYS: &[&str] =
    &["password", "secret", "token", "access_token", "refresh_token", "api_key", "private_key", "authorization"];

impl Redactor {
    /// A redactor for the given extra fields, on top of the usual secret names.
    pub fn new<S: AsRef<str>>(fields: impl IntoIterator<Item = S>) -> Self {
        let mut r = Redactor { fields: Vec::new() };
        for f in ALWAYS {
            r.add(f);
        }
        for f in fields {
            r.add(f.as_ref());
        }
        r
    }

    /// Adds a field name or dotted path.
    pub fn add(&mut self, field: &str) {
        let path: Vec<String> = field.split('.').map(|s| s.to_ascii_lowercase()).collect();
        if !path.iter().any(String::is_empty) && !self.fields.contains(&path) {
            self.fields.push(path);
        }
    }

    fn matches(&self, keys: &[String]) -> bool {
        self.fields.iter().any(|f| keys.len() >= f.len() && keys[keys.len() - f.len()..] == f[..])
    }

    /// A copy of `json` with every matching field's value replaced by [`REDACTED`].
    pub fn redact_json(&self, json: &Json) -> Json {
        let mut out = json.clone();
        self.walk(&mut out, &mut Vec::new());
        out
    }

    fn walk(&self, v: &mut Json, keys: &mut Vec<String>) {
        match v {
            Json::Object(m) => {
                for (k, child) in m.iter_mut() {
                    keys.push(k.to_ascii_lowercase());
                    if self.matches(keys) && !child.is_null() {
                        *child = Json::String(REDACTED.into());
                    } else {
                        self.walk(child, keys);
                    }
                    keys.pop();
                }
            }
            Json::Array(items) => items.iter_mut().for_each(|i| self.walk(i, keys)),
            _ => {}
        }
    }

    /// A body for a log line: redacted JSON, or only its size when it is not JSON (it could
    /// hold anything).
    pub fn redact_body(&self, body: &[u8]) -> String {
        if body.is_empty() {
            return String::new();
        }
        match serde_json::from_slice::<Json>(body) {
            Ok(j) => self.redact_json(&j).to_string(),
            Err(_) => format!("<{} bytes, not JSON>", body.len()),
        }
    }

    /// A `path?query` for a log line, with the values of matching query keys redacted.
    pub fn redact_query(&self, pairs: &[(String, String)]) -> String {
        pairs
            .iter()
            .map(|(k, v)| {
                let v = if self.matches(&[k.to_ascii_lowercase()]) { REDACTED } else { v.as_str() };
                format!("{k}={v}")
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_and_paths_are_redacted_at_any_depth() {
        let r = Redactor::new(["connection_uri", "payload.data"]);
        let body = json!({
            "role": {"name": "app", "Password": "hunter2"},
            "connection_uris": [{"connection_uri": "postgresql://app:hunter2@h/db", "connection_parameters": {"password": "hunter2", "host": "h"}}],
            "payload": {"data": "c2VjcmV0", "dataCrc32c": "1"},
            "data": "not a secret here",
            "nothing": null
        });
        let out = r.redact_json(&body).to_string();
        assert!(!out.contains("hunter2") && !out.contains("c2VjcmV0"), "{out}");
        assert!(out.contains("not a secret here") && out.contains("\"host\":\"h\""), "{out}");
        assert!(out.contains("\"nothing\":null"));
        assert_eq!(r.redact_body(b"plain secret"), "<12 bytes, not JSON>");
        assert_eq!(
            r.redact_query(&[("password".into(), "x".into()), ("limit".into(), "5".into())]),
            "password=<redacted>&limit=5"
        );
    }
}

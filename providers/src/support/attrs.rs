//! Typed, error-reporting access to the attributes of a resource value (a configuration, a
//! planned value or a stored state).
//!
//! Every accessor looks through sensitive marks, treats `null` as "unset", and reports a wrong
//! type or an unexpected unknown as a [`ProviderError`] pointing at the attribute, so resource
//! code reads like `let length = a.i64_or("length", 16)?;`. Building output values is left to
//! [`Value::map`]; the `val_*` helpers only convert optional Rust values.

use std::collections::BTreeMap;

use tenantform_engine::provider::ProviderError;
use tenantform_engine::value::{PathStep, Value};

/// A borrowed object value with typed getters.
#[derive(Clone, Copy, Debug)]
pub struct Attrs<'a> {
    value: &'a Value,
}

/// The path of a top-level attribute, for [`ProviderError::at`].
pub fn path(name: &str) -> Vec<PathStep> {
    vec![PathStep::Key(name.to_string())]
}

fn type_error(name: &str, expected: &str, got: &Value) -> ProviderError {
    ProviderError::permanent(format!("attribute `{name}` must be {expected}, got {}", got.type_name())).at(path(name))
}

impl<'a> Attrs<'a> {
    pub fn new(value: &'a Value) -> Self {
        Attrs { value }
    }

    /// The attribute's value without marks; `None` when absent or null. Unknown values are an
    /// error: providers only read known values in `create`/`update`/`read`/`delete`.
    pub fn get(&self, name: &str) -> Result<Option<&'a Value>, ProviderError> {
        let Some(v) = self.value.get(name) else {
            return Ok(None);
        };
        let (v, _) = v.unmarked();
        match v {
            Value::Null => Ok(None),
            Value::Unknown => Err(ProviderError::permanent(format!("attribute `{name}` is not known yet"))
                .with_detail("the engine passed an unknown value where a known one is needed")
                .at(path(name))),
            v => Ok(Some(v)),
        }
    }

    /// True when the attribute is present and unknown (plan time).
    pub fn is_unknown(&self, name: &str) -> bool {
        self.value.get(name).is_some_and(Value::is_unknown)
    }

    pub fn opt_str(&self, name: &str) -> Result<Option<&'a str>, ProviderError> {
        match self.get(name)? {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(type_error(name, "a string", v)),
        }
    }

    /// A required string attribute.
    pub fn str(&self, name: &str) -> Result<&'a str, ProviderError> {
        self.opt_str(name)?.ok_or_else(|| missing(name))
    }

    pub fn str_or(&self, name: &str, default: &'a str) -> Result<&'a str, ProviderError> {
        Ok(self.opt_str(name)?.unwrap_or(default))
    }

    /// An optional+computed string: unknown (the provider is to choose) reads as unset.
    pub fn opt_str_computed(&self, name: &str) -> Result<Option<&'a str>, ProviderError> {
        if self.is_unknown(name) {
            return Ok(None);
        }
        self.opt_str(name)
    }

    /// An optional+computed whole number: unknown (the provider is to choose) reads as unset.
    pub fn opt_i64_computed(&self, name: &str) -> Result<Option<i64>, ProviderError> {
        if self.is_unknown(name) {
            return Ok(None);
        }
        self.opt_i64(name)
    }

    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, ProviderError> {
        match self.get(name)? {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(type_error(name, "a bool", v)),
        }
    }

    pub fn bool_or(&self, name: &str, default: bool) -> Result<bool, ProviderError> {
        Ok(self.opt_bool(name)?.unwrap_or(default))
    }

    pub fn opt_i64(&self, name: &str) -> Result<Option<i64>, ProviderError> {
        match self.get(name)? {
            None => Ok(None),
            Some(v @ Value::Number(_)) => v.as_i64().map(Some).ok_or_else(|| type_error(name, "a whole number", v)),
            Some(v) => Err(type_error(name, "a number", v)),
        }
    }

    pub fn i64_or(&self, name: &str, default: i64) -> Result<i64, ProviderError> {
        Ok(self.opt_i64(name)?.unwrap_or(default))
    }

    /// A required whole number.
    pub fn i64(&self, name: &str) -> Result<i64, ProviderError> {
        self.opt_i64(name)?.ok_or_else(|| missing(name))
    }

    /// A list of strings; `None` when unset.
    pub fn opt_string_list(&self, name: &str) -> Result<Option<Vec<String>>, ProviderError> {
        let Some(v) = self.get(name)? else {
            return Ok(None);
        };
        let Some(items) = v.as_list() else {
            return Err(type_error(name, "a list of strings", v));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                item.to_interp_string().ok_or_else(|| {
                    ProviderError::permanent(format!(
                        "attribute `{name}` must be a list of strings; element {i} is {}",
                        item.type_name()
                    ))
                    .at(vec![PathStep::Key(name.to_string()), PathStep::Index(i)])
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// A map of strings; empty when unset.
    pub fn string_map(&self, name: &str) -> Result<BTreeMap<String, String>, ProviderError> {
        let Some(v) = self.get(name)? else {
            return Ok(BTreeMap::new());
        };
        let Some(m) = v.as_map() else {
            return Err(type_error(name, "a map of strings", v));
        };
        m.iter()
            .map(|(k, item)| {
                item.to_interp_string().map(|s| (k.clone(), s)).ok_or_else(|| {
                    ProviderError::permanent(format!(
                        "attribute `{name}` must be a map of strings; key {k:?} is {}",
                        item.type_name()
                    ))
                    .at(vec![PathStep::Key(name.to_string()), PathStep::Key(k.clone())])
                })
            })
            .collect()
    }

    /// The attribute as stored (marks removed), `Null` when absent: for copying inputs such as
    /// `keepers` into the resulting state unchanged.
    pub fn raw(&self, name: &str) -> Value {
        self.value.get(name).cloned().map(Value::unmark_deep).unwrap_or(Value::Null)
    }
}

fn missing(name: &str) -> ProviderError {
    ProviderError::permanent(format!("attribute `{name}` is required")).at(path(name))
}

/// `Some(s)` → string, `None` → null.
pub fn val_opt_str(s: Option<&str>) -> Value {
    s.map(Value::string).unwrap_or(Value::Null)
}

/// A list of strings.
pub fn val_str_list(items: &[String]) -> Value {
    Value::List(items.iter().map(|s| Value::string(s.as_str())).collect())
}

/// A map of strings.
pub fn val_str_map(m: &BTreeMap<String, String>) -> Value {
    Value::Map(m.iter().map(|(k, v)| (k.clone(), Value::string(v.as_str()))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn getters_look_through_marks_and_report_types() {
        let v = Value::map([
            ("s", Value::string("x").mark_sensitive()),
            ("n", Value::number(3)),
            ("f", Value::number(1.5)),
            ("b", Value::Bool(true)),
            ("null", Value::Null),
            ("u", Value::Unknown),
            ("l", Value::List(vec![Value::string("a"), Value::number(2)])),
            ("m", Value::map([("k", Value::string("v"))])),
        ]);
        let a = Attrs::new(&v);
        assert_eq!(a.str("s").unwrap(), "x");
        assert_eq!(a.i64("n").unwrap(), 3);
        assert!(a.i64("f").unwrap_err().summary.contains("whole number"));
        assert!(a.bool_or("b", false).unwrap());
        assert_eq!(a.str_or("null", "d").unwrap(), "d");
        assert!(a.str("missing").unwrap_err().summary.contains("required"));
        assert!(a.opt_str("u").is_err());
        assert!(a.is_unknown("u"));
        assert_eq!(a.opt_i64_computed("u").unwrap(), None);
        assert_eq!(a.opt_str_computed("s").unwrap(), Some("x"));
        assert_eq!(a.opt_string_list("l").unwrap().unwrap(), vec!["a", "2"]);
        assert_eq!(a.string_map("m").unwrap()["k"], "v");
        assert!(a.string_map("null").unwrap().is_empty());
        let e = a.str("n").unwrap_err();
        assert_eq!(e.attribute, Some(path("n")));
    }
}

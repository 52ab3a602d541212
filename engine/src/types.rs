//! Type constraints (`string`, `list(object({...}))`, `optional(T, default)`) and the conversion
//! of values to them, used for variables, module inputs and provider schemas.
//!
//! Conversion follows Terraform's rules where users notice them: numbers and bools convert to
//! strings and back, tuples to lists and sets, objects to maps, missing optional object
//! attributes become their default or null. Marks (unknown, sensitive) survive conversion. This
//! module does not parse type expressions; the config loader does.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::value::{format_number, PathStep, Value};

/// A type constraint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Type {
    Any,
    String,
    Number,
    Bool,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Tuple(Vec<Type>),
    Object(BTreeMap<String, ObjectAttr>),
}

/// One attribute of an object type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectAttr {
    pub ty: Type,
    pub optional: bool,
    pub default: Option<Value>,
}

impl ObjectAttr {
    pub fn required(ty: Type) -> ObjectAttr {
        ObjectAttr { ty, optional: false, default: None }
    }
    pub fn optional(ty: Type, default: Option<Value>) -> ObjectAttr {
        ObjectAttr { ty, optional: true, default }
    }
}

/// Why a value does not conform to a type: where, and what was expected.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvertError {
    pub path: Vec<PathStep>,
    pub message: String,
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "attribute {}: {}", crate::value::path_to_string(&self.path), self.message)
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Any => write!(f, "any"),
            Type::String => write!(f, "string"),
            Type::Number => write!(f, "number"),
            Type::Bool => write!(f, "bool"),
            Type::List(t) => write!(f, "list({t})"),
            Type::Set(t) => write!(f, "set({t})"),
            Type::Map(t) => write!(f, "map({t})"),
            Type::Tuple(ts) => {
                write!(f, "tuple([")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{t}")?;
                }
                write!(f, "])")
            }
            Type::Object(attrs) => {
                write!(f, "object({{")?;
                for (i, (k, a)) in attrs.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    if a.optional {
                        write!(f, "{k} = optional({})", a.ty)?;
                    } else {
                        write!(f, "{k} = {}", a.ty)?;
                    }
                }
                write!(f, "}})")
            }
        }
    }
}

fn err(path: &[PathStep], message: impl Into<String>) -> ConvertError {
    ConvertError { path: path.to_vec(), message: message.into() }
}

impl Type {
    /// Converts `value` to this type, or says why it cannot.
    pub fn convert(&self, value: Value) -> Result<Value, ConvertError> {
        convert(self, value, &mut Vec::new())
    }

    /// True for the primitive types string/number/bool.
    pub fn is_primitive(&self) -> bool {
        matches!(self, Type::String | Type::Number | Type::Bool)
    }
}

fn describe(v: &Value) -> String {
    match v.unmarked().0 {
        Value::List(_) => "tuple".into(),
        Value::Set(_) => "set".into(),
        Value::Map(_) => "object".into(),
        other => other.type_name().into(),
    }
}

fn convert(ty: &Type, value: Value, path: &mut Vec<PathStep>) -> Result<Value, ConvertError> {
    let (value, sensitive) = value.unmark();
    let out = match (ty, value) {
        (_, Value::Unknown) => Value::Unknown,
        (_, Value::Null) => Value::Null,
        (Type::Any, v) => v,
        (Type::String, Value::String(s)) => Value::String(s),
        (Type::String, Value::Number(n)) => Value::String(format_number(n)),
        (Type::String, Value::Bool(b)) => Value::String(b.to_string()),
        (Type::Number, Value::Number(n)) => Value::Number(n),
        (Type::Number, Value::String(s)) => match s.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Value::Number(n),
            _ => return Err(err(path, format!("a number is required, got the string {s:?}"))),
        },
        (Type::Bool, Value::Bool(b)) => Value::Bool(b),
        (Type::Bool, Value::String(s)) => match s.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(err(path, format!("a bool is required, got the string {s:?}"))),
        },
        (Type::List(elem), Value::List(items) | Value::Set(items)) => Value::List(convert_items(elem, items, path)?),
        (Type::Set(elem), Value::List(items) | Value::Set(items)) => Value::set(convert_items(elem, items, path)?),
        (Type::Tuple(elems), Value::List(items) | Value::Set(items)) => {
            if elems.len() != items.len() {
                return Err(err(path, format!("a tuple of {} elements is required, got {}", elems.len(), items.len())));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (t, item)) in elems.iter().zip(items).enumerate() {
                path.push(PathStep::Index(i));
                out.push(convert(t, item, path)?);
                path.pop();
            }
            Value::List(out)
        }
        (Type::Map(elem), Value::Map(m)) => {
            let mut out = BTreeMap::new();
            for (k, v) in m {
                path.push(PathStep::Key(k.clone()));
                out.insert(k, convert(elem, v, path)?);
                path.pop();
            }
            Value::Map(out)
        }
        (Type::Object(attrs), Value::Map(mut m)) => {
            let mut out = BTreeMap::new();
            for (name, attr) in attrs {
                path.push(PathStep::Key(name.clone()));
                match m.remove(name) {
                    Some(v) if !(attr.optional && v.is_null()) => {
                        out.insert(name.clone(), convert(&attr.ty, v, path)?);
                    }
                    Some(_) | None if attr.optional => {
                        let d = attr.default.clone().unwrap_or(Value::Null);
                        out.insert(name.clone(), convert(&attr.ty, d, path)?);
                    }
                    Some(v) => {
                        out.insert(name.clone(), convert(&attr.ty, v, path)?);
                    }
                    None => {
                        path.pop();
                        return Err(err(path, format!("attribute \"{name}\" is required")));
                    }
                }
                path.pop();
            }
            // Attributes the type does not declare are dropped, as Terraform does: a module may
            // take a bigger object than it needs.
            Value::Map(out)
        }
        (ty, v) => {
            return Err(err(path, format!("{ty} required, got {}", describe(&v))));
        }
    };
    Ok(out.with_sensitive(sensitive))
}

fn convert_items(elem: &Type, items: Vec<Value>, path: &mut Vec<PathStep>) -> Result<Vec<Value>, ConvertError> {
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        path.push(PathStep::Index(i));
        out.push(convert(elem, item, path)?);
        path.pop();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitives_convert_like_terraform() {
        assert_eq!(Type::String.convert(Value::number(5)).unwrap(), Value::string("5"));
        assert_eq!(Type::Number.convert(Value::string("2.5")).unwrap(), Value::number(2.5));
        assert!(Type::Number.convert(Value::string("abc")).is_err());
        assert_eq!(Type::Bool.convert(Value::string("true")).unwrap(), Value::Bool(true));
    }

    #[test]
    fn object_optional_defaults_and_errors() {
        let ty = Type::Object(BTreeMap::from([
            ("plan".to_string(), ObjectAttr::required(Type::String)),
            ("replicas".to_string(), ObjectAttr::optional(Type::Number, Some(Value::number(1)))),
        ]));
        let v = ty.convert(Value::map([("plan", Value::string("pro"))])).unwrap();
        assert_eq!(v.get("replicas"), Some(&Value::number(1)));
        let e = ty.convert(Value::map([("replicas", Value::number(2))])).unwrap_err();
        assert!(e.to_string().contains("\"plan\" is required"), "{e}");
        let v = ty.convert(Value::map([("plan", Value::string("x")), ("extra", Value::Null)])).unwrap();
        assert_eq!(v.get("extra"), None, "undeclared attributes are dropped");
    }

    #[test]
    fn marks_survive_conversion() {
        let v = Type::String.convert(Value::number(1).mark_sensitive()).unwrap();
        assert_eq!(v, Value::string("1").mark_sensitive());
        assert_eq!(Type::List(Box::new(Type::String)).convert(Value::Unknown).unwrap(), Value::Unknown);
    }

    #[test]
    fn nested_error_has_path() {
        let ty = Type::Map(Box::new(Type::Number));
        let e = ty.convert(Value::map([("a", Value::string("x"))])).unwrap_err();
        assert_eq!(e.path, vec![PathStep::Key("a".into())]);
    }
}

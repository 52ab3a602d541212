//! Parsing of type constraint expressions: `string`, `list(object({ name = string, port =
//! optional(number, 8080) }))`, … into [`Type`].

use std::collections::BTreeMap;

use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::Span as _;

use crate::diagnostics::{Diagnostic, FileId, Span};
use crate::types::{ObjectAttr, Type};

use super::literal_value;

/// Parses a type expression; errors point at the offending part.
pub fn parse_type(e: &Expression, file: FileId) -> Result<Type, Diagnostic> {
    parse(e, file, false)
}

fn span(e: &Expression, file: FileId) -> Option<Span> {
    e.span().map(|r| Span::new(file, r))
}

fn bad(e: &Expression, file: FileId, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::error("invalid-type", "Invalid type specification").with_span(span(e, file)).with_label(msg).with_help(
        "types are string, number, bool, any, list(T), set(T), map(T), tuple([T, …]) or object({ name = T, … })",
    )
}

fn parse(e: &Expression, file: FileId, in_object: bool) -> Result<Type, Diagnostic> {
    match e {
        Expression::Variable(v) => match v.value().as_str() {
            "string" => Ok(Type::String),
            "number" => Ok(Type::Number),
            "bool" => Ok(Type::Bool),
            "any" => Ok(Type::Any),
            "list" => Ok(Type::List(Box::new(Type::Any))),
            "map" => Ok(Type::Map(Box::new(Type::Any))),
            "set" => Ok(Type::Set(Box::new(Type::Any))),
            other => Err(bad(e, file, format!("unknown type \"{other}\""))),
        },
        Expression::Parenthesis(p) => parse(p.inner(), file, in_object),
        Expression::FuncCall(call) => {
            let name = call.name.name.value().as_str();
            let args: Vec<&Expression> = call.args.iter().collect();
            let one = |what: &str| -> Result<&Expression, Diagnostic> {
                if args.len() == 1 {
                    Ok(args[0])
                } else {
                    Err(bad(e, file, format!("{what}(...) takes exactly one argument")))
                }
            };
            match name {
                "list" => Ok(Type::List(Box::new(parse(one("list")?, file, false)?))),
                "set" => Ok(Type::Set(Box::new(parse(one("set")?, file, false)?))),
                "map" => Ok(Type::Map(Box::new(parse(one("map")?, file, false)?))),
                "tuple" => match one("tuple")? {
                    Expression::Array(a) => {
                        Ok(Type::Tuple(a.iter().map(|x| parse(x, file, false)).collect::<Result<_, _>>()?))
                    }
                    other => Err(bad(other, file, "tuple(...) takes a list of types: tuple([string, number])")),
                },
                "object" => match one("object")? {
                    Expression::Object(o) => {
                        let mut attrs = BTreeMap::new();
                        for (k, v) in o.iter() {
                            let key = match k {
                                ObjectKey::Ident(i) => i.value().to_string(),
                                ObjectKey::Expression(ke) => match literal_value(ke) {
                                    Some(crate::value::Value::String(s)) => s,
                                    _ => return Err(bad(ke, file, "object attribute names must be names or strings")),
                                },
                            };
                            attrs.insert(key, parse_attr(v.expr(), file)?);
                        }
                        Ok(Type::Object(attrs))
                    }
                    other => Err(bad(other, file, "object(...) takes an object of types: object({ name = string })")),
                },
                "optional" if in_object => Err(bad(e, file, "optional() is only valid as an object attribute type")),
                "optional" => Err(bad(e, file, "optional() is only valid directly inside object({ ... })")),
                other => Err(bad(e, file, format!("unknown type constructor \"{other}\""))),
            }
        }
        _ => Err(bad(e, file, "this is not a type")),
    }
}

fn parse_attr(e: &Expression, file: FileId) -> Result<ObjectAttr, Diagnostic> {
    if let Expression::FuncCall(call) = e {
        if call.name.name.value().as_str() == "optional" {
            let args: Vec<&Expression> = call.args.iter().collect();
            if args.is_empty() || args.len() > 2 {
                return Err(bad(e, file, "optional(type) or optional(type, default)"));
            }
            let ty = parse(args[0], file, true)?;
            let default = match args.get(1) {
                Some(d) => Some(
                    super::load::const_value(d)
                        .ok_or_else(|| bad(d, file, "the default of optional() must be a constant value"))?,
                ),
                None => None,
            };
            let default = match default {
                Some(d) => Some(
                    ty.convert(d)
                        .map_err(|err| bad(args[1], file, format!("default does not match the type: {err}")))?,
                ),
                None => None,
            };
            return Ok(ObjectAttr::optional(ty, default));
        }
    }
    Ok(ObjectAttr::required(parse(e, file, true)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn ty(src: &str) -> Result<Type, Diagnostic> {
        let e = hcl_edit::parser::parse_expr(src).unwrap();
        parse_type(&e, FileId(0))
    }

    #[test]
    fn parses_nested_types() {
        assert_eq!(ty("list(string)").unwrap(), Type::List(Box::new(Type::String)));
        let t = ty("map(object({ name = string, port = optional(number, 8080) }))").unwrap();
        let Type::Map(inner) = t else { panic!() };
        let Type::Object(attrs) = *inner else { panic!() };
        assert_eq!(attrs["port"].default, Some(Value::number(8080)));
        assert!(attrs["port"].optional);
        assert!(!attrs["name"].optional);
        assert_eq!(ty("tuple([string, bool])").unwrap(), Type::Tuple(vec![Type::String, Type::Bool]));
    }

    #[test]
    fn rejects_bad_types() {
        assert!(ty("strng").unwrap_err().label.unwrap().contains("unknown type \"strng\""));
        assert!(ty("optional(string)").is_err());
        assert!(ty("object({ a = optional(number, \"x\") })").is_err());
    }
}

//! Privilege vocabulary shared by `postgres_grant` and `postgres_default_privileges`: object
//! types, the privileges each accepts, normalisation (`all`, `temp`, case), and how a grantee
//! is written (`public` is the keyword PUBLIC, anything else a quoted role name).

use std::collections::BTreeSet;

use tenantform_engine::provider::{ConfigProblem, ProviderError};
use tenantform_engine::value::Value;

use super::ident;
use crate::support::attrs::path;

/// What a grant is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectType {
    Database,
    Schema,
    Table,
    Sequence,
    Function,
    Type,
}

impl ObjectType {
    pub fn parse(s: &str) -> Option<ObjectType> {
        Some(match s {
            "database" => ObjectType::Database,
            "schema" => ObjectType::Schema,
            "table" => ObjectType::Table,
            "sequence" => ObjectType::Sequence,
            "function" => ObjectType::Function,
            "type" => ObjectType::Type,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ObjectType::Database => "database",
            ObjectType::Schema => "schema",
            ObjectType::Table => "table",
            ObjectType::Sequence => "sequence",
            ObjectType::Function => "function",
            ObjectType::Type => "type",
        }
    }

    /// Every privilege the object type has (what `ALL` means).
    pub fn all(self) -> &'static [&'static str] {
        match self {
            ObjectType::Database => &["CONNECT", "CREATE", "TEMPORARY"],
            ObjectType::Schema => &["CREATE", "USAGE"],
            ObjectType::Table => &["DELETE", "INSERT", "REFERENCES", "SELECT", "TRIGGER", "TRUNCATE", "UPDATE"],
            ObjectType::Sequence => &["SELECT", "UPDATE", "USAGE"],
            ObjectType::Function => &["EXECUTE"],
            ObjectType::Type => &["USAGE"],
        }
    }

    /// The plural keyword of `ALL TABLES IN SCHEMA` and `ALTER DEFAULT PRIVILEGES … ON TABLES`.
    pub fn plural(self) -> &'static str {
        match self {
            ObjectType::Database => "DATABASES",
            ObjectType::Schema => "SCHEMAS",
            ObjectType::Table => "TABLES",
            ObjectType::Sequence => "SEQUENCES",
            ObjectType::Function => "FUNCTIONS",
            ObjectType::Type => "TYPES",
        }
    }
}

/// The normalised privilege set (upper case, `TEMP` → `TEMPORARY`, `ALL` expanded), or a
/// message naming the privilege the object type does not have.
pub fn normalize(t: ObjectType, privileges: &[String]) -> Result<BTreeSet<String>, String> {
    let mut out = BTreeSet::new();
    for p in privileges {
        let up = p.trim().to_ascii_uppercase();
        let up = match up.as_str() {
            "TEMP" => "TEMPORARY".to_string(),
            "ALL PRIVILEGES" => "ALL".to_string(),
            _ => up,
        };
        if up == "ALL" {
            out.extend(t.all().iter().map(|s| s.to_string()));
        } else if t.all().contains(&up.as_str()) {
            out.insert(up);
        } else {
            return Err(format!("{p:?} is not a privilege of a {}; use {} or ALL", t.name(), t.all().join(", ")));
        }
    }
    Ok(out)
}

/// The set value of a privilege set, as stored.
pub fn privileges_value(p: &BTreeSet<String>) -> Value {
    Value::set(p.iter().map(|s| Value::string(s.as_str())).collect())
}

/// How a grantee is written in SQL.
pub fn grantee(role: &str) -> String {
    if role == "public" {
        "PUBLIC".into()
    } else {
        ident(role)
    }
}

/// The grantee's OID expression for `aclexplode(…).grantee` (0 is PUBLIC).
pub const GRANTEE_OID: &str =
    "(CASE WHEN $ROLE = 'public' THEN 0::oid ELSE (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $ROLE) END)";

/// `validate` checks of `object_type` and `privileges` shared by both resources.
pub fn validate(config: &Value, allowed: &[ObjectType]) -> Vec<ConfigProblem> {
    let mut out = Vec::new();
    let Some(t) = config.get("object_type").and_then(Value::as_str) else { return out };
    let Some(ot) = ObjectType::parse(t).filter(|o| allowed.contains(o)) else {
        out.push(ConfigProblem {
            path: path("object_type"),
            message: format!(
                "object_type must be one of {}",
                allowed.iter().map(|o| o.name()).collect::<Vec<_>>().join(", ")
            ),
        });
        return out;
    };
    if let Some(items) = config.get("privileges").and_then(Value::as_list) {
        let names: Vec<String> = items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
        if names.len() == items.len() {
            if let Err(message) = normalize(ot, &names) {
                out.push(ConfigProblem { path: path("privileges"), message });
            }
        }
    }
    out
}

/// Reads and checks `object_type` in create/update.
pub fn object_type(v: &Value, allowed: &[ObjectType]) -> Result<ObjectType, ProviderError> {
    let t = crate::support::attrs::Attrs::new(v).str("object_type")?;
    ObjectType::parse(t)
        .filter(|o| allowed.contains(o))
        .ok_or_else(|| ProviderError::permanent(format!("unsupported object_type {t:?}")).at(path("object_type")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn privileges_normalise_and_refuse_foreign_ones() {
        let n = |t, p: &[&str]| normalize(t, &p.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            n(ObjectType::Database, &["connect", "temp"]).unwrap().into_iter().collect::<Vec<_>>(),
            ["CONNECT", "TEMPORARY"]
        );
        assert_eq!(n(ObjectType::Table, &["ALL"]).unwrap().len(), 7);
        assert!(n(ObjectType::Schema, &["SELECT"]).unwrap_err().contains("CREATE, USAGE"));
    }
}

//! `random_password`: a random string like `random_string`, but `result` is sensitive, and
//! `id` is the constant `"none"` (as in hashicorp/random) so the secret never leaks through it.
//!
//! Import ID: the password itself (`tenantform import random_password.db 'S3cr3t!'`). The
//! imported state records its length and the default character classes, so a configuration
//! with `length = <that length>` and default flags shows no changes.
//!
//! `bcrypt_hash` is not offered: nothing in tenantform consumes it yet.

use async_trait::async_trait;
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, OpContext, ProviderError, ResourceSchema, ResourceType,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use super::charset::{self, Params};

pub fn schema() -> ResourceSchema {
    let schema = charset::schema(
        "A random password, kept in state and marked sensitive. Every input is force-new: \
         changing one (or a keeper) generates a new password.",
        true,
    )
    .attr("id", AttributeSchema::computed(Type::String).describe("Always \"none\": the password is in `result`."));
    ResourceSchema { schema, version: 0, import_id: "<the password itself>".into() }
}

pub struct RandomPassword;

#[async_trait]
impl ResourceType for RandomPassword {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        charset::validate(config)
    }

    async fn create(&self, planned: &Value, _ctx: &OpContext) -> Result<Value, ProviderError> {
        let p = Params::from_value(planned)?;
        let result = p.generate()?;
        Ok(p.state(&result, "none"))
    }

    async fn read(&self, current: &Value, _ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        Ok(Some(current.clone()))
    }

    async fn update(&self, prior: &Value, planned: &Value, _ctx: &OpContext) -> Result<Value, ProviderError> {
        Ok(super::carry_over(prior, planned, &["id", "result"]))
    }

    async fn delete(&self, _current: &Value, _ctx: &OpContext) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn import(&self, id: &str, _ctx: &OpContext) -> Result<Value, ProviderError> {
        if id.is_empty() {
            return Err(ProviderError::permanent(
                "the import ID of random_password is the password itself; it is empty",
            ));
        }
        Ok(Params::imported(id).state(id, "none"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> OpContext {
        OpContext::default()
    }

    #[tokio::test]
    async fn lifecycle_generates_once_and_keeps_the_value() {
        let r = RandomPassword;
        let planned = Value::map([("length", Value::number(24)), ("result", Value::Unknown), ("id", Value::Unknown)]);
        let s = r.create(&planned, &ctx()).await.unwrap();
        let result = s.get("result").and_then(Value::as_str).unwrap().to_string();
        assert_eq!(result.chars().count(), 24);
        assert_eq!(s.get("id"), Some(&Value::string("none")));
        assert_eq!(s.get("special"), Some(&Value::Bool(true)));
        assert_eq!(r.read(&s, &ctx()).await.unwrap(), Some(s.clone()));
        let again = r.create(&planned, &ctx()).await.unwrap();
        assert_ne!(again.get("result"), s.get("result"), "two creates give two passwords");
        // An update (nothing in-place exists, but the engine may still call it) keeps the value.
        let mut planned2 = s.clone();
        crate::support::diff::set(&mut planned2, "result", Value::Unknown);
        let u = r.update(&s, &planned2, &ctx()).await.unwrap();
        assert_eq!(u.get("result").and_then(Value::as_str), Some(result.as_str()));
        r.delete(&s, &ctx()).await.unwrap();
    }

    #[tokio::test]
    async fn import_by_value() {
        let s = RandomPassword.import("hunter2!X", &ctx()).await.unwrap();
        assert_eq!(s.get("result"), Some(&Value::string("hunter2!X")));
        assert_eq!(s.get("length"), Some(&Value::number(9)));
        assert_eq!(s.get("min_upper"), Some(&Value::number(0)));
        assert!(RandomPassword.import("", &ctx()).await.is_err());
    }

    #[test]
    fn schema_marks_result_sensitive_and_inputs_force_new() {
        let s = schema().schema;
        assert!(s.attributes["result"].sensitive);
        for (name, a) in &s.attributes {
            if a.is_settable() {
                assert!(a.force_new, "{name} must be force-new");
            }
        }
    }
}

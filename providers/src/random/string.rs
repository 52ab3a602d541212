//! `random_string`: like `random_password`, but `result` is not sensitive and `id` is the
//! result itself (hashicorp/random's behaviour). Use it for names and suffixes, not secrets.
//!
//! Import ID: the string itself.

use async_trait::async_trait;
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, OpContext, ProviderError, ResourceSchema, ResourceType,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use super::charset::{self, Params};

pub fn schema() -> ResourceSchema {
    let schema = charset::schema(
        "A random string, kept in state (not sensitive: use random_password for secrets). \
         Every input is force-new.",
        false,
    )
    .attr("id", AttributeSchema::computed(Type::String).describe("The generated string (same as `result`)."));
    ResourceSchema { schema, version: 0, import_id: "<the string itself>".into() }
}

pub struct RandomString;

#[async_trait]
impl ResourceType for RandomString {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        charset::validate(config)
    }

    async fn create(&self, planned: &Value, _ctx: &OpContext) -> Result<Value, ProviderError> {
        let p = Params::from_value(planned)?;
        let result = p.generate()?;
        Ok(p.state(&result, &result))
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
            return Err(ProviderError::permanent("the import ID of random_string is the string itself; it is empty"));
        }
        Ok(Params::imported(id).state(id, id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn id_is_the_result_and_import_round_trips() {
        let ctx = OpContext::default();
        let planned = Value::map([("length", Value::number(8)), ("special", Value::Bool(false))]);
        let s = RandomString.create(&planned, &ctx).await.unwrap();
        assert_eq!(s.get("id"), s.get("result"));
        let id = s.get("id").and_then(Value::as_str).unwrap();
        assert!(id.chars().all(char::is_alphanumeric));
        let imported = RandomString.import(id, &ctx).await.unwrap();
        assert_eq!(imported.get("result"), s.get("result"));
        assert_eq!(imported.get("length"), Some(&Value::number(8)));
        assert!(!schema().schema.attributes["result"].sensitive);
    }
}

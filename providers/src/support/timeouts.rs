//! The `timeouts {}` block of slow resources (Terraform's `timeouts { create = "20m" }`):
//! its schema and the lookup of the limit for one operation.
//!
//! Precedence: the block's value for the operation, else the engine's [`OpContext::timeout`],
//! else the resource's default. Values are Go-style durations (see [`super::duration`]).

use std::time::Duration;

use tenantform_engine::provider::{
    AttributeSchema, BlockSchema, ConfigProblem, Nesting, OpContext, ProviderError, Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::{PathStep, Value};

use super::duration;

/// A `timeouts` block with one optional duration attribute per operation
/// (`create`, `update`, `delete`, `read`).
pub fn block(ops: &[&str]) -> BlockSchema {
    let mut schema = Schema::new().describe("Time limits of slow operations.");
    for op in ops {
        schema = schema.attr(
            op,
            AttributeSchema::optional(Type::String)
                .describe(format!("How long `{op}` may take, e.g. \"30m\" (units s, m, h).")),
        );
    }
    BlockSchema { nesting: Nesting::Single, schema, min_items: 0, max_items: Some(1), force_new: false }
}

/// The limit for `op` given a resource value holding a `timeouts` block.
pub fn for_op(value: &Value, op: &str, ctx: &OpContext, default: Duration) -> Result<Duration, ProviderError> {
    let set = value.get("timeouts").and_then(|t| t.get(op)).and_then(Value::as_str);
    match set {
        Some(s) => duration::parse(s).map_err(|e| {
            ProviderError::permanent(format!("timeouts.{op}: {e}"))
                .at(vec![PathStep::Key("timeouts".into()), PathStep::Key(op.into())])
        }),
        None => Ok(ctx.timeout.unwrap_or(default)),
    }
}

/// `validate` problems of a `timeouts` block (unknown values are skipped).
pub fn validate(config: &Value) -> Vec<ConfigProblem> {
    let Some(m) = config.get("timeouts").and_then(Value::as_map) else { return Vec::new() };
    m.iter()
        .filter_map(|(op, v)| {
            let s = v.as_str()?;
            duration::parse(s).err().map(|message| ConfigProblem {
                path: vec![PathStep::Key("timeouts".into()), PathStep::Key(op.clone())],
                message,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_value_then_context_then_default() {
        let v = Value::map([("timeouts", Value::map([("create", Value::string("2m")), ("delete", Value::Null)]))]);
        let ctx = OpContext::default();
        assert_eq!(for_op(&v, "create", &ctx, Duration::from_secs(1)).unwrap(), Duration::from_secs(120));
        assert_eq!(for_op(&v, "delete", &ctx, Duration::from_secs(1)).unwrap(), Duration::from_secs(1));
        let ctx = OpContext { timeout: Some(Duration::from_secs(9)), ..OpContext::default() };
        assert_eq!(for_op(&Value::Null, "update", &ctx, Duration::from_secs(1)).unwrap(), Duration::from_secs(9));
        let bad = Value::map([("timeouts", Value::map([("create", Value::string("5 minutes"))]))]);
        assert!(for_op(&bad, "create", &ctx, Duration::ZERO).is_err());
        assert_eq!(validate(&bad).len(), 1);
        assert_eq!(block(&["create", "delete"]).schema.attributes.len(), 2);
    }
}

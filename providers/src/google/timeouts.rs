//! The `timeouts { create = "…", update = "…", delete = "…" }` block of Google resources, as in
//! the Terraform google provider (Go durations; default 20 minutes each).
//!
//! The bound covers the whole operation: the API calls, their retries and the wait for a
//! long-running operation to finish. An [`OpContext::timeout`] set by the engine wins over the
//! block when it is shorter.

use std::time::Duration;

use tenantform_engine::provider::{AttributeSchema, BlockSchema, ConfigProblem, Nesting, OpContext, Schema};
use tenantform_engine::types::Type;
use tenantform_engine::value::{PathStep, Value};

use crate::support::duration;

/// The Terraform provider's default for every operation.
pub const DEFAULT: Duration = Duration::from_secs(20 * 60);

/// Which operation a timeout bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Create,
    Update,
    Delete,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }
}

/// The block schema, offering the given operations.
pub fn block(ops: &[Op]) -> BlockSchema {
    let mut s = Schema::new().describe("How long each operation may take (Go durations such as \"30s\", \"20m\").");
    for op in ops {
        s = s.attr(
            op.name(),
            AttributeSchema::optional(Type::String).describe(format!(
                "Upper bound for {}, including waits for the API to finish. Default \"20m\".",
                op.name()
            )),
        );
    }
    BlockSchema { nesting: Nesting::Single, schema: s, min_items: 0, max_items: Some(1), force_new: false }
}

/// The bound for `op` from the resource value's `timeouts` block (or the default), tightened
/// by the engine's own timeout when it set one.
pub fn get(value: &Value, op: Op, ctx: &OpContext) -> Duration {
    let configured = value
        .get("timeouts")
        .and_then(|t| t.get(op.name()))
        .and_then(Value::as_str)
        .and_then(|s| duration::parse(s).ok())
        .unwrap_or(DEFAULT);
    match ctx.timeout {
        Some(t) if t < configured => t,
        _ => configured,
    }
}

/// Problems with the block's durations (for `validate`).
pub fn validate(config: &Value) -> Vec<ConfigProblem> {
    let Some(t) = config.get("timeouts") else { return Vec::new() };
    ["create", "update", "delete"]
        .into_iter()
        .filter_map(|op| {
            let s = t.get(op)?.as_str()?;
            duration::parse(s).err().map(|message| ConfigProblem {
                path: vec![PathStep::Key("timeouts".into()), PathStep::Key(op.into())],
                message,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_block_with_defaults() {
        let v = Value::map([("timeouts", Value::map([("create", Value::string("90s")), ("delete", Value::Null)]))]);
        let ctx = OpContext::default();
        assert_eq!(get(&v, Op::Create, &ctx), Duration::from_secs(90));
        assert_eq!(get(&v, Op::Delete, &ctx), DEFAULT);
        assert_eq!(get(&Value::Null, Op::Update, &ctx), DEFAULT);
        let ctx = OpContext { timeout: Some(Duration::from_secs(5)), ..Default::default() };
        assert_eq!(get(&v, Op::Create, &ctx), Duration::from_secs(5));
        let bad = Value::map([("timeouts", Value::map([("update", Value::string("5 minutes"))]))]);
        assert_eq!(validate(&bad).len(), 1);
    }
}

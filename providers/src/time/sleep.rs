//! `time_sleep`: waits on create and/or destroy, e.g. to let a service settle before
//! something depends on it (hashicorp/time's attributes and behaviour).
//!
//! - `create_duration` / `destroy_duration` change **in place** without sleeping (as in
//!   hashicorp/time: the wait already happened); `triggers` is force-new, so changing a trigger
//!   re-creates the resource and waits again.
//! - Sleeps stop at once when the operation is cancelled, returning a `Cancelled` error.
//!
//! Import ID: `<create_duration>,<destroy_duration>`, either side may be empty (`30s,`).

use std::time::Duration;

use async_trait::async_trait;
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, OpContext, ProviderError, ResourceSchema, ResourceType, Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use crate::support::attrs::{path, val_opt_str, Attrs};
use crate::support::{diff, duration, timefmt};

pub fn schema() -> ResourceSchema {
    let dur = |when: &str| {
        AttributeSchema::optional(Type::String).describe(format!(
            "Time to wait {when}, e.g. \"30s\", \"100ms\", \"1m30s\" (units ns, us, ms, s, m, h). \
             Changing it updates in place without waiting."
        ))
    };
    let schema = Schema::new()
        .describe("Waits for a duration when created and/or destroyed.")
        .attr("create_duration", dur("when the resource is created"))
        .attr("destroy_duration", dur("when the resource is destroyed"))
        .attr(
            "triggers",
            AttributeSchema::optional(Type::Map(Box::new(Type::String)))
                .force_new()
                .describe("Arbitrary map of values that, when changed, re-create the resource (and wait again)."),
        )
        .attr("id", AttributeSchema::computed(Type::String).describe("RFC 3339 UTC timestamp of the creation."));
    ResourceSchema {
        schema,
        version: 0,
        import_id: "<create_duration>,<destroy_duration> (either may be empty)".into(),
    }
}

pub struct TimeSleep;

fn parse_attr(v: &Value, name: &str) -> Result<Option<Duration>, ProviderError> {
    match Attrs::new(v).opt_str(name)? {
        None => Ok(None),
        Some(s) => duration::parse(s).map(Some).map_err(|e| ProviderError::permanent(e).at(path(name))),
    }
}

/// Sleeps for `d` unless the operation is cancelled first.
pub async fn cancellable_sleep(d: Duration, ctx: &OpContext) -> Result<(), ProviderError> {
    tokio::select! {
        _ = tokio::time::sleep(d) => Ok(()),
        _ = ctx.cancel.cancelled() => Err(ProviderError::cancelled()
            .with_detail(format!("the wait of {d:?} was interrupted"))),
    }
}

#[async_trait]
impl ResourceType for TimeSleep {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        ["create_duration", "destroy_duration"]
            .into_iter()
            .filter_map(|name| {
                let s = config.get(name)?.as_str()?;
                duration::parse(s).err().map(|message| ConfigProblem { path: path(name), message })
            })
            .collect()
    }

    async fn create(&self, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        if let Some(d) = parse_attr(planned, "create_duration")? {
            cancellable_sleep(d, ctx).await?;
        }
        let mut out = planned.clone();
        diff::set(&mut out, "id", Value::string(timefmt::now_rfc3339()));
        Ok(out)
    }

    async fn read(&self, current: &Value, _ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        Ok(Some(current.clone()))
    }

    async fn update(&self, prior: &Value, planned: &Value, _ctx: &OpContext) -> Result<Value, ProviderError> {
        parse_attr(planned, "create_duration")?;
        parse_attr(planned, "destroy_duration")?;
        let mut out = planned.clone();
        diff::copy(prior, &mut out, &["id"]);
        Ok(out)
    }

    async fn delete(&self, current: &Value, ctx: &OpContext) -> Result<(), ProviderError> {
        if let Some(d) = parse_attr(current, "destroy_duration")? {
            cancellable_sleep(d, ctx).await?;
        }
        Ok(())
    }

    async fn import(&self, id: &str, _ctx: &OpContext) -> Result<Value, ProviderError> {
        let Some((create, destroy)) = id.split_once(',') else {
            return Err(ProviderError::permanent(format!("import ID {id:?} has no comma"))
                .with_help("write `<create_duration>,<destroy_duration>`, e.g. `30s,` or `,1m`"));
        };
        for d in [create, destroy].into_iter().filter(|d| !d.is_empty()) {
            duration::parse(d).map_err(ProviderError::permanent)?;
        }
        let opt = |s: &str| val_opt_str(Some(s).filter(|s| !s.is_empty()));
        Ok(Value::map([
            ("create_duration", opt(create)),
            ("destroy_duration", opt(destroy)),
            ("triggers", Value::Null),
            ("id", Value::string(timefmt::now_rfc3339())),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use tenantform_engine::provider::ErrorKind;

    use super::*;

    fn planned(create: &str, destroy: &str) -> Value {
        Value::map([
            ("create_duration", Value::string(create)),
            ("destroy_duration", Value::string(destroy)),
            ("triggers", Value::Null),
            ("id", Value::Unknown),
        ])
    }

    #[tokio::test]
    async fn create_and_delete_wait() {
        let ctx = OpContext::default();
        let t = Instant::now();
        let s = TimeSleep.create(&planned("150ms", "100ms"), &ctx).await.unwrap();
        assert!(t.elapsed() >= Duration::from_millis(150));
        assert!(s.get("id").and_then(Value::as_str).unwrap().ends_with('Z'));
        assert_eq!(TimeSleep.read(&s, &ctx).await.unwrap(), Some(s.clone()));

        let t = Instant::now();
        let u = TimeSleep.update(&s, &planned("1h", "100ms"), &ctx).await.unwrap();
        assert!(t.elapsed() < Duration::from_millis(100), "update must not wait");
        assert_eq!(u.get("id"), s.get("id"));
        assert_eq!(u.get("create_duration"), Some(&Value::string("1h")));

        let t = Instant::now();
        TimeSleep.delete(&u, &ctx).await.unwrap();
        assert!(t.elapsed() >= Duration::from_millis(100));
    }

    #[tokio::test]
    async fn cancellation_interrupts_the_sleep() {
        let ctx = OpContext::default();
        let cancel = ctx.cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            cancel.cancel();
        });
        let t = Instant::now();
        let e = TimeSleep.create(&planned("1h", "0"), &ctx).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Cancelled);
        assert!(t.elapsed() < Duration::from_secs(5));
        let e = TimeSleep.delete(&planned("0", "1h"), &ctx).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Cancelled, "an already-cancelled context stops at once");
    }

    #[tokio::test]
    async fn import_and_validation() {
        let ctx = OpContext::default();
        let s = TimeSleep.import("30s,", &ctx).await.unwrap();
        assert_eq!(s.get("create_duration"), Some(&Value::string("30s")));
        assert_eq!(s.get("destroy_duration"), Some(&Value::Null));
        let s = TimeSleep.import(",1m", &ctx).await.unwrap();
        assert_eq!(s.get("destroy_duration"), Some(&Value::string("1m")));
        assert!(TimeSleep.import("30s", &ctx).await.is_err());
        assert!(TimeSleep.import("30x,", &ctx).await.is_err());
        let problems = TimeSleep.validate(&planned("10", "1m"));
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("missing unit"));
    }
}

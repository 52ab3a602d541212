//! Non-authoritative IAM membership (`*_iam_member`): one member in one role of one
//! resource's policy, leaving every other binding alone.
//!
//! `setIamPolicy` replaces the whole policy, so every change is a read-modify-write:
//! `getIamPolicy` (requesting policy version 3), edit the binding, `setIamPolicy` with the etag
//! just read. A concurrent writer makes the API answer 409 `ABORTED`; then the cycle starts
//! again from a fresh read, with backoff, a bounded number of times. Within this process, one
//! lock per resource serialises our own members of the same policy.

use std::time::Duration;

use rand::Rng;
use serde_json::{json, Value as Json};
use tenantform_engine::provider::{OpContext, ProviderError};

use super::{found, Google};
use crate::http::{ApiClient, ApiRequest};

/// How many read-modify-write cycles to try before giving up on concurrent changes.
const MAX_CYCLES: u32 = 12;

/// A resource whose policy is edited: the client of its API and its path
/// (`/projects/p/secrets/s`).
pub struct PolicyTarget<'a> {
    pub client: &'a ApiClient,
    pub resource: String,
}

/// The policy, or `None` when the resource does not exist.
pub async fn get_policy(ctx: &OpContext, t: &PolicyTarget<'_>) -> Result<Option<Json>, ProviderError> {
    found(
        t.client
            .json::<Json>(
                ctx,
                ApiRequest::get(format!("{}:getIamPolicy", t.resource)).query("options.requestedPolicyVersion", "3"),
            )
            .await,
    )
}

/// True when the (unconditional) binding for `role` holds `member`.
pub fn has_member(policy: &Json, role: &str, member: &str) -> bool {
    policy.get("bindings").and_then(Json::as_array).into_iter().flatten().any(|b| {
        b.get("role").and_then(Json::as_str) == Some(role)
            && b.get("condition").is_none()
            && b.get("members").and_then(Json::as_array).is_some_and(|m| m.iter().any(|x| x.as_str() == Some(member)))
    })
}

/// The policy with `member` added to (or removed from) `role`'s unconditional binding.
pub fn edited(policy: &Json, role: &str, member: &str, add: bool) -> Json {
    let mut p = policy.clone();
    let mut bindings: Vec<Json> = p.get("bindings").and_then(Json::as_array).cloned().unwrap_or_default();
    let idx = bindings
        .iter()
        .position(|b| b.get("role").and_then(Json::as_str) == Some(role) && b.get("condition").is_none());
    match (idx, add) {
        (Some(i), true) => {
            let members = bindings[i]["members"].as_array_mut();
            match members {
                Some(m) if !m.iter().any(|x| x.as_str() == Some(member)) => m.push(json!(member)),
                Some(_) => {}
                None => bindings[i]["members"] = json!([member]),
            }
        }
        (None, true) => bindings.push(json!({"role": role, "members": [member]})),
        (Some(i), false) => {
            if let Some(m) = bindings[i]["members"].as_array_mut() {
                m.retain(|x| x.as_str() != Some(member));
            }
            if bindings[i]["members"].as_array().is_none_or(Vec::is_empty) {
                bindings.remove(i);
            }
        }
        (None, false) => {}
    }
    p["bindings"] = Json::Array(bindings);
    if p.get("version").and_then(Json::as_i64).unwrap_or(0) == 0 {
        p["version"] = json!(1);
    }
    p
}

/// Adds or removes a member; returns the resulting policy's etag (`None` when removing from a
/// resource that no longer exists). `what` names the resource for messages.
pub async fn set_member(
    g: &Google,
    ctx: &OpContext,
    t: &PolicyTarget<'_>,
    role: &str,
    member: &str,
    add: bool,
    what: &str,
) -> Result<Option<String>, ProviderError> {
    let lock = g.iam_lock(&format!("{}{}", t.client.base_url(), t.resource));
    let _held = lock.lock().await;
    for cycle in 1..=MAX_CYCLES {
        let Some(policy) = get_policy(ctx, t).await? else {
            if add {
                return Err(ProviderError::not_found(format!(
                    "{what} does not exist, so its IAM policy cannot be edited"
                )));
            }
            return Ok(None);
        };
        if has_member(&policy, role, member) == add {
            return Ok(policy.get("etag").and_then(Json::as_str).map(str::to_string));
        }
        let next = edited(&policy, role, member, add);
        let req = ApiRequest::post(format!("{}:setIamPolicy", t.resource))
            .json(json!({"policy": next}))
            // Replaying is safe: the etag makes a duplicate attempt fail with ABORTED.
            .idempotent(true);
        match t.client.json::<Json>(ctx, req).await {
            Ok(p) => return Ok(p.get("etag").and_then(Json::as_str).map(str::to_string)),
            Err(e) if e.is_status(409) => {
                let wait = Duration::from_millis(rand::thread_rng().gen_range(50..=200) * u64::from(cycle));
                tracing::debug!(resource = %t.resource, cycle, "IAM policy changed concurrently; re-reading");
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = ctx.cancel.cancelled() => return Err(ProviderError::cancelled()),
                }
            }
            Err(e) if e.is_status(404) && !add => return Ok(None),
            Err(e) => return Err(e.error),
        }
    }
    Err(ProviderError::transient(format!(
        "the IAM policy of {what} kept changing concurrently; gave up after {MAX_CYCLES} read-modify-write cycles"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_only_the_unconditional_binding_of_the_role() {
        let p = json!({"version": 3, "etag": "x", "bindings": [
            {"role": "roles/run.invoker", "members": ["user:a@x"], "condition": {"expression": "true"}},
            {"role": "roles/viewer", "members": ["user:b@x"]},
        ]});
        let added = edited(&p, "roles/run.invoker", "allUsers", true);
        assert!(has_member(&added, "roles/run.invoker", "allUsers"));
        assert_eq!(added["bindings"].as_array().unwrap().len(), 3);
        assert_eq!(edited(&added, "roles/run.invoker", "allUsers", true), added);
        let removed = edited(&added, "roles/run.invoker", "allUsers", false);
        assert_eq!(removed["bindings"], p["bindings"]);
        let removed = edited(&p, "roles/viewer", "user:b@x", false);
        assert_eq!(removed["bindings"].as_array().unwrap().len(), 1);
        assert_eq!(removed["etag"], "x");
    }
}

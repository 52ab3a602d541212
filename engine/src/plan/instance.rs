//! Planning one resource instance: refresh (or recover an interrupted create, or import),
//! then diff the configuration against what exists and let the provider refine the result.
//! Orphans (stored, no longer configured) are refreshed and planned for deletion here too.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::diff::{changed_paths, copy_config_marks, proposed, replace_paths};
use super::imports::adopt_unreadable;
use super::planner::{prevent_destroy_diag, provider_diag};
use super::{Action, DeferReason, Drift, PlanMode, ResourceChange};
use crate::address::{InstanceAddr, Mode};
use crate::diagnostics::{Diagnostic, Diagnostics, Span};
use crate::provider::{
    DataSourceType, ErrorKind, OpContext, PlanRequest, ProviderError, Recovery, ResourceType, Schema,
};
use crate::runtime::{with_retries, RetryPolicy};
use crate::state::{InstanceState, InstanceStatus};
use crate::value::Value;
use crate::walk::{mark_schema_sensitive, with_unknown_computed};

/// What planning one instance came to.
pub(super) struct Planned {
    pub change: Option<ResourceChange>,
    /// The value references to this instance see during the rest of the plan.
    pub value: Value,
    pub drift: Option<Drift>,
    /// It cannot be planned now.
    pub deferred: Option<DeferReason>,
}

/// Static facts about one instance that the async planning task needs.
pub(super) struct InstanceJob {
    pub(super) addr: InstanceAddr,
    pub(super) provider: String,
    pub(super) mode: Mode,
    pub(super) schema: Arc<Schema>,
    pub(super) schema_version: u32,
    pub(super) config: Option<Value>,
    pub(super) prior: Option<InstanceState>,
    pub(super) refresh: bool,
    pub(super) plan_mode: PlanMode,
    pub(super) force_replace: Option<String>,
    pub(super) ignore: Vec<String>,
    pub(super) ignore_all: bool,
    pub(super) cbd: bool,
    pub(super) prevent_destroy: bool,
    pub(super) lifecycle_span: Option<Span>,
    pub(super) span: Span,
    pub(super) dependencies: Vec<InstanceAddr>,
    pub(super) resource: Option<Arc<dyn ResourceType>>,
    pub(super) data_source: Option<Arc<dyn DataSourceType>>,
    pub(super) retry: RetryPolicy,
    pub(super) cancel: CancellationToken,
    /// Adopt the object with this import ID (there is no prior state).
    pub(super) import_id: Option<String>,
    /// The provider's documented import ID format, for the error when the ID matches nothing.
    pub(super) import_format: String,
    pub(super) moved_from: Option<InstanceAddr>,
}

/// What refreshing a stored record found.
pub(super) enum Refreshed {
    /// The object as it is now (or as stored, without refresh).
    Current(Value),
    /// The object is gone.
    Gone,
    /// An interrupted create had made this object: adopt it.
    Adopted(Value),
    /// An interrupted create had made nothing.
    NotMade,
    /// An interrupted create may have made something nobody can find.
    Unresolved(String),
}

/// Refreshes a stored record: reads it back, or, for an interrupted create (an intent), asks
/// the provider to find what that create may have made. A recovery that keeps failing does not
/// fail the plan: the instance is unresolved and the next plan tries again.
pub(super) async fn refresh_prior(
    rt: &dyn ResourceType,
    prior: &InstanceState,
    refresh: bool,
    retry: RetryPolicy,
    ctx: &OpContext,
) -> Result<Refreshed, ProviderError> {
    let plain = || prior.value.clone().unmark_deep().unknown_to_null();
    if prior.status == InstanceStatus::Creating {
        let ctx = OpContext { create_token: prior.detail.as_ref().and_then(|d| d.create_token.clone()), ..ctx.clone() };
        let planned = plain();
        return Ok(match with_retries(retry, || rt.recover(&planned, &ctx)).await {
            Ok(Recovery::Found(v)) => Refreshed::Adopted(v),
            Ok(Recovery::NotMade) => Refreshed::NotMade,
            Ok(Recovery::Unknown { reason }) => Refreshed::Unresolved(reason),
            Err(e) if e.kind == ErrorKind::Cancelled => return Err(e),
            Err(e) => Refreshed::Unresolved(format!("looking for it failed: {e}")),
        });
    }
    if !refresh {
        return Ok(Refreshed::Current(prior.value.clone()));
    }
    let plain = plain();
    Ok(match with_retries(retry, || rt.read(&plain, ctx)).await? {
        Some(v) => Refreshed::Current(v),
        None => Refreshed::Gone,
    })
}

/// Help for an instance whose interrupted create cannot be resolved.
pub(super) fn unresolved_diag(addr: &InstanceAddr, detail: &str, import_format: &str) -> Diagnostic {
    let id = if import_format.is_empty() { "ID".to_string() } else { import_format.to_string() };
    Diagnostic::warning(
        "unresolved-create",
        format!("{addr}: cannot tell whether an interrupted create made an object"),
    )
    .with_detail(format!(
        "{detail}. It and everything that depends on it are left out of this plan; the rest of the stack is planned as usual"
    ))
    .with_help(format!(
        "look for the object on the platform: adopt it with `tenantform import {addr} {id}`, or, if nothing was made, forget the interrupted create with `tenantform state rm {addr}`"
    ))
}

/// Plans the deletion of an orphan (stored, not configured, or everything when destroying).
pub(super) async fn plan_orphan(
    rt: Arc<dyn ResourceType>,
    s: InstanceState,
    schema: Arc<Schema>,
    mode: PlanMode,
    refresh: bool,
    retry: RetryPolicy,
    cancel: CancellationToken,
) -> Result<Planned, Diagnostic> {
    let ctx = OpContext { cancel, address: s.addr.to_string(), ..OpContext::default() };
    let none = |drift, deferred| Planned { change: None, value: Value::Unknown, drift, deferred };
    let current = match refresh_prior(rt.as_ref(), &s, refresh, retry, &ctx).await {
        Err(e) => return Err(provider_diag(&s.addr, "refresh", &e, None)),
        Ok(Refreshed::Unresolved(detail)) => return Ok(none(None, Some(DeferReason::Unresolved { detail }))),
        Ok(Refreshed::NotMade) if mode == PlanMode::RefreshOnly => return Ok(none(None, None)),
        Ok(Refreshed::NotMade) => {
            // Nothing to destroy: only the record of the interrupted create goes.
            let change = ResourceChange {
                reason: Some("an interrupted create made nothing; only its record is removed".into()),
                record_only: true,
                ..orphan_delete(&s, s.value.clone(), None)
            };
            return Ok(Planned { change: Some(change), value: Value::Unknown, drift: None, deferred: None });
        }
        Ok(Refreshed::Gone) => return Ok(none(Some(Drift::deleted(s.addr.clone(), s.value.clone())), None)),
        Ok(Refreshed::Current(v)) | Ok(Refreshed::Adopted(v)) => v,
    };
    let current = mark_schema_sensitive(copy_config_marks(&s.value, current), &schema);
    let drift = if s.status == InstanceStatus::Creating { None } else { drift_of(&schema, &s, &current) };
    if mode == PlanMode::RefreshOnly {
        return Ok(none(drift, None));
    }
    let reason = match (mode, s.status) {
        (_, InstanceStatus::Creating) => {
            Some("an interrupted create made it, and the configuration no longer has it".to_string())
        }
        (PlanMode::Destroy, _) => None,
        _ => Some("no longer in the configuration".to_string()),
    };
    let change = orphan_delete(&s, current, reason);
    Ok(Planned { change: Some(change), value: Value::Unknown, drift, deferred: None })
}

fn orphan_delete(s: &InstanceState, before: Value, reason: Option<String>) -> ResourceChange {
    ResourceChange {
        addr: s.addr.clone(),
        provider: s.provider.clone(),
        action: Action::Delete,
        before: Some(before),
        after: None,
        replace_paths: Vec::new(),
        reason,
        dependencies: s.dependencies.clone(),
        create_before_destroy: s.create_before_destroy,
        import_id: None,
        moved_from: None,
        schema_version: s.schema_version,
        record_only: false,
    }
}

fn drift_of(schema: &Schema, prior: &InstanceState, current: &Value) -> Option<Drift> {
    Drift::changed(schema, prior.addr.clone(), prior.value.clone(), current.clone())
}

pub(super) async fn plan_instance(job: InstanceJob) -> Result<Planned, Diagnostics> {
    let r = plan_instance_inner(&job).await;
    match &r {
        Ok(p) => tracing::debug!(
            address = %job.addr,
            action = ?p.change.as_ref().map(|c| c.action),
            drift = p.drift.is_some(),
            "planned"
        ),
        Err(_) => tracing::debug!(address = %job.addr, "planning failed"),
    }
    r
}

async fn plan_instance_inner(job: &InstanceJob) -> Result<Planned, Diagnostics> {
    let ctx = OpContext { cancel: job.cancel.clone(), address: job.addr.to_string(), ..OpContext::default() };
    let fail = |op: &str, e: ProviderError| -> Diagnostics { provider_diag(&job.addr, op, &e, Some(job.span)).into() };
    let schema = &job.schema;

    if job.mode == Mode::Data {
        let config = job.config.clone().unwrap_or(Value::Null);
        let Some(ds) = &job.data_source else { return Err(fail("read", ProviderError::permanent("no data source"))) };
        if job.plan_mode == PlanMode::RefreshOnly {
            // Nothing is planned; a data source that cannot be read (an input object deleted
            // outside tenantform) must not hide the drift this plan is for.
            if !config.is_wholly_known() {
                return Ok(Planned { change: None, value: Value::Unknown, drift: None, deferred: None });
            }
            let plain = config.clone().unmark_deep();
            return match with_retries(job.retry, || ds.read(&plain, &ctx)).await {
                Ok(v) => Ok(Planned {
                    change: None,
                    value: mark_schema_sensitive(copy_config_marks(&config, v), schema),
                    drift: None,
                    deferred: None,
                }),
                Err(e) => {
                    tracing::warn!(address = %job.addr, error = %e.summary, "data source not read in a refresh-only plan");
                    Ok(Planned { change: None, value: Value::Unknown, drift: None, deferred: None })
                }
            };
        }
        if !config.is_wholly_known() {
            // Read during apply, once the inputs are known.
            let after = mark_schema_sensitive(with_unknown_computed(&config, schema), schema);
            let change = ResourceChange {
                addr: job.addr.clone(),
                provider: job.provider.clone(),
                action: Action::Read,
                before: None,
                after: Some(after.clone()),
                replace_paths: Vec::new(),
                reason: Some("its configuration depends on values known only after apply".into()),
                dependencies: job.dependencies.clone(),
                create_before_destroy: false,
                import_id: None,
                moved_from: None,
                schema_version: job.schema_version,
                record_only: false,
            };
            return Ok(Planned { change: Some(change), value: after, drift: None, deferred: None });
        }
        let plain = config.clone().unmark_deep();
        let v = with_retries(job.retry, || ds.read(&plain, &ctx)).await.map_err(|e| fail("read", e))?;
        let v = mark_schema_sensitive(copy_config_marks(&config, v), schema);
        return Ok(Planned { change: None, value: v, drift: None, deferred: None });
    }

    let Some(rt) = &job.resource else { return Err(fail("plan", ProviderError::permanent("no resource type"))) };
    // Refresh.
    let mut reason: Option<String> = None;
    let mut drift = None;
    let mut record_only = false;
    let current: Option<Value> = match &job.prior {
        None if job.import_id.is_some() => {
            let id = job.import_id.clone().unwrap_or_default();
            match with_retries(job.retry, || rt.import(&id, &ctx)).await {
                Ok(v) => {
                    let v = adopt_unreadable(v, job.config.as_ref().unwrap_or(&Value::Null), schema);
                    Some(mark_schema_sensitive(
                        copy_config_marks(job.config.as_ref().unwrap_or(&Value::Null), v),
                        schema,
                    ))
                }
                Err(e) if e.kind == crate::provider::ErrorKind::NotFound => {
                    let mut d = Diagnostic::error(
                        "import-not-found",
                        format!("Cannot import non-existent remote object: {} (ID \"{id}\")", job.addr),
                    )
                    .with_span(Some(job.span))
                    .with_detail(e.summary.clone());
                    d = d.with_help(if job.import_format.is_empty() {
                        "check the ID; nothing with this ID exists".to_string()
                    } else {
                        format!("check the ID; this resource type is imported by {}", job.import_format)
                    });
                    return Err(d.into());
                }
                Err(e) => return Err(fail("import", e)),
            }
        }
        None => None,
        Some(prior) => match refresh_prior(rt.as_ref(), prior, job.refresh, job.retry, &ctx).await {
            Err(e) => return Err(fail("refresh", e)),
            Ok(Refreshed::Unresolved(detail)) => {
                return Ok(Planned {
                    change: None,
                    value: Value::Unknown,
                    drift: None,
                    deferred: Some(DeferReason::Unresolved { detail }),
                })
            }
            Ok(Refreshed::Adopted(v)) => {
                record_only = true;
                reason = Some("adopted: a previous create was interrupted after the object was made".into());
                Some(mark_schema_sensitive(copy_config_marks(&prior.value, v), schema))
            }
            Ok(Refreshed::Current(v)) => {
                let v = mark_schema_sensitive(copy_config_marks(&prior.value, v), schema);
                drift = drift_of(schema, prior, &v);
                Some(v)
            }
            Ok(Refreshed::NotMade) => {
                reason = Some("a previous create was interrupted before the object was made".into());
                None
            }
            Ok(Refreshed::Gone) => {
                reason = Some("it was deleted outside tenantform".into());
                drift = Some(Drift::deleted(job.addr.clone(), prior.value.clone()));
                None
            }
        },
    };
    if job.plan_mode == PlanMode::RefreshOnly {
        // An object that does not exist (a tenant never applied, or deleted outside
        // tenantform) has no attributes to show: references to it are unknown, not errors.
        let value = current.clone().unwrap_or(Value::Unknown);
        return Ok(Planned { change: None, value, drift, deferred: None });
    }
    let config = job.config.clone().unwrap_or(Value::Null);
    let import_id = job.import_id.as_ref().filter(|_| job.prior.is_none()).map(|id| {
        if current.as_ref().is_some_and(|c| c.reveals(id)) {
            "(sensitive value)".to_string()
        } else {
            id.clone()
        }
    });
    let base = |action: Action, before: Option<Value>, after: Value, replace_paths, reason| ResourceChange {
        addr: job.addr.clone(),
        provider: job.provider.clone(),
        action,
        before,
        after: Some(after),
        replace_paths,
        reason,
        dependencies: job.dependencies.clone(),
        create_before_destroy: job.cbd,
        import_id: import_id.clone(),
        moved_from: job.moved_from.clone(),
        schema_version: job.schema_version,
        record_only: false,
    };
    let plan_new = |config: &Value| {
        let proposed = with_unknown_computed(config, schema);
        let req = PlanRequest { prior: None, config: config.clone().unmark_deep(), proposed: proposed.unmark_deep() };
        async move {
            let resp = rt.plan(req).await?;
            Ok::<Value, ProviderError>(resp.planned)
        }
    };
    let Some(current) = current else {
        let planned = plan_new(&config).await.map_err(|e| fail("plan", e))?;
        let after = mark_schema_sensitive(copy_config_marks(&config, planned), schema);
        let change = base(Action::Create, None, after.clone(), Vec::new(), reason);
        return Ok(Planned { change: Some(change), value: after, drift, deferred: None });
    };
    let prop = proposed(schema, &config, &current, &job.ignore, job.ignore_all);
    let req = PlanRequest {
        prior: Some(current.clone().unmark_deep()),
        config: config.clone().unmark_deep(),
        proposed: prop.clone().unmark_deep(),
    };
    let resp = rt.plan(req).await.map_err(|e| fail("plan", e))?;
    let planned = mark_schema_sensitive(copy_config_marks(&prop, resp.planned), schema);
    let changed = changed_paths(schema, &current, &planned);
    let mut rpaths = replace_paths(schema, &changed, &resp.requires_replace);
    if let Some(r) = &job.force_replace {
        reason = Some(r.clone());
    }
    if !rpaths.is_empty() || job.force_replace.is_some() {
        if job.prevent_destroy {
            return Err(prevent_destroy_diag(&job.addr, job.lifecycle_span.or(Some(job.span))).into());
        }
        let planned_new = plan_new(&config).await.map_err(|e| fail("plan", e))?;
        let after = mark_schema_sensitive(copy_config_marks(&config, planned_new), schema);
        let action = if job.cbd { Action::CreateThenDelete } else { Action::Replace };
        rpaths.sort();
        let change = base(action, Some(current), after.clone(), rpaths, reason);
        return Ok(Planned { change: Some(change), value: after, drift, deferred: None });
    }
    let action = if changed.is_empty() { Action::NoOp } else { Action::Update };
    let mut change = base(action, Some(current), planned.clone(), Vec::new(), reason);
    change.record_only = record_only;
    if action == Action::NoOp && change.import_id.is_none() && change.moved_from.is_none() && !record_only {
        // Nothing to show or apply: the planned object is the current one (saves memory on
        // large no-change plans).
        change.after = None;
    }
    Ok(Planned { change: Some(change), value: planned, drift, deferred: None })
}

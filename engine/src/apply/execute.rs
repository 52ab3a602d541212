//! Applying one planned change of a resource instance: the provider calls and the state
//! records around them.
//!
//! A create first records an *intent* (status `creating`, with the create's token), so a crash
//! during the call leaves a record the next plan resolves through the provider's `recover`. A
//! create that fails after the object exists (the provider returns the object with its error)
//! leaves a *tainted* record: the next plan replaces it, destroy and rollback remove it. While
//! a replacement does not exist, the object it replaces stays current: a create that fails
//! puts the old object back (see [`Job::fallback`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::committer::CommitHandle;
use super::events::{ApplyEvent, ApplyObserver};
use crate::address::InstanceAddr;
use crate::diagnostics::{Diagnostic, Span};
use crate::plan::diff::{copy_config_marks, proposed};
use crate::plan::planner::provider_diag;
use crate::plan::{Action, ResourceChange};
use crate::provider::{
    DataSourceType, ErrorKind, OpContext, PlanRequest, ProviderError, Recovery, ResourceType, Schema,
};
use crate::runtime::{backoff, gave_up, with_retries_notify, RetryPolicy};
use crate::state::{Change, InstanceState, InstanceStatus, StatusDetail};
use crate::value::Value;
use crate::walk::{mark_schema_sensitive, with_unknown_computed};

/// Everything one change's provider calls need.
pub(super) struct Job {
    pub addr: InstanceAddr,
    pub change: ResourceChange,
    pub config: Value,
    pub schema: Arc<Schema>,
    pub prior: Option<InstanceState>,
    pub resource: Option<Arc<dyn ResourceType>>,
    pub data_source: Option<Arc<dyn DataSourceType>>,
    pub span: Span,
    pub retry: RetryPolicy,
    pub commits: CommitHandle,
    pub observer: Arc<dyn ApplyObserver>,
    pub kill: CancellationToken,
    pub progress: Duration,
    /// The object this create replaces and that must become current again if the create makes
    /// no replacement: for `create_before_destroy`, the old object (moved to `deposed` first);
    /// for a create whose earlier replacement attempt left a deposed object, that object.
    pub fallback: Option<(InstanceAddr, InstanceState)>,
    /// For `create_before_destroy`: the address the old object waits at for its deletion.
    pub deposed: Option<InstanceAddr>,
}

/// A change that worked.
pub(super) struct JobResult {
    pub value: Value,
    /// The result's commit, when it was queued without waiting (see [`execute`]).
    pub pending: Option<tokio::sync::oneshot::Receiver<Result<u64, String>>>,
}

/// What a failed change left in state.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Left {
    /// Nothing changed (an update or read that failed, a refused create whose fallback was
    /// restored).
    Unchanged,
    /// The intent stays: the object may exist; the next plan resolves it.
    Intent,
    /// The object exists but is incomplete: recorded as tainted (at the instance's address, or
    /// at a deposed one when an older object stayed current).
    Tainted(InstanceAddr, Value),
}

pub(super) struct JobError {
    pub diag: Diagnostic,
    pub left: Left,
}

impl From<Diagnostic> for JobError {
    fn from(diag: Diagnostic) -> Self {
        JobError { diag, left: Left::Unchanged }
    }
}

pub(super) fn commit_failed(addr: &InstanceAddr, e: &str) -> Diagnostic {
    Diagnostic::error("state", format!("{addr}: the change was made but recording it in state failed: {e}")).with_help(format!(
        "the object exists but state does not know it; once the state backend works again, adopt it with `tenantform import {addr} <id>`"
    ))
}

/// A state record for an instance of a change.
pub(super) fn record(c: &ResourceChange, value: Value, status: InstanceStatus) -> InstanceState {
    InstanceState {
        addr: c.addr.clone(),
        provider: c.provider.clone(),
        schema_version: c.schema_version,
        status,
        value,
        dependencies: c.dependencies.clone(),
        create_before_destroy: c.create_before_destroy,
        detail: None,
    }
}

/// The `id` attribute for progress lines, unless sensitive.
pub(super) fn display_id(v: &Value) -> Option<String> {
    match v.get("id") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(crate::value::format_number(*n)),
        _ => None,
    }
}

/// Checks that the final plan (with every value now known) agrees with the saved plan: a
/// value the plan showed as known must not have changed.
fn check_consistent(saved: &Value, final_: &Value, path: &mut Vec<String>) -> Result<(), String> {
    match (saved.unmarked().0, final_.unmarked().0) {
        (Value::Unknown, _) => Ok(()),
        (Value::Map(a), Value::Map(b)) => {
            for (k, av) in a {
                path.push(k.clone());
                let bv = b.get(k).unwrap_or(&Value::Null);
                check_consistent(av, bv, path)?;
                path.pop();
            }
            Ok(())
        }
        // A set with elements known only after apply: its known elements must all be there,
        // and the unknown ones may turn out equal to each other or to known ones (so the set
        // may shrink, never grow).
        (Value::Set(a), Value::Set(b)) if a.iter().any(|v| !v.is_wholly_known()) => {
            let known: Vec<&Value> = a.iter().filter(|v| v.is_wholly_known()).collect();
            let all_there = known.iter().all(|k| b.iter().any(|v| crate::eval::values_equal(k, v)));
            if all_there && b.len() <= a.len() && !b.is_empty() {
                Ok(())
            } else {
                Err(path.join("."))
            }
        }
        (Value::List(a), Value::List(b)) if a.len() == b.len() => {
            for (i, (av, bv)) in a.iter().zip(b).enumerate() {
                path.push(i.to_string());
                check_consistent(av, bv, path)?;
                path.pop();
            }
            Ok(())
        }
        (a, b) => {
            if crate::eval::values_equal(a, b) {
                Ok(())
            } else {
                Err(path.join("."))
            }
        }
    }
}

/// Runs a job with progress events around it.
pub(super) async fn run_job(job: Job) -> Result<JobResult, JobError> {
    let action = job.change.action;
    tracing::debug!(address = %job.addr, ?action, "applying");
    let started = Instant::now();
    let observer = job.observer.clone();
    let addr = job.addr.clone();
    observer.event(ApplyEvent::Start { address: addr.clone(), action });
    let ticker = progress_ticker(observer.clone(), addr.clone(), action, job.progress, started);
    let r = execute(&job).await;
    ticker.abort();
    match &r {
        Ok(res) => {
            tracing::info!(address = %job.addr, ?action, elapsed_ms = started.elapsed().as_millis() as u64, "applied");
            observer.event(ApplyEvent::Complete {
                address: addr,
                action,
                elapsed: started.elapsed(),
                id: display_id(&res.value),
            })
        }
        Err(e) => {
            tracing::warn!(address = %job.addr, ?action, error = %e.diag.summary, "apply failed");
            observer.event(ApplyEvent::Errored { address: addr, action, message: e.diag.summary.clone() })
        }
    }
    r
}

/// Emits a "still running" event every `every` until aborted.
pub(super) fn progress_ticker(
    observer: Arc<dyn ApplyObserver>,
    addr: InstanceAddr,
    action: Action,
    every: Duration,
    started: Instant,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut t = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            t.tick().await;
            observer.event(ApplyEvent::Progress { address: addr.clone(), action, elapsed: started.elapsed() });
        }
    })
}

/// A fresh create token (see [`crate::provider::OpContext::create_token`]).
pub(super) fn new_create_token() -> String {
    format!("tf{}", uuid::Uuid::new_v4().simple())
}

async fn execute(job: &Job) -> Result<JobResult, JobError> {
    let ctx = OpContext { cancel: job.kill.clone(), address: job.addr.to_string(), ..OpContext::default() };
    let notify = |attempt: u32, e: &ProviderError| {
        job.observer.event(ApplyEvent::Retrying {
            address: job.addr.clone(),
            action: job.change.action,
            attempt,
            message: e.summary.clone(),
        })
    };
    let notify: &(dyn Fn(u32, &ProviderError) + Send + Sync) = &notify;
    let fail = |op: &str, e: ProviderError| provider_diag(&job.addr, op, &e, Some(job.span));
    let schema = &job.schema;
    let config = &job.config;
    if job.change.action == Action::Read {
        let ds = job
            .data_source
            .as_ref()
            .ok_or_else(|| fail("read", ProviderError::permanent("provider not configured")))?;
        let plain = config.clone().unmark_deep();
        let v = with_retries_notify(job.retry, notify, || ds.read(&plain, &ctx)).await.map_err(|e| fail("read", e))?;
        return Ok(JobResult { value: mark_schema_sensitive(copy_config_marks(config, v), schema), pending: None });
    }
    let rt = job.resource.as_ref().ok_or_else(|| fail("apply", ProviderError::permanent("provider not configured")))?;
    let saved_after = job.change.after.clone().unwrap_or(Value::Null);
    let plan_new = || async {
        let proposed = with_unknown_computed(config, schema);
        let req = PlanRequest { prior: None, config: config.clone().unmark_deep(), proposed: proposed.unmark_deep() };
        rt.plan(req).await.map(|r| r.planned)
    };
    let consistent = |final_: &Value| -> Result<(), Diagnostic> {
        check_consistent(&saved_after, final_, &mut Vec::new()).map_err(|path| {
            Diagnostic::error(
                "inconsistent-plan",
                format!("{}: the final plan differs from the saved plan at \"{path}\"", job.addr),
            )
            .with_help("the configuration or the objects it depends on changed after planning; run plan again")
        })
    };
    let commit = |changes: Vec<Change>| async move {
        job.commits.commit(changes).await.map_err(|e| commit_failed(&job.addr, &e))
    };
    match job.change.action {
        Action::Create | Action::Replace | Action::CreateThenDelete => {
            // A `-/+` replacement's old object was destroyed by its own task before this one.
            let planned = plan_new().await.map_err(|e| fail("plan", e))?;
            if job.change.action != Action::Replace {
                consistent(&planned)?;
            }
            // The old object of a `+/-` moves to its deposed address in the same transaction
            // that records the intent, so the intent never hides it.
            let mut first = Vec::new();
            if let (Some(deposed), Some(old)) = (&job.deposed, &job.prior) {
                let mut old = old.clone();
                old.addr = deposed.clone();
                old.status = InstanceStatus::Ready;
                first.push(Change::Put(old));
            }
            let v = create(job, rt.as_ref(), planned, first, &ctx, notify).await?;
            // Dependents need not wait for this record to be durable: each of them records its
            // own intent before it creates anything, and until this record lands the intent
            // says the object may exist, which the next plan resolves. So the result is
            // queued, and a level of the graph costs one commit. A fallback's deposed record,
            // though, goes with it: the old object is now the deposed one's to destroy.
            let wait = job.commits.submit(vec![Change::Put(record(&job.change, v.clone(), InstanceStatus::Ready))]);
            Ok(JobResult { value: v, pending: Some(wait) })
        }
        Action::Update => {
            let prior = job
                .prior
                .as_ref()
                .map(|p| p.value.clone())
                .or_else(|| job.change.before.clone())
                .unwrap_or(Value::Null);
            let before = job.change.before.clone().unwrap_or_else(|| prior.clone());
            let prop = proposed(schema, config, &before, &[], false);
            let req = PlanRequest {
                prior: Some(before.clone().unmark_deep()),
                config: config.clone().unmark_deep(),
                proposed: prop.clone().unmark_deep(),
            };
            let planned = rt.plan(req).await.map_err(|e| fail("plan", e))?.planned;
            consistent(&planned)?;
            let plain_before = before.unmark_deep();
            let v = with_retries_notify(job.retry, notify, || rt.update(&plain_before, &planned, &ctx))
                .await
                .map_err(|e| fail("update", e))?;
            let v = mark_schema_sensitive(copy_config_marks(config, v), schema);
            commit(vec![Change::Put(record(&job.change, v.clone(), InstanceStatus::Ready))]).await?;
            Ok(JobResult { value: v, pending: None })
        }
        Action::NoOp | Action::Delete | Action::Read => {
            Ok(JobResult { value: job.change.before.clone().unwrap_or(Value::Null), pending: None })
        }
    }
}

/// Creates, retrying transient failures. A transient failure may have made the object (the
/// answer was lost), so before each retry the provider is asked to find what the failed
/// attempt made ([`ResourceType::recover`]): a retry never makes a second object. When the
/// provider cannot tell, there is no retry; the intent stays for the next plan to resolve.
async fn create_retrying(
    policy: RetryPolicy,
    notify: &(dyn Fn(u32, &ProviderError) + Send + Sync),
    rt: &dyn ResourceType,
    planned: &Value,
    ctx: &OpContext,
) -> Result<Value, ProviderError> {
    let lookup = planned.clone().unmark_deep().unknown_to_null();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let e = match rt.create(planned, ctx).await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        if e.kind != ErrorKind::Transient || e.partial.is_some() {
            return Err(e);
        }
        // The provider's own client may have retried already (`retried`): then the engine
        // does not retry on top, but still looks for what the lost answer made.
        let last = e.retried || attempt >= policy.attempts;
        if !last {
            notify(attempt + 1, &e);
            tokio::select! {
                _ = tokio::time::sleep(backoff(policy, attempt)) => {}
                _ = ctx.cancel.cancelled() => return Err(e),
            }
        }
        match rt.recover(&lookup, ctx).await {
            Ok(Recovery::Found(v)) => {
                tracing::info!(address = %ctx.address, "the failed create had made the object; adopted it");
                return Ok(v);
            }
            Ok(Recovery::NotMade) if !last => {}
            Ok(Recovery::NotMade) if e.retried => return Err(e),
            Ok(Recovery::NotMade) => return Err(gave_up(e, attempt)),
            Ok(Recovery::Unknown { .. }) | Err(_) => return Err(e),
        }
    }
}

/// Records the intent (with `first`), creates, and on failure leaves state matching reality.
async fn create(
    job: &Job,
    rt: &dyn ResourceType,
    planned: Value,
    first: Vec<Change>,
    ctx: &OpContext,
    notify: &(dyn Fn(u32, &ProviderError) + Send + Sync),
) -> Result<Value, JobError> {
    let schema = &job.schema;
    let config = &job.config;
    let token = new_create_token();
    let marked = mark_schema_sensitive(copy_config_marks(config, planned.clone()), schema);
    let mut intent = record(&job.change, marked, InstanceStatus::Creating);
    intent.detail = Some(StatusDetail {
        create_token: Some(token.clone()),
        since: Some(crate::state::now_rfc3339()),
        ..StatusDetail::default()
    });
    let mut changes = first;
    changes.push(Change::Put(intent));
    job.commits.commit(changes).await.map_err(|e| commit_failed(&job.addr, &e))?;
    let ctx = OpContext { create_token: Some(token), ..ctx.clone() };
    let e = match create_retrying(job.retry, notify, rt, &planned, &ctx).await {
        Ok(v) => return Ok(mark_schema_sensitive(copy_config_marks(config, v), schema)),
        Err(e) => e,
    };
    let diag = provider_diag(&job.addr, "create", &e, Some(job.span));
    // The old object this create was to replace, back at the instance's address.
    let restore = |changes: &mut Vec<Change>| {
        if let Some((at, old)) = &job.fallback {
            let mut old = old.clone();
            old.addr = job.addr.clone();
            old.status = InstanceStatus::Ready;
            changes.push(Change::Remove(at.clone()));
            changes.push(Change::Put(old));
        }
    };
    let (mut changes, left) = if let Some(partial) = e.partial {
        // The object exists but is incomplete: keep it, tainted, so it is replaced or removed.
        let v = mark_schema_sensitive(copy_config_marks(config, *partial), schema);
        let mut rec = record(&job.change, v.clone(), InstanceStatus::Tainted);
        rec.detail = Some(StatusDetail {
            reason: Some(e.summary.clone()),
            since: Some(crate::state::now_rfc3339()),
            ..StatusDetail::default()
        });
        let mut changes = Vec::new();
        if job.fallback.is_some() {
            // The old object stays current; the incomplete one waits at a deposed address.
            rec.addr = super::deposed_addr(&job.addr);
            changes.push(Change::Remove(job.addr.clone()));
            restore(&mut changes);
        }
        let at = rec.addr.clone();
        changes.push(Change::Put(rec));
        (changes, Left::Tainted(at, v))
    } else if matches!(e.kind, ErrorKind::Permanent | ErrorKind::NotFound) {
        // A refused request made nothing: forget the intent.
        let mut changes = vec![Change::Remove(job.addr.clone())];
        restore(&mut changes);
        (changes, Left::Unchanged)
    } else {
        // It may have made something: the intent stays for the next plan to resolve, and so
        // does the old object's deposed record (its destroy waits for a replacement).
        (Vec::new(), Left::Intent)
    };
    if !changes.is_empty() {
        // Put before Remove would drop a restored record that shares the address: order them.
        changes.sort_by_key(|c| matches!(c, Change::Put(_)));
        job.commits.commit(changes).await.map_err(|e| commit_failed(&job.addr, &e))?;
    }
    if left == Left::Unchanged && job.fallback.is_some() {
        tracing::info!(address = %job.addr, "the replacement was not made; the previous object stays current");
    }
    Err(JobError { diag, left })
}

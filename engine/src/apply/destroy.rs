//! Destroying one object: orphans, `destroy`, the old half of a replacement, a deposed object,
//! and the rollback of a failed tenant. Each is a task of an apply walk (ordered by the graph:
//! what depends on an object is destroyed before it), or of a rollback walk of its own.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::committer::CommitHandle;
use super::events::{ApplyEvent, ApplyObserver};
use super::execute::{commit_failed, display_id, progress_ticker};
use crate::address::InstanceAddr;
use crate::diagnostics::Diagnostic;
use crate::plan::planner::provider_diag;
use crate::plan::Action;
use crate::runtime::{with_retries_notify, ConfiguredProviders, RetryPolicy, Schemas};
use crate::schedule::{self, Finish, NotRun, Step, TaskGraph, TaskId};
use crate::state::Change;
use crate::value::Value;

/// One object to destroy.
#[derive(Clone, Debug)]
pub(super) struct Doomed {
    pub addr: InstanceAddr,
    /// Provider configuration key.
    pub provider: String,
    /// The object as last known.
    pub before: Value,
    /// What it depended on (what it must be destroyed before).
    pub dependencies: Vec<InstanceAddr>,
    /// Only its record goes (an interrupted create that made nothing).
    pub record_only: bool,
}

/// What destroying needs besides the object.
#[derive(Clone)]
pub(super) struct DestroyEnv {
    pub providers: ConfiguredProviders,
    pub schemas: Schemas,
    pub commits: CommitHandle,
    pub observer: Arc<dyn ApplyObserver>,
    pub retry: RetryPolicy,
    pub kill: CancellationToken,
    pub progress: Duration,
}

/// Orders destroys among themselves: an object goes only after everything in `doomed` that
/// depends on it. `task_of[i]` is the task of `doomed[i]`.
pub(super) fn order_destroys(tasks: &mut TaskGraph, doomed: &[Doomed], task_of: &[TaskId]) {
    let index: HashMap<&InstanceAddr, usize> = doomed.iter().enumerate().map(|(i, d)| (&d.addr, i)).collect();
    for (i, d) in doomed.iter().enumerate() {
        for dep in &d.dependencies {
            if let Some(&j) = index.get(dep) {
                if j != i {
                    tasks.order(task_of[i], task_of[j]);
                }
            }
        }
    }
}

/// Destroys one object and forgets its record.
pub(super) fn destroy_work(d: Doomed, env: DestroyEnv) -> schedule::Work<Result<(), Diagnostic>> {
    Box::pin(async move {
        let started = Instant::now();
        let addr = d.addr.clone();
        env.observer.event(ApplyEvent::Start { address: addr.clone(), action: Action::Delete });
        let ticker = progress_ticker(env.observer.clone(), addr.clone(), Action::Delete, env.progress, started);
        let r = destroy(&d, &env).await;
        ticker.abort();
        match &r {
            Ok(()) => env.observer.event(ApplyEvent::Complete {
                address: addr,
                action: Action::Delete,
                elapsed: started.elapsed(),
                id: display_id(&d.before),
            }),
            Err(e) => env.observer.event(ApplyEvent::Errored {
                address: addr,
                action: Action::Delete,
                message: e.summary.clone(),
            }),
        }
        r
    })
}

async fn destroy(d: &Doomed, env: &DestroyEnv) -> Result<(), Diagnostic> {
    if !d.record_only {
        let cp = env
            .providers
            .ensure(&env.schemas, &d.provider)
            .await
            .map_err(|e| provider_diag(&d.addr, "configure", &e, None))?;
        let rt = cp.resource(d.addr.ty()).ok_or_else(|| {
            Diagnostic::error("provider", format!("{}: provider \"{}\" has no such type", d.addr, d.provider))
        })?;
        let ctx =
            crate::provider::OpContext { cancel: env.kill.clone(), address: d.addr.to_string(), ..Default::default() };
        let plain = d.before.clone().unmark_deep();
        let notify = |attempt: u32, e: &crate::provider::ProviderError| {
            env.observer.event(ApplyEvent::Retrying {
                address: d.addr.clone(),
                action: Action::Delete,
                attempt,
                message: e.summary.clone(),
            })
        };
        with_retries_notify(env.retry, &notify, || rt.delete(&plain, &ctx))
            .await
            .map_err(|e| provider_diag(&d.addr, "delete", &e, None))?;
    }
    env.commits.commit(vec![Change::Remove(d.addr.clone())]).await.map(|_| ()).map_err(|e| commit_failed(&d.addr, &e))
}

/// What a destroy-only walk (rollback) did.
#[derive(Default)]
pub(super) struct Destroyed {
    pub destroyed: usize,
    pub failed: Vec<(InstanceAddr, Diagnostic)>,
    pub skipped: Vec<InstanceAddr>,
}

/// Destroys `doomed` in dependency order (dependents first).
pub(super) async fn destroy_all(
    doomed: Vec<Doomed>,
    env: DestroyEnv,
    parallelism: usize,
    stop: CancellationToken,
) -> Destroyed {
    struct Walk {
        doomed: Vec<Doomed>,
        env: DestroyEnv,
        stop: CancellationToken,
        out: Destroyed,
    }
    impl schedule::Visitor for Walk {
        type Output = Result<(), Diagnostic>;
        fn bounded(&self, _: TaskId) -> bool {
            true
        }
        fn start(&mut self, t: TaskId) -> Step<Self::Output> {
            if self.stop.is_cancelled() {
                self.env.observer.event(ApplyEvent::Skipped {
                    address: self.doomed[t].addr.clone(),
                    action: Action::Delete,
                    reason: "the apply was interrupted".into(),
                });
                self.out.skipped.push(self.doomed[t].addr.clone());
                return Step::Failed;
            }
            Step::Spawn(destroy_work(self.doomed[t].clone(), self.env.clone()))
        }
        fn finish(&mut self, t: TaskId, out: Self::Output) -> Finish {
            match out {
                Ok(()) => {
                    self.out.destroyed += 1;
                    Finish::Done
                }
                Err(d) => {
                    self.out.failed.push((self.doomed[t].addr.clone(), d));
                    Finish::Failed
                }
            }
        }
        fn panicked(&mut self, t: TaskId, message: String) {
            let addr = self.doomed[t].addr.clone();
            self.out.failed.push((addr, Diagnostic::error("internal", format!("a destroy task panicked: {message}"))));
        }
        fn not_run(&mut self, t: TaskId, _why: NotRun) {
            let addr = self.doomed[t].addr.clone();
            self.env.observer.event(ApplyEvent::Skipped {
                address: addr.clone(),
                action: Action::Delete,
                reason: "an object that depends on it could not be destroyed".into(),
            });
            self.out.skipped.push(addr);
        }
    }
    let mut tasks = TaskGraph::with_tasks(doomed.len());
    let ids: Vec<TaskId> = (0..doomed.len()).collect();
    order_destroys(&mut tasks, &doomed, &ids);
    let mut w = Walk { doomed, env, stop, out: Destroyed::default() };
    schedule::run(&tasks, &mut w, parallelism).await;
    w.out
}

//! A stack in a temporary directory, the test provider's cloud, and SQLite state: plan and
//! apply through the engine's operations, as the CLI and the control plane do.

use std::sync::{Arc, Mutex};

use tenantform_engine::address::InstanceAddr;
use tenantform_engine::apply::{ApplyEvent, ApplyObserver, ApplyOptions};
use tenantform_engine::config::LoadOptions;
use tenantform_engine::diagnostics::Diagnostics;
use tenantform_engine::inputs::InputSources;
use tenantform_engine::ops::{self, ApplyError, ApplyHooks, ApplyReport, ApplyRequest, Stack};
use tenantform_engine::plan::planner::PlanOptions;
use tenantform_engine::plan::{Plan, PlanMode};
use tenantform_engine::runtime::{RetryPolicy, Schemas};
use tenantform_engine::state::{InstanceState, InstanceStatus, PartitionFilter, StateBackend, StateSnapshot};
use tenantform_engine::testing::TestCloud;
use tenantform_engine::validate::prepare;
use tokio_util::sync::CancellationToken;

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub cloud: TestCloud,
    pub backend: Arc<dyn StateBackend>,
    pub rt: tokio::runtime::Runtime,
}

/// Records what an apply reported.
#[derive(Default)]
pub struct Recorder {
    pub events: Mutex<Vec<ApplyEvent>>,
    pub plans: Mutex<Vec<Plan>>,
    pub replans: Mutex<Vec<Vec<tenantform_engine::state::Partition>>>,
    /// Runs when the first plan is approved, before the apply takes its locks (to change
    /// state behind its back).
    pub on_approve: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl ApplyObserver for Recorder {
    fn event(&self, e: ApplyEvent) {
        self.events.lock().unwrap().push(e);
    }
}

impl ApplyHooks for Recorder {
    fn planned(&self, plan: &Plan, _round: usize, _warnings: &Diagnostics) {
        self.plans.lock().unwrap().push(plan.clone());
    }
    fn approve(&self, _plan: &Plan) -> bool {
        if let Some(f) = self.on_approve.lock().unwrap().take() {
            f();
        }
        true
    }
    fn replanning(&self, stale: &[tenantform_engine::state::Partition]) {
        self.replans.lock().unwrap().push(stale.to_vec());
    }
}

pub fn fast_retry() -> RetryPolicy {
    RetryPolicy { attempts: 3, base: std::time::Duration::from_millis(1), max: std::time::Duration::from_millis(5) }
}

pub fn addr(s: &str) -> InstanceAddr {
    s.parse().unwrap_or_else(|e| panic!("address {s}: {e:?}"))
}

impl Harness {
    pub fn new(main_tf: &str) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("main.tf"), main_tf).unwrap();
        let backend: Arc<dyn StateBackend> =
            Arc::new(tenantform_state::SqliteBackend::open(dir.path().join("state.db")).unwrap());
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        Harness { dir, cloud: TestCloud::new(), backend, rt }
    }

    /// Replaces the configuration.
    pub fn write(&self, main_tf: &str) {
        self.write_file("main.tf", main_tf);
    }

    /// Writes a file of the stack (`tenants/acme.tf`, `tenant/main.tf`).
    pub fn write_file(&self, rel: &str, text: &str) {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    pub fn remove_file(&self, rel: &str) {
        std::fs::remove_file(self.dir.path().join(rel)).unwrap();
    }

    pub fn stack(&self) -> Stack {
        let p = match prepare(self.dir.path(), &InputSources::default(), false, &LoadOptions::default()) {
            Ok(p) => p,
            Err((_, d)) => panic!("configuration: {d:?}"),
        };
        Stack::new(p, Schemas::new(Arc::new(self.cloud.registry())), self.backend.clone())
    }

    pub fn options(&self, mode: PlanMode) -> PlanOptions {
        PlanOptions { mode, retry: fast_retry(), ..PlanOptions::default() }
    }

    pub fn plan(&self) -> Result<Plan, Diagnostics> {
        self.plan_with(self.options(PlanMode::Normal))
    }

    pub fn plan_with(&self, options: PlanOptions) -> Result<Plan, Diagnostics> {
        let stack = self.stack();
        self.rt.block_on(ops::plan(&stack, options, CancellationToken::new())).map(|r| r.plan)
    }

    pub fn apply(&self) -> (ApplyReport, Arc<Recorder>) {
        self.apply_with(self.options(PlanMode::Normal), ApplyOptions { retry: fast_retry(), ..ApplyOptions::default() })
    }

    pub fn destroy(&self) -> (ApplyReport, Arc<Recorder>) {
        self.apply_with(
            self.options(PlanMode::Destroy),
            ApplyOptions { retry: fast_retry(), ..ApplyOptions::default() },
        )
    }

    pub fn apply_with(&self, plan: PlanOptions, apply: ApplyOptions) -> (ApplyReport, Arc<Recorder>) {
        self.apply_recorded(plan, apply, Arc::new(Recorder::default()))
    }

    pub fn apply_recorded(
        &self,
        plan: PlanOptions,
        apply: ApplyOptions,
        rec: Arc<Recorder>,
    ) -> (ApplyReport, Arc<Recorder>) {
        let stack = self.stack();
        let req = ApplyRequest::new(plan, apply);
        match self.rt.block_on(ops::apply(&stack, req, rec.clone(), CancellationToken::new(), CancellationToken::new()))
        {
            Ok(r) => (r, rec),
            Err(ApplyError::Failed(d)) => panic!("apply did not run: {d:?}"),
            Err(ApplyError::Declined) => unreachable!(),
        }
    }

    pub fn state(&self) -> StateSnapshot {
        self.backend.load(&PartitionFilter::All).unwrap()
    }

    pub fn record(&self, a: &str) -> Option<InstanceState> {
        self.state().resources.get(&addr(a)).cloned()
    }

    pub fn status(&self, a: &str) -> Option<InstanceStatus> {
        self.record(a).map(|r| r.status)
    }

    /// The IDs state records, sorted.
    pub fn state_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .state()
            .resources
            .values()
            .filter_map(|r| r.value.get("id").and_then(|v| v.clone().unmark_deep().as_str().map(str::to_string)))
            .collect();
        ids.sort();
        ids
    }

    /// The cloud's object IDs, sorted.
    pub fn cloud_ids(&self) -> Vec<String> {
        self.cloud.objects().keys().cloned().collect()
    }

    /// State and the cloud agree: every object is recorded exactly once, and nothing recorded
    /// as made is missing.
    pub fn assert_converged(&self) {
        assert_eq!(self.state_ids(), self.cloud_ids(), "state and cloud differ");
        let plan = self.plan().expect("plan after apply");
        assert!(!plan.has_changes(), "a plan right after a successful apply is empty: {:#?}", plan.changes);
    }
}

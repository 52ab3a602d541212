//! The one scheduler every walk uses: validate-free plan, apply and destroy all run a graph of
//! tasks through [`run`], each supplying what a task *does* through a [`Visitor`].
//!
//! The scheduler owns readiness (a task starts the moment the last task it waits for has
//! finished, never level by level), the bound on concurrent provider work (`-parallelism`:
//! a bounded task is not even started — not evaluated — while every slot is taken, so it is
//! evaluated just before it runs), failure propagation (a failed task skips exactly what
//! waits on it, transitively) and the report of tasks that could never run. It knows nothing
//! of resources, providers or state; like Terraform's `dag.Walker`, a walk's meaning is in
//! its visitor.
//!
//! The coordinator is one task: [`Visitor::start`] and [`Visitor::finish`] run on it, in
//! order, with `&mut` access to the visitor's state (evaluation is cheap and single-threaded);
//! only the futures a visitor returns run concurrently.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;

use tokio::task::JoinSet;

/// A task's index in its [`TaskGraph`].
pub type TaskId = usize;

/// Work a visitor hands to the scheduler to run concurrently.
pub type Work<O> = Pin<Box<dyn Future<Output = O> + Send + 'static>>;

/// Tasks and the order between them.
#[derive(Clone, Debug, Default)]
pub struct TaskGraph {
    /// `dependents[t]`: the tasks that wait for `t`.
    dependents: Vec<Vec<TaskId>>,
    /// How many tasks each task waits for.
    waits_for: Vec<u32>,
}

impl TaskGraph {
    /// A graph of `n` tasks without order.
    pub fn with_tasks(n: usize) -> Self {
        TaskGraph { dependents: vec![Vec::new(); n], waits_for: vec![0; n] }
    }

    /// Adds a task; returns its ID.
    pub fn add_task(&mut self) -> TaskId {
        self.dependents.push(Vec::new());
        self.waits_for.push(0);
        self.dependents.len() - 1
    }

    /// `later` starts only after `first` has finished (and is skipped if it fails).
    pub fn order(&mut self, first: TaskId, later: TaskId) {
        debug_assert_ne!(first, later, "a task cannot wait for itself");
        self.dependents[first].push(later);
        self.waits_for[later] += 1;
    }

    pub fn len(&self) -> usize {
        self.dependents.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dependents.is_empty()
    }

    /// The tasks that wait for `t`.
    pub fn dependents(&self, t: TaskId) -> &[TaskId] {
        &self.dependents[t]
    }
}

/// What starting a task came to.
pub enum Step<O> {
    /// Finished on the coordinator (e.g. a local value evaluated in place).
    Done,
    /// Failed on the coordinator: what waits on it is skipped.
    Failed,
    /// Work to run concurrently; its output goes to [`Visitor::finish`].
    Spawn(Work<O>),
}

/// How a task ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    Done,
    Failed,
}

/// Why a task did not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotRun {
    /// A task it waits for failed or was skipped (`cause` is the task that failed).
    Skipped { cause: TaskId },
    /// It waits for tasks that can never finish: the graph has a cycle. A bug in whoever built
    /// the graph, reported rather than hung on.
    Unreachable,
}

/// What a walk does with each task.
pub trait Visitor {
    type Output: Send + 'static;

    /// Whether the task's work takes one of the `parallelism` slots (provider calls do;
    /// evaluating a local or configuring a provider does not). Such a task is started only
    /// when a slot is free.
    fn bounded(&self, t: TaskId) -> bool;

    /// Starts a ready task.
    fn start(&mut self, t: TaskId) -> Step<Self::Output>;

    /// The task's work finished.
    fn finish(&mut self, t: TaskId, out: Self::Output) -> Finish;

    /// The task's work panicked.
    fn panicked(&mut self, t: TaskId, message: String);

    /// The task will not run.
    fn not_run(&mut self, t: TaskId, why: NotRun);
}

/// Counts of one walk, for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WalkStats {
    pub done: usize,
    pub failed: usize,
    pub not_run: usize,
    /// The most bounded tasks that ran at once.
    pub peak_bounded: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Ready,
    Running,
    Done,
    Failed,
    NotRun,
}

/// Runs every task of `graph` through `visitor`, at most `parallelism` bounded tasks at once.
pub async fn run<V: Visitor>(graph: &TaskGraph, visitor: &mut V, parallelism: usize) -> WalkStats {
    let cap = parallelism.max(1);
    let n = graph.len();
    let mut waits = graph.waits_for.clone();
    let mut state = vec![State::Waiting; n];
    // Ready tasks, first added first started; bounded ones wait in `queued` for a slot.
    let mut ready: VecDeque<TaskId> = VecDeque::new();
    let mut queued: VecDeque<TaskId> = VecDeque::new();
    for t in 0..n {
        if waits[t] == 0 {
            state[t] = State::Ready;
            ready.push_back(t);
        }
    }
    let mut set: JoinSet<(TaskId, V::Output)> = JoinSet::new();
    let mut running_ids: HashMap<tokio::task::Id, TaskId> = HashMap::new();
    let mut bounded_running = 0usize;
    let mut bounded_of = vec![false; n];
    let mut stats = WalkStats::default();

    loop {
        loop {
            // A free slot goes to the longest-waiting bounded task first.
            let t = if bounded_running < cap && !queued.is_empty() { queued.pop_front() } else { ready.pop_front() };
            let Some(t) = t else { break };
            if state[t] != State::Ready {
                continue;
            }
            let bounded = visitor.bounded(t);
            if bounded && bounded_running >= cap {
                queued.push_back(t);
                continue;
            }
            state[t] = State::Running;
            match visitor.start(t) {
                Step::Done => {
                    finished(t, Finish::Done, graph, &mut state, &mut waits, &mut ready, visitor, &mut stats);
                }
                Step::Failed => {
                    finished(t, Finish::Failed, graph, &mut state, &mut waits, &mut ready, visitor, &mut stats);
                }
                Step::Spawn(work) => {
                    if bounded {
                        bounded_running += 1;
                        bounded_of[t] = true;
                        stats.peak_bounded = stats.peak_bounded.max(bounded_running);
                    }
                    let h = set.spawn(async move { (t, work.await) });
                    running_ids.insert(h.id(), t);
                }
            }
        }
        let Some(joined) = set.join_next_with_id().await else { break };
        let (t, end) = match joined {
            Ok((id, (t, out))) => {
                running_ids.remove(&id);
                (t, visitor.finish(t, out))
            }
            Err(e) => {
                let Some(t) = running_ids.remove(&e.id()) else { continue };
                visitor.panicked(t, e.to_string());
                (t, Finish::Failed)
            }
        };
        if bounded_of[t] {
            bounded_running -= 1;
        }
        finished(t, end, graph, &mut state, &mut waits, &mut ready, visitor, &mut stats);
    }
    for t in 0..n {
        if matches!(state[t], State::Waiting | State::Ready) {
            state[t] = State::NotRun;
            stats.not_run += 1;
            visitor.not_run(t, NotRun::Unreachable);
        }
    }
    stats
}

#[allow(clippy::too_many_arguments)]
fn finished<V: Visitor>(
    t: TaskId,
    end: Finish,
    graph: &TaskGraph,
    state: &mut [State],
    waits: &mut [u32],
    ready: &mut VecDeque<TaskId>,
    visitor: &mut V,
    stats: &mut WalkStats,
) {
    match end {
        Finish::Done => {
            state[t] = State::Done;
            stats.done += 1;
            for &d in graph.dependents(t) {
                waits[d] = waits[d].saturating_sub(1);
                if waits[d] == 0 && state[d] == State::Waiting {
                    state[d] = State::Ready;
                    ready.push_back(d);
                }
            }
        }
        Finish::Failed => {
            state[t] = State::Failed;
            stats.failed += 1;
            let mut todo: Vec<TaskId> = graph.dependents(t).to_vec();
            while let Some(d) = todo.pop() {
                if matches!(state[d], State::Waiting | State::Ready) {
                    state[d] = State::NotRun;
                    stats.not_run += 1;
                    visitor.not_run(d, NotRun::Skipped { cause: t });
                    todo.extend_from_slice(graph.dependents(d));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// Tasks sleep `ms[t]`; those in `fail` fail; everything is logged in order.
    struct Log {
        ms: Vec<u64>,
        fail: Vec<TaskId>,
        bounded: Vec<bool>,
        events: Arc<Mutex<Vec<String>>>,
        not_run: Vec<(TaskId, NotRun)>,
        running: Arc<Mutex<(usize, usize)>>,
    }

    impl Visitor for Log {
        type Output = bool;
        fn bounded(&self, t: TaskId) -> bool {
            self.bounded[t]
        }
        fn start(&mut self, t: TaskId) -> Step<bool> {
            self.events.lock().unwrap().push(format!("start {t}"));
            if self.ms[t] == 0 {
                return if self.fail.contains(&t) { Step::Failed } else { Step::Done };
            }
            let ms = self.ms[t];
            let ok = !self.fail.contains(&t);
            let running = self.running.clone();
            Step::Spawn(Box::pin(async move {
                {
                    let mut r = running.lock().unwrap();
                    r.0 += 1;
                    r.1 = r.1.max(r.0);
                }
                tokio::time::sleep(Duration::from_millis(ms)).await;
                running.lock().unwrap().0 -= 1;
                ok
            }))
        }
        fn finish(&mut self, t: TaskId, ok: bool) -> Finish {
            self.events.lock().unwrap().push(format!("end {t}"));
            if ok {
                Finish::Done
            } else {
                Finish::Failed
            }
        }
        fn panicked(&mut self, t: TaskId, _message: String) {
            self.events.lock().unwrap().push(format!("panic {t}"));
        }
        fn not_run(&mut self, t: TaskId, why: NotRun) {
            self.not_run.push((t, why));
        }
    }

    fn log(ms: Vec<u64>) -> Log {
        let n = ms.len();
        Log {
            ms,
            fail: Vec::new(),
            bounded: vec![true; n],
            events: Arc::default(),
            not_run: Vec::new(),
            running: Arc::default(),
        }
    }

    fn pos(events: &[String], e: &str) -> usize {
        events.iter().position(|x| x == e).unwrap_or_else(|| panic!("{e} missing from {events:?}"))
    }

    #[tokio::test]
    async fn a_task_starts_when_its_last_dependency_ends_not_level_by_level() {
        // 0 (10 ms) → 2; 1 (80 ms) → 3. Task 2 must start long before 1 ends.
        let mut g = TaskGraph::with_tasks(4);
        g.order(0, 2);
        g.order(1, 3);
        let mut v = log(vec![10, 80, 10, 10]);
        let stats = run(&g, &mut v, 8).await;
        let ev = v.events.lock().unwrap().clone();
        assert!(pos(&ev, "start 2") < pos(&ev, "end 1"), "{ev:?}");
        assert!(pos(&ev, "end 0") < pos(&ev, "start 2"));
        assert!(pos(&ev, "end 1") < pos(&ev, "start 3"));
        assert_eq!(stats.done, 4);
    }

    #[tokio::test]
    async fn parallelism_bounds_only_bounded_tasks() {
        let mut v = log(vec![20; 10]);
        v.bounded[9] = false;
        let g = TaskGraph::with_tasks(10);
        let stats = run(&g, &mut v, 3).await;
        assert_eq!(stats.done, 10);
        assert_eq!(stats.peak_bounded, 3);
        // The unbounded task ran beside three bounded ones.
        assert_eq!(v.running.lock().unwrap().1, 4);
    }

    #[tokio::test]
    async fn a_failure_skips_exactly_what_waits_on_it() {
        // 0 → 1 → 2, 0 → 3; 4 independent. 1 fails.
        let mut g = TaskGraph::with_tasks(5);
        g.order(0, 1);
        g.order(1, 2);
        g.order(0, 3);
        let mut v = log(vec![5, 5, 5, 5, 5]);
        v.fail = vec![1];
        let stats = run(&g, &mut v, 8).await;
        assert_eq!(v.not_run, vec![(2, NotRun::Skipped { cause: 1 })]);
        assert_eq!((stats.done, stats.failed, stats.not_run), (3, 1, 1));
    }

    #[tokio::test]
    async fn a_cycle_is_reported_not_hung_on() {
        let mut g = TaskGraph::with_tasks(3);
        g.order(1, 2);
        g.order(2, 1);
        let mut v = log(vec![0, 0, 0]);
        let stats = run(&g, &mut v, 2).await;
        assert_eq!(stats.done, 1);
        let mut nr: Vec<TaskId> = v.not_run.iter().map(|(t, _)| *t).collect();
        nr.sort();
        assert_eq!(nr, vec![1, 2]);
        assert!(v.not_run.iter().all(|(_, w)| *w == NotRun::Unreachable));
    }

    #[tokio::test]
    async fn a_panicking_task_fails_alone() {
        struct P;
        impl Visitor for P {
            type Output = ();
            fn bounded(&self, _: TaskId) -> bool {
                true
            }
            fn start(&mut self, t: TaskId) -> Step<()> {
                Step::Spawn(Box::pin(async move {
                    if t == 0 {
                        panic!("boom");
                    }
                }))
            }
            fn finish(&mut self, _: TaskId, _: ()) -> Finish {
                Finish::Done
            }
            fn panicked(&mut self, t: TaskId, m: String) {
                assert_eq!(t, 0);
                assert!(m.contains("panic"), "{m}");
            }
            fn not_run(&mut self, t: TaskId, why: NotRun) {
                assert_eq!((t, why), (2, NotRun::Skipped { cause: 0 }));
            }
        }
        let mut g = TaskGraph::with_tasks(3);
        g.order(0, 2);
        let stats = run(&g, &mut P, 4).await;
        assert_eq!((stats.done, stats.failed, stats.not_run), (1, 1, 1));
    }
}

//! The conformance suite every state backend must pass: one set of cases, run against SQLite,
//! in-memory and (later) PostgreSQL.
//!
//! Modelled on Terraform's `internal/backend/testing.go` (`TestBackendStateLocks`: two
//! clients, one lock; the second must fail, then succeed after unlock) and statemgr's
//! `TestFull`, and like OpenTofu's key-provider compliance tests it requires the failure
//! cases: locked, wrong partition, stale guard, foreign lineage, unknown serial.
//!
//! A backend is tested through a [`Store`]: one empty store reached through any number of
//! independent clients (for SQLite, separate connections as two processes would open). The
//! cases panic on failure (they are test code); [`run`] runs them all, each on a fresh store,
//! and reports every failing case by name.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use tenantform_engine::address::{InstanceAddr, ModuleAddr};
use tenantform_engine::state::{
    Change, InstanceState, InstanceStatus, LockGuard, LockInfo, OutputState, Partition, PartitionFilter, StateBackend,
    StateError, StateSnapshot, NO_WAIT,
};
use tenantform_engine::value::Value;

/// One empty store under test.
pub trait Store {
    /// A new, independent client of this store.
    fn client(&self) -> Box<dyn StateBackend>;
}

/// A named case.
pub type Case = (&'static str, fn(&dyn Store));

/// Every case of the suite.
pub fn cases() -> &'static [Case] {
    &[
        ("empty_store_loads_as_serial_zero", empty_store_loads_as_serial_zero),
        ("commit_round_trips_records_and_marks", commit_round_trips_records_and_marks),
        ("first_commit_persists_the_lineage_load_reported", first_commit_persists_the_lineage_load_reported),
        ("serials_increase_by_one_per_commit", serials_increase_by_one_per_commit),
        ("partition_serials_track_the_newest_write", partition_serials_track_the_newest_write),
        ("load_filters_by_partition", load_filters_by_partition),
        ("second_lock_fails_with_holder_info_until_unlocked", second_lock_fails_with_holder_info_until_unlocked),
        ("locks_on_different_partitions_coexist", locks_on_different_partitions_coexist),
        ("multi_partition_lock_is_all_or_nothing", multi_partition_lock_is_all_or_nothing),
        ("lock_wait_succeeds_when_released_during_the_wait", lock_wait_succeeds_when_released_during_the_wait),
        ("lock_wait_times_out_naming_the_holder", lock_wait_times_out_naming_the_holder),
        ("lock_wait_without_limit_is_granted_on_release", lock_wait_without_limit_is_granted_on_release),
        ("dropping_a_guard_releases_its_locks", dropping_a_guard_releases_its_locks),
        ("lock_without_partitions_is_refused", lock_without_partitions_is_refused),
        ("force_unlock_removes_a_lock_and_stales_its_guard", force_unlock_removes_a_lock_and_stales_its_guard),
        ("commit_outside_held_partitions_is_refused", commit_outside_held_partitions_is_refused),
        (
            "concurrent_commits_on_two_tenants_get_distinct_serials",
            concurrent_commits_on_two_tenants_get_distinct_serials,
        ),
        ("history_lists_newest_first_with_content", history_lists_newest_first_with_content),
        ("snapshot_at_reconstructs_earlier_serials", snapshot_at_reconstructs_earlier_serials),
        ("replace_all_refuses_a_foreign_lineage_unless_forced", replace_all_refuses_a_foreign_lineage_unless_forced),
        ("replace_all_writes_the_difference_as_one_serial", replace_all_writes_the_difference_as_one_serial),
        ("replace_all_on_an_empty_store_adopts_the_lineage", replace_all_on_an_empty_store_adopts_the_lineage),
        ("replace_all_needs_locks_on_touched_partitions", replace_all_needs_locks_on_touched_partitions),
        ("outputs_round_trip", outputs_round_trip),
    ]
}

/// Runs every case, each on a fresh store from `new_store`; panics naming the failed cases.
pub fn run(new_store: &dyn Fn() -> Box<dyn Store>) {
    let mut failed = Vec::new();
    for (name, case) in cases() {
        let store = new_store();
        let outcome = catch_unwind(AssertUnwindSafe(|| case(store.as_ref())));
        if outcome.is_err() {
            failed.push(*name);
        }
    }
    assert!(failed.is_empty(), "{} of {} conformance cases failed: {}", failed.len(), cases().len(), failed.join(", "));
}

// ---- fixtures -------------------------------------------------------------------------------

fn addr(s: &str) -> InstanceAddr {
    s.parse().unwrap_or_else(|e| panic!("fixture address {s}: {e}"))
}

fn module(s: &str) -> ModuleAddr {
    s.parse().unwrap_or_else(|e| panic!("fixture module {s}: {e}"))
}

fn tenant(slug: &str) -> Partition {
    Partition::Tenant(slug.to_string())
}

/// A realistic record whose value depends on `version`, with a nested sensitive attribute.
fn res(address: &str, version: i64) -> InstanceState {
    InstanceState {
        addr: addr(address),
        provider: "postgres".into(),
        schema_version: 1,
        status: InstanceStatus::Ready,
        value: Value::map([
            ("id", Value::string(format!("{address}-{version}"))),
            ("version", Value::number(version as f64)),
            ("ratio", Value::number(0.5)),
            ("enabled", Value::Bool(version % 2 == 0)),
            ("comment", Value::Null),
            ("password", Value::string("s3cr3t").mark_sensitive()),
            (
                "settings",
                Value::map([
                    ("tier", Value::string("pro")),
                    ("keys", Value::List(vec![Value::string("a"), Value::string("k-1").mark_sensitive()])),
                ]),
            ),
        ]),
        dependencies: Vec::new(),
        create_before_destroy: false,
        detail: None,
    }
}

fn output(module_addr: &str, name: &str, value: Value, sensitive: bool) -> OutputState {
    OutputState { module: module(module_addr), name: name.into(), value: value.with_sensitive(sensitive), sensitive }
}

fn info(operation: &str) -> LockInfo {
    LockInfo::for_current_process(operation)
}

fn lock(b: &dyn StateBackend, parts: &[Partition], op: &str) -> Box<dyn LockGuard> {
    b.lock(parts, &info(op), NO_WAIT).unwrap_or_else(|e| panic!("lock {parts:?} for {op}: {e}"))
}

fn put(b: &dyn StateBackend, g: &dyn LockGuard, changes: Vec<Change>) -> u64 {
    b.commit(g, "apply", &changes).unwrap_or_else(|e| panic!("commit: {e}"))
}

fn load(b: &dyn StateBackend) -> StateSnapshot {
    b.load(&PartitionFilter::All).unwrap_or_else(|e| panic!("load: {e}"))
}

fn holders(e: StateError) -> Vec<LockInfo> {
    match e {
        StateError::Locked { holders } => holders,
        other => panic!("expected Locked, got {other:?}"),
    }
}

fn fail<T: std::fmt::Debug>(r: Result<T, StateError>, what: &str) -> StateError {
    match r {
        Ok(v) => panic!("{what}: expected an error, got {v:?}"),
        Err(e) => e,
    }
}

fn fail_lock(r: Result<Box<dyn LockGuard>, StateError>, what: &str) -> StateError {
    match r {
        Ok(g) => panic!("{what}: expected Locked, got a guard {:?}", g.info()),
        Err(e) => e,
    }
}

// ---- cases ----------------------------------------------------------------------------------

fn empty_store_loads_as_serial_zero(store: &dyn Store) {
    let b = store.client();
    let s = load(b.as_ref());
    assert_eq!(s.serial, 0);
    assert!(s.resources.is_empty() && s.outputs.is_empty() && s.partition_serials.is_empty());
    assert!(!s.lineage.is_empty(), "an empty store still reports a lineage");
    assert_eq!(load(b.as_ref()).lineage, s.lineage, "two loads of an empty store agree");
    assert!(b.history(10).unwrap().is_empty());
    assert!(b.locks().unwrap().is_empty());
    assert!(b.partition_serials().unwrap().is_empty());
    let zero = b.snapshot_at(0).unwrap();
    assert_eq!(zero.serial, 0);
    assert!(zero.resources.is_empty());
    assert!(matches!(b.snapshot_at(1), Err(StateError::NoSuchSerial(1))));
    assert!(!b.describe().is_empty());
}

fn commit_round_trips_records_and_marks(store: &dyn Store) {
    let b = store.client();
    let g = lock(b.as_ref(), &[Partition::Root, tenant("acme")], "apply");
    let mut db = res("tenant.acme.postgres_database.main", 1);
    db.dependencies = vec![addr("tenant.acme.postgres_role.owner"), addr("random_password.admin[\"acme \\\"x\\\"\"]")];
    db.create_before_destroy = true;
    db.schema_version = 3;
    db.provider = "postgres.eu".into();
    let mut tainted = res("random_password.admin[2]", 1);
    tainted.status = InstanceStatus::Tainted;
    tainted.detail = Some(tenantform_engine::state::StatusDetail {
        reason: Some("rollout failed: \"image not found\"".into()),
        since: Some("2026-12-05T10:00:00Z".into()),
        ..Default::default()
    });
    let intent = InstanceState {
        addr: addr("module.dns[\"a b\"].cloudflare_record.www"),
        provider: "cloudflare".into(),
        schema_version: 0,
        status: InstanceStatus::Creating,
        value: Value::map([
            ("id", Value::Unknown),
            ("name", Value::string("www")),
            ("token", Value::Unknown.mark_sensitive()),
        ]),
        dependencies: Vec::new(),
        create_before_destroy: false,
        detail: Some(tenantform_engine::state::StatusDetail {
            create_token: Some("tf-0123456789abcdef".into()),
            ..Default::default()
        }),
    };
    let whole_secret = InstanceState {
        value: Value::string("all of it").mark_sensitive(),
        ..res("tenant.acme.random_password.pw", 1)
    };
    let records = [db, tainted, intent, whole_secret];
    let serial = put(b.as_ref(), g.as_ref(), records.iter().cloned().map(Change::Put).collect());
    assert_eq!(serial, 1);
    for client in [b, store.client()] {
        let s = load(client.as_ref());
        assert_eq!(s.serial, 1);
        assert_eq!(s.resources.len(), records.len());
        for r in &records {
            assert_eq!(s.resources.get(&r.addr), Some(r), "{} round trip", r.addr);
        }
        let pw = &s.resources[&addr("tenant.acme.postgres_database.main")].value;
        assert!(pw.get("password").unwrap().is_sensitive(), "sensitive mark kept");
        assert!(!pw.get("id").unwrap().is_sensitive());
    }
}

fn first_commit_persists_the_lineage_load_reported(store: &dyn Store) {
    let b = store.client();
    let before = load(b.as_ref()).lineage;
    let g = lock(b.as_ref(), &[Partition::Root], "apply");
    put(b.as_ref(), g.as_ref(), vec![Change::Put(res("random_id.x", 1))]);
    assert_eq!(load(b.as_ref()).lineage, before, "the first commit persists the reported lineage");
    assert_eq!(load(store.client().as_ref()).lineage, before, "other clients see it");
}

fn serials_increase_by_one_per_commit(store: &dyn Store) {
    let (b1, b2) = (store.client(), store.client());
    let g1 = lock(b1.as_ref(), &[tenant("acme")], "apply");
    let g2 = lock(b2.as_ref(), &[tenant("globex")], "apply");
    let mut last = 0;
    for i in 0..6 {
        let serial = if i % 2 == 0 {
            put(b1.as_ref(), g1.as_ref(), vec![Change::Put(res("tenant.acme.x.a", i))])
        } else {
            put(b2.as_ref(), g2.as_ref(), vec![Change::Put(res("tenant.globex.x.a", i))])
        };
        assert_eq!(serial, last + 1, "serials are stack-wide and gapless");
        last = serial;
        assert_eq!(load(b1.as_ref()).serial, serial);
        assert_eq!(load(b2.as_ref()).serial, serial);
    }
    let before = b1.history(100).unwrap().len();
    assert_eq!(b1.commit(g1.as_ref(), "apply", &[]).unwrap(), last, "an empty commit writes nothing");
    assert_eq!(b1.history(100).unwrap().len(), before);
}

fn partition_serials_track_the_newest_write(store: &dyn Store) {
    let b = store.client();
    let g = lock(b.as_ref(), &[Partition::Root, tenant("acme"), tenant("globex")], "apply");
    put(b.as_ref(), g.as_ref(), vec![Change::Put(res("random_id.x", 1))]);
    put(b.as_ref(), g.as_ref(), vec![Change::Put(res("tenant.acme.x.a", 1))]);
    put(b.as_ref(), g.as_ref(), vec![Change::Put(res("tenant.globex.x.a", 1)), Change::Put(res("module.m.x.b", 1))]);
    put(b.as_ref(), g.as_ref(), vec![Change::Remove(addr("tenant.acme.x.a"))]);
    let want: BTreeMap<Partition, u64> = [(Partition::Root, 3), (tenant("acme"), 4), (tenant("globex"), 3)].into();
    assert_eq!(load(b.as_ref()).partition_serials, want);
    assert_eq!(b.partition_serials().unwrap(), want);
    assert_eq!(store.client().partition_serials().unwrap(), want);
}

fn load_filters_by_partition(store: &dyn Store) {
    let b = store.client();
    let g = lock(b.as_ref(), &[Partition::Root, tenant("acme"), tenant("globex")], "apply");
    put(
        b.as_ref(),
        g.as_ref(),
        vec![
            Change::Put(res("random_id.x", 1)),
            Change::Put(res("module.shared.random_id.y", 1)),
            Change::Put(res("tenant.acme.x.a", 1)),
            Change::Put(res("tenant.globex.x.a", 1)),
            Change::PutOutput(output("tenant.acme", "url", Value::string("https://a"), false)),
            Change::PutOutput(output("", "region", Value::string("eu"), false)),
        ],
    );
    put(b.as_ref(), g.as_ref(), vec![Change::Put(res("tenant.globex.x.b", 1))]);
    let acme = b.load(&PartitionFilter::Only(vec![tenant("acme")])).unwrap();
    assert_eq!(acme.serial, 2, "the stack serial, whatever the filter");
    assert_eq!(acme.resources.keys().cloned().collect::<Vec<_>>(), vec![addr("tenant.acme.x.a")]);
    assert_eq!(acme.outputs.len(), 1);
    assert_eq!(acme.partition_serials, [(tenant("acme"), 1)].into());
    let root = b.load(&PartitionFilter::Only(vec![Partition::Root, Partition::Root])).unwrap();
    assert_eq!(root.resources.len(), 2, "root holds module.* outside tenants too");
    assert_eq!(root.outputs.len(), 1);
    let none = b.load(&PartitionFilter::Only(vec![tenant("nobody")])).unwrap();
    assert!(none.resources.is_empty() && none.partition_serials.is_empty());
    let all = load(b.as_ref());
    assert_eq!(all.partitions().collect::<Vec<_>>(), vec![Partition::Root, tenant("acme"), tenant("globex")]);
}

fn second_lock_fails_with_holder_info_until_unlocked(store: &dyn Store) {
    let (b1, b2) = (store.client(), store.client());
    let mut who = info("apply");
    who.operation = "apply -target=tenant.acme".into();
    let g1 = b1.lock(&[Partition::Root], &who, NO_WAIT).expect("first lock");
    assert_eq!(g1.info().id, who.id);
    assert_eq!(g1.partitions(), &[Partition::Root]);

    let refused = holders(fail_lock(b2.lock(&[Partition::Root], &info("plan"), NO_WAIT), "second lock"));
    assert_eq!(refused.len(), 1);
    let h = &refused[0];
    assert_eq!(h.id, who.id);
    assert_eq!(h.operation, "apply -target=tenant.acme");
    assert_eq!(h.pid, std::process::id());
    assert_eq!(h.who, who.who);
    assert_eq!(h.host, who.host);
    assert_eq!(h.created, who.created);
    assert_eq!(h.partition, Some(Partition::Root));
    // The same client is refused too: locks are not re-entrant.
    fail_lock(b1.lock(&[Partition::Root], &info("apply"), NO_WAIT), "re-lock");

    let listed = b2.locks().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, who.id);

    b1.unlock(g1).expect("unlock");
    assert!(b2.locks().unwrap().is_empty());
    let g2 = lock(b2.as_ref(), &[Partition::Root], "plan");
    b2.unlock(g2).expect("unlock the second");
}

fn locks_on_different_partitions_coexist(store: &dyn Store) {
    let (b1, b2, b3) = (store.client(), store.client(), store.client());
    let _a = lock(b1.as_ref(), &[tenant("acme")], "apply");
    let _g = lock(b2.as_ref(), &[tenant("globex")], "apply");
    let _r = lock(b3.as_ref(), &[Partition::Root], "apply");
    assert_eq!(b1.locks().unwrap().len(), 3);
}

fn multi_partition_lock_is_all_or_nothing(store: &dyn Store) {
    let (b1, b2) = (store.client(), store.client());
    let held = lock(b1.as_ref(), &[tenant("acme")], "apply");
    let refused = holders(fail_lock(
        b2.lock(&[tenant("globex"), tenant("acme"), Partition::Root], &info("apply"), NO_WAIT),
        "overlapping lock",
    ));
    assert_eq!(refused.len(), 1, "only the held partition is named");
    assert_eq!(refused[0].partition, Some(tenant("acme")));
    assert_eq!(refused[0].id, held.info().id);
    assert_eq!(b2.locks().unwrap().len(), 1, "nothing was taken by the refused request");
    let _g = lock(store.client().as_ref(), &[tenant("globex"), Partition::Root], "apply");
}

fn lock_wait_succeeds_when_released_during_the_wait(store: &dyn Store) {
    let (b1, b2) = (store.client(), store.client());
    let g1 = lock(b1.as_ref(), &[Partition::Root, tenant("acme")], "apply");
    let start = Instant::now();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        b1.unlock(g1).expect("unlock in the releasing thread");
    });
    let g2 =
        b2.lock(&[tenant("acme")], &info("apply"), Duration::from_secs(10)).expect("the lock is granted once released");
    let waited = start.elapsed();
    releaser.join().expect("releaser thread");
    assert!(waited >= Duration::from_millis(250), "granted only after the release ({waited:?})");
    assert!(waited < Duration::from_secs(5), "granted soon after the release ({waited:?})");
    assert_eq!(g2.partitions(), &[tenant("acme")]);
}

fn lock_wait_times_out_naming_the_holder(store: &dyn Store) {
    let (b1, b2) = (store.client(), store.client());
    let g1 = lock(b1.as_ref(), &[Partition::Root], "destroy");
    let start = Instant::now();
    let refused =
        holders(fail_lock(b2.lock(&[Partition::Root], &info("apply"), Duration::from_millis(400)), "lock while held"));
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(400), "waited the full time ({waited:?})");
    assert!(waited < Duration::from_secs(5), "gave up soon after ({waited:?})");
    assert_eq!(refused[0].operation, "destroy");
    assert_eq!(refused[0].id, g1.info().id);
}

fn lock_wait_without_limit_is_granted_on_release(store: &dyn Store) {
    let (b1, b2) = (store.client(), store.client());
    let g1 = lock(b1.as_ref(), &[Partition::Root], "apply");
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        drop(g1);
    });
    // `-lock-timeout` of "forever": no overflow computing a deadline.
    let g2 = b2.lock(&[Partition::Root], &info("apply"), Duration::MAX).expect("granted after the release");
    releaser.join().expect("releaser thread");
    assert_eq!(g2.partitions(), &[Partition::Root]);
}

fn dropping_a_guard_releases_its_locks(store: &dyn Store) {
    let (b1, b2) = (store.client(), store.client());
    let g = lock(b1.as_ref(), &[Partition::Root, tenant("acme")], "apply");
    fail_lock(b2.lock(&[tenant("acme")], &info("apply"), NO_WAIT), "while held");
    drop(g);
    assert!(b2.locks().unwrap().is_empty(), "dropping the guard released it");
    let _g = lock(b2.as_ref(), &[Partition::Root, tenant("acme")], "apply");
}

fn lock_without_partitions_is_refused(store: &dyn Store) {
    let b = store.client();
    let e = fail_lock(b.lock(&[], &info("apply"), NO_WAIT), "empty lock");
    assert!(matches!(e, StateError::Backend(_)), "{e:?}");
}

fn force_unlock_removes_a_lock_and_stales_its_guard(store: &dyn Store) {
    let (b1, b2) = (store.client(), store.client());
    let stale = lock(b1.as_ref(), &[tenant("acme")], "apply");
    let id = stale.info().id.clone();
    assert!(matches!(b2.force_unlock("no-such-lock"), Err(StateError::NotLocked(_))));
    b2.force_unlock(&id).expect("force-unlock by ID");
    assert!(b2.locks().unwrap().is_empty());
    let fresh = lock(b2.as_ref(), &[tenant("acme")], "apply");

    // The old holder's guard no longer authorises writes, and cannot release the new lock.
    let e = fail(
        b1.commit(stale.as_ref(), "apply", &[Change::Put(res("tenant.acme.x.a", 1))]),
        "commit with a force-unlocked guard",
    );
    assert!(matches!(&e, StateError::NotLocked(i) if *i == id), "{e:?}");
    assert_eq!(load(b1.as_ref()).serial, 0, "nothing written");
    let e = fail(b1.unlock(stale), "unlock of a force-unlocked guard");
    assert!(matches!(e, StateError::NotLocked(_)), "{e:?}");
    assert_eq!(b2.locks().unwrap()[0].id, fresh.info().id, "the new lock is untouched");
    put(b2.as_ref(), fresh.as_ref(), vec![Change::Put(res("tenant.acme.x.a", 1))]);
}

fn commit_outside_held_partitions_is_refused(store: &dyn Store) {
    let b = store.client();
    let g = lock(b.as_ref(), &[tenant("acme")], "apply");
    put(b.as_ref(), g.as_ref(), vec![Change::Put(res("tenant.acme.x.a", 1))]);
    let refusals: Vec<(Vec<Change>, Partition)> = vec![
        (vec![Change::Put(res("tenant.globex.x.a", 1))], tenant("globex")),
        (vec![Change::Put(res("random_id.x", 1))], Partition::Root),
        (vec![Change::Remove(addr("module.m.x.y"))], Partition::Root),
        (
            vec![
                Change::Put(res("tenant.acme.x.b", 1)),
                Change::PutOutput(output("tenant.globex", "url", Value::string("u"), false)),
            ],
            tenant("globex"),
        ),
        (vec![Change::RemoveOutput { module: ModuleAddr::root(), name: "x".into() }], Partition::Root),
    ];
    for (changes, partition) in refusals {
        match b.commit(g.as_ref(), "apply", &changes) {
            Err(StateError::PartitionNotLocked { partition: p, subject }) => {
                assert_eq!(p, partition);
                assert!(!subject.is_empty());
            }
            other => panic!("expected PartitionNotLocked for {changes:?}, got {other:?}"),
        }
    }
    let s = load(b.as_ref());
    assert_eq!(s.serial, 1, "refused commits write nothing");
    assert_eq!(s.resources.len(), 1, "not even the allowed half of a mixed commit");
    // A guard from another client of the same store, for another partition, does not help.
    let other = store.client();
    let root = lock(other.as_ref(), &[Partition::Root], "apply");
    assert!(b.commit(g.as_ref(), "apply", &[Change::Put(res("random_id.x", 1))]).is_err());
    put(other.as_ref(), root.as_ref(), vec![Change::Put(res("random_id.x", 1))]);
}

fn concurrent_commits_on_two_tenants_get_distinct_serials(store: &dyn Store) {
    const EACH: i64 = 25;
    let workers: Vec<_> = ["acme", "globex"]
        .into_iter()
        .map(|slug| {
            let b = store.client();
            std::thread::spawn(move || {
                let g = lock(b.as_ref(), &[tenant(slug)], "apply");
                (0..EACH)
                    .map(|i| {
                        let a = format!("tenant.{slug}.x.r{i}");
                        put(b.as_ref(), g.as_ref(), vec![Change::Put(res(&a, i))])
                    })
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    let mut serials: Vec<u64> = workers.into_iter().flat_map(|w| w.join().expect("worker")).collect();
    serials.sort_unstable();
    assert_eq!(serials, (1..=2 * EACH as u64).collect::<Vec<_>>(), "every serial exactly once");
    let s = load(store.client().as_ref());
    assert_eq!(s.serial, 2 * EACH as u64);
    assert_eq!(s.resources.len(), 2 * EACH as usize);
}

fn history_lists_newest_first_with_content(store: &dyn Store) {
    let b = store.client();
    let g = lock(b.as_ref(), &[Partition::Root, tenant("acme")], "apply");
    b.commit(g.as_ref(), "apply", &[Change::Put(res("random_id.x", 1))]).unwrap();
    b.commit(
        g.as_ref(),
        "import",
        &[
            Change::Put(res("tenant.acme.x.a", 1)),
            Change::Put(res("tenant.acme.x.b", 1)),
            Change::Put(res("random_id.y", 1)),
        ],
    )
    .unwrap();
    b.commit(g.as_ref(), "destroy", &[Change::Remove(addr("tenant.acme.x.a"))]).unwrap();
    let h = store.client().history(10).unwrap();
    assert_eq!(h.iter().map(|e| e.serial).collect::<Vec<_>>(), vec![3, 2, 1]);
    assert_eq!(h.iter().map(|e| e.operation.as_str()).collect::<Vec<_>>(), vec!["destroy", "import", "apply"]);
    assert_eq!(h.iter().map(|e| e.changes).collect::<Vec<_>>(), vec![1, 3, 1]);
    assert_eq!(h[0].partitions, vec![tenant("acme")]);
    assert_eq!(h[1].partitions, vec![Partition::Root, tenant("acme")]);
    assert_eq!(h[2].partitions, vec![Partition::Root]);
    for e in &h {
        let c = e.created.as_bytes();
        assert!(
            e.created.len() == 20 && c[4] == b'-' && c[10] == b'T' && c[19] == b'Z',
            "RFC 3339 timestamp: {}",
            e.created
        );
    }
    assert_eq!(b.history(2).unwrap().iter().map(|e| e.serial).collect::<Vec<_>>(), vec![3, 2]);
    assert!(b.history(0).unwrap().is_empty());
}

fn snapshot_at_reconstructs_earlier_serials(store: &dyn Store) {
    let b = store.client();
    let g = lock(b.as_ref(), &[Partition::Root, tenant("acme")], "apply");
    let (a1, b1) = (res("tenant.acme.x.a", 1), res("tenant.acme.x.b", 1));
    let out1 = output("tenant.acme", "url", Value::string("v1"), false);
    put(
        b.as_ref(),
        g.as_ref(),
        vec![Change::Put(a1.clone()), Change::Put(b1.clone()), Change::PutOutput(out1.clone())],
    );
    let a2 = res("tenant.acme.x.a", 2);
    put(b.as_ref(), g.as_ref(), vec![Change::Put(a2.clone())]);
    let c1 = res("random_id.c", 1);
    put(
        b.as_ref(),
        g.as_ref(),
        vec![
            Change::Remove(b1.addr.clone()),
            Change::Put(c1.clone()),
            Change::RemoveOutput { module: module("tenant.acme"), name: "url".into() },
        ],
    );
    let b2 = res("tenant.acme.x.b", 2);
    put(b.as_ref(), g.as_ref(), vec![Change::Put(b2.clone())]);

    let reader = store.client();
    let at = |serial| reader.snapshot_at(serial).unwrap_or_else(|e| panic!("snapshot_at({serial}): {e}"));
    let s1 = at(1);
    assert_eq!(s1.serial, 1);
    assert_eq!(s1.resources.values().cloned().collect::<Vec<_>>(), vec![a1.clone(), b1.clone()]);
    assert_eq!(s1.outputs.values().cloned().collect::<Vec<_>>(), vec![out1.clone()]);
    assert_eq!(s1.partition_serials, [(tenant("acme"), 1)].into());
    let s2 = at(2);
    assert_eq!(s2.resources.values().cloned().collect::<Vec<_>>(), vec![a2.clone(), b1]);
    assert_eq!(s2.outputs.len(), 1);
    let s3 = at(3);
    assert_eq!(s3.resources.values().cloned().collect::<Vec<_>>(), vec![c1.clone(), a2.clone()]);
    assert!(s3.outputs.is_empty(), "removed output gone at 3");
    assert_eq!(s3.partition_serials, [(Partition::Root, 3), (tenant("acme"), 3)].into());
    let s4 = at(4);
    assert_eq!(s4.resources.values().cloned().collect::<Vec<_>>(), vec![c1, a2, b2]);
    let now = load(reader.as_ref());
    assert_eq!(s4.resources, now.resources);
    assert_eq!(s4.partition_serials, now.partition_serials);
    assert_eq!(s4.lineage, now.lineage);
    assert!(at(0).resources.is_empty());
    assert!(matches!(reader.snapshot_at(5), Err(StateError::NoSuchSerial(5))));
}

fn replace_all_refuses_a_foreign_lineage_unless_forced(store: &dyn Store) {
    let b = store.client();
    let g = lock(b.as_ref(), &[Partition::Root, tenant("acme")], "apply");
    put(b.as_ref(), g.as_ref(), vec![Change::Put(res("random_id.x", 1))]);
    let stored = load(b.as_ref()).lineage;

    let mut foreign = StateSnapshot { lineage: "some-other-stack".into(), ..StateSnapshot::default() };
    foreign.resources.insert(addr("tenant.acme.x.a"), res("tenant.acme.x.a", 7));
    match b.replace_all(g.as_ref(), "state push", &foreign, false) {
        Err(StateError::LineageMismatch { stored: s, given }) => {
            assert_eq!(s, stored);
            assert_eq!(given, "some-other-stack");
        }
        other => panic!("expected LineageMismatch, got {other:?}"),
    }
    let unchanged = load(b.as_ref());
    assert_eq!(unchanged.serial, 1);
    assert_eq!(unchanged.resources.len(), 1);

    let serial = b.replace_all(g.as_ref(), "state push -force", &foreign, true).expect("forced push");
    assert_eq!(serial, 2);
    let after = load(store.client().as_ref());
    assert_eq!(after.serial, 2);
    assert_eq!(after.resources, foreign.resources);
    assert_eq!(after.lineage, "some-other-stack", "a forced push adopts the pushed lineage");
    let h = b.history(1).unwrap();
    assert_eq!(h[0].operation, "state push -force");
    assert_eq!(h[0].changes, 2, "one removal and one put");
}

fn replace_all_writes_the_difference_as_one_serial(store: &dyn Store) {
    let b = store.client();
    let g = lock(b.as_ref(), &[Partition::Root, tenant("acme"), tenant("globex")], "apply");
    put(
        b.as_ref(),
        g.as_ref(),
        vec![
            Change::Put(res("tenant.acme.x.a", 1)),
            Change::Put(res("tenant.acme.x.b", 1)),
            Change::Put(res("tenant.globex.x.a", 1)),
            Change::PutOutput(output("", "region", Value::string("eu"), false)),
        ],
    );
    put(
        b.as_ref(),
        g.as_ref(),
        vec![
            Change::Put(res("tenant.acme.x.a", 2)),
            Change::Remove(addr("tenant.acme.x.b")),
            Change::Put(res("random_id.new", 1)),
        ],
    );
    // Roll back to serial 1.
    let target = b.snapshot_at(1).unwrap();
    let serial = b.replace_all(g.as_ref(), "state rollback", &target, false).expect("rollback");
    assert_eq!(serial, 3);
    let now = load(b.as_ref());
    assert_eq!(now.resources, target.resources);
    assert_eq!(now.outputs, target.outputs);
    let h = &b.history(1).unwrap()[0];
    assert_eq!(h.operation, "state rollback");
    assert_eq!(h.changes, 3, "a back to v1, b restored, new removed; globex untouched");
    assert_eq!(h.partitions, vec![Partition::Root, tenant("acme")]);
    assert_eq!(now.partition_serials[&tenant("globex")], 1, "an untouched partition keeps its serial");
    assert_eq!(b.snapshot_at(2).unwrap().resources.len(), 3, "history before the rollback is kept");
    // Pushing the same state again changes nothing and writes no serial.
    assert_eq!(b.replace_all(g.as_ref(), "state push", &now, false).unwrap(), 3);
    assert_eq!(load(b.as_ref()).serial, 3);
}

fn replace_all_on_an_empty_store_adopts_the_lineage(store: &dyn Store) {
    let b = store.client();
    let g = lock(b.as_ref(), &[Partition::Root], "state push");
    let mut pushed = StateSnapshot { lineage: "migrated-lineage".into(), serial: 41, ..StateSnapshot::default() };
    pushed.resources.insert(addr("random_id.x"), res("random_id.x", 1));
    assert_eq!(b.replace_all(g.as_ref(), "state push", &pushed, false).unwrap(), 1);
    let other = store.client();
    let s = load(other.as_ref());
    assert_eq!(s.lineage, "migrated-lineage");
    assert_eq!(s.serial, 1, "the pushed serial is not copied; the store numbers its own writes");
    assert_eq!(s.resources, pushed.resources);
    // From now on the lineage is checked.
    let g2 = lock(other.as_ref(), &[tenant("acme")], "state push");
    let foreign = StateSnapshot { lineage: "x".into(), ..StateSnapshot::default() };
    assert!(matches!(
        other.replace_all(g2.as_ref(), "state push", &foreign, false),
        Err(StateError::LineageMismatch { .. })
    ));
}

fn replace_all_needs_locks_on_touched_partitions(store: &dyn Store) {
    let b = store.client();
    let all = lock(b.as_ref(), &[Partition::Root, tenant("acme")], "apply");
    put(b.as_ref(), all.as_ref(), vec![Change::Put(res("tenant.acme.x.a", 1)), Change::Put(res("random_id.x", 1))]);
    drop(all);
    let lineage = load(b.as_ref()).lineage;
    let g = lock(b.as_ref(), &[tenant("acme")], "state push");
    // Dropping the root resource touches the root partition, which is not held.
    let mut want = StateSnapshot { lineage: lineage.clone(), ..StateSnapshot::default() };
    want.resources.insert(addr("tenant.acme.x.a"), res("tenant.acme.x.a", 2));
    match b.replace_all(g.as_ref(), "state push", &want, false) {
        Err(StateError::PartitionNotLocked { partition, .. }) => {
            assert_eq!(partition, Partition::Root)
        }
        other => panic!("expected PartitionNotLocked, got {other:?}"),
    }
    assert_eq!(load(b.as_ref()).serial, 1, "nothing written");
    // Keeping the root resource as it is needs no root lock.
    want.resources.insert(addr("random_id.x"), res("random_id.x", 1));
    assert_eq!(b.replace_all(g.as_ref(), "state push", &want, false).unwrap(), 2);
    // A stale guard is refused.
    let id = g.info().id.clone();
    b.force_unlock(&id).unwrap();
    assert!(matches!(b.replace_all(g.as_ref(), "state push", &want, false), Err(StateError::NotLocked(_))));
}

fn outputs_round_trip(store: &dyn Store) {
    let b = store.client();
    let g = lock(b.as_ref(), &[Partition::Root, tenant("acme")], "apply");
    let outs = [
        output("", "region", Value::string("eu-west"), false),
        output("tenant.acme", "url", Value::string("https://acme.example"), false),
        output("tenant.acme", "db_password", Value::string("hunter2"), true),
        output(
            "tenant.acme.module.db[0]",
            "conn",
            Value::map([("host", Value::string("h")), ("port", Value::number(5432))]),
            false,
        ),
        output(
            "module.net[\"eu\"]",
            "ids",
            Value::List(vec![Value::number(1), Value::string("x").mark_sensitive()]),
            false,
        ),
    ];
    put(b.as_ref(), g.as_ref(), outs.iter().cloned().map(Change::PutOutput).collect());
    let s = load(store.client().as_ref());
    assert_eq!(s.outputs.values().cloned().collect::<Vec<_>>().len(), outs.len());
    for o in &outs {
        assert_eq!(s.outputs.get(&(o.module.clone(), o.name.clone())), Some(o), "output {}", o.name);
    }
    assert!(s.outputs[&(module("tenant.acme"), "db_password".into())].value.is_sensitive());
    assert_eq!(s.partition_serials, [(Partition::Root, 1), (tenant("acme"), 1)].into());
    put(
        b.as_ref(),
        g.as_ref(),
        vec![
            Change::RemoveOutput { module: module("tenant.acme"), name: "url".into() },
            Change::PutOutput(output("", "region", Value::string("us-east"), false)),
        ],
    );
    let s = load(b.as_ref());
    assert_eq!(s.outputs.len(), outs.len() - 1);
    assert_eq!(s.outputs[&(ModuleAddr::root(), "region".into())].value, Value::string("us-east"));
}

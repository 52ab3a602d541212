//! Failed and interrupted creates: state afterwards matches the cloud, and the next apply
//! finishes the job without duplicates (issue 10, defects 1–3).

use tenantform_engine::plan::{Action, DeferReason};
use tenantform_engine::state::InstanceStatus;
use tenantform_engine::testing::{Fault, FaultKind, Op};

use crate::harness::{addr, Harness};

const TWO: &str = r#"
resource "test_thing" "a" {
  name  = "a"
  value = "one"
}

resource "test_thing" "b" {
  name  = "b"
  value = test_thing.a.id
}
"#;

#[test]
fn a_lost_create_answer_is_adopted_not_created_twice() {
    let h = Harness::new(TWO);
    h.cloud.inject(Fault::new(Op::Create, FaultKind::LostAnswer).on("a"));
    let (rep, _) = h.apply();
    assert!(rep.outcome.succeeded(), "{:?}", rep.outcome.diags);
    assert_eq!(h.cloud.named("a").len(), 1, "the retry found what the lost create made");
    assert_eq!(h.cloud.calls(Op::Create), 2, "a and b: no second create of a");
    h.assert_converged();
}

#[test]
fn an_intent_left_by_a_lost_answer_is_recovered_by_the_next_plan() {
    let h = Harness::new(TWO);
    // The answer is lost and the look-up fails too: the create cannot tell what it made.
    h.cloud.inject(Fault::new(Op::Create, FaultKind::LostAnswer).on("a"));
    h.cloud.inject(Fault::new(Op::Read, FaultKind::Permanent).on("a"));
    let (rep, _) = h.apply();
    assert!(!rep.outcome.succeeded());
    assert_eq!(h.status("test_thing.a"), Some(InstanceStatus::Creating), "the intent stays");
    assert!(h.record("test_thing.a").unwrap().detail.unwrap().create_token.is_some());
    assert_eq!(h.cloud.named("a").len(), 1);
    // The next plan finds the object through the create token and adopts it.
    let plan = h.plan().expect("the plan does not fail");
    let a = plan.changes.iter().find(|c| c.addr == addr("test_thing.a")).unwrap();
    assert_ne!(a.action, Action::Create, "adopted, not created again: {a:?}");
    let (rep, _) = h.apply();
    assert!(rep.outcome.succeeded(), "{:?}", rep.outcome.diags);
    assert_eq!(h.cloud.named("a").len(), 1);
    assert_eq!(h.status("test_thing.a"), Some(InstanceStatus::Ready));
    h.assert_converged();
}

#[test]
fn an_interrupted_create_that_made_nothing_is_created_again() {
    let h = Harness::new(TWO);
    h.cloud.inject(Fault::new(Op::Create, FaultKind::Transient).on("a").times(3));
    let (rep, _) = h.apply();
    assert!(!rep.outcome.succeeded());
    assert!(h.cloud.named("a").is_empty());
    assert_eq!(h.status("test_thing.a"), Some(InstanceStatus::Creating));
    let plan = h.plan().unwrap();
    let a = plan.changes.iter().find(|c| c.addr == addr("test_thing.a")).unwrap();
    assert_eq!(a.action, Action::Create);
    let (rep, _) = h.apply();
    assert!(rep.outcome.succeeded(), "{:?}", rep.outcome.diags);
    h.assert_converged();
}

#[test]
fn an_interrupted_create_nobody_can_look_up_is_unresolved_and_the_rest_plans() {
    let h = Harness::new(
        r#"
resource "test_opaque" "x" {
  name = "x"
}

resource "test_thing" "other" {
  name = "other"
}
"#,
    );
    h.cloud.inject(Fault::new(Op::Create, FaultKind::LostAnswer).on("x"));
    let (rep, _) = h.apply();
    assert!(!rep.outcome.succeeded());
    assert_eq!(h.cloud.named("x").len(), 1, "made once: an opaque create is never retried blindly");
    assert_eq!(h.status("test_opaque.x"), Some(InstanceStatus::Creating));
    // Before: "refresh failed: attribute `id` is required" failed the whole plan.
    h.write(
        r#"
resource "test_opaque" "x" {
  name = "x"
}

resource "test_thing" "other" {
  name  = "other"
  value = "changed"
}
"#,
    );
    let plan = h.plan().expect("an unresolved create does not fail the plan");
    let d = plan.deferred.iter().find(|d| d.addr == addr("test_opaque.x")).expect("x is deferred");
    assert!(matches!(d.reason, DeferReason::Unresolved { .. }), "{d:?}");
    assert!(!plan.changes.iter().any(|c| c.addr == addr("test_opaque.x") && c.action == Action::Create));
    let other = plan.changes.iter().find(|c| c.addr == addr("test_thing.other")).unwrap();
    assert_eq!(other.action, Action::Update);
    // Applying goes on for the rest and keeps the intent.
    let (rep, _) = h.apply();
    assert!(rep.outcome.succeeded(), "{:?}", rep.outcome.diags);
    assert_eq!(h.status("test_opaque.x"), Some(InstanceStatus::Creating));
    assert_eq!(h.cloud.named("x").len(), 1);
}

#[test]
fn a_create_that_fails_after_the_object_exists_leaves_it_tainted() {
    let h = Harness::new(TWO);
    h.cloud.inject(Fault::new(Op::Create, FaultKind::FailAfterCreate).on("a"));
    let (rep, _) = h.apply();
    assert!(!rep.outcome.succeeded());
    assert_eq!(h.cloud.named("a").len(), 1);
    let rec = h.record("test_thing.a").expect("the object is not forgotten");
    assert_eq!(rec.status, InstanceStatus::Tainted);
    assert!(rec.detail.unwrap().reason.unwrap().contains("failed state"));
    assert_eq!(h.state_ids(), h.cloud_ids(), "state knows every object");
    // The next plan replaces it; the apply converges with one object.
    let plan = h.plan().unwrap();
    let a = plan.changes.iter().find(|c| c.addr == addr("test_thing.a")).unwrap();
    assert!(a.action.is_replace(), "{a:?}");
    let (rep, _) = h.apply();
    assert!(rep.outcome.succeeded(), "{:?}", rep.outcome.diags);
    assert_eq!(h.cloud.named("a").len(), 1);
    h.assert_converged();
}

#[test]
fn destroy_removes_a_tainted_object() {
    let h = Harness::new(TWO);
    h.cloud.inject(Fault::new(Op::Create, FaultKind::FailAfterCreate).on("a"));
    h.apply();
    assert_eq!(h.cloud.named("a").len(), 1);
    let (rep, _) = h.destroy();
    assert!(rep.outcome.succeeded(), "{:?}", rep.outcome.diags);
    assert!(h.cloud.objects().is_empty());
    assert!(h.state().resources.is_empty());
}

const CBD: &str = r#"
resource "test_thing" "a" {
  name        = "a"
  replace_key = "KEY"
  lifecycle {
    create_before_destroy = true
  }
}
"#;

#[test]
fn create_before_destroy_keeps_the_old_object_while_its_replacement_keeps_failing() {
    let h = Harness::new(&CBD.replace("KEY", "1"));
    assert!(h.apply().0.outcome.succeeded());
    let old = h.cloud_ids();
    h.write(&CBD.replace("KEY", "2"));
    for fault in [FaultKind::Permanent, FaultKind::Transient, FaultKind::Permanent] {
        h.cloud.inject(Fault::new(Op::Create, fault).on("a").times(3));
        let (rep, _) = h.apply();
        assert!(!rep.outcome.succeeded());
        h.cloud.clear_faults();
        for id in &old {
            assert!(h.cloud.objects().contains_key(id), "after a failed replacement ({fault:?}) the old object stays");
        }
        assert!(h.state_ids().contains(&old[0]), "and stays in state");
    }
    let (rep, _) = h.apply();
    assert!(rep.outcome.succeeded(), "{:?}", rep.outcome.diags);
    assert!(!h.cloud.objects().contains_key(&old[0]), "replaced at last: the old object is gone");
    assert_eq!(h.cloud.named("a").len(), 1);
    h.assert_converged();
}

#[test]
fn create_before_destroy_whose_replacement_fails_after_it_exists() {
    let h = Harness::new(&CBD.replace("KEY", "1"));
    assert!(h.apply().0.outcome.succeeded());
    let old = h.cloud_ids()[0].clone();
    h.write(&CBD.replace("KEY", "2"));
    h.cloud.inject(Fault::new(Op::Create, FaultKind::FailAfterCreate).on("a"));
    let (rep, _) = h.apply();
    assert!(!rep.outcome.succeeded());
    assert_eq!(h.cloud.named("a").len(), 2, "old and the failed replacement");
    assert_eq!(h.state_ids(), h.cloud_ids(), "both are in state");
    let current = h.record("test_thing.a").unwrap();
    assert_eq!(current.value.get("id").and_then(|v| v.as_str()), Some(old.as_str()), "the old object stays current");
    let (rep, _) = h.apply();
    assert!(rep.outcome.succeeded(), "{:?}", rep.outcome.diags);
    assert_eq!(h.cloud.named("a").len(), 1);
    assert!(!h.cloud.objects().contains_key(&old));
    h.assert_converged();
}

//! A tenant's apply reads shared (root) values: it re-checks them under its lock
//! (issue 10, defect 6).

use std::sync::Arc;

use tenantform_engine::apply::ApplyOptions;
use tenantform_engine::plan::PlanMode;
use tenantform_engine::state::{Change, LockInfo, Partition};

use crate::harness::{addr, fast_retry, Harness, Recorder};

const ROOT: &str = r#"
resource "test_thing" "shared" {
  name  = "shared"
  value = "v1"
}

tenant_stack {
  source = "./tenant"
  inputs = {
    shared = test_thing.shared.value
  }
}

output "tenant_things" {
  value = { for slug, t in tenants : slug => t.thing }
}
"#;

const TENANT: &str = r#"
variable "shared" {
  type = string
}

resource "test_thing" "t" {
  name  = "t-${tenant.slug}"
  value = var.shared
}

output "thing" {
  value = test_thing.t.id
}
"#;

fn stack() -> Harness {
    let h = Harness::new(ROOT);
    h.write_file("tenant/main.tf", TENANT);
    h.write_file("tenants/acme.tf", "tenant \"acme\" {}\n");
    h.write_file("tenants/globex.tf", "tenant \"globex\" {}\n");
    h
}

#[test]
fn a_tenant_apply_replans_when_the_shared_values_it_read_changed() {
    let h = stack();
    assert!(h.apply().0.outcome.succeeded());
    // Another operation changes the shared value between this apply's plan and its lock.
    let backend = h.backend.clone();
    let rec = Arc::new(Recorder::default());
    *rec.on_approve.lock().unwrap() = Some(Box::new(move || {
        let guard =
            backend.lock(&[Partition::Root], &LockInfo::for_current_process("apply"), Default::default()).unwrap();
        let snap = backend.load(&tenantform_engine::state::PartitionFilter::All).unwrap();
        let mut rec = snap.resources.get(&addr("test_thing.shared")).unwrap().clone();
        if let tenantform_engine::value::Value::Map(m) = &mut rec.value {
            m.insert("value".into(), tenantform_engine::value::Value::string("v2"));
        }
        backend.commit(guard.as_ref(), "apply", &[Change::Put(rec)]).unwrap();
        backend.unlock(guard).unwrap();
    }));
    h.write(&ROOT.replace("v1", "v2"));
    h.cloud.edit("shared", "value", tenantform_engine::value::Value::string("v2"));
    let mut options = h.options(PlanMode::Normal);
    options.tenants = vec!["acme".into()];
    h.write_file("tenant/main.tf", &TENANT.replace("value = var.shared", "value = \"${var.shared}-x\""));
    let (rep, rec) = h.apply_recorded(options, ApplyOptions { retry: fast_retry(), ..Default::default() }, rec);
    assert!(rep.outcome.succeeded(), "{:?}", rep.outcome.diags);
    let replans = rec.replans.lock().unwrap();
    assert!(replans.iter().any(|p| p.contains(&Partition::Root)), "the root partition moved on: {replans:?}");
    let t = h.record("tenant.acme.test_thing.t").unwrap();
    assert_eq!(t.value.get("value").and_then(|v| v.as_str()), Some("v2-x"), "applied with the current shared value");
}

#[test]
fn a_tenant_whose_object_is_tainted_shows_as_failed_with_the_reason() {
    use tenantform_engine::ops::{tenant_statuses, TenantState};
    use tenantform_engine::testing::{Fault, FaultKind, Op};
    let h = stack();
    h.cloud.inject(Fault::new(Op::Create, FaultKind::FailAfterCreate).on("t-globex"));
    let (rep, _) = h.apply();
    assert!(!rep.outcome.succeeded());
    let stack = h.stack();
    let statuses = tenant_statuses(&stack.prepared, &h.state(), &[]);
    let acme = statuses.iter().find(|s| s.slug == "acme").unwrap();
    assert_eq!(acme.status, TenantState::Active);
    let globex = statuses.iter().find(|s| s.slug == "globex").unwrap();
    assert_eq!(globex.status, TenantState::Failed, "{globex:?}");
    let why = globex.reasons.get("tenant.globex.test_thing.t").expect("the failed address has a reason");
    assert!(why.contains("failed state"), "{why}");
    // Fixed by the next apply: the tainted object is replaced, the tenant is active.
    assert!(h.apply().0.outcome.succeeded());
    let statuses = tenant_statuses(&h.stack().prepared, &h.state(), &[]);
    assert!(statuses.iter().all(|s| s.status == TenantState::Active), "{statuses:?}");
    h.assert_converged();
}

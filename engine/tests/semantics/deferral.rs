//! Provider configuration and expansion known only after apply: deferred, and applied in a
//! further round of the same apply (issue 10, defect 8).

use tenantform_engine::plan::DeferReason;

use crate::harness::{addr, Harness};

const INNER_PROVIDER: &str = r#"
resource "test_thing" "server" {
  name = "server"
}

provider "test" {
  alias  = "inner"
  region = test_thing.server.id
}

resource "test_thing" "db" {
  provider = test.inner
  name     = "db"
}

resource "test_thing" "app" {
  name  = "app"
  value = test_thing.db.id
}
"#;

#[test]
fn resources_of_a_provider_configured_from_a_new_resource_are_deferred() {
    let h = Harness::new(INNER_PROVIDER);
    let plan = h.plan().expect("no \"not known yet\" error");
    assert!(plan.changes.iter().any(|c| c.addr == addr("test_thing.server")));
    let db = plan.deferred.iter().find(|d| d.addr == addr("test_thing.db")).expect("db deferred");
    assert!(matches!(&db.reason, DeferReason::ProviderConfig { provider } if provider.contains("inner")), "{db:?}");
    let app = plan.deferred.iter().find(|d| d.addr == addr("test_thing.app")).expect("app deferred too");
    assert!(matches!(app.reason, DeferReason::Dependency { .. }), "{app:?}");
    assert!(plan.has_resolvable_deferrals());
}

#[test]
fn one_apply_provisions_through_the_deferred_rounds() {
    let h = Harness::new(INNER_PROVIDER);
    let (rep, rec) = h.apply();
    assert!(rep.outcome.succeeded(), "{:?}", rep.outcome.diags);
    assert_eq!(rep.rounds, 2, "server first, then what its provider serves");
    assert!(rep.deferred.is_empty());
    assert_eq!(rec.plans.lock().unwrap().len(), 2);
    assert_eq!(h.cloud.objects().len(), 3);
    h.assert_converged();
}

//! Order of destroys and replacements (issue 10, defect 4), and sets with unknown elements
//! (defect 5).

use tenantform_engine::testing::Op;

use crate::harness::Harness;

const CHAIN: &str = r#"
resource "test_thing" "a" {
  name        = "a"
  replace_key = "KEY"
}

resource "test_thing" "b" {
  name        = "b"
  replace_key = "${test_thing.a.replace_key}-b"
  value       = test_thing.a.id
}

resource "test_thing" "c" {
  name  = "c"
  value = test_thing.b.id
}
"#;

fn position(log: &[(Op, String)], op: Op, name: &str) -> usize {
    log.iter().position(|(o, n)| *o == op && n == name).unwrap_or_else(|| panic!("no {op:?} of {name} in {log:?}"))
}

#[test]
fn replacing_a_and_its_dependent_b_destroys_b_first() {
    let h = Harness::new(&CHAIN.replace("KEY", "1"));
    assert!(h.apply().0.outcome.succeeded());
    let before = h.cloud.log().len();
    h.write(&CHAIN.replace("KEY", "2"));
    let (rep, _) = h.apply();
    assert!(rep.outcome.succeeded(), "{:?}", rep.outcome.diags);
    let log: Vec<(Op, String)> = h.cloud.log()[before..].iter().filter(|(o, _)| *o != Op::Read).cloned().collect();
    // Dependents first, as Terraform: B's old object goes before A's, and each is re-created
    // after its own destroy; C (which reads b.id) is updated after b exists.
    assert!(position(&log, Op::Delete, "b") < position(&log, Op::Delete, "a"), "{log:?}");
    assert!(position(&log, Op::Delete, "a") < position(&log, Op::Create, "a"), "{log:?}");
    assert!(position(&log, Op::Create, "a") < position(&log, Op::Create, "b"), "{log:?}");
    assert!(position(&log, Op::Create, "b") < position(&log, Op::Update, "c"), "{log:?}");
    h.assert_converged();
}

#[test]
fn destroy_goes_dependents_first() {
    let h = Harness::new(&CHAIN.replace("KEY", "1"));
    assert!(h.apply().0.outcome.succeeded());
    let before = h.cloud.log().len();
    let (rep, _) = h.destroy();
    assert!(rep.outcome.succeeded(), "{:?}", rep.outcome.diags);
    let log: Vec<(Op, String)> = h.cloud.log()[before..].iter().filter(|(o, _)| *o == Op::Delete).cloned().collect();
    let names: Vec<&str> = log.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["c", "b", "a"]);
    assert!(h.cloud.objects().is_empty());
}

#[test]
fn a_list_of_unknown_ids_converted_to_a_set_keeps_them_apart() {
    set_of_unknowns("[test_thing.a.id, test_thing.b.id]");
}

#[test]
fn a_set_of_unknown_elements_keeps_them_apart() {
    set_of_unknowns("toset([test_thing.a.id, test_thing.b.id])");
}

fn set_of_unknowns(expr: &str) {
    let h = Harness::new(
        &r#"
resource "test_thing" "a" {
  name = "a"
}

resource "test_thing" "b" {
  name = "b"
}

resource "test_thing" "c" {
  name  = "c"
  items = EXPR
}
"#
        .replace("EXPR", expr),
    );
    let plan = h.plan().unwrap();
    let c = plan.changes.iter().find(|c| c.addr.to_string() == "test_thing.c").unwrap();
    let items = c.after.as_ref().and_then(|v| v.get("items")).cloned().unwrap_or_default();
    match &items {
        tenantform_engine::value::Value::Unknown => {}
        tenantform_engine::value::Value::Set(v) => {
            assert_eq!(v.len(), 2, "two unknown elements are not one: {items:?}")
        }
        other => panic!("items planned as {other:?}"),
    }
    let (rep, _) = h.apply();
    assert!(rep.outcome.succeeded(), "no inconsistent plan: {:?}", rep.outcome.diags);
    let rec = h.record("test_thing.c").unwrap();
    assert_eq!(rec.value.get("items").and_then(|v| v.as_list()).map(<[_]>::len), Some(2));
    h.assert_converged();
}

//! Saved plans, staleness, targeting, prevent_destroy, lifecycle options, JSON.

use crate::support::Stack;

const SLEEPY: &str = r#"
variable "delay" {
  type    = string
  default = "1ms"
}

tenant_stack {
  source = "./tenant"
  inputs = { delay = var.delay }
}

tenant "acme" {}
tenant "globex" {}

resource "random_id" "shared" {
  byte_length = 4
}
"#;

const SLEEPY_TENANT: &str = r#"
variable "delay" {
  type = string
}

variable "size" {
  type    = number
  default = 8
}

resource "time_sleep" "wait" {
  create_duration = var.delay
}

resource "random_id" "key" {
  byte_length = var.size
  keepers     = { after = time_sleep.wait.id }
}

resource "random_pet" "name" {
  prefix = random_id.key.hex
}

output "name" {
  value = random_pet.name.id
}
"#;

fn sleepy() -> Stack {
    Stack::with_files(&[("main.hcl", SLEEPY), ("tenant/main.hcl", SLEEPY_TENANT)])
}

#[test]
fn saved_plan_is_applied_exactly_and_a_stale_one_is_refused() {
    let stack = sleepy();
    let r = stack.run(&["plan", "-out", "first.plan"]).ok();
    assert!(r.stdout.contains("Saved the plan to: first.plan"), "{}", r.stdout);
    let mode = std::fs::metadata(stack.path().join("first.plan")).unwrap();
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777, 0o600, "plan files hold secrets");
    // The configuration changes after planning: the saved plan still applies what it says.
    stack.write("tenants/extra.hcl", "tenant \"initech\" {}\n");
    let r = stack.run(&["apply", "first.plan"]).ok();
    assert!(r.stdout.contains("Resources: 7 added"), "{}", r.stdout);
    assert!(!stack.state_addresses().iter().any(|a| a.contains("initech")), "only what the plan said");

    // A plan made, then the state moves on (another apply), then the old plan is refused.
    stack.write("tenant/main.hcl", &SLEEPY_TENANT.replace("default = 8", "default = 9"));
    stack.run(&["plan", "-out", "second.plan"]).ok();
    stack.run(&["apply", "-auto-approve", "--tenant", "acme"]).ok();
    let r = stack.run(&["apply", "second.plan"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("stale"), "{}", r.stderr);
    // show -json of a saved plan.
    let r = stack.run(&["show", "-json", "second.plan"]).ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["resource_changes"].as_array().unwrap().iter().any(|c| c["address"] == "tenant.globex.random_id.key"));
}

#[test]
fn target_and_tenant_restrict_to_those_instances_and_their_dependencies() {
    let stack = sleepy();
    let r = stack.run(&["plan", "-target", "tenant.acme.random_id.key"]).ok();
    assert!(r.stdout.contains("Plan: 2 to add"), "target + its dependency (time_sleep): {}", r.stdout);
    assert!(r.stdout.contains("tenant.acme.time_sleep.wait will be created"));
    assert!(!r.stdout.contains("random_pet"), "{}", r.stdout);
    let r = stack.run(&["apply", "-auto-approve", "--tenant", "globex"]).ok();
    assert!(r.stdout.contains("Resources: 3 added"), "{}", r.stdout);
    let addrs = stack.state_addresses();
    assert!(addrs.iter().all(|a| a.starts_with("tenant.globex.")), "{addrs:?}");
    let r = stack.run(&["plan", "--tenant", "globex", "-detailed-exitcode"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = stack.run(&["plan", "-target", "nope["]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("invalid address"), "{}", r.stderr);
}

#[test]
fn replace_flag_and_json_plan() {
    let stack = sleepy();
    stack.run(&["apply", "-auto-approve"]).ok();
    let r = stack.run(&["plan", "-replace", "tenant.acme.random_pet.name", "-json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let changes = v["resource_changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["change"]["actions"], serde_json::json!(["delete", "create"]));
    assert_eq!(changes[0]["action_reason"], "requested with -replace");
    assert_eq!(v["summary"]["add"], 1);
    assert_eq!(v["summary"]["destroy"], 1);
}

#[test]
fn prevent_destroy_fails_the_plan_and_changes_nothing() {
    let stack = Stack::with_files(&[(
        "main.hcl",
        r#"
resource "random_id" "db" {
  byte_length = 4
  lifecycle {
    prevent_destroy = true
  }
}
"#,
    )]);
    stack.run(&["apply", "-auto-approve"]).ok();
    let before = stack.state_json();
    stack.write("main.hcl", &stack.read("main.hcl").replace("byte_length = 4", "byte_length = 5"));
    let r = stack.run(&["apply", "-auto-approve"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("Instance cannot be destroyed: random_id.db"), "{}", r.stderr);
    assert!(r.stderr.contains("prevent_destroy"), "{}", r.stderr);
    let r = stack.run(&["destroy", "-auto-approve"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(stack.state_json()["resources"], before["resources"], "state untouched");
}

#[test]
fn ignore_changes_and_create_before_destroy() {
    let stack = Stack::with_files(&[(
        "main.hcl",
        r#"
variable "prefix" {
  type    = string
  default = "a"
}

resource "random_pet" "ignored" {
  prefix = var.prefix
  lifecycle {
    ignore_changes = [prefix]
  }
}

resource "random_pet" "cbd" {
  prefix = var.prefix
  lifecycle {
    create_before_destroy = true
  }
}
"#,
    )]);
    stack.run(&["apply", "-auto-approve"]).ok();
    let r = stack.run(&["plan", "-var", "prefix=b"]).ok();
    assert!(!r.stdout.contains("random_pet.ignored"), "ignored: {}", r.stdout);
    assert!(r.stdout.contains("+/- resource \"random_pet\" \"cbd\""), "{}", r.stdout);
    let old =
        stack.state_json()["resources"].as_array().unwrap().iter().find(|r| r["address"] == "random_pet.cbd").unwrap()
            ["values"]["id"]
            .clone();
    let r = stack.run(&["apply", "-auto-approve", "-var", "prefix=b"]).ok();
    assert!(r.stdout.contains("Resources: 1 added, 0 changed, 1 destroyed."), "{}", r.stdout);
    let created = r.stdout.find("random_pet.cbd: Creation complete").unwrap();
    let destroyed = r.stdout.find("Destruction complete").unwrap();
    assert!(created < destroyed, "create before destroy: {}", r.stdout);
    let addrs = stack.state_addresses();
    assert_eq!(addrs.len(), 2, "the deposed object is gone: {addrs:?}");
    let new =
        stack.state_json()["resources"].as_array().unwrap().iter().find(|r| r["address"] == "random_pet.cbd").unwrap()
            ["values"]["id"]
            .clone();
    assert_ne!(old, new);
    assert!(new.as_str().unwrap().starts_with("b-"));
}

#[test]
fn apply_without_a_terminal_refuses_unless_auto_approved() {
    let stack = sleepy();
    let r = stack.run(&["apply"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("-auto-approve"), "{}", r.stderr);
    assert!(stack.state_addresses().is_empty());
}

#[test]
fn replace_triggered_by_replaces_when_the_trigger_changes() {
    let stack = Stack::with_files(&[(
        "main.hcl",
        r#"
variable "gen" {
  type    = number
  default = 1
}

resource "random_id" "config" {
  byte_length = 4
  keepers     = { gen = var.gen }
}

resource "random_pet" "server" {
  lifecycle {
    replace_triggered_by = [random_id.config]
  }
}
"#,
    )]);
    stack.run(&["apply", "-auto-approve"]).ok();
    let r = stack.run(&["plan", "-var", "gen=2"]).ok();
    assert!(r.stdout.contains("# random_pet.server must be replaced"), "{}", r.stdout);
    assert!(r.stdout.contains("replace_triggered_by: random_id.config changes"), "{}", r.stdout);
    assert!(r.stdout.contains("Plan: 2 to add, 0 to change, 2 to destroy."), "{}", r.stdout);
    let r = stack.run(&["plan"]).ok();
    assert!(r.stdout.contains("No changes."), "{}", r.stdout);
}

#[test]
fn drift_in_another_tenant_does_not_break_an_apply_that_does_not_lock_it() {
    let stack = Stack::with_files(&[
        ("main.hcl", "tenant_stack {\n  source = \"./tenant\"\n}\n\ntenant \"acme\" {}\ntenant \"globex\" {}\n"),
        (
            "tenant/main.hcl",
            r#"
variable "gen" {
  default = 1
}

resource "local_secret" "token" {
  name  = "${tenant.slug}-token"
  value = "v${var.gen}"
  lifecycle {
    ignore_changes = [value]
  }
}

resource "random_pet" "name" {
  keepers = { gen = var.gen }
}
"#,
        ),
    ]);
    stack.run(&["apply", "-auto-approve"]).ok();
    // globex's secret drifts (hidden from the diff by ignore_changes); only acme changes.
    std::fs::write(stack.path().join(".tenantform/local/secrets/globex-token"), "edited").unwrap();
    let r = stack.run(&["apply", "-auto-approve", "-replace", "tenant.acme.random_pet.name"]).ok();
    assert!(r.stdout.contains("Apply complete! Resources: 1 added, 0 changed, 1 destroyed."), "{}", r.stdout);
    // The drift was not written into globex's partition, which this apply did not lock.
    let globex = stack.state_json()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == "tenant.globex.local_secret.token")
        .unwrap()
        .clone();
    assert_ne!(globex["values"]["version"], serde_json::Value::Null);
    let r = stack.run(&["drift"]);
    assert_eq!(r.code, 2, "still drifted until a refresh-only apply records it: {}", r.all());
}

#[test]
fn usage_errors_exit_1_not_2() {
    let stack = sleepy();
    let r = stack.run(&["plan", "--no-such-flag"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let r = stack.run(&["plan", "-var", "delay"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("NAME=VALUE"), "{}", r.stderr);
}

#[test]
fn a_missing_root_variable_is_named_not_blamed_on_a_count() {
    let stack = Stack::with_files(&[(
        "main.tf",
        r#"
variable "replicas" {
  type = number
}

variable "prefix" {
  type = string
}

resource "random_pet" "p" {
  count  = var.replicas
  prefix = var.prefix
}
"#,
    )]);
    let r = stack.run(&["plan"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("No value for required variable \"replicas\""), "{}", r.stderr);
    assert!(r.stderr.contains("No value for required variable \"prefix\""), "every missing variable at once");
    assert!(!r.stderr.contains("invalid-count"), "{}", r.stderr);
    let r = stack.run(&["plan", "-var", "replicas=2", "-var", "prefix=web"]).ok();
    assert!(r.stdout.contains("Plan: 2 to add"), "{}", r.stdout);
}

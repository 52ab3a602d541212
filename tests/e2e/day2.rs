//! Day-2 operations: adopting existing tenants (CLI import, import blocks with generated
//! configuration), state surgery (mv, rm, pull/push, history, rollback), drift and tenant status.

use crate::support::Stack;

fn addrs_of(stack: &Stack, slug: &str) -> Vec<String> {
    stack.state_addresses().into_iter().filter(|a| a.starts_with(&format!("tenant.{slug}."))).collect()
}

#[test]
fn adopt_an_existing_tenant_with_cli_import_then_plan_is_a_no_op() {
    let stack = Stack::from_fixture("stacks/local_tenants");
    stack.run(&["apply", "-auto-approve"]).ok();
    // The objects exist, but tenantform forgets acme (as if a script had made it).
    stack.run(&["state", "rm", "tenant.acme"]).ok();
    assert!(addrs_of(&stack, "acme").is_empty());
    assert!(stack.get("acme.localhost").is_some(), "forgetting touches no infrastructure");
    let r = stack.run(&["plan"]).ok();
    assert!(r.stdout.contains("Plan: 5 to add"), "unmanaged objects look new: {}", r.stdout);
    // Adopt each object by its ID.
    let password = stack.read(".tenantform/local/secrets/acme-session");
    let db = stack.path().join(".tenantform/local/databases/acme.sqlite");
    for (addr, id) in [
        ("tenant.acme.local_sqlite_database.db", "acme".to_string()),
        ("tenant.acme.random_password.session", password.clone()),
        ("tenant.acme.local_secret.session", "acme-session".to_string()),
        ("tenant.acme.local_service.web", "acme-web".to_string()),
        ("tenant.acme.local_hostname.web", "acme.localhost".to_string()),
    ] {
        let r = stack.run(&["import", addr, &id]).ok();
        assert!(r.stdout.contains("Import successful!"), "{}", r.stdout);
        assert!(!r.all().contains(&password), "import output leaks the password");
    }
    assert!(db.exists());
    let r = stack.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(r.code, 0, "adopted tenant matches its configuration: {}", r.all());
}

#[test]
fn import_errors_leave_state_untouched() {
    let stack = Stack::from_fixture("stacks/local_tenants");
    stack.run(&["apply", "-auto-approve", "-target", "random_pet.cluster"]).ok();
    let before = stack.run(&["state", "pull"]).ok().stdout;
    let cases: &[(&[&str], &str)] = &[
        (&["import", "tenant.acme.local_secret.session", "no-such-secret"], "Cannot import non-existent remote object"),
        (
            &["import", "tenant.acme.local_secret.sesion", "acme-session"],
            "did you mean tenant.acme.local_secret.session?",
        ),
        (&["import", "tenant.acme.local_secret[", "x"], "invalid address"),
        (&["import", "random_pet.cluster", "x"], "already managed"),
    ];
    for (args, message) in cases {
        let r = stack.run(args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.all());
        assert!(r.all().contains(message), "{args:?} should say {message:?}: {}", r.all());
    }
    assert_eq!(stack.run(&["state", "pull"]).ok().stdout, before, "state untouched");
}

#[test]
fn import_blocks_with_generated_config_adopt_objects_in_a_reviewed_plan() {
    let stack = Stack::with_files(&[(
        "main.hcl",
        r#"
import {
  to = local_secret.legacy
  id = "legacy-api-key"
}

import {
  for_each = toset(["alpha", "beta"])
  to       = "local_secret.per_team[\"${each.key}\"]"
  id       = "team-${each.key}"
}

resource "local_secret" "per_team" {
  for_each = toset(["alpha", "beta"])
  name     = "team-${each.key}"
  value    = "token-${each.key}"
}
"#,
    )]);
    // Objects a script made before tenantform existed.
    let secrets = stack.path().join(".tenantform/local/secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    for (name, value) in
        [("legacy-api-key", "legacy-canary-value"), ("team-alpha", "token-alpha"), ("team-beta", "token-beta")]
    {
        std::fs::write(secrets.join(name), value).unwrap();
    }
    let r = stack.run(&["plan", "-generate-config-out=generated.hcl"]);
    assert!(r.stdout.contains("Generated configuration for 1 import target(s) in generated.hcl"), "{}", r.all());
    let generated = stack.read("generated.hcl");
    assert!(generated.contains("resource \"local_secret\" \"legacy\" {"), "{generated}");
    assert!(generated.contains("name  = \"legacy-api-key\""), "{generated}");
    assert!(generated.contains("value = var.local_secret_legacy_value"), "{generated}");
    assert!(!generated.contains("legacy-canary-value"), "secrets are not written into configuration");
    assert_eq!(stack.run(&["fmt", "-check", "generated.hcl"]).code, 0, "generated in canonical format");
    // With the secret supplied, the plan imports all three and changes nothing else.
    let var = "local_secret_legacy_value=legacy-canary-value";
    let r = stack.run(&["plan", "-var", var]).ok();
    assert!(r.stdout.contains("# local_secret.legacy will be imported"), "{}", r.stdout);
    assert!(r.stdout.contains("# local_secret.per_team[\"alpha\"] will be imported"), "{}", r.stdout);
    assert!(r.stdout.contains("Plan: 3 to import, 0 to add, 0 to change, 0 to destroy."), "{}", r.stdout);
    stack.run(&["apply", "-auto-approve", "-var", var]).ok();
    assert_eq!(stack.state_addresses().len(), 3);
    let r = stack.run(&["plan", "-detailed-exitcode", "-var", var]);
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn state_mv_renames_a_tenant_without_touching_infrastructure() {
    let stack = Stack::from_fixture("stacks/local_tenants");
    stack.run(&["apply", "-auto-approve"]).ok();
    let pid_before = stack.state_json()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == "tenant.acme.local_service.web")
        .unwrap()["values"]["pid"]
        .clone();
    let r = stack.run(&["state", "mv", "tenant.acme", "tenant.acme-corp"]).ok();
    assert!(r.stdout.contains("Successfully moved 5 object(s)"), "{}", r.stdout);
    assert!(addrs_of(&stack, "acme").is_empty());
    assert_eq!(addrs_of(&stack, "acme-corp").len(), 5);
    let pid_after = stack.state_json()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == "tenant.acme-corp.local_service.web")
        .unwrap()["values"]["pid"]
        .clone();
    assert_eq!(pid_before, pid_after, "the same process, only renamed in state");
    assert!(stack.get("acme.localhost").is_some(), "infrastructure untouched");
    // Moving onto an address in use, or from nothing, is refused.
    assert_eq!(stack.run(&["state", "mv", "tenant.acme-corp", "tenant.globex"]).code, 1);
    assert_eq!(stack.run(&["state", "mv", "tenant.nobody", "tenant.somebody"]).code, 1);
    // History records it, and rollback restores the earlier version as a new serial.
    let h = stack.run(&["state", "history"]).ok().stdout;
    assert!(h.contains("state mv"), "{h}");
    let serial_before_mv: u64 =
        h.lines().find(|l| l.contains("apply")).unwrap().split_whitespace().next().unwrap().parse().unwrap();
    let r = stack.run(&["state", "rollback", &serial_before_mv.to_string(), "-auto-approve"]).ok();
    assert!(r.stdout.contains(&format!("Restored serial {serial_before_mv}")), "{}", r.stdout);
    assert_eq!(addrs_of(&stack, "acme").len(), 5);
    assert!(addrs_of(&stack, "acme-corp").is_empty());
    assert!(stack.run(&["state", "history"]).ok().stdout.contains("state rollback"));
    let r = stack.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(r.code, 0, "back where we were: {}", r.all());
}

#[test]
fn moved_blocks_rename_instead_of_destroy_and_create() {
    let stack = Stack::with_files(&[("main.hcl", "resource \"random_pet\" \"old\" {\n  prefix = \"x\"\n}\n")]);
    stack.run(&["apply", "-auto-approve"]).ok();
    let id = stack.state_json()["resources"][0]["values"]["id"].clone();
    stack.write("main.hcl", "resource \"random_pet\" \"new\" {\n  prefix = \"x\"\n}\n\nmoved {\n  from = random_pet.old\n  to   = random_pet.new\n}\n");
    let r = stack.run(&["plan"]).ok();
    assert!(r.stdout.contains("# random_pet.new has moved"), "{}", r.stdout);
    assert!(r.stdout.contains("(moved from random_pet.old)"), "{}", r.stdout);
    assert!(r.stdout.contains("Plan: 0 to add, 0 to change, 0 to destroy."), "{}", r.stdout);
    stack.run(&["apply", "-auto-approve"]).ok();
    assert_eq!(stack.state_addresses(), vec!["random_pet.new".to_string()]);
    assert_eq!(stack.state_json()["resources"][0]["values"]["id"], id);
    assert_eq!(stack.run(&["plan", "-detailed-exitcode"]).code, 0);
}

#[test]
fn pushing_a_foreign_lineage_is_refused() {
    let a = Stack::with_files(&[("main.hcl", "resource \"random_pet\" \"a\" {}\n")]);
    let b = Stack::with_files(&[("main.hcl", "resource \"random_pet\" \"b\" {}\n")]);
    a.run(&["apply", "-auto-approve"]).ok();
    b.run(&["apply", "-auto-approve"]).ok();
    let pulled = a.run(&["state", "pull"]).ok().stdout;
    b.write("a.json", &pulled);
    let before = b.run(&["state", "pull"]).ok().stdout;
    let r = b.run(&["state", "push", "a.json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("belongs to another stack"), "{}", r.stderr);
    assert_eq!(b.run(&["state", "pull"]).ok().stdout, before, "state untouched");
    // Its own state round-trips through pull/push.
    b.write("b.json", &before);
    b.run(&["state", "push", "b.json"]).ok();
    assert_eq!(b.state_addresses(), vec!["random_pet.b".to_string()]);
}

#[test]
fn drift_shows_in_tenants_plan_refresh_only_and_the_drift_command() {
    let stack = Stack::from_fixture("stacks/local_tenants");
    stack.write("tenants/initech.hcl", "tenant \"initech\" {}\n");
    stack.run(&["apply", "-auto-approve", "--tenant", "acme", "--tenant", "globex"]).ok();
    let r = stack.run(&["tenants"]).ok();
    assert!(r.stdout.lines().any(|l| l.starts_with("acme") && l.contains("active")), "{}", r.stdout);
    assert!(r.stdout.lines().any(|l| l.starts_with("initech") && l.contains("pending")), "{}", r.stdout);
    assert_eq!(stack.run(&["drift"]).code, 0);
    // Someone edits a secret by hand.
    std::fs::write(stack.path().join(".tenantform/local/secrets/globex-session"), "edited-by-hand").unwrap();
    let r = stack.run(&["tenants", "-json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let globex = v["tenants"].as_array().unwrap().iter().find(|t| t["slug"] == "globex").unwrap();
    assert_eq!(globex["status"], "drifted", "{v}");
    assert_eq!(globex["drifted"], serde_json::json!(["tenant.globex.local_secret.session"]));
    let r = stack.run(&["plan", "-refresh-only"]).ok();
    assert!(r.stdout.contains("# tenant.globex.local_secret.session has changed"), "{}", r.stdout);
    assert!(!r.stdout.contains("edited-by-hand"), "sensitive drift is not shown");
    let r = stack.run(&["drift"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stdout.contains("tenant globex:"), "{}", r.stdout);
    // apply -refresh-only records reality without touching infrastructure.
    stack.run(&["apply", "-refresh-only", "-auto-approve"]).ok();
    assert_eq!(stack.read(".tenantform/local/secrets/globex-session"), "edited-by-hand");
    assert_eq!(stack.run(&["drift"]).code, 0);
    // tenants show.
    let r = stack.run(&["tenants", "show", "acme"]).ok();
    assert!(r.stdout.contains("Status:    active"), "{}", r.stdout);
    assert!(r.stdout.contains("url = \"http://acme.localhost:"), "{}", r.stdout);
}

#[test]
fn moved_blocks_in_the_tenant_stack_apply_to_every_tenant_and_tenant_renames_move_outputs() {
    let stack = Stack::with_files(&[
        ("main.hcl", "tenant_stack {\n  source = \"./tenant\"\n}\n\ntenant \"acme\" {}\ntenant \"globex\" {}\n"),
        ("tenant/main.hcl", "resource \"random_pet\" \"old\" {}\n\noutput \"pet\" {\n  value = random_pet.old.id\n}\n"),
    ]);
    stack.run(&["apply", "-auto-approve"]).ok();
    stack.write(
        "tenant/main.hcl",
        "resource \"random_pet\" \"new\" {}\n\nmoved {\n  from = random_pet.old\n  to   = random_pet.new\n}\n\noutput \"pet\" {\n  value = random_pet.new.id\n}\n",
    );
    let r = stack.run(&["plan"]).ok();
    assert!(r.stdout.contains("# tenant.acme.random_pet.new has moved"), "{}", r.stdout);
    assert!(r.stdout.contains("# tenant.globex.random_pet.new has moved"), "{}", r.stdout);
    assert!(r.stdout.contains("Plan: 0 to add, 0 to change, 0 to destroy."), "{}", r.stdout);
    stack.run(&["apply", "-auto-approve"]).ok();
    assert_eq!(stack.run(&["plan", "-detailed-exitcode"]).code, 0);
    // Renaming a tenant with a root moved block moves its objects and its outputs.
    let pet = stack.run(&["output", "-raw", "--tenant", "acme", "pet"]).ok().stdout;
    stack.write("main.hcl", "tenant_stack {\n  source = \"./tenant\"\n}\n\ntenant \"acme-corp\" {}\ntenant \"globex\" {}\n\nmoved {\n  from = tenant.acme\n  to   = tenant.acme-corp\n}\n");
    let r = stack.run(&["apply", "-auto-approve"]).ok();
    assert!(r.stdout.contains("Resources: 0 added, 0 changed, 0 destroyed."), "{}", r.stdout);
    assert_eq!(stack.run(&["output", "-raw", "--tenant", "acme-corp", "pet"]).ok().stdout, pet);
    assert_eq!(stack.run(&["output", "--tenant", "acme", "pet"]).code, 1, "the old tenant's outputs are gone");
}

#[test]
fn pushing_an_older_state_is_refused_without_force() {
    let stack = Stack::with_files(&[(
        "main.hcl",
        "variable \"n\" {\n  default = 1\n}\n\nresource \"random_pet\" \"a\" {\n  keepers = { n = var.n }\n}\n",
    )]);
    stack.run(&["apply", "-auto-approve"]).ok();
    let old = stack.run(&["state", "pull"]).ok().stdout;
    stack.run(&["apply", "-auto-approve", "-var", "n=2"]).ok();
    stack.write("old.json", &old);
    let before = stack.run(&["state", "pull"]).ok().stdout;
    let r = stack.run(&["state", "push", "old.json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("older than the stored one"), "{}", r.stderr);
    assert_eq!(stack.run(&["state", "pull"]).ok().stdout, before);
    stack.run(&["state", "push", "-force", "old.json"]).ok();
    assert_eq!(stack.run(&["plan", "-detailed-exitcode", "-var", "n=1"]).code, 0, "the old version is back");
}

#[test]
fn refresh_only_plans_cope_with_data_sources_and_outputs_of_tenants_not_applied() {
    // A data source reading an object of the tenant: refresh-only plans (`tenants`, `drift`,
    // `plan -refresh-only`) used to read it with null arguments and fail.
    let stack = Stack::with_files(&[
        ("main.hcl", "tenant_stack { source = \"./tenant\" }\n"),
        (
            "tenant/main.hcl",
            r#"
resource "random_id" "db" {
  byte_length = 2
}

resource "local_sqlite_database" "db" {
  name = "${tenant.slug}-${random_id.db.hex}"
}

data "local_file" "db" {
  filename = trimprefix(local_sqlite_database.db.url, "sqlite://")
}

output "db_digest" {
  value = data.local_file.db.content_sha256
}

output "db_url" {
  value = local_sqlite_database.db.url
}
"#,
        ),
        ("tenants/acme.hcl", "tenant \"acme\" {}\n"),
        ("tenants/globex.hcl", "tenant \"globex\" {}\n"),
    ]);
    stack.run(&["apply", "-auto-approve", "--tenant", "acme"]).ok();
    let r = stack.run(&["tenants"]).ok();
    assert!(r.stdout.lines().any(|l| l.starts_with("acme") && l.contains("active")), "{}", r.stdout);
    assert!(r.stdout.lines().any(|l| l.starts_with("globex") && l.contains("pending")), "{}", r.stdout);
    let r = stack.run(&["plan", "-refresh-only"]).ok();
    assert!(!r.stdout.contains("db_digest"), "the data source was read: the output did not change\n{}", r.stdout);
    // Deprovisioned again: its outputs refer to objects that do not exist.
    stack.run(&["destroy", "-auto-approve", "--tenant", "acme"]).ok();
    let r = stack.run(&["tenants"]).ok();
    assert!(r.stdout.lines().any(|l| l.starts_with("acme") && l.contains("pending")), "{}", r.stdout);
    stack.run(&["apply", "-auto-approve", "--tenant", "acme"]).ok();
    // The object the data source reads is deleted outside tenantform: the drift shows, the
    // data source's failure does not hide it.
    let state = stack.state_json();
    let db = state["resources"].as_array().unwrap().iter().find(|r| r["type"] == "local_sqlite_database").unwrap()
        ["values"]["path"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::remove_file(&db).unwrap();
    let r = stack.run(&["drift"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stdout.contains("tenant acme:"), "{}", r.stdout);
}

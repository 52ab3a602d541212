//! The user's day with a local tenant stack: create → no-op → update → replace → remove a
//! tenant → destroy, with real databases, processes and HTTP routing.

use crate::support::Stack;

fn tenant_addrs(stack: &Stack, slug: &str) -> Vec<String> {
    let prefix = format!("tenant.{slug}.");
    stack.state_addresses().into_iter().filter(|a| a.starts_with(&prefix)).collect()
}

#[test]
fn create_noop_update_replace_remove_destroy() {
    let stack = Stack::from_fixture("stacks/local_tenants");

    // Create.
    let r = stack.run(&["apply", "-auto-approve"]).ok();
    assert!(r.stdout.contains("Apply complete! Resources: 11 added, 0 changed, 0 destroyed."), "{}", r.stdout);
    assert!(r.stdout.contains("tenant.acme.local_service.web: Creation complete after"), "{}", r.stdout);
    let acme = stack.get("acme.localhost").expect("acme answers through the router");
    assert!(acme.contains("\"tenant\": \"acme\"") && acme.contains("\"plan\": \"pro\""), "{acme}");
    assert!(acme.contains("hello from acme"), "acme's service reads acme's database: {acme}");
    let globex = stack.get("globex.localhost").expect("globex answers");
    assert!(globex.contains("\"tenant\": \"globex\""), "{globex}");
    assert_eq!(stack.state_addresses().len(), 11);

    // No-op plan, with -detailed-exitcode.
    let r = stack.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("No changes."), "{}", r.stdout);

    // Update in place: a tenant input that reaches the service's environment.
    stack.write("tenants/globex.hcl", "tenant \"globex\" {\n  plan = \"pro\"\n}\n");
    let r = stack.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stdout.contains("# tenant.globex.local_service.web will be updated in-place"), "{}", r.stdout);
    assert!(r.stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{}", r.stdout);
    stack.run(&["apply", "-auto-approve"]).ok();
    let globex = stack.get("globex.localhost").unwrap();
    assert!(globex.contains("\"plan\": \"pro\""), "restarted with the new env: {globex}");

    // Replace: a force-new attribute (the database name), and what follows from it.
    stack.write("tenants/globex.hcl", "tenant \"globex\" {\n  plan    = \"pro\"\n  db_name = \"globex-v2\"\n}\n");
    let r = stack.run(&["plan"]).ok();
    assert!(r.stdout.contains("# tenant.globex.local_sqlite_database.db must be replaced"), "{}", r.stdout);
    assert!(r.stdout.contains("# forces replacement"), "{}", r.stdout);
    assert!(r.stdout.contains("-/+ resource \"local_sqlite_database\" \"db\""), "{}", r.stdout);
    let r = stack.run(&["apply", "-auto-approve"]).ok();
    assert!(r.stdout.contains("Resources: 1 added, 1 changed, 1 destroyed."), "{}", r.stdout);
    assert!(stack.path().join(".tenantform/local/databases/globex-v2.sqlite").exists());
    assert!(!stack.path().join(".tenantform/local/databases/globex.sqlite").exists());
    assert!(stack.get("globex.localhost").unwrap().contains("hello from globex"));

    // Removing a tenant destroys exactly its resources.
    let before: Vec<String> = tenant_addrs(&stack, "acme");
    assert_eq!(before.len(), 5);
    stack.remove("tenants/globex.hcl");
    let r = stack.run(&["plan"]).ok();
    assert!(r.stdout.contains("Plan: 0 to add, 0 to change, 5 to destroy."), "{}", r.stdout);
    for line in r.stdout.lines().filter(|l| l.contains("will be destroyed")) {
        assert!(line.contains("tenant.globex."), "only globex is destroyed: {line}");
    }
    stack.run(&["apply", "-auto-approve"]).ok();
    assert!(tenant_addrs(&stack, "globex").is_empty());
    assert_eq!(tenant_addrs(&stack, "acme"), before, "acme untouched");
    assert!(stack.get("globex.localhost").is_none());
    assert!(stack.get("acme.localhost").is_some());

    // Destroy everything.
    let r = stack.run(&["destroy", "-auto-approve"]).ok();
    assert!(r.stdout.contains("Destroy complete! Resources: 6 destroyed."), "{}", r.stdout);
    assert!(stack.state_addresses().is_empty());
    assert!(stack.get("acme.localhost").is_none());
}

#[test]
fn destroy_one_tenant_keeps_the_others() {
    let stack = Stack::from_fixture("stacks/local_tenants");
    stack.run(&["apply", "-auto-approve"]).ok();
    let r = stack.run(&["destroy", "--tenant", "acme", "-auto-approve"]).ok();
    assert!(r.stdout.contains("Destroy complete! Resources: 5 destroyed."), "{}", r.stdout);
    assert!(tenant_addrs(&stack, "acme").is_empty());
    assert_eq!(tenant_addrs(&stack, "globex").len(), 5);
    assert!(stack.state_addresses().contains(&"random_pet.cluster".to_string()), "shared resources stay");
    assert!(stack.get("acme.localhost").is_none());
    assert!(stack.get("globex.localhost").is_some());
    // The configuration still has acme: the next plan re-creates it.
    let r = stack.run(&["plan", "--tenant", "acme"]).ok();
    assert!(r.stdout.contains("Plan: 5 to add, 0 to change, 0 to destroy."), "{}", r.stdout);
}

#[test]
fn a_failing_tenant_leaves_the_others_applied_and_state_exact() {
    let stack = Stack::from_fixture("stacks/local_tenants");
    stack.write("tenants/initech.hcl", "tenant \"initech\" {\n  broken = true\n}\n");
    let r = stack.run(&["apply", "-auto-approve"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.all().contains("tenant.initech.local_service.web"), "{}", r.all());
    assert!(r.stdout.contains("skipped: tenant.initech.local_hostname.web"), "{}", r.stdout);
    // The healthy tenants are complete and reachable.
    assert_eq!(tenant_addrs(&stack, "acme").len(), 5);
    assert_eq!(tenant_addrs(&stack, "globex").len(), 5);
    assert!(stack.get("acme.localhost").is_some());
    // initech: exactly what was created before the failure is recorded.
    let mut initech = tenant_addrs(&stack, "initech");
    initech.sort();
    assert_eq!(
        initech,
        vec![
            "tenant.initech.local_secret.session",
            "tenant.initech.local_sqlite_database.db",
            "tenant.initech.random_password.session",
        ]
    );
    // Fixing the input and applying again completes initech only.
    stack.write("tenants/initech.hcl", "tenant \"initech\" {}\n");
    let r = stack.run(&["apply", "-auto-approve"]).ok();
    assert!(r.stdout.contains("Resources: 2 added, 0 changed, 0 destroyed."), "{}", r.stdout);
    assert!(stack.get("initech.localhost").is_some());
}

#[test]
fn rollback_on_failure_removes_a_new_tenant_but_never_an_active_one() {
    let stack = Stack::from_fixture("stacks/local_tenants");
    stack.write("tenants/initech.hcl", "tenant \"initech\" {\n  broken = true\n}\n");
    let r = stack.run(&["apply", "-auto-approve", "--rollback-on-failure"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stdout.contains("rolled back: tenant initech (3 object(s)"), "{}", r.stdout);
    assert!(tenant_addrs(&stack, "initech").is_empty(), "nothing of initech stays in state");
    assert!(!stack.path().join(".tenantform/local/databases/initech.sqlite").exists(), "nor on disk");
    assert!(!stack.path().join(".tenantform/local/secrets/initech-session").exists());
    assert_eq!(tenant_addrs(&stack, "acme").len(), 5, "other tenants untouched");
    let r = stack.run(&["tenants"]).ok();
    let line = r.stdout.lines().find(|l| l.starts_with("initech")).unwrap().to_string();
    assert!(line.contains("failed") && line.contains("rolled back"), "{line}");
    // An active tenant whose update fails is not rolled back.
    stack.write("tenants/initech.hcl", "tenant \"initech\" {}\n");
    stack.run(&["apply", "-auto-approve"]).ok();
    stack.write("tenants/globex.hcl", "tenant \"globex\" {\n  broken = true\n  plan   = \"pro\"\n}\n");
    let r = stack.run(&["apply", "-auto-approve", "--rollback-on-failure"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(!r.stdout.contains("rolled back"), "{}", r.stdout);
    assert_eq!(tenant_addrs(&stack, "globex").len(), 5, "globex keeps everything");
    assert!(stack.run(&["tenants"]).ok().stdout.lines().any(|l| l.starts_with("globex") && l.contains("failed")));
}

#[test]
fn rollback_never_deletes_an_object_tenantform_did_not_make() {
    let stack = Stack::from_fixture("stacks/local_tenants");
    // A database file left by someone else blocks initech's create (a refused request).
    let dbs = stack.path().join(".tenantform/local/databases");
    std::fs::create_dir_all(&dbs).unwrap();
    std::fs::write(dbs.join("initech.sqlite"), b"not ours").unwrap();
    stack.write("tenants/initech.hcl", "tenant \"initech\" {}\n");
    let r = stack.run(&["apply", "-auto-approve", "--rollback-on-failure"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(std::fs::read(dbs.join("initech.sqlite")).unwrap(), b"not ours", "the foreign file is untouched");
    assert!(tenant_addrs(&stack, "initech").is_empty(), "{:?}", tenant_addrs(&stack, "initech"));
    assert!(!stack.path().join(".tenantform/local/secrets/initech-session").exists(), "what this apply made is gone");
}

//! Locks between processes, secrets that never leak, and crashes that lose nothing.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::Stack;

fn slow_stack(tenants: usize, delay: &str) -> Stack {
    let mut main = String::from(
        r#"
variable "delay" {
  type    = string
  default = "2s"
}

tenant_stack {
  source = "./tenant"
  inputs = { delay = var.delay }
}
"#,
    );
    for i in 0..tenants {
        main.push_str(&format!("tenant \"t{i:03}\" {{}}\n"));
    }
    let tenant = r#"
variable "delay" {
  type = string
}

resource "time_sleep" "a" {
  create_duration = var.delay
}

resource "local_secret" "b" {
  name  = "${tenant.slug}-b"
  value = time_sleep.a.id
}

resource "time_sleep" "c" {
  create_duration = var.delay
  triggers        = { after = local_secret.b.version }
}

resource "local_secret" "d" {
  name  = "${tenant.slug}-d"
  value = time_sleep.c.id
}
"#;
    let s = Stack::with_files(&[("main.hcl", &main), ("tenant/main.hcl", tenant)]);
    s.write("tenantform.tfvars", &format!("delay = \"{delay}\"\n"));
    s
}

#[test]
fn a_second_apply_of_the_same_tenant_is_refused_with_the_holder_then_waits_with_lock_timeout() {
    let stack = slow_stack(1, "3s");
    let mut first =
        stack.command(&["apply", "-auto-approve"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    // Wait until the first apply holds the lock (its first resource has started).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let locks = stack.run(&["force-unlock", "none-such-id", "-force"]);
        if locks.stderr.contains("current locks: ") && !locks.stderr.contains("current locks: none") {
            break;
        }
        assert!(Instant::now() < deadline, "the first apply never took the lock: {}", locks.stderr);
        std::thread::sleep(Duration::from_millis(100));
    }
    let started = Instant::now();
    let second = stack.run(&["apply", "-auto-approve"]);
    assert_eq!(second.code, 1, "{}", second.all());
    assert!(started.elapsed() < Duration::from_secs(2), "refused at once");
    assert!(second.stderr.contains("Error acquiring the state lock"), "{}", second.stderr);
    assert!(second.stderr.contains(&format!("PID:        {}", first.id())), "holder's pid: {}", second.stderr);
    assert!(second.stderr.contains("Operation:  apply"), "{}", second.stderr);
    assert!(second.stderr.contains("Partitions: tenant.t000"), "{}", second.stderr);
    // With -lock-timeout it waits, then re-plans against what the first apply did.
    let third = stack.run(&["apply", "-auto-approve", "-lock-timeout=60s"]).ok();
    assert!(third.stdout.contains("Resources: 0 added") || third.stdout.contains("No changes"), "{}", third.all());
    assert!(first.wait().unwrap().success());
    assert_eq!(stack.state_addresses().len(), 4);
}

#[test]
fn different_tenants_apply_at_the_same_time() {
    let stack = slow_stack(2, "2s");
    let started = Instant::now();
    let a = stack
        .command(&["apply", "-auto-approve", "--tenant", "t000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let b = stack
        .command(&["apply", "-auto-approve", "--tenant", "t001"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let a = a.wait_with_output().unwrap();
    let b = b.wait_with_output().unwrap();
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    assert!(started.elapsed() < Duration::from_secs(8), "ran concurrently: {:?}", started.elapsed());
    assert_eq!(stack.state_addresses().len(), 8);
}

#[test]
fn sensitive_values_never_reach_plans_logs_or_events() {
    let canary = "canary-9f3b1c7e";
    let stack = Stack::with_files(&[(
        "main.hcl",
        r#"
variable "db_password" {
  type      = string
  sensitive = true
}

resource "random_password" "admin" {
  length = 20
}

resource "local_secret" "db" {
  name  = "db-password"
  value = var.db_password
}

resource "local_secret" "admin" {
  name  = "admin-password"
  value = random_password.admin.result
}

resource "local_secret" "derived" {
  name  = "derived"
  value = "prefix-${upper(var.db_password)}"
}

output "derived" {
  value     = upper(var.db_password)
  sensitive = true
}

output "password" {
  value     = var.db_password
  sensitive = true
}
"#,
    )]);
    let var = format!("db_password={canary}");
    let log = stack.path().join("tenantform.log");
    let run = |args: &[&str]| {
        let out = stack.command(args).env("TENANTFORM_LOG", "trace").env("TENANTFORM_LOG_PATH", &log).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    };
    let plan = run(&["plan", "-var", &var]);
    let json_plan = run(&["plan", "-json", "-var", &var]);
    let events = run(&["apply", "-auto-approve", "--json", "-var", &var]);
    let outputs = run(&["output"]);
    let show = run(&["show"]);
    let show_json = run(&["show", "-json"]);
    let logs = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!logs.is_empty(), "trace logging produced nothing");
    let admin = std::fs::read_to_string(stack.path().join(".tenantform/local/secrets/admin-password")).unwrap();
    assert_eq!(std::fs::read_to_string(stack.path().join(".tenantform/local/secrets/db-password")).unwrap(), canary);
    for (what, text) in [
        ("plan", &plan),
        ("plan -json", &json_plan),
        ("apply --json", &events),
        ("output", &outputs),
        ("show", &show),
        ("show -json", &show_json),
        ("logs", &logs),
    ] {
        assert!(!text.contains(canary), "{what} leaks the variable:\n{text}");
        assert!(!text.contains(&admin), "{what} leaks the generated password");
        assert!(!text.to_lowercase().contains(canary), "{what} leaks a derived value (upper of the secret)");
    }
    assert!(plan.contains("(sensitive value)"));
    assert!(
        events.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
        "one JSON object per line:\n{events}"
    );
    // The one way to read it: a single sensitive output asked for by name.
    let direct = run(&["output", "-raw", "password"]);
    assert_eq!(direct, canary);
}

#[test]
fn kill_9_mid_apply_loses_nothing_and_duplicates_nothing() {
    let stack = slow_stack(40, "1s");
    let mut child = stack
        .command(&["apply", "-auto-approve", "-parallelism", "200"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it while tenants are half-way through their chains.
    std::thread::sleep(Duration::from_millis(1600));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let secrets_dir = stack.path().join(".tenantform/local/secrets");
    let on_disk: Vec<String> = std::fs::read_dir(&secrets_dir)
        .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    assert!(!on_disk.is_empty() && on_disk.len() < 80, "killed mid-way: {} secrets", on_disk.len());
    // Every object that exists is in state (as done, or as an interrupted create).
    let state = stack.state_json();
    let recorded: Vec<String> = state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "local_secret")
        .map(|r| r["values"]["name"].as_str().unwrap_or_default().to_string())
        .collect();
    for name in &on_disk {
        assert!(recorded.contains(name), "{name} exists but state does not know it");
    }
    // The kernel released the dead process's file lock, so its lock rows are no obstacle
    // (as with Terraform's local backend): no force-unlock. The next plan reconciles: it
    // creates exactly what is missing, and no running operation is reported.
    let r = stack.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(!r.stderr.contains("is running since"), "a dead apply is not a running one: {}", r.stderr);
    let r = stack.run(&["apply", "-auto-approve", "-parallelism", "200"]).ok();
    assert!(r.stdout.contains("Apply complete!"), "{}", r.stdout);
    assert!(
        !stack.path().join("tenantform.state.db.locks").read_dir().map(|mut d| d.next().is_some()).unwrap_or(false),
        "the dead holder's lock file was cleared and the new one released"
    );
    let after: Vec<String> = std::fs::read_dir(&secrets_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(after.len(), 80, "one secret of each kind per tenant, none duplicated");
    assert_eq!(stack.state_addresses().len(), 160);
    let r = stack.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(r.code, 0, "converged: {}", r.all());
}

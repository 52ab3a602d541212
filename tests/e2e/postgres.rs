//! The pg state backend driven through the real binary, against a throw-away server per test:
//! many tenants of one stack applied at once by separate processes; a second apply of the
//! same tenant refused naming the holder, or waiting under -lock-timeout; `kill -9` of a
//! holder releases its lock; no update lost under concurrent writers; and `state migrate`
//! between SQLite and PostgreSQL.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use tenantform_pgtest::PgServer;

use crate::support::Stack;

/// A stack of `tenants` tenants, each with `ids` random_ids and a `time_sleep` of `delay`,
/// keeping its state in the pg backend at `url`.
fn pg_stack(url: &str, tenants: usize, ids: usize, delay: &str) -> Stack {
    let mut main = format!(
        r#"
state {{
  backend = "pg"
  url     = "{url}"
  stack   = "e2e"
}}

variable "delay" {{
  type    = string
  default = "{delay}"
}}

tenant_stack {{
  source = "./tenant"
  inputs = {{ delay = var.delay }}
}}
"#
    );
    for i in 0..tenants {
        main.push_str(&format!("tenant \"t{i:02}\" {{}}\n"));
    }
    let tenant = format!(
        r#"
variable "delay" {{
  type = string
}}

resource "random_id" "r" {{
  count       = {ids}
  byte_length = 4
}}

resource "time_sleep" "wait" {{
  create_duration = var.delay
  triggers        = {{ first = random_id.r[0].hex }}
}}
"#
    );
    Stack::with_files(&[("main.hcl", &main), ("tenant/main.hcl", &tenant)])
}

fn spawn(stack: &Stack, args: &[&str]) -> Child {
    stack.command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
}

/// Waits until a live lock of `partition` shows in the backend's `locks` table.
fn wait_for_lock(server: &PgServer, partition: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n = server.try_psql(
            "postgres",
            &format!(
                "SELECT count(*) FROM tenantform.locks l JOIN pg_stat_activity a ON a.pid = l.backend_pid
                 WHERE l.stack = 'e2e' AND l.partition = '{partition}'"
            ),
        );
        if n.as_deref() == Ok("1") {
            return;
        }
        assert!(Instant::now() < deadline, "no lock on {partition} appeared");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn many_tenants_apply_at_once_and_lose_nothing() {
    let server = PgServer::start();
    const TENANTS: usize = 6;
    const IDS: usize = 5;
    let stack = pg_stack(&server.url("postgres"), TENANTS, IDS, "3s");
    let started = Instant::now();
    let runs: Vec<(Instant, Child)> = (0..TENANTS)
        .map(|i| (Instant::now(), spawn(&stack, &["apply", "-auto-approve", "--tenant", &format!("t{i:02}")])))
        .collect();
    let mut spans = Vec::new();
    for (start, child) in runs {
        let out = child.wait_with_output().unwrap();
        let finished = Instant::now();
        assert!(
            out.status.success(),
            "an apply failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        spans.push((start, finished));
    }
    // Overlap: every apply started before any finished, so none waited for another (and with
    // the default -lock-timeout=0s a wait would have been a failure).
    let last_start = spans.iter().map(|s| s.0).max().unwrap();
    let first_finish = spans.iter().map(|s| s.1).min().unwrap();
    assert!(last_start < first_finish, "the applies overlapped");
    assert!(
        started.elapsed() < Duration::from_secs(3 * TENANTS as u64),
        "ran concurrently, not one after another ({:?})",
        started.elapsed()
    );
    // Every resource of every tenant is in state, in its partition, exactly once.
    let rows = server.psql(
        "postgres",
        "SELECT partition, count(*) FROM tenantform.resources WHERE stack = 'e2e' AND status = 'ready'
         GROUP BY partition ORDER BY partition",
    );
    let want: Vec<String> = (0..TENANTS).map(|i| format!("t{i:02}|{}", IDS + 1)).collect();
    assert_eq!(rows.lines().collect::<Vec<_>>(), want);
    // Serials are gapless and every write is in the history and the change log.
    let check = server.psql(
        "postgres",
        "SELECT (SELECT serial FROM tenantform.stacks WHERE stack = 'e2e') = (SELECT count(*) FROM tenantform.history WHERE stack = 'e2e'),
                (SELECT count(*) FROM tenantform.resources r WHERE stack = 'e2e' AND NOT EXISTS (
                    SELECT 1 FROM tenantform.resource_versions v
                    WHERE v.stack = r.stack AND v.address = r.address AND v.serial = r.serial))",
    );
    assert_eq!(check, "t|0");
    let listed = stack.run(&["state", "list"]).ok();
    assert_eq!(listed.stdout.lines().count(), TENANTS * (IDS + 1));
    assert!(stack.run(&["plan", "-detailed-exitcode"]).code == 0, "nothing left to do");
}

#[test]
fn a_second_apply_of_a_tenant_is_refused_naming_the_holder_or_waits() {
    let server = PgServer::start();
    let stack = pg_stack(&server.url("postgres"), 2, 1, "4s");
    let first = spawn(&stack, &["apply", "-auto-approve", "--tenant", "t00"]);
    wait_for_lock(&server, "t00");

    let started = Instant::now();
    let second = stack.run(&["apply", "-auto-approve", "--tenant", "t00"]);
    assert_eq!(second.code, 1, "{}", second.all());
    assert!(started.elapsed() < Duration::from_secs(3), "refused at once ({:?})", started.elapsed());
    assert!(second.stderr.contains("Error acquiring the state lock"), "{}", second.stderr);
    assert!(second.stderr.contains(&format!("PID:        {}", first.id())), "names the holder: {}", second.stderr);
    assert!(second.stderr.contains("Partitions: tenant.t00"), "{}", second.stderr);

    // Another tenant is not held up.
    stack.run(&["apply", "-auto-approve", "--tenant", "t01"]).ok();

    // With -lock-timeout the same tenant waits, then re-plans against what the first did.
    let third = stack.run(&["apply", "-auto-approve", "--tenant", "t00", "-lock-timeout=60s"]).ok();
    assert!(third.stdout.contains("No changes") || third.stdout.contains("0 added"), "{}", third.all());
    let out = first.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stack.run(&["state", "list"]).ok().stdout.lines().count(), 4);
}

#[test]
fn kill_9_of_a_holder_releases_its_lock() {
    let server = PgServer::start();
    let stack = pg_stack(&server.url("postgres"), 1, 1, "60s");
    let mut holder = spawn(&stack, &["apply", "-auto-approve"]);
    wait_for_lock(&server, "t00");
    holder.kill().unwrap();
    holder.wait().unwrap();
    // The server notices the dead session and drops its advisory lock: the next apply gets
    // the lock without force-unlock and reconciles the interrupted create.
    let mut retried = None;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let r = stack.run(&["apply", "-auto-approve", "-var", "delay=1s", "-lock-timeout=10s"]);
        if r.code == 0 {
            retried = Some(r);
            break;
        }
        assert!(r.stderr.contains("locked"), "failed for another reason: {}", r.all());
    }
    let r = retried.expect("the lock was released after the holder died");
    assert!(r.stdout.contains("Apply complete"), "{}", r.all());
    let locks = server.psql("postgres", "SELECT count(*) FROM tenantform.locks WHERE stack = 'e2e'");
    assert_eq!(locks, "0", "the stale row was taken over and released");
}

#[test]
fn state_migrates_between_sqlite_and_postgres_keeping_the_lineage() {
    let server = PgServer::start();
    let stack = Stack::with_files(&[
        ("main.hcl", "tenant_stack { source = \"./tenant\" }\ntenant \"acme\" {}\ntenant \"globex\" {}\nresource \"random_id\" \"shared\" { byte_length = 4 }\noutput \"shared\" { value = random_id.shared.hex }\n"),
        ("tenant/main.hcl", "resource \"random_pet\" \"name\" {}\noutput \"pet\" { value = random_pet.name.id }\n"),
    ]);
    stack.run(&["apply", "-auto-approve"]).ok();
    let before: serde_json::Value = serde_json::from_str(&stack.run(&["state", "pull"]).ok().stdout).unwrap();

    let pg = server.url("postgres") + "?stack=migrated";
    let moved = stack.run(&["state", "migrate", "--to", &pg]).ok();
    assert!(moved.stdout.contains("Copied 3 resource(s)"), "{}", moved.all());
    assert!(moved.stdout.contains("History was not copied"), "{}", moved.all());
    let on_pg = |args: &[&str]| {
        let out = stack.command(args).env("TENANTFORM_STATE", &pg).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let after: serde_json::Value = serde_json::from_str(&on_pg(&["state", "pull"])).unwrap();
    assert_eq!(after["lineage"], before["lineage"], "lineage preserved");
    assert_eq!(after["resources"], before["resources"]);
    assert_eq!(after["outputs"], before["outputs"]);
    assert!(on_pg(&["plan"]).contains("No changes"), "the migrated state matches reality");

    // Back again, into a fresh SQLite file.
    let back = stack.path().join("back.db");
    let out = stack
        .command(&["state", "migrate", "--to", back.to_str().unwrap()])
        .env("TENANTFORM_STATE", &pg)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let round: serde_json::Value = serde_json::from_str(&String::from_utf8_lossy(
        &stack.command(&["state", "pull"]).env("TENANTFORM_STATE", back.to_str().unwrap()).output().unwrap().stdout,
    ))
    .unwrap();
    assert_eq!(round["lineage"], before["lineage"]);
    assert_eq!(round["resources"], before["resources"]);

    // Into a stack that holds another lineage: refused.
    let other = stack.path().join("tenantform.state.db");
    let refused = stack
        .command(&["state", "migrate", "--to", other.to_str().unwrap()])
        .env("TENANTFORM_STATE", &(server.url("postgres") + "?stack=unrelated"))
        .output()
        .unwrap();
    assert!(!refused.status.success());
}

#[test]
fn postgres_provider_tenants_converge_detect_drift_and_destroy() {
    let server = PgServer::start();
    let main = format!(
        r#"
provider "postgres" {{
  url = "{}"
}}

tenant_stack {{ source = "./tenant" }}
tenant "acme" {{}}
tenant "globex" {{}}
"#,
        server.url("postgres")
    );
    let tenant = r#"
resource "random_password" "db" {
  length  = 24
  special = false
}

resource "postgres_role" "app" {
  name     = "${tenant.slug}_app"
  login    = true
  password = random_password.db.result
}

resource "postgres_database" "main" {
  name  = tenant.slug
  owner = postgres_role.app.name
}

resource "postgres_schema" "app" {
  name     = "app"
  database = postgres_database.main.name
  owner    = postgres_role.app.name
}

resource "postgres_grant" "no_public_connect" {
  database    = postgres_database.main.name
  role        = "public"
  object_type = "database"
  privileges  = []
}

resource "postgres_extension" "crypto" {
  name     = "pgcrypto"
  database = postgres_database.main.name
  schema   = postgres_schema.app.name
}

data "postgres_connection_uri" "app" {
  database = postgres_database.main.name
  username = postgres_role.app.name
  password = random_password.db.result
  sslmode  = "disable"
}

resource "local_secret" "database_url" {
  name  = "${tenant.slug}-database-url"
  value = data.postgres_connection_uri.app.uri
}
"#;
    let stack = Stack::with_files(&[("main.hcl", &main), ("tenant/main.hcl", tenant)]);
    let applied = stack.run(&["apply", "-auto-approve"]).ok();
    assert!(applied.stdout.contains("Resources: 14 added"), "{}", applied.all());
    assert!(!applied.all().contains("postgres://acme_app:"), "the URI is never printed");
    assert_eq!(stack.run(&["plan", "-detailed-exitcode"]).code, 0, "converged: nothing to do");

    // The secret holds a URI that really connects as the tenant's role to its database.
    let uri = stack.read(".tenantform/local/secrets/acme-database-url");
    assert!(uri.starts_with("postgres://acme_app:"), "{uri}");
    let psql = std::process::Command::new("psql")
        .args([uri.trim(), "-X", "-A", "-t", "-c", "SELECT current_user || '@' || current_database()"])
        .output();
    if let Ok(out) = psql {
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "acme_app@acme",
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // Drift by hand: a password, a privilege, an owner.
    server.psql("postgres", "ALTER ROLE acme_app PASSWORD 'changed-by-hand'");
    server.psql("postgres", "GRANT CONNECT ON DATABASE globex TO PUBLIC");
    server.psql("postgres", "ALTER DATABASE acme OWNER TO postgres");
    let plan = stack.run(&["plan", "-no-color"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(plan.stdout.contains("tenant.acme.postgres_role.app will be updated in-place"), "{}", plan.stdout);
    assert!(plan.stdout.contains("tenant.acme.postgres_database.main will be updated in-place"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("tenant.globex.postgres_grant.no_public_connect will be updated in-place"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("Plan: 0 to add, 3 to change, 0 to destroy."), "{}", plan.stdout);
    stack.run(&["apply", "-auto-approve"]).ok();
    assert_eq!(stack.run(&["plan", "-detailed-exitcode"]).code, 0, "drift repaired");
    assert_eq!(
        server.psql("postgres", "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'acme'"),
        "acme_app"
    );

    // Importing an existing database: the error says how, and the import works.
    server.psql("postgres", "CREATE DATABASE initech");
    stack.write("tenants.hcl", "tenant \"initech\" {}\n");
    let clash = stack.run(&["apply", "-auto-approve", "--tenant", "initech"]);
    assert_eq!(clash.code, 1);
    assert!(
        clash.all().contains("database \"initech\" already exists")
            && clash.all().contains("tenantform import tenant.initech.postgres_database.main initech"),
        "{}",
        clash.all()
    );

    // Destroy removes every role and database, with sessions still connected.
    stack.remove("tenants.hcl");
    let destroyed = stack.run(&["destroy", "-auto-approve"]).ok();
    assert!(destroyed.stdout.contains("Destroy complete"), "{}", destroyed.all());
    assert_eq!(server.psql("postgres", "SELECT count(*) FROM pg_database WHERE datname IN ('acme', 'globex')"), "0");
    assert_eq!(server.psql("postgres", "SELECT count(*) FROM pg_roles WHERE rolname LIKE '%\\_app'"), "0");
}

//! The Neon resources against the Neon emulator, over real HTTP: lifecycles with drift and
//! import, adoption after a lost response, convergence under injected 429/503, readable
//! permanent errors, and no secret in the logs.

use std::time::Duration;

use serde_json::Value as Json;
use tenantform_emulators::neon::SEED_PROJECT_ID;
use tenantform_emulators::{start, FaultConfig, Handle, Kind, Options};
use tenantform_engine::provider::{ErrorKind, OpContext, ProviderError, Recovery, ResourceType};
use tenantform_engine::value::Value;

use super::*;
use crate::testkit::{get_str, planned, s, with, LogCapture};

async fn setup() -> (Handle, ConfiguredNeon) {
    let opts = Options { operation_delay: Duration::from_millis(40), ..Options::default() };
    let (_, h) = start(Kind::Neon, opts).await.unwrap();
    let mut cfg = NeonConfig::new(h.base_url(), "test-key");
    // Concurrent mutations of one project meet 423 Locked until the running operation ends.
    cfg.retry = RetryPolicy { max_attempts: 400, max_backoff: Duration::from_millis(50), ..RetryPolicy::fast() };
    cfg.poll_interval = (Duration::from_millis(5), Duration::from_millis(20));
    let p = ConfiguredNeon::new(&cfg).unwrap();
    (h, p)
}

fn ctx() -> OpContext {
    OpContext::default()
}

fn res(p: &ConfiguredNeon, t: &str) -> std::sync::Arc<dyn ResourceType> {
    p.resource(t).unwrap()
}

fn main_branch(h: &Handle) -> String {
    h.objects("branches").iter().find(|b| b["default"] == true).unwrap()["id"].as_str().unwrap().to_string()
}

fn named(h: &Handle, coll: &str, name: &str) -> Vec<Json> {
    h.objects(coll).into_iter().filter(|o| o["name"] == name).collect()
}

#[tokio::test]
async fn branch_lifecycle_drift_and_import() {
    let (h, p) = setup().await;
    let r = res(&p, "neon_branch");
    let plan = planned(&branch::schema(), &[("project_id", s(SEED_PROJECT_ID)), ("name", s("tenant-acme"))]);
    let created = r.create(&plan, &ctx()).await.unwrap();
    let id = get_str(&created, "id");
    assert!(id.starts_with("br-"), "{created}");
    assert_eq!(get_str(&created, "parent_id"), main_branch(&h));
    assert_eq!(get_str(&created, "current_state"), "ready", "create waits for the operations");
    assert_eq!(r.read(&created, &ctx()).await.unwrap().unwrap(), created);

    let renamed = r
        .update(&created, &with(&created, &[("name", s("tenant-acme-2")), ("protected", s("yes"))]), &ctx())
        .await
        .unwrap();
    assert_eq!(get_str(&renamed, "name"), "tenant-acme-2");
    assert_eq!(get_str(&renamed, "protected"), "yes");
    let read = r.read(&renamed, &ctx()).await.unwrap().unwrap();
    assert_eq!(read, renamed);

    // Drift: renamed behind our back.
    h.core().store.with(|c| c.get_mut("branches", &id).unwrap()["name"] = "by-hand".into());
    assert_eq!(get_str(&r.read(&renamed, &ctx()).await.unwrap().unwrap(), "name"), "by-hand");

    let imported = r.import(&format!("{SEED_PROJECT_ID}/{id}"), &ctx()).await.unwrap();
    assert_eq!(get_str(&imported, "id"), id);
    assert_eq!(get_str(&r.import(&id, &ctx()).await.unwrap(), "project_id"), SEED_PROJECT_ID, "bare ids are searched");
    assert_eq!(r.import(&format!("{SEED_PROJECT_ID}/br-none"), &ctx()).await.unwrap_err().kind, ErrorKind::NotFound);
    assert!(r.import("a/b/c", &ctx()).await.unwrap_err().summary.contains("<project_id>/<branch_id>"));

    r.delete(&renamed, &ctx()).await.unwrap();
    assert_eq!(r.read(&renamed, &ctx()).await.unwrap(), None);
    r.delete(&renamed, &ctx()).await.unwrap();
}

#[tokio::test]
async fn endpoint_role_database_and_connection_uri() {
    let (h, p) = setup().await;
    let br = res(&p, "neon_branch")
        .create(&planned(&branch::schema(), &[("project_id", s(SEED_PROJECT_ID)), ("name", s("t1"))]), &ctx())
        .await
        .unwrap();
    let b = get_str(&br, "id");

    let ep = res(&p, "neon_endpoint");
    let e = ep
        .create(
            &planned(
                &endpoint::schema(),
                &[
                    ("project_id", s(SEED_PROJECT_ID)),
                    ("branch_id", s(&b)),
                    ("autoscaling_limit_max_cu", Value::number(2)),
                ],
            ),
            &ctx(),
        )
        .await
        .unwrap();
    assert_eq!(get_str(&e, "type"), "read_write");
    assert_eq!(e.get("autoscaling_limit_max_cu"), Some(&Value::number(2)));
    assert!(get_str(&e, "host").starts_with(&get_str(&e, "id")));
    assert_eq!(get_str(&e, "current_state"), "active");
    assert_eq!(ep.read(&e, &ctx()).await.unwrap().unwrap(), e);
    let e2 = ep.update(&e, &with(&e, &[("suspend_timeout_seconds", Value::number(600))]), &ctx()).await.unwrap();
    assert_eq!(e2.get("suspend_timeout_seconds"), Some(&Value::number(600)));
    assert_eq!(ep.read(&e2, &ctx()).await.unwrap().unwrap(), e2);
    assert_eq!(ep.import(&format!("{SEED_PROJECT_ID}/{}", get_str(&e, "id")), &ctx()).await.unwrap(), e2);

    let role = res(&p, "neon_role");
    let rp = planned(&role::schema(), &[("project_id", s(SEED_PROJECT_ID)), ("branch_id", s(&b)), ("name", s("app"))]);
    let r = role.create(&rp, &ctx()).await.unwrap();
    let pw = get_str(&r, "password");
    assert!(pw.starts_with("npg_"), "{pw}");
    assert_eq!(get_str(&r, "id"), format!("{SEED_PROJECT_ID}/{b}/app"));
    assert_eq!(role.read(&r, &ctx()).await.unwrap().unwrap(), r);
    assert_eq!(role.import(&get_str(&r, "id"), &ctx()).await.unwrap(), with(&r, &[("timeouts", Value::Null)]));

    let db = res(&p, "neon_database");
    let dp = planned(
        &database::schema(),
        &[("project_id", s(SEED_PROJECT_ID)), ("branch_id", s(&b)), ("name", s("appdb")), ("owner_name", s("app"))],
    );
    let d = db.create(&dp, &ctx()).await.unwrap();
    assert_eq!(db.read(&d, &ctx()).await.unwrap().unwrap(), d);
    let d2 = db.update(&d, &with(&d, &[("owner_name", s("neondb_owner"))]), &ctx()).await.unwrap();
    assert_eq!(get_str(&d2, "owner_name"), "neondb_owner");
    assert_eq!(db.read(&d2, &ctx()).await.unwrap().unwrap(), d2);
    assert_eq!(db.import(&get_str(&d2, "id"), &ctx()).await.unwrap(), d2);

    let uri = p.data_source("neon_connection_uri").unwrap();
    let cfg = Value::map([
        ("project_id", s(SEED_PROJECT_ID)),
        ("branch_id", s(&b)),
        ("database_name", s("appdb")),
        ("role_name", s("app")),
        ("endpoint_id", Value::Null),
        ("pooled", Value::Bool(true)),
        ("uri", Value::Unknown),
    ]);
    let got = uri.read(&cfg, &ctx()).await.unwrap();
    let u = get_str(&got, "uri");
    assert_eq!(
        u,
        format!("postgresql://app:{pw}@{}/appdb?sslmode=require", get_str(&e, "host").replacen('.', "-pooler.", 1))
    );

    // Password reset outside tenantform is drift.
    h.core().store.with(|c| c.get_mut("roles", &format!("{b}/app")).unwrap()["_password"] = "npg_changed".into());
    assert_eq!(get_str(&role.read(&r, &ctx()).await.unwrap().unwrap(), "password"), "npg_changed");

    db.delete(&d2, &ctx()).await.unwrap();
    assert_eq!(db.read(&d2, &ctx()).await.unwrap(), None);
    role.delete(&r, &ctx()).await.unwrap();
    assert_eq!(role.read(&r, &ctx()).await.unwrap(), None);
    role.delete(&r, &ctx()).await.unwrap();
    ep.delete(&e2, &ctx()).await.unwrap();
    assert_eq!(ep.read(&e2, &ctx()).await.unwrap(), None);
    ep.delete(&e2, &ctx()).await.unwrap();
}

#[tokio::test]
async fn lost_create_responses_are_adopted_not_duplicated() {
    let (h, p) = setup().await;
    let main = main_branch(&h);
    h.set_faults(FaultConfig { drop_after_commit: 1, ..Default::default() });
    let br = res(&p, "neon_branch")
        .create(&planned(&branch::schema(), &[("project_id", s(SEED_PROJECT_ID)), ("name", s("t2"))]), &ctx())
        .await
        .unwrap();
    assert_eq!(named(&h, "branches", "t2").len(), 1);
    let faults: Vec<_> = h.requests().into_iter().filter_map(|r| r.fault).collect();
    assert_eq!(faults, ["dropped_after_commit"]);
    let b = get_str(&br, "id");

    for (t, set) in [
        ("neon_role", vec![("name", s("app"))]),
        ("neon_database", vec![("name", s("appdb")), ("owner_name", s("neondb_owner"))]),
        ("neon_endpoint", vec![]),
    ] {
        h.set_faults(FaultConfig { drop_after_commit: 1, ..Default::default() });
        let schema = p.resource(t).map(|_| match t {
            "neon_role" => role::schema(),
            "neon_database" => database::schema(),
            _ => endpoint::schema(),
        });
        let mut all = vec![("project_id", s(SEED_PROJECT_ID)), ("branch_id", s(&b))];
        all.extend(set);
        let v =
            res(&p, t).create(&planned(&schema.unwrap(), &all), &ctx()).await.unwrap_or_else(|e| panic!("{t}: {e}"));
        if t == "neon_role" {
            assert!(get_str(&v, "password").starts_with("npg_"), "adopted role has its password revealed");
        }
    }
    assert_eq!(h.objects("roles").iter().filter(|r| r["branch_id"] == b.as_str() && r["name"] == "app").count(), 1);
    assert_eq!(
        h.objects("databases").iter().filter(|r| r["branch_id"] == b.as_str() && r["name"] == "appdb").count(),
        1
    );
    assert_eq!(h.objects("endpoints").iter().filter(|r| r["branch_id"] == b.as_str()).count(), 1);

    // Same name, different parent: not ours, fail loudly.
    let e = res(&p, "neon_branch")
        .create(
            &planned(&branch::schema(), &[("project_id", s(SEED_PROJECT_ID)), ("name", s("t2")), ("parent_id", s(&b))]),
            &ctx(),
        )
        .await
        .unwrap_err();
    assert!(e.summary.contains("already exists") && e.summary.contains(&main), "{}", e.summary);
    assert!(e.help.unwrap().contains("tenantform import"));
    // A database owned by someone else is not adopted either.
    let e = res(&p, "neon_database")
        .create(
            &planned(
                &database::schema(),
                &[
                    ("project_id", s(SEED_PROJECT_ID)),
                    ("branch_id", s(&b)),
                    ("name", s("appdb")),
                    ("owner_name", s("app")),
                ],
            ),
            &ctx(),
        )
        .await
        .unwrap_err();
    assert!(e.summary.contains("owned by"), "{}", e.summary);
}

#[tokio::test]
async fn concurrent_creates_converge_under_injected_refusals() {
    let (h, p) = setup().await;
    h.set_faults(FaultConfig { error_rate: 0.2, drop_after_commit_rate: 0.1, ..Default::default() });
    let r = res(&p, "neon_branch");
    let role = res(&p, "neon_role");
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (r, role) = (r.clone(), role.clone());
        tasks.push(tokio::spawn(async move {
            let name = format!("tenant-{i}");
            let b = r
                .create(&planned(&branch::schema(), &[("project_id", s(SEED_PROJECT_ID)), ("name", s(&name))]), &ctx())
                .await?;
            role.create(
                &planned(
                    &role::schema(),
                    &[("project_id", s(SEED_PROJECT_ID)), ("branch_id", s(&get_str(&b, "id"))), ("name", s("app"))],
                ),
                &ctx(),
            )
            .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    for i in 0..8 {
        let branches = named(&h, "branches", &format!("tenant-{i}"));
        assert_eq!(branches.len(), 1, "tenant-{i}");
        let bid = branches[0]["id"].as_str().unwrap();
        assert_eq!(h.objects("roles").iter().filter(|x| x["branch_id"] == bid && x["name"] == "app").count(), 1);
    }
    let reqs = h.requests();
    assert!(reqs.iter().any(|r| r.fault.as_deref() == Some("429") || r.fault.as_deref() == Some("503")));
    assert!(reqs.iter().any(|r| r.status == 423), "concurrent mutations of one project meet 423 Locked and retry");
}

#[tokio::test]
async fn permanent_errors_carry_the_api_message() {
    let (h, p) = setup().await;
    let b = main_branch(&h);
    let e = res(&p, "neon_database")
        .create(
            &planned(
                &database::schema(),
                &[
                    ("project_id", s(SEED_PROJECT_ID)),
                    ("branch_id", s(&b)),
                    ("name", s("x")),
                    ("owner_name", s("nobody")),
                ],
            ),
            &ctx(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permanent);
    assert!(e.summary.contains("owner role \"nobody\" does not exist") && e.summary.contains("(400)"), "{}", e.summary);
    let e = res(&p, "neon_branch")
        .create(&planned(&branch::schema(), &[("project_id", s("no-such-project")), ("name", s("x"))]), &ctx())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(e.summary.contains("project no-such-project not found"), "{}", e.summary);
}

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    let (h, p) = setup().await;
    let b = main_branch(&h);
    let (logs, _guard) = LogCapture::install();
    h.set_faults(FaultConfig { drop_after_commit: 1, ..Default::default() });
    let r = res(&p, "neon_role")
        .create(
            &planned(&role::schema(), &[("project_id", s(SEED_PROJECT_ID)), ("branch_id", s(&b)), ("name", s("app"))]),
            &ctx(),
        )
        .await
        .unwrap();
    res(&p, "neon_role").read(&r, &ctx()).await.unwrap();
    let cfg = Value::map([
        ("project_id", s(SEED_PROJECT_ID)),
        ("database_name", s("neondb")),
        ("role_name", s("app")),
        ("branch_id", Value::Null),
        ("endpoint_id", Value::Null),
        ("pooled", Value::Null),
        ("uri", Value::Unknown),
    ]);
    let uri = p.data_source("neon_connection_uri").unwrap().read(&cfg, &ctx()).await.unwrap();
    let password = get_str(&r, "password");
    let text = logs.text();
    assert!(text.contains("reveal_password") && text.contains("connection_uri"), "calls are logged:\n{text}");
    assert!(!text.contains(&password), "the role password leaked:\n{text}");
    assert!(!text.contains(&get_str(&uri, "uri")), "the connection URI leaked:\n{text}");
    assert!(!text.contains("test-key"), "the API key leaked");
}

#[tokio::test]
async fn configure_needs_a_key_and_a_url() {
    let p = NeonProvider;
    let e = p.configure(&Value::map([("api_key", s("k")), ("endpoint", s("console.neon.tech"))])).await.err().unwrap();
    assert!(e.summary.contains("http"), "{}", e.summary);
    assert!(p.configure(&Value::map([("api_key", s("k")), ("endpoint", Value::Null)])).await.is_ok());
}

/// A provider on the same emulator that never retries: a lost answer fails its create the
/// way a crash would leave it (committed, nobody told).
fn no_retry(h: &Handle) -> ConfiguredNeon {
    let mut cfg = NeonConfig::new(h.base_url(), "test-key");
    cfg.retry = RetryPolicy::none();
    cfg.poll_interval = (Duration::from_millis(5), Duration::from_millis(20));
    ConfiguredNeon::new(&cfg).unwrap()
}

fn token(t: &str) -> OpContext {
    OpContext { create_token: Some(t.into()), ..OpContext::default() }
}

/// What the engine hands `recover`: the planned value with unknowns as null.
fn as_intent(v: &Value) -> Value {
    v.clone().unknown_to_null()
}

fn recovered(r: Recovery) -> Value {
    match r {
        Recovery::Found(v) => v,
        other => panic!("expected Found, got {other:?}"),
    }
}

fn unknown(r: Recovery) -> String {
    match r {
        Recovery::Unknown { reason } => reason,
        other => panic!("expected Unknown, got {other:?}"),
    }
}

/// Creates with the answer lost; returns the error (the object is committed).
async fn lost_create(h: &Handle, t: &str, plan: &Value, ctx: &OpContext) -> ProviderError {
    // Let earlier operations finish so the one create is not refused with 423.
    tokio::time::sleep(Duration::from_millis(60)).await;
    h.set_faults(FaultConfig { drop_after_commit: 1, ..Default::default() });
    let e = no_retry(h).resource(t).unwrap().create(plan, ctx).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transient, "a lost answer is not a refusal: {e}");
    e
}

#[tokio::test]
async fn interrupted_branch_creates_are_recovered_by_their_create_token() {
    let (h, p) = setup().await;
    let r = res(&p, "neon_branch");
    // Neon picks the name: only the annotation can tell which branch the create made.
    let unnamed = planned(&branch::schema(), &[("project_id", s(SEED_PROJECT_ID))]);
    lost_create(&h, "neon_branch", &unnamed, &token("tok-unnamed")).await;
    let made: Vec<Json> = h.objects("branches").into_iter().filter(|b| b["default"] == false).collect();
    assert_eq!(made.len(), 1);
    let found = recovered(r.recover(&as_intent(&unnamed), &token("tok-unnamed")).await.unwrap());
    assert_eq!(get_str(&found, "id"), made[0]["id"].as_str().unwrap());
    assert_eq!(get_str(&found, "parent_id"), main_branch(&h));
    assert_eq!(r.read(&found, &ctx()).await.unwrap().unwrap(), found);
    assert_eq!(r.recover(&as_intent(&unnamed), &token("tok-other")).await.unwrap(), Recovery::NotMade);
    assert!(unknown(r.recover(&as_intent(&unnamed), &ctx()).await.unwrap()).contains("no configured name"));

    // A named branch: the token finds it too, and a branch of that name made by another
    // create is not taken for ours.
    let named = planned(&branch::schema(), &[("project_id", s(SEED_PROJECT_ID)), ("name", s("tenant-x"))]);
    lost_create(&h, "neon_branch", &named, &token("tok-named")).await;
    let id = named_id(&h, "tenant-x");
    assert_eq!(get_str(&recovered(r.recover(&as_intent(&named), &token("tok-named")).await.unwrap()), "id"), id);
    let why = unknown(r.recover(&as_intent(&named), &token("tok-later")).await.unwrap());
    assert!(why.contains("another create") && why.contains(&format!("{SEED_PROJECT_ID}/{id}")), "{why}");
    // Made without a token (an older tenantform): found by name and parent.
    let old = planned(&branch::schema(), &[("project_id", s(SEED_PROJECT_ID)), ("name", s("tenant-old"))]);
    lost_create(&h, "neon_branch", &old, &ctx()).await;
    let id = named_id(&h, "tenant-old");
    assert_eq!(get_str(&recovered(r.recover(&as_intent(&old), &token("tok-old")).await.unwrap()), "id"), id);
    let other_parent = with(&old, &[("parent_id", s(&named_id(&h, "tenant-x")))]);
    assert!(unknown(r.recover(&as_intent(&other_parent), &token("tok-old")).await.unwrap()).contains("another parent"));
    let absent = planned(&branch::schema(), &[("project_id", s(SEED_PROJECT_ID)), ("name", s("never-made"))]);
    assert_eq!(r.recover(&as_intent(&absent), &token("tok-none")).await.unwrap(), Recovery::NotMade);
}

fn named_id(h: &Handle, name: &str) -> String {
    let b = named(h, "branches", name);
    assert_eq!(b.len(), 1, "{name}");
    b[0]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn interrupted_endpoint_and_database_creates_are_recovered() {
    let (h, p) = setup().await;
    let br = res(&p, "neon_branch")
        .create(&planned(&branch::schema(), &[("project_id", s(SEED_PROJECT_ID)), ("name", s("t3"))]), &ctx())
        .await
        .unwrap();
    let b = get_str(&br, "id");
    let ep = res(&p, "neon_endpoint");
    let rw = planned(
        &endpoint::schema(),
        &[("project_id", s(SEED_PROJECT_ID)), ("branch_id", s(&b)), ("autoscaling_limit_max_cu", Value::number(2))],
    );
    assert_eq!(ep.recover(&as_intent(&rw), &token("t")).await.unwrap(), Recovery::NotMade);
    lost_create(&h, "neon_endpoint", &rw, &token("t")).await;
    let made: Vec<Json> = h.objects("endpoints").into_iter().filter(|e| e["branch_id"] == b.as_str()).collect();
    assert_eq!(made.len(), 1);
    let found = recovered(ep.recover(&as_intent(&rw), &token("t")).await.unwrap());
    assert_eq!(get_str(&found, "id"), made[0]["id"].as_str().unwrap());
    assert_eq!(found.get("autoscaling_limit_max_cu"), Some(&Value::number(2)));
    let other = with(&rw, &[("autoscaling_limit_max_cu", Value::number(4))]);
    assert!(unknown(ep.recover(&as_intent(&other), &token("t")).await.unwrap()).contains("autoscaling_limit_max_cu"));
    // read_only endpoints are not unique per branch.
    let ro = with(&rw, &[("type", s("read_only"))]);
    assert_eq!(ep.recover(&as_intent(&ro), &token("t")).await.unwrap(), Recovery::NotMade);
    lost_create(&h, "neon_endpoint", &ro, &token("t2")).await;
    let why = unknown(ep.recover(&as_intent(&ro), &token("t2")).await.unwrap());
    assert!(why.contains("read_only") && why.contains("tenantform import"), "{why}");
    let gone = with(&rw, &[("branch_id", s("br-no-such-branch"))]);
    assert_eq!(ep.recover(&as_intent(&gone), &token("t")).await.unwrap(), Recovery::NotMade);

    let db = res(&p, "neon_database");
    let dp = planned(
        &database::schema(),
        &[
            ("project_id", s(SEED_PROJECT_ID)),
            ("branch_id", s(&b)),
            ("name", s("app")),
            ("owner_name", s("neondb_owner")),
        ],
    );
    assert_eq!(db.recover(&as_intent(&dp), &token("d")).await.unwrap(), Recovery::NotMade);
    lost_create(&h, "neon_database", &dp, &token("d")).await;
    let found = recovered(db.recover(&as_intent(&dp), &token("d")).await.unwrap());
    assert_eq!(get_str(&found, "id"), format!("{SEED_PROJECT_ID}/{b}/app"));
    let other = with(&dp, &[("owner_name", s("someone"))]);
    assert!(unknown(db.recover(&as_intent(&other), &token("d")).await.unwrap()).contains("owned by"));

    // Roles are named: the default recovery reads them back, password included.
    let rp = planned(&role::schema(), &[("project_id", s(SEED_PROJECT_ID)), ("branch_id", s(&b)), ("name", s("app"))]);
    assert_eq!(res(&p, "neon_role").recover(&as_intent(&rp), &token("r")).await.unwrap(), Recovery::NotMade);
    lost_create(&h, "neon_role", &rp, &token("r")).await;
    let found = recovered(res(&p, "neon_role").recover(&as_intent(&rp), &token("r")).await.unwrap());
    assert!(get_str(&found, "password").starts_with("npg_"));
}

#[tokio::test]
async fn a_failed_operation_after_the_object_exists_returns_it_as_partial() {
    let (h, p) = setup().await;
    let fail = |action: &str| {
        let action = action.to_string();
        h.core()
            .store
            .with(|c| c.insert("_fail_operations", &action, serde_json::json!({"action": action.clone(), "count": 1})))
    };
    fail("create_branch");
    let plan = planned(&branch::schema(), &[("project_id", s(SEED_PROJECT_ID)), ("name", s("doomed"))]);
    let e = res(&p, "neon_branch").create(&plan, &ctx()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permanent);
    assert!(e.summary.contains("create_branch") && e.summary.contains("failed"), "{}", e.summary);
    let partial = e.partial.expect("the branch exists");
    assert_eq!(get_str(&partial, "id"), named_id(&h, "doomed"));
    assert_eq!(get_str(&partial, "name"), "doomed");

    let b = get_str(&partial, "id");
    fail("start_compute");
    let e = res(&p, "neon_endpoint")
        .create(&planned(&endpoint::schema(), &[("project_id", s(SEED_PROJECT_ID)), ("branch_id", s(&b))]), &ctx())
        .await
        .unwrap_err();
    let partial = e.partial.expect("the endpoint exists");
    assert!(get_str(&partial, "id").starts_with("ep-"));
    assert_eq!(get_str(&partial, "branch_id"), b);
}

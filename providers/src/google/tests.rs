//! The google provider against the Google emulators over real HTTP: every resource's
//! lifecycle (create → read → update → read → delete → read gone), import, adoption on
//! `ALREADY_EXISTS`, long-running operations and their timeouts, injected 429/503 faults with
//! no duplicates, API messages in errors, the service-account JWT flow end to end, and a canary
//! proving the secret payload never reaches logs or errors.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value as Json;
use tenantform_emulators::{start, FaultConfig, Handle, Kind, Options};
use tenantform_engine::plan::diff::{changed_paths, proposed};
use tenantform_engine::provider::{ErrorKind, OpContext, PlanRequest, ResourceType};
use tenantform_engine::value::Value;

use base64::Engine as _;

use super::*;
use crate::support::diff;

const PROJECT: &str = "acme-prod";

async fn emulator(kind: Kind, delay_ms: u64) -> Handle {
    let opts = Options { operation_delay: Duration::from_millis(delay_ms), ..Default::default() };
    start(kind, opts).await.unwrap().1
}

fn provider() -> GoogleProvider {
    GoogleProvider::new().with_env(|_| None).with_pacing(crate::http::RetryPolicy::fast(), Duration::from_millis(20))
}

fn configure(secrets: Option<&Handle>, run: Option<&Handle>, extra: &[(&str, Value)]) -> Arc<Google> {
    let mut cfg = vec![
        ("project", Value::string(PROJECT)),
        ("region", Value::string("us-central1")),
        ("access_token", Value::string("test-token")),
    ];
    if let Some(h) = secrets {
        cfg.push(("secret_manager_custom_endpoint", Value::string(format!("{}/", h.base_url()))));
    }
    if let Some(h) = run {
        cfg.push(("cloud_run_v2_custom_endpoint", Value::string(format!("{}/", h.base_url()))));
    }
    for (k, v) in extra {
        cfg.retain(|(n, _)| n != k);
        cfg.push((k, v.clone()));
    }
    Arc::new(provider().build(&Value::map(cfg)).unwrap())
}

/// What the engine would plan for a new object, refined by the provider.
async fn plan_new(r: &dyn ResourceType, schema: &tenantform_engine::provider::Schema, config: Value) -> Value {
    let proposed = tenantform_engine::walk::with_unknown_computed(&config, schema);
    r.plan(PlanRequest { prior: None, config: config.clone(), proposed }).await.unwrap().planned
}

/// The changes a plan would show for `config` against `state` (empty = no diff).
fn diff_against(schema: &tenantform_engine::provider::Schema, state: &Value, config: &Value) -> Vec<String> {
    let p = proposed(schema, config, state, &[], false);
    changed_paths(schema, state, &p).iter().map(|p| tenantform_engine::value::path_to_string(p)).collect()
}

fn secret_config(id: &str, labels: &[(&str, &str)]) -> Value {
    Value::map([
        ("secret_id", Value::string(id)),
        ("project", Value::Null),
        ("labels", Value::map(labels.iter().map(|(k, v)| (*k, Value::string(*v))))),
        ("annotations", Value::Null),
        ("version_aliases", Value::Null),
        ("version_destroy_ttl", Value::Null),
        ("ttl", Value::Null),
        ("expire_time", Value::Null),
        ("deletion_protection", Value::Bool(false)),
        ("name", Value::Null),
        ("create_time", Value::Null),
        ("id", Value::Null),
        (
            "replication",
            Value::map([
                ("auto", Value::map([("customer_managed_encryption", Value::Null)])),
                ("user_managed", Value::Null),
            ]),
        ),
        ("topics", Value::List(vec![])),
        ("rotation", Value::Null),
        ("timeouts", Value::Null),
    ])
}

#[tokio::test]
async fn secret_lifecycle_import_and_adoption() {
    let h = emulator(Kind::SecretManager, 0).await;
    let g = configure(Some(&h), None, &[]);
    let r = secret_manager_secret::Secret::new(g.clone());
    let schema = secret_manager_secret::schema().schema;
    let ctx = OpContext::default();

    let cfg = secret_config("db-url", &[("tenant", "acme")]);
    let planned = plan_new(&r, &schema, cfg.clone()).await;
    assert_eq!(planned.get("id"), Some(&Value::string("projects/acme-prod/secrets/db-url")));
    let s = r.create(&planned, &ctx).await.unwrap();
    assert!(s.get("name").and_then(Value::as_str).unwrap().ends_with("/secrets/db-url"));
    assert!(s.get("create_time").and_then(Value::as_str).is_some());
    let read = r.read(&s, &ctx).await.unwrap().unwrap();
    assert_eq!(read, s);
    assert!(diff_against(&schema, &read, &cfg).is_empty(), "{:?}", diff_against(&schema, &read, &cfg));

    // Update in place (PATCH with updateMask=labels), then drift made outside is seen.
    let cfg2 = secret_config("db-url", &[("tenant", "acme"), ("tier", "gold")]);
    let p2 = proposed(&schema, &cfg2, &read, &[], false);
    let u = r.update(&read, &p2, &ctx).await.unwrap();
    assert_eq!(u.get("labels").unwrap().get("tier"), Some(&Value::string("gold")));
    assert_eq!(r.read(&u, &ctx).await.unwrap().unwrap(), u);

    // Imports in the three Terraform forms.
    for id in ["projects/acme-prod/secrets/db-url", "acme-prod/db-url", "db-url"] {
        let imported = r.import(id, &ctx).await.unwrap();
        assert_eq!(imported.get("labels"), u.get("labels"), "{id}");
        assert_eq!(imported.get("id"), u.get("id"));
    }
    assert_eq!(r.import("nope", &ctx).await.unwrap_err().kind, ErrorKind::NotFound);

    // ALREADY_EXISTS from an identical secret is adopted; a different one is refused.
    let adopted = r.create(&p2, &ctx).await.unwrap();
    assert_eq!(adopted.get("name"), u.get("name"));
    let e = r.create(&secret_config("db-url", &[("tenant", "other")]), &ctx).await.unwrap_err();
    assert!(e.summary.contains("already exists") && e.help.as_deref().unwrap().contains("tenantform import"), "{e:?}");
    assert_eq!(h.objects("secrets").len(), 1);

    r.delete(&u, &ctx).await.unwrap();
    assert_eq!(r.read(&u, &ctx).await.unwrap(), None);
    r.delete(&u, &ctx).await.unwrap(); // gone = success

    // deletion_protection blocks destroy.
    let mut protected = secret_config("kept", &[]);
    diff::set(&mut protected, "deletion_protection", Value::Bool(true));
    let kept = r.create(&protected, &ctx).await.unwrap();
    assert!(r.delete(&kept, &ctx).await.unwrap_err().summary.contains("deletion_protection"));
}

#[tokio::test]
async fn permanent_errors_carry_the_api_message() {
    let h = emulator(Kind::SecretManager, 0).await;
    let g = configure(Some(&h), None, &[]);
    let r = secret_manager_secret::Secret::new(g);
    let e = r.create(&secret_config("bad-labels", &[("Tenant", "ACME")]), &OpContext::default()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permanent);
    assert!(e.summary.contains("Invalid label \"Tenant\""), "{}", e.summary);
    assert!(e.summary.contains("(400)"), "{}", e.summary);
}

/// A tracing subscriber writing everything (TRACE) into a buffer, for canary checks.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn version_config(secret: &str, data: &str) -> Value {
    Value::map([
        ("secret", Value::string(secret)),
        ("secret_data", Value::string(data)),
        ("is_secret_data_base64", Value::Bool(false)),
        ("enabled", Value::Bool(true)),
        ("deletion_policy", Value::string("DELETE")),
        ("timeouts", Value::Null),
    ])
}

#[tokio::test]
async fn secret_version_lifecycle_without_leaking_the_payload() {
    let logs = Captured::default();
    let sub = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(sub);
    const CANARY: &str = "postgres://admin:CANARY-7f3a9c@db.internal/acme";

    let h = emulator(Kind::SecretManager, 0).await;
    let g = configure(Some(&h), None, &[]);
    let ctx = OpContext::default();
    let secret = secret_manager_secret::Secret::new(g.clone()).create(&secret_config("db", &[]), &ctx).await.unwrap();
    let secret_id = secret.get("id").and_then(Value::as_str).unwrap().to_string();
    let r = secret_manager_secret_version::SecretVersion::new(g.clone());

    let v = r.create(&version_config(&secret_id, CANARY), &ctx).await.unwrap();
    assert_eq!(v.get("version"), Some(&Value::string("1")));
    assert_eq!(v.get("enabled"), Some(&Value::Bool(true)));
    assert_eq!(r.read(&v, &ctx).await.unwrap().unwrap(), v);
    // The emulator stored exactly our bytes (it verified the CRC32C we sent).
    let stored = &h.objects("secrets")[0]["_versions"][0];
    assert_eq!(stored["client_checksum"], serde_json::json!(true));

    // Disable in place, then read shows it.
    let mut off = v.clone();
    diff::set(&mut off, "enabled", Value::Bool(false));
    let off = r.update(&v, &off, &ctx).await.unwrap();
    assert_eq!(r.read(&off, &ctx).await.unwrap().unwrap().get("enabled"), Some(&Value::Bool(false)));
    let mut on = off.clone();
    diff::set(&mut on, "enabled", Value::Bool(true));
    let on = r.update(&off, &on, &ctx).await.unwrap();

    // Import reads the payload back through :access.
    let imported = r.import(on.get("id").and_then(Value::as_str).unwrap(), &ctx).await.unwrap();
    assert_eq!(imported.get("secret_data"), Some(&Value::string(CANARY)));

    // A lost answer to :addVersion is not replayed blindly: the new version is found and adopted.
    h.set_faults(FaultConfig { drop_after_commit: 1, ..Default::default() });
    let second = r.create(&version_config(&secret_id, "second-value"), &ctx).await.unwrap();
    assert_eq!(second.get("version"), Some(&Value::string("2")));
    assert_eq!(h.objects("secrets")[0]["_versions"].as_array().unwrap().len(), 2, "no duplicate version");
    h.set_faults(FaultConfig::default());

    // A too-large payload is refused before any call, without quoting it.
    let big = format!("{CANARY}{}", "x".repeat(70 * 1024));
    let e = r.create(&version_config(&secret_id, &big), &ctx).await.unwrap_err();
    assert!(!format!("{e:?}").contains("CANARY-7f3a9c"));

    // Delete destroys; a destroyed version reads as gone; deleting again is fine.
    r.delete(&on, &ctx).await.unwrap();
    assert_eq!(r.read(&on, &ctx).await.unwrap(), None);
    r.delete(&on, &ctx).await.unwrap();

    // An error path that mentions the version must not carry the payload either.
    let e = r.create(&version_config("projects/acme-prod/secrets/missing", CANARY), &ctx).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(!format!("{e:?}").contains("CANARY-7f3a9c"));

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("tenantform::http"), "trace logging was captured");
    assert!(!text.contains("CANARY-7f3a9c"), "the payload leaked into logs");
    let b64 = base64::engine::general_purpose::STANDARD.encode(CANARY);
    assert!(!text.contains(&b64[..24]), "the base64 payload leaked into logs");
}

#[tokio::test]
async fn secret_iam_member_lifecycle_and_import() {
    let h = emulator(Kind::SecretManager, 0).await;
    let g = configure(Some(&h), None, &[]);
    let ctx = OpContext::default();
    let secret = secret_manager_secret::Secret::new(g.clone()).create(&secret_config("db", &[]), &ctx).await.unwrap();
    let r = secret_manager_secret_iam_member::SecretIamMember::new(g.clone());
    let member = "serviceAccount:run-sa@acme-prod.iam.gserviceaccount.com";
    let cfg = |m: &str| {
        Value::map([
            ("secret_id", secret.get("id").cloned().unwrap()),
            ("project", Value::Null),
            ("role", Value::string("roles/secretmanager.secretAccessor")),
            ("member", Value::string(m)),
        ])
    };
    let a = r.create(&cfg(member), &ctx).await.unwrap();
    let b = r.create(&cfg("group:ops@example.com"), &ctx).await.unwrap();
    assert!(a.get("etag").and_then(Value::as_str).is_some());
    assert!(r.read(&a, &ctx).await.unwrap().is_some());
    let imported = r
        .import(&format!("projects/acme-prod/secrets/db roles/secretmanager.secretAccessor {member}"), &ctx)
        .await
        .unwrap();
    assert_eq!(imported.get("member"), Some(&Value::string(member)));
    r.delete(&a, &ctx).await.unwrap();
    assert_eq!(r.read(&a, &ctx).await.unwrap(), None);
    assert!(r.read(&b, &ctx).await.unwrap().is_some(), "the other member is untouched");
    r.delete(&a, &ctx).await.unwrap();
    assert!(r.validate(&cfg("bob")).len() == 1);
}

fn service_config(name: &str, image: &str, env_value: &str) -> Value {
    let env =
        |n: &str, v: Value, src: Value| Value::map([("name", Value::string(n)), ("value", v), ("value_source", src)]);
    let container = Value::map([
        ("name", Value::Null),
        ("image", Value::string(image)),
        ("command", Value::Null),
        ("args", Value::Null),
        ("working_dir", Value::Null),
        ("depends_on", Value::Null),
        (
            "env",
            Value::List(vec![
                env("MODE", Value::string(env_value), Value::Null),
                env(
                    "DATABASE_URL",
                    Value::Null,
                    Value::map([(
                        "secret_key_ref",
                        Value::map([("secret", Value::string("db-url")), ("version", Value::string("latest"))]),
                    )]),
                ),
            ]),
        ),
        ("resources", Value::Null),
        ("ports", Value::List(vec![])),
        ("volume_mounts", Value::List(vec![])),
    ]);
    let template = Value::map([
        ("revision", Value::Null),
        ("labels", Value::Null),
        ("annotations", Value::Null),
        ("timeout", Value::Null),
        ("service_account", Value::Null),
        ("execution_environment", Value::Null),
        ("encryption_key", Value::Null),
        ("max_instance_request_concurrency", Value::Null),
        ("session_affinity", Value::Null),
        ("scaling", Value::map([("min_instance_count", Value::number(0)), ("max_instance_count", Value::number(3))])),
        ("vpc_access", Value::Null),
        ("containers", Value::List(vec![container])),
        ("volumes", Value::List(vec![])),
    ]);
    let mut m = std::collections::BTreeMap::new();
    for (k, a) in &cloud_run_v2_service::schema().schema.attributes {
        m.insert(k.clone(), a.default.clone().unwrap_or(Value::Null));
    }
    m.insert("name".into(), Value::string(name));
    m.insert("location".into(), Value::string("us-central1"));
    m.insert("deletion_protection".into(), Value::Bool(false));
    m.insert("template".into(), template);
    m.insert("traffic".into(), Value::List(vec![]));
    m.insert("binary_authorization".into(), Value::Null);
    m.insert("scaling".into(), Value::Null);
    m.insert("timeouts".into(), Value::Null);
    Value::Map(m)
}

#[tokio::test]
async fn cloud_run_service_lifecycle_with_operations() {
    let h = emulator(Kind::CloudRun, 150).await;
    let g = configure(None, Some(&h), &[]);
    let r = cloud_run_v2_service::Service::new(g.clone());
    let schema = cloud_run_v2_service::schema().schema;
    let ctx = OpContext::default();

    let cfg = service_config("api", "us-docker.pkg.dev/cloudrun/container/hello", "prod");
    let planned = plan_new(&r, &schema, cfg.clone()).await;
    let s = r.create(&planned, &ctx).await.unwrap();
    assert_eq!(s.get("reconciling"), Some(&Value::Bool(false)));
    // The emulator serves the service itself, under the real host name.
    let uri = s.get("uri").and_then(Value::as_str).unwrap();
    assert!(uri.starts_with(&format!("http://{}/_run/api-", h.addr())) && uri.ends_with(".run.app"), "{uri}");
    let tc = &s.get("terminal_condition").and_then(Value::as_list).unwrap()[0];
    assert_eq!(tc.get("state"), Some(&Value::string("CONDITION_SUCCEEDED")));
    assert_eq!(s.get("generation"), Some(&Value::string("1")));
    // The v2 body went out: env from a secret, revision scaling.
    let stored = &h.objects("services")[0];
    assert_eq!(stored["template"]["containers"][0]["env"][1]["valueSource"]["secretKeyRef"]["secret"], "db-url");
    assert_eq!(stored["template"]["scaling"]["maxInstanceCount"], 3);

    // Server defaults (ports, resources, traffic, concurrency…) never show as a diff.
    let read = r.read(&s, &ctx).await.unwrap().unwrap();
    assert!(diff_against(&schema, &read, &cfg).is_empty(), "{:?}", diff_against(&schema, &read, &cfg));

    // Update: new env value → PATCH, new generation, rollout computed values unknown in plan.
    let cfg2 = service_config("api", "us-docker.pkg.dev/cloudrun/container/hello", "canary");
    let p2 = proposed(&schema, &cfg2, &read, &[], false);
    let plan = r.plan(PlanRequest { prior: Some(read.clone()), config: cfg2.clone(), proposed: p2 }).await.unwrap();
    assert!(plan.planned.get("generation").unwrap().is_unknown());
    let u = r.update(&read, &plan.planned, &ctx).await.unwrap();
    assert_eq!(u.get("generation"), Some(&Value::string("2")));
    let u_read = r.read(&u, &ctx).await.unwrap().unwrap();
    assert!(diff_against(&schema, &u_read, &cfg2).is_empty());

    // Drift: someone changed the image outside tenantform.
    h.core().store.with(|c| {
        let svc = c.get_mut("services", stored["name"].as_str().unwrap()).unwrap();
        svc["template"]["containers"][0]["image"] = Json::String("evil/image".into());
    });
    let drifted = r.read(&u_read, &ctx).await.unwrap().unwrap();
    assert_eq!(diff_against(&schema, &drifted, &cfg2), vec!["template.containers[0].image".to_string()]);

    // Imports in the three Terraform forms.
    for id in ["projects/acme-prod/locations/us-central1/services/api", "acme-prod/us-central1/api", "us-central1/api"]
    {
        let imported = r.import(id, &ctx).await.unwrap();
        assert_eq!(imported.get("id"), u.get("id"), "{id}");
    }

    // Adoption: the same create again (as after a lost answer) adopts, no duplicate.
    let again = r.create(&plan_new(&r, &schema, cfg2.clone()).await, &ctx).await;
    assert!(again.is_err(), "the live image differs (drift), so adoption must refuse");
    let repaired = r.update(&drifted, &proposed(&schema, &cfg2, &drifted, &[], false), &ctx).await.unwrap();
    let adopted = r.create(&plan_new(&r, &schema, cfg2.clone()).await, &ctx).await.unwrap();
    assert_eq!(adopted.get("uid"), repaired.get("uid"));
    assert_eq!(h.objects("services").len(), 1);

    // Delete waits for the operation; then the service is gone; deleting again is fine.
    r.delete(&adopted, &ctx).await.unwrap();
    assert_eq!(r.read(&adopted, &ctx).await.unwrap(), None);
    r.delete(&adopted, &ctx).await.unwrap();

    // deletion_protection (default true) blocks destroy.
    let mut protected = adopted.clone();
    diff::set(&mut protected, "deletion_protection", Value::Bool(true));
    assert!(r.delete(&protected, &ctx).await.unwrap_err().summary.contains("deletion_protection"));
}

#[tokio::test]
async fn cloud_run_operation_timeout_and_failed_rollout() {
    let h = emulator(Kind::CloudRun, 3_000).await;
    let g = configure(None, Some(&h), &[]);
    let r = cloud_run_v2_service::Service::new(g.clone());
    let ctx = OpContext::default();
    let mut cfg = service_config("slow", "hello", "x");
    diff::set(
        &mut cfg,
        "timeouts",
        Value::map([("create", Value::string("300ms")), ("update", Value::Null), ("delete", Value::Null)]),
    );
    let started = std::time::Instant::now();
    let e = r.create(&cfg, &ctx).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2), "the timeout bounded the wait");
    assert!(e.summary.contains("timed out") || e.summary.contains("did not finish"), "{}", e.summary);
    assert!(e.help.unwrap_or_default().contains("timeouts"));

    let h = emulator(Kind::CloudRun, 50).await;
    let g = configure(None, Some(&h), &[]);
    let r = cloud_run_v2_service::Service::new(g);
    let e = r.create(&service_config("broken", "gcr.io/acme/does-not-exist", "x"), &ctx).await.unwrap_err();
    assert!(e.summary.contains("Image 'gcr.io/acme/does-not-exist' not found"), "{}", e.summary);
}

#[tokio::test]
async fn cloud_run_public_invoker_member() {
    let h = emulator(Kind::CloudRun, 20).await;
    let g = configure(None, Some(&h), &[]);
    let ctx = OpContext::default();
    let svc =
        cloud_run_v2_service::Service::new(g.clone()).create(&service_config("web", "hello", "x"), &ctx).await.unwrap();
    let r = cloud_run_v2_service_iam_member::ServiceIamMember::new(g.clone());
    let cfg = Value::map([
        ("name", svc.get("id").cloned().unwrap()),
        ("location", Value::Null),
        ("project", Value::Null),
        ("role", Value::string("roles/run.invoker")),
        ("member", Value::string("allUsers")),
    ]);
    let m = r.create(&cfg, &ctx).await.unwrap();
    assert_eq!(m.get("location"), Some(&Value::string("us-central1")));
    assert!(r.read(&m, &ctx).await.unwrap().is_some());
    let imported = r
        .import("projects/acme-prod/locations/us-central1/services/web roles/run.invoker allUsers", &ctx)
        .await
        .unwrap();
    assert_eq!(imported.get("id"), m.get("id"));
    r.delete(&m, &ctx).await.unwrap();
    assert_eq!(r.read(&m, &ctx).await.unwrap(), None);
}

#[tokio::test]
async fn injected_429_and_503_converge_without_duplicates() {
    let sm = emulator(Kind::SecretManager, 0).await;
    let run = emulator(Kind::CloudRun, 20).await;
    let faults = FaultConfig { error_rate: 0.2, error_statuses: vec![429, 503], ..Default::default() };
    sm.set_faults(faults.clone());
    run.set_faults(faults);
    let g = configure(Some(&sm), Some(&run), &[]);
    let ctx = OpContext::default();
    let secrets = secret_manager_secret::Secret::new(g.clone());
    let versions = secret_manager_secret_version::SecretVersion::new(g.clone());
    let members = secret_manager_secret_iam_member::SecretIamMember::new(g.clone());
    let services = cloud_run_v2_service::Service::new(g.clone());
    for i in 0..8 {
        let s = secrets.create(&secret_config(&format!("tenant-{i}"), &[("tenant", "t")]), &ctx).await.unwrap();
        let id = s.get("id").and_then(Value::as_str).unwrap().to_string();
        versions.create(&version_config(&id, &format!("value-{i}")), &ctx).await.unwrap();
        let member = Value::map([
            ("secret_id", Value::string(&id)),
            ("project", Value::Null),
            ("role", Value::string("roles/secretmanager.secretAccessor")),
            ("member", Value::string("serviceAccount:run@acme-prod.iam.gserviceaccount.com")),
        ]);
        members.create(&member, &ctx).await.unwrap();
    }
    for i in 0..3 {
        services.create(&service_config(&format!("svc-{i}"), "hello", "x"), &ctx).await.unwrap();
    }
    let listed = sm.objects("secrets");
    assert_eq!(listed.len(), 8);
    for s in &listed {
        assert_eq!(s["_versions"].as_array().unwrap().len(), 1, "exactly one version per secret: {}", s["name"]);
    }
    assert_eq!(sm.objects("iam_policies").len(), 8);
    assert_eq!(run.objects("services").len(), 3);
    let injected = sm.requests().iter().filter(|r| r.fault.is_some()).count();
    assert!(injected > 0, "faults were injected");
}

#[tokio::test]
async fn service_account_key_flow_end_to_end() {
    let h = emulator(Kind::SecretManager, 0).await;
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("key.json");
    let token_uri = format!("http://{}/token", h.addr());
    std::fs::write(&key_path, tenantform_emulators::google::oauth::test_service_account_json(&token_uri)).unwrap();
    let g = configure(
        Some(&h),
        None,
        &[("access_token", Value::Null), ("credentials", Value::string(key_path.to_string_lossy()))],
    );
    let r = secret_manager_secret::Secret::new(g.clone());
    let ctx = OpContext::default();
    for i in 0..3 {
        r.create(&secret_config(&format!("sa-{i}"), &[]), &ctx).await.unwrap();
    }
    let tokens = h.objects("oauth_tokens");
    assert_eq!(tokens.len(), 1, "one token minted and cached");
    assert!(tokens[0]["uses"].as_u64().unwrap() >= 3, "API calls used the minted token");

    // A key the token endpoint does not trust is refused with Google's OAuth error.
    let json = tenantform_emulators::google::oauth::test_service_account_json(&token_uri)
        .replace("tenantform-test@", "stranger@");
    let g = configure(Some(&h), None, &[("access_token", Value::Null), ("credentials", Value::string(json))]);
    let e = secret_manager_secret::Secret::new(g).create(&secret_config("x", &[]), &ctx).await.unwrap_err();
    assert!(e.summary.contains("invalid_grant"), "{}", e.summary);

    // Environment variables, as the Terraform provider reads them.
    let path = key_path.to_string_lossy().to_string();
    let endpoint = format!("{}/", h.base_url());
    let p = provider().with_env(move |k| match k {
        "GOOGLE_APPLICATION_CREDENTIALS" => Some(path.clone()),
        "GOOGLE_SECRET_MANAGER_CUSTOM_ENDPOINT" => Some(endpoint.clone()),
        _ => None,
    });
    let g = p.build(&Value::map([("project", Value::Null)])).unwrap();
    assert_eq!(g.project.as_deref(), Some("emulated-project"), "project from the key file");
    let e = provider().build(&Value::map([("project", Value::string("p"))])).err().unwrap();
    assert!(e.summary.contains("no Google credentials"));
}

/// A configured provider that never retries: a lost answer fails its create the way a crash
/// would leave it (committed, nobody told).
fn configure_no_retry(secrets: Option<&Handle>, run: Option<&Handle>) -> Arc<Google> {
    let mut cfg = vec![
        ("project", Value::string(PROJECT)),
        ("region", Value::string("us-central1")),
        ("access_token", Value::string("test-token")),
    ];
    if let Some(h) = secrets {
        cfg.push(("secret_manager_custom_endpoint", Value::string(format!("{}/", h.base_url()))));
    }
    if let Some(h) = run {
        cfg.push(("cloud_run_v2_custom_endpoint", Value::string(format!("{}/", h.base_url()))));
    }
    let p = GoogleProvider::new()
        .with_env(|_| None)
        .with_pacing(crate::http::RetryPolicy::none(), Duration::from_millis(20));
    Arc::new(p.build(&Value::map(cfg)).unwrap())
}

fn recovered(r: tenantform_engine::provider::Recovery) -> Value {
    match r {
        tenantform_engine::provider::Recovery::Found(v) => v,
        other => panic!("expected Found, got {other:?}"),
    }
}

fn unknown(r: tenantform_engine::provider::Recovery) -> String {
    match r {
        tenantform_engine::provider::Recovery::Unknown { reason } => reason,
        other => panic!("expected Unknown, got {other:?}"),
    }
}

/// What the engine hands `recover`: the planned value with unknowns as null.
fn as_intent(v: &Value) -> Value {
    v.clone().unknown_to_null()
}

#[tokio::test]
async fn interrupted_secret_and_service_creates_are_recovered_by_name() {
    use tenantform_engine::provider::Recovery;
    let sm = emulator(Kind::SecretManager, 0).await;
    let run = emulator(Kind::CloudRun, 30).await;
    let g = configure(Some(&sm), Some(&run), &[]);
    let lossy = configure_no_retry(Some(&sm), Some(&run));
    let ctx = OpContext { create_token: Some("tok".into()), ..OpContext::default() };

    let secrets = secret_manager_secret::Secret::new(g.clone());
    let schema = secret_manager_secret::schema().schema;
    let planned = plan_new(&secrets, &schema, secret_config("lost", &[("tenant", "acme")])).await;
    assert_eq!(secrets.recover(&as_intent(&planned), &ctx).await.unwrap(), Recovery::NotMade);
    sm.set_faults(FaultConfig { drop_after_commit: 1, ..Default::default() });
    let e = secret_manager_secret::Secret::new(lossy.clone()).create(&planned, &ctx).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transient, "{e}");
    let found = recovered(secrets.recover(&as_intent(&planned), &ctx).await.unwrap());
    assert_eq!(found.get("name").and_then(Value::as_str), sm.objects("secrets")[0]["name"].as_str());
    assert!(diff_against(&schema, &found, &secret_config("lost", &[("tenant", "acme")])).is_empty());
    let other = plan_new(&secrets, &schema, secret_config("lost", &[("tenant", "other")])).await;
    let why = unknown(secrets.recover(&as_intent(&other), &ctx).await.unwrap());
    assert!(why.contains("labels") && why.contains("tenantform import"), "{why}");

    let services = cloud_run_v2_service::Service::new(g.clone());
    let rschema = cloud_run_v2_service::schema().schema;
    let planned = plan_new(&services, &rschema, service_config("lost", "hello", "x")).await;
    assert_eq!(services.recover(&as_intent(&planned), &ctx).await.unwrap(), Recovery::NotMade);
    run.set_faults(FaultConfig { drop_after_commit: 1, ..Default::default() });
    let e = cloud_run_v2_service::Service::new(lossy.clone()).create(&planned, &ctx).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transient, "{e}");
    let found = recovered(services.recover(&as_intent(&planned), &ctx).await.unwrap());
    assert_eq!(found.get("uid").and_then(Value::as_str), run.objects("services")[0]["uid"].as_str());
    let other = plan_new(&services, &rschema, service_config("lost", "other-image", "x")).await;
    let why = unknown(services.recover(&as_intent(&other), &ctx).await.unwrap());
    assert!(why.contains("template.containers[0].image"), "{why}");
    // The adoption check after ALREADY_EXISTS names the fields that differ, too.
    tokio::time::sleep(Duration::from_millis(60)).await;
    let e = services.create(&other, &ctx).await.unwrap_err();
    assert!(e.detail.unwrap_or_default().contains("template.containers[0].image: \"hello\" here"), "{}", e.summary);

    // IAM members are identified by what they say: the default recovery reads them back.
    let members = cloud_run_v2_service_iam_member::ServiceIamMember::new(g.clone());
    let member = Value::map([
        ("name", found.get("id").cloned().unwrap()),
        ("location", Value::Null),
        ("project", Value::Null),
        ("role", Value::string("roles/run.invoker")),
        ("member", Value::string("allUsers")),
    ]);
    assert_eq!(members.recover(&member, &ctx).await.unwrap(), Recovery::NotMade);
    let made = members.create(&member, &ctx).await.unwrap();
    assert_eq!(recovered(members.recover(&member, &ctx).await.unwrap()).get("id"), made.get("id"));
}

#[tokio::test]
async fn interrupted_secret_version_create_is_recovered_by_payload() {
    use tenantform_engine::provider::Recovery;
    let h = emulator(Kind::SecretManager, 0).await;
    let g = configure(Some(&h), None, &[]);
    let ctx = OpContext { create_token: Some("tok".into()), ..OpContext::default() };
    let secret = secret_manager_secret::Secret::new(g.clone()).create(&secret_config("db", &[]), &ctx).await.unwrap();
    let secret_id = secret.get("id").and_then(Value::as_str).unwrap().to_string();
    let r = secret_manager_secret_version::SecretVersion::new(g.clone());
    let plan = version_config(&secret_id, "v1-payload");
    assert_eq!(r.recover(&plan, &ctx).await.unwrap(), Recovery::NotMade, "no versions at all");

    // The add went through, the answer never came back (the process was stopped).
    let data = base64::engine::general_purpose::STANDARD.encode("v1-payload");
    let added: Json = reqwest::Client::new()
        .post(format!("{}/{secret_id}:addVersion", h.base_url()))
        .bearer_auth("test-token")
        .json(&serde_json::json!({"payload": {"data": data}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let found = recovered(r.recover(&plan, &ctx).await.unwrap());
    assert_eq!(found.get("name").and_then(Value::as_str), added["name"].as_str());
    assert_eq!(found.get("version"), Some(&Value::string("1")));
    assert_eq!(r.read(&found, &ctx).await.unwrap().unwrap(), found);
    assert_eq!(r.recover(&version_config(&secret_id, "never-added"), &ctx).await.unwrap(), Recovery::NotMade);

    // Someone added a version since: version 1 may or may not be this create's.
    let v2 = r.create(&version_config(&secret_id, "v2-payload"), &ctx).await.unwrap();
    let why = unknown(r.recover(&plan, &ctx).await.unwrap());
    assert!(why.contains("newer versions") && why.contains("versions/1"), "{why}");
    assert!(!why.contains("v1-payload"), "the payload is never quoted");
    // A disabled newest version cannot be compared.
    let mut off = v2.clone();
    diff::set(&mut off, "enabled", Value::Bool(false));
    r.update(&v2, &off, &ctx).await.unwrap();
    assert!(unknown(r.recover(&version_config(&secret_id, "v2-payload"), &ctx).await.unwrap()).contains("DISABLED"));
}

#[tokio::test]
async fn a_failed_rollout_returns_the_service_as_partial() {
    let h = emulator(Kind::CloudRun, 30).await;
    let g = configure(None, Some(&h), &[]);
    let r = cloud_run_v2_service::Service::new(g);
    let e = r
        .create(&service_config("broken", "gcr.io/acme/does-not-exist", "x"), &OpContext::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permanent);
    let partial = e.partial.expect("the service exists although its rollout failed");
    assert_eq!(partial.get("id"), Some(&Value::string("projects/acme-prod/locations/us-central1/services/broken")));
    assert_eq!(partial.get("uid").and_then(Value::as_str), h.objects("services")[0]["uid"].as_str());
    let tc = &partial.get("terminal_condition").and_then(Value::as_list).unwrap()[0];
    assert_eq!(tc.get("state"), Some(&Value::string("CONDITION_FAILED")));
}

#[tokio::test]
async fn default_values_google_omits_do_not_diff() {
    let h = emulator(Kind::CloudRun, 20).await;
    let g = configure(None, Some(&h), &[]);
    let r = cloud_run_v2_service::Service::new(g);
    let schema = cloud_run_v2_service::schema().schema;
    let ctx = OpContext::default();
    // min_instance_count = 0, cpu_idle = false, session_affinity = false, args = [].
    let mut cfg = service_config("zeros", "hello", "x");
    let mut template = cfg.get("template").unwrap().clone();
    diff::set(&mut template, "session_affinity", Value::Bool(false));
    let mut containers = template.get("containers").unwrap().as_list().unwrap().to_vec();
    diff::set(&mut containers[0], "args", Value::List(vec![]));
    diff::set(
        &mut containers[0],
        "resources",
        Value::map([
            ("limits", Value::Null),
            ("cpu_idle", Value::Bool(false)),
            ("startup_cpu_boost", Value::Bool(false)),
        ]),
    );
    diff::set(&mut template, "containers", Value::List(containers));
    diff::set(&mut cfg, "template", template);
    let planned = plan_new(&r, &schema, cfg.clone()).await;
    let s = r.create(&planned, &ctx).await.unwrap();
    // The wire answer leaves the zero values out, as proto3 JSON does.
    let raw: Json = reqwest::Client::new()
        .get(format!("{}/projects/acme-prod/locations/us-central1/services/zeros", h.base_url()))
        .bearer_auth("test-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(raw["template"]["scaling"].get("minInstanceCount").is_none(), "{}", raw["template"]["scaling"]);
    assert!(raw["template"]["containers"][0]["resources"].get("cpuIdle").is_none());
    assert!(raw.get("reconciling").is_none());
    let scaling = s.get("template").unwrap().get("scaling").unwrap();
    assert_eq!(scaling.get("min_instance_count"), Some(&Value::number(0)));
    let read = r.read(&s, &ctx).await.unwrap().unwrap();
    assert_eq!(read, s, "refresh is stable");
    assert!(diff_against(&schema, &read, &cfg).is_empty(), "{:?}", diff_against(&schema, &read, &cfg));
    // An import has no configuration to compare with: a computed count the API omitted is 0.
    let imported = r.import("us-central1/zeros", &ctx).await.unwrap();
    let scaling = imported.get("template").unwrap().get("scaling").unwrap();
    assert_eq!(scaling.get("min_instance_count"), Some(&Value::number(0)));
    // Adoption after a lost answer treats the omitted zeros as equal, too.
    let adopted = r.create(&plan_new(&r, &schema, cfg.clone()).await, &ctx).await.unwrap();
    assert_eq!(adopted.get("uid"), s.get("uid"));
}

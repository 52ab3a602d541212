//! The Cloudflare resources against the Cloudflare emulator, over real HTTP: lifecycles with
//! drift and import, waiting for `active`, adoption after a lost response, conflicts,
//! convergence under injected 429/503, and readable permanent errors.

use std::sync::Arc;
use std::time::Duration;

use tenantform_emulators::cloudflare::{SEED_ZONE_ID as ZONE, SEED_ZONE_NAME};
use tenantform_emulators::{start, FaultConfig, Handle, Kind, Options};
use tenantform_engine::provider::{ErrorKind, OpContext, Recovery, ResourceType};
use tenantform_engine::value::Value;

use super::*;
use crate::support::diff;
use crate::testkit::{get_str, planned, s, with};

async fn setup(delay: Duration) -> (Handle, ConfiguredCloudflare) {
    let (_, h) = start(Kind::Cloudflare, Options { operation_delay: delay, ..Options::default() }).await.unwrap();
    let mut cfg = CloudflareConfig::new(h.base_url(), "cf-token");
    cfg.retry = RetryPolicy::fast();
    cfg.poll_interval = (Duration::from_millis(10), Duration::from_millis(30));
    let p = ConfiguredCloudflare::new(&cfg).unwrap();
    (h, p)
}

fn ctx() -> OpContext {
    OpContext::default()
}

fn ch(p: &ConfiguredCloudflare) -> Arc<dyn ResourceType> {
    p.resource("cloudflare_custom_hostname").unwrap()
}

fn dns(p: &ConfiguredCloudflare) -> Arc<dyn ResourceType> {
    p.resource("cloudflare_dns_record").unwrap()
}

/// An `ssl` block as planned: unset attributes unknown (computed by the API).
fn ssl(method: &str, min_tls: Option<&str>) -> Value {
    let settings = match min_tls {
        Some(v) => Value::map([
            ("min_tls_version", s(v)),
            ("http2", Value::Unknown),
            ("tls_1_3", Value::Unknown),
            ("early_hints", Value::Unknown),
            ("ciphers", Value::Unknown),
        ]),
        None => Value::Null,
    };
    Value::map([
        ("method", s(method)),
        ("type", s("dv")),
        ("bundle_method", Value::Unknown),
        ("certificate_authority", Value::Unknown),
        ("wildcard", Value::Unknown),
        ("settings", settings),
    ])
}

fn hostname_plan(host: &str, ssl_block: Value) -> Value {
    planned(&custom_hostname::schema(), &[("zone_id", s(ZONE)), ("hostname", s(host)), ("ssl", ssl_block)])
}

#[tokio::test]
async fn custom_hostname_lifecycle_drift_and_import() {
    let (h, p) = setup(Duration::from_secs(600)).await;
    let r = ch(&p);
    let created = r.create(&hostname_plan("app.customer.com", ssl("txt", Some("1.2"))), &ctx()).await.unwrap();
    let id = get_str(&created, "id");
    assert_eq!(get_str(&created, "status"), "pending", "create does not wait by default");
    assert_eq!(get_str(&created, "ssl_status"), "initializing");
    let ov = created.get("ownership_verification").unwrap();
    assert_eq!(ov.get("name"), Some(&s("_cf-custom-hostname.app.customer.com")));
    assert_eq!(created.get("ssl").unwrap().get("bundle_method"), Some(&s("ubiquitous")), "computed by the API");
    assert_eq!(created.get("ssl").unwrap().get("settings").unwrap().get("min_tls_version"), Some(&s("1.2")));
    assert_eq!(r.read(&created, &ctx()).await.unwrap().unwrap(), created);

    let mut next = with(&created, &[("custom_metadata", Value::map([("tenant", s("acme"))]))]);
    diff::set(&mut next, "ssl", ssl("txt", Some("1.3")));
    let updated = r.update(&created, &next, &ctx()).await.unwrap();
    assert_eq!(updated.get("custom_metadata"), Some(&Value::map([("tenant", s("acme"))])));
    assert_eq!(updated.get("ssl").unwrap().get("settings").unwrap().get("min_tls_version"), Some(&s("1.3")));
    assert_eq!(r.read(&updated, &ctx()).await.unwrap().unwrap(), updated);

    // Drift: metadata changed behind our back.
    h.core()
        .store
        .with(|c| c.get_mut("custom_hostnames", &id).unwrap()["custom_metadata"] = serde_json::json!({"tenant": "x"}));
    let drifted = r.read(&updated, &ctx()).await.unwrap().unwrap();
    assert_eq!(drifted.get("custom_metadata"), Some(&Value::map([("tenant", s("x"))])));

    let imported = r.import(&format!("{ZONE}/{id}"), &ctx()).await.unwrap();
    assert_eq!(get_str(&imported, "hostname"), "app.customer.com");
    assert_eq!(imported.get("ssl").unwrap().get("method"), Some(&s("txt")));
    assert!(r.import("nozone", &ctx()).await.unwrap_err().summary.contains("<zone_id>/<custom_hostname_id>"));
    assert_eq!(r.import(&format!("{ZONE}/nope"), &ctx()).await.unwrap_err().kind, ErrorKind::NotFound);

    r.delete(&updated, &ctx()).await.unwrap();
    assert_eq!(r.read(&updated, &ctx()).await.unwrap(), None);
    r.delete(&updated, &ctx()).await.unwrap();
}

#[tokio::test]
async fn waits_for_active_and_fails_on_terminal_states() {
    let (_h, p) = setup(Duration::from_millis(200)).await;
    let r = ch(&p);
    let mut plan = hostname_plan("shop.customer.com", ssl("http", None));
    diff::set(&mut plan, "wait_for_active_status", Value::Bool(true));
    let created = r.create(&plan, &ctx()).await.unwrap();
    assert_eq!(get_str(&created, "status"), "active");
    assert_eq!(get_str(&created, "ssl_status"), "active");
    assert_eq!(created.get("ownership_verification"), Some(&Value::Null));

    let mut plan = hostname_plan("fail-validation.customer.com", ssl("txt", None));
    diff::set(&mut plan, "wait_for_active_status", Value::Bool(true));
    let e = r.create(&plan, &ctx()).await.unwrap_err();
    assert!(e.summary.contains("cannot become active") && e.summary.contains("validation_timed_out"), "{}", e.summary);
    assert!(e.detail.unwrap().contains("DCV record was not found"));

    let mut plan = hostname_plan("slow.customer.com", ssl("txt", None));
    diff::set(&mut plan, "wait_for_active_status", Value::Bool(true));
    diff::set(&mut plan, "timeouts", Value::map([("create", s("50ms")), ("update", Value::Null)]));
    let e = r.create(&plan, &ctx()).await.unwrap_err();
    assert!(e.summary.contains("timed out after 50ms waiting for custom hostname slow.customer.com"), "{}", e.summary);
    // The hostname exists: the next apply adopts it rather than failing on the duplicate.
    diff::set(&mut plan, "timeouts", Value::Null);
    assert_eq!(get_str(&r.create(&plan, &ctx()).await.unwrap(), "status"), "active");
}

#[tokio::test]
async fn lost_responses_are_adopted_and_real_conflicts_fail_loudly() {
    let (h, p) = setup(Duration::from_secs(600)).await;
    h.set_faults(FaultConfig { drop_after_commit: 1, ..Default::default() });
    let created = ch(&p).create(&hostname_plan("t1.customer.com", ssl("txt", None)), &ctx()).await.unwrap();
    assert_eq!(h.objects("custom_hostnames").len(), 1);
    assert_eq!(get_str(&created, "id"), h.objects("custom_hostnames")[0]["id"].as_str().unwrap());

    let e = ch(&p).create(&hostname_plan("t1.customer.com", ssl("http", None)), &ctx()).await.unwrap_err();
    assert!(e.summary.contains("already exists") && e.summary.contains("ssl.method"), "{}", e.summary);
    assert!(e.help.unwrap().contains(&format!("{ZONE}/")));

    h.set_faults(FaultConfig { drop_after_commit: 1, ..Default::default() });
    let rec = planned(
        &dns_record::schema(),
        &[
            ("zone_id", s(ZONE)),
            ("name", s("t1")),
            ("type", s("CNAME")),
            ("content", s("edge.saas.example")),
            ("ttl", Value::number(300)),
        ],
    );
    let r = dns(&p).create(&rec, &ctx()).await.unwrap();
    assert_eq!(h.objects("dns_records").len(), 1);
    assert_eq!(get_str(&r, "name"), "t1");
    let faults: Vec<_> = h.requests().into_iter().filter_map(|r| r.fault).collect();
    assert_eq!(faults, ["dropped_after_commit", "dropped_after_commit"]);

    // A CNAME with other content under the same name is someone else's record.
    let other = with(&rec, &[("content", s("elsewhere.example"))]);
    let e = dns(&p).create(&other, &ctx()).await.unwrap_err();
    assert!(
        e.summary.contains("The record already exists. [code 81057]") && e.summary.contains("(400)"),
        "{}",
        e.summary
    );
    assert!(e.help.unwrap().contains("import"));
    // An A record where a CNAME lives.
    let a = with(&rec, &[("type", s("A")), ("content", s("192.0.2.1"))]);
    let e = dns(&p).create(&a, &ctx()).await.unwrap_err();
    assert!(e.summary.contains("A CNAME record with that host already exists. [code 81054]"), "{}", e.summary);
}

#[tokio::test]
async fn dns_record_lifecycle_drift_and_import() {
    let (h, p) = setup(Duration::from_millis(10)).await;
    let r = dns(&p);
    let plan = planned(
        &dns_record::schema(),
        &[
            ("zone_id", s(ZONE)),
            ("name", s("@")),
            ("type", s("A")),
            ("content", s("192.0.2.10")),
            ("proxied", Value::Bool(true)),
        ],
    );
    let created = r.create(&plan, &ctx()).await.unwrap();
    assert_eq!(get_str(&created, "name"), "@", "the written form is kept");
    assert_eq!(created.get("ttl"), Some(&Value::number(1)));
    assert_eq!(created.get("proxiable"), Some(&Value::Bool(true)));
    assert_eq!(created.get("tags"), Some(&Value::Null));
    assert_eq!(r.read(&created, &ctx()).await.unwrap().unwrap(), created);
    let id = get_str(&created, "id");
    assert_eq!(h.core().store.get("dns_records", &id).unwrap()["name"], SEED_ZONE_NAME);

    let next = with(
        &created,
        &[
            ("content", s("192.0.2.11")),
            ("ttl", Value::number(120)),
            ("proxied", Value::Bool(false)),
            ("comment", s("moved")),
        ],
    );
    let updated = r.update(&created, &next, &ctx()).await.unwrap();
    assert_eq!(get_str(&updated, "content"), "192.0.2.11");
    assert_eq!(updated.get("ttl"), Some(&Value::number(120)));
    assert_eq!(r.read(&updated, &ctx()).await.unwrap().unwrap(), updated);

    h.core().store.with(|c| c.get_mut("dns_records", &id).unwrap()["content"] = "198.51.100.1".into());
    assert_eq!(get_str(&r.read(&updated, &ctx()).await.unwrap().unwrap(), "content"), "198.51.100.1");

    let imported = r.import(&format!("{ZONE}/{id}"), &ctx()).await.unwrap();
    assert_eq!(get_str(&imported, "name"), SEED_ZONE_NAME);
    r.delete(&updated, &ctx()).await.unwrap();
    assert_eq!(r.read(&updated, &ctx()).await.unwrap(), None);
    r.delete(&updated, &ctx()).await.unwrap();
    assert_eq!(r.import(&format!("{ZONE}/{id}"), &ctx()).await.unwrap_err().kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn concurrent_creates_converge_under_injected_refusals() {
    let (h, p) = setup(Duration::from_millis(50)).await;
    h.set_faults(FaultConfig {
        error_rate: 0.2,
        retry_after_secs: Some(0),
        drop_after_commit_rate: 0.1,
        ..Default::default()
    });
    let mut tasks = Vec::new();
    for i in 0..10 {
        let (c, d) = (ch(&p), dns(&p));
        tasks.push(tokio::spawn(async move {
            let host = format!("tenant{i}.customer.com");
            c.create(&hostname_plan(&host, ssl("txt", None)), &ctx()).await?;
            let rec = planned(
                &dns_record::schema(),
                &[
                    ("zone_id", s(ZONE)),
                    ("name", s(&format!("tenant{i}"))),
                    ("type", s("CNAME")),
                    ("content", s("edge.saas.example")),
                ],
            );
            d.create(&rec, &ctx()).await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(h.objects("custom_hostnames").len(), 10);
    assert_eq!(h.objects("dns_records").len(), 10);
    for i in 0..10 {
        let name = format!("tenant{i}.{SEED_ZONE_NAME}");
        assert_eq!(h.objects("dns_records").iter().filter(|r| r["name"] == name.as_str()).count(), 1);
    }
    assert!(h.requests().iter().any(|r| r.status == 429 || r.status == 503));
}

#[tokio::test]
async fn permanent_errors_carry_the_api_message() {
    let (_h, p) = setup(Duration::from_millis(10)).await;
    let rec = planned(
        &dns_record::schema(),
        &[
            ("zone_id", s(ZONE)),
            ("name", s("x")),
            ("type", s("A")),
            ("content", s("192.0.2.1")),
            ("ttl", Value::number(30)),
        ],
    );
    assert_eq!(dns(&p).validate(&rec).len(), 1);
    let e = dns(&p).create(&rec, &ctx()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permanent);
    assert!(e.summary.contains("Invalid TTL") && e.summary.contains("[code 9021]"), "{}", e.summary);
    let e = ch(&p)
        .create(&planned(&custom_hostname::schema(), &[("zone_id", s("0000")), ("hostname", s("a.b.com"))]), &ctx())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(e.summary.contains("[code 7003]"), "{}", e.summary);
}

#[tokio::test]
async fn bad_token_is_explained() {
    let (_, h) = start(Kind::Cloudflare, Options { token: Some("right".into()), ..Options::default() }).await.unwrap();
    let p = ConfiguredCloudflare::new(&CloudflareConfig::new(h.base_url(), "wrong")).unwrap();
    let e = dns(&p).import(&format!("{ZONE}/abc"), &ctx()).await.unwrap_err();
    assert!(e.summary.contains("(401)") && e.help.unwrap().contains("CLOUDFLARE_API_TOKEN"), "{}", e.summary);
}

/// A provider that never retries, so a lost answer fails the create the way a crash would
/// leave it: the object committed, nobody told.
async fn setup_no_retry() -> (Handle, ConfiguredCloudflare) {
    let (_, h) = start(Kind::Cloudflare, Options { operation_delay: Duration::from_secs(600), ..Options::default() })
        .await
        .unwrap();
    let mut cfg = CloudflareConfig::new(h.base_url(), "cf-token");
    cfg.retry = RetryPolicy::none();
    let p = ConfiguredCloudflare::new(&cfg).unwrap();
    (h, p)
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

#[tokio::test]
async fn interrupted_dns_record_create_is_recovered_by_type_name_and_content() {
    let (h, p) = setup_no_retry().await;
    let rec = planned(
        &dns_record::schema(),
        &[("zone_id", s(ZONE)), ("name", s("api")), ("type", s("CNAME")), ("content", s("edge.saas.example"))],
    );
    let ctx = OpContext { create_token: Some("tok-1".into()), ..OpContext::default() };
    h.set_faults(FaultConfig { drop_after_commit: 1, ..Default::default() });
    let e = dns(&p).create(&rec, &ctx).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transient, "a lost answer is not a refusal: {e}");
    let stored = h.objects("dns_records");
    assert_eq!(stored.len(), 1, "the record was committed");

    let found = recovered(dns(&p).recover(&as_intent(&rec), &ctx).await.unwrap());
    assert_eq!(get_str(&found, "id"), stored[0]["id"].as_str().unwrap());
    assert_eq!(get_str(&found, "zone_id"), ZONE);
    assert_eq!(get_str(&found, "name"), "api", "the written form is kept");
    assert_eq!(dns(&p).read(&found, &ctx).await.unwrap().unwrap(), found);

    // Nothing of that content under that name: nothing was made.
    let other = with(&rec, &[("content", s("other.saas.example"))]);
    assert_eq!(dns(&p).recover(&as_intent(&other), &ctx).await.unwrap(), Recovery::NotMade);
    let other = with(&rec, &[("name", s("www"))]);
    assert_eq!(dns(&p).recover(&as_intent(&other), &ctx).await.unwrap(), Recovery::NotMade);
}

#[tokio::test]
async fn interrupted_custom_hostname_create_is_recovered_by_hostname() {
    let (h, p) = setup_no_retry().await;
    let plan = hostname_plan("t9.customer.com", ssl("txt", None));
    h.set_faults(FaultConfig { drop_after_commit: 1, ..Default::default() });
    let e = ch(&p).create(&plan, &ctx()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transient, "{e}");
    let stored = h.objects("custom_hostnames");
    assert_eq!(stored.len(), 1);

    let found = recovered(ch(&p).recover(&as_intent(&plan), &ctx()).await.unwrap());
    assert_eq!(get_str(&found, "id"), stored[0]["id"].as_str().unwrap());
    assert_eq!(get_str(&found, "zone_id"), ZONE);
    assert_eq!(found.get("ssl").unwrap().get("method"), Some(&s("txt")));

    assert_eq!(
        ch(&p).recover(&as_intent(&hostname_plan("t10.customer.com", ssl("txt", None))), &ctx()).await.unwrap(),
        Recovery::NotMade
    );
    // Same hostname, other validation method: not provably ours.
    match ch(&p).recover(&as_intent(&hostname_plan("t9.customer.com", ssl("http", None))), &ctx()).await.unwrap() {
        Recovery::Unknown { reason } => {
            assert!(
                reason.contains("ssl.method") && reason.contains(&format!("tenantform import <address> {ZONE}/")),
                "{reason}"
            )
        }
        other => panic!("expected Unknown, got {other:?}"),
    }
}

#[tokio::test]
async fn a_hostname_that_fails_validation_is_returned_as_a_partial_object() {
    let (h, p) = setup(Duration::from_millis(50)).await;
    let mut plan = hostname_plan("fail-validation.shop.com", ssl("txt", None));
    diff::set(&mut plan, "wait_for_active_status", Value::Bool(true));
    let e = ch(&p).create(&plan, &ctx()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Permanent);
    let partial = e.partial.expect("the hostname exists: the error carries it");
    assert_eq!(get_str(&partial, "id"), h.objects("custom_hostnames")[0]["id"].as_str().unwrap());
    assert_eq!(get_str(&partial, "ssl_status"), "validation_timed_out");
    assert_eq!(get_str(&partial, "zone_id"), ZONE);
    assert_eq!(partial.get("wait_for_active_status"), Some(&Value::Bool(true)));
}

#[tokio::test]
async fn dns_records_keep_the_zone_id_the_api_no_longer_returns() {
    let (h, p) = setup(Duration::from_millis(10)).await;
    let plan = planned(
        &dns_record::schema(),
        &[("zone_id", s(ZONE)), ("name", s("mail")), ("type", s("TXT")), ("content", s("\"v=spf1 -all\""))],
    );
    let created = dns(&p).create(&plan, &ctx()).await.unwrap();
    let id = get_str(&created, "id");
    // The API's own answer has no zone_id / zone_name any more.
    let raw: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/zones/{ZONE}/dns_records/{id}", h.base_url()))
        .bearer_auth("cf-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(raw["result"]["id"], id.as_str());
    assert!(raw["result"].get("zone_id").is_none() && raw["result"].get("zone_name").is_none(), "{raw}");
    assert_eq!(get_str(&created, "zone_id"), ZONE);
    let read = dns(&p).read(&created, &ctx()).await.unwrap().unwrap();
    assert_eq!(get_str(&read, "zone_id"), ZONE);
    assert_eq!(read, created, "no diff on refresh");
    assert_eq!(get_str(&dns(&p).import(&format!("{ZONE}/{id}"), &ctx()).await.unwrap(), "zone_id"), ZONE);
}

//! `http_health_check` against a small local server whose answers the test scripts.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, Method as AxMethod, StatusCode};
use axum::routing::any;
use axum::Router;
use tenantform_engine::provider::{ErrorKind, OpContext, PlanRequest, ResourceType};
use tenantform_engine::value::Value;

use super::*;
use crate::testkit::{planned, with};

/// What the server saw and what it answers next.
#[derive(Default)]
struct Script {
    /// Answers in order; the last one repeats.
    answers: Vec<(u16, String)>,
    seen: Vec<(String, Option<String>, String)>,
}

struct Server {
    url: String,
    script: Arc<Mutex<Script>>,
    hits: Arc<AtomicUsize>,
}

async fn server(answers: &[(u16, &str)]) -> Server {
    let script = Arc::new(Mutex::new(Script {
        answers: answers.iter().map(|(s, b)| (*s, b.to_string())).collect(),
        seen: Vec::new(),
    }));
    let hits = Arc::new(AtomicUsize::new(0));
    let (sc, h) = (script.clone(), hits.clone());
    let app = Router::new().route(
        "/{*rest}",
        any(move |m: AxMethod, headers: HeaderMap, body: String| {
            let (sc, h) = (sc.clone(), h.clone());
            async move {
                let n = h.fetch_add(1, Ordering::SeqCst);
                let mut s = sc.lock().unwrap();
                let token = headers.get("x-token").and_then(|v| v.to_str().ok()).map(str::to_string);
                s.seen.push((m.to_string(), token, body));
                let (status, text) = s.answers[n.min(s.answers.len() - 1)].clone();
                (StatusCode::from_u16(status).unwrap(), text)
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    Server { url: format!("http://{addr}/healthz"), script, hits }
}

fn check() -> HealthCheck {
    HealthCheck::new(reqwest::Client::new())
}

fn config(url: &str, set: &[(&str, Value)]) -> Value {
    let mut all: Vec<(&str, Value)> =
        vec![("url", Value::string(url)), ("interval", Value::string("10ms")), ("timeout", Value::string("2s"))];
    all.extend(set.iter().cloned());
    planned(&schema(), &all)
}

#[tokio::test]
async fn passes_and_records_what_it_saw() {
    let srv = server(&[(200, "ok acme")]).await;
    let cfg = config(
        &srv.url,
        &[
            ("method", Value::string("post")),
            ("request_headers", Value::map([("x-token", Value::string("t0ken"))])),
            ("request_body", Value::string("ping")),
            ("body_contains", Value::string("acme")),
        ],
    );
    assert!(check().validate(&cfg).is_empty());
    let out = check().create(&cfg, &OpContext::default()).await.unwrap();
    assert_eq!(out.get("status_code"), Some(&Value::number(200)));
    assert_eq!(out.get("attempts"), Some(&Value::number(1)));
    assert_eq!(out.get("id"), Some(&Value::string(srv.url.as_str())));
    assert!(out.get("last_checked").and_then(Value::as_str).unwrap().ends_with('Z'));
    let seen = &srv.script.lock().unwrap().seen;
    assert_eq!(seen[0], ("POST".to_string(), Some("t0ken".to_string()), "ping".to_string()));
}

#[tokio::test]
async fn waits_until_the_service_is_healthy() {
    let srv = server(&[(503, "starting"), (503, "starting"), (200, "ok")]).await;
    let out = check().create(&config(&srv.url, &[]), &OpContext::default()).await.unwrap();
    assert_eq!(out.get("attempts"), Some(&Value::number(3)));
    assert_eq!(srv.hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn consecutive_successes_restart_after_a_failure() {
    let srv = server(&[(200, ""), (500, ""), (200, ""), (200, "")]).await;
    let cfg = config(&srv.url, &[("consecutive_successes", Value::number(2))]);
    let out = check().create(&cfg, &OpContext::default()).await.unwrap();
    assert_eq!(out.get("attempts"), Some(&Value::number(4)));
}

#[tokio::test]
async fn failure_names_the_last_answer_without_secrets() {
    let srv = server(&[(500, "upstream connect error: container exited")]).await;
    let url = format!("{}?token=s3cret", srv.url.replace("http://", "http://user:pw@"));
    let cfg = config(
        &url,
        &[("timeout", Value::string("150ms")), ("request_headers", Value::map([("x-token", Value::string("t0ken"))]))],
    );
    let t = Instant::now();
    let e = check().create(&cfg, &OpContext::default()).await.unwrap_err();
    assert!(t.elapsed() >= Duration::from_millis(150) && t.elapsed() < Duration::from_secs(2));
    assert_eq!(e.kind, ErrorKind::Permanent, "the engine must not re-run a whole check");
    assert!(
        e.summary.contains(&format!(
            "health check GET {}?… did not pass within 150ms: answered 500 Internal Server Error (expected 200)",
            srv.url
        )),
        "{}",
        e.summary
    );
    assert_eq!(e.detail.as_deref(), Some("the last answer began with: upstream connect error: container exited"));
    let all = format!("{e:?}");
    for secret in ["s3cret", "pw@", "t0ken"] {
        assert!(!all.contains(secret), "{secret} in {all}");
    }
}

#[tokio::test]
async fn body_mismatch_and_unreachable_hosts_fail() {
    let srv = server(&[(200, "hello globex")]).await;
    let cfg = config(&srv.url, &[("body_contains", Value::string("acme")), ("timeout", Value::string("50ms"))]);
    let e = check().create(&cfg, &OpContext::default()).await.unwrap_err();
    assert!(e.summary.contains("answered 200 OK but the body does not contain \"acme\""), "{}", e.summary);

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cfg = config(&format!("http://127.0.0.1:{port}/"), &[("timeout", Value::string("50ms"))]);
    let e = check().create(&cfg, &OpContext::default()).await.unwrap_err();
    assert!(e.summary.contains("cannot connect"), "{}", e.summary);

    let cfg = config(
        &srv.url,
        &[("expected_status_codes", Value::List(vec![Value::number(204)])), ("timeout", Value::string("0"))],
    );
    let e = check().create(&cfg, &OpContext::default()).await.unwrap_err();
    assert!(
        e.summary.contains("answered 200 OK (expected 204)") && e.summary.contains("after 1 attempts"),
        "{}",
        e.summary
    );
}

#[tokio::test]
async fn cancellation_stops_the_wait() {
    let srv = server(&[(503, "")]).await;
    let ctx = OpContext::default();
    let c = ctx.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        c.cancel();
    });
    let cfg = config(&srv.url, &[("timeout", Value::string("1h")), ("interval", Value::string("10s"))]);
    let t = Instant::now();
    let e = check().create(&cfg, &ctx).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Cancelled);
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn read_never_requests_and_updates_check_only_when_inputs_change() {
    let srv = server(&[(200, "ok")]).await;
    let hc = check();
    let ctx = OpContext::default();
    let cfg = config(&srv.url, &[("triggers", Value::map([("revision", Value::string("r1"))]))]);
    let created = hc.create(&cfg, &ctx).await.unwrap();
    assert_eq!(hc.read(&created, &ctx).await.unwrap(), Some(created.clone()));
    assert_eq!(srv.hits.load(Ordering::SeqCst), 1, "read does not poll");

    // Pacing only: no request, the results stay.
    let paced = with(&created, &[("interval", Value::string("1s")), ("timeout", Value::string("1m"))]);
    let plan = hc
        .plan(PlanRequest { prior: Some(created.clone()), config: paced.clone(), proposed: paced.clone() })
        .await
        .unwrap();
    assert_eq!(plan.planned.get("status_code"), Some(&Value::number(200)));
    let updated = hc.update(&created, &paced, &ctx).await.unwrap();
    assert_eq!(updated.get("last_checked"), created.get("last_checked"));
    assert_eq!(srv.hits.load(Ordering::SeqCst), 1);

    // A new trigger: the plan says the results will change, the update checks again.
    let retrig = with(&created, &[("triggers", Value::map([("revision", Value::string("r2"))]))]);
    let plan = hc
        .plan(PlanRequest { prior: Some(created.clone()), config: retrig.clone(), proposed: retrig.clone() })
        .await
        .unwrap();
    assert_eq!(plan.planned.get("status_code"), Some(&Value::Unknown));
    assert_eq!(plan.planned.get("id"), created.get("id"));
    hc.update(&created, &plan.planned, &ctx).await.unwrap();
    assert_eq!(srv.hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn import_and_validation() {
    let hc = check();
    let v = hc.import("https://acme.example.com/healthz", &OpContext::default()).await.unwrap();
    assert_eq!(v.get("id"), Some(&Value::string("https://acme.example.com/healthz")));
    assert_eq!(v.get("status_code"), Some(&Value::Null));
    assert!(hc.import("ftp://x", &OpContext::default()).await.is_err());
    for a in schema().schema.attributes.values().filter(|a| a.is_settable()) {
        assert!(a.from_config_on_import, "every input is taken from the configuration on import");
    }
    let bad = config(
        "ftp://x/",
        &[
            ("method", Value::string("FETCH")),
            ("interval", Value::string("soon")),
            ("expected_status_codes", Value::List(vec![Value::number(200), Value::number(42)])),
            ("consecutive_successes", Value::number(0)),
        ],
    );
    let problems: Vec<String> = hc.validate(&bad).into_iter().map(|p| format!("{:?}: {}", p.path, p.message)).collect();
    assert_eq!(problems.len(), 5, "{problems:#?}");
    // Unknown values are not checked at plan time.
    assert!(hc.validate(&with(&bad, &[("url", Value::Unknown)])).len() == 4);
}

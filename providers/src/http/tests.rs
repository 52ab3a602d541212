//! Tests of the shared client against a tiny local axum server that answers from a script,
//! and a raw TCP listener that drops connections.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method as AxMethod, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tenantform_engine::provider::{ErrorKind, OpContext};

use super::*;

#[derive(Clone)]
struct Scripted {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

fn reply(status: u16, body: serde_json::Value) -> Scripted {
    Scripted { status, headers: vec![], body: body.to_string(), delay: Duration::ZERO }
}

#[derive(Clone, Debug)]
struct Seen {
    method: String,
    uri: String,
    auth: Option<String>,
    body: String,
}

#[derive(Clone, Default)]
struct Script {
    queue: Arc<Mutex<VecDeque<Scripted>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Script {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn scripted(State(s): State<Script>, method: AxMethod, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    s.seen.lock().unwrap().push(Seen {
        method: method.to_string(),
        uri: uri.to_string(),
        auth: headers.get("authorization").map(|v| v.to_str().unwrap().to_string()),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let next = s.queue.lock().unwrap().pop_front().unwrap_or_else(|| reply(200, json!({"ok": true})));
    tokio::time::sleep(next.delay).await;
    let mut resp = (StatusCode::from_u16(next.status).unwrap(), next.body).into_response();
    resp.headers_mut().insert("content-type", "application/json".parse().unwrap());
    for (k, v) in next.headers {
        resp.headers_mut().insert(k, v.parse().unwrap());
    }
    resp
}

async fn server(replies: Vec<Scripted>) -> (String, Script) {
    let script = Script::default();
    script.queue.lock().unwrap().extend(replies);
    let app = axum::Router::new().fallback(scripted).with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/v2"), script)
}

/// A listener that reads each request and closes the connection without answering.
async fn dropping_server() -> (String, Arc<Mutex<u32>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let count = Arc::new(Mutex::new(0u32));
    let c = count.clone();
    tokio::spawn(async move {
        loop {
            let (mut sock, _) = listener.accept().await.unwrap();
            *c.lock().unwrap() += 1;
            let mut buf = vec![0u8; 4096];
            let _ = tokio::io::AsyncReadExt::read(&mut sock, &mut buf).await;
            drop(sock);
        }
    });
    (format!("http://{addr}"), count)
}

fn client(base: &str) -> ApiClient {
    ApiClient::with_default_errors(ApiConfig::new("testapi", base).bearer("tok-123").retry(RetryPolicy::fast()))
        .unwrap()
}

struct Locked;
impl ErrorMapper for Locked {
    fn retry_refused(&self, status: u16, _body: &[u8]) -> bool {
        status == 423
    }
}

#[tokio::test]
async fn retries_refusals_then_succeeds_with_auth_and_query() {
    let (base, script) = server(vec![
        reply(503, json!({"message": "busy"})),
        reply(429, json!({"message": "slow down"})),
        reply(200, json!({"value": 7})),
    ])
    .await;
    let c = client(&base);
    let resp = c
        .send(&OpContext::default(), ApiRequest::post("/things").query("limit", "5").json(json!({"a": 1})))
        .await
        .unwrap();
    assert_eq!(resp.attempts, 3);
    assert_eq!(resp.json::<serde_json::Value>().unwrap()["value"], 7);
    let seen = script.seen();
    assert_eq!(seen.len(), 3, "429 and 503 are refusals: even a POST is retried");
    assert_eq!((seen[0].method.as_str(), seen[0].uri.as_str()), ("POST", "/v2/things?limit=5"));
    assert_eq!(seen[0].auth.as_deref(), Some("Bearer tok-123"));
    assert_eq!(seen[2].body, r#"{"a":1}"#);
}

#[tokio::test]
async fn honours_retry_after_seconds() {
    let mut limited = reply(429, json!({"message": "rate limited"}));
    limited.headers.push(("retry-after", "1".into()));
    let (base, _) = server(vec![limited, reply(200, json!({}))]).await;
    // Backoff alone would wait at most 20ms.
    let t = Instant::now();
    client(&base).send(&OpContext::default(), ApiRequest::get("/x")).await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(950), "waited {:?}", t.elapsed());
}

#[tokio::test]
async fn retry_after_beyond_the_budget_gives_up_at_once() {
    let mut limited = reply(429, json!({"message": "rate limited for a while"}));
    limited.headers.push(("retry-after", "300".into()));
    let (base, script) = server(vec![limited]).await;
    let t = Instant::now();
    let e = client(&base).send(&OpContext::default(), ApiRequest::get("/x")).await.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(e.status, Some(429));
    assert_eq!(e.kind(), ErrorKind::Transient);
    assert!(e.error.summary.contains("rate limited for a while"), "{}", e.error.summary);
    assert_eq!(script.seen().len(), 1);
}

#[tokio::test]
async fn gives_up_after_bounded_attempts_with_the_api_message() {
    let replies = (0..50).map(|_| reply(503, json!({"message": "backend unavailable"}))).collect();
    let (base, script) = server(replies).await;
    let c = ApiClient::with_default_errors(
        ApiConfig::new("testapi", &base).retry(RetryPolicy { max_attempts: 4, ..RetryPolicy::fast() }),
    )
    .unwrap();
    let e = c.send(&OpContext::default(), ApiRequest::get("/x")).await.unwrap_err();
    assert_eq!(script.seen().len(), 4);
    assert_eq!(e.kind(), ErrorKind::Transient);
    assert_eq!(e.error.summary, "testapi GET /x: backend unavailable (503)");
    assert!(e.error.detail.as_deref().unwrap().contains("gave up after 4 attempts"));
}

#[tokio::test]
async fn permanent_4xx_is_not_retried_and_404_is_not_found() {
    let (base, script) = server(vec![
        reply(400, json!({"code": "BAD", "message": "name is too long"})),
        reply(404, json!({"message": "no such branch"})),
    ])
    .await;
    let c = client(&base);
    let e = c.send(&OpContext::default(), ApiRequest::post("/b").json(json!({}))).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Permanent);
    assert_eq!(e.error.summary, "testapi POST /b: name is too long (400)");
    assert_eq!(e.body_json().unwrap()["code"], "BAD");
    let e = c.send(&OpContext::default(), ApiRequest::get("/b/1")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(script.seen().len(), 2);
}

#[tokio::test]
async fn ambiguous_5xx_replays_only_idempotent_requests() {
    let (base, script) = server(vec![reply(502, json!({})), reply(500, json!({"message": "internal"}))]).await;
    let c = client(&base);
    // GET: retried after 502, then 500 (retried again), then the default 200.
    c.send(&OpContext::default(), ApiRequest::get("/x")).await.unwrap();
    assert_eq!(script.seen().len(), 3);
    script.queue.lock().unwrap().push_back(reply(500, json!({"message": "internal"})));
    let e = c.send(&OpContext::default(), ApiRequest::post("/x")).await.unwrap_err();
    assert_eq!(script.seen().len(), 4, "a POST that may have happened is not replayed");
    assert_eq!(e.kind(), ErrorKind::Transient);
    script.queue.lock().unwrap().push_back(reply(500, json!({"message": "internal"})));
    c.send(&OpContext::default(), ApiRequest::post("/x").idempotent(true)).await.unwrap();
    assert_eq!(script.seen().len(), 6, "a create that is idempotent by name is replayed");
}

#[tokio::test]
async fn extra_refusals_from_the_mapper_are_retried() {
    let (base, script) = server(vec![reply(423, json!({"message": "project is locked"})), reply(201, json!({}))]).await;
    let c = ApiClient::new(ApiConfig::new("neonish", &base).retry(RetryPolicy::fast()), Arc::new(Locked)).unwrap();
    let r = c.send(&OpContext::default(), ApiRequest::post("/x")).await.unwrap();
    assert_eq!((r.status, script.seen().len()), (201, 2));
    // Without the predicate a 423 is final.
    script.queue.lock().unwrap().push_back(reply(423, json!({"message": "project is locked"})));
    let e = client(&base).send(&OpContext::default(), ApiRequest::post("/x")).await.unwrap_err();
    assert_eq!(e.status, Some(423));
}

#[tokio::test]
async fn lost_responses_are_not_replayed_for_non_idempotent_requests() {
    let (base, count) = dropping_server().await;
    let c = client(&base);
    let e = c.send(&OpContext::default(), ApiRequest::post("/things").json(json!({"name": "a"}))).await.unwrap_err();
    assert_eq!(*count.lock().unwrap(), 1);
    assert_eq!(e.kind(), ErrorKind::Transient, "not a refusal: the change may have happened");
    assert!(e.error.retried, "and never to be replayed by the engine");
    assert!(e.error.summary.contains("outcome is unknown"), "{}", e.error.summary);
    assert!(e.status.is_none());

    let c = ApiClient::with_default_errors(
        ApiConfig::new("testapi", &base).retry(RetryPolicy { max_attempts: 3, ..RetryPolicy::fast() }),
    )
    .unwrap();
    let e = c.send(&OpContext::default(), ApiRequest::get("/things")).await.unwrap_err();
    assert_eq!(*count.lock().unwrap(), 4, "a GET is replayed");
    assert_eq!(e.kind(), ErrorKind::Transient);
    assert!(e.error.detail.as_deref().unwrap().contains("gave up after 3 attempts"));
}

#[tokio::test]
async fn connection_refused_is_retried_then_transient() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    let c = ApiClient::with_default_errors(
        ApiConfig::new("testapi", format!("http://{addr}"))
            .retry(RetryPolicy { max_attempts: 3, ..RetryPolicy::fast() }),
    )
    .unwrap();
    let e = c.send(&OpContext::default(), ApiRequest::post("/x")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transient, "nothing was sent, so even a POST may be retried");
    assert!(e.error.summary.contains("could not connect"), "{}", e.error.summary);
    assert!(e.error.detail.unwrap().contains("gave up after 3 attempts"));
}

#[tokio::test]
async fn cancellation_stops_a_slow_call_and_a_backoff() {
    let mut slow = reply(200, json!({}));
    slow.delay = Duration::from_secs(30);
    let (base, _) = server(vec![slow]).await;
    let ctx = OpContext::default();
    let cancel = ctx.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        cancel.cancel();
    });
    let t = Instant::now();
    let e = client(&base).send(&ctx, ApiRequest::get("/slow")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled);
    assert!(t.elapsed() < Duration::from_secs(5));

    let mut limited = reply(429, json!({}));
    limited.headers.push(("retry-after", "20".into()));
    let (base, _) = server(vec![limited]).await;
    let ctx = OpContext::default();
    let cancel = ctx.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        cancel.cancel();
    });
    let c = ApiClient::with_default_errors(
        ApiConfig::new("t", &base).retry(RetryPolicy { max_elapsed: Duration::from_secs(60), ..RetryPolicy::fast() }),
    )
    .unwrap();
    let t = Instant::now();
    let e = c.send(&ctx, ApiRequest::get("/x")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled);
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn paginates_with_a_cursor() {
    let (base, script) = server(vec![
        reply(200, json!({"items": [1, 2], "pagination": {"next": "c1"}})),
        reply(200, json!({"items": [3], "pagination": {"next": "c2"}})),
        reply(200, json!({"items": [], "pagination": {}})),
    ])
    .await;
    let c = client(&base);
    let all: Vec<i64> = c
        .paginate(
            &OpContext::default(),
            10,
            |cursor| {
                let r = ApiRequest::get("/items");
                match cursor {
                    Some(cur) => r.query("cursor", cur),
                    None => r,
                }
            },
            |resp| json_page(resp, "items", Some("/pagination/next")),
        )
        .await
        .unwrap();
    assert_eq!(all, vec![1, 2, 3]);
    let uris: Vec<String> = script.seen().into_iter().map(|s| s.uri).collect();
    assert_eq!(uris, ["/v2/items", "/v2/items?cursor=c1", "/v2/items?cursor=c2"]);
}

#[tokio::test]
async fn logs_every_call_without_secrets() {
    let canary = "CANARY-s3cr3t-9f2c";
    let (base, _) = server(vec![
        reply(503, json!({"message": "busy"})),
        reply(201, json!({"role": {"name": "app", "password": canary}, "connection_uri": format!("postgresql://app:{canary}@h/db")})),
    ])
    .await;
    let (out, _guard) = crate::testkit::LogCapture::install();
    let c = ApiClient::with_default_errors(
        ApiConfig::new("testapi", &base)
            .bearer(canary)
            .retry(RetryPolicy::fast())
            .redact(["connection_uri", "payload.data"]),
    )
    .unwrap();
    c.send(
        &OpContext::default(),
        ApiRequest::post("/roles")
            .query("password", canary)
            .json(json!({"role": {"name": "app"}, "payload": {"data": canary}})),
    )
    .await
    .unwrap();
    let text = out.text();
    assert!(text.contains("http call") && text.contains("status=503") && text.contains("status=201"), "{text}");
    assert!(text.contains("attempt=2") && text.contains("latency_ms"), "{text}");
    assert!(text.contains("path=/roles?password=<redacted>"), "{text}");
    assert!(text.contains("response body") && text.contains(REDACTED), "{text}");
    assert!(!text.contains(canary), "a secret reached the log:\n{text}");
}

#[test]
fn rejects_a_base_url_without_scheme() {
    let e = ApiClient::with_default_errors(ApiConfig::new("neon", "console.neon.tech")).unwrap_err();
    assert!(e.summary.contains("http:// or https://"));
    assert!(!format!("{:?}", ApiConfig::new("x", "http://h").bearer("tok")).contains("tok\""));
}

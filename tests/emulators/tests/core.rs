//! The shared emulator machinery: strict fallbacks, auth, admin routes, fault injection and
//! the binary's startup line.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use tenantform_emulators::{start, FaultConfig, Kind, Options};

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

#[tokio::test]
async fn unknown_paths_auth_and_admin_routes() {
    let (addr, h) = start(Kind::Neon, Options::default()).await.unwrap();
    let base = format!("http://{addr}");
    let r = http().get(format!("{base}/api/v2/nope")).bearer_auth("t").send().await.unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("/api/v2/nope"), "{body}");

    let r = http().get(format!("{base}/api/v2/projects")).send().await.unwrap();
    assert_eq!(r.status(), 401, "no token");

    let r = http().get(format!("{base}/_emulator/objects")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = http().get(format!("{base}/_emulator/faults")).send().await.unwrap();
    assert_eq!(r.json::<FaultConfig>().await.unwrap(), FaultConfig::default());
    let r = http().put(format!("{base}/_emulator/faults")).json(&json!({"error_rate": 2})).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = http().post(format!("{base}/_emulator/reset")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(h.base_url(), format!("http://{addr}/api/v2"));
    let reqs = h.requests();
    assert!(reqs.is_empty(), "reset clears the request log: {reqs:?}");
}

#[tokio::test]
async fn injected_refusals_and_dropped_connections() {
    let (addr, h) = start(Kind::Cloudflare, Options::default()).await.unwrap();
    let url = format!("http://{addr}/client/v4/zones");
    h.set_faults(FaultConfig {
        error_rate: 1.0,
        error_statuses: vec![429],
        retry_after_secs: Some(3),
        ..Default::default()
    });
    let r = http().get(&url).bearer_auth("t").send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "3");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["success"], false, "{body}");

    h.set_faults(FaultConfig { drop_rate: 1.0, ..Default::default() });
    let e = http().get(&url).bearer_auth("t").send().await.unwrap_err();
    assert!(!e.is_connect(), "the connection was made, then dropped: {e}");
    let faults: Vec<_> = h.requests().into_iter().filter_map(|r| r.fault).collect();
    assert_eq!(faults, ["429", "dropped"]);
}

#[test]
fn binary_prints_the_bound_address_first() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tenantform-emulator"))
        .args(["cloudflare", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let second = lines.next().unwrap().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let addr: std::net::SocketAddr = first.parse().unwrap_or_else(|_| panic!("not an address: {first}"));
    assert_ne!(addr.port(), 0);
    assert!(second.contains(&format!("http://{first}/client/v4")), "{second}");
}

//! The emulators answer like the real APIs: status codes, body shapes, duplicate and lock
//! rules, and strict validation — checked over HTTP with a plain client.

use std::time::Duration;

use reqwest::Method as M;
use serde_json::{json, Value};
use tenantform_emulators::cloudflare::SEED_ZONE_ID;
use tenantform_emulators::neon::SEED_PROJECT_ID;
use tenantform_emulators::{start, Handle, Kind, Options};

async fn emu(kind: Kind, delay_ms: u64) -> Handle {
    start(kind, Options { operation_delay: Duration::from_millis(delay_ms), ..Options::default() }).await.unwrap().1
}

async fn call(method: M, url: String, body: Option<Value>) -> (u16, Value) {
    let mut r = reqwest::Client::new().request(method, url).bearer_auth("t");
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
}

#[tokio::test]
async fn neon_branches_operations_locks_and_conflicts() {
    let h = emu(Kind::Neon, 1000).await;
    let base = format!("{}/projects/{SEED_PROJECT_ID}", h.base_url());

    let (s, b) = call(M::POST, format!("{base}/branches"), Some(json!({"branch": {"name": 5}}))).await;
    assert_eq!(s, 400);
    assert!(b["code"].is_string() && b["message"].as_str().unwrap().contains("branch.name"), "{b}");

    let (s, b) = call(M::POST, format!("{base}/branches"), Some(json!({"branch": {"name": "dev"}}))).await;
    assert_eq!(s, 201, "{b}");
    for key in ["branch", "endpoints", "operations", "roles", "databases"] {
        assert!(b.get(key).is_some(), "{key} missing: {b}");
    }
    assert!(b.get("connection_uris").is_none(), "no endpoint, no connection URIs");
    assert_eq!(b["branch"]["current_state"], "init");
    let op = b["operations"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(b["operations"][0]["status"], "scheduling");
    let branch = b["branch"]["id"].as_str().unwrap().to_string();

    let (s, b) = call(M::POST, format!("{base}/branches/{branch}/roles"), Some(json!({"role": {"name": "x"}}))).await;
    assert_eq!(s, 423, "{b}");
    assert!(b["message"].is_string());

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (s, b) = call(M::GET, format!("{base}/operations/{op}"), None).await;
    assert_eq!((s, b["operation"]["status"].as_str()), (200, Some("finished")));

    let (s, b) = call(M::POST, format!("{base}/branches"), Some(json!({"branch": {"name": "dev"}}))).await;
    assert_eq!((s, b["message"].as_str()), (409, Some("branch already exists")));

    let (s, b) = call(
        M::POST,
        format!("{base}/branches"),
        Some(json!({"branch": {"name": "with-compute"}, "endpoints": [{"type": "read_write"}]})),
    )
    .await;
    assert_eq!(s, 201);
    let uri = b["connection_uris"][0]["connection_uri"].as_str().unwrap();
    assert!(uri.starts_with("postgresql://neondb_owner:npg_"), "{uri}");

    let (s, _) = call(M::POST, format!("{base}/endpoints"), Some(json!({"endpoint": {"branch_id": "br-x"}}))).await;
    assert_eq!(s, 400, "type is required");
    let (s, b) = call(M::DELETE, format!("{base}/branches/br-gone-long-ago"), None).await;
    assert_eq!((s, b), (204, Value::Null));
    let (s, _) = call(M::PUT, format!("{base}/branches"), None).await;
    assert_eq!(s, 405);
}

#[tokio::test]
async fn cloudflare_envelope_states_and_error_codes() {
    let h = emu(Kind::Cloudflare, 1000).await;
    let zone = format!("{}/zones/{SEED_ZONE_ID}", h.base_url());

    let (s, b) = call(M::POST, format!("{zone}/custom_hostnames"), Some(json!({"ssl": {"method": "txt"}}))).await;
    assert_eq!((s, &b["success"]), (400, &json!(false)));
    assert!(b["errors"][0]["code"].is_number() && b["result"].is_null(), "{b}");

    let body = json!({"hostname": "app.customer.com", "ssl": {"method": "txt", "type": "dv"}});
    let (s, b) = call(M::POST, format!("{zone}/custom_hostnames"), Some(body.clone())).await;
    assert_eq!((s, &b["success"]), (201, &json!(true)), "{b}");
    assert_eq!(b["result"]["status"], "pending");
    let id = b["result"]["id"].as_str().unwrap().to_string();
    let (s, b) = call(M::POST, format!("{zone}/custom_hostnames"), Some(body)).await;
    assert_eq!((s, &b["errors"][0]["code"]), (409, &json!(1406)));

    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, b) = call(M::GET, format!("{zone}/custom_hostnames/{id}"), None).await;
    assert_eq!(b["result"]["ssl"]["status"], "pending_validation");
    assert!(b["result"]["ssl"]["validation_records"][0]["txt_name"].as_str().unwrap().starts_with("_acme-challenge."));
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (_, b) = call(M::GET, format!("{zone}/custom_hostnames?hostname=app.customer.com"), None).await;
    let r = &b["result"][0];
    assert_eq!((r["status"].as_str(), r["ssl"]["status"].as_str()), (Some("active"), Some("active")));
    assert_eq!(b["result_info"]["total_count"], 1);
    let (s, _) = call(M::GET, format!("{zone}/custom_hostnames?per_page=1"), None).await;
    assert_eq!(s, 400);

    let (s, b) = call(M::DELETE, format!("{zone}/custom_hostnames/{id}"), None).await;
    assert_eq!((s, b), (200, json!({"id": id})), "a bare id, as the SDK expects");

    let rec = json!({"type": "A", "name": "www", "content": "192.0.2.1", "ttl": 1});
    let (s, b) = call(M::POST, format!("{zone}/dns_records"), Some(rec.clone())).await;
    assert_eq!(s, 200);
    assert_eq!(b["result"]["name"], "www.example.com");
    let (s, b) = call(M::POST, format!("{zone}/dns_records"), Some(rec)).await;
    assert_eq!((s, &b["errors"][0]["code"]), (400, &json!(81058)));
    let cname = json!({"type": "CNAME", "name": "www.example.com", "content": "x.example.net", "ttl": 1});
    let (_, b) = call(M::POST, format!("{zone}/dns_records"), Some(cname)).await;
    assert_eq!(b["errors"][0]["code"], 81053);
    let bad_ttl = json!({"type": "A", "name": "x", "content": "192.0.2.4", "ttl": 30});
    let (s, b) = call(M::POST, format!("{zone}/dns_records"), Some(bad_ttl)).await;
    assert_eq!((s, &b["errors"][0]["code"]), (400, &json!(9021)));
    let (s, b) = call(M::GET, format!("{zone}/dns_records/0000"), None).await;
    assert_eq!((s, &b["errors"][0]["code"]), (404, &json!(81044)));
}

/// Polls a Cloud Run operation until it is done.
async fn run_op_done(h: &Handle, op: &Value) -> Value {
    for _ in 0..200 {
        let (_, o) =
            call(M::GET, format!("{}/v2/{}", h.base_url().trim_end_matches("/v2"), op["name"].as_str().unwrap()), None)
                .await;
        if o["done"] == true {
            return o;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("operation never finished: {op}");
}

async fn get_text(url: &str) -> (u16, String) {
    let r = reqwest::Client::new().get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn cloud_run_services_serve_their_uri() {
    let h = emu(Kind::CloudRun, 10).await;
    let services = format!("{}/projects/demo/locations/us-central1/services", h.base_url());
    let body = |image: &str| {
        json!({"template": {"containers": [{"image": image, "env": [
            {"name": "TIER", "value": "pro"},
            {"name": "DATABASE_URL", "valueSource": {"secretKeyRef": {"secret": "db-url", "version": "3"}}},
        ]}]}})
    };
    let (s, op) = call(M::POST, format!("{services}?serviceId=shop"), Some(body("gcr.io/demo/app:1"))).await;
    assert_eq!(s, 200, "{op}");
    let done = run_op_done(&h, &op).await;
    let uri = done["response"]["uri"].as_str().unwrap().to_string();
    assert!(uri.starts_with(&format!("http://{}/_run/shop-", h.addr())), "{uri}");
    assert!(uri.ends_with(".us-central1.run.app"), "{uri}");

    let (s, page) = get_text(&format!("{uri}/healthz")).await;
    assert_eq!(s, 403, "not public yet: {page}");
    assert!(page.contains("Your client does not have permission to get URL <code>/healthz</code>"), "{page}");

    let (s, _) = call(
        M::POST,
        format!("{services}/shop:setIamPolicy"),
        Some(json!({"policy": {"bindings": [{"role": "roles/run.invoker", "members": ["allUsers"]}]}})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, text) = get_text(&format!("{uri}/healthz")).await;
    assert_eq!(s, 200, "{text}");
    let j: Value = serde_json::from_str(&text).unwrap();
    assert_eq!((j["service"].as_str(), j["path"].as_str()), (Some("shop"), Some("/healthz")));
    assert_eq!(j["env"]["TIER"], "pro");
    assert_eq!(j["env"]["DATABASE_URL"], json!({"secret": "db-url", "version": "3"}), "a reference, never a payload");
    assert_eq!(j["env"]["K_SERVICE"], "shop");
    let first_revision = j["revision"].clone();
    let (s, _) = get_text(done["response"]["urls"][1].as_str().unwrap()).await;
    assert_eq!(s, 200, "every URL serves");

    // An unhealthy image deploys, then answers 500.
    let (_, op) = call(M::PATCH, format!("{services}/shop"), Some(body("gcr.io/demo/app:unhealthy"))).await;
    run_op_done(&h, &op).await;
    let (s, text) = get_text(&uri).await;
    assert_eq!(s, 500, "{text}");
    assert!(text.contains("is unhealthy"), "{text}");

    // A rollout that fails keeps the last ready revision serving.
    let (_, op) = call(M::PATCH, format!("{services}/shop"), Some(body("gcr.io/demo/app:1"))).await;
    run_op_done(&h, &op).await;
    let (_, op) = call(M::PATCH, format!("{services}/shop"), Some(body("gcr.io/demo/does-not-exist"))).await;
    assert!(run_op_done(&h, &op).await.get("error").is_some());
    let (s, text) = get_text(&uri).await;
    assert_eq!(s, 200, "{text}");
    assert_ne!(serde_json::from_str::<Value>(&text).unwrap()["revision"], first_revision);

    let (_, op) = call(M::DELETE, format!("{services}/shop"), None).await;
    run_op_done(&h, &op).await;
    let (s, page) = get_text(&uri).await;
    assert_eq!(s, 404, "{page}");
    assert!(h.requests().iter().all(|r| !r.path.starts_with("/_run/")), "service traffic is not an API request");
}

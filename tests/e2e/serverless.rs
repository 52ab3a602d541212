//! The serverless SaaS stack of `examples/serverless-saas` — per merchant a Neon branch,
//! endpoint, role and database, the connection URI in Secret Manager, a Cloud Run service that
//! reads it, a public invoker binding, a health check, and a Cloudflare custom hostname for
//! merchants with a domain — applied by the real binary against the four API emulators
//! started in this process. Every test checks the state (`show -json`) and the emulators'
//! objects (their admin view), not only exit codes.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};
use tenantform_emulators::google::{iam, Projects};
use tenantform_emulators::{FaultConfig, Handle, Kind};

use crate::support::{count, plan_actions, Emulators, Stack};

const ZONE_ID: &str = "023e105f4ecef8ad9ca31a8372d0c353";
const US_PROJECT: &str = "emulated-project-000001";
const EU_PROJECT: &str = "merchants-eu";
const GOOGLE_PROJECT: &str = "merchants-demo";
const RUNTIME_SA: &str = "merchant-runtime@merchants-demo.iam.gserviceaccount.com";
const IMAGE: &str = "us-docker.pkg.dev/merchants-demo/apps/merchant-app:1.4.2";
/// Resources of a merchant without a domain (the data source aside).
const PER_MERCHANT: usize = 10;

/// One `tenants/<slug>.hcl`.
#[derive(Clone, Debug)]
struct Merchant {
    slug: String,
    plan: &'static str,
    region: &'static str,
    domain: Option<String>,
    image: Option<String>,
}

impl Merchant {
    fn new(slug: &str) -> Merchant {
        Merchant { slug: slug.into(), plan: "starter", region: "us", domain: None, image: None }
    }
    fn plan(mut self, p: &'static str) -> Merchant {
        self.plan = p;
        self
    }
    fn region(mut self, r: &'static str) -> Merchant {
        self.region = r;
        self
    }
    fn domain(mut self, d: &str) -> Merchant {
        self.domain = Some(d.into());
        self
    }
    fn image(mut self, i: &str) -> Merchant {
        self.image = Some(i.into());
        self
    }

    fn file(&self) -> String {
        let mut s =
            format!("tenant \"{}\" {{\n  plan   = \"{}\"\n  region = \"{}\"\n", self.slug, self.plan, self.region);
        if let Some(d) = &self.domain {
            s += &format!("  domain = \"{d}\"\n");
        }
        if let Some(i) = &self.image {
            s += &format!("  image  = \"{i}\"\n");
        }
        s + "}\n"
    }

    fn service(&self) -> String {
        format!("merchant-{}", self.slug)
    }

    fn location(&self) -> &'static str {
        if self.region == "eu" {
            "europe-west1"
        } else {
            "us-central1"
        }
    }

    fn neon_project(&self) -> &'static str {
        if self.region == "eu" {
            EU_PROJECT
        } else {
            US_PROJECT
        }
    }

    /// Every address the merchant has in state.
    fn addresses(&self) -> BTreeSet<String> {
        let mut a: BTreeSet<String> = [
            "neon_branch.db",
            "neon_endpoint.db",
            "neon_role.app",
            "neon_database.app",
            "google_secret_manager_secret.database_url",
            "google_secret_manager_secret_version.database_url",
            "google_secret_manager_secret_iam_member.runtime",
            "google_cloud_run_v2_service.app",
            "google_cloud_run_v2_service_iam_member.public",
            "http_health_check.app",
        ]
        .iter()
        .map(|r| format!("tenant.{}.{r}", self.slug))
        .collect();
        if self.domain.is_some() {
            a.insert(format!("tenant.{}.cloudflare_custom_hostname.domain[0]", self.slug));
        }
        a
    }
}

fn size(plan: &str) -> (&'static str, &'static str, i64) {
    match plan {
        "starter" => ("1", "512Mi", 2),
        "pro" => ("2", "1Gi", 10),
        _ => ("4", "2Gi", 50),
    }
}

fn number() -> String {
    Projects::default().number(GOOGLE_PROJECT)
}

fn secret_name(slug: &str) -> String {
    format!("projects/{}/secrets/merchant-{slug}-database-url", number())
}

fn service_name(slug: &str, location: &str) -> String {
    format!("projects/{}/locations/{location}/services/merchant-{slug}", number())
}

/// The example stack, pointed at a fresh set of emulators, with the given merchants.
struct World {
    emus: Emulators,
    stack: Stack,
}

impl World {
    fn new(merchants: &[Merchant]) -> World {
        Self::with_timeout(merchants, "5s")
    }

    fn with_timeout(merchants: &[Merchant], health_check_timeout: &str) -> World {
        let emus = Emulators::start(
            &[Kind::Neon, Kind::SecretManager, Kind::CloudRun, Kind::Cloudflare],
            Duration::from_millis(5),
        );
        let neon = emus.get(Kind::Neon).addr();
        let (status, body) = emus.rt.block_on(http(
            reqwest::Method::POST,
            &format!("http://{neon}/_emulator/projects"),
            Some(json!({"id": EU_PROJECT})),
        ));
        assert_eq!(status, 201, "{body}");
        let stack = Stack::from_example("serverless-saas");
        for f in std::fs::read_dir(stack.path().join("tenants")).unwrap() {
            std::fs::remove_file(f.unwrap().path()).unwrap();
        }
        let w = World { emus, stack };
        w.stack.write("emulators.auto.tfvars", &w.tfvars(health_check_timeout));
        for m in merchants {
            w.write(m);
        }
        w
    }

    fn tfvars(&self, health_check_timeout: &str) -> String {
        let base = |k: Kind| self.emus.get(k).base_url();
        format!(
            r#"neon_endpoint           = "{neon}"
neon_api_key            = "emulator"
google_access_token     = "emulator"
secret_manager_endpoint = "{sm}/"
cloud_run_endpoint      = "{run}/"
cloudflare_base_url     = "{cf}"
cloudflare_api_token    = "emulator"
cloudflare_zone_id      = "{ZONE_ID}"
google_project          = "{GOOGLE_PROJECT}"
runtime_service_account = "{RUNTIME_SA}"
app_image               = "{IMAGE}"
health_check_timeout    = "{health_check_timeout}"
regions = {{
  us = {{ neon_project_id = "{US_PROJECT}", cloud_run_location = "us-central1" }}
  eu = {{ neon_project_id = "{EU_PROJECT}", cloud_run_location = "europe-west1" }}
}}
"#,
            neon = base(Kind::Neon),
            sm = base(Kind::SecretManager),
            run = base(Kind::CloudRun),
            cf = base(Kind::Cloudflare),
        )
    }

    fn write(&self, m: &Merchant) {
        self.stack.write(&format!("tenants/{}.hcl", m.slug), &m.file());
    }

    fn neon(&self) -> &Handle {
        self.emus.get(Kind::Neon)
    }
    fn secrets(&self) -> &Handle {
        self.emus.get(Kind::SecretManager)
    }
    fn run_emu(&self) -> &Handle {
        self.emus.get(Kind::CloudRun)
    }
    fn cf(&self) -> &Handle {
        self.emus.get(Kind::Cloudflare)
    }

    /// Addresses in state, by tenant ("" for shared ones).
    fn state_by_tenant(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for r in self.stack.state_json()["resources"].as_array().unwrap() {
            let addr = r["address"].as_str().unwrap().to_string();
            let tenant = addr.strip_prefix("tenant.").and_then(|a| a.split('.').next()).unwrap_or("").to_string();
            out.entry(tenant).or_default().insert(addr);
        }
        out
    }

    /// The state's values of one resource.
    fn values(&self, addr: &str) -> Value {
        let state = self.stack.state_json();
        state["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["address"] == addr)
            .unwrap_or_else(|| panic!("{addr} is not in state"))["values"]
            .clone()
    }

    fn branch_of(&self, slug: &str) -> Option<Value> {
        let named: Vec<Value> =
            self.neon().objects("branches").into_iter().filter(|b| b["name"] == format!("merchant-{slug}")).collect();
        assert!(named.len() <= 1, "duplicate branches for {slug}: {named:?}");
        named.into_iter().next()
    }

    fn policy_has(&self, h: &Handle, resource: &str, role: &str, member: &str) -> bool {
        h.core().store.with(|c| iam::has(c, resource, role, member))
    }

    /// The merchant's objects, exactly once each, as configured, and its health check passed.
    fn assert_provisioned(&self, m: &Merchant) {
        self.assert_objects(m);
        let check = self.values(&format!("tenant.{}.http_health_check.app", m.slug));
        assert_eq!(check["status_code"], 200, "{}", m.slug);
        assert!(check["last_checked"].as_str().is_some_and(|t| t.ends_with('Z')));
    }

    /// The merchant's objects, exactly once each, as configured.
    fn assert_objects(&self, m: &Merchant) {
        let slug = &m.slug;
        let branch = self.branch_of(slug).unwrap_or_else(|| panic!("no branch for {slug}"));
        assert_eq!(branch["project_id"], m.neon_project(), "{slug}");
        let b = branch["id"].as_str().unwrap();
        assert_eq!(count(self.neon(), "endpoints", "branch_id", b), 1, "{slug}: one endpoint");
        let on_branch = |coll: &str, name: &str| {
            self.neon().objects(coll).iter().filter(|o| o["branch_id"] == b && o["name"] == name).count()
        };
        assert_eq!(on_branch("roles", "app"), 1, "{slug}");
        assert_eq!(on_branch("databases", "app"), 1, "{slug}");

        let secret = self
            .secrets()
            .core()
            .store
            .get("secrets", &secret_name(slug))
            .unwrap_or_else(|| panic!("no secret for {slug}"));
        assert_eq!(secret["labels"]["tenant"], slug.as_str());
        let versions = secret["_versions"].as_array().unwrap();
        let enabled: Vec<&Value> = versions.iter().filter(|v| v["state"] == "ENABLED").collect();
        assert_eq!(enabled.len(), 1, "{slug}: exactly one enabled version: {versions:?}");
        let payload = base64::engine::general_purpose::STANDARD.decode(enabled[0]["_data"].as_str().unwrap()).unwrap();
        let uri = String::from_utf8(payload).unwrap();
        assert!(uri.starts_with("postgresql://app:") && uri.ends_with("/app?sslmode=require"), "{slug}");
        assert!(uri.contains("-pooler."), "{slug}: the pooled URI");
        assert!(self.policy_has(
            self.secrets(),
            &secret_name(slug),
            "roles/secretmanager.secretAccessor",
            &format!("serviceAccount:{RUNTIME_SA}")
        ));

        let services: Vec<Value> = self
            .run_emu()
            .objects("services")
            .into_iter()
            .filter(|s| s["name"].as_str().unwrap().ends_with(&format!("/services/{}", m.service())))
            .collect();
        assert_eq!(services.len(), 1, "{slug}: one service in all locations");
        let svc = &services[0];
        assert_eq!(svc["name"], service_name(slug, m.location()));
        let container = &svc["template"]["containers"][0];
        let (cpu, memory, max) = size(m.plan);
        assert_eq!(container["resources"]["limits"], json!({"cpu": cpu, "memory": memory}), "{slug}");
        assert_eq!(svc["template"]["scaling"]["maxInstanceCount"], max, "{slug}");
        assert_eq!(svc["template"]["serviceAccount"], RUNTIME_SA);
        assert_eq!(container["image"], m.image.clone().unwrap_or(IMAGE.into()).as_str());
        let db_env = container["env"].as_array().unwrap().iter().find(|e| e["name"] == "DATABASE_URL").unwrap();
        let version = enabled[0]["n"].to_string();
        assert_eq!(
            db_env["valueSource"]["secretKeyRef"],
            json!({"secret": format!("merchant-{slug}-database-url"), "version": version}),
            "{slug}: the service reads the current version"
        );
        assert_eq!(svc["terminalCondition"]["state"], "CONDITION_SUCCEEDED");
        assert!(self.policy_has(self.run_emu(), &service_name(slug, m.location()), "roles/run.invoker", "allUsers"));

        let hostnames: Vec<Value> = self
            .cf()
            .objects("custom_hostnames")
            .into_iter()
            .filter(|h| h["custom_metadata"]["tenant"] == slug.as_str())
            .collect();
        match &m.domain {
            None => assert!(hostnames.is_empty(), "{slug}: {hostnames:?}"),
            Some(d) => {
                assert_eq!(hostnames.len(), 1, "{slug}: {hostnames:?}");
                assert_eq!(hostnames[0]["hostname"], d.as_str());
                assert_eq!(hostnames[0]["custom_origin_server"], format!("{slug}.my.example.com"));
                assert_eq!(hostnames[0]["ssl"]["method"], "http");
            }
        }

        let check = self.values(&format!("tenant.{slug}.http_health_check.app"));
        assert_eq!(check["url"], format!("{}/healthz", svc["uri"].as_str().unwrap()));
        let run = self.values(&format!("tenant.{slug}.google_cloud_run_v2_service.app"));
        assert_eq!(check["triggers"]["revision"], run["latest_ready_revision"]);
    }

    /// Nothing of the merchant in any emulator.
    fn assert_gone(&self, slug: &str, branch_id: &str) {
        assert!(self.branch_of(slug).is_none(), "{slug}: branch left");
        for coll in ["endpoints", "roles", "databases"] {
            assert_eq!(count(self.neon(), coll, "branch_id", branch_id), 0, "{slug}: {coll} left on its branch");
        }
        assert!(self.secrets().core().store.get("secrets", &secret_name(slug)).is_none(), "{slug}: secret left");
        let services: Vec<Value> = self
            .run_emu()
            .objects("services")
            .into_iter()
            .filter(|s| s["name"].as_str().unwrap().ends_with(&format!("/services/merchant-{slug}")))
            .collect();
        assert!(services.is_empty(), "{slug}: services left: {services:?}");
        for h in [self.secrets(), self.run_emu()] {
            let policies = h.objects("iam_policies");
            assert!(
                !policies.iter().any(|p| p.to_string().contains(&format!("merchant-{slug}"))),
                "{slug}: IAM policy left: {policies:?}"
            );
        }
        assert!(
            !self.cf().objects("custom_hostnames").iter().any(|h| h["custom_metadata"]["tenant"] == slug),
            "{slug}: custom hostname left"
        );
    }
}

/// A plain HTTP call with a bearer token; status and JSON body.
async fn http(method: reqwest::Method, url: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = reqwest::Client::new().request(method, url).bearer_auth("emulator");
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// The lines of an `apply -json` event stream.
fn events(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

/// The `errored` event's message for an address.
fn error_of(events: &[Value], addr: &str) -> String {
    let e = events.iter().find(|e| e["type"] == "errored" && e["address"] == addr);
    e.unwrap_or_else(|| panic!("no error for {addr}: {events:?}"))["message"].as_str().unwrap().to_string()
}

/// Twenty merchants: every fourth brings a domain, every third lives in the EU, plans cycle.
fn twenty() -> Vec<Merchant> {
    (1..=20)
        .map(|i| {
            let mut m = Merchant::new(&format!("shop{i:02}")).plan(["starter", "pro", "business"][i % 3]);
            if i % 3 == 0 {
                m = m.region("eu");
            }
            if i % 4 == 0 {
                m = m.domain(&format!("store.shop{i:02}-goods.com"));
            }
            m
        })
        .collect()
}

fn expected_state(merchants: &[Merchant]) -> BTreeMap<String, BTreeSet<String>> {
    let mut want: BTreeMap<String, BTreeSet<String>> =
        merchants.iter().map(|m| (m.slug.clone(), m.addresses())).collect();
    want.insert(String::new(), BTreeSet::from(["cloudflare_dns_record.merchant_hosts".to_string()]));
    want
}

#[test]
fn twenty_merchants_in_one_apply_then_a_no_op_plan() {
    let merchants = twenty();
    let w = World::new(&merchants);
    let t = Instant::now();
    let r = w.stack.run(&["apply", "-auto-approve", "-no-color"]).ok();
    let took = t.elapsed();
    let with_domain = merchants.iter().filter(|m| m.domain.is_some()).count();
    let total = 1 + merchants.len() * PER_MERCHANT + with_domain;
    assert!(
        r.stdout.contains(&format!("Apply complete! Resources: {total} added, 0 changed, 0 destroyed.")),
        "{}",
        r.stdout
    );
    assert_eq!(w.state_by_tenant(), expected_state(&merchants));
    for m in &merchants {
        w.assert_provisioned(m);
    }
    assert_eq!(w.neon().objects("branches").len(), 2 + 20, "two default branches and one per merchant");
    assert_eq!(w.secrets().objects("secrets").len(), 20);
    assert_eq!(w.run_emu().objects("services").len(), 20);
    assert_eq!(w.cf().objects("custom_hostnames").len(), with_domain);
    let records = w.cf().objects("dns_records");
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!((records[0]["name"].as_str(), records[0]["proxied"].as_bool()), (Some("*.my.example.com"), Some(true)));

    let urls: Value = serde_json::from_str(&w.stack.run(&["output", "-json", "tenant_urls"]).ok().stdout).unwrap();
    assert_eq!(urls["shop07"], "https://shop07.my.example.com");
    let routes: Value = serde_json::from_str(&w.stack.run(&["output", "-json", "edge_routes"]).ok().stdout).unwrap();
    assert_eq!(routes.as_object().unwrap().len(), 20 + with_domain);
    assert_eq!(routes["store.shop04-goods.com"], routes["shop04.my.example.com"]);

    let t2 = Instant::now();
    let r = w.stack.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(r.code, 0, "no changes after the apply\n{}", r.all());
    assert!(r.stdout.contains("No changes."), "{}", r.stdout);
    // The custom hostnames became active since: the platform's progress, not drift. A
    // refresh-only plan shows it; the normal plan and `tenants` do not call it a change.
    assert!(!r.stdout.contains("changed outside"), "{}", r.stdout);
    let r = w.stack.run(&["plan", "-refresh-only", "-no-color"]).ok();
    assert!(r.stdout.contains("# tenant.shop04.cloudflare_custom_hostname.domain[0] has changed"), "{}", r.stdout);
    assert!(r.stdout.contains("~ status                      = \"pending\" -> \"active\""), "{}", r.stdout);
    let r = w.stack.run(&["tenants"]).ok();
    assert_eq!(r.stdout.lines().filter(|l| l.contains(" active ")).count(), 20, "{}", r.stdout);
    #[allow(clippy::print_stderr)]
    {
        eprintln!("20-merchant apply: {took:.1?}; refresh + plan: {:.1?}", t2.elapsed());
    }
}

#[test]
fn a_tier_change_updates_only_the_cloud_run_service_in_place() {
    let acme = Merchant::new("acme").domain("shop.acme-tools.com");
    let globex = Merchant::new("globex").plan("pro");
    let w = World::new(&[acme.clone(), globex.clone()]);
    w.stack.run(&["apply", "-auto-approve"]).ok();
    let before = w.run_emu().core().store.get("services", &service_name("acme", "us-central1")).unwrap();

    let acme = acme.plan("business");
    w.write(&acme);
    let plan = w.stack.plan_json(&[]);
    let service = "tenant.acme.google_cloud_run_v2_service.app";
    let check = "tenant.acme.http_health_check.app";
    assert_eq!(
        plan_actions(&plan),
        BTreeMap::from([
            (service.to_string(), vec!["update".to_string()]),
            (check.to_string(), vec!["update".to_string()])
        ]),
        "the service changes in place and its new revision is checked again; nothing else changes"
    );
    let change = plan["resource_changes"].as_array().unwrap().iter().find(|c| c["address"] == service).unwrap();
    assert_eq!(change["change"]["after"]["template"]["scaling"]["max_instance_count"], 50);
    assert_eq!(change["change"]["after"]["template"]["containers"][0]["resources"]["limits"]["cpu"], "4");
    let text = w.stack.run(&["plan", "-no-color"]).ok().stdout;
    assert!(text.contains("Plan: 0 to add, 2 to change, 0 to destroy."), "{text}");
    assert!(text.contains("~ max_instance_count = 2 -> 50"), "{text}");

    let mutations = w.emus.mutations();
    let r = w.stack.run(&["apply", "-auto-approve", "-no-color"]).ok();
    assert!(r.stdout.contains("Apply complete! Resources: 0 added, 2 changed, 0 destroyed."), "{}", r.stdout);
    let after = w.emus.mutations();
    for kind in ["neon", "secretmanager", "cloudflare"] {
        assert_eq!(after[kind], mutations[kind], "{kind} was not touched");
    }
    assert_eq!(after["cloudrun"], mutations["cloudrun"] + 1, "one PATCH");
    let now = w.run_emu().core().store.get("services", &service_name("acme", "us-central1")).unwrap();
    assert_eq!(now["uid"], before["uid"], "the same service, updated in place");
    assert_eq!(now["generation"], "2");
    assert_ne!(now["latestReadyRevision"], before["latestReadyRevision"]);
    w.assert_provisioned(&acme);
    w.assert_provisioned(&globex);
    assert_eq!(w.state_by_tenant(), expected_state(&[acme, globex]));
    assert_eq!(w.stack.run(&["plan", "-detailed-exitcode"]).code, 0);
}

#[test]
fn moving_a_merchant_to_another_region_replaces_its_branch_and_the_secret_and_service_follow() {
    let acme = Merchant::new("acme");
    let globex = Merchant::new("globex");
    let w = World::new(&[acme.clone(), globex.clone()]);
    w.stack.run(&["apply", "-auto-approve"]).ok();
    let old_branch = w.branch_of("acme").unwrap()["id"].as_str().unwrap().to_string();

    let acme = acme.region("eu");
    w.write(&acme);
    let plan = w.stack.plan_json(&[]);
    let a = |r: &str| format!("tenant.acme.{r}");
    let v = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let replace = v(&["delete", "create"]);
    assert_eq!(
        plan_actions(&plan),
        BTreeMap::from([
            (a("neon_branch.db"), replace.clone()),
            (a("neon_endpoint.db"), replace.clone()),
            (a("neon_role.app"), replace.clone()),
            (a("neon_database.app"), replace.clone()),
            (a("data.neon_connection_uri.app"), v(&["read"])),
            (a("google_secret_manager_secret_version.database_url"), v(&["create", "delete"])),
            (a("google_cloud_run_v2_service.app"), replace.clone()),
            (a("google_cloud_run_v2_service_iam_member.public"), replace),
            (a("http_health_check.app"), v(&["update"])),
        ])
    );
    let text = w.stack.run(&["plan", "-no-color"]).ok().stdout;
    assert!(
        text.contains("~ project_id    = \"emulated-project-000001\" -> \"merchants-eu\" # forces replacement"),
        "{text}"
    );
    assert!(text.contains("~ secret_data  = (sensitive value) # forces replacement"), "{text}");
    assert!(
        text.contains("~ location                = \"us-central1\" -> \"europe-west1\" # forces replacement"),
        "{text}"
    );
    assert!(text.contains("Plan: 7 to add, 1 to change, 7 to destroy."), "{text}");

    let r = w.stack.run(&["apply", "-auto-approve", "-no-color"]).ok();
    assert!(r.stdout.contains("Apply complete! Resources: 7 added, 1 changed, 7 destroyed."), "{}", r.stdout);
    let new_branch = w.branch_of("acme").unwrap();
    assert_eq!(new_branch["project_id"], EU_PROJECT, "exactly the new branch");
    for coll in ["endpoints", "roles", "databases"] {
        assert_eq!(count(w.neon(), coll, "branch_id", &old_branch), 0, "{coll} of the old branch");
    }
    let secret = w.secrets().core().store.get("secrets", &secret_name("acme")).unwrap();
    let states: Vec<(u64, &str)> = secret["_versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["n"].as_u64().unwrap(), v["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states, vec![(1, "DESTROYED"), (2, "ENABLED")], "the new version first, then the old one destroyed");
    assert!(w.run_emu().core().store.get("services", &service_name("acme", "us-central1")).is_none());
    w.assert_provisioned(&acme);
    w.assert_provisioned(&globex);
    assert_eq!(w.values("tenant.acme.neon_branch.db")["project_id"], EU_PROJECT);
    assert_eq!(w.values("tenant.acme.google_cloud_run_v2_service.app")["location"], "europe-west1");
    assert_eq!(w.values("tenant.acme.google_secret_manager_secret_version.database_url")["version"], "2");
    assert_eq!(w.state_by_tenant(), expected_state(&[acme.clone(), globex.clone()]), "no deposed object left");
    assert_eq!(w.stack.run(&["plan", "-detailed-exitcode"]).code, 0);
}

#[test]
fn destroying_one_merchant_leaves_nothing_of_it_and_the_others_intact() {
    let merchants = vec![
        Merchant::new("acme").domain("shop.acme-tools.com"),
        Merchant::new("globex"),
        Merchant::new("initech").region("eu"),
    ];
    let w = World::new(&merchants);
    w.stack.run(&["apply", "-auto-approve"]).ok();
    let branch = w.branch_of("acme").unwrap()["id"].as_str().unwrap().to_string();

    let r = w.stack.run(&["destroy", "--tenant", "acme", "-auto-approve", "-no-color"]).ok();
    assert!(r.stdout.contains("Destroy complete! Resources: 11 destroyed."), "{}", r.stdout);
    w.assert_gone("acme", &branch);
    let mut want = expected_state(&merchants[1..]);
    want.remove("acme");
    assert_eq!(w.state_by_tenant(), want);
    for m in &merchants[1..] {
        w.assert_provisioned(m);
    }
    let r = w.stack.run(&["tenants"]).ok();
    assert!(r.stdout.lines().any(|l| l.starts_with("acme") && l.contains("pending")), "{}", r.stdout);
    // Still configured: the next plan provisions it again, and only it.
    let plan = w.stack.plan_json(&[]);
    let actions = plan_actions(&plan);
    assert!(actions.keys().all(|a| a.starts_with("tenant.acme.")), "{actions:?}");
    assert_eq!(actions.values().filter(|a| a.as_slice() == ["create"]).count(), 11);
}

/// Creates a merchant's objects directly through the emulators' APIs, as a hand-built
/// merchant would have them; returns the import IDs by resource.
fn build_by_hand(w: &World, m: &Merchant) -> BTreeMap<&'static str, String> {
    let slug = &m.slug;
    let neon = w.neon().base_url();
    let p = m.neon_project();
    let rt = &w.emus.rt;
    // Neon answers 423 while the project runs an operation: wait in line, as a client does.
    let neon_call = |method: reqwest::Method, path: String, body: Option<Value>| -> Value {
        for _ in 0..500 {
            let (s, j) = rt.block_on(http(method.clone(), &format!("{neon}{path}"), body.clone()));
            match s {
                423 => std::thread::sleep(Duration::from_millis(5)),
                200 | 201 => return j,
                _ => panic!("{method} {path}: {s} {j}"),
            }
        }
        panic!("{path}: still locked")
    };
    let created = neon_call(
        reqwest::Method::POST,
        format!("/projects/{p}/branches"),
        Some(
            json!({"branch": {"name": m.service()}, "endpoints": [{"type": "read_write", "autoscaling_limit_min_cu": 0.25, "autoscaling_limit_max_cu": 1}]}),
        ),
    );
    let b = created["branch"]["id"].as_str().unwrap().to_string();
    let ep = created["endpoints"][0]["id"].as_str().unwrap().to_string();
    neon_call(
        reqwest::Method::POST,
        format!("/projects/{p}/branches/{b}/roles"),
        Some(json!({"role": {"name": "app"}})),
    );
    neon_call(
        reqwest::Method::POST,
        format!("/projects/{p}/branches/{b}/databases"),
        Some(json!({"database": {"name": "app", "owner_name": "app"}})),
    );
    let uri = neon_call(
        reqwest::Method::GET,
        format!(
            "/projects/{p}/connection_uri?branch_id={b}&endpoint_id={ep}&database_name=app&role_name=app&pooled=true"
        ),
        None,
    )["uri"]
        .as_str()
        .unwrap()
        .to_string();

    let google = |h: &Handle, method: reqwest::Method, path: String, body: Value| -> Value {
        let (s, j) = rt.block_on(http(method, &format!("{}/{path}", h.base_url()), Some(body)));
        assert_eq!(s, 200, "{path}: {j}");
        j
    };
    let secret_id = format!("{}-database-url", m.service());
    let secrets = format!("projects/{GOOGLE_PROJECT}/secrets");
    google(
        w.secrets(),
        reqwest::Method::POST,
        format!("{secrets}?secretId={secret_id}"),
        json!({"replication": {"automatic": {}}, "labels": {"tenant": slug, "managed-by": "tenantform"}}),
    );
    let data = base64::engine::general_purpose::STANDARD.encode(&uri);
    let version = google(
        w.secrets(),
        reqwest::Method::POST,
        format!("{secrets}/{secret_id}:addVersion"),
        json!({"payload": {"data": data}}),
    );
    let version_n = version["name"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    google(
        w.secrets(),
        reqwest::Method::POST,
        format!("{secrets}/{secret_id}:setIamPolicy"),
        json!({"policy": {"bindings": [{"role": "roles/secretmanager.secretAccessor", "members": [format!("serviceAccount:{RUNTIME_SA}")]}]}}),
    );

    let (cpu, memory, max) = size(m.plan);
    let services = format!("projects/{GOOGLE_PROJECT}/locations/{}/services", m.location());
    let op = google(
        w.run_emu(),
        reqwest::Method::POST,
        format!("{services}?serviceId={}", m.service()),
        json!({
            "labels": {"tenant": slug, "plan": m.plan},
            "ingress": "INGRESS_TRAFFIC_ALL",
            "template": {
                "serviceAccount": RUNTIME_SA,
                "scaling": {"minInstanceCount": 0, "maxInstanceCount": max},
                "containers": [{
                    "image": IMAGE,
                    "resources": {"limits": {"cpu": cpu, "memory": memory}},
                    "env": [
                        {"name": "TENANT", "value": slug},
                        {"name": "PUBLIC_URL", "value": format!("https://{slug}.my.example.com")},
                        {"name": "DATABASE_URL", "valueSource": {"secretKeyRef": {"secret": secret_id, "version": version_n}}},
                    ],
                }],
            },
        }),
    );
    let op_path = op["name"].as_str().unwrap().to_string();
    let mut uri_of_service = String::new();
    for _ in 0..500 {
        let (_, o) = rt.block_on(http(reqwest::Method::GET, &format!("{}/{op_path}", w.run_emu().base_url()), None));
        if o["done"] == true {
            uri_of_service = o["response"]["uri"].as_str().unwrap().to_string();
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(!uri_of_service.is_empty(), "the service never became ready");
    google(
        w.run_emu(),
        reqwest::Method::POST,
        format!("{services}/{}:setIamPolicy", m.service()),
        json!({"policy": {"bindings": [{"role": "roles/run.invoker", "members": ["allUsers"]}]}}),
    );

    let mut ids = BTreeMap::from([
        ("neon_branch.db", format!("{p}/{b}")),
        ("neon_endpoint.db", format!("{p}/{ep}")),
        ("neon_role.app", format!("{p}/{b}/app")),
        ("neon_database.app", format!("{p}/{b}/app")),
        ("google_secret_manager_secret.database_url", format!("{secrets}/{secret_id}")),
        ("google_secret_manager_secret_version.database_url", format!("{secrets}/{secret_id}/versions/{version_n}")),
        (
            "google_secret_manager_secret_iam_member.runtime",
            format!("{secrets}/{secret_id} roles/secretmanager.secretAccessor serviceAccount:{RUNTIME_SA}"),
        ),
        ("google_cloud_run_v2_service.app", format!("{services}/{}", m.service())),
        (
            "google_cloud_run_v2_service_iam_member.public",
            format!("{services}/{} roles/run.invoker allUsers", m.service()),
        ),
        ("http_health_check.app", format!("{uri_of_service}/healthz")),
    ]);
    if let Some(d) = &m.domain {
        let (s, j) = rt.block_on(http(
            reqwest::Method::POST,
            &format!("{}/zones/{ZONE_ID}/custom_hostnames", w.cf().base_url()),
            Some(json!({
                "hostname": d,
                "custom_origin_server": format!("{slug}.my.example.com"),
                "custom_metadata": {"tenant": slug},
                "ssl": {"method": "http", "type": "dv", "settings": {"min_tls_version": "1.2"}},
            })),
        ));
        assert_eq!(s, 201, "{j}");
        ids.insert(
            "cloudflare_custom_hostname.domain[0]",
            format!("{ZONE_ID}/{}", j["result"]["id"].as_str().unwrap()),
        );
    }
    ids
}

#[test]
fn a_hand_built_merchant_is_imported_by_id_and_then_nothing_changes() {
    let acme = Merchant::new("acme");
    let w = World::new(std::slice::from_ref(&acme));
    w.stack.run(&["apply", "-auto-approve"]).ok();

    let legacy = Merchant::new("legacy").plan("pro").domain("orders.legacy-shop.com");
    let ids = build_by_hand(&w, &legacy);
    let mut file = legacy.file();
    for (to, id) in &ids {
        file += &format!("\nimport {{\n  to = tenant.legacy.{to}\n  id = \"{id}\"\n}}\n");
    }
    w.stack.write("tenants/legacy.hcl", &file);
    let mutations = w.emus.mutations();

    let plan = w.stack.plan_json(&["--tenant", "legacy"]);
    let importing: BTreeSet<String> = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["change"]["importing"].is_null())
        .map(|c| c["address"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(importing, legacy.addresses());
    assert_eq!(
        plan_actions(&plan),
        BTreeMap::new(),
        "importing only: the objects match the configuration\n{}",
        w.stack.run(&["plan", "-no-color", "--tenant", "legacy"]).stdout
    );
    let r = w.stack.run(&["apply", "-auto-approve", "-no-color"]).ok();
    assert!(
        r.stdout.contains("Apply complete! Resources: 11 imported, 0 added, 0 changed, 0 destroyed."),
        "{}",
        r.stdout
    );
    assert_eq!(w.emus.mutations(), mutations, "importing changes nothing in the clouds");

    let r = w.stack.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(r.code, 0, "a no-op plan after the import\n{}", r.all());
    assert_eq!(w.state_by_tenant()["legacy"], legacy.addresses());
    w.assert_objects(&legacy);
    let check = w.values("tenant.legacy.http_health_check.app");
    assert_eq!(
        (&check["status_code"], &check["last_checked"]),
        (&Value::Null, &Value::Null),
        "an import requests nothing"
    );
    w.assert_provisioned(&acme);
}

#[test]
fn twenty_merchants_converge_when_a_fifth_of_all_calls_fail_transiently() {
    let merchants = twenty();
    let w = World::new(&merchants);
    // A fifth of all API calls refused (429/503), and one successful change in ten loses its
    // answer after it was made (the create must be recognised, not repeated).
    w.emus.set_faults(FaultConfig {
        error_rate: 0.2,
        retry_after_secs: Some(0),
        drop_after_commit_rate: 0.1,
        ..FaultConfig::default()
    });
    let t = Instant::now();
    let r = w.stack.run(&["apply", "-auto-approve", "-no-color"]).ok();
    let took = t.elapsed();
    let total = 1 + 20 * PER_MERCHANT + merchants.iter().filter(|m| m.domain.is_some()).count();
    assert!(r.stdout.contains(&format!("Apply complete! Resources: {total} added")), "{}", r.stdout);
    let seen: Vec<_> = [Kind::Neon, Kind::SecretManager, Kind::CloudRun, Kind::Cloudflare]
        .iter()
        .flat_map(|k| w.emus.get(*k).requests())
        .collect();
    let refused = seen.iter().filter(|r| matches!(r.fault.as_deref(), Some("429" | "503"))).count();
    let lost = seen.iter().filter(|r| r.fault.as_deref() == Some("dropped_after_commit")).count();
    assert!(refused * 7 > seen.len(), "{refused} of {} requests refused", seen.len());
    assert!(lost > 0, "no answer was lost");
    // No duplicate anywhere: one of everything per merchant.
    assert_eq!(w.state_by_tenant(), expected_state(&merchants));
    for m in &merchants {
        w.assert_provisioned(m);
    }
    assert_eq!(w.neon().objects("branches").len(), 22);
    assert_eq!(w.neon().objects("endpoints").len(), 22);
    assert_eq!(w.secrets().objects("secrets").len(), 20);
    assert!(
        w.secrets().objects("secrets").iter().all(|s| s["_versions"].as_array().unwrap().len() == 1),
        "exactly one version per secret"
    );
    assert_eq!(w.run_emu().objects("services").len(), 20);
    assert_eq!(w.cf().objects("custom_hostnames").len(), 5);
    assert_eq!(w.cf().objects("dns_records").len(), 1);
    let r = w.stack.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(r.code, 0, "{}", r.all());
    #[allow(clippy::print_stderr)]
    {
        eprintln!("20-merchant apply with 20% transient failures: {took:.1?}");
    }
}

#[test]
fn an_invalid_custom_hostname_fails_only_that_merchant_with_cloudflares_message() {
    let good = Merchant::new("acme").domain("shop.acme-tools.com");
    let bad = Merchant::new("globex").domain("shop_globex.example.org");
    let other = Merchant::new("initech");
    let w = World::new(&[good.clone(), bad.clone(), other.clone()]);
    let r = w.stack.run(&["apply", "-auto-approve", "-json"]).fails();
    let ev = events(&r.stdout);
    let hostname = "tenant.globex.cloudflare_custom_hostname.domain[0]";
    assert_eq!(
        error_of(&ev, hostname),
        format!("{hostname}: create failed: cloudflare POST /zones/{ZONE_ID}/custom_hostnames: shop_globex.example.org is not a valid hostname. [code 1411] (400)"),
        "the API's own message"
    );
    let summary = ev.last().unwrap();
    assert_eq!((summary["type"].as_str(), summary["added"].as_u64()), (Some("summary"), Some(32)), "{summary}");
    assert_eq!(summary["failed"], json!([hostname]));
    assert_eq!(summary["skipped"], json!([]));
    assert!(r.stderr.contains("[code 1411] (400)"), "the diagnostic on stderr\n{}", r.stderr);
    w.assert_provisioned(&good);
    w.assert_provisioned(&other);
    // The rest of globex was made (no rollback was asked for) and is kept.
    let mut want = expected_state(&[good.clone(), bad.clone(), other.clone()]);
    want.get_mut("globex").unwrap().remove("tenant.globex.cloudflare_custom_hostname.domain[0]");
    assert_eq!(w.state_by_tenant(), want);
    assert_eq!(w.cf().objects("custom_hostnames").len(), 1);
    let r = w.stack.run(&["tenants"]).ok();
    let line = r.stdout.lines().find(|l| l.starts_with("globex")).unwrap();
    assert!(line.contains("failed") && line.contains("cloudflare_custom_hostname.domain[0]"), "{}", r.stdout);
    assert!(r.stdout.lines().any(|l| l.starts_with("acme") && l.contains("active")), "{}", r.stdout);

    // Fixing the domain finishes the merchant.
    let fixed = bad.domain("shop-globex.example.org");
    w.write(&fixed);
    w.stack.run(&["apply", "-auto-approve"]).ok();
    w.assert_provisioned(&fixed);
    let r = w.stack.run(&["tenants"]).ok();
    assert!(r.stdout.lines().any(|l| l.starts_with("globex") && l.contains("active")), "{}", r.stdout);
}

#[test]
fn a_new_merchant_that_fails_its_health_check_is_rolled_back() {
    let acme = Merchant::new("acme");
    let canary = Merchant::new("canary")
        .domain("shop.canary.io")
        .image("us-docker.pkg.dev/merchants-demo/apps/merchant-app:unhealthy");
    let w = World::with_timeout(&[acme.clone(), canary.clone()], "1s");
    let r = w.stack.run(&["apply", "-auto-approve", "-json", "--rollback-on-failure"]).fails();
    let ev = events(&r.stdout);
    let check = "tenant.canary.http_health_check.app";
    let message = error_of(&ev, check);
    let uri =
        ev.iter().find(|e| e["type"] == "complete" && e["address"] == "tenant.canary.google_cloud_run_v2_service.app");
    assert!(uri.is_some(), "the service itself deployed");
    assert!(
        message.starts_with(&format!("{check}: create failed: health check GET http://"))
            && message.ends_with(
                "/healthz did not pass within 1s: answered 500 Internal Server Error (expected 200) (after 2 attempts)"
            ),
        "{message}"
    );
    assert!(r.stderr.contains("is unhealthy (emulated)"), "the service's answer, in the diagnostic\n{}", r.stderr);
    let summary = ev.last().unwrap();
    assert_eq!(summary["failed"], json!([check]));
    assert_eq!(summary["skipped"], json!(["tenant.canary.cloudflare_custom_hostname.domain[0]"]));
    assert_eq!(summary["rolled_back"], json!({"canary": 9}), "everything it made, destroyed again");
    // Nothing of the new merchant is left anywhere: not in state, not in any emulator.
    assert!(!w.state_by_tenant().contains_key("canary"));
    assert!(w.branch_of("canary").is_none());
    assert_eq!(w.neon().objects("branches").len(), 3, "two default branches and acme's");
    assert_eq!(w.neon().objects("endpoints").len(), 3);
    assert!(w
        .neon()
        .objects("roles")
        .iter()
        .all(|r| r["name"] != "app" || r["branch_id"] == w.branch_of("acme").unwrap()["id"]));
    assert!(w.secrets().core().store.get("secrets", &secret_name("canary")).is_none());
    assert!(w.run_emu().core().store.get("services", &service_name("canary", "us-central1")).is_none());
    assert!(w.cf().objects("custom_hostnames").is_empty());
    for h in [w.secrets(), w.run_emu()] {
        assert!(!h.objects("iam_policies").iter().any(|p| p.to_string().contains("canary")));
    }
    w.assert_provisioned(&acme);
    assert_eq!(w.state_by_tenant(), expected_state(std::slice::from_ref(&acme)));
    let r = w.stack.run(&["tenants"]).ok();
    let line = r.stdout.lines().find(|l| l.starts_with("canary")).unwrap_or_else(|| panic!("{}", r.stdout));
    assert!(line.contains("failed") && line.contains("rolled back"), "{}", r.stdout);
    assert!(line.contains("tenant.canary.http_health_check.app"), "{line}");
}

#[test]
fn secrets_never_show_in_plans_events_logs_or_errors() {
    let acme = Merchant::new("acme");
    let w = World::new(&[acme.clone(), Merchant::new("globex")]);
    let log = w.stack.path().join("trace.log");
    let log_path = log.to_str().unwrap().to_string();
    let env = [("TENANTFORM_LOG", "trace"), ("TENANTFORM_LOG_PATH", log_path.as_str())];
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut run = |args: &[&str]| {
        let r = w.stack.run_with(args, &env);
        seen.push((args.join(" "), r.all()));
        r
    };
    run(&["apply", "-auto-approve", "-json"]).ok();
    assert!(std::fs::metadata(&log).unwrap().len() > 10_000, "trace logging is on");

    // A password reset outside tenantform to a canary: it flows into the connection URI and
    // from there into a new secret version, which the service then reads.
    const CANARY: &str = "CanaryPw0rd7f3a9c";
    let branch = w.branch_of("acme").unwrap()["id"].as_str().unwrap().to_string();
    let set_password = |pw: &str| {
        w.neon().core().store.with(|c| {
            let key = c
                .iter("roles")
                .find(|r| r["branch_id"] == branch.as_str() && r["name"] == "app")
                .map(|r| format!("{}/{}", r["branch_id"].as_str().unwrap(), r["name"].as_str().unwrap()))
                .unwrap();
            c.get_mut("roles", &key).unwrap()["_password"] = json!(pw);
        })
    };
    set_password(CANARY);
    let r = run(&["plan", "-no-color"]).ok();
    assert!(
        r.stdout.contains("# tenant.acme.google_secret_manager_secret_version.database_url must be replaced"),
        "{}",
        r.stdout
    );
    run(&["plan", "-json"]).ok();
    run(&["plan", "-out=canary.plan"]).ok();
    run(&["show", "canary.plan"]).ok();
    run(&["show", "-json", "canary.plan"]).ok();
    // The answer to the new version is lost: the provider finds its version by reading the
    // payloads back (`:access`), which must not reach the trace log either.
    w.secrets().set_faults(FaultConfig { drop_after_commit: 1, ..FaultConfig::default() });
    run(&["apply", "-auto-approve", "-json"]).ok();
    assert!(w.secrets().requests().iter().any(|r| r.path.ends_with(":access")), "the adoption path ran");
    let secret = w.secrets().core().store.get("secrets", &secret_name("acme")).unwrap();
    let newest = secret["_versions"].as_array().unwrap().last().unwrap()["_data"].as_str().unwrap().to_string();
    let payload = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(newest).unwrap()).unwrap();
    assert!(payload.contains(CANARY), "the canary reached the secret payload");
    w.assert_provisioned(&acme);
    assert_eq!(w.state_by_tenant(), expected_state(&[acme.clone(), Merchant::new("globex")]));
    for args in [
        &["show"][..],
        &["show", "-json"],
        &["tenants"],
        &["tenants", "show", "acme"],
        &["output", "-json"],
        &["drift"],
    ] {
        run(args);
    }

    // The same path failing: Secret Manager refuses to store the next payload with a 400
    // (without refresh, the plan does not call it).
    set_password(&format!("{CANARY}2"));
    w.secrets().set_faults(FaultConfig { error_rate: 1.0, error_statuses: vec![400], ..FaultConfig::default() });
    let r = run(&["apply", "-auto-approve", "-no-color", "-refresh=false"]).fails();
    assert!(
        r.stderr.contains("google_secret_manager_secret_version.database_url: create failed")
            && r.stderr.contains("(400)"),
        "{}",
        r.stderr
    );
    let r = run(&["apply", "-auto-approve", "-json", "-refresh=false"]).fails();
    assert!(r.stdout.contains("\"failed\""), "{}", r.stdout);

    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(logs.contains("neon"), "the log covers the Neon calls");
    assert!(logs.contains(tenantform_providers::http::REDACTED), "bodies with secrets were logged, redacted");
    seen.push(("trace log".into(), logs));
    for (what, text) in &seen {
        assert!(!text.contains(CANARY), "the canary password shows in `{what}`");
        for leak in ["postgresql://app:", "sslmode=require"] {
            assert!(!text.contains(leak), "a connection URI shows in `{what}`");
        }
    }
}

//! A SaaS tenant stack on Neon and Cloudflare, against the API emulators with injected
//! rate limits and lost responses: apply creates one branch, endpoint, role, database, custom
//! hostname and DNS record per tenant — exactly one each — the next plan finds nothing to do,
//! a change made in the console is detected and repaired, and destroy removes everything.

use std::time::Duration;

use tenantform_emulators::{FaultConfig, Kind};

use crate::support::{count, Emulators, Stack};

const STACK: &str = r#"
variable "tenants" {
  type    = set(string)
  default = ["acme", "globex"]
}

provider "neon" {
  endpoint = var.neon_url
  api_key  = "test-key"
}

provider "cloudflare" {
  base_url  = var.cloudflare_url
  api_token = "test-token"
}

variable "neon_url" { type = string }
variable "cloudflare_url" { type = string }

resource "neon_branch" "tenant" {
  for_each   = var.tenants
  project_id = "emulated-project-000001"
  name       = "tenant-${each.key}"
}

resource "neon_endpoint" "tenant" {
  for_each                 = var.tenants
  project_id               = neon_branch.tenant[each.key].project_id
  branch_id                = neon_branch.tenant[each.key].id
  autoscaling_limit_max_cu = 1
}

resource "neon_role" "app" {
  for_each   = var.tenants
  project_id = neon_branch.tenant[each.key].project_id
  branch_id  = neon_branch.tenant[each.key].id
  name       = "app"
}

resource "neon_database" "app" {
  for_each   = var.tenants
  project_id = neon_branch.tenant[each.key].project_id
  branch_id  = neon_branch.tenant[each.key].id
  name       = "app"
  owner_name = neon_role.app[each.key].name
}

resource "cloudflare_custom_hostname" "tenant" {
  for_each = var.tenants
  zone_id  = "023e105f4ecef8ad9ca31a8372d0c353"
  hostname = "${each.key}.customers.example"
  ssl {
    method = "txt"
    settings {
      min_tls_version = "1.2"
    }
  }
  wait_for_active_status = true
  timeouts {
    create = "2m"
  }
}

resource "cloudflare_dns_record" "tenant" {
  for_each = var.tenants
  zone_id  = "023e105f4ecef8ad9ca31a8372d0c353"
  name     = each.key
  type     = "CNAME"
  content  = "edge.saas.example"
  proxied  = true
}
"#;

#[test]
fn tenant_stack_on_neon_and_cloudflare_converges_under_faults() {
    let emus = Emulators::start(&[Kind::Neon, Kind::Cloudflare], Duration::from_millis(100));
    emus.set_faults(FaultConfig {
        error_rate: 0.2,
        retry_after_secs: Some(0),
        drop_after_commit_rate: 0.15,
        // At least one lost answer per API, whatever the dice say (the rates alone left a run
        // without any fault on one emulator now and then).
        drop_after_commit: 1,
        ..FaultConfig::default()
    });
    let (neon, cf) = (emus.get(Kind::Neon), emus.get(Kind::Cloudflare));
    let stack = Stack::with_files(&[("main.tf", STACK)]);
    let neon_var = format!("neon_url={}", neon.base_url());
    let cf_var = format!("cloudflare_url={}", cf.base_url());
    let vars = ["-var", neon_var.as_str(), "-var", cf_var.as_str()];
    let with = |cmd: &[&str]| -> Vec<String> { cmd.iter().chain(vars.iter()).map(|s| s.to_string()).collect() };
    let run = |cmd: &[&str]| {
        let args = with(cmd);
        stack.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };

    let r = run(&["apply", "-auto-approve", "-no-color"]).ok();
    assert!(r.stdout.contains("Apply complete! Resources: 12 added"), "{}", r.stdout);
    for t in ["acme", "globex"] {
        assert_eq!(count(neon, "branches", "name", &format!("tenant-{t}")), 1, "{t}");
        assert_eq!(count(cf, "custom_hostnames", "hostname", &format!("{t}.customers.example")), 1, "{t}");
        assert_eq!(count(cf, "dns_records", "name", &format!("{t}.example.com")), 1, "{t}");
    }
    assert_eq!(neon.objects("endpoints").len(), 3, "the seeded one and one per tenant");
    assert_eq!(neon.objects("databases").iter().filter(|d| d["name"] == "app").count(), 2);
    assert!(cf.objects("custom_hostnames").iter().all(|h| h["_ready_at"].is_u64()));
    assert!(neon.requests().iter().any(|r| r.fault.is_some()) && cf.requests().iter().any(|r| r.fault.is_some()));

    let r = run(&["plan", "-no-color"]).ok();
    assert!(r.stdout.contains("No changes."), "{}", r.stdout);

    // Someone points a tenant's record elsewhere in the dashboard: the plan shows it and apply repairs it.
    let id = cf.objects("dns_records").iter().find(|d| d["name"] == "acme.example.com").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    cf.core().store.with(|c| c.get_mut("dns_records", &id).unwrap()["content"] = "hijacked.example".into());
    let r = run(&["plan", "-no-color"]).ok();
    assert!(r.stdout.contains(r#"~ content = "hijacked.example" -> "edge.saas.example""#), "{}", r.stdout);
    run(&["apply", "-auto-approve", "-no-color"]).ok();
    assert_eq!(cf.core().store.get("dns_records", &id).unwrap()["content"], "edge.saas.example");

    let r = run(&["destroy", "-auto-approve", "-no-color"]).ok();
    assert!(r.stdout.contains("Resources: 12 destroyed"), "{}", r.stdout);
    assert_eq!(cf.objects("custom_hostnames").len() + cf.objects("dns_records").len(), 0);
    assert_eq!(neon.objects("branches").len(), 1, "only the seeded default branch is left");
    drop(stack);
}

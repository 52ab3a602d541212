//! Synthetic stacks for benchmarks and load tests: the tenant shape Terraform was measured on
//! (4 chained resources per tenant), one tenant file per tenant under `tenants/`, as a signup
//! flow would write them. Nothing in a real command uses this.

use std::path::Path;

/// Writes a stack of `tenants` tenants, each with four chained `time_sleep` resources that wait
/// `delay` (e.g. `"0s"`, `"100ms"`) when created.
pub fn write_tenant_stack(dir: &Path, tenants: usize, delay: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("tenant"))?;
    std::fs::create_dir_all(dir.join("tenants"))?;
    std::fs::write(
        dir.join("main.hcl"),
        format!(
            "variable \"region\" {{\n  default = \"eu\"\n}}\n\nvariable \"delay\" {{\n  default = \"{delay}\"\n}}\n\ntenant_stack {{\n  source = \"./tenant\"\n  inputs = {{ region = var.region, delay = var.delay }}\n}}\n"
        ),
    )?;
    std::fs::write(
        dir.join("tenant/main.hcl"),
        r#"variable "plan" {
  type = string
}

variable "region" {
  type = string
}

variable "delay" {
  type = string
}

locals {
  name = "${tenant.slug}-${var.region}"
}

resource "time_sleep" "database" {
  create_duration = var.delay
  triggers        = { name = local.name, plan = var.plan }
}

resource "time_sleep" "secret" {
  create_duration = var.delay
  triggers        = { after = time_sleep.database.id }
}

resource "time_sleep" "service" {
  create_duration = var.delay
  triggers        = { after = time_sleep.secret.id, plan = var.plan }
}

resource "time_sleep" "hostname" {
  create_duration = var.delay
  triggers        = { after = time_sleep.service.id, host = "${tenant.slug}.example.com" }
}

output "url" {
  value = "https://${tenant.slug}.example.com"
}
"#,
    )?;
    for i in 0..tenants {
        let plan = if i % 3 == 0 { "pro" } else { "starter" };
        std::fs::write(
            dir.join(format!("tenants/t{i:05}.hcl")),
            format!("tenant \"t{i:05}\" {{\n  plan = \"{plan}\"\n}}\n"),
        )?;
    }
    Ok(())
}

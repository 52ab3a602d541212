locals {
  max_tenants = max(
    length(var.pro_tenants),
      length(var.free_tenants),
  )
  replica_count = var.single_region ? 1 : var.one_per_region ? length(var.regions) : local.max_tenants

  # Use `local.db_id` so databases are deleted before their roles.
  db_id = element(
    concat(
      postgres_database.this.*.id,
      [""],
    ),
    0,
  )
}

################################################################################
# Tenants
################################################################################

tenant "acme" {
  count = var.enabled ? 1 : 0

  plan = var.plan
  region     = var.region
  enable_backups = true
  backup_retention_days   = 14

  labels = merge(
    {
      "Name" = var.single_region ? "${var.name}-${var.suffix}" : format(
        "%s-${var.suffix}-%s",
        var.name,
        element(var.regions, count.index),
      )
    },
    var.labels,
  )

  dynamic "domain" {
    for_each = var.domains
    content {
      # One of these must be set
      hostname = domain.value.hostname
      zone_id = lookup(domain.value, "zone_id", null)

      certificate_arn   = lookup(domain.value, "certificate_arn", null)
    }
  }

  lifecycle {
    ignore_changes = [labels["LastDeployed"]]
  }
}

resource "random_password" "admin" {
  count   = var.create && length(var.admins) > 0 && (false == var.reuse || length(var.admins) >= length(var.regions)) ? length(var.admins) : 0
  length  = 32
  special = false
}

output "tenant_urls" {
  description = "URL of each tenant"
  value = { for name, t in tenant.this : name => "https://${t.hostname}" }
}

# The stack every merchant gets:
#
#   neon_branch ─┬─ neon_endpoint ─┐
#                ├─ neon_role ─────┼─ neon_database ─ data.neon_connection_uri (sensitive)
#                │                 │        │
#   google_secret_manager_secret ──┴─ _secret_version (the URI) ─┐
#              └─ _secret_iam_member (runtime service account) ──┴─ google_cloud_run_v2_service
#                                                                    └─ _service_iam_member (public)
#                                                                        └─ http_health_check
#                                                                            └─ cloudflare_custom_hostname
#                                                                               (only with a domain)

variable "plan" {
  type        = string
  default     = "starter"
  description = "The merchant's plan: sizes its Cloud Run service (changes in place)."

  validation {
    condition     = contains(["starter", "pro", "business"], var.plan)
    error_message = "plan must be starter, pro or business."
  }
}

variable "domain" {
  type        = string
  default     = null
  description = "The merchant's own domain (e.g. shop.acme.com), served through Cloudflare for SaaS."

  validation {
    condition     = var.domain == null || !endswith(coalesce(var.domain, "-"), ".${var.base_domain}")
    error_message = "domain must be the merchant's own domain, not a name under the SaaS zone."
  }
}

variable "region" {
  type        = string
  description = "Where the merchant's data and service live. Changing it moves the merchant: a new database branch in that region's Neon project and a new service there."

  validation {
    condition     = contains(keys(var.regions), var.region)
    error_message = "region must be one of the configured regions."
  }
}

variable "image" {
  type        = string
  default     = null
  description = "Container image for this merchant only (e.g. a canary); default: the shared app_image."
}

variable "base_domain" {
  type = string
}

variable "zone_id" {
  type = string
}

variable "regions" {
  type = map(object({
    neon_project_id    = string
    cloud_run_location = string
  }))
}

variable "google_project" {
  type = string
}

variable "service_account" {
  type = string
}

variable "default_image" {
  type = string
}

variable "health_check_timeout" {
  type = string
}

locals {
  sizes = {
    starter  = { cpu = "1", memory = "512Mi", max_instances = 2 }
    pro      = { cpu = "2", memory = "1Gi", max_instances = 10 }
    business = { cpu = "4", memory = "2Gi", max_instances = 50 }
  }
  size  = local.sizes[var.plan]
  where = var.regions[var.region]

  # Cloud Run service names have fewer than 50 characters; slugs may have 63.
  name = length(tenant.slug) <= 40 ? "merchant-${tenant.slug}" : "merchant-${substr(tenant.slug, 0, 33)}-${substr(sha256(tenant.slug), 0, 6)}"
  host = "${tenant.slug}.my.${var.base_domain}"
}

# ---- database: a branch of the region's Neon project ---------------------------------------

resource "neon_branch" "db" {
  project_id = local.where.neon_project_id
  name       = local.name
}

resource "neon_endpoint" "db" {
  project_id               = neon_branch.db.project_id
  branch_id                = neon_branch.db.id
  autoscaling_limit_min_cu = 0.25
  autoscaling_limit_max_cu = 1
}

resource "neon_role" "app" {
  project_id = neon_branch.db.project_id
  branch_id  = neon_branch.db.id
  name       = "app"
}

resource "neon_database" "app" {
  project_id = neon_branch.db.project_id
  branch_id  = neon_branch.db.id
  name       = "app"
  owner_name = neon_role.app.name
}

data "neon_connection_uri" "app" {
  project_id    = neon_branch.db.project_id
  branch_id     = neon_branch.db.id
  endpoint_id   = neon_endpoint.db.id
  database_name = neon_database.app.name
  role_name     = neon_role.app.name
  pooled        = true
}

# ---- the connection string, as a secret only the runtime service account reads -------------

resource "google_secret_manager_secret" "database_url" {
  project   = var.google_project
  secret_id = "${local.name}-database-url"
  labels = {
    tenant     = tenant.slug
    managed-by = "tenantform"
  }
  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "database_url" {
  secret      = google_secret_manager_secret.database_url.id
  secret_data = data.neon_connection_uri.app.uri

  # A new URI (a new branch) gets a new version before the old one is destroyed, so the
  # service never points at a destroyed version.
  lifecycle {
    create_before_destroy = true
  }
}

resource "google_secret_manager_secret_iam_member" "runtime" {
  secret_id = google_secret_manager_secret.database_url.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${var.service_account}"
}

# ---- the service --------------------------------------------------------------------------

resource "google_cloud_run_v2_service" "app" {
  project             = var.google_project
  name                = local.name
  location            = local.where.cloud_run_location
  ingress             = "INGRESS_TRAFFIC_ALL"
  deletion_protection = false
  labels = {
    tenant = tenant.slug
    plan   = var.plan
  }

  template {
    service_account = var.service_account
    scaling {
      min_instance_count = 0
      max_instance_count = local.size.max_instances
    }
    containers {
      image = coalesce(var.image, var.default_image)
      resources {
        limits = {
          cpu    = local.size.cpu
          memory = local.size.memory
        }
      }
      env {
        name  = "TENANT"
        value = tenant.slug
      }
      env {
        name  = "PUBLIC_URL"
        value = "https://${local.host}"
      }
      env {
        name = "DATABASE_URL"
        value_source {
          secret_key_ref {
            secret = google_secret_manager_secret.database_url.secret_id
            # Pinned, so that a new connection string rolls out a new revision.
            version = google_secret_manager_secret_version.database_url.version
          }
        }
      }
    }
  }

  depends_on = [google_secret_manager_secret_iam_member.runtime]
}

resource "google_cloud_run_v2_service_iam_member" "public" {
  name   = google_cloud_run_v2_service.app.id
  role   = "roles/run.invoker"
  member = "allUsers"
}

# The merchant counts as provisioned only once its service answers (as this merchant). A new
# revision is checked again.
resource "http_health_check" "app" {
  url                   = "${google_cloud_run_v2_service.app.uri}/healthz"
  expected_status_codes = [200]
  body_contains         = tenant.slug
  interval              = "2s"
  timeout               = var.health_check_timeout
  triggers = {
    revision = google_cloud_run_v2_service.app.latest_ready_revision
  }

  depends_on = [google_cloud_run_v2_service_iam_member.public]
}

# ---- the merchant's own domain, through Cloudflare for SaaS ---------------------------------

resource "cloudflare_custom_hostname" "domain" {
  count                = var.domain == null ? 0 : 1
  zone_id              = var.zone_id
  hostname             = var.domain
  custom_origin_server = local.host
  custom_metadata = {
    tenant = tenant.slug
  }
  ssl {
    method = "http"
    type   = "dv"
    settings {
      min_tls_version = "1.2"
    }
  }

  # Route a merchant's domain only to a service that answers.
  depends_on = [http_health_check.app]
}

output "url" {
  value = "https://${local.host}"
}

output "host" {
  value = local.host
}

output "service_uri" {
  value = google_cloud_run_v2_service.app.uri
}

output "custom_domain" {
  value = var.domain
}

# What the merchant publishes at their DNS provider: their domain as a CNAME of their default
# host. Cloudflare then validates the hostname and its certificate over HTTP by itself; watch
# the progress with `tenantform tenants show <slug>` (status, ssl_status).
output "dns_instructions" {
  value = var.domain == null ? null : {
    type    = "CNAME"
    name    = var.domain
    content = local.host
  }
}

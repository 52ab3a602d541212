# Serverless SaaS: every merchant gets its own Neon database branch, the branch's connection
# string in Google Secret Manager, a Cloud Run service that reads it, a public URL
# https://<slug>.my.<base_domain>, and — when the merchant brings a domain — a Cloudflare for
# SaaS custom hostname with SSL. A health check of the service gates every merchant's apply.
#
# Tenants live in tenants/<slug>.hcl. The provider blocks read their endpoints and credentials
# from variables; left null, each provider uses the real API and its usual environment
# variables (NEON_API_KEY, GOOGLE_OAUTH_ACCESS_TOKEN or GOOGLE_APPLICATION_CREDENTIALS,
# CLOUDFLARE_API_TOKEN). run-with-emulators.sh writes emulators.auto.tfvars to point them at
# local emulators instead.

# ---- where the merchants live --------------------------------------------------------------

variable "base_domain" {
  type        = string
  default     = "example.com"
  description = "The SaaS zone on Cloudflare; merchants answer on <slug>.my.<base_domain>."
}

variable "cloudflare_zone_id" {
  type        = string
  description = "Zone ID of base_domain (Cloudflare for SaaS enabled)."
}

variable "regions" {
  type = map(object({
    neon_project_id    = string # Neon projects are regional: one per region
    cloud_run_location = string
  }))
  description = "Where a merchant's data and service run, by region name."
}

variable "default_region" {
  type    = string
  default = "us"
}

variable "google_project" {
  type = string
}

variable "runtime_service_account" {
  type        = string
  description = "Service account the merchants' Cloud Run services run as; it is granted access to each merchant's secret."
}

variable "app_image" {
  type        = string
  description = "Container image of the merchant app (a merchant may override it with `image`)."
}

variable "health_check_timeout" {
  type        = string
  default     = "5m"
  description = "How long a new or changed merchant service may take to answer its health check."
}

# ---- endpoints and credentials (null: the real APIs, credentials from the environment) -----

variable "neon_endpoint" {
  type    = string
  default = null
}

variable "neon_api_key" {
  type      = string
  default   = null
  sensitive = true
}

variable "google_access_token" {
  type      = string
  default   = null
  sensitive = true
}

variable "secret_manager_endpoint" {
  type    = string
  default = null
}

variable "cloud_run_endpoint" {
  type    = string
  default = null
}

variable "cloudflare_base_url" {
  type    = string
  default = null
}

variable "cloudflare_api_token" {
  type      = string
  default   = null
  sensitive = true
}

provider "neon" {
  endpoint = var.neon_endpoint
  api_key  = var.neon_api_key
}

provider "google" {
  project                        = var.google_project
  access_token                   = var.google_access_token
  secret_manager_custom_endpoint = var.secret_manager_endpoint
  cloud_run_v2_custom_endpoint   = var.cloud_run_endpoint
}

provider "cloudflare" {
  base_url  = var.cloudflare_base_url
  api_token = var.cloudflare_api_token
}

# ---- shared ---------------------------------------------------------------------------------

# Every <slug>.my.<base_domain> goes through Cloudflare to the edge router, which forwards it
# to the merchant's Cloud Run service (see the `edge_routes` output). 100:: is Cloudflare's
# placeholder address for hostnames that only a Worker serves.
resource "cloudflare_dns_record" "merchant_hosts" {
  zone_id = var.cloudflare_zone_id
  name    = "*.my"
  type    = "AAAA"
  content = "100::"
  proxied = true
  comment = "merchant default hostnames, routed by the edge router (managed by tenantform)"
}

tenant_stack {
  source = "./tenant"
  inputs = {
    base_domain          = var.base_domain
    zone_id              = var.cloudflare_zone_id
    regions              = var.regions
    region               = var.default_region
    google_project       = var.google_project
    service_account      = var.runtime_service_account
    default_image        = var.app_image
    health_check_timeout = var.health_check_timeout
  }
}

output "tenant_urls" {
  description = "Each merchant's default URL."
  value       = { for slug, t in tenants : slug => t.url }
}

output "edge_routes" {
  description = "Host name → Cloud Run URL, for the edge router: every default host and every custom domain."
  value = merge(
    { for slug, t in tenants : t.host => t.service_uri },
    { for slug, t in tenants : t.custom_domain => t.service_uri if t.custom_domain != null },
  )
}

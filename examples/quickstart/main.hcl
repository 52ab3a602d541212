# Quickstart: every tenant gets a SQLite database, a session secret, a real web service that
# reads its own database, and a hostname on the local router: http://<slug>.localhost:8080/

variable "router_port" {
  type        = number
  default     = 8080
  description = "Port of the local hostname router."
}

provider "local" {
  root          = ".tenantform/local"
  router_listen = "127.0.0.1:${var.router_port}"
}

tenant_stack {
  source = "./tenant"
  inputs = {
    router_port = var.router_port
  }
}

output "tenant_urls" {
  description = "Where each tenant answers."
  value       = { for slug, t in tenants : slug => t.url }
}

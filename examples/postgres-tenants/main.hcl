# Every tenant gets its own PostgreSQL database, owned by its own login role whose password
# comes from random_password; the connection URI lands in the tenant's secret file, and the
# tenant's web service reads that file and queries its database (through psql).
#
# The postgres provider connects with PGHOST/PGPORT/PGUSER/PGPASSWORD (run.sh starts a
# throw-away server and sets them); point them at any server where you may create roles and
# databases.

variable "router_port" {
  type        = number
  default     = 8090
  description = "Port of the local hostname router."
}

provider "postgres" {
  sslmode = "disable"
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

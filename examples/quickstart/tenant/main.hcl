# The stack every tenant gets: database → secret → service → hostname.

variable "display_name" {
  type = string
}

variable "plan" {
  type    = string
  default = "starter"

  validation {
    condition     = contains(["starter", "pro", "enterprise"], var.plan)
    error_message = "plan must be starter, pro or enterprise."
  }
}

variable "router_port" {
  type = number
}

locals {
  hostname = "${tenant.slug}.localhost"
}

resource "local_sqlite_database" "db" {
  name       = tenant.slug
  schema_sql = file("${path.module}/schema.sql")
  seed_sql   = "INSERT INTO customers (name) VALUES ('First customer of ${var.display_name}');"
}

resource "random_password" "session" {
  length  = 32
  special = false
}

resource "local_secret" "session" {
  name  = "${tenant.slug}-session"
  value = random_password.session.result
}

resource "local_service" "web" {
  name    = "${tenant.slug}-web"
  command = ["python3", "${path.module}/app.py"]
  env = {
    TENANT         = tenant.slug
    TENANT_NAME    = var.display_name
    PLAN           = var.plan
    DATABASE_URL   = local_sqlite_database.db.url
    SESSION_SECRET = local_secret.session.value
  }
  health_path = "/healthz"
}

resource "local_hostname" "web" {
  hostname = local.hostname
  port     = local_service.web.port
}

output "url" {
  value = "http://${local.hostname}:${var.router_port}/"
}

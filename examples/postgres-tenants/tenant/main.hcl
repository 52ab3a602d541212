# The stack every tenant gets: role → database → connection URI in a secret → service →
# hostname.

variable "display_name" {
  type = string
}

variable "router_port" {
  type = number
}

locals {
  hostname = "${tenant.slug}.localhost"
}

resource "random_password" "db" {
  length  = 32
  special = false
}

resource "postgres_role" "app" {
  name             = "${tenant.slug}_app"
  login            = true
  password         = random_password.db.result
  connection_limit = 10
}

resource "postgres_database" "main" {
  name  = "tenant_${tenant.slug}"
  owner = postgres_role.app.name
}

# Nobody but the owner may connect to a tenant's database.
resource "postgres_grant" "no_public_connect" {
  database    = postgres_database.main.name
  role        = "public"
  object_type = "database"
  privileges  = []
}

data "postgres_connection_uri" "app" {
  database = postgres_database.main.name
  username = postgres_role.app.name
  password = random_password.db.result
  sslmode  = "disable"
}

resource "local_secret" "database_url" {
  name  = "${tenant.slug}-database-url"
  value = data.postgres_connection_uri.app.uri
}

resource "local_service" "web" {
  name    = "${tenant.slug}-web"
  command = ["python3", "${path.module}/app.py"]
  env = {
    TENANT            = tenant.slug
    TENANT_NAME       = var.display_name
    DATABASE_URL_FILE = local_secret.database_url.path
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

tenant "acme" {
plan = "pro"
database "main" {
engine = "postgres"
    version = 16
        backup {
schedule = "daily"
  keep = 7
  }
}
}

resource "postgres_role" "app" {
  name = "app"
  lifecycle {
          prevent_destroy = true
  }
}

tenant "acme" {
  plan = "pro"
  region = "eu-west-1"
  replicas=3

  database_name = "acme_prod"
  db_size = 20
  # a comment on its own line breaks the group
  backups_enabled = true
  retention_days = 7
  settings {
    x = 1
  }
  after_block = 1
  z = 2
  multi = {
    a = 1
  }
  after_multi = "x"
  k = "v"
}

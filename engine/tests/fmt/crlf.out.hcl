tenant "acme" {
  plan   = "pro" # c
  region = "eu"

  x = <<EOT
  line
EOT
}

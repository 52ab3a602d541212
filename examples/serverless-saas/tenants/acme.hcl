tenant "acme" {
  plan   = "pro"
  domain = "shop.acme-tools.com"
}

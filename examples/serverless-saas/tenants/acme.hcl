tenant "acme" {
  plan   = "business"
  domain = "shop.acme-tools.com"
}

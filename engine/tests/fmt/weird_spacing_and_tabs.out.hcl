tenant "acme" {
  plan     = "pro"
  region   = "eu"
  replicas = 3
}
locals {
  a  = 1
  bb = [1, 2]
}

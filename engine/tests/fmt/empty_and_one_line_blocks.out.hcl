tenant "acme" { plan = "pro" }
tenant "globex" { plan = "free" }
tenant "initech" {}
tenant "umbrella" {}
tenant "hooli" {
}
locals {}
terraform {
  backend "local" {}
}
outer {
  inner { a = 1 }
  other {}
  x = 1
}

tenant "initech" {
  display_name = "Initech"
  plan         = "starter"
}

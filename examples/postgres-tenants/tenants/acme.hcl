tenant "acme" {
  display_name = "Acme Auto Repair"
}

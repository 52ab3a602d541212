tenant "globex" {
  display_name = "Globex Corporation"
}

tenant "bom" {
  a = 1
}

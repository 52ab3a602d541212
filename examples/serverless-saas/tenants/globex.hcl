tenant "globex" {
  region = "eu"
}

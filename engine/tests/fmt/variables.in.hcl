variable "tenants" {
  type = list
}
variable "plans" {
  type = map
  default = {}
}
variable "name" {
  type = "string"
  default = "${var.x}"
}
variable "legacy_list" {
  type = "list"
}
variable "legacy_map" {
  type = "map"
}
variable "ok" {
  type = list(string)
}
locals {
  type = "list"
}

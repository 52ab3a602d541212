variable "tenants" {
  type = list(any)
}
variable "plans" {
  type    = map(any)
  default = {}
}
variable "name" {
  type    = string
  default = var.x
}
variable "legacy_list" {
  type = list(string)
}
variable "legacy_map" {
  type = map(string)
}
variable "ok" {
  type = list(string)
}
locals {
  type = "list"
}

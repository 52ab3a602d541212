# terraform fmt 1.11 deletes these labels (`tenant {}`); we keep them.
tenant "dollar$sign" "percent%sign" {}
tenant "$${literal}" "ok" {}
locals {
  # terraform fmt 1.11 rewrites these indexes to `x[]`; we keep them.
  by_null   = var.x[null]
  by_bool   = var.x[true]
  by_number = var.x[1]
}

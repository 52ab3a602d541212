locals {
  names = [for t in var.tenants: upper(t.name)]
  by_name = {for t in var.tenants : t.name => t}
  filtered = [ for t in var.tenants : t.name if t.plan=="pro" ]
  grouped = {for t in var.tenants: t.region => t.name...}
  indexed = [for i, t in var.tenants: "${i}-${t}"]
  literal = [for x in [1,2,3]: x*2]
  multi = [
    for t in var.tenants :
    t.name
    if t.enabled
  ]
  obj = {
    for k, v in var.map :
    k => v
  }
}

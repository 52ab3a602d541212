locals {
  a = max(1, 2, 3)
  b = merge(
    var.defaults,
    {
      plan = "pro"
    },
  )
  c = format("%s-%s",
    var.a,
  var.b)
  d = concat(var.list, ["x"])
  e = coalesce(var.a, var.b,
  var.c)
  f = lookup(var.map, "key", null)
  g = provider::terraform::encode_tfvars({ a = 1 })
  h = max(var.list...)
  i = jsonencode({
    tenants = [
      for t in var.tenants : {
        name = t.name
        plan = t.plan
      }
    ]
  })
}

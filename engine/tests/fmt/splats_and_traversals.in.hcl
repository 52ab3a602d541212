locals {
  ids = aws_instance.web[*].id
  legacy = aws_instance.web.*.id
  first = aws_instance.web[0].id
  keyed = var.tenants["acme"].plan
  deep = module.tenant [ "acme" ] . outputs . db [ 0 ]
  idx = var.list[ length(var.list) - 1 ]
  attr_index = var.a.0.b
}

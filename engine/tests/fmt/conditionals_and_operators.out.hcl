locals {
  size              = var.plan == "pro" ? 100 : 10
  neg               = -1
  sub               = var.a-1
  negexpr           = var.a * -var.b
  mixed             = (var.a + var.b) * 2 / 3 % 4
  logic             = !var.a && var.b || !(var.c)
  cmp               = var.a >= 1 && var.b <= 2 && var.c != 3 && var.d < 4 && var.e > 5
  nested            = var.a ? var.b ? 1 : 2 : 3
  paren             = (var.x)
  minus_after_paren = (1) - 2
  minus_call        = max(1, 2) - -3
  multi_line = (
    var.plan == "pro"
    ? 100
    : 10
  )
}

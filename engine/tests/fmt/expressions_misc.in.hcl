locals {
  obj_colon = { a: 1, "b": 2 }
  key_expr = { (var.k) = 1, "${var.j}" = 2 }
  splat_all = var.list[*]
  full_splat = var.list[*].a.b[0]
  index_expr = var.map[var.key][0]
  nested_fn = f(g(1),h(2,[3]))
  num = 1.5e+10
  neg_idx = var.list[-1]
  bang_call = !contains(var.list, "x")
  not_not = !!var.x
  minus_paren = -(1)
  minus_list = [-1, - 2, 3 - 4]
  strings = ["a","b"]
  ellipsis_obj = { for k, v in var.m : v => k ... }
  cond_list = var.x ? [1] : []
  tmpl_obj = "${ { a = 1 } }"
  namespace = provider :: foo :: bar(1)
  minus_after_index = var.a[0] - 1
  minus_after_call = f() - 1
  minus_after_string = "a" - 1
  minus_after_heredoc_free = 2 -1
}

locals {
  greeting = "Hello, ${ var.name }!"
  only_interp = "${var.name}"
  wrapped_call = "${lower(var.name)}"
  two = "${var.a}${var.b}"
  directive = "%{ if var.pro }pro%{ else }free%{ endif }"
  loop = "%{ for t in var.tenants }${t},%{ endfor }"
  strip = "%{~ if var.x ~}y%{~ endif ~}"
  escaped = "$${not_interp} %%{not_directive}"
  nested_quotes = "${ join(",", [for t in var.t : "${t}-x"]) }"
  obj_interp = "${ {a = 1}.a }"
  multi = "${
    var.a ? var.b : var.c
  }"
  conditional_wrap = "${var.a ?
    var.b : var.c}"
}

locals {
  script = templatefile("x.tpl", {
    body = <<-EOT
      echo ${var.name}
      %{for t in var.tenants~}
      echo ${t}
      %{endfor~}
    EOT
  })
  list = [
    <<EOT
one
EOT
    ,
    "two",
  ]
  interp_multi = <<EOT
${join(",",
var.list)}
EOT
after = 1
}

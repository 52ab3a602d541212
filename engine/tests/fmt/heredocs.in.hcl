resource "local_file" "motd" {
content = <<EOT
Welcome to ${var.tenant}!
   Indentation   inside   is kept.
%{ if var.pro }Pro features enabled%{ endif }
${ upper(var.name) }
EOT
indented = <<-EOT
    indented heredoc
      keeps its text
    EOT
  x = 1
  policy = jsonencode({
    a = 1
  })
  script = <<SCRIPT
#!/bin/sh
echo "not a comment"   
SCRIPT
}

resource aws_instance web {
  ami = "x"
}
tenant acme {}
resource "a" /* inline */ "b" {}
data "x" "\u0041\t" {}

resource "aws_instance" "web" {
  ami = "x"
}
tenant "acme" {}
resource "a" "b" {}
data "x" "A\t" {}

# Leading file comment
// Another style of leading comment
/* A block comment
   spanning lines */

tenant "acme" { # trailing comment after brace
  # leading comment for plan
  plan                              = "pro"       # trailing comment
  region                            = "eu-west-1" // slash trailing comment
  replicas                          = 3 /* inline block comment */
  /* block before attribute */ tier = "gold"
  name                              = "acme" # aligned?

  # between attributes

  size                     = 20
  very_long_attribute_name = 1 # c1
  s                        = 2 # c2
}

locals {
  a = [
    1,   # first
    2,   # second is longer
    300, # third
  ]
}
# comment at end of file

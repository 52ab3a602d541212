tenant "acme" {
  a = 1 # one
  bbbbbb = 2
  c = 3 # three

  d = "longer value" # four
  e = 5 # five
  nested {
    f = 6 # six
  } # end nested
  g = 7 # seven
  # own line
  h = 8 # eight
  iiii = [1, 2] # nine
  jj = { a = 1 } # ten
  k = [ # open
    1,
  ]
}

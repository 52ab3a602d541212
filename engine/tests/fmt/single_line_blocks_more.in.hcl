tenant "a" { plan = "pro" } # comment after
tenant "b" { plan = { tier = "gold" } }
tenant "c" { list = [1, 2] }
tenant "d" {
  inner { x = 1 }
  inner2 {
  }
}
locals { a = 1 }

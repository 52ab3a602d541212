locals {
  pairs = [{
    a = 1
  }, {
    b = 2
  }]
  calls = concat([
    "x",
  ], [
    "y",
  ])
  deep = merge({
      a = [
        1,
      ]
    }
  )
  closing_many = f(g(h(
    1
  )))
  mixed_open = { a = [
    1,
    2,
  ] }
}

locals {
  tenants = {
  acme = {
  plan = "pro"
      region = "eu"
  }
  globex = { plan = "free", region = "us" }
  }
  list = [
  "a",
      "b",
  "c"
  ]
  nested = [
    {
    name = "x"
    id = 1
    },
    {
      name = "yy",
      id = 22
    },
  ]
  empty_list = [ ]
  empty_map = { }
  inline = [1,2,  3]
  inline_map = {a=1,b=2}
  tuple_of_lists = [[1,2],[3,4]]
}

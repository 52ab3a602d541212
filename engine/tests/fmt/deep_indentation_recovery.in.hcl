locals {
                    a = 1
b = 2
      c = {
  d = 4
                  }
}
            tenant "x" {
      y = 1
                 }

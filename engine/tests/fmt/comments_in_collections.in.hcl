locals {
  # Tenants by plan.
  plans = {
    # Paying customers.
    acme = "pro" # since 2021
    globex = "enterprise" // biggest

    /* trial */
    initech = "free"
  }
  regions = [
    "eu-west-1", # primary
    # secondary:
    "us-east-1",
    /* tertiary */ "ap-south-1",
  ]
  call = merge(
    var.a, # first
    var.b  # second
  )
}
tenant "acme" {
  plan = "pro" # pro plan
  settings = {
    a = 1
  } # closing comment
  z = 1 # after multi-line value
}

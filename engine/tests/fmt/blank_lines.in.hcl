

tenant "a" {


  plan = "pro"



  region = "x"
}



tenant "b" {
}



tenant "initech" {}

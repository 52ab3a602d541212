locals {
  café      = "naïve"   # c
  b         = "日本語テキスト" # wide
  emoji     = "👩‍💻"       # zwj
  combining = "é"       # combining
}

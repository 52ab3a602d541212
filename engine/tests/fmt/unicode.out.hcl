locals {
  café              = "naïve"   # c
  b                 = "日本語テキスト" # wide: counted as characters, not display cells
  emoji             = "👩‍💻"       # zwj sequence is one cluster
  combining         = "é"       # combining accent
  flag              = "🇩🇪"       # regional indicators
  thumbs            = "👍🏽"       # skin tone modifier
  joiner_then_space = "👩‍ 💻"     # a joiner only glues pictographs
}

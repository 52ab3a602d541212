//! Developer tool for differential testing against `terraform fmt`: formats every `*.tf` file
//! in a directory, writing `NAME.tf.ours` (or `NAME.tf.ourerr` with the error) beside it, so
//! the results can be compared with what terraform writes (see engine/tests/fmt/README.md).
//!
//! Run: `cargo run -p tenantform-engine --example fmt_corpus -- DIR`

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fs;

use tenantform_engine::fmt::format_source;

fn main() {
    let Some(dir) = std::env::args().nth(1).or_else(|| std::env::var("TENANTFORM_FMT_CORPUS").ok()) else {
        eprintln!("usage: fmt_corpus DIR (or TENANTFORM_FMT_CORPUS=DIR)");
        std::process::exit(2);
    };
    let mut formatted = 0;
    let mut refused = 0;
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {dir}: {e}")) {
        let path = entry.expect("directory entry").path();
        if path.extension().is_none_or(|e| e != "tf") {
            continue;
        }
        let Ok(src) = fs::read_to_string(&path) else { continue };
        let mut out = path.clone().into_os_string();
        match format_source(&src) {
            Ok(text) => {
                out.push(".ours");
                fs::write(out, text).expect("write");
                formatted += 1;
            }
            Err(err) => {
                out.push(".ourerr");
                fs::write(out, format!("{err}\n")).expect("write");
                refused += 1;
            }
        }
    }
    println!("{formatted} formatted, {refused} refused");
}

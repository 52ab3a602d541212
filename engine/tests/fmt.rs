//! Fixture tests for `tenantform fmt`: every `fmt/NAME.in.hcl` must format to `fmt/NAME.out.hcl`
//! (outputs produced by `terraform fmt` 1.11 and reviewed, see `fmt/README.md`), every `.out`
//! must be a fixed point, and malformed inputs must fail with an offset instead of formatting.

use std::fs;
use std::path::{Path, PathBuf};

use tenantform_engine::fmt::{format_source, FormatError};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fmt")
}

fn fixtures(suffix: &str) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = fs::read_dir(fixture_dir())
        .expect("fixture directory exists")
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    paths.sort();
    paths
}

fn diff(expected: &str, actual: &str) -> String {
    similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .header("expected", "actual")
        .to_string()
        .replace('\r', "\\r")
}

#[test]
fn every_fixture_formats_to_its_expected_output() {
    let inputs = fixtures(".in.hcl");
    assert!(inputs.len() >= 20, "fixtures went missing: {inputs:?}");
    let mut failures = Vec::new();
    for input in inputs {
        let name = input.file_name().unwrap().to_string_lossy().replace(".in.hcl", "");
        let src = fs::read_to_string(&input).expect("fixture is UTF-8");
        let expected_path = input.with_file_name(format!("{name}.out.hcl"));
        let expected = fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("{name}: missing {}", expected_path.display()));
        match format_source(&src) {
            Ok(actual) if actual == expected => {}
            Ok(actual) => failures.push(format!("{name}:\n{}", diff(&expected, &actual))),
            Err(err) => failures.push(format!("{name}: unexpected error {err}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_expected_output_is_a_fixed_point() {
    let mut failures = Vec::new();
    for path in fixtures(".out.hcl") {
        let src = fs::read_to_string(&path).expect("fixture is UTF-8");
        match format_source(&src) {
            Ok(again) if again == src => {}
            Ok(again) => failures.push(format!("{}:\n{}", path.display(), diff(&src, &again))),
            Err(err) => failures.push(format!("{}: {err}", path.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn fails_at(src: &str) -> FormatError {
    match format_source(src) {
        Ok(out) => panic!("expected a syntax error for {src:?}, got {out:?}"),
        Err(err) => {
            assert!(err.offset <= src.len(), "offset past the end: {err:?}");
            assert!(!err.message.is_empty());
            err
        }
    }
}

#[test]
fn malformed_input_is_an_error_with_its_offset() {
    // Each of these is also rejected by `terraform fmt`.
    let cases: &[(&str, usize)] = &[
        ("a = \"unterminated\n", 17),
        ("a = 1 & 2\n", 6),
        ("a = <<EOT\nno end marker\n", 24),
        ("/* never closed\n", 0),
    ];
    for &(src, offset) in cases {
        assert_eq!(fails_at(src).offset, offset, "{src:?}");
    }
    for src in [
        "tenant \"acme\" {\n",
        "tenant \"acme\" { plan = \"pro\"\n}\n",
        "a { b = 1 c = 2 }\n",
        "a { b {} }\n",
        "a = 1\na = 2\n",
        "a = \n",
        "a = [1, 2\n",
        "a = \"${x\"\n",
        "a \"${x}\" {}\n",
        "a = \"\\q\"\n",
        "= 1\n",
        "a = 1 b = 2\n",
        "}\n",
        "a = x.0.1\n",
        "a = \"x\r\"\n",
        "a = 1\rb = 2\n",
        "a = \"%{ifx}y%{endif}\"\n",
        "a = [for x inb : x]\n",
        "a = \"%{for x inb}y%{endfor}\"\n",
        // The newline after a heredoc's end marker ends the attribute.
        "a = <<EOT\nx\nEOT\n[0]\n",
        "a = b ? <<EOT\nx\nEOT\n: c\n",
        "a = { k = <<EOT\nx\nEOT\n? 1 : 2 }\n",
    ] {
        fails_at(src);
    }
}

#[test]
fn error_offsets_point_into_the_original_text_with_a_byte_order_mark() {
    let src = "\u{feff}a = \"open\n";
    let err = fails_at(src);
    assert_eq!(err.offset, 3 + 9);
    assert_eq!(err.line_col(src), (1, 10));
}

#[test]
fn heredocs_inside_brackets_may_continue_on_the_next_line() {
    let src = "a = [<<EOT\nx\nEOT\n, \"y\"]\nb = f(<<EOT\nx\nEOT\n)\nc = { k = <<EOT\nx\nEOT\n}\n";
    let out = format_source(src).expect("valid for terraform and hcl-edit alike");
    assert_eq!(out, "a = [<<EOT\nx\nEOT\n, \"y\"]\nb = f(<<EOT\nx\nEOT\n)\nc = { k = <<EOT\nx\nEOT\n}\n");
}

#[test]
fn empty_and_whitespace_only_files() {
    assert_eq!(format_source("").unwrap(), "");
    assert_eq!(format_source("\n\n").unwrap(), "\n\n");
    assert_eq!(format_source("# only a comment").unwrap(), "# only a comment");
}

//! Property tests for `tenantform fmt`: on any input — random text, HCL-flavoured noise, and
//! the fixture files with random edits — the formatter never panics, and whenever it returns a
//! result, that result is a fixed point of the formatter and still parses with hcl-edit.

use std::fs;
use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;
use tenantform_engine::fmt::format_source;

fn fixtures() -> &'static [String] {
    static FIXTURES: OnceLock<Vec<String>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fmt");
        let mut paths: Vec<_> = fs::read_dir(dir)
            .expect("fixture directory")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "hcl"))
            .collect();
        paths.sort();
        paths.into_iter().map(|p| fs::read_to_string(p).expect("UTF-8 fixture")).collect()
    })
}

/// Snippets that are likely to change the meaning or the layout of HCL text.
const PIECES: &[&str] = &[
    " ", "  ", "\t", "\n", "\r\n", "\r", "\n\n", ",", "(", ")", "[", "]", "{", "}", "\"", "=", "==", "-", "!", "?",
    ":", "=>", "...", ".", "*", "# c\n", "// d\n", "/* e */", "/*", "${", "%{", "~}", "}\"", "<<EOT\n", "<<-EOT\n",
    "EOT\n", "x", "1", "1.5e3", "for", "in", "if", "endif", "\\", "$${", "é", "\u{feff}", "a = 1\n", "b {\n", "}\n",
    "\"${x}\"",
];

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, usize),
    Delete(usize, usize),
    DuplicateLine(usize),
}

fn apply(src: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = src.chars().collect();
    for edit in edits {
        let len = chars.len();
        match *edit {
            Edit::Insert(at, piece) => {
                let at = at % (len + 1);
                let piece = PIECES[piece % PIECES.len()];
                chars.splice(at..at, piece.chars());
            }
            Edit::Delete(at, n) if len > 0 => {
                let at = at % len;
                let end = (at + n % 4 + 1).min(len);
                chars.drain(at..end);
            }
            Edit::DuplicateLine(at) if len > 0 => {
                let at = at % len;
                let start = chars[..at].iter().rposition(|&c| c == '\n').map_or(0, |i| i + 1);
                let end = chars[at..].iter().position(|&c| c == '\n').map_or(len, |i| at + i + 1);
                let line: Vec<char> = chars[start..end].to_vec();
                chars.splice(end..end, line);
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<usize>()).prop_map(|(a, p)| Edit::Insert(a, p)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, n)| Edit::Delete(a, n)),
        any::<usize>().prop_map(Edit::DuplicateLine),
    ]
}

fn check(src: &str) -> Result<(), TestCaseError> {
    let Ok(out) = format_source(src) else {
        return Ok(());
    };
    let again = format_source(&out);
    prop_assert_eq!(again.as_deref(), Ok(out.as_str()), "not idempotent for {:?}", src);
    prop_assert!(hcl_edit::parser::parse_body(&out).is_ok(), "output does not parse: {:?} from {:?}", out, src);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(src in any::<String>()) {
        check(&src)?;
    }

    #[test]
    fn hcl_flavoured_noise_never_panics(
        src in "[a-z0-9 \\t\\n\\r{}\\[\\]()=\",.#/*$%<>!?:~\\\\-]{0,120}"
    ) {
        check(&src)?;
    }

    #[test]
    fn mutated_fixtures_stay_idempotent_and_parseable(
        which in any::<usize>(),
        edits in proptest::collection::vec(edit(), 1..5),
    ) {
        let fixtures = fixtures();
        let src = apply(&fixtures[which % fixtures.len()], &edits);
        check(&src)?;
    }

    #[test]
    fn whitespace_changes_between_tokens_format_the_same(
        which in any::<usize>(),
        spaces in proptest::collection::vec((any::<usize>(), 0usize..4), 1..8),
    ) {
        // Adding spaces or tabs next to existing spaces never changes a file's meaning, so its
        // formatted form (when it has one) must not change either.
        let fixtures = fixtures();
        let src = &fixtures[which % fixtures.len()];
        let Ok(expected) = format_source(src) else { return Ok(()); };
        let positions: Vec<usize> = src.match_indices(' ').map(|(i, _)| i).collect();
        if positions.is_empty() { return Ok(()); }
        let mut text = src.to_string();
        let mut inserts: Vec<(usize, usize)> = spaces
            .iter()
            .map(|&(at, kind)| (positions[at % positions.len()], kind))
            .collect();
        inserts.sort_unstable_by_key(|i| std::cmp::Reverse(i.0));
        inserts.dedup_by_key(|i| i.0);
        for (at, kind) in inserts {
            if in_literal_text(src, at) { continue; }
            text.insert_str(at, [" ", "\t", "  ", " \t"][kind]);
        }
        prop_assert_eq!(format_source(&text), Ok(expected));
    }
}

/// Whether byte `at` of `src` lies where spaces are content, not layout: in a comment, a
/// quoted string, a heredoc body, or the run of spaces at the end of the file.
fn in_literal_text(src: &str, at: usize) -> bool {
    let line_start = src[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = &src[line_start..at];
    let quotes = line.matches('"').count() - line.matches("\\\"").count();
    let in_heredoc = {
        // Crude but sufficient for the fixtures: any `<<` opened earlier and not yet closed.
        let before = &src[..line_start];
        before.matches("<<").count()
            > before.matches("\nEOT").count() + before.matches("\nSCRIPT").count() + before.matches("    EOT").count()
    };
    line.contains('#')
        || line.contains("//")
        || line.contains("/*")
        || src[..at].matches("/*").count() > src[..at].matches("*/").count()
        || quotes % 2 == 1
        || in_heredoc
        || src[at..].trim_matches(|c| c == ' ' || c == '\t').is_empty()
        || src[at..].starts_with(" \n")
        || src[at..].starts_with(" \r")
}

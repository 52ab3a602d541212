//! Fixture stacks: `tests/fixtures/lang/<case>/` holds HCL files and one or more `<name>.cmd`
//! files (the arguments of one command; `<name>.stdin` feeds it). The expected exit code,
//! stdout and stderr sit beside them as `<name>.code`, `<name>.stdout`, `<name>.stderr`, with
//! the temporary directory shown as `$STACK`. `UPDATE_EXPECT=1 cargo test` rewrites them;
//! review the diff before committing.

use std::path::Path;

use crate::support::{copy_dir, fixture, normalize, BIN};

fn run_case(case: &Path, cmd_file: &Path, update: bool) -> Option<String> {
    let name = cmd_file.file_stem().unwrap().to_string_lossy().to_string();
    let args_line = std::fs::read_to_string(cmd_file).unwrap();
    let args: Vec<&str> = args_line.split_whitespace().collect();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(case, dir.path());
    let stdin_path = case.join(format!("{name}.stdin"));
    let mut c = std::process::Command::new(BIN);
    c.args(&args).current_dir(dir.path()).env_remove("TENANTFORM_LOG").env("NO_COLOR", "1");
    for (k, _) in std::env::vars() {
        if k.starts_with("TENANTFORM_VAR_") {
            c.env_remove(k);
        }
    }
    c.stdin(match std::fs::File::open(&stdin_path) {
        Ok(f) => std::process::Stdio::from(f),
        Err(_) => std::process::Stdio::null(),
    });
    let out = c.output().unwrap();
    let code = out.status.code().unwrap_or(-1).to_string();
    let stdout = normalize(&String::from_utf8_lossy(&out.stdout), dir.path());
    let stderr = normalize(&String::from_utf8_lossy(&out.stderr), dir.path());
    let mut failures = Vec::new();
    for (ext, got) in [("code", format!("{code}\n")), ("stdout", stdout), ("stderr", stderr)] {
        let path = case.join(format!("{name}.{ext}"));
        if update {
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if want != got {
            let diff =
                similar::TextDiff::from_lines(&want, &got).unified_diff().header("expected", "actual").to_string();
            failures.push(format!("{} {ext} differs:\n{diff}", case.file_name().unwrap().to_string_lossy()));
        }
    }
    if failures.is_empty() {
        None
    } else {
        Some(format!("{} `tenantform {args_line}`:\n{}", case.display(), failures.join("\n")))
    }
}

fn run_all(group: &str) {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut failures = Vec::new();
    let mut count = 0;
    let mut cases: Vec<_> =
        std::fs::read_dir(fixture(group)).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    cases.sort();
    for case in cases {
        let mut cmds: Vec<_> = std::fs::read_dir(&case)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "cmd"))
            .collect();
        cmds.sort();
        for cmd in cmds {
            count += 1;
            if let Some(f) = run_case(&case, &cmd, update) {
                failures.push(f);
            }
        }
    }
    assert!(count > 0, "no fixture cases found under tests/fixtures/{group}");
    assert!(failures.is_empty(), "{} of {count} fixture commands differ:\n\n{}", failures.len(), failures.join("\n\n"));
}

/// Every language fixture: valid stacks (validate, graph, console) and one per diagnostic kind.
#[test]
fn language_fixtures() {
    run_all("lang");
}

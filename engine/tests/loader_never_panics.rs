//! The loader, evaluator and graph builder never panic, whatever the input: arbitrary text and
//! fixture files with random edits all end in a configuration or in diagnostics.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use tenantform_engine::config::LoadOptions;
use tenantform_engine::inputs::InputSources;
use tenantform_engine::provider::ProviderRegistry;
use tenantform_engine::validate::{prepare, validate};

fn fixtures() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/lang");
    let mut out = Vec::new();
    let mut dirs = vec![root];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p: PathBuf = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "hcl") {
                out.push(std::fs::read_to_string(&p).unwrap_or_default());
            }
        }
    }
    out.sort();
    out
}

/// Loads `text` as a one-file stack (plus a one-file tenant module) and validates it fully.
fn exercise(text: &str, tenant_text: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.hcl"), text).unwrap();
    std::fs::create_dir_all(dir.path().join("tenant")).unwrap();
    std::fs::write(dir.path().join("tenant/main.hcl"), tenant_text).unwrap();
    for lenient in [true, false] {
        if let Ok(p) = prepare(dir.path(), &InputSources::default(), lenient, &LoadOptions::default()) {
            let _ = validate(&p.stack, &p.graph, &ProviderRegistry::new());
            let _ = p.graph.to_dot(&p.stack, None);
        }
    }
}

fn mutate(base: &str, edits: &[(usize, u8, u8)]) -> String {
    let mut bytes = base.as_bytes().to_vec();
    for &(pos, kind, byte) in edits {
        let n = bytes.len();
        let at = if n == 0 { 0 } else { pos % (n + 1) };
        let tokens: &[&[u8]] = &[b"{", b"}", b"\"", b"${", b"%{", b"=", b"[", b"]", b"(", b")", b".", b"*", b"\n", b"<<EOT\n", b"for ", b" : ", b"?", b"-", b"tenant.", b"var.", b"local.", b"each.", b"count."];
        match kind % 4 {
            0 if at < n => {
                bytes.remove(at);
            }
            1 => bytes.insert(at.min(n), byte),
            2 => {
                let t = tokens[byte as usize % tokens.len()];
                for (i, b) in t.iter().enumerate() {
                    bytes.insert((at + i).min(bytes.len()), *b);
                }
            }
            _ if at < n => bytes[at] = byte,
            _ => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        exercise(&text, "output \"x\" { value = tenant.slug }\n");
    }

    #[test]
    fn mutated_fixtures_never_panic(which in 0usize..1000, edits in proptest::collection::vec((0usize..5000, 0u8..4, any::<u8>()), 1..8)) {
        let all = fixtures();
        prop_assume!(!all.is_empty());
        let base = &all[which % all.len()];
        let text = mutate(base, &edits);
        exercise(&text, "variable \"plan\" {\n  default = \"x\"\n}\noutput \"url\" { value = \"${tenant.slug}-${var.plan}\" }\n");
    }

    #[test]
    fn mutated_tenant_modules_never_panic(which in 0usize..1000, edits in proptest::collection::vec((0usize..5000, 0u8..4, any::<u8>()), 1..8)) {
        let all = fixtures();
        prop_assume!(!all.is_empty());
        let base = &all[which % all.len()];
        exercise("tenant_stack {\n  source = \"./tenant\"\n}\ntenant \"acme\" {}\n", &mutate(base, &edits));
    }
}

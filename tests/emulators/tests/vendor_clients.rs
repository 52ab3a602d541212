//! Each emulator checked with the vendor's own client library, installed from the package
//! registry: google-api-python-client (PyPI) against Secret Manager and Cloud Run, the npm
//! `cloudflare` library against Cloudflare, and `@neondatabase/api-client` (npm) against Neon.
//! The scripts in `tests/emulators/vendor/` create, get, list and delete the main objects and
//! assert on what the vendor's library parsed; here the emulator runs in-process and the test
//! passes only when the script does.
//!
//! The libraries live in `target/vendor-clients` (installed by `.ci/setup`, or here on first
//! use through `vendor/install.sh`). When they are missing and the registry cannot be reached,
//! the test says so loudly and skips — except under CI (`CI` set), where it fails.

// A skipped check must say so where the test runner shows it, and a passed one what it ran.
#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use tenantform_emulators::{start, Kind, Options};

fn vendor_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vendor")
}

fn cache_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("vendor-clients")
}

/// `Ok(dir)` when the vendor libraries are installed, `Err(why)` when they cannot be.
fn installed() -> &'static Result<PathBuf, String> {
    static DONE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DONE.get_or_init(|| {
        let dir = cache_dir();
        if dir.join("python/.installed").exists() && dir.join("node/.installed").exists() {
            return Ok(dir);
        }
        let out = Command::new("bash")
            .arg(vendor_dir().join("install.sh"))
            .arg(&dir)
            .output()
            .map_err(|e| format!("cannot run vendor/install.sh: {e}"))?;
        if out.status.success() {
            Ok(dir)
        } else {
            Err(format!(
                "vendor/install.sh failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    })
}

/// Whether an install failure is the registry being out of reach (rather than a broken setup).
fn unreachable(why: &str) -> bool {
    [
        "ENOTFOUND",
        "EAI_AGAIN",
        "ECONNREFUSED",
        "ETIMEDOUT",
        "ECONNRESET",
        "Failed to establish a new connection",
        "Temporary failure in name resolution",
        "Network is unreachable",
        "No matching distribution found",
        "Could not find a version that satisfies",
    ]
    .iter()
    .any(|m| why.contains(m))
}

/// The libraries' directory, or `None` after saying loudly why the check is skipped.
fn libraries() -> Option<PathBuf> {
    match installed() {
        Ok(dir) => Some(dir.clone()),
        Err(why) if unreachable(why) && std::env::var_os("CI").is_none() => {
            eprintln!(
                "SKIPPED: the vendor client libraries could not be installed because the package registry is \
                 unreachable; these emulator checks did NOT run.\n{why}"
            );
            None
        }
        Err(why) => panic!("the vendor client libraries are not installed: {why}"),
    }
}

/// Runs a vendor script and requires it to pass; returns its output.
async fn run(mut cmd: Command) -> String {
    let out = tokio::task::spawn_blocking(move || cmd.output()).await.unwrap().expect("the script starts");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "the vendor client check failed ({}):\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("vendor client check passed"), "{stdout}\n{stderr}");
    eprintln!("{}", stdout.trim());
    stdout
}

fn node(libs: &Path, script: &str) -> Command {
    let mut cmd = Command::new("node");
    cmd.arg(vendor_dir().join(script)).env("NODE_PATH", libs.join("node/node_modules"));
    cmd
}

fn python(libs: &Path, api: &str, base_url: &str) -> Command {
    let mut cmd = Command::new("python3");
    cmd.arg(vendor_dir().join("google_apis.py")).arg(api).arg(base_url).env("PYTHONPATH", libs.join("python"));
    cmd
}

fn fast() -> Options {
    Options { operation_delay: std::time::Duration::from_millis(40), ..Options::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudflare_emulator_with_the_cloudflare_npm_library() {
    let Some(libs) = libraries() else { return };
    let (_, h) = start(Kind::Cloudflare, fast()).await.unwrap();
    let mut cmd = node(&libs, "cloudflare.cjs");
    cmd.env("BASE_URL", h.base_url()).env("ZONE_ID", tenantform_emulators::cloudflare::SEED_ZONE_ID);
    let out = run(cmd).await;
    assert!(out.contains("cloudflare 7."), "{out}");
    assert!(h.requests().iter().any(|r| r.path.ends_with("/custom_hostnames") && r.method == "POST"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn neon_emulator_with_the_neon_api_client() {
    let Some(libs) = libraries() else { return };
    let (_, h) = start(Kind::Neon, fast()).await.unwrap();
    let mut cmd = node(&libs, "neon.cjs");
    cmd.env("BASE_URL", h.base_url()).env("PROJECT_ID", tenantform_emulators::neon::SEED_PROJECT_ID);
    run(cmd).await;
    assert!(h.objects("branches").iter().all(|b| b["name"] != "vendor-check"), "the script cleaned up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_manager_emulator_with_google_api_python_client() {
    let Some(libs) = libraries() else { return };
    let (_, h) = start(Kind::SecretManager, fast()).await.unwrap();
    run(python(&libs, "secretmanager", &format!("http://{}/", h.addr()))).await;
    assert_eq!(h.objects("secrets").len(), 1, "the plain secret is left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_run_emulator_with_google_api_python_client() {
    let Some(libs) = libraries() else { return };
    let (_, h) = start(Kind::CloudRun, fast()).await.unwrap();
    run(python(&libs, "cloudrun", &format!("http://{}/", h.addr()))).await;
    assert!(h.objects("services").is_empty(), "the script deleted its services");
}

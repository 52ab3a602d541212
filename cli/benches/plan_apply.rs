//! End-to-end benchmarks of the release binary on synthetic tenant stacks (4 chained
//! `time_sleep` resources per tenant, the shape Terraform was measured on):
//!
//! 1. first apply of N tenants with instant resources (state written per resource);
//! 2. no-change plan of those N tenants (provider reads are instant) — time and peak memory;
//! 3. apply of M tenants whose resources take 100 ms each at `-parallelism 1000` — against the
//!    lower bound of 4 × 100 ms — with the number of state transactions (group commit).
//!
//! Run: `cargo bench -p tenantform --bench plan_apply [-- N M]` (defaults 10000 and 1000).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::Command;
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_tenantform");

/// Runs the binary under /usr/bin/time; returns (seconds, peak RSS in MB, stdout).
fn timed(dir: &std::path::Path, args: &[&str]) -> (f64, f64, String) {
    let started = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run tenantform");
    let secs = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() || out.status.code() == Some(2), "tenantform {args:?} failed:\n{stderr}");
    let kb: f64 = stderr.lines().last().and_then(|l| l.trim().parse().ok()).unwrap_or(0.0);
    (secs, kb / 1024.0, String::from_utf8_lossy(&out.stdout).into_owned())
}

fn main() {
    let nums: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n = nums.first().copied().unwrap_or(10_000);
    let m = nums.get(1).copied().unwrap_or(1_000);

    let dir = tempfile::tempdir().unwrap();
    tenantform_engine::synthetic::write_tenant_stack(dir.path(), n, "0s").unwrap();
    let (secs, mb, out) = timed(dir.path(), &["apply", "-auto-approve", "--json", "-parallelism", "1000"]);
    let summary = out.lines().rev().find(|l| l.contains("\"type\":\"summary\"")).unwrap_or("{}").to_string();
    println!("first apply, {n} tenants x 4 instant resources: {secs:.2} s, peak RSS {mb:.0} MB; {summary}");

    let (secs, mb, _) = timed(dir.path(), &["plan", "-detailed-exitcode"]);
    println!("no-change plan, {n} tenants x 4 resources: {secs:.2} s, peak RSS {mb:.0} MB");
    let (secs, mb, _) = timed(dir.path(), &["plan", "-detailed-exitcode", "-refresh=false"]);
    println!("no-change plan -refresh=false, {n} tenants: {secs:.2} s, peak RSS {mb:.0} MB");

    // Text output for the wall time (as a user runs it), then --json on a fresh stack for the
    // breakdown (the event stream itself costs a little).
    let dir = tempfile::tempdir().unwrap();
    tenantform_engine::synthetic::write_tenant_stack(dir.path(), m, "100ms").unwrap();
    let (wall, _, _) = timed(dir.path(), &["apply", "-auto-approve", "-parallelism", "1000"]);
    println!("apply, {m} tenants x 4 chained 100 ms resources at -parallelism 1000 (text output): {wall:.2} s wall");
    let dir = tempfile::tempdir().unwrap();
    tenantform_engine::synthetic::write_tenant_stack(dir.path(), m, "100ms").unwrap();
    let (secs, mb, out) = timed(dir.path(), &["apply", "-auto-approve", "--json", "-parallelism", "1000"]);
    let summary: serde_json::Value =
        serde_json::from_str(out.lines().rev().find(|l| l.contains("\"type\":\"summary\"")).unwrap_or("{}"))
            .unwrap_or_default();
    let apply_secs = summary["apply_seconds"].as_f64().unwrap_or(0.0);
    let commits = summary["state_commits"].as_u64().unwrap_or(0);
    let changes = summary["state_changes"].as_u64().unwrap_or(0);
    println!(
        "apply (--json), same shape: {secs:.2} s wall for the command, {apply_secs:.2} s in the apply phase (after planning), peak RSS {mb:.0} MB; lower bound 0.40 s; {commits} state transactions for {changes} changes ({:.0} commits/s, {:.0} changes/s)",
        commits as f64 / apply_secs.max(1e-9),
        changes as f64 / apply_secs.max(1e-9),
    );
}

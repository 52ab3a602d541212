//! Benchmark: load, expand and graph a generated stack of N tenants × 4 chained resources
//! (the issue-2 target: 10,000 tenants under 1 s and 300 MB on the reference machine).
//!
//! Run: `cargo bench -p tenantform-engine --bench load_expand_graph [-- TENANTS]`
//! Prints one line per phase and the peak resident memory of the process.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Instant;

use tenantform_engine::config::LoadOptions;
use tenantform_engine::inputs::InputSources;
use tenantform_engine::validate::prepare;

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn main() {
    let tenants: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    tenantform_engine::synthetic::write_tenant_stack(dir.path(), tenants, "0s").unwrap();
    let baseline = peak_rss_mb();
    let t = Instant::now();
    let p = match prepare(dir.path(), &InputSources::default(), false, &LoadOptions::default()) {
        Ok(p) => p,
        Err((_, d)) => panic!("stack does not load: {:?}", d.iter().next()),
    };
    let elapsed = t.elapsed();
    println!(
        "load+expand+graph: {tenants} tenants, {} resource instances, {} graph nodes, {} edges: {:.3} s, peak RSS {:.0} MB (baseline {:.0} MB)",
        p.stack.resources.len(),
        p.graph.graph.node_count(),
        p.graph.graph.edge_count(),
        elapsed.as_secs_f64(),
        peak_rss_mb(),
        baseline
    );
    let t = Instant::now();
    let deps = p.graph.resource_dependencies();
    println!("resource dependency closure: {:.3} s ({} instances)", t.elapsed().as_secs_f64(), deps.len());
}

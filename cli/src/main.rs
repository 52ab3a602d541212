//! The `tenantform` binary: argument parsing and hand-off to commands.
fn main() {}

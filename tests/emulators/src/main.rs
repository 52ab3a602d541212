//! `tenantform-emulator`: runs one emulator (work in progress).
fn main() {}

//! Plan and apply semantics, tested through the engine's operations against the test
//! provider (`tenantform_engine::testing`) and SQLite state: each test reproduces a failure
//! path that once broke.

mod harness;

mod deferral;
mod failures;
mod ordering;
mod shared;

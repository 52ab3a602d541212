//! tenantform's engine: the stack language (config, eval, graph), planning and applying.
//!
//! The engine knows no concrete provider or state store: it works through the traits in
//! [`provider`] and [`state`], which the `providers` and `state` crates implement and the CLI
//! wires together. It never prints; it returns values and [`diagnostics::Diagnostics`] and
//! reports progress through observer traits.

pub mod address;
pub mod apply;
pub mod config;
pub mod diagnostics;
pub mod eval;
pub mod expand;
pub mod fmt;
pub mod functions;
pub mod generate;
pub mod graph;
pub mod inputs;
pub mod ops;
pub mod plan;
pub mod provider;
pub mod refactor;
pub mod runtime;
pub mod schedule;
pub mod state;
pub mod synthetic;
pub mod testing;
pub mod types;
pub mod validate;
pub mod value;
pub mod walk;

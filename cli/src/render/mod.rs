//! Terminal and machine-readable rendering: plans, apply progress, JSON documents.

pub mod json;
pub mod plan;
pub mod progress;

//! Helpers every provider shares: typed attribute access on configuration values
//! ([`attrs`]), attribute diffs for `plan`/`update` ([`diff`]), Go-style durations
//! ([`duration`]), timestamps ([`timefmt`]), `timeouts {}` blocks ([`timeouts`]) and small
//! file-system helpers ([`fs`]).
//!
//! Nothing here knows about a particular provider; provider-specific logic stays in its module.

pub mod attrs;
pub mod diff;
pub mod duration;
pub mod fs;
pub mod timefmt;
pub mod timeouts;

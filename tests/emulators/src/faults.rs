//! Fault injection: what makes an emulator behave like a busy, flaky real API. Applied by the
//! request gate in [`crate::admin`] to every API request (never to `/_emulator/` routes):
//!
//! 1. `latency_ms` is added before anything else;
//! 2. with probability `drop_rate` the connection is closed without an answer and without
//!    handling the request (the client sees a lost connection; nothing happened);
//! 3. with probability `error_rate` the request is refused with one of `error_statuses`
//!    (429 carries `Retry-After: retry_after_secs`), in the API's error shape; nothing happened;
//! 4. otherwise the request is handled; if it changed something (not GET/HEAD) and
//!    succeeded, the next `drop_after_commit` such requests — and a `drop_after_commit_rate`
//!    fraction of all of them — lose their response: the change is committed but the
//!    connection is closed before the answer (the "our earlier attempt succeeded, the
//!    response was lost" case that idempotent creates must survive).

use serde::{Deserialize, Serialize};

/// The fault settings of one emulator (`GET|PUT /_emulator/faults`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Fraction (0..1) of API requests refused with one of `error_statuses`.
    pub error_rate: f64,
    /// Statuses used for refusals; default `[429, 503]`.
    pub error_statuses: Vec<u16>,
    /// `Retry-After` seconds sent with injected 429s (none when unset).
    pub retry_after_secs: Option<u64>,
    /// Extra latency of every API request, in milliseconds.
    pub latency_ms: u64,
    /// Fraction (0..1) of API requests whose connection is dropped before handling.
    pub drop_rate: f64,
    /// The next N successful mutating requests lose their response after committing.
    pub drop_after_commit: u32,
    /// Fraction (0..1) of successful mutating requests that lose their response after committing.
    pub drop_after_commit_rate: f64,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            error_rate: 0.0,
            error_statuses: vec![429, 503],
            retry_after_secs: None,
            latency_ms: 0,
            drop_rate: 0.0,
            drop_after_commit: 0,
            drop_after_commit_rate: 0.0,
        }
    }
}

impl FaultConfig {
    /// Checks the rates are fractions and the statuses are errors.
    pub fn validate(&self) -> Result<(), String> {
        for (name, r) in [
            ("error_rate", self.error_rate),
            ("drop_rate", self.drop_rate),
            ("drop_after_commit_rate", self.drop_after_commit_rate),
        ] {
            if !(0.0..=1.0).contains(&r) {
                return Err(format!("{name} must be between 0 and 1, got {r}"));
            }
        }
        if self.error_statuses.is_empty() || self.error_statuses.iter().any(|s| !(400..600).contains(s)) {
            return Err("error_statuses must be a non-empty list of 4xx/5xx codes".into());
        }
        Ok(())
    }
}

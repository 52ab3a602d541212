//! What an apply reports while it runs. The engine emits events; the CLI renders them as
//! progress lines or as one JSON object per line (`--json`). Events never carry attribute
//! values, so nothing sensitive can leak through them.

use std::time::Duration;

use serde::Serialize;

use crate::address::InstanceAddr;
use crate::plan::Action;

/// One event of an apply.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ApplyEvent {
    /// A provider call started.
    Start { address: InstanceAddr, action: Action },
    /// Still running (emitted every 10 seconds).
    Progress {
        address: InstanceAddr,
        action: Action,
        #[serde(serialize_with = "secs")]
        elapsed: Duration,
    },
    /// Finished successfully; `id` is the object's `id` attribute when it has a non-sensitive one.
    Complete {
        address: InstanceAddr,
        action: Action,
        #[serde(serialize_with = "secs")]
        elapsed: Duration,
        id: Option<String>,
    },
    /// Failed; `message` is the provider's error (providers never put secrets in errors).
    Errored { address: InstanceAddr, action: Action, message: String },
    /// Not attempted because something it depends on failed (or the apply was interrupted).
    Skipped { address: InstanceAddr, action: Action, reason: String },
    /// A transient error is being retried.
    Retrying { address: InstanceAddr, action: Action, attempt: u32, message: String },
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

/// Receives apply events (the CLI's renderer, a test recorder).
pub trait ApplyObserver: Send + Sync {
    fn event(&self, e: ApplyEvent);
}

/// Discards events.
pub struct NoObserver;

impl ApplyObserver for NoObserver {
    fn event(&self, _e: ApplyEvent) {}
}

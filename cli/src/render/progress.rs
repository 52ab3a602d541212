//! Apply progress: Terraform-style lines (`…: Creating...`, `…: Still creating... [10s
//! elapsed]`, `…: Creation complete after 2s [id=…]`) or one JSON object per line.

use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use tenantform_engine::apply::{ApplyEvent, ApplyObserver};
use tenantform_engine::plan::Action;
use tenantform_engine::state::now_rfc3339;

/// Renders events to stdout.
pub struct Progress {
    json: bool,
    out: Mutex<std::io::Stdout>,
}

impl Progress {
    pub fn new(json: bool) -> Self {
        Progress { json, out: Mutex::new(std::io::stdout()) }
    }

    /// Writes a JSON line (used for non-event messages in `--json` mode).
    pub fn json_line(&self, v: serde_json::Value) {
        let mut o = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(o, "{v}");
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

fn nouns(a: Action) -> (&'static str, &'static str, &'static str) {
    match a {
        Action::Create | Action::Replace | Action::CreateThenDelete => {
            ("Creating...", "Still creating...", "Creation complete")
        }
        Action::Update => ("Modifying...", "Still modifying...", "Modifications complete"),
        Action::Delete => ("Destroying...", "Still destroying...", "Destruction complete"),
        Action::Read => ("Reading...", "Still reading...", "Read complete"),
        Action::NoOp => ("Refreshing...", "Still refreshing...", "Refresh complete"),
    }
}

impl ApplyObserver for Progress {
    fn event(&self, e: ApplyEvent) {
        let mut o = self.out.lock().unwrap_or_else(|e| e.into_inner());
        if self.json {
            let mut v = serde_json::to_value(&e).unwrap_or(serde_json::Value::Null);
            if let Some(m) = v.as_object_mut() {
                m.insert("timestamp".into(), serde_json::Value::String(now_rfc3339()));
            }
            let _ = writeln!(o, "{v}");
            return;
        }
        let line = match e {
            ApplyEvent::Start { address, action } => format!("{address}: {}", nouns(action).0),
            ApplyEvent::Progress { address, action, elapsed } => {
                format!("{address}: {} [{} elapsed]", nouns(action).1, secs(elapsed))
            }
            ApplyEvent::Complete { address, action, elapsed, id } => match id {
                Some(id) => format!("{address}: {} after {} [id={id}]", nouns(action).2, secs(elapsed)),
                None => format!("{address}: {} after {}", nouns(action).2, secs(elapsed)),
            },
            ApplyEvent::Errored { address, message, .. } => format!("{address}: Error: {message}"),
            ApplyEvent::Skipped { address, reason, .. } => format!("{address}: Skipped ({reason})"),
            ApplyEvent::Retrying { address, attempt, message, .. } => {
                format!("{address}: Retrying (attempt {attempt}): {message}")
            }
        };
        let _ = writeln!(o, "{line}");
    }
}

//! Reading and locking state for an operation: on blocking threads (backends are synchronous),
//! with the "state is locked" diagnostic a user can act on.

use std::sync::Arc;
use std::time::Duration;

use crate::diagnostics::Diagnostic;
use crate::state::{LockGuard, LockInfo, Partition, PartitionFilter, StateBackend, StateError, StateSnapshot};

/// Which partitions to load for an operation restricted to some tenants (they and the root,
/// whose shared values their resources read).
pub fn partition_filter(tenants: &[String]) -> PartitionFilter {
    if tenants.is_empty() {
        PartitionFilter::All
    } else {
        let mut v = vec![Partition::Root];
        v.extend(tenants.iter().map(|t| Partition::Tenant(t.clone())));
        PartitionFilter::Only(v)
    }
}

fn state_diag(what: &str, e: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::error("state", format!("{what}: {e}"))
}

/// Loads state on a blocking thread.
pub async fn load_state(backend: &Arc<dyn StateBackend>, filter: PartitionFilter) -> Result<StateSnapshot, Diagnostic> {
    let b = backend.clone();
    match tokio::task::spawn_blocking(move || b.load(&filter)).await {
        Ok(r) => r.map_err(|e| state_diag("Cannot read state", e)),
        Err(e) => Err(state_diag("Cannot read state", e)),
    }
}

/// Takes the locks of `partitions`, waiting up to `timeout`. A refusal names the holders.
pub async fn lock(
    backend: &Arc<dyn StateBackend>,
    partitions: Vec<Partition>,
    operation: &str,
    timeout: Duration,
) -> Result<Box<dyn LockGuard>, Diagnostic> {
    let b = backend.clone();
    let info = LockInfo::for_current_process(operation);
    match tokio::task::spawn_blocking(move || b.lock(&partitions, &info, timeout)).await {
        Ok(Ok(g)) => Ok(g),
        Ok(Err(StateError::Locked { holders })) => Err(locked_diag(&holders)),
        Ok(Err(e)) => Err(state_diag("Error acquiring the state lock", e)),
        Err(e) => Err(Diagnostic::error("internal", format!("lock task failed: {e}"))),
    }
}

/// Releases a lock on a blocking thread; a failure is returned as a warning to show.
pub async fn unlock(backend: &Arc<dyn StateBackend>, guard: Box<dyn LockGuard>) -> Option<Diagnostic> {
    let b = backend.clone();
    match tokio::task::spawn_blocking(move || b.unlock(guard)).await {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(Diagnostic::warning("state", format!("Releasing the state lock failed: {e}"))),
        Err(e) => Some(Diagnostic::warning("state", format!("Releasing the state lock failed: {e}"))),
    }
}

/// "The state is locked": each holder once, with the partitions it holds, and a note when the
/// holder is a process on this host that no longer runs (its lock is never taken over silently).
/// The lock ID stands on a line of its own so it can be copied whole.
pub fn locked_diag(holders: &[LockInfo]) -> Diagnostic {
    let me = LockInfo::for_current_process("check");
    let mut by_id: Vec<(&LockInfo, Vec<String>)> = Vec::new();
    for h in holders {
        let part = h.partition.as_ref().map(|p| p.to_string()).unwrap_or_else(|| "-".into());
        match by_id.iter_mut().find(|(x, _)| x.id == h.id) {
            Some((_, parts)) => parts.push(part),
            None => by_id.push((h, vec![part])),
        }
    }
    let mut detail = String::from("the state is locked by another operation");
    let mut dead = None;
    for (h, parts) in &by_id {
        let shown = if parts.len() > 8 {
            format!("{}, … ({} partitions)", parts[..8].join(", "), parts.len())
        } else {
            parts.join(", ")
        };
        detail.push_str(&format!(
            "\n\nLock Info:\n  ID:         {}\n  Partitions: {shown}\n  Operation:  {}\n  Who:        {}@{}\n  PID:        {}\n  Created:    {}",
            h.id, h.operation, h.who, h.host, h.pid, h.created
        ));
        if h.host == me.host && !std::path::Path::new(&format!("/proc/{}", h.pid)).exists() {
            dead = Some(h.id.clone());
        }
    }
    let first = by_id.first().map(|(h, _)| h.id.clone()).unwrap_or_else(|| "ID".into());
    let help = match dead {
        Some(id) => format!(
            "process {} on this host no longer runs (it was killed or crashed): check what it left with `tenantform plan`, then release its lock with:\n\n    tenantform force-unlock {id}\n",
            by_id.iter().find(|(h, _)| h.id == id).map(|(h, _)| h.pid).unwrap_or(0)
        ),
        None => format!(
            "wait for it to finish or retry with -lock-timeout=60s; if its process is gone, release the lock with:\n\n    tenantform force-unlock {first}\n"
        ),
    };
    Diagnostic::error("locked", "Error acquiring the state lock").with_detail(detail).with_help(help)
}

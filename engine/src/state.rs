//! The state model and the backend trait the engine reads and writes state through.
//!
//! State is a set of resource instance records keyed by address, plus module outputs, split
//! into *partitions*: the root (shared resources) and one per tenant. Every write is a small
//! transaction of [`Change`]s stamped with the next stack-wide *serial*; the log of those
//! changes is the history (`state history`, `state rollback`). Implementations (SQLite,
//! PostgreSQL, in-memory) live in the `state` crate and must pass its conformance suite. This
//! module must not depend on any storage library.
//!
//! Backends are synchronous: callers run them on blocking threads (the apply's committer thread,
//! `spawn_blocking`), never on an async worker.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::address::{InstanceAddr, ModuleAddr};
use crate::value::Value;

/// A unit of locking and staleness: the root (shared resources) or one tenant.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Partition {
    Root,
    Tenant(String),
}

impl Partition {
    pub fn of_module(m: &ModuleAddr) -> Partition {
        match m.tenant() {
            Some(slug) => Partition::Tenant(slug.to_string()),
            None => Partition::Root,
        }
    }
    pub fn of(addr: &InstanceAddr) -> Partition {
        Self::of_module(addr.module())
    }
    /// Storage key: `""` for the root, the slug for a tenant.
    pub fn key(&self) -> &str {
        match self {
            Partition::Root => "",
            Partition::Tenant(s) => s,
        }
    }
    pub fn from_key(key: &str) -> Partition {
        if key.is_empty() {
            Partition::Root
        } else {
            Partition::Tenant(key.to_string())
        }
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Partition::Root => write!(f, "root"),
            Partition::Tenant(s) => write!(f, "tenant.{s}"),
        }
    }
}

/// Lifecycle status of a stored instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum InstanceStatus {
    /// Created and recorded.
    #[default]
    Ready,
    /// A create was started but not recorded as finished: the object may or may not exist.
    /// The next plan reconciles it by reading it back.
    Creating,
    /// Created, but a later step failed (e.g. a health check): it will be replaced.
    Tainted,
}

/// One stored resource instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstanceState {
    pub addr: InstanceAddr,
    /// Provider configuration that manages it, e.g. `local` or `google.europe`.
    pub provider: String,
    pub schema_version: u32,
    #[serde(default)]
    pub status: InstanceStatus,
    /// Attribute values; sensitive attributes carry the sensitive mark. Never unknown, except
    /// for an intent ([`InstanceStatus::Creating`]), which stores the planned value.
    pub value: Value,
    /// Instances this one depended on when last applied (for destroy ordering of orphans).
    #[serde(default)]
    pub dependencies: Vec<InstanceAddr>,
    #[serde(default)]
    pub create_before_destroy: bool,
    /// Why the record has its status: the create token of an intent, the failure that tainted
    /// an object. `None` for a plain ready record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<StatusDetail>,
}

/// What a non-ready record says about itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusDetail {
    /// The token the (interrupted) create was given ([`crate::provider::OpContext::create_token`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_token: Option<String>,
    /// Why the object is tainted (the provider's error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the status was set (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
}

/// A stored module output (`tenant.acme` outputs feed `tenants show`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputState {
    pub module: ModuleAddr,
    pub name: String,
    pub value: Value,
    pub sensitive: bool,
}

/// The whole state of a stack (or of the partitions that were loaded).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StateSnapshot {
    /// Identity of this stack's state, fixed at creation; guards against pushing foreign state.
    pub lineage: String,
    /// The newest serial of the stack.
    pub serial: u64,
    /// The newest serial that touched each partition (staleness checks of saved plans).
    #[serde(with = "partition_serials_as_map")]
    pub partition_serials: BTreeMap<Partition, u64>,
    pub resources: BTreeMap<InstanceAddr, InstanceState>,
    /// Outputs keyed by (module path, name).
    #[serde(with = "outputs_as_list")]
    pub outputs: BTreeMap<(ModuleAddr, String), OutputState>,
}

/// Partition serials as `{"": 3, "acme": 5}`.
mod partition_serials_as_map {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(m: &BTreeMap<Partition, u64>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(m.iter().map(|(p, v)| (p.key(), v)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<Partition, u64>, D::Error> {
        let m = BTreeMap::<String, u64>::deserialize(d)?;
        Ok(m.into_iter().map(|(k, v)| (Partition::from_key(&k), v)).collect())
    }
}

/// JSON maps need string keys: outputs are stored as a list.
mod outputs_as_list {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(m: &BTreeMap<(ModuleAddr, String), OutputState>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(m.values())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<(ModuleAddr, String), OutputState>, D::Error> {
        let list = Vec::<OutputState>::deserialize(d)?;
        Ok(list.into_iter().map(|o| ((o.module.clone(), o.name.clone()), o)).collect())
    }
}

impl StateSnapshot {
    /// The partitions that hold resources, each once, in order.
    pub fn partitions(&self) -> impl Iterator<Item = Partition> + '_ {
        // Addresses do not sort by partition (`module.x.*` is root but sorts after tenants),
        // so a plain `dedup` would repeat partitions.
        let seen: std::collections::BTreeSet<Partition> = self.resources.keys().map(Partition::of).collect();
        seen.into_iter()
    }

    /// Applies changes in memory, as a backend would.
    pub fn apply_changes(&mut self, changes: &[Change]) {
        for c in changes {
            match c {
                Change::Put(s) => {
                    self.resources.insert(s.addr.clone(), s.clone());
                }
                Change::Remove(a) => {
                    self.resources.remove(a);
                }
                Change::PutOutput(o) => {
                    self.outputs.insert((o.module.clone(), o.name.clone()), o.clone());
                }
                Change::RemoveOutput { module, name } => {
                    self.outputs.remove(&(module.clone(), name.clone()));
                }
            }
        }
    }
}

/// One write to state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "op")]
pub enum Change {
    /// Insert or replace an instance record (also used to record an intent).
    Put(InstanceState),
    /// Forget an instance.
    Remove(InstanceAddr),
    PutOutput(OutputState),
    RemoveOutput {
        module: ModuleAddr,
        name: String,
    },
}

impl Change {
    pub fn partition(&self) -> Partition {
        match self {
            Change::Put(s) => Partition::of(&s.addr),
            Change::Remove(a) => Partition::of(a),
            Change::PutOutput(o) => Partition::of_module(&o.module),
            Change::RemoveOutput { module, .. } => Partition::of_module(module),
        }
    }
}

/// Who holds (or asks for) a lock; shown to the user who is refused.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockInfo {
    /// Unique lock ID (for `force-unlock`).
    pub id: String,
    pub operation: String,
    pub who: String,
    pub host: String,
    pub pid: u32,
    /// RFC 3339 timestamp.
    pub created: String,
    #[serde(default)]
    pub partition: Option<Partition>,
}

impl LockInfo {
    /// A lock request for the current process.
    pub fn for_current_process(operation: &str) -> LockInfo {
        let who = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".into());
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_string())
            .or_else(|_| std::env::var("HOSTNAME"))
            .unwrap_or_else(|_| "localhost".into());
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            operation: operation.to_string(),
            who,
            host,
            pid: std::process::id(),
            created: now_rfc3339(),
            partition: None,
        }
    }
}

impl fmt::Display for LockInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ID: {}\n  Partition: {}\n  Operation: {}\n  Who: {}@{}\n  PID: {}\n  Created: {}",
            self.id,
            self.partition.as_ref().map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
            self.operation,
            self.who,
            self.host,
            self.pid,
            self.created
        )
    }
}

/// Current UTC time as RFC 3339 (seconds precision), without a date library.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    rfc3339(secs)
}

/// Formats Unix seconds as RFC 3339 UTC.
pub fn rfc3339(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if mo <= 2 { y + 1 } else { y };
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}Z")
}

/// One entry of the state history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub serial: u64,
    /// RFC 3339.
    pub created: String,
    /// The operation that wrote it (`apply`, `destroy`, `import`, `state mv`, …).
    pub operation: String,
    pub partitions: Vec<Partition>,
    /// Number of changes in the transaction.
    pub changes: usize,
}

/// Which partitions to load.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum PartitionFilter {
    #[default]
    All,
    Only(Vec<Partition>),
}

impl PartitionFilter {
    pub fn includes(&self, p: &Partition) -> bool {
        match self {
            PartitionFilter::All => true,
            PartitionFilter::Only(ps) => ps.contains(p),
        }
    }
}

/// Errors from a state backend.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("the state is locked")]
    Locked { holders: Vec<LockInfo> },
    #[error("lock {0} is not held")]
    NotLocked(String),
    /// A write touches a partition the caller's lock does not cover.
    #[error("{subject} is in partition {partition}, which this lock does not hold")]
    PartitionNotLocked { partition: Partition, subject: String },
    #[error("state lineage mismatch: the stored state has lineage {stored}, the input has {given}")]
    LineageMismatch { stored: String, given: String },
    #[error("state serial conflict: {0}")]
    SerialConflict(String),
    #[error("serial {0} does not exist in the state history")]
    NoSuchSerial(u64),
    #[error("state backend error: {0}")]
    Backend(String),
}

/// A held lock; released on drop or by [`StateBackend::unlock`].
pub trait LockGuard: Send + Sync {
    fn info(&self) -> &LockInfo;
    fn partitions(&self) -> &[Partition];
}

/// A state storage backend. See the module docs for the threading rule.
pub trait StateBackend: Send + Sync {
    /// Human description, e.g. `sqlite (./tenantform.state.db)`.
    fn describe(&self) -> String;

    /// Loads the current state of the selected partitions. An empty store yields an empty
    /// snapshot with a fresh lineage (not yet persisted) and serial 0.
    fn load(&self, filter: &PartitionFilter) -> Result<StateSnapshot, StateError>;

    /// Takes the locks of the given partitions (all or nothing). Fails with
    /// [`StateError::Locked`] naming the holders if any is held, after waiting up to `wait`.
    fn lock(&self, partitions: &[Partition], info: &LockInfo, wait: Duration)
        -> Result<Box<dyn LockGuard>, StateError>;

    /// Releases a lock.
    fn unlock(&self, guard: Box<dyn LockGuard>) -> Result<(), StateError>;

    /// Removes a lock by ID whatever holds it (`force-unlock`).
    fn force_unlock(&self, lock_id: &str) -> Result<(), StateError>;

    /// Current lock holders.
    fn locks(&self) -> Result<Vec<LockInfo>, StateError>;

    /// Writes changes in one durable transaction and returns the new serial. Every change must
    /// fall in a partition the guard holds ([`StateError::PartitionNotLocked`] otherwise) and
    /// the guard's locks must still be in place ([`StateError::NotLocked`] after a
    /// `force-unlock`); a refused commit writes nothing. Records history. An empty `changes`
    /// writes nothing and returns the current serial.
    fn commit(&self, guard: &dyn LockGuard, operation: &str, changes: &[Change]) -> Result<u64, StateError>;

    /// The history, newest first, at most `limit` entries.
    fn history(&self, limit: usize) -> Result<Vec<HistoryEntry>, StateError>;

    /// The state as it was right after `serial` was written (`0`: the empty state).
    fn snapshot_at(&self, serial: u64) -> Result<StateSnapshot, StateError>;

    /// The newest serial that touched each partition, for every partition ever written
    /// (cheap staleness checks of saved plans without loading resources).
    fn partition_serials(&self) -> Result<BTreeMap<Partition, u64>, StateError> {
        Ok(self.load(&PartitionFilter::All)?.partition_serials)
    }

    /// Replaces the whole state with `snapshot` as a new serial (`state push`, `state
    /// rollback`, migration), written as the difference from the current state so history
    /// stays meaningful. Requires a lock on every partition the difference touches; refuses a
    /// snapshot whose lineage differs from a non-empty store's unless `force`. A store that
    /// was never written, or `force`, adopts the snapshot's lineage (when it has one). The
    /// snapshot's serials are ignored. When nothing differs, no serial is written and the
    /// current serial is returned.
    fn replace_all(
        &self,
        guard: &dyn LockGuard,
        operation: &str,
        snapshot: &StateSnapshot,
        force: bool,
    ) -> Result<u64, StateError>;
}

/// Shorthand used by commands that read once.
pub fn load_all(backend: &dyn StateBackend) -> Result<StateSnapshot, StateError> {
    backend.load(&PartitionFilter::All)
}

/// A lock wait of zero means "fail at once".
pub const NO_WAIT: Duration = Duration::from_secs(0);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_764_102_353), "2025-11-25T20:25:53Z");
    }

    #[test]
    fn partitions_of_addresses() {
        let a: InstanceAddr = "tenant.acme.local_service.web".parse().unwrap();
        assert_eq!(Partition::of(&a), Partition::Tenant("acme".into()));
        let b: InstanceAddr = "random_id.x".parse().unwrap();
        assert_eq!(Partition::of(&b), Partition::Root);
    }
}

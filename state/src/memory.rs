//! An in-memory state backend with the same semantics as the persistent ones: serials,
//! partition serials, locks with holder info and waiting, history and `snapshot_at`.
//!
//! For engine and CLI tests. Clones share one store, so a clone plays the part of a second
//! process. Records are stored as a persistent backend would give them back (through the
//! same encoding), so a test cannot pass here and fail on SQLite because, say, a set came
//! back as a list. Nothing here survives the process; this module must not be used as a
//! real stack's state.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tenantform_engine::address::{InstanceAddr, ModuleAddr};
use tenantform_engine::state::{
    now_rfc3339, Change, HistoryEntry, InstanceState, LockGuard, LockInfo, OutputState, Partition, PartitionFilter,
    StateBackend, StateError, StateSnapshot,
};

use crate::codec;

/// State held in memory. Cloning shares the store.
#[derive(Clone)]
pub struct MemoryBackend {
    inner: Arc<Shared>,
}

struct Shared {
    store: Mutex<Store>,
    /// Signalled whenever a lock is released.
    released: Condvar,
}

struct Store {
    fresh_lineage: String,
    lineage: Option<String>,
    resources: BTreeMap<InstanceAddr, InstanceState>,
    outputs: BTreeMap<(ModuleAddr, String), OutputState>,
    partition_serials: BTreeMap<Partition, u64>,
    /// Oldest first; `history[i].serial == i + 1`.
    history: Vec<HistoryEntry>,
    /// The effective changes of each serial, parallel to `history`.
    log: Vec<Vec<Change>>,
    locks: BTreeMap<Partition, LockInfo>,
}

impl Default for MemoryBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryBackend {
    /// A new, empty store.
    pub fn new() -> MemoryBackend {
        MemoryBackend {
            inner: Arc::new(Shared {
                store: Mutex::new(Store {
                    fresh_lineage: uuid::Uuid::new_v4().to_string(),
                    lineage: None,
                    resources: BTreeMap::new(),
                    outputs: BTreeMap::new(),
                    partition_serials: BTreeMap::new(),
                    history: Vec::new(),
                    log: Vec::new(),
                    locks: BTreeMap::new(),
                }),
                released: Condvar::new(),
            }),
        }
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        self.inner.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Store {
    fn serial(&self) -> u64 {
        self.history.len() as u64
    }

    fn lineage(&self) -> String {
        self.lineage.clone().unwrap_or_else(|| self.fresh_lineage.clone())
    }

    fn verify_guard(&self, guard: &dyn LockGuard) -> Result<(), StateError> {
        let id = &guard.info().id;
        for p in guard.partitions() {
            if self.locks.get(p).map(|l| &l.id) != Some(id) {
                return Err(StateError::NotLocked(id.clone()));
            }
        }
        Ok(())
    }

    /// Applies `changes` (already normalized and checked) as the next serial.
    fn write(&mut self, operation: &str, changes: Vec<Change>, change_count: usize) -> Result<u64, StateError> {
        let serial = self.serial() + 1;
        let mut logged = Vec::with_capacity(changes.len());
        let mut touched = BTreeSet::new();
        for c in changes {
            touched.insert(c.partition());
            // Like the SQL backends, forgetting something absent leaves no log entry.
            let effective = match &c {
                Change::Put(s) => {
                    self.resources.insert(s.addr.clone(), s.clone());
                    true
                }
                Change::Remove(a) => self.resources.remove(a).is_some(),
                Change::PutOutput(o) => {
                    self.outputs.insert((o.module.clone(), o.name.clone()), o.clone());
                    true
                }
                Change::RemoveOutput { module, name } => self.outputs.remove(&(module.clone(), name.clone())).is_some(),
            };
            if effective {
                logged.push(c);
            }
        }
        for p in &touched {
            self.partition_serials.insert(p.clone(), serial);
        }
        if self.lineage.is_none() {
            self.lineage = Some(self.fresh_lineage.clone());
        }
        self.history.push(HistoryEntry {
            serial,
            created: now_rfc3339(),
            operation: operation.to_string(),
            partitions: touched.into_iter().collect(),
            changes: change_count,
        });
        self.log.push(logged);
        Ok(serial)
    }
}

fn normalize(c: &Change) -> Result<Change, StateError> {
    Ok(match c {
        Change::Put(s) => Change::Put(codec::normalize_instance(s)?),
        Change::PutOutput(o) => Change::PutOutput(codec::normalize_output(o)?),
        other => other.clone(),
    })
}

fn subject(c: &Change) -> String {
    match c {
        Change::Put(s) => s.addr.to_string(),
        Change::Remove(a) => a.to_string(),
        Change::PutOutput(o) => output_subject(&o.module, &o.name),
        Change::RemoveOutput { module, name } => output_subject(module, name),
    }
}

fn output_subject(module: &ModuleAddr, name: &str) -> String {
    if module.is_root() {
        format!("output.{name}")
    } else {
        format!("{module}.output.{name}")
    }
}

fn check_partitions(guard: &dyn LockGuard, changes: &[Change]) -> Result<(), StateError> {
    for c in changes {
        let p = c.partition();
        if !guard.partitions().contains(&p) {
            return Err(StateError::PartitionNotLocked { partition: p, subject: subject(c) });
        }
    }
    Ok(())
}

/// A held in-memory lock; dropping it releases it.
struct MemoryGuard {
    inner: Arc<Shared>,
    info: LockInfo,
    partitions: Vec<Partition>,
}

impl LockGuard for MemoryGuard {
    fn info(&self) -> &LockInfo {
        &self.info
    }
    fn partitions(&self) -> &[Partition] {
        &self.partitions
    }
}

fn release(inner: &Shared, id: &str, partitions: &[Partition]) -> usize {
    let mut store = inner.store.lock().unwrap_or_else(|e| e.into_inner());
    let mut released = 0;
    for p in partitions {
        if store.locks.get(p).map(|l| l.id.as_str()) == Some(id) {
            store.locks.remove(p);
            released += 1;
        }
    }
    drop(store);
    if released > 0 {
        inner.released.notify_all();
    }
    released
}

impl Drop for MemoryGuard {
    fn drop(&mut self) {
        release(&self.inner, &self.info.id, &self.partitions);
    }
}

impl StateBackend for MemoryBackend {
    fn describe(&self) -> String {
        "memory".into()
    }

    fn load(&self, filter: &PartitionFilter) -> Result<StateSnapshot, StateError> {
        let store = self.store();
        Ok(StateSnapshot {
            lineage: store.lineage(),
            serial: store.serial(),
            partition_serials: store
                .partition_serials
                .iter()
                .filter(|(p, _)| filter.includes(p))
                .map(|(p, s)| (p.clone(), *s))
                .collect(),
            resources: store
                .resources
                .iter()
                .filter(|(a, _)| filter.includes(&Partition::of(a)))
                .map(|(a, s)| (a.clone(), s.clone()))
                .collect(),
            outputs: store
                .outputs
                .iter()
                .filter(|((m, _), _)| filter.includes(&Partition::of_module(m)))
                .map(|(k, o)| (k.clone(), o.clone()))
                .collect(),
        })
    }

    fn lock(
        &self,
        partitions: &[Partition],
        info: &LockInfo,
        wait: Duration,
    ) -> Result<Box<dyn LockGuard>, StateError> {
        let wanted: Vec<Partition> = partitions.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect();
        if wanted.is_empty() {
            return Err(StateError::Backend("a lock needs at least one partition".into()));
        }
        // `None`: a wait too long to represent, i.e. wait for as long as it takes.
        let deadline = Instant::now().checked_add(wait);
        let mut store = self.store();
        loop {
            let holders: Vec<LockInfo> = wanted.iter().filter_map(|p| store.locks.get(p).cloned()).collect();
            if holders.is_empty() {
                for p in &wanted {
                    let mut row = info.clone();
                    row.partition = Some(p.clone());
                    store.locks.insert(p.clone(), row);
                }
                let mut info = info.clone();
                info.partition = match wanted.as_slice() {
                    [only] => Some(only.clone()),
                    _ => None,
                };
                return Ok(Box::new(MemoryGuard { inner: Arc::clone(&self.inner), info, partitions: wanted }));
            }
            store = match deadline {
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(StateError::Locked { holders });
                    }
                    self.inner.released.wait_timeout(store, deadline - now).unwrap_or_else(|e| e.into_inner()).0
                }
                None => self.inner.released.wait(store).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }

    fn unlock(&self, guard: Box<dyn LockGuard>) -> Result<(), StateError> {
        let id = guard.info().id.clone();
        let released = release(&self.inner, &id, guard.partitions());
        drop(guard);
        if released == 0 {
            return Err(StateError::NotLocked(id));
        }
        Ok(())
    }

    fn force_unlock(&self, lock_id: &str) -> Result<(), StateError> {
        let mut store = self.store();
        let before = store.locks.len();
        store.locks.retain(|_, l| l.id != lock_id);
        let removed = before - store.locks.len();
        drop(store);
        if removed == 0 {
            return Err(StateError::NotLocked(lock_id.to_string()));
        }
        self.inner.released.notify_all();
        Ok(())
    }

    fn locks(&self) -> Result<Vec<LockInfo>, StateError> {
        Ok(self.store().locks.values().cloned().collect())
    }

    fn commit(&self, guard: &dyn LockGuard, operation: &str, changes: &[Change]) -> Result<u64, StateError> {
        check_partitions(guard, changes)?;
        let normalized = changes.iter().map(normalize).collect::<Result<Vec<_>, _>>()?;
        let mut store = self.store();
        store.verify_guard(guard)?;
        if normalized.is_empty() {
            return Ok(store.serial());
        }
        store.write(operation, normalized, changes.len())
    }

    fn history(&self, limit: usize) -> Result<Vec<HistoryEntry>, StateError> {
        Ok(self.store().history.iter().rev().take(limit).cloned().collect())
    }

    fn snapshot_at(&self, serial: u64) -> Result<StateSnapshot, StateError> {
        let store = self.store();
        if serial > store.serial() {
            return Err(StateError::NoSuchSerial(serial));
        }
        let mut snap = StateSnapshot { lineage: store.lineage(), serial, ..StateSnapshot::default() };
        for (entry, changes) in store.history.iter().zip(&store.log) {
            if entry.serial > serial {
                break;
            }
            snap.apply_changes(changes);
            for p in &entry.partitions {
                snap.partition_serials.insert(p.clone(), entry.serial);
            }
        }
        Ok(snap)
    }

    fn partition_serials(&self) -> Result<BTreeMap<Partition, u64>, StateError> {
        Ok(self.store().partition_serials.clone())
    }

    fn replace_all(
        &self,
        guard: &dyn LockGuard,
        operation: &str,
        snapshot: &StateSnapshot,
        force: bool,
    ) -> Result<u64, StateError> {
        let mut want_res = BTreeMap::new();
        for s in snapshot.resources.values() {
            let s = codec::normalize_instance(s)?;
            want_res.insert(s.addr.clone(), s);
        }
        let mut want_out = BTreeMap::new();
        for o in snapshot.outputs.values() {
            let o = codec::normalize_output(o)?;
            want_out.insert((o.module.clone(), o.name.clone()), o);
        }
        let mut store = self.store();
        store.verify_guard(guard)?;
        if let Some(stored) = &store.lineage {
            if !force && *stored != snapshot.lineage {
                return Err(StateError::LineageMismatch { stored: stored.clone(), given: snapshot.lineage.clone() });
            }
        }
        let mut changes = Vec::new();
        for (addr, have) in &store.resources {
            match want_res.remove(addr) {
                Some(want) if want == *have => {}
                Some(want) => changes.push(Change::Put(want)),
                None => changes.push(Change::Remove(addr.clone())),
            }
        }
        changes.extend(want_res.into_values().map(Change::Put));
        for (key, have) in &store.outputs {
            match want_out.remove(key) {
                Some(want) if want == *have => {}
                Some(want) => changes.push(Change::PutOutput(want)),
                None => changes.push(Change::RemoveOutput { module: key.0.clone(), name: key.1.clone() }),
            }
        }
        changes.extend(want_out.into_values().map(Change::PutOutput));
        check_partitions(guard, &changes)?;
        if store.lineage.is_none() || force {
            if !snapshot.lineage.is_empty() {
                store.lineage = Some(snapshot.lineage.clone());
            } else if store.lineage.is_none() {
                store.lineage = Some(store.fresh_lineage.clone());
            }
        }
        if changes.is_empty() {
            return Ok(store.serial());
        }
        let count = changes.len();
        store.write(operation, changes, count)
    }
}

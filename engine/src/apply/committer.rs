//! Group commit: one thread owns the state backend and the lock for the duration of an
//! apply. Finished resources send their changes here and wait for them to be durable; all
//! requests that arrive while a transaction is being written go into the next one together,
//! so durability costs one fsync per batch, not one per resource, and never serializes the
//! apply.

use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::state::{Change, LockGuard, StateBackend};

type Reply = oneshot::Sender<Result<u64, String>>;

/// Figures for the apply summary and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CommitStats {
    /// Transactions written.
    pub transactions: u64,
    /// Individual changes written.
    pub changes: u64,
    /// Time spent inside transactions.
    pub busy: Duration,
    /// The newest serial written.
    pub last_serial: u64,
}

/// Handle to the committer thread.
pub struct Committer {
    tx: Option<mpsc::Sender<(Vec<Change>, Reply)>>,
    thread: Option<JoinHandle<(Box<dyn LockGuard>, CommitStats)>>,
}

impl Committer {
    /// Starts the committer. It holds `guard` until [`Committer::finish`].
    pub fn start(backend: Arc<dyn StateBackend>, guard: Box<dyn LockGuard>, operation: &str) -> Committer {
        let (tx, rx) = mpsc::channel::<(Vec<Change>, Reply)>();
        let operation = operation.to_string();
        let thread = std::thread::Builder::new()
            .name("state-committer".into())
            .spawn(move || {
                let mut stats = CommitStats::default();
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    while let Ok(more) = rx.try_recv() {
                        batch.push(more);
                    }
                    let changes: Vec<Change> = batch.iter().flat_map(|(c, _)| c.iter().cloned()).collect();
                    let started = Instant::now();
                    let result = backend.commit(guard.as_ref(), &operation, &changes).map_err(|e| e.to_string());
                    stats.busy += started.elapsed();
                    tracing::debug!(changes = changes.len(), requests = batch.len(), elapsed_us = started.elapsed().as_micros() as u64, "state commit");
                    match result {
                        Ok(serial) => {
                            stats.transactions += 1;
                            stats.changes += changes.len() as u64;
                            stats.last_serial = serial;
                            for (_, reply) in batch {
                                let _ = reply.send(Ok(serial));
                            }
                        }
                        Err(e) if batch.len() > 1 => {
                            // One bad request must not fail the others it was batched with:
                            // write them one by one.
                            tracing::warn!(error = %e, requests = batch.len(), "group commit failed; committing requests one by one");
                            for (changes, reply) in batch {
                                let started = Instant::now();
                                let r = backend.commit(guard.as_ref(), &operation, &changes).map_err(|e| e.to_string());
                                stats.busy += started.elapsed();
                                if let Ok(serial) = &r {
                                    stats.transactions += 1;
                                    stats.changes += changes.len() as u64;
                                    stats.last_serial = *serial;
                                }
                                let _ = reply.send(r);
                            }
                        }
                        Err(e) => {
                            tracing::error!(error = %e, changes = changes.len(), "state commit failed");
                            for (_, reply) in batch {
                                let _ = reply.send(Err(e.clone()));
                            }
                        }
                    }
                }
                (guard, stats)
            })
            .ok();
        Committer { tx: Some(tx), thread }
    }

    /// A cheap clone that can be moved into tasks.
    pub fn handle(&self) -> CommitHandle {
        CommitHandle { tx: self.tx.clone() }
    }

    /// Waits for every pending commit, stops the thread, and returns the lock guard.
    pub fn finish(mut self) -> Option<(Box<dyn LockGuard>, CommitStats)> {
        self.tx.take();
        self.thread.take().and_then(|t| t.join().ok())
    }
}

/// A sender side of the committer for spawned tasks.
#[derive(Clone)]
pub struct CommitHandle {
    tx: Option<mpsc::Sender<(Vec<Change>, Reply)>>,
}

impl CommitHandle {
    /// Queues changes for the next transaction without waiting; the receiver tells when they
    /// are durable (or why not).
    pub fn submit(&self, changes: Vec<Change>) -> oneshot::Receiver<Result<u64, String>> {
        let (reply, wait) = oneshot::channel();
        match &self.tx {
            Some(tx) => {
                if let Err(mpsc::SendError((_, reply))) = tx.send((changes, reply)) {
                    let _ = reply.send(Err("the state committer has stopped".into()));
                }
            }
            None => {
                let _ = reply.send(Err("the state committer has stopped".into()));
            }
        }
        wait
    }

    /// Writes changes and waits until they are durable. Returns the serial.
    pub async fn commit(&self, changes: Vec<Change>) -> Result<u64, String> {
        if changes.is_empty() {
            return Ok(0);
        }
        let (reply, wait) = oneshot::channel();
        let Some(tx) = &self.tx else { return Err("the state committer has stopped".into()) };
        tx.send((changes, reply)).map_err(|_| "the state committer has stopped".to_string())?;
        wait.await.map_err(|_| "the state committer has stopped".to_string())?
    }
}

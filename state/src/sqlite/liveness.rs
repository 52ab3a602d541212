//! Whether the holder of a SQLite lock row still runs, decided by the kernel.
//!
//! A lock row names its holder (who, host, pid) for the "state is locked" message, but a row
//! alone outlives a holder killed with SIGKILL. So, as Terraform's local backend does with its
//! `.terraform.tfstate.lock.info`, a holder also keeps an OS file lock (`flock`) on a file of
//! its own, `<state file>.locks/<lock id>`, for as long as it holds the rows. The kernel
//! releases that lock when the process dies, however it dies: a row whose file lock can be
//! taken by someone else belongs to a dead holder and is cleared.
//!
//! The file is locked before the rows are written and unlocked after they are deleted, so a
//! live holder's rows are always covered. A row without a file (written by an older
//! tenantform, or by a host that does not share this directory) counts as live: only
//! `force-unlock` removes it, as before.

use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tenantform_engine::state::StateError;

/// The liveness files of one state file.
pub(super) struct Liveness {
    dir: PathBuf,
    /// Files this process holds locked, by lock ID.
    held: Mutex<HashMap<String, File>>,
}

/// What a liveness check found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Holder {
    /// Its process holds its file lock (or there is no file to tell).
    Alive,
    /// Its file lock was free: the process is gone. The caller clears the rows, then calls
    /// [`Liveness::forget`].
    Dead,
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> StateError {
    StateError::Backend(format!("{what} {}: {e}", path.display()))
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl Liveness {
    pub(super) fn new(state_file: &Path) -> Liveness {
        let mut name = state_file.file_name().unwrap_or_default().to_os_string();
        name.push(".locks");
        Liveness { dir: state_file.with_file_name(name), held: Mutex::new(HashMap::new()) }
    }

    fn file_of(&self, id: &str) -> Option<PathBuf> {
        valid_id(id).then(|| self.dir.join(format!("{id}.lock")))
    }

    /// Locks the file of a lock this process is about to take (before its rows exist).
    pub(super) fn hold(&self, id: &str) -> Result<(), StateError> {
        let Some(path) = self.file_of(id) else {
            return Err(StateError::Backend(format!("invalid lock ID {id:?}")));
        };
        std::fs::create_dir_all(&self.dir).map_err(|e| io_err("cannot create the lock directory", &self.dir, e))?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| io_err("cannot create the lock file", &path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(StateError::Backend(format!("lock ID {id} is already in use")));
            }
            Err(TryLockError::Error(e)) => return Err(io_err("cannot lock", &path, e)),
        }
        self.held.lock().unwrap_or_else(|e| e.into_inner()).insert(id.to_string(), file);
        Ok(())
    }

    /// Unlocks and removes the file of a lock this process released (after its rows are gone),
    /// or of a dead holder's lock whose rows were cleared.
    pub(super) fn forget(&self, id: &str) {
        let file = self.held.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
        if let Some(path) = self.file_of(id) {
            // Remove while still locked, so nobody takes a lock on a file about to vanish.
            let _ = std::fs::remove_file(path);
        }
        drop(file);
    }

    /// Whether the holder of lock `id` still runs. Finding it dead leaves its file locked by
    /// this process until [`Liveness::forget`], so two processes never both clear it.
    pub(super) fn check(&self, id: &str) -> Holder {
        if self.held.lock().unwrap_or_else(|e| e.into_inner()).contains_key(id) {
            return Holder::Alive;
        }
        let Some(path) = self.file_of(id) else { return Holder::Alive };
        let Ok(file) = OpenOptions::new().write(true).open(&path) else { return Holder::Alive };
        match file.try_lock() {
            Ok(()) => {
                self.held.lock().unwrap_or_else(|e| e.into_inner()).insert(id.to_string(), file);
                Holder::Dead
            }
            Err(_) => Holder::Alive,
        }
    }

    /// Gives up a file this process locked in [`Liveness::check`] without clearing the rows.
    pub(super) fn release_check(&self, id: &str) {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_alive_for_another_handle_until_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("s.db");
        let holder = Liveness::new(&state);
        let other = Liveness::new(&state);
        holder.hold("abc-1").unwrap();
        assert_eq!(other.check("abc-1"), Holder::Alive);
        assert_eq!(other.check("unknown"), Holder::Alive, "no file: cannot tell, so alive");
        // The holder's handle goes away without forgetting (as when its process dies).
        drop(holder);
        assert_eq!(other.check("abc-1"), Holder::Dead);
        other.forget("abc-1");
        assert!(!dir.path().join("s.db.locks/abc-1.lock").exists());
        assert!(Liveness::new(&state).hold("../x").is_err());
    }
}

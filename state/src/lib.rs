//! State backends: SQLite (the embedded default), PostgreSQL (teams) and
//! in-memory (tests), all implementing `tenantform_engine::state::StateBackend` and all held to
//! one [`conformance`] suite.
//!
//! [`open`] turns the user's setting (`sqlite:///path`, a bare path, `postgres://…`) into a
//! backend. This crate never prints; errors are `StateError`s for the CLI to render.

mod codec;
pub mod conformance;
mod memory;
mod postgres;
mod sqlite;

use std::path::{Path, PathBuf};

use tenantform_engine::ops::StateSettings;
use tenantform_engine::state::{StateBackend, StateError};

pub use codec::FORMAT_VERSION;
pub use memory::MemoryBackend;
pub use postgres::{PgBackend, PgSettings};
pub use sqlite::SqliteBackend;

/// The state file's name inside a stack directory when none is configured.
pub const DEFAULT_STATE_FILE: &str = "tenantform.state.db";

/// Where a stack's state lives when none is configured: `<stack dir>/tenantform.state.db`.
pub fn default_path(stack_dir: &Path) -> PathBuf {
    stack_dir.join(DEFAULT_STATE_FILE)
}

/// Opens the backend of typed settings (see [`tenantform_engine::ops::StateSettings`]).
pub fn open_settings(settings: &StateSettings) -> Result<Box<dyn StateBackend>, StateError> {
    match settings {
        StateSettings::Sqlite { path } => Ok(Box::new(SqliteBackend::open(path)?)),
        StateSettings::Postgres { url, stack, schema } => {
            Ok(Box::new(PgBackend::open_settings(PgSettings::parse_with(url, stack.as_deref(), schema.as_deref())?)?))
        }
        StateSettings::Memory => Ok(Box::new(MemoryBackend::new())),
    }
}

/// Opens the backend a setting names:
/// - `sqlite:///abs/path.db`, `sqlite://rel/path.db`, `sqlite:path.db` or a bare path: SQLite;
/// - `memory:` / `memory://`: a fresh in-memory store (tests and experiments; nothing is kept);
/// - `postgres://…` / `postgresql://…`: PostgreSQL (`?stack=NAME&schema=NAME`, see [`PgBackend`]).
pub fn open(url_or_path: &str) -> Result<Box<dyn StateBackend>, StateError> {
    let setting = url_or_path.trim();
    if setting.starts_with("postgres://") || setting.starts_with("postgresql://") {
        return Ok(Box::new(PgBackend::open(setting)?));
    }
    if setting == "memory:" || setting == "memory://" {
        return Ok(Box::new(MemoryBackend::new()));
    }
    let path = if let Some(rest) = setting.strip_prefix("sqlite://") {
        rest
    } else if let Some(rest) = setting.strip_prefix("sqlite:") {
        rest
    } else if let Some((scheme, _)) = setting.split_once("://") {
        return Err(StateError::Backend(format!(
            "unknown state backend {scheme:?} in {setting:?}; use a path, sqlite:///path or \
             postgres://…"
        )));
    } else {
        setting
    };
    if path.is_empty() {
        return Err(StateError::Backend(format!("the state setting {url_or_path:?} names no file")));
    }
    Ok(Box::new(SqliteBackend::open(path)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(setting: &str) -> String {
        match open(setting) {
            Ok(b) => panic!("{setting} opened {}", b.describe()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn open_dispatches_on_the_form() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.db");
        let url = format!("sqlite://{}", file.display());
        assert!(open(&url).unwrap().describe().starts_with("sqlite ("));
        assert!(file.exists());
        let bare = dir.path().join("bare.db");
        open(bare.to_str().unwrap()).unwrap();
        assert!(bare.exists());
        assert_eq!(open("memory:").unwrap().describe(), "memory");
        assert!(err("postgres://u@127.0.0.1:1/db").contains("cannot connect"));
        assert!(err("s3://bucket/key").contains("unknown state backend"));
        assert!(err("sqlite://").contains("names no file"));
    }

    #[test]
    fn default_path_is_inside_the_stack() {
        assert_eq!(default_path(Path::new("/stacks/prod")), PathBuf::from("/stacks/prod/tenantform.state.db"));
    }
}

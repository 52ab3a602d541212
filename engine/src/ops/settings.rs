//! Where a stack's state lives, as typed settings: the `state {}` block evaluated by the engine
//! (or a setting the caller gives, such as the CLI's `TENANTFORM_STATE`), handed to the state
//! crate to open — never a URL built here and parsed again there.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::diagnostics::Diagnostic;
use crate::eval::{eval, MapScope};
use crate::validate::Prepared;

/// The state file's name inside a stack directory when none is configured.
pub const DEFAULT_STATE_FILE: &str = "tenantform.state.db";

/// A state backend and its settings.
#[derive(Clone, PartialEq, Eq)]
pub enum StateSettings {
    /// The embedded default: one SQLite file.
    Sqlite { path: PathBuf },
    /// PostgreSQL, for teams: a libpq-style URL (it may carry a password: never shown), the
    /// stack's name within the database and the schema of the state tables (the URL's own
    /// `?stack=`/`?schema=` win).
    Postgres { url: String, stack: Option<String>, schema: Option<String> },
    /// Nothing kept (tests, experiments).
    Memory,
}

impl fmt::Debug for StateSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateSettings::Sqlite { path } => write!(f, "sqlite ({})", path.display()),
            StateSettings::Postgres { stack, schema, .. } => {
                write!(f, "pg (stack {:?}, schema {:?})", stack.as_deref(), schema.as_deref())
            }
            StateSettings::Memory => write!(f, "memory"),
        }
    }
}

impl StateSettings {
    /// Parses a setting given as one string: a path, `sqlite:PATH`, `sqlite://PATH`,
    /// `postgres://…`, `postgresql://…` or `memory:`. Relative paths are relative to `dir`.
    pub fn parse(setting: &str, dir: &Path) -> Result<StateSettings, String> {
        let s = setting.trim();
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(StateSettings::Postgres { url: s.to_string(), stack: None, schema: None });
        }
        if s == "memory:" || s == "memory://" {
            return Ok(StateSettings::Memory);
        }
        let path = if let Some(rest) = s.strip_prefix("sqlite://") {
            rest
        } else if let Some(rest) = s.strip_prefix("sqlite:") {
            rest
        } else if let Some((scheme, _)) = s.split_once("://") {
            return Err(format!(
                "unknown state backend {scheme:?} in {s:?}; use a path, sqlite:///path or postgres://…"
            ));
        } else {
            s
        };
        if path.is_empty() {
            return Err(format!("the state setting {setting:?} names no file"));
        }
        Ok(StateSettings::Sqlite { path: dir.join(path) })
    }

    /// The stack's settings: `given` (the caller's override) when set, else the root module's
    /// `state {}` block, else `tenantform.state.db` in the stack directory.
    pub fn of_stack(p: &Prepared, dir: &Path, given: Option<&str>) -> Result<StateSettings, Diagnostic> {
        if let Some(s) = given.filter(|s| !s.trim().is_empty()) {
            return StateSettings::parse(s, dir)
                .map_err(|e| Diagnostic::error("state-settings", "Invalid state setting").with_detail(e));
        }
        let Some(block) = &p.stack.config.root.state else {
            return Ok(StateSettings::Sqlite { path: dir.join(DEFAULT_STATE_FILE) });
        };
        let scope = MapScope { base_dir: dir.to_path_buf(), ..MapScope::default() };
        let mut attrs = BTreeMap::new();
        for (k, a) in &block.body.attrs {
            let v = eval(&a.expr, &scope)?;
            let Some(text) = v.unmark_deep().as_str().map(str::to_string) else {
                return Err(Diagnostic::error("state-settings", format!("state block: \"{k}\" must be a string"))
                    .with_span(a.expr.span()));
            };
            attrs.insert(k.clone(), (text, a.expr.span()));
        }
        let get = |k: &str| attrs.get(k).map(|(v, _)| v.clone());
        let backend = get("backend").unwrap_or_else(|| "sqlite".into());
        match backend.as_str() {
            "sqlite" => {
                Ok(StateSettings::Sqlite { path: dir.join(get("path").unwrap_or_else(|| DEFAULT_STATE_FILE.into())) })
            }
            "pg" | "postgres" => {
                let Some(url) = get("url") else {
                    return Err(Diagnostic::error("state-settings", "state block: backend \"pg\" needs a url")
                        .with_span(Some(block.span))
                        .with_help("url = \"postgres://user@host/db\" (or set the setting from outside, e.g. TENANTFORM_STATE)"));
                };
                Ok(StateSettings::Postgres { url, stack: get("stack"), schema: get("schema") })
            }
            "memory" => Ok(StateSettings::Memory),
            other => Err(Diagnostic::error("state-settings", format!("state block: unknown backend \"{other}\""))
                .with_span(attrs.get("backend").and_then(|(_, s)| *s))
                .with_help("use \"sqlite\" or \"pg\"")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_every_form() {
        let dir = Path::new("/stacks/prod");
        assert_eq!(
            StateSettings::parse("state.db", dir).unwrap(),
            StateSettings::Sqlite { path: "/stacks/prod/state.db".into() }
        );
        assert_eq!(
            StateSettings::parse("sqlite:///abs/s.db", dir).unwrap(),
            StateSettings::Sqlite { path: "/abs/s.db".into() }
        );
        assert!(matches!(StateSettings::parse("postgres://u@h/db", dir).unwrap(), StateSettings::Postgres { .. }));
        assert_eq!(StateSettings::parse("memory:", dir).unwrap(), StateSettings::Memory);
        assert!(StateSettings::parse("s3://b/k", dir).unwrap_err().contains("unknown state backend"));
        assert!(StateSettings::parse("sqlite://", dir).unwrap_err().contains("names no file"));
        let pg = StateSettings::Postgres { url: "postgres://u:secret@h/db".into(), stack: None, schema: None };
        assert!(!format!("{pg:?}").contains("secret"));
    }
}

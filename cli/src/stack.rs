//! Opening a stack for a state-changing command: the configuration, the state backend it
//! names, and a plan computed against it. Glue only; the work is in the engine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context as _};
use tenantform_engine::config::LoadOptions;
use tenantform_engine::diagnostics::{Diagnostic, Diagnostics};
use tenantform_engine::eval::{eval, MapScope};
use tenantform_engine::plan::planner::{plan, PlanInput, PlanOptions, PlanOutput};
use tenantform_engine::runtime::Schemas;
use tenantform_engine::state::{
    LockGuard, LockInfo, Partition, PartitionFilter, StateBackend, StateError, StateSnapshot,
};
use tenantform_engine::validate::{prepare, Prepared};
use tenantform_engine::value::Value;
use tokio_util::sync::CancellationToken;

use crate::context::Ctx;
use crate::diagnostics::report;

/// Environment variable that overrides where state lives (a path or a URL).
pub const STATE_ENV: &str = "TENANTFORM_STATE";

/// Where the stack's state lives: `TENANTFORM_STATE`, else the `state {}` block, else
/// `tenantform.state.db` in the stack directory.
pub fn state_location(p: &Prepared, dir: &Path) -> anyhow::Result<String> {
    if let Ok(s) = std::env::var(STATE_ENV) {
        if !s.trim().is_empty() {
            return Ok(s);
        }
    }
    let Some(block) = &p.stack.config.root.state else {
        return Ok(tenantform_state::default_path(dir).display().to_string());
    };
    let scope = MapScope { base_dir: dir.to_path_buf(), ..MapScope::default() };
    let mut attrs = BTreeMap::new();
    for (k, a) in &block.body.attrs {
        let v = eval(&a.expr, &scope)
            .map_err(|d| anyhow!("state block: {}: {}", d.summary, d.label.unwrap_or_default()))?;
        attrs.insert(k.clone(), v);
    }
    let backend = attrs.get("backend").and_then(Value::as_str).unwrap_or("sqlite").to_string();
    match backend.as_str() {
        "sqlite" => {
            let path = attrs.get("path").and_then(Value::as_str).unwrap_or(tenantform_state::DEFAULT_STATE_FILE);
            Ok(dir.join(path).display().to_string())
        }
        "pg" | "postgres" => {
            let url = attrs.get("url").and_then(Value::as_str).ok_or_else(|| {
                anyhow!("state block: backend \"pg\" needs url = \"postgres://…\" (or set {STATE_ENV})")
            })?;
            Ok(pg_url_with(
                url,
                attrs.get("stack").and_then(Value::as_str),
                attrs.get("schema").and_then(Value::as_str),
            ))
        }
        other => Err(anyhow!("state block: unknown backend \"{other}\" (use \"sqlite\" or \"pg\")")),
    }
}

/// The state block's `stack` and `schema` as the URL's query parameters (the URL's own win).
fn pg_url_with(url: &str, stack: Option<&str>, schema: Option<&str>) -> String {
    let mut out = url.to_string();
    for (key, value) in [("stack", stack), ("schema", schema)] {
        let Some(value) = value else { continue };
        let query = out.split_once('?').map(|(_, q)| q).unwrap_or("");
        if query.split('&').any(|kv| kv.split('=').next() == Some(key)) {
            continue;
        }
        let encoded: String = value
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        out.push(if out.contains('?') { '&' } else { '?' });
        out.push_str(&format!("{key}={encoded}"));
    }
    out
}

/// Opens the backend named by [`state_location`].
pub fn open_backend(location: &str) -> anyhow::Result<Arc<dyn StateBackend>> {
    let b = tenantform_state::open(location).with_context(|| format!("cannot open state at {location}"))?;
    Ok(Arc::from(b))
}

/// Loads and prepares the configuration, printing diagnostics; `None` means exit 1.
pub fn prepare_stack(ctx: &Ctx, lenient: bool) -> Option<Prepared> {
    match prepare(&ctx.dir, &ctx.inputs, lenient, &LoadOptions::default()) {
        Ok(p) => {
            report(&p.warnings, &p.sources);
            Some(p)
        }
        Err((sources, diags)) => {
            report(&diags, &sources);
            None
        }
    }
}

/// The files a plan embeds (every configuration file that was read).
pub fn config_files(p: &Prepared) -> BTreeMap<PathBuf, String> {
    p.sources
        .iter()
        .filter(|(_, f)| {
            let n = f.path.to_string_lossy();
            n.ends_with(".hcl") || n.ends_with(".tf")
        })
        .map(|(_, f)| (f.path.clone(), f.text.to_string()))
        .collect()
}

/// Which partitions to load for a plan restricted to some tenants.
pub fn partition_filter(tenants: &[String]) -> PartitionFilter {
    if tenants.is_empty() {
        PartitionFilter::All
    } else {
        let mut v = vec![Partition::Root];
        v.extend(tenants.iter().map(|t| Partition::Tenant(t.clone())));
        PartitionFilter::Only(v)
    }
}

/// Loads state on a blocking thread.
pub async fn load_state(backend: &Arc<dyn StateBackend>, filter: PartitionFilter) -> anyhow::Result<StateSnapshot> {
    let b = backend.clone();
    tokio::task::spawn_blocking(move || b.load(&filter)).await?.map_err(|e| anyhow!("cannot read state: {e}"))
}

/// Computes a plan, printing diagnostics on failure.
pub async fn make_plan(
    ctx: &Ctx,
    p: &Prepared,
    state: &StateSnapshot,
    opts: PlanOptions,
    cancel: CancellationToken,
) -> Result<PlanOutput, Diagnostics> {
    let input = PlanInput {
        prepared: p,
        schemas: Schemas::new(ctx.registry.clone()),
        state,
        options: opts,
        config_files: config_files(p),
    };
    plan(input, cancel).await
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
    let r = tokio::task::spawn_blocking(move || b.lock(&partitions, &info, timeout)).await;
    match r {
        Ok(Ok(g)) => Ok(g),
        Ok(Err(StateError::Locked { holders })) => Err(locked_diag(&holders)),
        Ok(Err(e)) => Err(Diagnostic::error("state", format!("Error acquiring the state lock: {e}"))),
        Err(e) => Err(Diagnostic::error("internal", format!("lock task failed: {e}"))),
    }
}

/// "The state is locked": each holder once, with the partitions it holds, and a note when the
/// holder is a process on this host that no longer runs (its lock is never taken over silently).
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
            "process {} on this host no longer runs (it was killed or crashed): check what it left with `tenantform plan`, then release its lock with `tenantform force-unlock {id}`",
            by_id.iter().find(|(h, _)| h.id == id).map(|(h, _)| h.pid).unwrap_or(0)
        ),
        None => format!("wait for it to finish or retry with -lock-timeout=60s; if its process is gone, release the lock with `tenantform force-unlock {first}`"),
    };
    Diagnostic::error("locked", "Error acquiring the state lock").with_detail(detail).with_help(help)
}

/// Releases a lock on a blocking thread, reporting (not failing on) errors.
pub async fn unlock(backend: &Arc<dyn StateBackend>, guard: Box<dyn LockGuard>) {
    let b = backend.clone();
    if let Ok(Err(e)) = tokio::task::spawn_blocking(move || b.unlock(guard)).await {
        eprintln!("Warning: releasing the state lock failed: {e}");
    }
}

/// Parses `10s`, `1m30s`, `500ms`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> anyhow::Result<Duration> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u64>() {
        return Ok(Duration::from_secs(n));
    }
    let mut total = Duration::ZERO;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        if c == 'm' && chars.peek() == Some(&'s') {
            unit.push(chars.next().unwrap_or('s'));
        }
        let n: f64 = num.parse().map_err(|_| anyhow!("invalid duration {s:?}"))?;
        num.clear();
        total += match unit.as_str() {
            "ms" => Duration::from_secs_f64(n / 1000.0),
            "s" => Duration::from_secs_f64(n),
            "m" => Duration::from_secs_f64(n * 60.0),
            "h" => Duration::from_secs_f64(n * 3600.0),
            _ => return Err(anyhow!("invalid duration {s:?}: unknown unit {unit:?} (use ms, s, m, h)")),
        };
    }
    if !num.is_empty() {
        return Err(anyhow!("invalid duration {s:?}: missing unit"));
    }
    Ok(total)
}

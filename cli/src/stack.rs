//! Opening a stack for a state-changing command: the configuration, the state backend it
//! names, and a plan computed against it. Glue only; the work is in the engine.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context as _};
use tenantform_engine::config::LoadOptions;
use tenantform_engine::diagnostics::Diagnostics;
use tenantform_engine::ops::{self, StateSettings};
use tenantform_engine::plan::planner::{plan, PlanInput, PlanOptions, PlanOutput};
use tenantform_engine::runtime::Schemas;
use tenantform_engine::state::{LockGuard, PartitionFilter, StateBackend, StateSnapshot};
use tenantform_engine::validate::{prepare, Prepared};
use tokio_util::sync::CancellationToken;

use crate::context::Ctx;
use crate::diagnostics::report;

/// Environment variable that overrides where state lives (a path or a URL).
pub const STATE_ENV: &str = "TENANTFORM_STATE";

/// Where the stack's state lives: `TENANTFORM_STATE`, else the `state {}` block (evaluated by
/// the engine), else `tenantform.state.db` in the stack directory.
pub fn state_settings(p: &Prepared, dir: &Path) -> anyhow::Result<StateSettings> {
    let given = std::env::var(STATE_ENV).ok();
    StateSettings::of_stack(p, dir, given.as_deref()).map_err(|d| {
        let mut msg = d.summary.clone();
        if let Some(detail) = &d.detail {
            msg.push_str(&format!(": {detail}"));
        }
        if let Some(help) = &d.help {
            msg.push_str(&format!(" ({help})"));
        }
        anyhow!(msg)
    })
}

/// Opens the backend of `settings`.
pub fn open_backend(settings: &StateSettings) -> anyhow::Result<Arc<dyn StateBackend>> {
    let b = tenantform_state::open_settings(settings).with_context(|| format!("cannot open state ({settings:?})"))?;
    Ok(Arc::from(b))
}

/// Opens the backend a setting given on the command line names (a path or a URL).
pub fn open_backend_at(setting: &str, dir: &Path) -> anyhow::Result<Arc<dyn StateBackend>> {
    open_backend(&StateSettings::parse(setting, dir).map_err(|e| anyhow!(e))?)
}

/// The stack an operation works on: the prepared configuration, the providers' schemas and
/// the state backend.
pub fn open_stack(ctx: &Ctx, p: Prepared) -> anyhow::Result<ops::Stack> {
    let backend = open_backend(&state_settings(&p, &ctx.dir)?)?;
    Ok(ops::Stack::new(p, Schemas::new(ctx.registry.clone()), backend))
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

/// Loads state on a blocking thread.
pub async fn load_state(backend: &Arc<dyn StateBackend>, filter: PartitionFilter) -> anyhow::Result<StateSnapshot> {
    ops::load_state(backend, filter).await.map_err(|d| anyhow!("{d}"))
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
        config_files: ops::config_files(p),
    };
    plan(input, cancel).await
}

pub use ops::{lock, partition_filter};

/// Releases a lock, printing (not failing on) a problem.
pub async fn unlock(backend: &Arc<dyn StateBackend>, guard: Box<dyn LockGuard>) {
    if let Some(warning) = ops::unlock(backend, guard).await {
        eprintln!("Warning: {}", warning.summary);
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

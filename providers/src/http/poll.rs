//! Waiting for asynchronous work: poll a check until it reports done, fails, the time runs
//! out, or the operation is cancelled. Used for Neon operations, Google long-running
//! operations and Cloudflare certificate validation. The interval starts short and grows
//! (×1.5, jittered, capped) so quick operations finish quickly and slow ones are not hammered.

use std::future::Future;
use std::time::{Duration, Instant};

use rand::Rng;
use tenantform_engine::provider::{OpContext, ProviderError};

/// What one check found.
#[derive(Clone, Debug, PartialEq)]
pub enum PollStatus<T> {
    /// Finished successfully, with its result.
    Done(T),
    /// Still running; the text (e.g. `"running"`, `"ssl pending_validation"`) ends up in the
    /// timeout error and in trace logs.
    Pending(String),
}

/// Bounds and pacing of a wait.
#[derive(Clone, Debug)]
pub struct PollOptions {
    /// What is awaited, for messages: `"neon operation 7c1… (create_branch)"`.
    pub what: String,
    /// Give up after this long (the `timeouts {}` value of the resource).
    pub timeout: Duration,
    pub initial_interval: Duration,
    pub max_interval: Duration,
}

impl PollOptions {
    pub fn new(what: impl Into<String>, timeout: Duration) -> Self {
        PollOptions {
            what: what.into(),
            timeout,
            initial_interval: Duration::from_millis(100),
            max_interval: Duration::from_secs(5),
        }
    }
    pub fn intervals(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_interval = initial;
        self.max_interval = max;
        self
    }
}

/// Calls `check` until it returns [`PollStatus::Done`] (→ `Ok`) or an error (→ that error,
/// e.g. the operation failed). Times out with a permanent error naming the last status; a
/// cancelled context ends the wait at once.
pub async fn poll_until<T, F, Fut>(ctx: &OpContext, opts: &PollOptions, mut check: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<PollStatus<T>, ProviderError>>,
{
    let start = Instant::now();
    let mut interval = opts.initial_interval;
    let mut polls = 0u32;
    loop {
        if ctx.cancel.is_cancelled() {
            return Err(ProviderError::cancelled().with_detail(format!("stopped waiting for {}", opts.what)));
        }
        polls += 1;
        let last = match check().await? {
            PollStatus::Done(v) => return Ok(v),
            PollStatus::Pending(s) => s,
        };
        tracing::trace!(target: super::LOG_TARGET, what = %opts.what, status = %last, polls, "waiting");
        let elapsed = start.elapsed();
        if elapsed >= opts.timeout {
            return Err(ProviderError::permanent(format!(
                "timed out after {} waiting for {} (last status: {last})",
                human(opts.timeout),
                opts.what
            ))
            .with_help("the work may still finish on the API's side; raise the limit in the resource's `timeouts {}` block if it is normally this slow"));
        }
        let jittered = interval.mul_f64(rand::thread_rng().gen_range(0.8..=1.2));
        let wait = jittered.min(opts.timeout - elapsed);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = ctx.cancel.cancelled() => {
                return Err(ProviderError::cancelled().with_detail(format!("stopped waiting for {} (last status: {last})", opts.what)));
            }
        }
        interval = interval.mul_f64(1.5).min(opts.max_interval);
    }
}

fn human(d: Duration) -> String {
    if d.as_secs() >= 60 && d.as_secs() % 60 == 0 {
        format!("{}m", d.as_secs() / 60)
    } else if d.as_millis() % 1000 == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn opts(timeout_ms: u64) -> PollOptions {
        PollOptions::new("test op", Duration::from_millis(timeout_ms))
            .intervals(Duration::from_millis(1), Duration::from_millis(5))
    }

    #[tokio::test]
    async fn polls_until_done() {
        let n = AtomicU32::new(0);
        let v = poll_until(&OpContext::default(), &opts(5_000), || async {
            let i = n.fetch_add(1, Ordering::SeqCst);
            Ok(if i < 3 { PollStatus::Pending(format!("step {i}")) } else { PollStatus::Done(i) })
        })
        .await
        .unwrap();
        assert_eq!(v, 3);
    }

    #[tokio::test]
    async fn failure_and_timeout_and_cancel() {
        let e = poll_until::<(), _, _>(&OpContext::default(), &opts(5_000), || async {
            Err(ProviderError::permanent("operation failed: boom"))
        })
        .await
        .unwrap_err();
        assert_eq!(e.summary, "operation failed: boom");

        let e = poll_until::<(), _, _>(&OpContext::default(), &opts(30), || async {
            Ok(PollStatus::Pending("running".into()))
        })
        .await
        .unwrap_err();
        assert!(e.summary.contains("timed out after 30ms waiting for test op (last status: running)"), "{}", e.summary);

        let ctx = OpContext::default();
        let c = ctx.cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            c.cancel();
        });
        let e = poll_until::<(), _, _>(
            &ctx,
            &opts(60_000).intervals(Duration::from_secs(10), Duration::from_secs(10)),
            || async { Ok(PollStatus::Pending("running".into())) },
        )
        .await
        .unwrap_err();
        assert_eq!(e.kind, tenantform_engine::provider::ErrorKind::Cancelled);
    }
}

//! Retry policy of the shared HTTP client: how many attempts, how long in total, and how long
//! to wait between two attempts (exponential backoff with full jitter, or the server's
//! `Retry-After`). Pure computation; the client's send loop applies it.

use std::time::Duration;

use rand::Rng;

/// Bounds and pacing of retries for one API.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included (1 = no retries).
    pub max_attempts: u32,
    /// Backoff cap of the first retry; doubles with each further retry.
    pub initial_backoff: Duration,
    /// Largest backoff between two attempts (before jitter).
    pub max_backoff: Duration,
    /// Time budget of the whole call, retries and waits included. A `Retry-After` that would
    /// overrun it ends the call instead of waiting.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(20),
            max_elapsed: Duration::from_secs(180),
        }
    }
}

impl RetryPolicy {
    /// A policy for tests: many quick attempts.
    pub fn fast() -> Self {
        RetryPolicy {
            max_attempts: 20,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(20),
            max_elapsed: Duration::from_secs(30),
        }
    }

    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy { max_attempts: 1, ..Self::default() }
    }

    /// The wait before retry number `retry` (1-based): a uniformly random duration between
    /// zero and `min(max_backoff, initial_backoff * 2^(retry-1))` ("full jitter", which
    /// spreads clients that failed together).
    pub fn backoff(&self, retry: u32) -> Duration {
        let cap = self.initial_backoff.saturating_mul(1u32 << (retry.saturating_sub(1)).min(20)).min(self.max_backoff);
        if cap.is_zero() {
            return cap;
        }
        let nanos = rand::thread_rng().gen_range(0..=cap.as_nanos().min(u64::MAX as u128) as u64);
        Duration::from_nanos(nanos)
    }
}

/// The delay a `Retry-After` header asks for. Only the seconds form is understood (what
/// Cloudflare sends); an HTTP date or garbage yields `None` and the caller falls back to
/// backoff.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    match v.parse::<f64>() {
        Ok(f) if f.is_finite() && f >= 0.0 && f < 86_400.0 => Some(Duration::from_secs_f64(f)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_jittered_below_an_exponential_cap() {
        let p = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(700),
            ..RetryPolicy::default()
        };
        for _ in 0..200 {
            assert!(p.backoff(1) <= Duration::from_millis(100));
            assert!(p.backoff(3) <= Duration::from_millis(400));
            assert!(p.backoff(10) <= Duration::from_millis(700));
        }
        let waits: Vec<_> = (0..50).map(|_| p.backoff(4)).collect();
        assert!(waits.iter().any(|w| *w != waits[0]), "jitter varies the waits");
    }

    #[test]
    fn retry_after_seconds() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }
}

//! Runtime services shared by plan and apply: configured provider instances, schema lookup
//! by resource type, bounded retries of transient provider errors.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::address::Mode;
use crate::provider::{
    ConfiguredProvider, DataSourceType, ErrorKind, ProviderError, ProviderRegistry, ResourceType, Schema,
};

/// Provider configurations that have been configured, by key (`local`, `google.europe`).
#[derive(Clone, Default)]
pub struct ConfiguredProviders {
    inner: Arc<Mutex<HashMap<String, Arc<dyn ConfiguredProvider>>>>,
}

impl ConfiguredProviders {
    pub fn insert(&self, key: &str, p: Arc<dyn ConfiguredProvider>) {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).insert(key.to_string(), p);
    }

    pub fn get(&self, key: &str) -> Option<Arc<dyn ConfiguredProvider>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).get(key).cloned()
    }

    pub fn contains(&self, key: &str) -> bool {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).contains_key(key)
    }

    pub fn resource(&self, key: &str, ty: &str) -> Result<Arc<dyn ResourceType>, ProviderError> {
        let p =
            self.get(key).ok_or_else(|| ProviderError::permanent(format!("provider \"{key}\" is not configured")))?;
        p.resource(ty)
            .ok_or_else(|| ProviderError::permanent(format!("provider \"{key}\" has no resource type \"{ty}\"")))
    }

    /// The configured provider `key`, configuring it with an empty configuration when no walk
    /// has (a provider that manages only objects the configuration no longer has).
    pub async fn ensure(&self, schemas: &Schemas, key: &str) -> Result<Arc<dyn ConfiguredProvider>, ProviderError> {
        if let Some(p) = self.get(key) {
            return Ok(p);
        }
        let name = key.split('.').next().unwrap_or(key);
        let Some(provider) = schemas.registry().get(name) else {
            return Err(ProviderError::permanent(format!("state refers to unknown provider \"{name}\"")));
        };
        let p = provider.configure(&crate::value::Value::Map(std::collections::BTreeMap::new())).await?;
        self.insert(key, p.clone());
        Ok(p)
    }

    pub fn data_source(&self, key: &str, ty: &str) -> Result<Arc<dyn DataSourceType>, ProviderError> {
        let p =
            self.get(key).ok_or_else(|| ProviderError::permanent(format!("provider \"{key}\" is not configured")))?;
        p.data_source(ty)
            .ok_or_else(|| ProviderError::permanent(format!("provider \"{key}\" has no data source \"{ty}\"")))
    }
}

/// Schemas by resource type, shared cheaply with spawned tasks.
#[derive(Clone)]
pub struct Schemas {
    registry: Arc<ProviderRegistry>,
    cache: Arc<Mutex<HashMap<(Mode, String), Option<(Arc<Schema>, u32)>>>>,
}

impl Schemas {
    pub fn new(registry: Arc<ProviderRegistry>) -> Self {
        Schemas { registry, cache: Arc::default() }
    }

    pub fn registry(&self) -> &ProviderRegistry {
        &self.registry
    }

    /// The schema and schema version of a resource type or data source.
    pub fn get(&self, mode: Mode, ty: &str) -> Option<(Arc<Schema>, u32)> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry((mode, ty.to_string()))
            .or_insert_with(|| match mode {
                Mode::Managed => self.registry.resource_schema(ty).map(|s| (Arc::new(s.schema.clone()), s.version)),
                Mode::Data => self.registry.data_source_schema(ty).map(|s| (Arc::new(s.clone()), 0)),
            })
            .clone()
    }
}

/// Retry policy for transient provider errors: exponential backoff with full jitter.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base: Duration,
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { attempts: 6, base: Duration::from_millis(200), max: Duration::from_secs(10) }
    }
}

/// Runs `op` until it succeeds, fails permanently, or attempts run out. Only errors the
/// provider marks transient are retried.
pub async fn with_retries<T, F, Fut>(policy: RetryPolicy, op: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    with_retries_notify(policy, &|_, _| {}, op).await
}

/// Like [`with_retries`], telling `notify` (attempt number, error) before each retry.
pub async fn with_retries_notify<T, F, Fut>(
    policy: RetryPolicy,
    notify: &(dyn Fn(u32, &ProviderError) + Send + Sync),
    mut op: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        match op().await {
            Err(e) if e.kind == ErrorKind::Transient && !e.retried && attempt < policy.attempts => {
                let wait = backoff(policy, attempt);
                tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, error = %e.summary, "transient provider error; retrying");
                notify(attempt + 1, &e);
                tokio::time::sleep(wait).await;
            }
            Err(e) if e.kind == ErrorKind::Transient && !e.retried => return Err(gave_up(e, attempt)),
            other => return other,
        }
    }
}

/// How long to wait before retry number `attempt + 1`: exponential from `base`, capped at
/// `max`, with jitter (half to all of the step).
pub fn backoff(policy: RetryPolicy, attempt: u32) -> Duration {
    let cap = policy.base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16)).min(policy.max);
    cap.mul_f64(0.5 + 0.5 * rand_fraction())
}

/// A transient error after the last attempt, saying so.
pub fn gave_up(mut e: ProviderError, attempts: u32) -> ProviderError {
    e.detail = Some(match e.detail.take() {
        Some(d) => format!("{d} (gave up after {attempts} attempts)"),
        None => format!("gave up after {attempts} attempts"),
    });
    e
}

/// A cheap pseudo-random fraction in [0, 1) for jitter (not for secrets).
fn rand_fraction() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0),
    );
    (h.finish() % 1_000_000) as f64 / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn retries_transient_then_succeeds() {
        let calls = AtomicU32::new(0);
        let policy = RetryPolicy { attempts: 5, base: Duration::from_millis(1), max: Duration::from_millis(5) };
        let r = with_retries(policy, || async {
            if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                Err(ProviderError::transient("busy"))
            } else {
                Ok(7)
            }
        })
        .await;
        assert_eq!(r.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn errors_the_provider_already_retried_are_not_retried_again() {
        let calls = AtomicU32::new(0);
        let policy = RetryPolicy { attempts: 5, base: Duration::from_millis(1), max: Duration::from_millis(2) };
        let r: Result<(), _> = with_retries(policy, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(ProviderError::transient("busy").already_retried())
        })
        .await;
        assert!(r.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn permanent_errors_are_not_retried_and_attempts_are_bounded() {
        let calls = AtomicU32::new(0);
        let policy = RetryPolicy { attempts: 3, base: Duration::from_millis(1), max: Duration::from_millis(2) };
        let r: Result<(), _> = with_retries(policy, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(ProviderError::permanent("bad request"))
        })
        .await;
        assert!(r.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        calls.store(0, Ordering::SeqCst);
        let r: Result<(), _> = with_retries(policy, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(ProviderError::transient("busy"))
        })
        .await;
        assert!(r.unwrap_err().detail.unwrap().contains("gave up after 3 attempts"));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }
}

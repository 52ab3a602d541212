//! The HTTP client every cloud provider shares: one place for base URLs, bearer auth,
//! per-request timeouts, retries (exponential backoff with full jitter, `Retry-After`),
//! cancellation, JSON and pagination helpers, operation polling, call tracing with secrets
//! redacted, and the mapping of API error bodies to [`ProviderError`]s.
//!
//! A provider builds one [`ApiClient`] per API from an [`ApiConfig`] and an [`ErrorMapper`]
//! (which knows the API's error body shape and any extra retryable statuses, e.g. Neon's
//! `423 Locked`), then sends [`ApiRequest`]s:
//!
//! ```ignore
//! let client = ApiClient::new(ApiConfig::new("neon", base_url).bearer(key), Arc::new(NeonErrors))?;
//! let branch: BranchResponse = client.send(ctx, ApiRequest::get(format!("/projects/{p}/branches/{b}"))).await?.json()?;
//! ```
//!
//! Retry rules (see [`RetryPolicy`]):
//! - `429`, `503` and the mapper's extra statuses mean "the server refused, nothing happened":
//!   always retried, honouring `Retry-After` (seconds).
//! - `500`, `502`, `504`, timeouts and connections lost after the request was sent leave the
//!   outcome unknown: retried only for idempotent requests (GET, HEAD, PUT, DELETE, OPTIONS by
//!   default, or a POST/PATCH the caller marked [`ApiRequest::idempotent`] because the API
//!   rejects a replay by name, which the caller then adopts). Otherwise the caller gets a
//!   permanent error saying the outcome is unknown — never a blind replay.
//! - Connections that could not be established are retried for every method.
//! - Attempts and total time are bounded; cancellation ([`OpContext::cancel`]) stops at once.
//!
//! What this module must not do: know any API's resources, or log a secret. Bodies are only
//! logged at `trace` level and through the [`Redactor`]; the `Authorization` header never.
//!
//! [`OpContext::cancel`]: tenantform_engine::provider::OpContext

mod client;
mod paginate;
mod poll;
mod redact;
mod retry;

#[cfg(test)]
mod tests;

pub use client::{
    default_error_kind, ApiClient, ApiConfig, ApiError, ApiRequest, ApiResponse, Auth, DefaultErrors, ErrorMapper,
    HttpFailure, TokenSource, LOG_TARGET,
};
pub use paginate::{json_page, Page};
pub use poll::{poll_until, PollOptions, PollStatus};
pub use redact::{Redactor, REDACTED};
pub use reqwest::Method;
pub use retry::{parse_retry_after, RetryPolicy};

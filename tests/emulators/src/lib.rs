//! Strict local HTTP emulators of the cloud APIs tenantform's providers talk to, for tests
//! (started in-process with [`start`]) and for trying stacks offline (the
//! `tenantform-emulator` binary).
//!
//! Each emulator serves the real API's paths, bodies, status codes and error body shapes, and
//! rejects what the real API rejects (missing fields, wrong types, unknown paths and methods)
//! the same way. What they share lives here:
//!
//! - [`store::Store`]: an in-memory document store (JSON objects by collection and id) with an
//!   atomic `with` for check-then-insert logic (duplicate names → 409).
//! - [`Core::ready_at`] / [`Core::is_ready`]: "operations that finish later" after the
//!   configured [`Options::operation_delay`].
//! - [`faults`]: fault injection — a fraction of requests answered 429/503 (with
//!   `Retry-After`), added latency, connections dropped before the request is handled, and
//!   responses lost after the change was committed — set by CLI flags, environment, the admin
//!   endpoint or [`Handle::set_faults`].
//! - [`admin`]: `GET /_emulator/objects`, `POST /_emulator/reset`, `GET|PUT /_emulator/faults`,
//!   `GET /_emulator/requests`, plus per-emulator seeding routes.
//! - [`server`]: the accept loop (which can drop a single connection on purpose).
//!
//! Adding an emulator: a module with `spec() -> Spec` (base path, router, seed, error shape),
//! a [`Kind`] variant, and a line in [`Kind::spec`]. Emulators must not depend on the
//! providers crate: they model the API, not our client.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::Response;
use axum::Router;
use serde_json::Value as Json;
use tokio_util::sync::CancellationToken;

pub mod admin;
pub mod cloud_run;
pub mod cloudflare;
pub mod faults;
pub mod google;
pub mod neon;
pub mod secret_manager;
pub mod server;
pub mod store;

pub use faults::FaultConfig;
pub use store::Store;

/// Which API an emulator speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// Neon API v2 (`/api/v2`).
    Neon,
    /// Cloudflare API v4 (`/client/v4`): zones, custom hostnames, DNS records.
    Cloudflare,
    /// Google Secret Manager v1 (owned by the Google providers' work).
    SecretManager,
    /// Google Cloud Run Admin API v2 (owned by the Google providers' work).
    CloudRun,
}

impl Kind {
    pub const ALL: &'static [Kind] = &[Kind::Neon, Kind::Cloudflare, Kind::SecretManager, Kind::CloudRun];

    /// The name used on the command line (`tenantform-emulator neon`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Neon => "neon",
            Kind::Cloudflare => "cloudflare",
            Kind::SecretManager => "secretmanager",
            Kind::CloudRun => "cloudrun",
        }
    }

    /// What the emulator of this kind is made of.
    pub fn spec(self) -> Spec {
        match self {
            Kind::Neon => neon::spec(),
            Kind::Cloudflare => cloudflare::spec(),
            Kind::SecretManager => secret_manager::spec(),
            Kind::CloudRun => cloud_run::spec(),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let norm = s.to_ascii_lowercase().replace(['-', '_'], "");
        // The Google emulators also answer to their issue names.
        let norm = match norm.as_str() {
            "googlesecrets" | "googlesecretmanager" => "secretmanager".to_string(),
            "googlecloudrun" => "cloudrun".to_string(),
            _ => norm,
        };
        Kind::ALL.iter().copied().find(|k| k.name() == norm).ok_or_else(|| {
            let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
            format!("unknown emulator {s:?} (one of: {})", names.join(", "))
        })
    }
}

/// The parts of one emulator.
pub struct Spec {
    /// Path prefix of the API as in the real base URL (`/api/v2`, `/client/v4`, `` for Google).
    pub base_path: &'static str,
    /// The API routes (paths include `base_path`). Admin routes are added by the crate.
    pub router: fn(Shared) -> Router,
    /// Extra admin routes (under `/_emulator/`), e.g. creating Neon projects or Cloudflare zones.
    pub admin: fn(Shared) -> Router,
    /// Puts the default objects into an empty store (on start and on reset).
    pub seed: fn(&Core),
    /// The API's error response for a status and message (used for unknown paths, auth
    /// failures and injected faults).
    pub error: fn(StatusCode, &str) -> Response,
    /// Paths (prefixes) that need no `Authorization` header (e.g. a token endpoint).
    pub public_paths: &'static [&'static str],
}

/// How an emulator is started.
#[derive(Clone, Debug)]
pub struct Options {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// How long asynchronous work (Neon operations, certificate validation) takes.
    pub operation_delay: Duration,
    /// When set, requests must carry `Authorization: Bearer <token>` with exactly this token;
    /// otherwise any non-empty bearer token is accepted (a missing one is still 401).
    pub token: Option<String>,
    /// Put the default objects (a Neon project, a Cloudflare zone) in the store.
    pub seed: bool,
    pub faults: FaultConfig,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            operation_delay: Duration::from_millis(500),
            token: None,
            seed: true,
            faults: FaultConfig::default(),
        }
    }
}

/// One request as the emulator saw it (for `GET /_emulator/requests` and test assertions).
#[derive(Clone, Debug, serde::Serialize)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub status: u16,
    /// `"429"`, `"503"`, `"dropped"`, `"dropped_after_commit"` when a fault was injected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
}

/// Everything one running emulator shares between requests.
pub struct Core {
    pub kind: Kind,
    pub options: Options,
    pub store: Store,
    pub faults: Mutex<FaultConfig>,
    pub requests: Mutex<Vec<RequestRecord>>,
    /// The bound address, once the server listens (URLs the emulator serves itself, such as
    /// Cloud Run service URIs, are built from it).
    addr: OnceLock<SocketAddr>,
    started: Instant,
    spec: Spec,
}

/// The shared core as handed to routers.
pub type Shared = Arc<Core>;

impl Core {
    fn new(kind: Kind, options: Options) -> Core {
        let faults = Mutex::new(options.faults.clone());
        Core {
            kind,
            options,
            store: Store::default(),
            faults,
            requests: Mutex::new(Vec::new()),
            addr: OnceLock::new(),
            started: Instant::now(),
            spec: kind.spec(),
        }
    }

    /// The address the server listens on (`None` for a core that is not served, in unit tests).
    pub fn addr(&self) -> Option<SocketAddr> {
        self.addr.get().copied()
    }

    /// Milliseconds since the emulator started (the clock of "finishes later").
    pub fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// The time (in [`now_ms`](Self::now_ms) units) at which work started now finishes.
    pub fn ready_at(&self) -> u64 {
        self.now_ms() + self.options.operation_delay.as_millis() as u64
    }

    /// Whether work that finishes at `ready_at` has finished.
    pub fn is_ready(&self, ready_at: u64) -> bool {
        self.now_ms() >= ready_at
    }

    /// How far work started at `started_at` and finishing at `ready_at` is (0.0 to 1.0).
    pub fn progress(&self, started_at: u64, ready_at: u64) -> f64 {
        if ready_at <= started_at {
            return 1.0;
        }
        ((self.now_ms().saturating_sub(started_at)) as f64 / (ready_at - started_at) as f64).min(1.0)
    }

    /// The API's error response.
    pub fn error(&self, status: StatusCode, message: &str) -> Response {
        (self.spec.error)(status, message)
    }

    /// Clears the store and the request log, then seeds again (faults are kept).
    pub fn reset(&self) {
        self.store.clear();
        self.requests.lock().unwrap_or_else(|e| e.into_inner()).clear();
        if self.options.seed {
            (self.spec.seed)(self);
        }
    }

    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    fn record(&self, r: RequestRecord) {
        self.requests.lock().unwrap_or_else(|e| e.into_inner()).push(r);
    }
}

/// A running emulator. Dropping it stops the server.
pub struct Handle {
    core: Shared,
    addr: SocketAddr,
    shutdown: CancellationToken,
}

impl Handle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to configure a provider with (`http://127.0.0.1:PORT/api/v2`).
    pub fn base_url(&self) -> String {
        format!("http://{}{}", self.addr, self.core.spec.base_path)
    }

    pub fn core(&self) -> &Shared {
        &self.core
    }

    /// Every object of a collection (`branches`, `custom_hostnames`, …), as stored.
    pub fn objects(&self, collection: &str) -> Vec<Json> {
        self.core.store.list(collection)
    }

    /// Replaces the fault configuration.
    pub fn set_faults(&self, faults: FaultConfig) {
        *self.core.faults.lock().unwrap_or_else(|e| e.into_inner()) = faults;
    }

    /// The requests seen so far.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.core.requests.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn reset(&self) {
        self.core.reset();
    }

    /// Stops accepting connections (also done on drop).
    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }

    /// Resolves when the emulator is shut down (for the binary).
    pub async fn stopped(&self) {
        self.shutdown.cancelled().await
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Starts an emulator in this process on `options.listen`; returns the bound address and a
/// handle. Must be called inside a tokio runtime.
pub async fn start(kind: Kind, options: Options) -> std::io::Result<(SocketAddr, Handle)> {
    let listener = tokio::net::TcpListener::bind(options.listen).await?;
    let addr = listener.local_addr()?;
    let core: Shared = Arc::new(Core::new(kind, options));
    let _ = core.addr.set(addr);
    core.reset();
    let app = admin::app(core.clone());
    let shutdown = CancellationToken::new();
    tokio::spawn(server::serve(listener, app, shutdown.clone()));
    Ok((addr, Handle { core, addr, shutdown }))
}

/// The JSON of an error message, for emulators without a richer error shape.
pub fn plain_error(status: StatusCode, message: &str) -> Response {
    use axum::response::IntoResponse;
    (status, axum::Json(serde_json::json!({ "message": message }))).into_response()
}

/// Paths the emulator serves on its own behalf rather than as the API: its admin routes and
/// the traffic of emulated services (Cloud Run's `/_run/`). They need no token, are never
/// subject to faults and are not recorded in the request log.
pub const OWN_PATH_PREFIXES: &[&str] = &["/_emulator/", "/_run/"];

/// Removes private bookkeeping keys (those starting with `_`) from a stored object before it
/// is shown through the API.
pub fn public(mut doc: Json) -> Json {
    if let Json::Object(m) = &mut doc {
        m.retain(|k, _| !k.starts_with('_'));
    }
    doc
}

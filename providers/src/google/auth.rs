//! Google credentials: a fixed OAuth access token, or a service-account key exchanged for
//! access tokens with a signed JWT (RFC 7523 "JWT bearer" grant, RS256), cached until shortly
//! before they expire.
//!
//! The token endpoint is the key file's `token_uri` (so tests point it at an emulator). This
//! module owns key parsing, JWT signing and the token cache; it must never log, print or put
//! into an error message a private key, an assertion or an access token — `Debug` of every type
//! here is redacted.

use std::fmt;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use serde::Deserialize;
use tenantform_engine::provider::ProviderError;
use tokio::sync::Mutex;

/// The OAuth scope every API this provider calls accepts.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// Google's token endpoint, used when a key file has no `token_uri`.
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// The grant type of the service-account flow.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Lifetime requested for an assertion (Google's maximum is one hour).
const ASSERTION_LIFETIME_SECS: u64 = 3600;
/// A cached token is replaced this long before it expires, so a request never carries a
/// token that expires in flight.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// The fields of a service-account key file this provider uses.
#[derive(Clone, Deserialize)]
pub struct ServiceAccountKey {
    #[serde(rename = "type", default)]
    pub key_type: String,
    #[serde(default)]
    pub project_id: Option<String>,
    #[serde(default)]
    pub private_key_id: Option<String>,
    pub private_key: String,
    pub client_email: String,
    #[serde(default)]
    pub token_uri: Option<String>,
}

impl fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("project_id", &self.project_id)
            .field("token_uri", &self.token_uri)
            .field("private_key", &"<redacted>")
            .finish()
    }
}

impl ServiceAccountKey {
    /// Parses a key given either as JSON contents or as the path of a JSON file (the
    /// `credentials` attribute accepts both, like the Terraform google provider).
    pub fn from_path_or_contents(input: &str) -> Result<ServiceAccountKey, ProviderError> {
        let trimmed = input.trim_start();
        let (contents, origin) = if trimmed.starts_with('{') {
            (input.to_string(), "the credentials value".to_string())
        } else {
            let p = Path::new(input.trim());
            let text = std::fs::read_to_string(p).map_err(|e| {
                ProviderError::permanent(format!("cannot read the credentials file {}: {e}", p.display()))
                    .with_help("`credentials` takes the path of a service-account key file or its JSON contents")
            })?;
            (text, format!("the credentials file {}", p.display()))
        };
        Self::from_json(&contents, &origin)
    }

    /// Parses key JSON; `origin` names where it came from for error messages (never the
    /// contents, which hold the private key).
    pub fn from_json(contents: &str, origin: &str) -> Result<ServiceAccountKey, ProviderError> {
        let key: ServiceAccountKey = serde_json::from_str(contents).map_err(|e| {
            // serde's message names the field and position, never the contents.
            ProviderError::permanent(format!("{origin} is not a service-account key: {e}")).with_help(
                "create a key with `gcloud iam service-accounts keys create key.json --iam-account=…`, \
                 or use `access_token` instead",
            )
        })?;
        if key.key_type != "service_account" {
            let shown = if key.key_type.is_empty() { "no" } else { key.key_type.as_str() };
            return Err(ProviderError::permanent(format!(
                "{origin} has type {shown:?}; only \"service_account\" keys are supported"
            ))
            .with_help("for user credentials, pass a token with `access_token` (`gcloud auth print-access-token`)"));
        }
        key.signing_key()?;
        Ok(key)
    }

    /// The token endpoint (the key's `token_uri`, or Google's).
    pub fn token_uri(&self) -> &str {
        self.token_uri.as_deref().filter(|s| !s.is_empty()).unwrap_or(DEFAULT_TOKEN_URI)
    }

    fn signing_key(&self) -> Result<RsaKeyPair, ProviderError> {
        let bad = |why: &str| {
            ProviderError::permanent(format!(
                "the private_key of service account {} is unusable: {why}",
                self.client_email
            ))
        };
        let (label, der) = pem_decode(&self.private_key).ok_or_else(|| bad("not a PEM block"))?;
        match label.as_str() {
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der).map_err(|e| bad(&format!("not an RSA PKCS#8 key ({e})"))),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der).map_err(|e| bad(&format!("not an RSA PKCS#1 key ({e})"))),
            other => Err(bad(&format!("unexpected PEM block {other:?}"))),
        }
    }

    /// A signed assertion for the JWT-bearer grant, issued at `iat` (seconds since the epoch).
    pub fn assertion(&self, scopes: &[String], iat: u64) -> Result<String, ProviderError> {
        let mut header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
        if let Some(kid) = self.private_key_id.as_deref().filter(|k| !k.is_empty()) {
            header["kid"] = serde_json::Value::String(kid.to_string());
        }
        let claims = serde_json::json!({
            "iss": self.client_email,
            "scope": scopes.join(" "),
            "aud": self.token_uri(),
            "iat": iat,
            "exp": iat + ASSERTION_LIFETIME_SECS,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string().as_bytes()),
            URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes())
        );
        let key = self.signing_key()?;
        let mut sig = vec![0u8; key.public().modulus_len()];
        key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), signing_input.as_bytes(), &mut sig)
            .map_err(|_| ProviderError::permanent("signing the service-account assertion failed"))?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }
}

/// The label and DER bytes of the first PEM block in `text`.
pub fn pem_decode(text: &str) -> Option<(String, Vec<u8>)> {
    // Keys pasted into JSON by hand sometimes keep literal `\n` sequences.
    let text = text.replace("\\n", "\n");
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start + "-----BEGIN ".len()..];
    let label_end = rest.find("-----")?;
    let label = rest[..label_end].to_string();
    let body_start = label_end + 5;
    let end_marker = format!("-----END {label}-----");
    let body_end = rest.find(&end_marker)?;
    let b64: String = rest[body_start..body_end].chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(b64).ok().map(|der| (label, der))
}

/// A successful token response.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// An OAuth error response (`{"error": "invalid_grant", "error_description": "…"}`).
#[derive(Deserialize)]
struct OAuthError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// An access token and when it stops being valid.
#[derive(Clone)]
pub struct AccessToken {
    pub token: String,
    pub expires_at: Option<SystemTime>,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken").field("token", &"<redacted>").field("expires_at", &self.expires_at).finish()
    }
}

impl AccessToken {
    fn fresh(&self, now: SystemTime) -> bool {
        match self.expires_at {
            None => true,
            Some(t) => now + REFRESH_MARGIN < t,
        }
    }
}

/// Where access tokens come from.
pub enum Credentials {
    /// A token given by the user (`access_token` / `GOOGLE_OAUTH_ACCESS_TOKEN`); never refreshed.
    AccessToken(String),
    /// A service-account key; tokens are minted on demand and cached.
    ServiceAccount(ServiceAccountKey),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::AccessToken(_) => f.write_str("Credentials::AccessToken(<redacted>)"),
            Credentials::ServiceAccount(k) => f.debug_tuple("Credentials::ServiceAccount").field(k).finish(),
        }
    }
}

/// Hands out a valid access token, minting a new one when the cached one is near expiry.
/// One exchange at a time: concurrent callers wait for the same fresh token. Plugged into the
/// shared HTTP client as its [`crate::http::TokenSource`].
pub struct GoogleTokens {
    credentials: Credentials,
    scopes: Vec<String>,
    http: reqwest::Client,
    cache: std::sync::Mutex<Option<AccessToken>>,
    exchange_lock: Mutex<()>,
}

impl fmt::Debug for GoogleTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GoogleTokens").field("credentials", &self.credentials).field("scopes", &self.scopes).finish()
    }
}

impl GoogleTokens {
    pub fn new(credentials: Credentials, scopes: Vec<String>) -> Result<GoogleTokens, ProviderError> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(Duration::from_secs(30))
            .user_agent(format!("tenantform/{}", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderError::permanent(format!("cannot build the OAuth HTTP client: {e}")))?;
        Ok(GoogleTokens {
            credentials,
            scopes,
            http,
            cache: std::sync::Mutex::new(None),
            exchange_lock: Mutex::new(()),
        })
    }

    /// The service account's email, when that is the credential (for error messages).
    pub fn principal(&self) -> Option<&str> {
        match &self.credentials {
            Credentials::ServiceAccount(k) => Some(&k.client_email),
            Credentials::AccessToken(_) => None,
        }
    }

    fn cached(&self) -> Option<String> {
        let c = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        c.as_ref().filter(|t| t.fresh(SystemTime::now())).map(|t| t.token.clone())
    }

    /// A token valid for at least another minute.
    pub async fn access_token(&self) -> Result<String, ProviderError> {
        let key = match &self.credentials {
            Credentials::AccessToken(t) => return Ok(t.clone()),
            Credentials::ServiceAccount(k) => k,
        };
        if let Some(t) = self.cached() {
            return Ok(t);
        }
        let _one_at_a_time = self.exchange_lock.lock().await;
        if let Some(t) = self.cached() {
            return Ok(t);
        }
        let fresh = self.exchange(key).await?;
        let token = fresh.token.clone();
        *self.cache.lock().unwrap_or_else(|p| p.into_inner()) = Some(fresh);
        Ok(token)
    }

    async fn exchange(&self, key: &ServiceAccountKey) -> Result<AccessToken, ProviderError> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match self.exchange_once(key).await {
                Err(e) if e.is_transient() && attempt < 4 => {
                    tracing::debug!(attempt, error = %e.summary, "token exchange failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(attempt))).await;
                }
                other => return other,
            }
        }
    }

    async fn exchange_once(&self, key: &ServiceAccountKey) -> Result<AccessToken, ProviderError> {
        let now = SystemTime::now();
        let iat = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let assertion = key.assertion(&self.scopes, iat)?;
        let uri = key.token_uri();
        tracing::debug!(token_uri = uri, service_account = %key.client_email, "exchanging a service-account assertion");
        let resp = self
            .http
            .post(uri)
            .form(&[("grant_type", JWT_BEARER_GRANT), ("assertion", assertion.as_str())])
            .send()
            .await
            .map_err(|e| {
                // reqwest's error text names the URL, never the form body.
                ProviderError::transient(format!("cannot reach the token endpoint {uri}: {}", e.without_url()))
            })?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .map_err(|e| ProviderError::transient(format!("reading the token response from {uri} failed: {e}")))?;
        if status.is_success() {
            let t: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
                ProviderError::permanent(format!("the token endpoint {uri} answered with an unexpected body: {e}"))
            })?;
            let expires_at = t.expires_in.map(|s| now + Duration::from_secs(s));
            return Ok(AccessToken { token: t.access_token, expires_at });
        }
        let summary = match serde_json::from_slice::<OAuthError>(&body) {
            Ok(e) => format!(
                "the token endpoint refused the service-account key of {}: {}{}",
                key.client_email,
                e.error,
                e.error_description.map(|d| format!(" ({d})")).unwrap_or_default()
            ),
            Err(_) => format!("the token endpoint {uri} answered HTTP {status}"),
        };
        let err = if status.as_u16() == 429 || status.is_server_error() {
            ProviderError::transient(summary)
        } else {
            ProviderError::permanent(summary).with_help(
                "check that the key is not deleted or disabled and that the machine's clock is right \
                 (`gcloud iam service-accounts keys list --iam-account=…`)",
            )
        };
        Err(err)
    }
}

#[async_trait::async_trait]
impl crate::http::TokenSource for GoogleTokens {
    async fn token(&self, ctx: &tenantform_engine::provider::OpContext) -> Result<String, ProviderError> {
        tokio::select! {
            t = self.access_token() => t,
            _ = ctx.cancel.cancelled() => Err(ProviderError::cancelled().with_detail("stopped while getting a Google access token")),
        }
    }

    fn invalidate(&self) {
        *self.cache.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A throwaway 2048-bit key generated for tests only.
    const TEST_KEY_PEM: &str = include_str!("../../../tests/emulators/src/google/testdata/test-sa-key.pem");

    fn key() -> ServiceAccountKey {
        let json = serde_json::json!({
            "type": "service_account",
            "project_id": "demo",
            "private_key_id": "k1",
            "private_key": TEST_KEY_PEM,
            "client_email": "deployer@demo.iam.gserviceaccount.com",
            "token_uri": "http://127.0.0.1:1/token",
        });
        ServiceAccountKey::from_json(&json.to_string(), "test").unwrap()
    }

    #[test]
    fn assertion_is_a_verifiable_rs256_jwt_with_google_claims() {
        let k = key();
        let jwt = k.assertion(&[CLOUD_PLATFORM_SCOPE.to_string()], 1_700_000_000).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["kid"], "k1");
        let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "deployer@demo.iam.gserviceaccount.com");
        assert_eq!(claims["aud"], "http://127.0.0.1:1/token");
        assert_eq!(claims["scope"], CLOUD_PLATFORM_SCOPE);
        assert_eq!(claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(), 3600);
        let public = k.signing_key().unwrap().public().as_ref().to_vec();
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, public)
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .unwrap();
    }

    #[test]
    fn bad_keys_are_explained_without_their_contents() {
        let e = ServiceAccountKey::from_json(r#"{"type":"authorized_user"}"#, "the credentials value").unwrap_err();
        assert!(e.summary.contains("private_key") || e.summary.contains("service_account"), "{}", e.summary);
        let json = serde_json::json!({
            "type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "client_email": "x@y",
        });
        let e = ServiceAccountKey::from_json(&json.to_string(), "k").unwrap_err();
        assert!(e.summary.contains("unusable") && !e.summary.contains("AAAA"), "{}", e.summary);
        let e = ServiceAccountKey::from_path_or_contents("/nonexistent/key.json").unwrap_err();
        assert!(e.summary.contains("/nonexistent/key.json"));
        assert!(!format!("{:?}", key()).contains("BEGIN"));
    }

    #[test]
    fn tokens_refresh_before_expiry() {
        let now = SystemTime::now();
        let t = |secs| AccessToken { token: "t".into(), expires_at: Some(now + Duration::from_secs(secs)) };
        assert!(t(3599).fresh(now));
        assert!(!t(30).fresh(now));
        assert!(AccessToken { token: "t".into(), expires_at: None }.fresh(now));
        assert!(!format!("{:?}", t(1)).contains("\"t\""));
    }
}

//! Google's OAuth 2.0 token endpoint for the service-account flow (JWT-bearer grant, RFC 7523)
//! and the bearer-token check every emulated Google API does.
//!
//! The endpoint verifies the assertion's RS256 signature against the public keys of the
//! service accounts it trusts, checks `aud`, `iat`/`exp` (at most one hour apart, not expired)
//! and `scope`, then issues an opaque token. Refusals use Google's OAuth error bodies and
//! descriptions (`{"error": "invalid_grant", "error_description": "Invalid JWT Signature."}`).
//! API calls without a valid token get 401 `UNAUTHENTICATED`.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ring::signature::{RsaKeyPair, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use serde_json::{json, Value as Json};

use super::{parse_query, ApiError};
use crate::store::Collections;

/// A throwaway RSA key for tests only (never used anywhere real).
pub const TEST_SA_KEY_PEM: &str = include_str!("testdata/test-sa-key.pem");
/// The service account the test key belongs to.
pub const TEST_SA_EMAIL: &str = "tenantform-test@emulated-project.iam.gserviceaccount.com";

/// The DER `RSAPublicKey` of a PEM private key (PKCS#8), for checking assertions.
pub fn public_key_of(pem: &str) -> Option<Vec<u8>> {
    let start = pem.find("-----BEGIN PRIVATE KEY-----")? + "-----BEGIN PRIVATE KEY-----".len();
    let end = pem.find("-----END PRIVATE KEY-----")?;
    let der = STANDARD.decode(pem[start..end].chars().filter(|c| !c.is_whitespace()).collect::<String>()).ok()?;
    let kp = RsaKeyPair::from_pkcs8(&der).ok()?;
    Some(kp.public().as_ref().to_vec())
}

/// A service-account key file for [`TEST_SA_EMAIL`] whose `token_uri` is `token_uri`.
pub fn test_service_account_json(token_uri: &str) -> String {
    json!({
        "type": "service_account",
        "project_id": "emulated-project",
        "private_key_id": "0123456789abcdef",
        "private_key": TEST_SA_KEY_PEM,
        "client_email": TEST_SA_EMAIL,
        "client_id": "100000000000000000001",
        "token_uri": token_uri,
    })
    .to_string()
}

/// The collection of issued tokens: `{token, principal, expires_ms, uses}`.
pub const TOKENS: &str = "oauth_tokens";
/// Lifetime of issued tokens (`expires_in`), as Google answers.
pub const TOKEN_LIFETIME_SECS: u64 = 3599;
/// Prefix of the tokens this endpoint issues; such a token must be known and unexpired.
pub const TOKEN_PREFIX: &str = "ya29.emulated-";

fn trusted_key(email: &str) -> Option<&'static [u8]> {
    static KEY: OnceLock<Option<Vec<u8>>> = OnceLock::new();
    if email != TEST_SA_EMAIL {
        return None;
    }
    KEY.get_or_init(|| public_key_of(TEST_SA_KEY_PEM)).as_deref()
}

fn oauth_error(error: &str, description: &str) -> (u16, Json) {
    (400, json!({"error": error, "error_description": description}))
}

const SHORT_LIVED: &str = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";

/// Handles `POST /token` with a form body; `audience` is this endpoint's own URL (an
/// assertion addressed to Google's real endpoint is accepted too). `now_ms` is the
/// emulator's clock, used for token expiry.
pub fn token_endpoint(c: &mut Collections, now_ms: u64, form: &[u8], audience: &str) -> (u16, Json) {
    let form = parse_query(&String::from_utf8_lossy(form));
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    match get("grant_type") {
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer") => {}
        Some(other) => return oauth_error("unsupported_grant_type", &format!("Invalid grant_type: {other}")),
        None => return oauth_error("unsupported_grant_type", "Invalid grant_type: "),
    }
    let Some(assertion) = get("assertion") else {
        return oauth_error("invalid_request", "Missing required parameter: assertion");
    };
    let parts: Vec<&str> = assertion.split('.').collect();
    if parts.len() != 3 {
        return oauth_error("invalid_grant", "Invalid JWT: Malformed token.");
    }
    let decode = |s: &str| URL_SAFE_NO_PAD.decode(s).ok().and_then(|b| serde_json::from_slice::<Json>(&b).ok());
    let (Some(header), Some(claims)) = (decode(parts[0]), decode(parts[1])) else {
        return oauth_error("invalid_grant", "Invalid JWT: Malformed token.");
    };
    if header["alg"] != "RS256" {
        return oauth_error("invalid_grant", "Invalid JWT Signature.");
    }
    let Some(iss) = claims["iss"].as_str() else {
        return oauth_error("invalid_grant", "Invalid JWT: No issuer (iss) claim.");
    };
    let Some(key) = trusted_key(iss) else {
        return oauth_error("invalid_grant", "Invalid grant: account not found");
    };
    let Ok(sig) = URL_SAFE_NO_PAD.decode(parts[2]) else {
        return oauth_error("invalid_grant", "Invalid JWT Signature.");
    };
    let signed = format!("{}.{}", parts[0], parts[1]);
    if UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key).verify(signed.as_bytes(), &sig).is_err() {
        return oauth_error("invalid_grant", "Invalid JWT Signature.");
    }
    let aud = claims["aud"].as_str().unwrap_or("");
    if aud != audience && aud != "https://oauth2.googleapis.com/token" {
        return oauth_error("invalid_grant", "Invalid JWT: Failed audience check.");
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() as i64;
    let (Some(iat), Some(exp)) = (claims["iat"].as_i64(), claims["exp"].as_i64()) else {
        return oauth_error("invalid_grant", SHORT_LIVED);
    };
    if exp <= now || exp - iat > 3600 || iat > now + 300 || exp <= iat {
        return oauth_error("invalid_grant", SHORT_LIVED);
    }
    if claims["scope"].as_str().is_none_or(str::is_empty) && claims["target_audience"].is_null() {
        return oauth_error("invalid_scope", "Invalid OAuth scope or ID token audience provided.");
    }
    let token = format!("{TOKEN_PREFIX}{}", uuid::Uuid::new_v4().simple());
    c.insert(
        TOKENS,
        &token,
        json!({"token": token, "principal": iss, "expires_ms": now_ms + TOKEN_LIFETIME_SECS * 1000, "uses": 0}),
    );
    (200, json!({"access_token": token, "expires_in": TOKEN_LIFETIME_SECS, "token_type": "Bearer"}))
}

/// Checks an `Authorization` header (the shared gate already required a non-empty bearer
/// token, or exactly the configured one): a token issued here must be known and unexpired.
/// Returns the caller's principal.
pub fn check(c: &mut Collections, now_ms: u64, authorization: Option<&str>) -> Result<String, ApiError> {
    let token = authorization
        .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(ApiError::unauthenticated)?;
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok("user:token-holder@example.com".to_string());
    }
    match c.get_mut(TOKENS, token) {
        Some(d) if d["expires_ms"].as_u64().unwrap_or(0) > now_ms => {
            d["uses"] = json!(d["uses"].as_u64().unwrap_or(0) + 1);
            Ok(format!("serviceAccount:{}", d["principal"].as_str().unwrap_or("")))
        }
        _ => Err(ApiError::unauthenticated()),
    }
}

#[cfg(test)]
mod tests {
    use ring::rand::SystemRandom;
    use ring::signature::RSA_PKCS1_SHA256;

    use super::*;

    fn sign(claims: Json) -> String {
        let start = TEST_SA_KEY_PEM.find("-----BEGIN PRIVATE KEY-----").unwrap() + 27;
        let end = TEST_SA_KEY_PEM.find("-----END PRIVATE KEY-----").unwrap();
        let der = STANDARD
            .decode(TEST_SA_KEY_PEM[start..end].chars().filter(|c| !c.is_whitespace()).collect::<String>())
            .unwrap();
        let kp = RsaKeyPair::from_pkcs8(&der).unwrap();
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "typ": "JWT"}).to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0; kp.public().modulus_len()];
        kp.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut sig).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    fn form(assertion: &str) -> Vec<u8> {
        format!("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}").into_bytes()
    }

    #[test]
    fn issues_tokens_for_valid_assertions_only() {
        let mut c = Collections::default();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let aud = "http://127.0.0.1:9/token";
        let good = sign(json!({"iss": TEST_SA_EMAIL, "aud": aud, "scope": "s", "iat": now, "exp": now + 3600}));
        let (status, body) = token_endpoint(&mut c, 0, &form(&good), aud);
        assert_eq!(status, 200, "{body}");
        let token = body["access_token"].as_str().unwrap();
        assert_eq!(
            check(&mut c, 1, Some(&format!("Bearer {token}"))).unwrap(),
            format!("serviceAccount:{TEST_SA_EMAIL}")
        );
        assert_eq!(
            check(&mut c, TOKEN_LIFETIME_SECS * 1000 + 1, Some(&format!("Bearer {token}"))).unwrap_err().http,
            401
        );
        assert_eq!(check(&mut c, 1, Some("Bearer ya29.emulated-forged")).unwrap_err().http, 401);
        assert_eq!(check(&mut c, 1, None).unwrap_err().status, "UNAUTHENTICATED");

        let mut tampered = good.clone();
        tampered.replace_range(tampered.len() - 4.., "AAAA");
        assert_eq!(token_endpoint(&mut c, 0, &form(&tampered), aud).1["error_description"], "Invalid JWT Signature.");
        let long = sign(json!({"iss": TEST_SA_EMAIL, "aud": aud, "scope": "s", "iat": now, "exp": now + 7200}));
        assert!(token_endpoint(&mut c, 0, &form(&long), aud).1["error_description"]
            .as_str()
            .unwrap()
            .contains("short-lived"));
        let wrong_aud = sign(json!({"iss": TEST_SA_EMAIL, "aud": "x", "scope": "s", "iat": now, "exp": now + 60}));
        assert_eq!(token_endpoint(&mut c, 0, &form(&wrong_aud), aud).0, 400);
        let stranger = sign(json!({"iss": "else@x", "aud": aud, "scope": "s", "iat": now, "exp": now + 60}));
        assert!(token_endpoint(&mut c, 0, &form(&stranger), aud).1["error_description"]
            .as_str()
            .unwrap()
            .contains("not found"));
        assert_eq!(token_endpoint(&mut c, 0, b"grant_type=password", aud).1["error"], "unsupported_grant_type");
    }
}

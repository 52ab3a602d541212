//! Password verifiers as PostgreSQL stores them in `pg_authid.rolpassword`, computed here so
//! that (1) a password is sent to the server already hashed — it never appears in clear in
//! the server's statement log — and (2) a read can tell whether the stored verifier still
//! belongs to the configured password (drift: a password changed by hand).
//!
//! - SCRAM-SHA-256 (RFC 5802/7677, PostgreSQL's default since 14):
//!   `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, where SaltedPassword =
//!   PBKDF2-HMAC-SHA-256(password, salt, iterations), StoredKey = SHA-256(HMAC(SaltedPassword,
//!   "Client Key")), ServerKey = HMAC(SaltedPassword, "Server Key"). Checking a password means
//!   recomputing StoredKey with the stored salt and iteration count.
//! - md5 (older servers): `md5` + hex(MD5(password ‖ role name)).
//!
//! PostgreSQL normalises non-ASCII passwords with SASLprep before hashing; this module hashes
//! the bytes as given, which is the same for ASCII passwords (what `random_password` makes).
//! For a non-ASCII password whose verifier does not match, callers fall back to a login check.

use base64::Engine as _;
use md5::Md5;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Iterations PostgreSQL uses by default (`scram_iterations`).
pub const ITERATIONS: u32 = 4096;

fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

fn salted_password(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut first = salt.to_vec();
    first.extend_from_slice(&1u32.to_be_bytes());
    let mut u = hmac(password, &first);
    let mut acc = u;
    for _ in 1..iterations {
        u = hmac(password, &u);
        for (a, b) in acc.iter_mut().zip(u.iter()) {
            *a ^= b;
        }
    }
    acc
}

fn keys(password: &str, salt: &[u8], iterations: u32) -> ([u8; 32], [u8; 32]) {
    let salted = salted_password(password.as_bytes(), salt, iterations);
    let client_key = hmac(&salted, b"Client Key");
    let stored_key: [u8; 32] = Sha256::digest(client_key).into();
    let server_key = hmac(&salted, b"Server Key");
    (stored_key, server_key)
}

/// A new SCRAM-SHA-256 verifier for `password` with a random salt.
pub fn scram_verifier(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let (stored, server) = keys(password, &salt, ITERATIONS);
    let b64 = base64::engine::general_purpose::STANDARD;
    format!("SCRAM-SHA-256${ITERATIONS}:{}${}:{}", b64.encode(salt), b64.encode(stored), b64.encode(server))
}

/// Whether a stored verifier belongs to `password`: `Some(true|false)` for SCRAM and md5
/// verifiers, `None` for anything this module cannot check.
pub fn verifies(stored: &str, role: &str, password: &str) -> Option<bool> {
    if let Some(rest) = stored.strip_prefix("SCRAM-SHA-256$") {
        let (params, keys_part) = rest.split_once('$')?;
        let (iters, salt) = params.split_once(':')?;
        let (stored_key, _server_key) = keys_part.split_once(':')?;
        let b64 = base64::engine::general_purpose::STANDARD;
        let iterations: u32 = iters.parse().ok().filter(|n| *n > 0 && *n <= 10_000_000)?;
        let salt = b64.decode(salt).ok()?;
        let want = b64.decode(stored_key).ok()?;
        let (got, _) = keys(password, &salt, iterations);
        return Some(got.as_slice() == want.as_slice());
    }
    if let Some(hex) = stored.strip_prefix("md5") {
        return Some(md5_verifier(password, role)[3..].eq_ignore_ascii_case(hex));
    }
    None
}

/// The md5 verifier of `password` for `role`.
pub fn md5_verifier(password: &str, role: &str) -> String {
    let mut h = Md5::new();
    h.update(password.as_bytes());
    h.update(role.as_bytes());
    let d = h.finalize();
    format!("md5{}", d.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn verifiers_check_their_own_password_only() {
        let v = scram_verifier("s3cr3t-Pa55");
        assert!(v.starts_with("SCRAM-SHA-256$4096:"));
        assert_eq!(verifies(&v, "acme", "s3cr3t-Pa55"), Some(true));
        assert_eq!(verifies(&v, "acme", "s3cr3t-Pa56"), Some(false));
        assert_ne!(scram_verifier("x"), scram_verifier("x"), "salted");
        let m = md5_verifier("pw", "acme");
        assert_eq!(verifies(&m, "acme", "pw"), Some(true));
        assert_eq!(verifies(&m, "acme", "other"), Some(false));
        assert_eq!(verifies("plain", "acme", "pw"), None);
    }

    #[test]
    fn md5_matches_postgres() {
        // SELECT 'md5' || md5('pw' || 'acme')
        assert_eq!(md5_verifier("pw", "acme"), format!("md5{:x}", Md5::digest(b"pwacme")));
    }
}

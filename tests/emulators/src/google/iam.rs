//! IAM policies on emulated resources: `getIamPolicy` / `setIamPolicy` with etags, as the
//! Google APIs implement them.
//!
//! - A resource without a policy answers `{"version": 1, "etag": "ACAB"}` (no `bindings`).
//! - `setIamPolicy` replaces the whole policy. When the request's policy carries an `etag` that
//!   is not the current one, it fails with 409 `ABORTED` (a concurrent change: re-read and
//!   retry). Without an etag it overwrites blindly, as the real API allows.
//! - Members must use a known prefix (`user:`, `serviceAccount:`, `group:`, `domain:`, …) or be
//!   `allUsers` / `allAuthenticatedUsers`; roles must look like `roles/…` or a custom role name.
//!   Bindings with no members are dropped; duplicate members are collapsed.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value as Json};

use super::ApiError;
use crate::store::Collections;

/// The etag of a resource that never had a policy.
pub const EMPTY_ETAG: &str = "ACAB";

/// One resource's policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub version: i64,
    pub bindings: Vec<Json>,
    pub etag: String,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { version: 1, bindings: Vec::new(), etag: EMPTY_ETAG.to_string() }
    }
}

impl Policy {
    pub fn to_json(&self) -> Json {
        let mut p = json!({"version": self.version, "etag": self.etag});
        if !self.bindings.is_empty() {
            p["bindings"] = Json::Array(self.bindings.clone());
        }
        p
    }

    /// True when `member` holds `role` (unconditionally).
    pub fn has(&self, role: &str, member: &str) -> bool {
        self.bindings.iter().any(|b| {
            b["role"] == role
                && b.get("condition").is_none()
                && b["members"].as_array().is_some_and(|m| m.iter().any(|x| x == member))
        })
    }
}

/// The collection holding policies (one document per resource, id = resource name).
pub const COLLECTION: &str = "iam_policies";

fn valid_member(m: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "user:",
        "serviceAccount:",
        "group:",
        "domain:",
        "principal://",
        "principalSet://",
        "deleted:user:",
        "deleted:serviceAccount:",
        "deleted:group:",
    ];
    matches!(m, "allUsers" | "allAuthenticatedUsers")
        || PREFIXES.iter().any(|p| m.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
}

fn valid_role(r: &str) -> bool {
    let parts: Vec<&str> = r.split('/').collect();
    match parts.as_slice() {
        ["roles", name] => !name.is_empty(),
        ["projects" | "organizations", id, "roles", name] => !id.is_empty() && !name.is_empty(),
        _ => false,
    }
}

fn load(c: &Collections, resource: &str) -> Policy {
    match c.get(COLLECTION, resource) {
        Some(d) => Policy {
            version: d["version"].as_i64().unwrap_or(1),
            bindings: d["bindings"].as_array().cloned().unwrap_or_default(),
            etag: d["etag"].as_str().unwrap_or(EMPTY_ETAG).to_string(),
        },
        None => Policy::default(),
    }
}

/// The policy of a resource (`getIamPolicy`).
pub fn get(c: &Collections, resource: &str) -> Json {
    load(c, resource).to_json()
}

/// Whether `member` holds `role` on `resource`.
pub fn has(c: &Collections, resource: &str, role: &str, member: &str) -> bool {
    load(c, resource).has(role, member)
}

/// Forgets a deleted resource's policy.
pub fn remove(c: &mut Collections, resource: &str) {
    c.remove(COLLECTION, resource);
}

/// Applies a `setIamPolicy` request body (already schema-validated).
pub fn set(c: &mut Collections, resource: &str, request: &Json) -> Result<Json, ApiError> {
    let Some(policy) = request.get("policy").filter(|p| p.is_object()) else {
        return Err(ApiError::invalid_argument_field("Policy is required.", "policy"));
    };
    let current = load(c, resource);
    if let Some(etag) = policy.get("etag").and_then(Json::as_str) {
        if etag != current.etag {
            return Err(ApiError::aborted(
                "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.",
            ));
        }
    }
    let version = policy.get("version").and_then(Json::as_i64).unwrap_or(1);
    if ![0, 1, 3].contains(&version) {
        return Err(ApiError::invalid_argument(format!(
            "Invalid policy version {version}; valid versions are 0, 1 and 3."
        )));
    }
    let mut bindings: Vec<Json> = Vec::new();
    for (i, b) in policy.get("bindings").and_then(Json::as_array).cloned().unwrap_or_default().into_iter().enumerate() {
        let role = b.get("role").and_then(Json::as_str).unwrap_or("");
        if !valid_role(role) {
            return Err(ApiError::invalid_argument_field(
                format!("Role {role:?} is not a valid role name."),
                &format!("policy.bindings[{i}].role"),
            ));
        }
        let mut members: Vec<String> = Vec::new();
        for m in b.get("members").and_then(Json::as_array).cloned().unwrap_or_default() {
            let m = m.as_str().unwrap_or("").to_string();
            if !valid_member(&m) {
                return Err(ApiError::invalid_argument(format!(
                    "Invalid member '{m}' in binding for role {role}: use user:, serviceAccount:, group:, domain:, allUsers or allAuthenticatedUsers."
                )));
            }
            if !members.contains(&m) {
                members.push(m);
            }
        }
        if b.get("condition").is_some() && version < 3 {
            return Err(ApiError::invalid_argument("Policies with conditional role bindings must set version 3."));
        }
        if members.is_empty() {
            continue;
        }
        let mut nb = json!({"role": role, "members": members});
        if let Some(cond) = b.get("condition") {
            nb["condition"] = cond.clone();
        }
        bindings.push(nb);
    }
    let counter = super::next_counter(c, "iam_etag");
    let etag = STANDARD.encode([b"BwY".as_slice(), &counter.to_be_bytes()].concat());
    let p = Policy { version: if version == 0 { 1 } else { version }, bindings, etag };
    let out = p.to_json();
    let mut doc = out.clone();
    doc["resource"] = json!(resource);
    c.insert(COLLECTION, resource, doc);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_modify_write_with_etags() {
        let mut c = Collections::default();
        let r = "projects/1/secrets/s";
        assert_eq!(get(&c, r), json!({"version": 1, "etag": "ACAB"}));
        let out = set(&mut c, r, &json!({"policy": {"etag": "ACAB", "bindings": [{"role": "roles/viewer", "members": ["allUsers", "allUsers"]}]}}))
            .unwrap();
        assert_eq!(out["bindings"][0]["members"], json!(["allUsers"]));
        let e = set(&mut c, r, &json!({"policy": {"etag": "ACAB", "bindings": []}})).unwrap_err();
        assert_eq!((e.http, e.status), (409, "ABORTED"));
        let e = set(&mut c, r, &json!({"policy": {"bindings": [{"role": "viewer", "members": ["allUsers"]}]}}))
            .unwrap_err();
        assert_eq!(e.status, "INVALID_ARGUMENT");
        let e = set(&mut c, r, &json!({"policy": {"bindings": [{"role": "roles/viewer", "members": ["bob"]}]}}))
            .unwrap_err();
        assert!(e.message.contains("Invalid member"));
        assert!(has(&c, r, "roles/viewer", "allUsers"));
    }
}

//! Google resource names and the identifier formats users write: full resource names
//! (`projects/p/secrets/s`), the Terraform provider's short import forms (`p/s`, `s`), and the
//! rules for the IDs we choose (`secretId`, Cloud Run `serviceId`).
//!
//! The APIs answer with the project **number** in names even when called with the project ID,
//! so names are compared by their trailing segments ([`same_secret`], [`same_service`]), never
//! as whole strings.

/// A secret: `projects/{project}/secrets/{secret_id}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretName {
    pub project: String,
    pub secret_id: String,
}

impl SecretName {
    pub fn new(project: impl Into<String>, secret_id: impl Into<String>) -> SecretName {
        SecretName { project: project.into(), secret_id: secret_id.into() }
    }

    /// Parses `projects/{p}/secrets/{s}`, `{p}/{s}` or `{s}` (the last uses `default_project`).
    pub fn parse(input: &str, default_project: Option<&str>) -> Result<SecretName, String> {
        let parts: Vec<&str> = input.split('/').collect();
        let (project, id) = match parts.as_slice() {
            ["projects", p, "secrets", s] => (p.to_string(), s.to_string()),
            [p, s] => (p.to_string(), s.to_string()),
            [s] => match default_project {
                Some(p) => (p.to_string(), s.to_string()),
                None => {
                    return Err(format!(
                        "{input:?} names no project and the provider has no `project`; write projects/<project>/secrets/{input}"
                    ))
                }
            },
            _ => {
                return Err(format!(
                    "{input:?} is not a secret name: expected projects/<project>/secrets/<secret_id>, <project>/<secret_id> or <secret_id>"
                ))
            }
        };
        if project.is_empty() {
            return Err(format!("{input:?} has an empty project"));
        }
        check_secret_id(&id)?;
        Ok(SecretName { project, secret_id: id })
    }

    pub fn path(&self) -> String {
        format!("projects/{}/secrets/{}", self.project, self.secret_id)
    }
}

/// A secret version: `projects/{project}/secrets/{secret_id}/versions/{version}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionName {
    pub secret: SecretName,
    pub version: String,
}

impl VersionName {
    pub fn parse(input: &str) -> Result<VersionName, String> {
        match input.split('/').collect::<Vec<_>>().as_slice() {
            ["projects", p, "secrets", s, "versions", v] if !p.is_empty() && !v.is_empty() => {
                check_secret_id(s)?;
                Ok(VersionName { secret: SecretName::new(*p, *s), version: v.to_string() })
            }
            _ => Err(format!(
                "{input:?} is not a secret version name: expected projects/<project>/secrets/<secret_id>/versions/<version>"
            )),
        }
    }

    pub fn path(&self) -> String {
        format!("{}/versions/{}", self.secret.path(), self.version)
    }
}

/// A Cloud Run service: `projects/{project}/locations/{location}/services/{name}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceName {
    pub project: String,
    pub location: String,
    pub name: String,
}

impl ServiceName {
    pub fn new(project: impl Into<String>, location: impl Into<String>, name: impl Into<String>) -> ServiceName {
        ServiceName { project: project.into(), location: location.into(), name: name.into() }
    }

    /// Parses `projects/{p}/locations/{l}/services/{n}`, `{p}/{l}/{n}`, `{l}/{n}` or `{n}`
    /// (missing parts come from the defaults: the provider's `project` and `region`).
    pub fn parse(
        input: &str,
        default_project: Option<&str>,
        default_location: Option<&str>,
    ) -> Result<ServiceName, String> {
        let need = |what: &str, v: Option<&str>| {
            v.map(str::to_string).ok_or_else(|| {
                format!(
                    "{input:?} names no {what} and the provider sets none; write projects/<project>/locations/<location>/services/<name>"
                )
            })
        };
        let (p, l, n) = match input.split('/').collect::<Vec<_>>().as_slice() {
            ["projects", p, "locations", l, "services", n] => (p.to_string(), l.to_string(), n.to_string()),
            [p, l, n] => (p.to_string(), l.to_string(), n.to_string()),
            [l, n] => (need("project", default_project)?, l.to_string(), n.to_string()),
            [n] => (need("project", default_project)?, need("location", default_location)?, n.to_string()),
            _ => {
                return Err(format!(
                    "{input:?} is not a Cloud Run service name: expected projects/<project>/locations/<location>/services/<name>, \
                     <project>/<location>/<name> or <location>/<name>"
                ))
            }
        };
        if p.is_empty() || l.is_empty() {
            return Err(format!("{input:?} has an empty project or location"));
        }
        check_service_id(&n)?;
        Ok(ServiceName { project: p, location: l, name: n })
    }

    pub fn parent(&self) -> String {
        format!("projects/{}/locations/{}", self.project, self.location)
    }

    pub fn path(&self) -> String {
        format!("{}/services/{}", self.parent(), self.name)
    }
}

/// Secret Manager's `secretId` rule: 1–255 of `[A-Za-z0-9_-]`.
pub fn check_secret_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > 255 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(format!(
            "invalid secret_id {id:?}: use 1 to 255 letters, digits, `_` and `-` (Secret Manager's rule)"
        ));
    }
    Ok(())
}

/// Cloud Run's `serviceId` rule: lowercase letters, digits and hyphens, starting with a letter,
/// not ending with a hyphen, fewer than 50 characters.
pub fn check_service_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() < 50
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && !id.ends_with('-')
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        return Err(format!(
            "invalid Cloud Run service name {id:?}: use lowercase letters, digits and `-`, start with a letter, \
             do not end with `-`, fewer than 50 characters"
        ));
    }
    Ok(())
}

/// True when two secret names denote the same secret (project ID vs number ignored: the API
/// answers with the number).
pub fn same_secret(a: &str, b: &str) -> bool {
    tail(a, 2) == tail(b, 2)
}

/// True when two service names denote the same service (location and name compared).
pub fn same_service(a: &str, b: &str) -> bool {
    tail(a, 4) == tail(b, 4)
}

/// The last `n` `/`-separated segments.
pub fn tail(name: &str, n: usize) -> String {
    let parts: Vec<&str> = name.split('/').collect();
    parts[parts.len().saturating_sub(n)..].join("/")
}

/// The last segment of a resource name (`…/versions/3` → `3`).
pub fn last_segment(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_in_every_terraform_form() {
        let want = SecretName::new("p", "db-url");
        assert_eq!(SecretName::parse("projects/p/secrets/db-url", None).unwrap(), want);
        assert_eq!(SecretName::parse("p/db-url", None).unwrap(), want);
        assert_eq!(SecretName::parse("db-url", Some("p")).unwrap(), want);
        assert!(SecretName::parse("db-url", None).unwrap_err().contains("no project"));
        assert!(SecretName::parse("projects/p/secrets/bad.id", None).is_err());
        assert!(SecretName::parse("a/b/c", None).is_err());
        let v = VersionName::parse("projects/p/secrets/db-url/versions/3").unwrap();
        assert_eq!((v.secret, v.version.as_str()), (want, "3"));
        assert!(VersionName::parse("projects/p/secrets/db-url").is_err());
    }

    #[test]
    fn service_names_in_every_terraform_form() {
        let want = ServiceName::new("p", "us-central1", "api");
        assert_eq!(ServiceName::parse("projects/p/locations/us-central1/services/api", None, None).unwrap(), want);
        assert_eq!(ServiceName::parse("p/us-central1/api", None, None).unwrap(), want);
        assert_eq!(ServiceName::parse("us-central1/api", Some("p"), None).unwrap(), want);
        assert_eq!(ServiceName::parse("api", Some("p"), Some("us-central1")).unwrap(), want);
        assert!(ServiceName::parse("api", Some("p"), None).unwrap_err().contains("location"));
        assert_eq!(want.path(), "projects/p/locations/us-central1/services/api");
        for bad in ["Api", "1api", "api-", &"a".repeat(50), "a_b"] {
            assert!(check_service_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_compare_across_project_id_and_number() {
        assert!(same_secret("projects/123456/secrets/a", "projects/my-proj/secrets/a"));
        assert!(!same_secret("projects/1/secrets/a", "projects/1/secrets/b"));
        assert!(same_service("projects/42/locations/eu/services/x", "projects/p/locations/eu/services/x"));
        assert!(!same_service("projects/42/locations/us/services/x", "projects/p/locations/eu/services/x"));
        assert_eq!(last_segment("projects/1/secrets/a/versions/7"), "7");
    }
}

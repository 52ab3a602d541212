//! `local_secret`: a secret kept as a file `<root>/secrets/<name>` (mode 0600, directory
//! 0700), for services to read by path or through `env`.
//!
//! - `name` is force-new; a new `value` rewrites the file in place (atomically).
//! - `version` is the SHA-256 of the value (never the value), known at plan time, so dependents
//!   can restart on rotation without seeing the secret.
//! - `read` reports drift: a removed file means the secret is gone (re-created on apply);
//!   changed content comes back as the actual value, so the plan shows a (sensitive) change.
//! - `create` adopts an existing file holding the same value (a retried apply) and refuses to
//!   overwrite a different one.
//!
//! Import ID: `<name>` (the file under `<root>/secrets/`).

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, OpContext, PlanRequest, PlanResponse, ProviderError, ResourceSchema, ResourceType,
    Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use super::{io_err, name_attr, validate_name_attr, LocalConfig};
use crate::support::attrs::Attrs;
use crate::support::{diff, fs as sfs};

pub fn schema() -> ResourceSchema {
    let schema = Schema::new()
        .describe("A secret stored as a file readable only by the owner (mode 0600).")
        .attr(
            "name",
            AttributeSchema::required(Type::String)
                .force_new()
                .describe("Name of the secret; the file is <root>/secrets/<name>."),
        )
        .attr(
            "value",
            AttributeSchema::required(Type::String)
                .sensitive()
                .describe("The secret value. Changing it rewrites the file in place."),
        )
        .attr("path", AttributeSchema::computed(Type::String).describe("Absolute path of the secret file."))
        .attr(
            "version",
            AttributeSchema::computed(Type::String)
                .describe("SHA-256 (hex) of the value: changes whenever the value does, without revealing it."),
        )
        .attr("id", AttributeSchema::computed(Type::String).describe("The secret's name."));
    ResourceSchema { schema, version: 0, import_id: "<name>".into() }
}

pub struct Secret {
    cfg: Arc<LocalConfig>,
}

impl Secret {
    pub fn new(cfg: Arc<LocalConfig>) -> Self {
        Secret { cfg }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.cfg.secrets_dir().join(name)
    }

    fn state(&self, name: &str, value: &str) -> Value {
        Value::map([
            ("id", Value::string(name)),
            ("name", Value::string(name)),
            ("value", Value::string(value)),
            ("path", Value::string(self.file(name).to_string_lossy())),
            ("version", Value::string(sfs::sha256_hex(value.as_bytes()))),
        ])
    }

    fn write(&self, name: &str, value: &str) -> Result<(), ProviderError> {
        let dir = self.cfg.secrets_dir();
        sfs::create_dir_with_mode(&dir, 0o700).map_err(|e| io_err(format!("cannot create {}", dir.display()), e))?;
        let f = self.file(name);
        sfs::write_atomic(&f, value.as_bytes(), 0o600).map_err(|e| io_err(format!("cannot write {}", f.display()), e))
    }

    /// The file's content; `None` when it does not exist.
    fn read_file(&self, name: &str) -> Result<Option<String>, ProviderError> {
        let f = self.file(name);
        match std::fs::read(&f) {
            Ok(b) => Ok(Some(String::from_utf8_lossy(&b).into_owned())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(format!("cannot read {}", f.display()), e)),
        }
    }
}

#[async_trait]
impl ResourceType for Secret {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        validate_name_attr(config, "name")
    }

    async fn plan(&self, req: PlanRequest) -> Result<PlanResponse, ProviderError> {
        let mut planned = req.proposed;
        if let Some(name) = planned.get("name").and_then(Value::as_str).map(str::to_string) {
            diff::set(&mut planned, "id", Value::string(&name));
            diff::set(&mut planned, "path", Value::string(self.file(&name).to_string_lossy()));
        }
        let version = match planned.get("value").and_then(Value::as_str) {
            Some(v) => Value::string(sfs::sha256_hex(v.as_bytes())),
            None => Value::Unknown,
        };
        diff::set(&mut planned, "version", version);
        Ok(PlanResponse { planned, requires_replace: Vec::new() })
    }

    async fn create(&self, planned: &Value, _ctx: &OpContext) -> Result<Value, ProviderError> {
        let name = name_attr(planned, "name")?;
        let value = Attrs::new(planned).str("value")?;
        match self.read_file(name)? {
            Some(existing) if existing != value => {
                return Err(ProviderError::permanent(format!(
                    "a secret named `{name}` already exists at {} with a different value",
                    self.file(name).display()
                ))
                .with_help(format!("import it with `tenantform import <address> {name}`, or choose another name")))
            }
            _ => self.write(name, value)?,
        }
        Ok(self.state(name, value))
    }

    async fn read(&self, current: &Value, _ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        let name = name_attr(current, "name")?;
        Ok(self.read_file(name)?.map(|actual| self.state(name, &actual)))
    }

    async fn update(&self, prior: &Value, planned: &Value, _ctx: &OpContext) -> Result<Value, ProviderError> {
        let name = name_attr(planned, "name")?;
        let value = Attrs::new(planned).str("value")?;
        let on_disk = self.read_file(name)?;
        if diff::changed(prior, planned, "value") || on_disk.as_deref() != Some(value) {
            self.write(name, value)?;
        }
        Ok(self.state(name, value))
    }

    async fn delete(&self, current: &Value, _ctx: &OpContext) -> Result<(), ProviderError> {
        let name = name_attr(current, "name")?;
        let f = self.file(name);
        sfs::remove_if_exists(&f).map_err(|e| io_err(format!("cannot remove {}", f.display()), e))
    }

    async fn import(&self, id: &str, _ctx: &OpContext) -> Result<Value, ProviderError> {
        super::check_name(id).map_err(ProviderError::permanent)?;
        match self.read_file(id)? {
            Some(v) => Ok(self.state(id, &v)),
            None => Err(ProviderError::not_found(format!(
                "no secret named `{id}` (looked for {})",
                self.file(id).display()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::local::testutil::TestRoot;

    fn cfg(name: &str, value: &str) -> Value {
        Value::map([
            ("name", Value::string(name)),
            ("value", Value::string(value)),
            ("path", Value::Unknown),
            ("version", Value::Unknown),
            ("id", Value::Unknown),
        ])
    }

    #[tokio::test]
    async fn lifecycle_with_drift_and_import() {
        let root = TestRoot::new();
        let r = Secret::new(root.cfg());
        let ctx = OpContext::default();

        let plan = r
            .plan(PlanRequest { prior: None, config: cfg("db", "s3cret"), proposed: cfg("db", "s3cret") })
            .await
            .unwrap();
        let s = r.create(&plan.planned, &ctx).await.unwrap();
        assert_eq!(s, plan.planned, "the plan predicted every computed value");
        let path = PathBuf::from(s.get("path").and_then(Value::as_str).unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "s3cret");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
        assert_eq!(s.get("version"), Some(&Value::string(sfs::sha256_hex(b"s3cret"))));
        assert_eq!(r.read(&s, &ctx).await.unwrap(), Some(s.clone()));

        let u = r.update(&s, &cfg("db", "rotated"), &ctx).await.unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "rotated");
        assert_ne!(u.get("version"), s.get("version"));
        assert_eq!(r.read(&u, &ctx).await.unwrap(), Some(u.clone()));

        // Drift: someone edited the file; read shows the actual value.
        std::fs::write(&path, "tampered").unwrap();
        let drifted = r.read(&u, &ctx).await.unwrap().unwrap();
        assert_eq!(drifted.get("value"), Some(&Value::string("tampered")));
        assert_eq!(drifted.get("version"), Some(&Value::string(sfs::sha256_hex(b"tampered"))));
        // Applying the configuration again repairs it.
        let repaired = r.update(&drifted, &cfg("db", "rotated"), &ctx).await.unwrap();
        assert_eq!(repaired, u);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "rotated");

        let imported = r.import("db", &ctx).await.unwrap();
        assert_eq!(imported, u);
        assert_eq!(r.import("nope", &ctx).await.unwrap_err().kind, tenantform_engine::provider::ErrorKind::NotFound);

        // Gone: removed by hand.
        std::fs::remove_file(&path).unwrap();
        assert_eq!(r.read(&u, &ctx).await.unwrap(), None);
        r.create(&cfg("db", "rotated"), &ctx).await.unwrap();
        r.delete(&u, &ctx).await.unwrap();
        assert!(!path.exists());
        assert_eq!(r.read(&u, &ctx).await.unwrap(), None);
        r.delete(&u, &ctx).await.unwrap();
    }

    #[tokio::test]
    async fn create_adopts_same_value_and_refuses_a_different_one() {
        let root = TestRoot::new();
        let r = Secret::new(root.cfg());
        let ctx = OpContext::default();
        r.create(&cfg("k", "v1"), &ctx).await.unwrap();
        r.create(&cfg("k", "v1"), &ctx).await.unwrap();
        let e = r.create(&cfg("k", "v2"), &ctx).await.unwrap_err();
        assert!(e.summary.contains("already exists") && e.help.unwrap().contains("import"), "{}", e.summary);
        assert!(!r.validate(&cfg("../etc/passwd", "x")).is_empty());
    }
}

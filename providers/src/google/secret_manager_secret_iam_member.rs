//! `google_secret_manager_secret_iam_member`: grants one member one role on a secret, without
//! touching the policy's other bindings (non-authoritative), e.g. letting a Cloud Run service
//! account read a secret with `roles/secretmanager.secretAccessor`.
//!
//! Every attribute forces replacement. `read` reports the member gone when the binding no
//! longer holds it (someone removed it) or the secret is gone. See [`super::iam`] for the
//! read-modify-write with etags.
//!
//! Import ID (space-delimited, as in the Terraform provider):
//! `"projects/{{project}}/secrets/{{secret_id}} roles/secretmanager.secretAccessor user:jane@example.com"`.

use std::sync::Arc;

use async_trait::async_trait;
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, OpContext, PlanRequest, PlanResponse, ProviderError, ResourceSchema, ResourceType,
    Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use super::iam::{get_policy, has_member, set_member, PolicyTarget};
use super::names::SecretName;
use super::Google;
use crate::support::attrs::{path, Attrs};
use crate::support::diff;

pub fn schema() -> ResourceSchema {
    let schema = Schema::new()
        .describe("One member in one role of a secret's IAM policy (non-authoritative).")
        .attr(
            "secret_id",
            AttributeSchema::required(Type::String).force_new().describe(
                "The secret: projects/{{project}}/secrets/{{secret_id}}, {{project}}/{{secret_id}} or {{secret_id}}.",
            ),
        )
        .attr(
            "project",
            AttributeSchema::optional_computed(Type::String)
                .force_new()
                .describe("Project of the secret when secret_id is short; defaults to the provider's."),
        )
        .attr(
            "role",
            AttributeSchema::required(Type::String)
                .force_new()
                .describe("The role, e.g. \"roles/secretmanager.secretAccessor\"."),
        )
        .attr(
            "member",
            AttributeSchema::required(Type::String).force_new().describe(
                "The member: user:{email}, serviceAccount:{email}, group:{email}, domain:{domain}, allUsers or allAuthenticatedUsers.",
            ),
        )
        .attr("etag", AttributeSchema::computed(Type::String).describe("Etag of the policy after the change."))
        .attr(
            "id",
            AttributeSchema::computed(Type::String)
                .describe("projects/{{project}}/secrets/{{secret_id}}/{{role}}/{{member}}."),
        );
    ResourceSchema {
        schema,
        version: 0,
        import_id: "\"projects/{{project}}/secrets/{{secret_id}} {{role}} {{member}}\" (space-delimited)".into(),
    }
}

/// Checks a member string's form.
pub fn check_member(m: &str) -> Result<(), String> {
    const PREFIXES: &[&str] = &["user:", "serviceAccount:", "group:", "domain:", "principal://", "principalSet://"];
    if matches!(m, "allUsers" | "allAuthenticatedUsers")
        || PREFIXES.iter().any(|p| m.strip_prefix(p).is_some_and(|r| !r.is_empty()))
    {
        Ok(())
    } else {
        Err(format!(
            "invalid member {m:?}: use user:{{email}}, serviceAccount:{{email}}, group:{{email}}, domain:{{domain}}, allUsers or allAuthenticatedUsers"
        ))
    }
}

/// Checks a role's form.
pub fn check_role(r: &str) -> Result<(), String> {
    if r.starts_with("roles/") || r.contains("/roles/") {
        Ok(())
    } else {
        Err(format!("invalid role {r:?}: roles look like \"roles/secretmanager.secretAccessor\""))
    }
}

/// `validate` checks shared by the IAM member resources.
pub fn validate_member_role(config: &Value) -> Vec<ConfigProblem> {
    let mut out = Vec::new();
    if let Some(m) = config.get("member").and_then(Value::as_str) {
        if let Err(message) = check_member(m) {
            out.push(ConfigProblem { path: path("member"), message });
        }
    }
    if let Some(r) = config.get("role").and_then(Value::as_str) {
        if let Err(message) = check_role(r) {
            out.push(ConfigProblem { path: path("role"), message });
        }
    }
    out
}

pub struct SecretIamMember {
    g: Arc<Google>,
}

impl SecretIamMember {
    pub fn new(g: Arc<Google>) -> Self {
        SecretIamMember { g }
    }

    fn secret_of(&self, v: &Value) -> Result<SecretName, ProviderError> {
        let a = Attrs::new(v);
        let id = a.str("secret_id")?;
        let project = a.opt_str_computed("project")?.or(self.g.project.as_deref());
        SecretName::parse(id, project).map_err(|e| ProviderError::permanent(e).at(path("secret_id")))
    }

    fn state(&self, reference: &Value, secret: &SecretName, role: &str, member: &str, etag: Option<String>) -> Value {
        let sid = Attrs::new(reference).raw("secret_id");
        Value::map([
            ("secret_id", if sid.is_null() { Value::string(secret.path()) } else { sid }),
            ("project", Value::string(&secret.project)),
            ("role", Value::string(role)),
            ("member", Value::string(member)),
            ("etag", etag.map(Value::string).unwrap_or(Value::Null)),
            ("id", Value::string(format!("{}/{role}/{member}", secret.path()))),
        ])
    }

    fn target(&self, s: &SecretName) -> PolicyTarget<'_> {
        PolicyTarget { client: &self.g.secrets, resource: format!("/{}", s.path()) }
    }
}

#[async_trait]
impl ResourceType for SecretIamMember {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        validate_member_role(config)
    }

    async fn plan(&self, req: PlanRequest) -> Result<PlanResponse, ProviderError> {
        let mut planned = req.proposed;
        if let Ok(s) = self.secret_of(&planned) {
            diff::set(&mut planned, "project", Value::string(&s.project));
            if let (Some(r), Some(m)) =
                (planned.get("role").and_then(Value::as_str), planned.get("member").and_then(Value::as_str))
            {
                let id = format!("{}/{r}/{m}", s.path());
                diff::set(&mut planned, "id", Value::string(id));
            }
        }
        Ok(PlanResponse { planned, requires_replace: Vec::new() })
    }

    async fn create(&self, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let s = self.secret_of(planned)?;
        let a = Attrs::new(planned);
        let (role, member) = (a.str("role")?, a.str("member")?);
        check_member(member).map_err(|e| ProviderError::permanent(e).at(path("member")))?;
        let etag =
            set_member(&self.g, ctx, &self.target(&s), role, member, true, &format!("secret {}", s.path())).await?;
        Ok(self.state(planned, &s, role, member, etag))
    }

    async fn read(&self, current: &Value, ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        let s = self.secret_of(current)?;
        let a = Attrs::new(current);
        let (role, member) = (a.str("role")?, a.str("member")?);
        let Some(policy) = get_policy(ctx, &self.target(&s)).await? else { return Ok(None) };
        if !has_member(&policy, role, member) {
            return Ok(None);
        }
        let etag = policy.get("etag").and_then(serde_json::Value::as_str).map(str::to_string);
        Ok(Some(self.state(current, &s, role, member, etag)))
    }

    async fn update(&self, _prior: &Value, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        // Every attribute forces replacement; nothing changes in place.
        self.read(planned, ctx).await?.ok_or_else(|| ProviderError::not_found("the IAM member no longer exists"))
    }

    async fn delete(&self, current: &Value, ctx: &OpContext) -> Result<(), ProviderError> {
        let s = self.secret_of(current)?;
        let a = Attrs::new(current);
        set_member(
            &self.g,
            ctx,
            &self.target(&s),
            a.str("role")?,
            a.str("member")?,
            false,
            &format!("secret {}", s.path()),
        )
        .await?;
        Ok(())
    }

    async fn import(&self, id: &str, ctx: &OpContext) -> Result<Value, ProviderError> {
        let parts: Vec<&str> = id.split_whitespace().collect();
        let [resource, role, member] = parts.as_slice() else {
            return Err(ProviderError::permanent(format!(
                "import ID {id:?} must be \"projects/<project>/secrets/<secret_id> <role> <member>\" (space-delimited)"
            )));
        };
        let s = SecretName::parse(resource, self.g.project.as_deref()).map_err(ProviderError::permanent)?;
        let v = Value::map([
            ("secret_id", Value::string(s.path())),
            ("project", Value::string(&s.project)),
            ("role", Value::string(*role)),
            ("member", Value::string(*member)),
        ]);
        self.read(&v, ctx)
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("{member} does not hold {role} on secret {}", s.path())))
    }
}

//! `google_cloud_run_v2_service_iam_member`: grants one member one role on a Cloud Run service
//! without touching its other bindings — typically `roles/run.invoker` for `allUsers` to make
//! a service public.
//!
//! Every attribute forces replacement; `read` reports the member gone when the binding no
//! longer holds it or the service is gone. See [`super::iam`] for the read-modify-write.
//!
//! Import ID (space-delimited, as in the Terraform provider):
//! `"projects/{{project}}/locations/{{location}}/services/{{name}} roles/run.invoker allUsers"`.

use std::sync::Arc;

use async_trait::async_trait;
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, OpContext, PlanRequest, PlanResponse, ProviderError, ResourceSchema, ResourceType,
    Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use super::iam::{get_policy, has_member, set_member, PolicyTarget};
use super::names::ServiceName;
use super::secret_manager_secret_iam_member::{check_member, validate_member_role};
use super::Google;
use crate::support::attrs::{path, Attrs};
use crate::support::diff;

pub fn schema() -> ResourceSchema {
    let schema = Schema::new()
        .describe("One member in one role of a Cloud Run service's IAM policy (non-authoritative).")
        .attr(
            "name",
            AttributeSchema::required(Type::String).force_new().describe(
                "The service: its name, or projects/{{project}}/locations/{{location}}/services/{{name}} (the service's id).",
            ),
        )
        .attr(
            "location",
            AttributeSchema::optional_computed(Type::String)
                .force_new()
                .describe("Region of the service when name is short; defaults to the provider's region."),
        )
        .attr(
            "project",
            AttributeSchema::optional_computed(Type::String)
                .force_new()
                .describe("Project of the service when name is short; defaults to the provider's project."),
        )
        .attr("role", AttributeSchema::required(Type::String).force_new().describe("The role, e.g. \"roles/run.invoker\"."))
        .attr(
            "member",
            AttributeSchema::required(Type::String)
                .force_new()
                .describe("The member, e.g. \"allUsers\" or \"serviceAccount:{email}\"."),
        )
        .attr("etag", AttributeSchema::computed(Type::String).describe("Etag of the policy after the change."))
        .attr(
            "id",
            AttributeSchema::computed(Type::String)
                .describe("projects/{{project}}/locations/{{location}}/services/{{name}}/{{role}}/{{member}}."),
        );
    ResourceSchema {
        schema,
        version: 0,
        import_id:
            "\"projects/{{project}}/locations/{{location}}/services/{{name}} {{role}} {{member}}\" (space-delimited)"
                .into(),
    }
}

pub struct ServiceIamMember {
    g: Arc<Google>,
}

impl ServiceIamMember {
    pub fn new(g: Arc<Google>) -> Self {
        ServiceIamMember { g }
    }

    fn service_of(&self, v: &Value) -> Result<ServiceName, ProviderError> {
        let a = Attrs::new(v);
        let name = a.str("name")?;
        let project = a.opt_str_computed("project")?.or(self.g.project.as_deref());
        let location = a.opt_str_computed("location")?.or(self.g.region.as_deref());
        ServiceName::parse(name, project, location).map_err(|e| ProviderError::permanent(e).at(path("name")))
    }

    fn state(&self, reference: &Value, s: &ServiceName, role: &str, member: &str, etag: Option<String>) -> Value {
        let n = Attrs::new(reference).raw("name");
        Value::map([
            ("name", if n.is_null() { Value::string(s.path()) } else { n }),
            ("location", Value::string(&s.location)),
            ("project", Value::string(&s.project)),
            ("role", Value::string(role)),
            ("member", Value::string(member)),
            ("etag", etag.map(Value::string).unwrap_or(Value::Null)),
            ("id", Value::string(format!("{}/{role}/{member}", s.path()))),
        ])
    }

    fn target(&self, s: &ServiceName) -> PolicyTarget<'_> {
        PolicyTarget { client: &self.g.run, resource: format!("/{}", s.path()) }
    }
}

#[async_trait]
impl ResourceType for ServiceIamMember {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        validate_member_role(config)
    }

    async fn plan(&self, req: PlanRequest) -> Result<PlanResponse, ProviderError> {
        let mut planned = req.proposed;
        if let Ok(s) = self.service_of(&planned) {
            diff::set(&mut planned, "project", Value::string(&s.project));
            diff::set(&mut planned, "location", Value::string(&s.location));
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
        let s = self.service_of(planned)?;
        let a = Attrs::new(planned);
        let (role, member) = (a.str("role")?, a.str("member")?);
        check_member(member).map_err(|e| ProviderError::permanent(e).at(path("member")))?;
        let what = format!("Cloud Run service {}", s.path());
        let etag = set_member(&self.g, ctx, &self.target(&s), role, member, true, &what).await?;
        Ok(self.state(planned, &s, role, member, etag))
    }

    async fn read(&self, current: &Value, ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        let s = self.service_of(current)?;
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
        self.read(planned, ctx).await?.ok_or_else(|| ProviderError::not_found("the IAM member no longer exists"))
    }

    async fn delete(&self, current: &Value, ctx: &OpContext) -> Result<(), ProviderError> {
        let s = self.service_of(current)?;
        let a = Attrs::new(current);
        let what = format!("Cloud Run service {}", s.path());
        set_member(&self.g, ctx, &self.target(&s), a.str("role")?, a.str("member")?, false, &what).await?;
        Ok(())
    }

    async fn import(&self, id: &str, ctx: &OpContext) -> Result<Value, ProviderError> {
        let parts: Vec<&str> = id.split_whitespace().collect();
        let [resource, role, member] = parts.as_slice() else {
            return Err(ProviderError::permanent(format!(
                "import ID {id:?} must be \"projects/<project>/locations/<location>/services/<name> <role> <member>\" (space-delimited)"
            )));
        };
        let s = ServiceName::parse(resource, self.g.project.as_deref(), self.g.region.as_deref())
            .map_err(ProviderError::permanent)?;
        let v = Value::map([
            ("name", Value::string(s.path())),
            ("project", Value::string(&s.project)),
            ("location", Value::string(&s.location)),
            ("role", Value::string(*role)),
            ("member", Value::string(*member)),
        ]);
        self.read(&v, ctx).await?.ok_or_else(|| {
            ProviderError::not_found(format!("{member} does not hold {role} on Cloud Run service {}", s.path()))
        })
    }
}

//! `google_cloud_run_v2_service`: a Cloud Run service through the Admin API v2, with the
//! Terraform provider's attribute names and the v2 body shape (`template.containers[]`,
//! `valueSource.secretKeyRef`, `scaling.maxInstanceCount`, …; never the v1 Knative
//! `spec`/`metadata` shape).
//!
//! - `name`, `location` and `project` force replacement; everything else updates in place with
//!   a PATCH of the full service (Cloud Run then rolls out a new revision).
//! - Create, update and delete return long-running operations, polled until `done`; a create
//!   or update then reads the service and requires `terminalCondition.state ==
//!   CONDITION_SUCCEEDED` (otherwise the error carries the condition's message, e.g. an image
//!   that does not exist). The whole operation is bounded by `timeouts { create | update |
//!   delete }` (default 20m).
//! - Create passes `serviceId` (without it the API invents a random name). On 409
//!   `ALREADY_EXISTS` the service is read back and adopted when everything we send matches
//!   (server defaults aside), waiting for a rollout still in progress; otherwise the error
//!   explains how to import it, naming the fields that differ.
//! - A rollout that fails after the service exists (the operation ends with an error, or the
//!   service's `terminalCondition` is not `CONDITION_SUCCEEDED`) returns the error with the
//!   service as a partial object: the engine keeps it as tainted and replaces it next time.
//! - An interrupted create is recovered by name: the service is adopted when it holds what
//!   the create sent; otherwise the recovery says it cannot tell and how to import it.
//! - Google answers in proto3 JSON, which omits default values: a field the answer leaves out
//!   reads as the default the configuration holds (`min_instance_count = 0` does not diff).
//! - Server defaults the user did not configure (ports, resources, revision scaling, traffic)
//!   stay out of the state, so they never show as a diff; whatever the user did configure is
//!   compared on every refresh (drift).
//! - `deletion_protection` (default true, as in the Terraform provider 6.x) makes destroy fail
//!   until it is set to false.
//!
//! Import IDs: `projects/{{project}}/locations/{{location}}/services/{{name}}`,
//! `{{project}}/{{location}}/{{name}}`, `{{location}}/{{name}}`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value as Json;
use tenantform_engine::provider::{
    AttributeSchema, BlockSchema, ConfigProblem, Nesting, OpContext, PlanRequest, PlanResponse, ProviderError,
    Recovery, ResourceSchema, ResourceType, Schema,
};
use tenantform_engine::types::{ObjectAttr, Type};
use tenantform_engine::value::{PathStep, Value};

use super::convert;
use super::names::{check_service_id, ServiceName};
use super::{already_exists, found, json_differences, within, Google, DEFAULT_TIMEOUT};
use crate::http::{poll_until, ApiRequest, PollOptions, PollStatus};
use crate::support::attrs::{path, Attrs};
use crate::support::{diff, timeouts};

/// Attributes and blocks that are not Service fields.
const NOT_IN_BODY: &[&str] = &["name", "location", "project", "deletion_protection", "timeouts", "id"];
/// Blocks the API fills with defaults when absent; kept out of the state unless configured.
const SERVER_DEFAULTED: &[&[&str]] = &[
    &["scaling"],
    &["traffic"],
    &["binary_authorization"],
    &["template", "scaling"],
    &["template", "containers", "resources"],
    &["template", "containers", "ports"],
];
/// Computed attributes that change with every rollout.
const ROLLOUT_COMPUTED: &[&str] = &[
    "generation",
    "observed_generation",
    "etag",
    "update_time",
    "last_modifier",
    "latest_ready_revision",
    "latest_created_revision",
    "terminal_condition",
    "conditions",
    "traffic_statuses",
    "reconciling",
];

fn list(schema: Schema) -> BlockSchema {
    BlockSchema { nesting: Nesting::List, schema, min_items: 0, max_items: None, force_new: false }
}
fn single(schema: Schema) -> BlockSchema {
    BlockSchema { nesting: Nesting::Single, schema, min_items: 0, max_items: Some(1), force_new: false }
}
fn s(d: &str) -> AttributeSchema {
    AttributeSchema::optional(Type::String).describe(d)
}
fn sc(d: &str) -> AttributeSchema {
    AttributeSchema::optional_computed(Type::String).describe(d)
}
fn n(d: &str) -> AttributeSchema {
    AttributeSchema::optional(Type::Number).describe(d)
}
fn nc(d: &str) -> AttributeSchema {
    AttributeSchema::optional_computed(Type::Number).describe(d)
}
fn b(d: &str) -> AttributeSchema {
    AttributeSchema::optional(Type::Bool).describe(d)
}
fn strings(d: &str) -> AttributeSchema {
    AttributeSchema::optional(Type::List(Box::new(Type::String))).describe(d)
}
fn smap(d: &str) -> AttributeSchema {
    AttributeSchema::optional(Type::Map(Box::new(Type::String))).describe(d)
}

fn condition_type() -> Type {
    let f = |t: Type| ObjectAttr::optional(t, None);
    Type::Object(BTreeMap::from([
        ("type".to_string(), f(Type::String)),
        ("state".to_string(), f(Type::String)),
        ("message".to_string(), f(Type::String)),
        ("last_transition_time".to_string(), f(Type::String)),
        ("severity".to_string(), f(Type::String)),
        ("reason".to_string(), f(Type::String)),
        ("revision_reason".to_string(), f(Type::String)),
        ("execution_reason".to_string(), f(Type::String)),
    ]))
}

fn traffic_status_type() -> Type {
    let f = |t: Type| ObjectAttr::optional(t, None);
    Type::Object(BTreeMap::from([
        ("type".to_string(), f(Type::String)),
        ("revision".to_string(), f(Type::String)),
        ("percent".to_string(), f(Type::Number)),
        ("tag".to_string(), f(Type::String)),
        ("uri".to_string(), f(Type::String)),
    ]))
}

fn container_schema() -> Schema {
    let secret_key_ref = Schema::new()
        .attr(
            "secret",
            AttributeSchema::required(Type::String).describe(
                "The secret: {{secret_id}} in the same project, or projects/{{project}}/secrets/{{secret_id}}.",
            ),
        )
        .attr("version", s("\"latest\" or a version number. Default: the API's (latest)."));
    let env = Schema::new()
        .attr("name", AttributeSchema::required(Type::String).describe("Name of the environment variable."))
        .attr("value", s("Literal value. Conflicts with value_source."))
        .block("value_source", single(Schema::new().block("secret_key_ref", single(secret_key_ref))));
    let resources = Schema::new()
        .attr(
            "limits",
            AttributeSchema::optional_computed(Type::Map(Box::new(Type::String)))
                .describe("Only cpu and memory, e.g. { cpu = \"1\", memory = \"512Mi\" }. Default from the API."),
        )
        .attr(
            "cpu_idle",
            AttributeSchema::optional_computed(Type::Bool)
                .describe("CPU only allocated during requests (true) or always (false). Default from the API (true)."),
        )
        .attr("startup_cpu_boost", b("Extra CPU while an instance starts."));
    let ports = Schema::new()
        .attr("name", sc("Protocol: \"http1\" or \"h2c\". Default from the API (http1)."))
        .attr("container_port", nc("Port the container listens on (1–65535). Default from the API (8080)."));
    let volume_mounts = Schema::new()
        .attr("name", AttributeSchema::required(Type::String).describe("Name of a volume of the template."))
        .attr(
            "mount_path",
            AttributeSchema::required(Type::String).describe("Where the volume appears in the container."),
        );
    Schema::new()
        .attr("name", sc("Name of the container (a DNS label)."))
        .attr(
            "image",
            AttributeSchema::required(Type::String)
                .describe("Container image, e.g. us-docker.pkg.dev/cloudrun/container/hello."),
        )
        .attr("command", strings("Entrypoint; the image's ENTRYPOINT when unset."))
        .attr("args", strings("Arguments; the image's CMD when unset."))
        .attr("working_dir", s("Working directory; the image's when unset."))
        .attr("depends_on", strings("Names of containers that must start first."))
        .block("env", list(env))
        .block("resources", single(resources))
        .block("ports", BlockSchema { max_items: Some(1), ..list(ports) })
        .block("volume_mounts", list(volume_mounts))
}

fn template_schema() -> Schema {
    let scaling = Schema::new()
        .attr("min_instance_count", nc("Minimum number of instances (default 0)."))
        .attr("max_instance_count", nc("Maximum number of instances. Default from the API (100)."));
    let vpc = Schema::new()
        .attr(
            "connector",
            s("Serverless VPC Access connector: projects/{{project}}/locations/{{location}}/connectors/{{connector}}."),
        )
        .attr("egress", s("ALL_TRAFFIC or PRIVATE_RANGES_ONLY."));
    let secret_items = Schema::new()
        .attr("path", AttributeSchema::required(Type::String).describe("File name relative to the mount path."))
        .attr("version", s("\"latest\" or a version number."))
        .attr("mode", n("File mode bits (e.g. 256 for 0400)."));
    let secret_volume = Schema::new()
        .attr(
            "secret",
            AttributeSchema::required(Type::String)
                .describe("The secret: {{secret_id}} or projects/{{project}}/secrets/{{secret_id}}."),
        )
        .attr("default_mode", n("Default file mode bits."))
        .block("items", list(secret_items));
    let volumes = Schema::new()
        .attr("name", AttributeSchema::required(Type::String).describe("Volume name, referenced by volume_mounts."))
        .block("secret", single(secret_volume))
        .block(
            "cloud_sql_instance",
            single(Schema::new().attr("instances", strings("Cloud SQL connection names (project:region:instance)."))),
        )
        .block(
            "empty_dir",
            single(
                Schema::new()
                    .attr("medium", s("MEMORY (the only medium Cloud Run offers)."))
                    .attr("size_limit", s("Size limit, e.g. \"256Mi\".")),
            ),
        );
    Schema::new()
        .attr("revision", s("Name of the revision to create; generated when unset."))
        .attr("labels", smap("Labels of the revisions."))
        .attr("annotations", smap("Annotations of the revisions (not in the run.googleapis.com namespaces)."))
        .attr("timeout", sc("Request timeout, e.g. \"300s\" (at most 3600s). Default from the API (300s)."))
        .attr(
            "service_account",
            sc("Service account the revisions run as. Default: the project's default compute account."),
        )
        .attr("execution_environment", s("EXECUTION_ENVIRONMENT_GEN1 or EXECUTION_ENVIRONMENT_GEN2."))
        .attr("encryption_key", s("Cloud KMS key encrypting the image."))
        .attr(
            "max_instance_request_concurrency",
            nc("Requests an instance serves at once. Default from the API (80 with 1 CPU or more)."),
        )
        .attr("session_affinity", b("Route a client's requests to the same instance."))
        .block("scaling", single(scaling))
        .block("vpc_access", single(vpc))
        .block("containers", BlockSchema { min_items: 1, ..list(container_schema()) })
        .block("volumes", list(volumes))
}

pub fn schema() -> ResourceSchema {
    let traffic = Schema::new()
        .attr("type", sc("TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST or TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION."))
        .attr("revision", s("Revision receiving this share (with type …_REVISION)."))
        .attr("percent", nc("Share of traffic (percentages add up to 100)."))
        .attr("tag", s("Tag giving the target its own URL."));
    let binauthz = Schema::new()
        .attr("use_default", b("Use the default Binary Authorization policy."))
        .attr("policy", s("Binary Authorization policy name."))
        .attr("breakglass_justification", s("Why the policy is bypassed."));
    let service_scaling = Schema::new()
        .attr("min_instance_count", n("Minimum instances across the service's revisions."))
        .attr("manual_instance_count", n("Instances when scaling_mode is MANUAL."))
        .attr("scaling_mode", s("AUTOMATIC or MANUAL."));
    let computed = |t: Type, d: &str| AttributeSchema::computed(t).describe(d);
    let schema = Schema::new()
        .describe("A Cloud Run service (Admin API v2).")
        .attr(
            "name",
            AttributeSchema::required(Type::String)
                .force_new()
                .describe("The service's name: lowercase letters, digits and `-`, starting with a letter, fewer than 50 characters."),
        )
        .attr("location", AttributeSchema::required(Type::String).force_new().describe("Region, e.g. \"us-central1\"."))
        .attr(
            "project",
            AttributeSchema::optional_computed(Type::String).force_new().describe("Project ID; defaults to the provider's."),
        )
        .attr("description", s("Description (at most 512 characters)."))
        .attr("labels", smap("Labels of the service."))
        .attr("annotations", smap("Annotations (not in the run.googleapis.com, cloud.googleapis.com, serving.knative.dev or autoscaling.knative.dev namespaces)."))
        .attr("client", s("Identifier of the client tool."))
        .attr("client_version", s("Version of the client tool."))
        .attr(
            "ingress",
            sc("INGRESS_TRAFFIC_ALL, INGRESS_TRAFFIC_INTERNAL_ONLY or INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER. Default from the API (ALL)."),
        )
        .attr("launch_stage", sc("Launch stage of features used (GA, BETA, ALPHA). Default from the API (GA)."))
        .attr("custom_audiences", strings("Extra audiences accepted in ID tokens."))
        .attr("default_uri_disabled", b("Disables the default run.app URL."))
        .attr("invoker_iam_disabled", b("Lets anyone invoke the service without an IAM check."))
        .attr(
            "deletion_protection",
            AttributeSchema::optional(Type::Bool)
                .default(Value::Bool(true))
                .from_config_on_import()
                .describe("When true (the default, as in the Terraform provider), destroying the service fails."),
        )
        .attr("id", computed(Type::String, "projects/{{project}}/locations/{{location}}/services/{{name}}."))
        .attr("uid", computed(Type::String, "Server-assigned unique ID."))
        .attr("generation", computed(Type::String, "Generation of the desired state (int64 as a string)."))
        .attr("observed_generation", computed(Type::String, "Generation currently serving (int64 as a string)."))
        .attr("create_time", computed(Type::String, "When the service was created."))
        .attr("update_time", computed(Type::String, "When the service was last changed."))
        .attr("creator", computed(Type::String, "Who created the service."))
        .attr("last_modifier", computed(Type::String, "Who changed it last."))
        .attr("etag", computed(Type::String, "Fingerprint of the current state."))
        .attr("reconciling", computed(Type::Bool, "True while a rollout is in progress."))
        .attr("uri", computed(Type::String, "The main URL serving the service."))
        .attr("urls", computed(Type::List(Box::new(Type::String)), "Every URL serving the service."))
        .attr("latest_ready_revision", computed(Type::String, "Name of the latest revision serving traffic."))
        .attr("latest_created_revision", computed(Type::String, "Name of the latest revision created."))
        .attr(
            "terminal_condition",
            computed(Type::List(Box::new(condition_type())), "The service's readiness (one element): type, state, message, …"),
        )
        .attr("conditions", computed(Type::List(Box::new(condition_type())), "Conditions of the sub-resources."))
        .attr(
            "traffic_statuses",
            computed(Type::List(Box::new(traffic_status_type())), "Where traffic actually goes: type, revision, percent, tag, uri."),
        )
        .block("template", BlockSchema { min_items: 1, ..single(template_schema()) })
        .block("traffic", list(traffic))
        .block("binary_authorization", single(binauthz))
        .block("scaling", single(service_scaling))
        .block("timeouts", timeouts::block(&["create", "update", "delete"]));
    ResourceSchema {
        schema,
        version: 0,
        import_id: "projects/{{project}}/locations/{{location}}/services/{{name}} | {{project}}/{{location}}/{{name}} | {{location}}/{{name}}"
            .into(),
    }
}

pub struct Service {
    g: Arc<Google>,
    schema: Schema,
}

fn cond_list(j: Option<&Json>) -> Value {
    match j {
        Some(Json::Object(_)) => Value::List(vec![convert::json_to_value(j.unwrap_or(&Json::Null), &condition_type())]),
        Some(Json::Array(items)) => {
            Value::List(items.iter().map(|c| convert::json_to_value(c, &condition_type())).collect())
        }
        _ => Value::List(Vec::new()),
    }
}

impl Service {
    pub fn new(g: Arc<Google>) -> Self {
        Service { g, schema: schema().schema }
    }

    fn name_of(&self, v: &Value) -> Result<ServiceName, ProviderError> {
        let a = Attrs::new(v);
        let name = a.str("name")?;
        check_service_id(name).map_err(|e| ProviderError::permanent(e).at(path("name")))?;
        Ok(ServiceName::new(self.g.project_of(v)?, a.str("location")?, name))
    }

    fn body(&self, v: &Value) -> Json {
        convert::to_api(&self.schema, v, &[], NOT_IN_BODY)
    }

    /// The state for a Service answer, shaped like `reference` (the plan or prior state):
    /// server-defaulted blocks the user did not configure stay out.
    fn state(&self, name: &ServiceName, api: &Json, reference: &Value) -> Value {
        let mut v = convert::from_api_with(&self.schema, api, &[], reference);
        convert::drop_unconfigured_blocks(&self.schema, &mut v, reference, SERVER_DEFAULTED);
        let r = Attrs::new(reference);
        diff::set(&mut v, "name", Value::string(&name.name));
        diff::set(&mut v, "location", Value::string(&name.location));
        diff::set(&mut v, "project", Value::string(&name.project));
        diff::set(&mut v, "id", Value::string(name.path()));
        let dp = r.raw("deletion_protection");
        diff::set(&mut v, "deletion_protection", if dp.is_null() { Value::Bool(true) } else { dp });
        diff::set(&mut v, "timeouts", r.raw("timeouts"));
        diff::set(&mut v, "terminal_condition", cond_list(api.get("terminalCondition")));
        diff::set(&mut v, "conditions", cond_list(api.get("conditions")));
        let statuses = api.get("trafficStatuses").and_then(Json::as_array).cloned().unwrap_or_default();
        let statuses = statuses.iter().map(|t| convert::json_to_value(t, &traffic_status_type())).collect();
        diff::set(&mut v, "traffic_statuses", Value::List(statuses));
        if v.get("reconciling").is_some_and(Value::is_null) {
            diff::set(&mut v, "reconciling", Value::Bool(false));
        }
        for m in ["labels", "annotations"] {
            if v.get(m).is_some_and(Value::is_null) && r.raw(m).as_map().is_some_and(|m| m.is_empty()) {
                diff::set(&mut v, m, Value::Map(Default::default()));
            }
        }
        v
    }

    async fn get(&self, ctx: &OpContext, name: &ServiceName) -> Result<Option<Json>, ProviderError> {
        found(self.g.run.json::<Json>(ctx, ApiRequest::get(format!("/{}", name.path()))).await)
    }

    /// Reads the service after an operation and requires it to be ready.
    async fn ready(&self, ctx: &OpContext, name: &ServiceName, limit: Duration) -> Result<Json, ProviderError> {
        let opts = PollOptions::new(format!("Cloud Run service {} to become ready", name.path()), limit)
            .intervals(self.g.poll_initial, Duration::from_secs(10));
        poll_until(ctx, &opts, || async {
            let svc = self
                .get(ctx, name)
                .await?
                .ok_or_else(|| ProviderError::not_found(format!("Cloud Run service {} disappeared", name.path())))?;
            let state = svc.pointer("/terminalCondition/state").and_then(Json::as_str).unwrap_or("STATE_UNSPECIFIED");
            if svc.get("reconciling").and_then(Json::as_bool).unwrap_or(false) {
                return Ok(PollStatus::Pending(format!("reconciling ({state})")));
            }
            match state {
                "CONDITION_SUCCEEDED" => Ok(PollStatus::Done(svc)),
                "CONDITION_PENDING" | "CONDITION_RECONCILING" => Ok(PollStatus::Pending(state.to_string())),
                _ => {
                    let message =
                        svc.pointer("/terminalCondition/message").and_then(Json::as_str).unwrap_or("(no message)");
                    Err(ProviderError::permanent(format!("Cloud Run service {} is not ready: {message}", name.path()))
                        .with_detail(format!("terminalCondition.state = {state}"))
                        .with_help(
                            "fix the template (image, port, secrets, service account permissions) and apply again",
                        ))
                }
            }
        })
        .await
    }

    /// Waits for an operation, then for the service to be ready. A failed operation's message
    /// is kept, with the service's condition when it says more.
    async fn finish(
        &self,
        ctx: &OpContext,
        name: &ServiceName,
        op: &Json,
        limit: Duration,
    ) -> Result<Json, ProviderError> {
        let started = tokio::time::Instant::now();
        if let Err(e) = self.g.wait_operation(ctx, op, limit).await {
            if e.kind == tenantform_engine::provider::ErrorKind::Permanent
                && e.summary.starts_with("Cloud Run operation failed")
            {
                return Err(e.with_help(
                    "the service exists but its latest revision is not serving; fix the template and apply again",
                ));
            }
            return Err(e);
        }
        self.ready(ctx, name, limit.saturating_sub(started.elapsed())).await
    }

    async fn create_inner(&self, planned: &Value, ctx: &OpContext, limit: Duration) -> Result<Value, ProviderError> {
        let name = self.name_of(planned)?;
        let body = self.body(planned);
        let req = ApiRequest::post(format!("/{}/services", name.parent()))
            .query("serviceId", &name.name)
            .json(body.clone())
            // A replay after a lost answer gets ALREADY_EXISTS, adopted below.
            .idempotent(true);
        let svc = match self.g.run.json::<Json>(ctx, req).await {
            Ok(op) => self.finish(ctx, &name, &op, limit).await,
            Err(e) if already_exists(&e) => {
                let existing = self.get(ctx, &name).await?.ok_or_else(|| e.error.clone())?;
                let diffs = json_differences(&body, &existing);
                if !diffs.is_empty() {
                    return Err(ProviderError::permanent(format!(
                        "Cloud Run service {} already exists with a different configuration",
                        name.path()
                    ))
                    .with_detail(diffs.join("; "))
                    .with_help(format!(
                        "import it with `tenantform import <address> {}`, or choose another name",
                        name.path()
                    )));
                }
                tracing::info!(service = %name.path(), "service already existed with the requested settings; adopting it");
                self.ready(ctx, &name, limit).await
            }
            Err(e) => return Err(e.error),
        };
        match svc {
            Ok(svc) => Ok(self.state(&name, &svc, planned)),
            // The service exists but its rollout failed (a terminal condition, a failed
            // operation): hand it back as partial, so the engine keeps it as tainted.
            Err(e) if e.kind == tenantform_engine::provider::ErrorKind::Permanent => match self.get(ctx, &name).await {
                Ok(Some(svc)) => Err(e.with_partial(self.state(&name, &svc, planned))),
                _ => Err(e),
            },
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl ResourceType for Service {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        let mut out = timeouts::validate(config);
        if let Some(n) = config.get("name").and_then(Value::as_str) {
            if let Err(message) = check_service_id(n) {
                out.push(ConfigProblem { path: path("name"), message });
            }
        }
        let containers =
            config.get("template").and_then(|t| t.get("containers")).and_then(Value::as_list).unwrap_or(&[]);
        for (i, c) in containers.iter().enumerate() {
            for (j, e) in c.get("env").and_then(Value::as_list).unwrap_or(&[]).iter().enumerate() {
                let has_value = e.get("value").is_some_and(|v| !v.is_null());
                let has_source = e.get("value_source").is_some_and(|v| !v.is_null());
                if has_value && has_source {
                    out.push(ConfigProblem {
                        path: vec![
                            PathStep::Key("template".into()),
                            PathStep::Key("containers".into()),
                            PathStep::Index(i),
                            PathStep::Key("env".into()),
                            PathStep::Index(j),
                        ],
                        message: "set either `value` or `value_source`, not both".into(),
                    });
                }
            }
        }
        out
    }

    async fn plan(&self, req: PlanRequest) -> Result<PlanResponse, ProviderError> {
        let mut planned = req.proposed;
        if planned.get("project").is_none_or(|p| p.is_null() || p.is_unknown()) {
            if let Some(p) = &self.g.project {
                diff::set(&mut planned, "project", Value::string(p));
            }
        }
        if let (Some(p), Some(l), Some(n)) = (
            planned.get("project").and_then(Value::as_str),
            planned.get("location").and_then(Value::as_str),
            planned.get("name").and_then(Value::as_str),
        ) {
            let id = ServiceName::new(p, l, n).path();
            diff::set(&mut planned, "id", Value::string(id));
        }
        if let Some(prior) = &req.prior {
            convert::keep_unconfigured_blocks(&self.schema, &mut planned, &req.config, prior, SERVER_DEFAULTED);
            let spec = tenantform_engine::plan::diff::changed_paths(&self.schema, prior, &planned);
            let local_only = |p: &Vec<PathStep>| matches!(p.first(), Some(PathStep::Key(k)) if k == "timeouts" || k == "deletion_protection");
            let spec_changed = spec.iter().any(|p| {
                !local_only(p)
                    && !matches!(p.first(), Some(PathStep::Key(k)) if self.schema.attributes.get(k).is_some_and(|a| a.kind == tenantform_engine::provider::AttrKind::Computed))
            });
            if spec_changed {
                diff::mark_unknown(&mut planned, ROLLOUT_COMPUTED);
            }
        }
        Ok(PlanResponse { planned, requires_replace: Vec::new() })
    }

    async fn create(&self, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let limit = timeouts::for_op(planned, "create", ctx, DEFAULT_TIMEOUT)?;
        within(limit, "create", "creating the Cloud Run service", self.create_inner(planned, ctx, limit)).await
    }

    async fn recover(&self, planned: &Value, ctx: &OpContext) -> Result<Recovery, ProviderError> {
        // The service name is ours (`serviceId`): read it back, and adopt it only when it holds
        // what the create sent (server defaults and proto3's omitted defaults aside).
        let name = self.name_of(planned)?;
        let Some(existing) = self.get(ctx, &name).await? else { return Ok(Recovery::NotMade) };
        let diffs = json_differences(&self.body(planned), &existing);
        if diffs.is_empty() {
            return Ok(Recovery::Found(self.state(&name, &existing, planned)));
        }
        Ok(Recovery::Unknown {
            reason: format!(
                "Cloud Run service {} exists with another configuration than this resource's ({}); import it \
                 with `tenantform import <address> {}` if the interrupted create made it",
                name.path(),
                diffs.join("; "),
                name.path()
            ),
        })
    }

    async fn read(&self, current: &Value, ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        let name = self.name_of(current)?;
        Ok(self.get(ctx, &name).await?.map(|s| self.state(&name, &s, current)))
    }

    async fn update(&self, prior: &Value, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let name = self.name_of(planned)?;
        let limit = timeouts::for_op(planned, "update", ctx, DEFAULT_TIMEOUT)?;
        let before = self.body(prior);
        let after = self.body(planned);
        let fut = async {
            let svc = if before == after {
                // Only local settings (timeouts, deletion_protection) changed.
                self.get(ctx, &name).await?.ok_or_else(|| {
                    ProviderError::not_found(format!("Cloud Run service {} no longer exists", name.path()))
                })?
            } else {
                let req = ApiRequest::patch(format!("/{}", name.path())).json(after.clone()).idempotent(true);
                let op = self.g.run.json::<Json>(ctx, req).await?;
                self.finish(ctx, &name, &op, limit).await?
            };
            Ok(self.state(&name, &svc, planned))
        };
        within(limit, "update", "updating the Cloud Run service", fut).await
    }

    async fn delete(&self, current: &Value, ctx: &OpContext) -> Result<(), ProviderError> {
        let name = self.name_of(current)?;
        if Attrs::new(current).bool_or("deletion_protection", true)? {
            return Err(ProviderError::permanent(format!(
                "Cloud Run service {} has deletion_protection = true; it was not deleted",
                name.path()
            ))
            .with_help("set deletion_protection = false and apply, then destroy")
            .at(path("deletion_protection")));
        }
        let limit = timeouts::for_op(current, "delete", ctx, DEFAULT_TIMEOUT)?;
        let fut = async {
            match self.g.run.json::<Json>(ctx, ApiRequest::delete(format!("/{}", name.path()))).await {
                Ok(op) => self.g.wait_operation(ctx, &op, limit).await.map(|_| ()),
                Err(e) if e.is_status(404) => Ok(()),
                Err(e) => Err(e.error),
            }
        };
        within(limit, "delete", "deleting the Cloud Run service", fut).await
    }

    async fn import(&self, id: &str, ctx: &OpContext) -> Result<Value, ProviderError> {
        let name = ServiceName::parse(id, self.g.project.as_deref(), self.g.region.as_deref())
            .map_err(ProviderError::permanent)?;
        let svc = self
            .get(ctx, &name)
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("Cloud Run service {} does not exist", name.path())))?;
        // Without a configuration to compare with, every block the API returns is kept.
        let mut reference = convert::from_api(&self.schema, &svc, &[]);
        diff::set(&mut reference, "deletion_protection", Value::Bool(true));
        Ok(self.state(&name, &svc, &reference))
    }
}

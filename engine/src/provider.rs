//! The provider interface: what a platform integration declares (schemas) and does (CRUD,
//! import, data reads). The engine knows no concrete provider; the CLI registers them.
//!
//! Shape of the contract:
//! - [`Provider`] is the unconfigured plugin: a name, static schemas (available without
//!   credentials, so `validate` works offline) and `configure`, which turns a `provider {}`
//!   block's value into a [`ConfiguredProvider`].
//! - A configured provider hands out one [`ResourceType`] or [`DataSourceType`] per type name;
//!   each holds whatever client it needs.
//! - Values crossing this boundary carry **no marks**: the engine strips sensitive marks before
//!   a call and re-applies them (from the schema and from the configuration) afterwards.
//!   Unknown values only appear in `plan` requests.
//! - Every operation is async and may take minutes; dropping the future cancels it, and
//!   [`OpContext::cancel`] lets a provider stop politely between steps.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::types::Type;
use crate::value::{AttrPath, Value};

/// How an attribute gets its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttrKind {
    /// Must be set in configuration.
    Required,
    /// May be set in configuration; null (or the default) otherwise.
    Optional,
    /// Set by the provider only; "known after apply" until created.
    Computed,
    /// May be set in configuration; computed by the provider when not set.
    OptionalComputed,
}

/// Schema of one attribute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttributeSchema {
    pub ty: Type,
    pub kind: AttrKind,
    /// Changing it replaces the resource (shown as "# forces replacement").
    #[serde(default)]
    pub force_new: bool,
    /// Never shown in plans, logs or events.
    #[serde(default)]
    pub sensitive: bool,
    /// Value used when the configuration leaves an optional attribute unset.
    #[serde(default)]
    pub default: Option<Value>,
    #[serde(default)]
    pub description: String,
    /// The provider cannot read this attribute back from the real object (a seed script, a
    /// generation parameter, a keeper): when an object is imported, the configured value is
    /// recorded instead of whatever the import guessed, so adopting an object that matches its
    /// configuration plans no change.
    #[serde(default)]
    pub from_config_on_import: bool,
}

impl AttributeSchema {
    pub fn new(ty: Type, kind: AttrKind) -> Self {
        AttributeSchema {
            ty,
            kind,
            force_new: false,
            sensitive: false,
            default: None,
            description: String::new(),
            from_config_on_import: false,
        }
    }
    /// See [`AttributeSchema::from_config_on_import`].
    pub fn from_config_on_import(mut self) -> Self {
        self.from_config_on_import = true;
        self
    }
    pub fn required(ty: Type) -> Self {
        Self::new(ty, AttrKind::Required)
    }
    pub fn optional(ty: Type) -> Self {
        Self::new(ty, AttrKind::Optional)
    }
    pub fn computed(ty: Type) -> Self {
        Self::new(ty, AttrKind::Computed)
    }
    pub fn optional_computed(ty: Type) -> Self {
        Self::new(ty, AttrKind::OptionalComputed)
    }
    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    pub fn default(mut self, v: Value) -> Self {
        self.default = Some(v);
        self
    }
    pub fn describe(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }
    pub fn is_settable(&self) -> bool {
        !matches!(self.kind, AttrKind::Computed)
    }
    pub fn is_computed(&self) -> bool {
        matches!(self.kind, AttrKind::Computed | AttrKind::OptionalComputed)
    }
}

/// How a nested block may repeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Nesting {
    /// At most one block; its value is an object or null.
    Single,
    /// Any number of blocks; a list of objects.
    List,
}

/// Schema of a nested block (`timeouts {}`, `template { containers {} }`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlockSchema {
    pub nesting: Nesting,
    pub schema: Schema,
    #[serde(default)]
    pub min_items: usize,
    #[serde(default)]
    pub max_items: Option<usize>,
    /// Changing anything inside replaces the resource.
    #[serde(default)]
    pub force_new: bool,
}

/// Attributes and nested blocks of a resource, data source or provider configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    pub attributes: BTreeMap<String, AttributeSchema>,
    #[serde(default)]
    pub blocks: BTreeMap<String, BlockSchema>,
    #[serde(default)]
    pub description: String,
}

impl Schema {
    pub fn new() -> Self {
        Schema::default()
    }
    pub fn attr(mut self, name: &str, a: AttributeSchema) -> Self {
        self.attributes.insert(name.to_string(), a);
        self
    }
    pub fn block(mut self, name: &str, b: BlockSchema) -> Self {
        self.blocks.insert(name.to_string(), b);
        self
    }
    pub fn describe(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }

    /// The attribute schema at a path (descending through nested blocks).
    pub fn attribute_at(&self, path: &[crate::value::PathStep]) -> Option<&AttributeSchema> {
        use crate::value::PathStep;
        let (first, rest) = path.split_first()?;
        let PathStep::Key(name) = first else {
            return None;
        };
        if rest.is_empty() {
            return self.attributes.get(name);
        }
        if let Some(b) = self.blocks.get(name) {
            let rest = match (b.nesting, rest.first()) {
                (Nesting::List, Some(PathStep::Index(_))) => &rest[1..],
                _ => rest,
            };
            return b.schema.attribute_at(rest);
        }
        None
    }

    /// The object type a value of this schema has (for conversion).
    pub fn object_type(&self) -> Type {
        use crate::types::ObjectAttr;
        let mut attrs: BTreeMap<String, ObjectAttr> =
            self.attributes.iter().map(|(k, a)| (k.clone(), ObjectAttr::optional(a.ty.clone(), None))).collect();
        for (k, b) in &self.blocks {
            let t = match b.nesting {
                Nesting::Single => b.schema.object_type(),
                Nesting::List => Type::List(Box::new(b.schema.object_type())),
            };
            attrs.insert(k.clone(), ObjectAttr::optional(t, None));
        }
        Type::Object(attrs)
    }
}

/// Schema and documentation of a managed resource type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceSchema {
    pub schema: Schema,
    /// Bumped when the stored shape changes.
    #[serde(default)]
    pub version: u32,
    /// The format `import` expects, e.g. `"<project>/<secret_id>"`.
    #[serde(default)]
    pub import_id: String,
}

/// Everything a provider declares without being configured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProviderSchema {
    pub config: Schema,
    pub resources: BTreeMap<String, ResourceSchema>,
    pub data_sources: BTreeMap<String, Schema>,
}

/// Whether retrying may help.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Rate limits, 5xx, busy, dropped connections: the engine retries with backoff.
    Transient,
    /// The request is wrong or refused (4xx, bad config): do not retry.
    Permanent,
    /// The object does not exist (import of a missing ID, read of a deleted object).
    NotFound,
    /// The operation was cancelled.
    Cancelled,
}

/// An error from a provider, written for the user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderError {
    pub kind: ErrorKind,
    pub summary: String,
    #[serde(default)]
    pub detail: Option<String>,
    /// What the user can do about it ("import it with `tenantform import …`").
    #[serde(default)]
    pub help: Option<String>,
    /// The attribute the error is about, when there is one.
    #[serde(default)]
    pub attribute: Option<AttrPath>,
    /// The provider already applied its own retry policy (e.g. its HTTP client): the engine
    /// must not retry on top of it, which would multiply the attempts and could replay a
    /// request the provider judged unsafe to repeat.
    #[serde(default)]
    pub retried: bool,
    /// The object exists although the operation failed (a Cloud Run rollout that failed, a
    /// custom hostname that reached a terminal error state, a Neon operation that failed after
    /// the branch was made): its state as far as the provider knows it. The engine records it
    /// as *tainted*, so the next plan replaces it and destroy or rollback remove it, instead
    /// of forgetting an object that exists.
    #[serde(default)]
    pub partial: Option<Box<Value>>,
}

impl ProviderError {
    pub fn new(kind: ErrorKind, summary: impl Into<String>) -> Self {
        ProviderError {
            kind,
            summary: summary.into(),
            detail: None,
            help: None,
            attribute: None,
            retried: false,
            partial: None,
        }
    }
    pub fn permanent(summary: impl Into<String>) -> Self {
        Self::new(ErrorKind::Permanent, summary)
    }
    pub fn transient(summary: impl Into<String>) -> Self {
        Self::new(ErrorKind::Transient, summary)
    }
    pub fn not_found(summary: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, summary)
    }
    pub fn cancelled() -> Self {
        Self::new(ErrorKind::Cancelled, "operation cancelled")
    }
    pub fn with_detail(mut self, d: impl Into<String>) -> Self {
        self.detail = Some(d.into());
        self
    }
    pub fn with_help(mut self, h: impl Into<String>) -> Self {
        self.help = Some(h.into());
        self
    }
    /// See [`ProviderError::retried`].
    pub fn already_retried(mut self) -> Self {
        self.retried = true;
        self
    }
    /// See [`ProviderError::partial`]: the object `state` exists despite this error.
    pub fn with_partial(mut self, state: Value) -> Self {
        self.partial = Some(Box::new(state));
        self
    }
    pub fn at(mut self, path: AttrPath) -> Self {
        self.attribute = Some(path);
        self
    }
    pub fn is_transient(&self) -> bool {
        self.kind == ErrorKind::Transient
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.summary)?;
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ProviderError {}

/// A problem with a resource's configuration found by [`ResourceType::validate`].
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigProblem {
    /// The attribute at fault (empty for the whole block).
    pub path: AttrPath,
    pub message: String,
}

/// Per-call context: cancellation, timeouts from the `timeouts {}` block, and a way to report
/// progress that the CLI may show.
#[derive(Clone, Debug, Default)]
pub struct OpContext {
    pub cancel: CancellationToken,
    /// Upper bound for this operation, when the configuration set one.
    pub timeout: Option<Duration>,
    /// Address of the instance, for log lines (never for logic).
    pub address: String,
    /// On `create` and `recover`: a token unique to this create of this instance, recorded in
    /// state with the intent before the create starts and the same across retries. A provider
    /// whose API has an idempotency key, a request ID, labels, tags or a comment field should
    /// send it with the create, so that [`ResourceType::recover`] can find exactly the object
    /// this create made. `None` on every other call.
    pub create_token: Option<String>,
}

/// What [`ResourceType::recover`] found for an interrupted create.
#[derive(Clone, Debug, PartialEq)]
pub enum Recovery {
    /// The interrupted create made this object (its full state, as `read` returns it): the
    /// engine adopts it.
    Found(Value),
    /// Nothing was made: the create runs again.
    NotMade,
    /// The provider cannot tell whether the create made an object (the API offers no way to
    /// look it up): the plan shows the instance as unresolved and says what to do.
    Unknown { reason: String },
}

/// Input to [`ResourceType::plan`].
#[derive(Clone, Debug)]
pub struct PlanRequest {
    /// The current state (after refresh), `None` when creating.
    pub prior: Option<Value>,
    /// The configuration as written (unset attributes null; may contain unknowns).
    pub config: Value,
    /// The engine's proposal: config merged with prior computed values; computed attributes of a
    /// new object are unknown.
    pub proposed: Value,
}

/// What a provider's plan decided.
#[derive(Clone, Debug)]
pub struct PlanResponse {
    pub planned: Value,
    /// Paths (beyond the schema's force-new ones) whose change requires replacement.
    pub requires_replace: Vec<AttrPath>,
}

/// One managed resource type of a configured provider.
#[async_trait]
pub trait ResourceType: Send + Sync {
    /// Checks a configuration beyond what the schema expresses (value ranges, combinations).
    /// Values may be unknown; skip checks on those.
    fn validate(&self, _config: &Value) -> Vec<ConfigProblem> {
        Vec::new()
    }

    /// Refines the engine's proposed new state (e.g. marks attributes that will change as
    /// unknown). The default accepts the proposal.
    async fn plan(&self, req: PlanRequest) -> Result<PlanResponse, ProviderError> {
        Ok(PlanResponse { planned: req.proposed, requires_replace: Vec::new() })
    }

    /// Creates the object and returns its full state.
    async fn create(&self, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError>;

    /// Reads the object back; `Ok(None)` when it no longer exists.
    async fn read(&self, current: &Value, ctx: &OpContext) -> Result<Option<Value>, ProviderError>;

    /// Updates the object in place and returns its new state.
    async fn update(&self, prior: &Value, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError>;

    /// Deletes the object. Deleting something already gone is success.
    async fn delete(&self, current: &Value, ctx: &OpContext) -> Result<(), ProviderError>;

    /// Reads an existing object by its import ID; `NotFound` when there is none.
    async fn import(&self, id: &str, ctx: &OpContext) -> Result<Value, ProviderError>;

    /// Finds what an interrupted create may have made. `planned` is the value the create was
    /// asked to make (computed attributes null where they were unknown); `ctx.create_token` is
    /// the token that create was given. Look the object up by what identifies it (a name we
    /// chose, a label or tag the create set, the create token) and return it only when it is
    /// the object this create made.
    ///
    /// The default suits types whose identity is in the configuration (a path, a name the
    /// configuration sets): it reads `planned` back and adopts what answers with a known `id`.
    /// When the read cannot identify an object (it fails permanently, typically because the
    /// `id` it needs is assigned by the platform), it says it cannot tell. Types whose ID the
    /// server assigns must override it.
    async fn recover(&self, planned: &Value, ctx: &OpContext) -> Result<Recovery, ProviderError> {
        match self.read(planned, ctx).await {
            Ok(Some(v)) if v.get("id").is_some_and(|id| !id.is_null() && id.is_wholly_known()) => {
                Ok(Recovery::Found(v))
            }
            Ok(_) => Ok(Recovery::NotMade),
            Err(e) if e.kind == ErrorKind::Permanent => Ok(Recovery::Unknown {
                reason: format!("the provider cannot look up what the create asked for ({})", e),
            }),
            Err(e) => Err(e),
        }
    }
}

/// One data source type of a configured provider.
#[async_trait]
pub trait DataSourceType: Send + Sync {
    async fn read(&self, config: &Value, ctx: &OpContext) -> Result<Value, ProviderError>;
}

/// A provider after `configure`: hands out the types it serves.
pub trait ConfiguredProvider: Send + Sync {
    fn resource(&self, type_name: &str) -> Option<Arc<dyn ResourceType>>;
    fn data_source(&self, type_name: &str) -> Option<Arc<dyn DataSourceType>> {
        let _ = type_name;
        None
    }
}

/// A provider plugin, before configuration.
#[async_trait]
pub trait Provider: Send + Sync {
    /// The local name used in `provider "<name>" {}` and as the resource type prefix.
    fn name(&self) -> &'static str;

    /// Static schemas: configuration, resources, data sources.
    fn schema(&self) -> ProviderSchema;

    /// Builds a configured instance from the `provider {}` block's value (an object following
    /// `schema().config`; null attributes when there is no block). Reading environment
    /// variables for credentials is the provider's job here.
    async fn configure(&self, config: &Value) -> Result<Arc<dyn ConfiguredProvider>, ProviderError>;
}

/// The providers a command may use, by name.
#[derive(Clone, Default)]
pub struct ProviderRegistry {
    providers: BTreeMap<String, Arc<dyn Provider>>,
    schemas: BTreeMap<String, Arc<ProviderSchema>>,
}

impl ProviderRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register(&mut self, p: Arc<dyn Provider>) {
        let name = p.name().to_string();
        self.schemas.insert(name.clone(), Arc::new(p.schema()));
        self.providers.insert(name, p);
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Provider>> {
        self.providers.get(name)
    }

    pub fn schema(&self, name: &str) -> Option<&Arc<ProviderSchema>> {
        self.schemas.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.providers.keys().map(String::as_str)
    }

    /// The provider serving a resource type: the longest registered name that prefixes the
    /// type followed by `_` (`google_cloud_run_v2_service` → `google`).
    pub fn provider_for_type(&self, type_name: &str) -> Option<&str> {
        self.providers
            .keys()
            .filter(|name| {
                type_name.len() > name.len()
                    && type_name.starts_with(name.as_str())
                    && type_name.as_bytes()[name.len()] == b'_'
            })
            .max_by_key(|name| name.len())
            .map(String::as_str)
    }

    /// The schema of a managed resource type, if any provider serves it.
    pub fn resource_schema(&self, type_name: &str) -> Option<&ResourceSchema> {
        let p = self.provider_for_type(type_name)?;
        self.schemas.get(p)?.resources.get(type_name)
    }

    /// The schema of a data source type, if any provider serves it.
    pub fn data_source_schema(&self, type_name: &str) -> Option<&Schema> {
        let p = self.provider_for_type(type_name)?;
        self.schemas.get(p)?.data_sources.get(type_name)
    }

    /// Every resource type name, for "did you mean" suggestions.
    pub fn resource_types(&self) -> impl Iterator<Item = &str> {
        self.schemas.values().flat_map(|s| s.resources.keys().map(String::as_str))
    }

    pub fn data_source_types(&self) -> impl Iterator<Item = &str> {
        self.schemas.values().flat_map(|s| s.data_sources.keys().map(String::as_str))
    }
}

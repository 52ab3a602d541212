//! A provider for testing the engine: resources in an in-memory "cloud" whose IDs the cloud
//! assigns, with faults injected on demand. It is what the engine's plan/apply tests and the
//! lifecycle fuzzer run against; nothing in the product uses it.
//!
//! - `test_thing`: `name` (required), `value` (updatable), `replace_key` (force-new), `items`
//!   (a set of strings), `tags` (a map); computed `id` (assigned by the cloud, `thing-N`) and
//!   `out` (`"out:" + value`, unknown while `value` changes). Its create carries the create
//!   token as a tag the user never sees, so `recover` finds exactly what an interrupted create
//!   made.
//! - `test_opaque`: the same, but it keeps the default `recover`, which cannot look an
//!   object up without its ID: an interrupted create of it is *unresolved*.
//!
//! The provider's configuration takes `region` (optional); a configuration whose region is
//! unknown is deferred by the planner, and `region = "nowhere"` fails to configure.
//!
//! Faults ([`Fault`]) match an operation and, optionally, the object's `name`, and fire a
//! number of times: a transient error, a permanent error before anything is made, a create
//! that fails after the object exists (returned as a partial object), a lost answer (the
//! change is made, the caller gets a transient error), or a hang until cancelled.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;

use crate::provider::{
    AttributeSchema, ConfiguredProvider, OpContext, PlanRequest, PlanResponse, Provider, ProviderError, ProviderSchema,
    Recovery, ResourceSchema, ResourceType, Schema,
};
use crate::types::Type;
use crate::value::Value;

/// The provider's name, and the prefix of its resource types.
pub const NAME: &str = "test";

/// An operation a fault can target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    Create,
    Read,
    Update,
    Delete,
}

/// What a fault does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// A retryable error; nothing changes.
    Transient,
    /// A refusal (a 4xx); nothing changes.
    Permanent,
    /// Create only: the object is made, then the create fails (it is returned as partial).
    FailAfterCreate,
    /// The change is made, but the answer is lost: the caller sees a transient error.
    LostAnswer,
    /// The call waits until it is cancelled.
    Hang,
}

/// A fault to inject: `kind` on the next `times` calls of `op` (on objects named `name`, or
/// on any object).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub op: Op,
    pub name: Option<String>,
    pub kind: FaultKind,
    pub times: usize,
}

impl Fault {
    pub fn new(op: Op, kind: FaultKind) -> Fault {
        Fault { op, name: None, kind, times: 1 }
    }
    pub fn on(mut self, name: &str) -> Fault {
        self.name = Some(name.to_string());
        self
    }
    pub fn times(mut self, n: usize) -> Fault {
        self.times = n;
        self
    }
}

/// One object in the cloud.
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    pub type_name: String,
    pub id: String,
    /// The object's state as `read` returns it.
    pub state: Value,
    /// The create token its create carried (a hidden tag).
    pub token: Option<String>,
}

#[derive(Default)]
struct Cloud {
    objects: BTreeMap<String, Object>,
    next_id: u64,
    faults: Vec<Fault>,
    calls: BTreeMap<Op, usize>,
    /// Every call, in order: the operation and the object's name.
    log: Vec<(Op, String)>,
    /// Delay every operation by this much (to let tests and the fuzzer interrupt applies).
    latency: Duration,
}

/// The in-memory cloud behind the test provider. Cloning shares it.
#[derive(Clone, Default)]
pub struct TestCloud {
    inner: Arc<Mutex<Cloud>>,
}

impl TestCloud {
    pub fn new() -> TestCloud {
        TestCloud::default()
    }

    fn lock(&self) -> MutexGuard<'_, Cloud> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The provider to register.
    pub fn provider(&self) -> Arc<dyn Provider> {
        Arc::new(TestProvider { cloud: self.clone() })
    }

    /// A registry holding only this provider.
    pub fn registry(&self) -> crate::provider::ProviderRegistry {
        let mut r = crate::provider::ProviderRegistry::new();
        r.register(self.provider());
        r
    }

    pub fn inject(&self, fault: Fault) {
        self.lock().faults.push(fault);
    }

    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    pub fn set_latency(&self, d: Duration) {
        self.lock().latency = d;
    }

    /// Every object, by ID.
    pub fn objects(&self) -> BTreeMap<String, Object> {
        self.lock().objects.clone()
    }

    /// The objects named `name`.
    pub fn named(&self, name: &str) -> Vec<Object> {
        self.lock()
            .objects
            .values()
            .filter(|o| o.state.get("name").and_then(Value::as_str) == Some(name))
            .cloned()
            .collect()
    }

    /// How many calls of `op` the cloud answered (including failed ones).
    pub fn calls(&self, op: Op) -> usize {
        self.lock().calls.get(&op).copied().unwrap_or(0)
    }

    /// Every call so far, in order: the operation and the object's name.
    pub fn log(&self) -> Vec<(Op, String)> {
        self.lock().log.clone()
    }

    /// Changes an object behind tenantform's back (drift), by name.
    pub fn edit(&self, name: &str, attr: &str, value: Value) {
        let mut c = self.lock();
        for o in c.objects.values_mut() {
            if o.state.get("name").and_then(Value::as_str) == Some(name) {
                if let Value::Map(m) = &mut o.state {
                    m.insert(attr.to_string(), value.clone());
                }
            }
        }
    }

    /// Deletes an object behind tenantform's back, by name.
    pub fn remove(&self, name: &str) {
        self.lock().objects.retain(|_, o| o.state.get("name").and_then(Value::as_str) != Some(name));
    }

    /// Counts the call and takes the fault that fires on it, if any.
    fn fault(&self, op: Op, name: Option<&str>) -> (Option<FaultKind>, Duration) {
        let mut c = self.lock();
        *c.calls.entry(op).or_default() += 1;
        c.log.push((op, name.unwrap_or_default().to_string()));
        let latency = c.latency;
        let hit =
            c.faults.iter().position(|f| f.op == op && f.times > 0 && (f.name.is_none() || f.name.as_deref() == name));
        let kind = hit.map(|i| {
            c.faults[i].times -= 1;
            c.faults[i].kind
        });
        c.faults.retain(|f| f.times > 0);
        (kind, latency)
    }
}

struct TestProvider {
    cloud: TestCloud,
}

fn thing_schema(opaque: bool) -> ResourceSchema {
    let schema = Schema::new()
        .describe(if opaque {
            "A test object whose interrupted create cannot be looked up."
        } else {
            "A test object in the in-memory cloud."
        })
        .attr("name", AttributeSchema::required(Type::String).describe("Identifies the object for tests."))
        .attr("value", AttributeSchema::optional(Type::String).describe("Updated in place."))
        .attr("replace_key", AttributeSchema::optional(Type::String).force_new().describe("Changing it replaces."))
        .attr("items", AttributeSchema::optional(Type::Set(Box::new(Type::String))).describe("A set of strings."))
        .attr("tags", AttributeSchema::optional(Type::Map(Box::new(Type::String))).describe("Tags."))
        .attr("secret", AttributeSchema::optional(Type::String).sensitive().describe("A sensitive input."))
        .attr("id", AttributeSchema::computed(Type::String).describe("Assigned by the cloud."))
        .attr("out", AttributeSchema::computed(Type::String).describe("`out:` + value, known after apply."));
    ResourceSchema { schema, version: 0, import_id: "<id>".into() }
}

#[async_trait]
impl Provider for TestProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    fn schema(&self) -> ProviderSchema {
        let mut s = ProviderSchema {
            config: Schema::new().attr("region", AttributeSchema::optional(Type::String).describe("Any region.")),
            ..Default::default()
        };
        s.resources.insert("test_thing".into(), thing_schema(false));
        s.resources.insert("test_opaque".into(), thing_schema(true));
        s
    }

    async fn configure(&self, config: &Value) -> Result<Arc<dyn ConfiguredProvider>, ProviderError> {
        let region = config.get("region").and_then(Value::as_str).map(str::to_string);
        if region.as_deref() == Some("nowhere") {
            return Err(ProviderError::permanent("region \"nowhere\" does not exist"));
        }
        Ok(Arc::new(Configured { cloud: self.cloud.clone(), region }))
    }
}

struct Configured {
    cloud: TestCloud,
    region: Option<String>,
}

impl ConfiguredProvider for Configured {
    fn resource(&self, type_name: &str) -> Option<Arc<dyn ResourceType>> {
        let opaque = match type_name {
            "test_thing" => false,
            "test_opaque" => true,
            _ => return None,
        };
        Some(Arc::new(Thing {
            cloud: self.cloud.clone(),
            type_name: type_name.to_string(),
            opaque,
            region: self.region.clone(),
        }))
    }
}

struct Thing {
    cloud: TestCloud,
    type_name: String,
    opaque: bool,
    #[allow(dead_code)]
    region: Option<String>,
}

fn name_of(v: &Value) -> Option<&str> {
    v.get("name").and_then(Value::as_str)
}

fn str_attr(v: &Value, k: &str) -> Value {
    match v.get(k) {
        Some(x) => x.clone().unmark_deep(),
        None => Value::Null,
    }
}

impl Thing {
    /// The object's state from what was asked.
    fn state_of(&self, id: &str, asked: &Value) -> Value {
        let mut m = BTreeMap::new();
        for k in ["name", "value", "replace_key", "items", "tags", "secret"] {
            m.insert(k.to_string(), str_attr(asked, k));
        }
        let out = match asked.get("value").and_then(|v| v.unmarked().0.as_str().map(str::to_string)) {
            Some(v) => Value::string(format!("out:{v}")),
            None => Value::string("out:"),
        };
        m.insert("out".into(), out);
        m.insert("id".into(), Value::string(id));
        Value::Map(m)
    }

    async fn enter(&self, op: Op, name: Option<&str>, ctx: &OpContext) -> Result<Option<FaultKind>, ProviderError> {
        let (fault, latency) = self.cloud.fault(op, name);
        if !latency.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(latency) => {}
                _ = ctx.cancel.cancelled() => return Err(ProviderError::cancelled()),
            }
        }
        match fault {
            Some(FaultKind::Transient) => Err(ProviderError::transient(format!("injected: {op:?} failed (503)"))),
            Some(FaultKind::Permanent) => Err(ProviderError::permanent(format!("injected: {op:?} refused (400)"))),
            Some(FaultKind::Hang) => {
                ctx.cancel.cancelled().await;
                Err(ProviderError::cancelled())
            }
            other => Ok(other),
        }
    }

    fn id_of(v: &Value) -> Result<String, ProviderError> {
        match v.get("id").map(|v| v.unmarked().0) {
            Some(Value::String(s)) => Ok(s.clone()),
            _ => Err(ProviderError::permanent("attribute `id` is required")),
        }
    }
}

#[async_trait]
impl ResourceType for Thing {
    async fn plan(&self, req: PlanRequest) -> Result<PlanResponse, ProviderError> {
        let mut planned = req.proposed;
        // `out` follows `value`: unknown while it changes.
        if let Some(prior) = &req.prior {
            let before = prior.get("value").map(|v| v.unmarked().0.clone());
            let after = planned.get("value").map(|v| v.unmarked().0.clone());
            if before != after {
                if let Value::Map(m) = &mut planned {
                    m.insert("out".into(), Value::Unknown);
                }
            }
        }
        Ok(PlanResponse { planned, requires_replace: Vec::new() })
    }

    async fn create(&self, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let fault = self.enter(Op::Create, name_of(planned), ctx).await?;
        let mut c = self.cloud.lock();
        c.next_id += 1;
        let id = format!("{}-{}", self.type_name.trim_start_matches("test_"), c.next_id);
        let state = self.state_of(&id, planned);
        c.objects.insert(
            id.clone(),
            Object {
                type_name: self.type_name.clone(),
                id: id.clone(),
                state: state.clone(),
                token: ctx.create_token.clone(),
            },
        );
        match fault {
            Some(FaultKind::FailAfterCreate) => {
                Err(ProviderError::permanent(format!("injected: {id} reached a failed state")).with_partial(state))
            }
            Some(FaultKind::LostAnswer) => {
                Err(ProviderError::transient("injected: the connection closed before the answer (create)"))
            }
            _ => Ok(state),
        }
    }

    async fn read(&self, current: &Value, ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        let id = Self::id_of(current)?;
        self.enter(Op::Read, name_of(current), ctx).await?;
        Ok(self.cloud.lock().objects.get(&id).filter(|o| o.type_name == self.type_name).map(|o| o.state.clone()))
    }

    async fn update(&self, prior: &Value, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let id = Self::id_of(prior)?;
        let fault = self.enter(Op::Update, name_of(planned), ctx).await?;
        let state = self.state_of(&id, planned);
        let mut c = self.cloud.lock();
        let Some(o) = c.objects.get_mut(&id) else {
            return Err(ProviderError::not_found(format!("{id} does not exist")));
        };
        o.state = state.clone();
        match fault {
            Some(FaultKind::LostAnswer) => {
                Err(ProviderError::transient("injected: the connection closed before the answer (update)"))
            }
            _ => Ok(state),
        }
    }

    async fn delete(&self, current: &Value, ctx: &OpContext) -> Result<(), ProviderError> {
        let id = Self::id_of(current)?;
        let fault = self.enter(Op::Delete, name_of(current), ctx).await?;
        self.cloud.lock().objects.remove(&id);
        match fault {
            Some(FaultKind::LostAnswer) => {
                Err(ProviderError::transient("injected: the connection closed before the answer (delete)"))
            }
            _ => Ok(()),
        }
    }

    async fn import(&self, id: &str, ctx: &OpContext) -> Result<Value, ProviderError> {
        self.enter(Op::Read, None, ctx).await?;
        self.cloud
            .lock()
            .objects
            .get(id)
            .filter(|o| o.type_name == self.type_name)
            .map(|o| o.state.clone())
            .ok_or_else(|| ProviderError::not_found(format!("no {} with id {id}", self.type_name)))
    }

    async fn recover(&self, planned: &Value, ctx: &OpContext) -> Result<Recovery, ProviderError> {
        if self.opaque {
            return match self.read(planned, ctx).await {
                Ok(Some(v)) => Ok(Recovery::Found(v)),
                Ok(None) => Ok(Recovery::NotMade),
                Err(e) => Ok(Recovery::Unknown { reason: format!("the object cannot be looked up ({})", e.summary) }),
            };
        }
        self.enter(Op::Read, name_of(planned), ctx).await?;
        let Some(token) = &ctx.create_token else {
            return Ok(Recovery::Unknown { reason: "the interrupted create has no create token".into() });
        };
        let c = self.cloud.lock();
        Ok(match c.objects.values().find(|o| o.type_name == self.type_name && o.token.as_ref() == Some(token)) {
            Some(o) => Recovery::Found(o.state.clone()),
            None => Recovery::NotMade,
        })
    }
}

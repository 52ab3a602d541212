//! Plans: what will change, per resource instance, and why.
//!
//! A [`Plan`] is a value: computed by [`planner`], rendered by the CLI, saved to a file
//! (`plan -out`) and consumed by apply, which refuses it when the state partitions it was
//! computed against have moved on (lineage + per-partition serials). It embeds the
//! configuration files and variable values it was made from, so applying a saved plan does
//! not depend on the working directory still matching.

pub mod diff;
mod imports;
mod instance;
mod moved;
mod outputs;
pub mod planner;
mod walk;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::address::{InstanceAddr, ModuleAddr, Target};
use crate::state::Partition;
use crate::value::{AttrPath, Value};

/// What happens to one resource instance. A closed set, shown as `+ ~ -/+ +/- - <=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    NoOp,
    Create,
    Update,
    /// Destroy, then create the replacement.
    Replace,
    /// Create the replacement, then destroy the old object (`create_before_destroy`).
    CreateThenDelete,
    Delete,
    /// A data source read during apply (its configuration is not known at plan time).
    Read,
}

impl Action {
    /// The plan symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::CreateThenDelete => "+/-",
            Action::Delete => "-",
            Action::Read => "<=",
        }
    }

    /// Terraform's JSON action list.
    pub fn json_actions(self) -> Vec<&'static str> {
        match self {
            Action::NoOp => vec!["no-op"],
            Action::Create => vec!["create"],
            Action::Update => vec!["update"],
            Action::Replace => vec!["delete", "create"],
            Action::CreateThenDelete => vec!["create", "delete"],
            Action::Delete => vec!["delete"],
            Action::Read => vec!["read"],
        }
    }

    pub fn is_replace(self) -> bool {
        matches!(self, Action::Replace | Action::CreateThenDelete)
    }

    /// Present-participle verb for progress lines ("Creating…").
    pub fn progress_verb(self) -> &'static str {
        match self {
            Action::Create | Action::Replace | Action::CreateThenDelete => "Creating",
            Action::Update => "Modifying",
            Action::Delete => "Destroying",
            Action::Read => "Reading",
            Action::NoOp => "Refreshing",
        }
    }
}

/// The kind of plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PlanMode {
    #[default]
    Normal,
    Destroy,
    /// Only record what changed outside tenantform.
    RefreshOnly,
}

/// One planned change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceChange {
    pub addr: InstanceAddr,
    /// Provider configuration key (`local`, `google.europe`).
    pub provider: String,
    pub action: Action,
    /// The current object (after refresh), with sensitive marks.
    pub before: Option<Value>,
    /// The planned object, with unknown values and sensitive marks.
    pub after: Option<Value>,
    /// Attributes whose change forces replacement.
    #[serde(default)]
    pub replace_paths: Vec<AttrPath>,
    /// Why, when it is not evident from the diff: `tainted`, `requested with -replace`,
    /// `no longer in the configuration`, `the create was interrupted`…
    #[serde(default)]
    pub reason: Option<String>,
    /// Resource instances this one depends on (for ordering and state).
    #[serde(default)]
    pub dependencies: Vec<InstanceAddr>,
    #[serde(default)]
    pub create_before_destroy: bool,
    /// Set when the object is adopted by an `import` block.
    #[serde(default)]
    pub import_id: Option<String>,
    /// Set when a `moved` block renames the object.
    #[serde(default)]
    pub moved_from: Option<InstanceAddr>,
    #[serde(default)]
    pub schema_version: u32,
    /// The stored record must be rewritten although the object does not change (an interrupted
    /// create whose object turned out to exist).
    #[serde(default)]
    pub record_only: bool,
}

impl ResourceChange {
    pub fn partition(&self) -> Partition {
        Partition::of(&self.addr)
    }
}

/// An object that changed outside tenantform (found by refresh).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    pub addr: InstanceAddr,
    /// What state recorded.
    pub before: Value,
    /// What exists now; `None` when the object is gone.
    pub after: Option<Value>,
    /// Whether this is a change made outside tenantform: the object is gone, or an attribute
    /// the configuration sets, a block, or a secret changed. False when only values the
    /// platform computes as it goes changed (a certificate becoming active, an etag, an update
    /// time): a normal plan does not list those, `tenants` and `drift` do not count them; a
    /// refresh-only plan shows every difference.
    #[serde(default = "external_default")]
    pub external: bool,
}

fn external_default() -> bool {
    true
}

impl Drift {
    /// The object is gone.
    pub fn deleted(addr: InstanceAddr, before: Value) -> Drift {
        Drift { addr, before, after: None, external: true }
    }

    /// The object changed; `external` is decided from the schema (see the field).
    pub fn changed(schema: &crate::provider::Schema, addr: InstanceAddr, before: Value, after: Value) -> Option<Drift> {
        let paths = diff::changed_paths(schema, &before, &after);
        if paths.is_empty() {
            return None;
        }
        let external = paths.iter().any(|path| match path.first() {
            Some(crate::value::PathStep::Key(k)) => {
                schema.attributes.get(k).is_none_or(|a| a.is_settable() || a.sensitive)
            }
            _ => true,
        });
        Some(Drift { addr, before, after: Some(after), external })
    }
}

/// An instance the plan could not plan yet, and why. Apply leaves it (and everything that
/// depends on it) alone; where the reason goes away by applying the rest
/// ([`DeferReason::resolves_by_applying`]), apply plans and applies it in a further round.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deferred {
    pub addr: InstanceAddr,
    pub reason: DeferReason,
}

/// Why an instance is [`Deferred`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum DeferReason {
    /// Its provider's configuration depends on values known only after apply (a tenant's own
    /// database server, then the roles inside it).
    ProviderConfig { provider: String },
    /// Its `count` or `for_each` depends on values known only after apply.
    Expansion,
    /// It depends on a deferred instance.
    Dependency { on: InstanceAddr, resolves: bool },
    /// A create was interrupted and the provider cannot tell whether it made an object: a
    /// person must look (and `import` the object, or `state rm` the record).
    Unresolved { detail: String },
}

impl DeferReason {
    /// Whether applying the rest of the plan makes this instance plannable.
    pub fn resolves_by_applying(&self) -> bool {
        match self {
            DeferReason::ProviderConfig { .. } | DeferReason::Expansion => true,
            DeferReason::Dependency { resolves, .. } => *resolves,
            DeferReason::Unresolved { .. } => false,
        }
    }

    /// One line for plan output.
    pub fn describe(&self) -> String {
        match self {
            DeferReason::ProviderConfig { provider } => {
                format!("the configuration of provider \"{provider}\" depends on values known only after apply")
            }
            DeferReason::Expansion => "its count or for_each depends on values known only after apply".into(),
            DeferReason::Dependency { on, .. } => format!("it depends on {on}, which is deferred"),
            DeferReason::Unresolved { detail } => {
                format!("an interrupted create may have made an object that cannot be found: {detail}")
            }
        }
    }
}

/// A change to an output value (root outputs, and every tenant module's outputs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputChange {
    pub module: ModuleAddr,
    pub name: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub sensitive: bool,
}

/// A complete plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    /// Version of tenantform that made it.
    pub tenantform_version: String,
    pub mode: PlanMode,
    /// Lineage of the state it was computed against.
    pub lineage: String,
    /// The serial of every partition it read; apply refuses the plan if any moved on.
    #[serde(with = "serials")]
    pub partition_serials: BTreeMap<Partition, u64>,
    /// Every instance in scope, including no-ops, in address order.
    pub changes: Vec<ResourceChange>,
    pub outputs: Vec<OutputChange>,
    pub drift: Vec<Drift>,
    /// Root variable values used (sensitive ones marked).
    pub variables: BTreeMap<String, Value>,
    /// The configuration files, by path, as they were when planning.
    pub config_files: BTreeMap<PathBuf, String>,
    /// The stack directory.
    pub dir: PathBuf,
    #[serde(default)]
    pub targets: Vec<Target>,
    #[serde(default)]
    pub tenants: Vec<String>,
    /// Instances that could not be planned yet, in address order.
    #[serde(default)]
    pub deferred: Vec<Deferred>,
}

mod serials {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(m: &BTreeMap<Partition, u64>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(m.iter().map(|(p, v)| (p.key(), v)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<Partition, u64>, D::Error> {
        let m = BTreeMap::<String, u64>::deserialize(d)?;
        Ok(m.into_iter().map(|(k, v)| (Partition::from_key(&k), v)).collect())
    }
}

/// Counts for the summary line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
    pub import: usize,
    pub read: usize,
    pub deferred: usize,
}

impl Plan {
    pub const FORMAT_VERSION: u32 = 1;

    /// Changes that do something.
    pub fn actionable(&self) -> impl Iterator<Item = &ResourceChange> {
        self.changes
            .iter()
            .filter(|c| c.action != Action::NoOp || c.import_id.is_some() || c.moved_from.is_some() || c.record_only)
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            match c.action {
                Action::Create => s.add += 1,
                Action::Update => s.change += 1,
                Action::Replace | Action::CreateThenDelete => {
                    s.add += 1;
                    s.destroy += 1
                }
                Action::Delete => s.destroy += 1,
                Action::Read => s.read += 1,
                Action::NoOp => {}
            }
            if c.import_id.is_some() {
                s.import += 1;
            }
        }
        s.deferred = self.deferred.len();
        s
    }

    /// Whether a further round of the same apply can plan some deferred instances.
    pub fn has_resolvable_deferrals(&self) -> bool {
        self.deferred.iter().any(|d| d.reason.resolves_by_applying())
    }

    /// True when applying would change infrastructure, state or outputs.
    pub fn has_changes(&self) -> bool {
        self.actionable().next().is_some()
            || self.outputs.iter().any(|o| o.before != o.after)
            || (self.mode == PlanMode::RefreshOnly && !self.drift.is_empty())
    }

    /// Partitions whose resources or outputs this plan changes.
    pub fn touched_partitions(&self) -> Vec<Partition> {
        let mut out: Vec<Partition> = self.actionable().map(|c| c.partition()).collect();
        out.extend(self.changes.iter().filter_map(|c| c.moved_from.as_ref()).map(Partition::of));
        out.extend(self.outputs.iter().filter(|o| o.before != o.after).map(|o| Partition::of_module(&o.module)));
        if self.mode == PlanMode::RefreshOnly {
            out.extend(self.drift.iter().map(|d| Partition::of(&d.addr)));
        }
        out.sort();
        out.dedup();
        out
    }

    /// Serializes the plan file (JSON; it contains sensitive values, so write it 0600).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Plan, String> {
        let p: Plan = serde_json::from_slice(bytes).map_err(|e| format!("not a tenantform plan file: {e}"))?;
        if p.format_version != Self::FORMAT_VERSION {
            return Err(format!(
                "plan file format {} is not supported (expected {})",
                p.format_version,
                Self::FORMAT_VERSION
            ));
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{AttributeSchema, Schema};
    use crate::types::Type;

    #[test]
    fn drift_is_external_unless_only_platform_computed_values_moved() {
        let schema = Schema::new()
            .attr("hostname", AttributeSchema::required(Type::String))
            .attr("status", AttributeSchema::computed(Type::String))
            .attr("password", AttributeSchema::computed(Type::String).sensitive());
        let addr: InstanceAddr = "tenant.acme.x_y.z".parse().unwrap();
        let v = |h: &str, s: &str, p: &str| {
            Value::map([("hostname", Value::string(h)), ("status", Value::string(s)), ("password", Value::string(p))])
        };
        let before = v("a.example", "pending", "pw");
        assert_eq!(Drift::changed(&schema, addr.clone(), before.clone(), before.clone()), None);
        let d = Drift::changed(&schema, addr.clone(), before.clone(), v("a.example", "active", "pw")).unwrap();
        assert!(!d.external, "a certificate becoming active is the platform's progress");
        assert!(
            Drift::changed(&schema, addr.clone(), before.clone(), v("b.example", "active", "pw")).unwrap().external
        );
        assert!(
            Drift::changed(&schema, addr.clone(), before.clone(), v("a.example", "pending", "reset")).unwrap().external
        );
        assert!(Drift::deleted(addr.clone(), before.clone()).external);
        let mut json = serde_json::to_value(Drift::deleted(addr.clone(), before.clone())).unwrap();
        json.as_object_mut().unwrap().remove("external");
        let old: Drift = serde_json::from_value(json).expect("plan files without the field still load");
        assert!(old.external);
    }
}

//! The storage encoding of state records, shared by every persistent backend.
//!
//! A resource instance is stored as columns: its address (the canonical `Display` form), its
//! partition key, provider, schema version, status, and its value as **plain JSON** plus two
//! optional JSON arrays of attribute paths: where the sensitive marks sit and (for intents
//! only) where unknown values sit. This is the same meaning as `EncodedValue` in the engine's
//! value module, split into columns so that a human with `sqlite3` (or `psql`) can query the
//! data with the database's JSON functions.
//!
//! Decoding is on the hot path of `load` (tens of thousands of rows), so JSON text is read
//! straight into [`Value`] by a serde visitor rather than through `serde_json::Value`, and
//! written straight from [`Value`] by a serializer that drops marks.
//!
//! This module owns only the encoding; it must not know about SQL or about any table.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use tenantform_engine::address::{InstanceAddr, ModuleAddr};
use tenantform_engine::state::{
    Change, InstanceState, InstanceStatus, LockGuard, OutputState, Partition, StateError, StatusDetail,
};
use tenantform_engine::value::{AttrPath, Value};

/// The version of this encoding, recorded in every store's metadata. Bump it (with a
/// migration) whenever the meaning of a stored column changes.
pub const FORMAT_VERSION: u32 = 1;

/// An encoded value: plain JSON plus the mark paths (`None` when there are none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EncodedValue {
    pub json: String,
    pub sensitive_paths: Option<String>,
    pub unknown_paths: Option<String>,
}

/// A resource instance as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EncodedInstance {
    pub address: String,
    pub partition: String,
    pub provider: String,
    pub schema_version: u32,
    pub status: &'static str,
    pub value: EncodedValue,
    pub dependencies: Option<String>,
    pub create_before_destroy: bool,
    /// [`StatusDetail`] as JSON (NULL for a plain ready record).
    pub detail: Option<String>,
}

/// A module output as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EncodedOutput {
    pub module: String,
    pub name: String,
    pub partition: String,
    pub value: EncodedValue,
    pub sensitive: bool,
}

/// Borrowed columns of one stored instance row, as read from a database.
pub(crate) struct InstanceColumns<'a> {
    pub address: &'a str,
    pub provider: &'a str,
    pub schema_version: i64,
    pub status: &'a str,
    pub value: &'a str,
    pub sensitive_paths: Option<&'a str>,
    pub unknown_paths: Option<&'a str>,
    pub dependencies: Option<&'a str>,
    pub create_before_destroy: bool,
    pub detail: Option<&'a str>,
}

/// Borrowed columns of one stored output row.
pub(crate) struct OutputColumns<'a> {
    pub module: &'a str,
    pub name: &'a str,
    pub value: &'a str,
    pub sensitive_paths: Option<&'a str>,
    pub unknown_paths: Option<&'a str>,
    pub sensitive: bool,
}

fn corrupt(what: &str, e: impl fmt::Display) -> StateError {
    StateError::Backend(format!("corrupt state record {what}: {e}"))
}

fn encode_json<T: Serialize + ?Sized>(what: &str, v: &T) -> Result<String, StateError> {
    serde_json::to_string(v).map_err(|e| StateError::Backend(format!("cannot encode {what}: {e}")))
}

fn paths_column(what: &str, paths: &[AttrPath]) -> Result<Option<String>, StateError> {
    if paths.is_empty() {
        Ok(None)
    } else {
        encode_json(what, paths).map(Some)
    }
}

pub(crate) fn encode_value(what: &str, v: &Value) -> Result<EncodedValue, StateError> {
    Ok(EncodedValue {
        json: encode_json(what, &PlainJson(v))?,
        sensitive_paths: paths_column(what, &v.sensitive_paths())?,
        unknown_paths: paths_column(what, &v.unknown_paths())?,
    })
}

pub(crate) fn decode_value(
    what: &str,
    json: &str,
    sensitive_paths: Option<&str>,
    unknown_paths: Option<&str>,
) -> Result<Value, StateError> {
    let PlainValue(mut v) = serde_json::from_str(json).map_err(|e| corrupt(what, e))?;
    if let Some(text) = unknown_paths {
        let paths: Vec<AttrPath> = serde_json::from_str(text).map_err(|e| corrupt(what, e))?;
        v = v.with_unknown_paths(&paths);
    }
    if let Some(text) = sensitive_paths {
        let paths: Vec<AttrPath> = serde_json::from_str(text).map_err(|e| corrupt(what, e))?;
        v = v.mark_paths(&paths);
    }
    Ok(v)
}

pub(crate) fn status_str(s: InstanceStatus) -> &'static str {
    match s {
        InstanceStatus::Ready => "ready",
        InstanceStatus::Creating => "creating",
        InstanceStatus::Tainted => "tainted",
    }
}

fn parse_status(what: &str, s: &str) -> Result<InstanceStatus, StateError> {
    match s {
        "ready" => Ok(InstanceStatus::Ready),
        "creating" => Ok(InstanceStatus::Creating),
        "tainted" => Ok(InstanceStatus::Tainted),
        other => Err(corrupt(what, format!("unknown status {other:?}"))),
    }
}

/// Addresses are stored in their printed form. Refuse one that would read back as another
/// address (an instance key with characters the address syntax cannot carry) rather than
/// store a record that later loads under a different name and looks orphaned.
fn printed<A: PartialEq + fmt::Display + std::str::FromStr>(addr: &A) -> Result<String, StateError> {
    let text = addr.to_string();
    match text.parse::<A>() {
        Ok(back) if back == *addr => Ok(text),
        _ => Err(StateError::Backend(format!(
            "cannot store {text}: the address does not read back as itself (its instance key has \
             characters the address syntax cannot carry)"
        ))),
    }
}

pub(crate) fn encode_instance(s: &InstanceState) -> Result<EncodedInstance, StateError> {
    let address = printed(&s.addr)?;
    let value = encode_value(&address, &s.value)?;
    let dependencies = if s.dependencies.is_empty() {
        None
    } else {
        let deps = s.dependencies.iter().map(printed).collect::<Result<Vec<String>, _>>()?;
        Some(encode_json(&address, &deps)?)
    };
    Ok(EncodedInstance {
        partition: Partition::of(&s.addr).key().to_string(),
        provider: s.provider.clone(),
        schema_version: s.schema_version,
        status: status_str(s.status),
        value,
        dependencies,
        create_before_destroy: s.create_before_destroy,
        detail: match &s.detail {
            Some(d) => Some(encode_json(&address, d)?),
            None => None,
        },
        address,
    })
}

pub(crate) fn decode_instance(c: &InstanceColumns<'_>) -> Result<InstanceState, StateError> {
    let what = c.address;
    let addr: InstanceAddr = c.address.parse().map_err(|e| corrupt(what, e))?;
    let value = decode_value(what, c.value, c.sensitive_paths, c.unknown_paths)?;
    let dependencies = match c.dependencies {
        None => Vec::new(),
        Some(text) => {
            let deps: Vec<String> = serde_json::from_str(text).map_err(|e| corrupt(what, e))?;
            deps.into_iter()
                .map(|d| d.parse::<InstanceAddr>().map_err(|e| corrupt(what, e)))
                .collect::<Result<_, _>>()?
        }
    };
    Ok(InstanceState {
        addr,
        provider: c.provider.to_string(),
        schema_version: u32::try_from(c.schema_version).map_err(|e| corrupt(what, e))?,
        status: parse_status(what, c.status)?,
        value,
        dependencies,
        create_before_destroy: c.create_before_destroy,
        detail: match c.detail {
            Some(text) => Some(serde_json::from_str::<StatusDetail>(text).map_err(|e| corrupt(what, e))?),
            None => None,
        },
    })
}

pub(crate) fn encode_output(o: &OutputState) -> Result<EncodedOutput, StateError> {
    let module = printed(&o.module)?;
    let what = format!("output {module}:{}", o.name);
    Ok(EncodedOutput {
        partition: Partition::of_module(&o.module).key().to_string(),
        name: o.name.clone(),
        value: encode_value(&what, &o.value)?,
        sensitive: o.sensitive,
        module,
    })
}

pub(crate) fn decode_output(c: &OutputColumns<'_>) -> Result<OutputState, StateError> {
    let what = format!("output {}:{}", c.module, c.name);
    let module: ModuleAddr = c.module.parse().map_err(|e| corrupt(&what, e))?;
    Ok(OutputState {
        module,
        name: c.name.to_string(),
        value: decode_value(&what, c.value, c.sensitive_paths, c.unknown_paths)?,
        sensitive: c.sensitive,
    })
}

/// A change, encoded before a write transaction starts so the transaction stays short.
pub(crate) enum Encoded {
    Put(EncodedInstance),
    Remove { address: String, partition: String },
    PutOutput(EncodedOutput),
    RemoveOutput { module: String, name: String, partition: String },
}

impl Encoded {
    pub(crate) fn from_change(c: &Change) -> Result<Encoded, StateError> {
        Ok(match c {
            Change::Put(s) => Encoded::Put(encode_instance(s)?),
            Change::Remove(a) => {
                Encoded::Remove { address: a.to_string(), partition: Partition::of(a).key().to_string() }
            }
            Change::PutOutput(o) => Encoded::PutOutput(encode_output(o)?),
            Change::RemoveOutput { module, name } => Encoded::RemoveOutput {
                module: module.to_string(),
                name: name.clone(),
                partition: Partition::of_module(module).key().to_string(),
            },
        })
    }

    pub(crate) fn partition(&self) -> &str {
        match self {
            Encoded::Put(e) => &e.partition,
            Encoded::PutOutput(e) => &e.partition,
            Encoded::Remove { partition, .. } | Encoded::RemoveOutput { partition, .. } => partition,
        }
    }

    /// What to name in a [`StateError::PartitionNotLocked`].
    pub(crate) fn subject(&self) -> String {
        match self {
            Encoded::Put(e) => e.address.clone(),
            Encoded::Remove { address, .. } => address.clone(),
            Encoded::PutOutput(o) => output_subject(&o.module, &o.name),
            Encoded::RemoveOutput { module, name, .. } => output_subject(module, name),
        }
    }
}

fn output_subject(module: &str, name: &str) -> String {
    if module.is_empty() {
        format!("output.{name}")
    } else {
        format!("{module}.output.{name}")
    }
}

/// Refuses writes outside the guard's partitions (before any I/O).
pub(crate) fn check_partitions(guard: &dyn LockGuard, ops: &[Encoded]) -> Result<(), StateError> {
    for op in ops {
        let p = Partition::from_key(op.partition());
        if !guard.partitions().contains(&p) {
            return Err(StateError::PartitionNotLocked { partition: p, subject: op.subject() });
        }
    }
    Ok(())
}

/// The instance as a persistent backend would give it back (e.g. sets read back as lists).
/// The in-memory backend stores this so that engine tests see what real stores return.
pub(crate) fn normalize_instance(s: &InstanceState) -> Result<InstanceState, StateError> {
    let e = encode_instance(s)?;
    decode_instance(&InstanceColumns {
        address: &e.address,
        provider: &e.provider,
        schema_version: i64::from(e.schema_version),
        status: e.status,
        value: &e.value.json,
        sensitive_paths: e.value.sensitive_paths.as_deref(),
        unknown_paths: e.value.unknown_paths.as_deref(),
        dependencies: e.dependencies.as_deref(),
        create_before_destroy: e.create_before_destroy,
        detail: e.detail.as_deref(),
    })
}

/// See [`normalize_instance`].
pub(crate) fn normalize_output(o: &OutputState) -> Result<OutputState, StateError> {
    let e = encode_output(o)?;
    decode_output(&OutputColumns {
        module: &e.module,
        name: &e.name,
        value: &e.value.json,
        sensitive_paths: e.value.sensitive_paths.as_deref(),
        unknown_paths: e.value.unknown_paths.as_deref(),
        sensitive: e.sensitive,
    })
}

/// Serializes a value as plain JSON, exactly like `Value::to_json` but without building an
/// intermediate `serde_json::Value`.
struct PlainJson<'a>(&'a Value);

impl Serialize for PlainJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Null | Value::Unknown => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(n) => {
                // Same rule as the engine's `to_json`: integers that a double holds exactly
                // are written without a fraction.
                if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
                    s.serialize_i64(*n as i64)
                } else if n.is_finite() {
                    s.serialize_f64(*n)
                } else {
                    s.serialize_unit()
                }
            }
            Value::String(v) => s.serialize_str(v),
            Value::List(items) | Value::Set(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&PlainJson(item))?;
                }
                seq.end()
            }
            Value::Map(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, &PlainJson(v))?;
                }
                map.end()
            }
            Value::Sensitive(inner) => PlainJson(inner).serialize(s),
        }
    }
}

/// Deserializes plain JSON straight into a [`Value`], exactly like `Value::from_json`.
struct PlainValue(Value);

impl<'de> Deserialize<'de> for PlainValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PlainVisitor).map(PlainValue)
    }
}

struct PlainVisitor;

impl<'de> Visitor<'de> for PlainVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n as f64))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n as f64))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Number(n))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(PlainValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut m = BTreeMap::new();
        while let Some((k, PlainValue(v))) = map.next_entry::<String, PlainValue>()? {
            m.insert(k, v);
        }
        Ok(Value::Map(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        Value::map([
            ("name", Value::string("acme \"quoted\" ü")),
            ("password", Value::string("hunter2").mark_sensitive()),
            ("port", Value::number(5432)),
            ("ratio", Value::number(0.25)),
            ("big", Value::number(1e300)),
            ("nothing", Value::Null),
            (
                "nested",
                Value::map([("list", Value::List(vec![Value::Bool(true), Value::string("x").mark_sensitive()]))]),
            ),
        ])
    }

    #[test]
    fn plain_json_matches_the_engine_encoding() {
        let v = sample();
        let enc = encode_value("t", &v).unwrap();
        let ours: serde_json::Value = serde_json::from_str(&enc.json).unwrap();
        assert_eq!(ours, v.to_json());
        let back = decode_value("t", &enc.json, enc.sensitive_paths.as_deref(), enc.unknown_paths.as_deref()).unwrap();
        assert_eq!(back, v);
        let PlainValue(plain) = serde_json::from_str(&enc.json).unwrap();
        assert_eq!(plain, Value::from_json(&v.to_json()));
    }

    #[test]
    fn unknowns_of_an_intent_survive() {
        let v = Value::map([("id", Value::Unknown), ("secret", Value::Unknown.mark_sensitive())]);
        let enc = encode_value("t", &v).unwrap();
        assert!(enc.unknown_paths.is_some());
        let back = decode_value("t", &enc.json, enc.sensitive_paths.as_deref(), enc.unknown_paths.as_deref()).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn an_address_is_never_silently_renamed() {
        use tenantform_engine::address::InstanceKey;
        let base: InstanceAddr = "tenant.acme.random_id.x".parse().unwrap();
        for key in ["plain", "a b", "q\"uote", "back\\slash", "tab\t", "a${b}", "x%{y", "cr\r", "nul\u{1}"] {
            let mut s = InstanceState {
                addr: base.resource.instance(InstanceKey::Str(key.into())),
                provider: "random".into(),
                schema_version: 0,
                status: InstanceStatus::Ready,
                value: Value::Null,
                dependencies: Vec::new(),
                create_before_destroy: false,
                detail: None,
            };
            // Either stored and read back under the same address, or refused: never renamed.
            if let Ok(back) = normalize_instance(&s) {
                assert_eq!(back.addr, s.addr, "{key:?}");
            }
            s.dependencies = vec![s.addr.clone()];
            s.addr = base.clone();
            if let Ok(back) = normalize_instance(&s) {
                assert_eq!(back.dependencies, s.dependencies, "dependency {key:?}");
            }
        }
        let plain = base.resource.instance(InstanceKey::Str("a b".into()));
        let s = InstanceState {
            addr: plain,
            provider: "random".into(),
            schema_version: 0,
            status: InstanceStatus::Ready,
            value: Value::Null,
            dependencies: Vec::new(),
            create_before_destroy: false,
            detail: None,
        };
        assert!(normalize_instance(&s).is_ok(), "ordinary keys are stored");
    }

    #[test]
    fn corrupt_json_is_a_typed_error() {
        let err = decode_value("res.x", "{not json", None, None).unwrap_err();
        assert!(err.to_string().contains("res.x"), "{err}");
    }
}

/// A whole snapshot encoded for storage, keyed as the stores key their rows: resources by
/// address, outputs by (module, name). `replace_all` of every persistent backend diffs the
/// stored rows against this.
#[allow(clippy::type_complexity)]
pub(crate) fn encode_snapshot(
    snapshot: &tenantform_engine::state::StateSnapshot,
) -> Result<
    (std::collections::BTreeMap<String, EncodedInstance>, std::collections::BTreeMap<(String, String), EncodedOutput>),
    StateError,
> {
    let mut resources = std::collections::BTreeMap::new();
    for s in snapshot.resources.values() {
        let e = encode_instance(s)?;
        resources.insert(e.address.clone(), e);
    }
    let mut outputs = std::collections::BTreeMap::new();
    for o in snapshot.outputs.values() {
        let e = encode_output(o)?;
        outputs.insert((e.module.clone(), e.name.clone()), e);
    }
    Ok((resources, outputs))
}

//! Addresses of tenants, module instances, resources and resource instances.
//!
//! Addresses are data: `tenant.acme.postgres_database.main`, `random_password.admin[2]`,
//! `module.x["k"].y.z` parse ([`FromStr`]) and print ([`Display`]) one way, and order totally so
//! that plans, state dumps and graphs are stable. Plan output, state, `-target` and `import` all
//! use these types. This module knows nothing about configuration or state contents.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::value::Value;

/// The key of one instance of a resource or module: none, `[0]` (count) or `["k"]` (for_each).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum InstanceKey {
    #[default]
    None,
    Int(i64),
    Str(String),
}

impl InstanceKey {
    /// The key as a value (`count.index` or `each.key`).
    pub fn to_value(&self) -> Value {
        match self {
            InstanceKey::None => Value::Null,
            InstanceKey::Int(i) => Value::number(*i as f64),
            InstanceKey::Str(s) => Value::string(s.clone()),
        }
    }
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::None => Ok(()),
            InstanceKey::Int(i) => write!(f, "[{i}]"),
            InstanceKey::Str(s) => write!(f, "[{}]", quote_key(s)),
        }
    }
}

/// Quotes an instance key so that [`Target::from_str`] reads it back exactly: `"` and `\`
/// escaped, control characters as `\n`, `\r`, `\t` or `\uXXXX`. (Addresses are not
/// templates: `${` stays as it is.)
fn quote_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One step of a module path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ModuleStep {
    /// `module.<name>[key]`.
    Module { name: String, key: InstanceKey },
    /// `tenant.<slug>`: an instance of the tenant stack module (only at the root).
    Tenant(String),
}

/// The path of a module instance; empty is the root module.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ModuleAddr(pub Vec<ModuleStep>);

impl ModuleAddr {
    pub fn root() -> ModuleAddr {
        ModuleAddr(Vec::new())
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The tenant slug when this path is inside a tenant.
    pub fn tenant(&self) -> Option<&str> {
        match self.0.first() {
            Some(ModuleStep::Tenant(slug)) => Some(slug),
            _ => None,
        }
    }

    pub fn child(&self, step: ModuleStep) -> ModuleAddr {
        let mut steps = self.0.clone();
        steps.push(step);
        ModuleAddr(steps)
    }

    /// True when `self` is `other` or an ancestor of it.
    pub fn contains(&self, other: &ModuleAddr) -> bool {
        other.0.len() >= self.0.len() && other.0[..self.0.len()] == self.0[..]
    }

    pub fn parent(&self) -> Option<ModuleAddr> {
        if self.0.is_empty() {
            None
        } else {
            Some(ModuleAddr(self.0[..self.0.len() - 1].to_vec()))
        }
    }
}

impl fmt::Display for ModuleAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ".")?;
            }
            match step {
                ModuleStep::Tenant(slug) => write!(f, "tenant.{slug}")?,
                ModuleStep::Module { name, key } => write!(f, "module.{name}{key}")?,
            }
        }
        Ok(())
    }
}

/// Managed resource or data source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Managed,
    Data,
}

/// A resource (all its instances) inside one module instance.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceAddr {
    pub module: ModuleAddr,
    pub mode: Mode,
    pub ty: String,
    pub name: String,
}

impl ResourceAddr {
    pub fn instance(&self, key: InstanceKey) -> InstanceAddr {
        InstanceAddr { resource: self.clone(), key }
    }
}

impl fmt::Display for ResourceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.module.is_root() {
            write!(f, "{}.", self.module)?;
        }
        if self.mode == Mode::Data {
            write!(f, "data.")?;
        }
        write!(f, "{}.{}", self.ty, self.name)
    }
}

/// One resource instance: the unit of planning, applying and state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceAddr {
    pub resource: ResourceAddr,
    pub key: InstanceKey,
}

impl InstanceAddr {
    pub fn module(&self) -> &ModuleAddr {
        &self.resource.module
    }
    pub fn tenant(&self) -> Option<&str> {
        self.resource.module.tenant()
    }
    pub fn mode(&self) -> Mode {
        self.resource.mode
    }
    pub fn ty(&self) -> &str {
        &self.resource.ty
    }
}

impl fmt::Display for InstanceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.resource, self.key)
    }
}

/// What a user may name on the command line (`-target`, `state list`, `state mv`): a module
/// instance or tenant, a whole resource, or one instance.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    Module(ModuleAddr),
    Resource(ResourceAddr),
    Instance(InstanceAddr),
}

impl Target {
    /// True when the instance is named by this target.
    pub fn matches(&self, addr: &InstanceAddr) -> bool {
        match self {
            Target::Module(m) => m.contains(&addr.resource.module),
            Target::Resource(r) => &addr.resource == r,
            Target::Instance(i) => i == addr,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Module(m) => write!(f, "{m}"),
            Target::Resource(r) => write!(f, "{r}"),
            Target::Instance(i) => write!(f, "{i}"),
        }
    }
}

/// Why an address string did not parse.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("invalid address {input:?}: {reason}")]
pub struct AddressError {
    pub input: String,
    pub reason: String,
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn fail<T>(&self, reason: impl Into<String>) -> Result<T, AddressError> {
        Err(AddressError { input: self.input.to_string(), reason: reason.into() })
    }

    fn rest(&self) -> &'a str {
        &self.input[self.pos..]
    }

    fn at_end(&self) -> bool {
        self.pos >= self.input.len()
    }

    fn ident(&mut self) -> Result<String, AddressError> {
        let rest = self.rest();
        let len = rest
            .char_indices()
            .find(|(i, c)| !(c.is_alphanumeric() || *c == '_' || (*c == '-' && *i > 0)))
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        if len == 0 {
            return self.fail(format!("expected a name at position {}", self.pos + 1));
        }
        let id = rest[..len].to_string();
        self.pos += len;
        Ok(id)
    }

    fn dot(&mut self) -> Result<(), AddressError> {
        if self.rest().starts_with('.') {
            self.pos += 1;
            Ok(())
        } else {
            self.fail(format!("expected \".\" at position {}", self.pos + 1))
        }
    }

    fn key(&mut self) -> Result<InstanceKey, AddressError> {
        if !self.rest().starts_with('[') {
            return Ok(InstanceKey::None);
        }
        self.pos += 1;
        let rest = self.rest();
        let key = if let Some(stripped) = rest.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = stripped.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    '\\' => match chars.next() {
                        Some((_, 'n')) => out.push('\n'),
                        Some((_, 't')) => out.push('\t'),
                        Some((_, 'r')) => out.push('\r'),
                        Some((_, 'u')) => {
                            let hex: String = (0..4).filter_map(|_| chars.next().map(|(_, c)| c)).collect();
                            match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                                Some(c) => out.push(c),
                                None => return self.fail(format!("invalid escape \\u{hex} in an instance key")),
                            }
                        }
                        Some((_, c)) => out.push(c),
                        None => break,
                    },
                    c => out.push(c),
                }
            }
            let Some(end) = end else {
                return self.fail("unterminated string key");
            };
            self.pos += end + 2;
            InstanceKey::Str(out)
        } else {
            let len = rest.find(']').unwrap_or(rest.len());
            let digits = &rest[..len];
            match digits.trim().parse::<i64>() {
                Ok(i) => {
                    self.pos += len;
                    InstanceKey::Int(i)
                }
                Err(_) => return self.fail(format!("instance key {digits:?} must be a number or a quoted string")),
            }
        };
        if !self.rest().starts_with(']') {
            return self.fail("expected \"]\" after the instance key");
        }
        self.pos += 1;
        Ok(key)
    }
}

impl FromStr for Target {
    type Err = AddressError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let mut lx = Lexer { input: input.trim(), pos: 0 };
        let mut module = ModuleAddr::root();
        if lx.at_end() {
            return lx.fail("the address is empty");
        }
        loop {
            let save = lx.pos;
            let word = lx.ident()?;
            match word.as_str() {
                "tenant" if module.is_root() => {
                    lx.dot()?;
                    let slug = lx.ident()?;
                    module.0.push(ModuleStep::Tenant(slug));
                }
                "module" => {
                    lx.dot()?;
                    let name = lx.ident()?;
                    let key = lx.key()?;
                    module.0.push(ModuleStep::Module { name, key });
                }
                _ => {
                    lx.pos = save;
                    break;
                }
            }
            if lx.at_end() {
                return Ok(Target::Module(module));
            }
            lx.dot()?;
        }
        let mut mode = Mode::Managed;
        let mut ty = lx.ident()?;
        if ty == "data" {
            mode = Mode::Data;
            lx.dot()?;
            ty = lx.ident()?;
        }
        if lx.at_end() {
            return lx.fail(format!("\"{ty}\" needs a resource name: {ty}.NAME"));
        }
        lx.dot()?;
        let name = lx.ident()?;
        let resource = ResourceAddr { module, mode, ty, name };
        if lx.at_end() {
            return Ok(Target::Resource(resource));
        }
        let key = lx.key()?;
        if !lx.at_end() {
            return lx.fail(format!("unexpected {:?} after the instance key", lx.rest()));
        }
        Ok(Target::Instance(resource.instance(key)))
    }
}

impl FromStr for InstanceAddr {
    type Err = AddressError;

    /// Parses a resource instance address; a resource without a key is its no-key instance.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        match input.parse::<Target>()? {
            Target::Instance(i) => Ok(i),
            Target::Resource(r) => Ok(r.instance(InstanceKey::None)),
            Target::Module(_) => Err(AddressError {
                input: input.to_string(),
                reason: "this names a module or tenant, not a resource instance".into(),
            }),
        }
    }
}

impl FromStr for ModuleAddr {
    type Err = AddressError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        if input.is_empty() {
            return Ok(ModuleAddr::root());
        }
        match input.parse::<Target>()? {
            Target::Module(m) => Ok(m),
            _ => Err(AddressError { input: input.to_string(), reason: "this is not a module address".into() }),
        }
    }
}

macro_rules! serde_via_string {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
serde_via_string!(InstanceAddr);
serde_via_string!(ModuleAddr);
serde_via_string!(Target);

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(s: &str) {
        let t: Target = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(t.to_string(), s);
    }

    #[test]
    fn addresses_round_trip() {
        round_trip("tenant.acme.postgres_database.main");
        round_trip("random_password.admin[2]");
        round_trip("module.x[\"k\"].y.z");
        round_trip("tenant.acme");
        round_trip("tenant.acme.module.db[0].data.postgres_role.r[\"a b\"]");
        round_trip("data.local_file.x");
    }

    #[test]
    fn string_keys_round_trip_whatever_they_hold() {
        for key in ["a${b}", "%{x}", "q\"uote", "back\\slash", "line\nbreak\r\t", "bell\u{7}", "ünï ☃", "[0]"] {
            let addr =
                ResourceAddr { module: ModuleAddr::root(), mode: Mode::Managed, ty: "t".into(), name: "n".into() }
                    .instance(InstanceKey::Str(key.to_string()));
            let text = addr.to_string();
            let back: InstanceAddr = text.parse().unwrap_or_else(|e| panic!("{key:?} → {text}: {e}"));
            assert_eq!(back, addr, "{key:?} → {text}");
        }
    }

    #[test]
    fn parses_into_parts() {
        let i: InstanceAddr = "tenant.acme-co.local_service.web[\"x\"]".parse().unwrap();
        assert_eq!(i.tenant(), Some("acme-co"));
        assert_eq!(i.resource.ty, "local_service");
        assert_eq!(i.key, InstanceKey::Str("x".into()));
    }

    #[test]
    fn rejects_malformed() {
        for bad in ["", "foo", "a.b[", "a.b[x]", "a.b[0]c", "tenant", "a..b"] {
            assert!(bad.parse::<Target>().is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn target_matching() {
        let i: InstanceAddr = "tenant.acme.x.y[1]".parse().unwrap();
        assert!("tenant.acme".parse::<Target>().unwrap().matches(&i));
        assert!("tenant.acme.x.y".parse::<Target>().unwrap().matches(&i));
        assert!(!"tenant.acme.x.y[0]".parse::<Target>().unwrap().matches(&i));
        assert!(!"tenant.globex".parse::<Target>().unwrap().matches(&i));
    }
}

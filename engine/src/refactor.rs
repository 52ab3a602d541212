//! Moving and forgetting state records without touching infrastructure: `state mv`, `state rm`
//! and `moved {}` blocks. Pure functions over a [`StateSnapshot`] that return the [`Change`]s
//! to commit; the caller takes the locks (of every partition involved) and commits them.

use std::collections::BTreeMap;

use crate::address::{InstanceAddr, ModuleAddr, Target};
use crate::state::{Change, OutputState, Partition, StateSnapshot};

/// Why a move or removal cannot be done.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct RefactorError(pub String);

/// The renames a move performs: `(old, new)` instance addresses, plus output renames.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Moves {
    pub resources: Vec<(InstanceAddr, InstanceAddr)>,
    pub outputs: Vec<((ModuleAddr, String), (ModuleAddr, String))>,
}

impl Moves {
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.outputs.is_empty()
    }

    /// Every partition a commit of these moves writes.
    pub fn partitions(&self) -> Vec<Partition> {
        let mut out: Vec<Partition> = Vec::new();
        for (a, b) in &self.resources {
            out.push(Partition::of(a));
            out.push(Partition::of(b));
        }
        for ((a, _), (b, _)) in &self.outputs {
            out.push(Partition::of_module(a));
            out.push(Partition::of_module(b));
        }
        out.sort();
        out.dedup();
        out
    }
}

fn reroot(m: &ModuleAddr, from: &ModuleAddr, to: &ModuleAddr) -> ModuleAddr {
    let mut steps = to.0.clone();
    steps.extend(m.0[from.0.len()..].iter().cloned());
    ModuleAddr(steps)
}

/// Works out what `from → to` renames in `state`. Errors when nothing matches, when the kinds
/// differ (a module onto a resource), when resource types differ, or when the destination is
/// already in use.
pub fn plan_move(state: &StateSnapshot, from: &Target, to: &Target) -> Result<Moves, RefactorError> {
    let mut moves = Moves::default();
    match (from, to) {
        (Target::Module(f), Target::Module(t)) => {
            if f.is_root() || t.is_root() {
                return Err(RefactorError("the root module cannot be moved".into()));
            }
            if f.contains(t) || t.contains(f) {
                return Err(RefactorError(format!("cannot move {f} into itself ({t})")));
            }
            for addr in state.resources.keys() {
                if f.contains(addr.module()) {
                    let mut new = addr.clone();
                    new.resource.module = reroot(addr.module(), f, t);
                    moves.resources.push((addr.clone(), new));
                }
            }
            for (module, name) in state.outputs.keys() {
                if f.contains(module) {
                    moves.outputs.push(((module.clone(), name.clone()), (reroot(module, f, t), name.clone())));
                }
            }
            if moves.resources.is_empty() {
                return Err(RefactorError(format!("nothing in state is under {f}")));
            }
            if let Some(taken) = state.resources.keys().find(|a| t.contains(a.module())) {
                return Err(RefactorError(format!(
                    "{t} already has objects in state (e.g. {taken}); move or remove them first"
                )));
            }
        }
        (Target::Resource(f), Target::Resource(t)) => {
            if f.ty != t.ty || f.mode != t.mode {
                return Err(RefactorError(format!("the resource types differ ({} and {})", f.ty, t.ty)));
            }
            for addr in state.resources.keys().filter(|a| &a.resource == f) {
                moves.resources.push((addr.clone(), t.instance(addr.key.clone())));
            }
            if moves.resources.is_empty() {
                return Err(RefactorError(format!("no instances of {f} in state")));
            }
            if let Some(taken) = state.resources.keys().find(|a| &a.resource == t) {
                return Err(RefactorError(format!("{taken} already exists in state")));
            }
        }
        _ => {
            let f = single(state, from)?;
            let t = match to {
                Target::Instance(i) => i.clone(),
                Target::Resource(r) => r.instance(crate::address::InstanceKey::None),
                Target::Module(m) => {
                    return Err(RefactorError(format!("cannot move the resource instance {f} onto the module {m}")));
                }
            };
            if f.resource.ty != t.resource.ty || f.resource.mode != t.resource.mode {
                return Err(RefactorError(format!("the resource types differ ({} and {})", f.ty(), t.ty())));
            }
            if state.resources.contains_key(&t) {
                return Err(RefactorError(format!("{t} already exists in state")));
            }
            moves.resources.push((f, t));
        }
    }
    Ok(moves)
}

fn single(state: &StateSnapshot, t: &Target) -> Result<InstanceAddr, RefactorError> {
    let addr = match t {
        Target::Instance(i) => i.clone(),
        Target::Resource(r) => r.instance(crate::address::InstanceKey::None),
        Target::Module(m) => {
            return Err(RefactorError(format!("{m} is a module; move it onto another module address")))
        }
    };
    if state.resources.contains_key(&addr) {
        Ok(addr)
    } else {
        Err(RefactorError(format!("{addr} is not in state")))
    }
}

/// The state changes that perform `moves`, rewriting dependencies that point at moved objects.
pub fn move_changes(state: &StateSnapshot, moves: &Moves) -> Vec<Change> {
    let renamed: BTreeMap<&InstanceAddr, &InstanceAddr> = moves.resources.iter().map(|(a, b)| (a, b)).collect();
    let mut changes = Vec::new();
    for (old, new) in &moves.resources {
        if let Some(rec) = state.resources.get(old) {
            let mut rec = rec.clone();
            rec.addr = new.clone();
            rec.dependencies = rec
                .dependencies
                .iter()
                .map(|d| renamed.get(d).map(|n| (*n).clone()).unwrap_or_else(|| d.clone()))
                .collect();
            changes.push(Change::Remove(old.clone()));
            changes.push(Change::Put(rec));
        }
    }
    // Records that stay but depend on moved ones.
    for (addr, rec) in &state.resources {
        if renamed.contains_key(addr) {
            continue;
        }
        if rec.dependencies.iter().any(|d| renamed.contains_key(d)) {
            let mut rec = rec.clone();
            rec.dependencies = rec
                .dependencies
                .iter()
                .map(|d| renamed.get(d).map(|n| (*n).clone()).unwrap_or_else(|| d.clone()))
                .collect();
            changes.push(Change::Put(rec));
        }
    }
    for ((om, on), (nm, nn)) in &moves.outputs {
        if let Some(o) = state.outputs.get(&(om.clone(), on.clone())) {
            changes.push(Change::RemoveOutput { module: om.clone(), name: on.clone() });
            changes.push(Change::PutOutput(OutputState {
                module: nm.clone(),
                name: nn.clone(),
                value: o.value.clone(),
                sensitive: o.sensitive,
            }));
        }
    }
    changes
}

/// The instances `target` names in `state` (for `state rm`, `state list`).
pub fn matching(state: &StateSnapshot, target: &Target) -> Vec<InstanceAddr> {
    state.resources.keys().filter(|a| target.matches(a)).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{InstanceState, InstanceStatus};
    use crate::value::Value;

    fn state(addrs: &[&str]) -> StateSnapshot {
        let mut s = StateSnapshot::default();
        for a in addrs {
            let addr: InstanceAddr = a.parse().unwrap();
            s.resources.insert(
                addr.clone(),
                InstanceState {
                    addr,
                    provider: "random".into(),
                    schema_version: 0,
                    status: InstanceStatus::Ready,
                    value: Value::map([("id", Value::string("x"))]),
                    dependencies: vec![],
                    create_before_destroy: false,
                    detail: None,
                },
            );
        }
        s
    }

    #[test]
    fn moves_a_whole_tenant() {
        let s = state(&["tenant.acme.random_id.a", "tenant.acme.module.db.random_id.b", "tenant.globex.random_id.a"]);
        let m = plan_move(&s, &"tenant.acme".parse().unwrap(), &"tenant.acme-corp".parse().unwrap()).unwrap();
        let mut news: Vec<String> = m.resources.iter().map(|(_, n)| n.to_string()).collect();
        news.sort();
        assert_eq!(news, vec!["tenant.acme-corp.module.db.random_id.b", "tenant.acme-corp.random_id.a"]);
        assert_eq!(m.partitions().len(), 2);
        assert!(plan_move(&s, &"tenant.acme".parse().unwrap(), &"tenant.globex".parse().unwrap()).is_err());
        assert!(plan_move(&s, &"tenant.nope".parse().unwrap(), &"tenant.x".parse().unwrap()).is_err());
    }

    #[test]
    fn moves_resources_and_instances_and_rewrites_dependencies() {
        let mut s = state(&["random_id.a[0]", "random_id.a[1]", "random_pet.p"]);
        s.resources.get_mut(&"random_pet.p".parse::<InstanceAddr>().unwrap()).unwrap().dependencies =
            vec!["random_id.a[0]".parse().unwrap()];
        let m = plan_move(&s, &"random_id.a".parse().unwrap(), &"random_id.b".parse().unwrap()).unwrap();
        assert_eq!(m.resources.len(), 2);
        let changes = move_changes(&s, &m);
        let pet = changes.iter().find_map(|c| match c {
            Change::Put(r) if r.addr.to_string() == "random_pet.p" => Some(r.dependencies[0].to_string()),
            _ => None,
        });
        assert_eq!(pet.as_deref(), Some("random_id.b[0]"));
        let m = plan_move(&s, &"random_id.a[1]".parse().unwrap(), &"random_id.a[\"one\"]".parse().unwrap()).unwrap();
        assert_eq!(m.resources[0].1.to_string(), "random_id.a[\"one\"]");
        assert!(plan_move(&s, &"random_id.a[0]".parse().unwrap(), &"random_pet.q".parse().unwrap()).is_err());
        assert!(plan_move(&s, &"random_id.a[0]".parse().unwrap(), &"random_id.a[1]".parse().unwrap()).is_err());
    }
}

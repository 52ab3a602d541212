//! The in-memory document store every emulator keeps its objects in: JSON objects by
//! collection (`branches`, `dns_records`) and id, listed in creation order. Multi-step logic
//! that must be atomic (check for a duplicate name, then insert) runs inside [`Store::with`].

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::Value as Json;

/// Collections of documents. Access through [`Store::with`] for atomic sequences.
#[derive(Debug, Default)]
pub struct Collections {
    colls: BTreeMap<String, Vec<(String, Json)>>,
}

impl Collections {
    pub fn get(&self, coll: &str, id: &str) -> Option<&Json> {
        self.colls.get(coll)?.iter().find(|(k, _)| k == id).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, coll: &str, id: &str) -> Option<&mut Json> {
        self.colls.get_mut(coll)?.iter_mut().find(|(k, _)| k == id).map(|(_, v)| v)
    }

    /// Inserts or replaces a document (a replaced one keeps its position).
    pub fn insert(&mut self, coll: &str, id: &str, doc: Json) {
        let items = self.colls.entry(coll.to_string()).or_default();
        match items.iter_mut().find(|(k, _)| k == id) {
            Some(slot) => slot.1 = doc,
            None => items.push((id.to_string(), doc)),
        }
    }

    pub fn remove(&mut self, coll: &str, id: &str) -> Option<Json> {
        let items = self.colls.get_mut(coll)?;
        let i = items.iter().position(|(k, _)| k == id)?;
        Some(items.remove(i).1)
    }

    /// Documents of a collection in creation order.
    pub fn iter(&self, coll: &str) -> impl Iterator<Item = &Json> {
        self.colls.get(coll).into_iter().flatten().map(|(_, v)| v)
    }

    /// Documents matching a predicate.
    pub fn find(&self, coll: &str, pred: impl Fn(&Json) -> bool) -> Vec<Json> {
        self.iter(coll).filter(|d| pred(d)).cloned().collect()
    }

    /// Removes every document matching a predicate; returns how many.
    pub fn remove_where(&mut self, coll: &str, pred: impl Fn(&Json) -> bool) -> usize {
        let Some(items) = self.colls.get_mut(coll) else { return 0 };
        let before = items.len();
        items.retain(|(_, v)| !pred(v));
        before - items.len()
    }
}

/// A thread-safe [`Collections`].
#[derive(Debug, Default)]
pub struct Store {
    inner: Mutex<Collections>,
}

impl Store {
    /// Runs `f` with exclusive access (atomic with respect to other requests).
    pub fn with<R>(&self, f: impl FnOnce(&mut Collections) -> R) -> R {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut g)
    }

    pub fn get(&self, coll: &str, id: &str) -> Option<Json> {
        self.with(|c| c.get(coll, id).cloned())
    }

    pub fn insert(&self, coll: &str, id: &str, doc: Json) {
        self.with(|c| c.insert(coll, id, doc))
    }

    pub fn remove(&self, coll: &str, id: &str) -> Option<Json> {
        self.with(|c| c.remove(coll, id))
    }

    pub fn list(&self, coll: &str) -> Vec<Json> {
        self.with(|c| c.iter(coll).cloned().collect())
    }

    /// Every collection as `{ "<collection>": [docs…] }` (the admin listing).
    pub fn snapshot(&self) -> Json {
        self.with(|c| {
            Json::Object(
                c.colls
                    .iter()
                    .map(|(k, v)| (k.clone(), Json::Array(v.iter().map(|(_, d)| d.clone()).collect())))
                    .collect(),
            )
        })
    }

    pub fn clear(&self) {
        self.with(|c| c.colls.clear())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_creation_order_and_replaces_in_place() {
        let s = Store::default();
        s.insert("b", "2", json!({"id": "2"}));
        s.insert("b", "1", json!({"id": "1"}));
        s.insert("b", "2", json!({"id": "2", "v": true}));
        assert_eq!(s.list("b"), vec![json!({"id": "2", "v": true}), json!({"id": "1"})]);
        assert_eq!(s.with(|c| c.remove_where("b", |d| d["id"] == "1")), 1);
        assert_eq!(s.snapshot(), json!({"b": [{"id": "2", "v": true}]}));
        assert!(s.remove("b", "2").is_some() && s.get("b", "2").is_none());
    }
}

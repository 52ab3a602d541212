//! `random_pet`: readable random names such as `wisely-helpful-otter`, built like
//! hashicorp/random (golang-petname): one word is a name, two are adjective + name, more add
//! adverbs in front. The word lists ship with the crate (`words/*.txt`).
//!
//! Import ID: the pet name (`<id>`): `length` is the number of `-`-separated words, the
//! separator `-`, no prefix. `<prefix>,<words>` imports a prefixed name
//! (`web,happy-otter` → id `web-happy-otter`, prefix `web`, length 2).

use std::sync::OnceLock;

use async_trait::async_trait;
use rand::rngs::OsRng;
use rand::seq::SliceRandom;
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, OpContext, ProviderError, ResourceSchema, ResourceType, Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use crate::support::attrs::{path, val_opt_str, Attrs};

const DEFAULT_LENGTH: i64 = 2;
const DEFAULT_SEPARATOR: &str = "-";
const MAX_LENGTH: i64 = 64;

struct Words {
    adverbs: Vec<&'static str>,
    adjectives: Vec<&'static str>,
    names: Vec<&'static str>,
}

fn words() -> &'static Words {
    static WORDS: OnceLock<Words> = OnceLock::new();
    WORDS.get_or_init(|| {
        let list = |s: &'static str| s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        Words {
            adverbs: list(include_str!("words/adverbs.txt")),
            adjectives: list(include_str!("words/adjectives.txt")),
            names: list(include_str!("words/names.txt")),
        }
    })
}

pub fn schema() -> ResourceSchema {
    let schema = Schema::new()
        .describe("A random, readable pet name such as `wisely-helpful-otter`. Every input is force-new.")
        .attr(
            "length",
            AttributeSchema::optional(Type::Number)
                .force_new()
                .default(Value::number(DEFAULT_LENGTH as f64))
                .describe("The number of words in the name (1 to 64). Default 2."),
        )
        .attr(
            "separator",
            AttributeSchema::optional(Type::String)
                .force_new()
                .default(Value::string(DEFAULT_SEPARATOR))
                .describe("The character(s) between words. Default \"-\"."),
        )
        .attr(
            "prefix",
            AttributeSchema::optional(Type::String)
                .force_new()
                .describe("A string to put before the name, followed by the separator."),
        )
        .attr("keepers", super::keepers_attr())
        .attr("id", AttributeSchema::computed(Type::String).describe("The generated pet name."));
    ResourceSchema { schema, version: 0, import_id: "<id> or <prefix>,<words> (words separated by \"-\")".into() }
}

/// Generates a pet name of `length` words (adverbs, an adjective, a name).
pub fn generate(length: usize, separator: &str) -> String {
    let w = words();
    let mut rng = OsRng;
    let pick = |list: &[&'static str], rng: &mut OsRng| *list.choose(rng).expect("word lists are not empty");
    let mut parts: Vec<&str> = Vec::with_capacity(length);
    match length {
        0 => {}
        1 => parts.push(pick(&w.names, &mut rng)),
        n => {
            for _ in 0..n - 2 {
                parts.push(pick(&w.adverbs, &mut rng));
            }
            parts.push(pick(&w.adjectives, &mut rng));
            parts.push(pick(&w.names, &mut rng));
        }
    }
    parts.join(separator)
}

fn state(id: String, length: i64, separator: &str, prefix: Option<&str>, keepers: Value) -> Value {
    Value::map([
        ("id", Value::string(id)),
        ("length", Value::number(length as f64)),
        ("separator", Value::string(separator)),
        ("prefix", val_opt_str(prefix)),
        ("keepers", keepers),
    ])
}

pub struct RandomPet;

#[async_trait]
impl ResourceType for RandomPet {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        match config.get("length").and_then(Value::as_i64) {
            Some(n) if !(1..=MAX_LENGTH).contains(&n) => vec![ConfigProblem {
                path: path("length"),
                message: format!("length must be between 1 and {MAX_LENGTH}, got {n}"),
            }],
            _ => Vec::new(),
        }
    }

    async fn create(&self, planned: &Value, _ctx: &OpContext) -> Result<Value, ProviderError> {
        if let Some(p) = self.validate(planned).into_iter().next() {
            return Err(ProviderError::permanent(p.message).at(p.path));
        }
        let a = Attrs::new(planned);
        let length = a.i64_or("length", DEFAULT_LENGTH)?;
        let separator = a.str_or("separator", DEFAULT_SEPARATOR)?;
        let prefix = a.opt_str("prefix")?;
        let pet = generate(length as usize, separator);
        let id = match prefix {
            Some(p) => format!("{p}{separator}{pet}"),
            None => pet,
        };
        Ok(state(id, length, separator, prefix, a.raw("keepers")))
    }

    async fn read(&self, current: &Value, _ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        Ok(Some(current.clone()))
    }

    async fn update(&self, prior: &Value, planned: &Value, _ctx: &OpContext) -> Result<Value, ProviderError> {
        Ok(super::carry_over(prior, planned, &["id"]))
    }

    async fn delete(&self, _current: &Value, _ctx: &OpContext) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn import(&self, id: &str, _ctx: &OpContext) -> Result<Value, ProviderError> {
        let (prefix, words) = match id.split_once(',') {
            Some((p, w)) => (Some(p).filter(|p| !p.is_empty()), w),
            None => (None, id),
        };
        if words.is_empty() || words.split(DEFAULT_SEPARATOR).any(str::is_empty) {
            return Err(ProviderError::permanent(format!("{id:?} is not a pet name"))
                .with_help("the import ID of random_pet is the name, e.g. `happy-otter`, or `<prefix>,<words>`"));
        }
        let length = words.split(DEFAULT_SEPARATOR).count() as i64;
        let full = match prefix {
            Some(p) => format!("{p}{DEFAULT_SEPARATOR}{words}"),
            None => words.to_string(),
        };
        Ok(state(full, length, DEFAULT_SEPARATOR, prefix, Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_lists_are_real_and_sizeable() {
        let w = words();
        assert!(w.adverbs.len() > 200 && w.adjectives.len() > 400 && w.names.len() > 400);
        assert!(w.names.contains(&"otter") || w.names.contains(&"octopus"));
        for list in [&w.adverbs, &w.adjectives, &w.names] {
            assert!(list.iter().all(|s| s.chars().all(|c| c.is_ascii_lowercase())));
        }
    }

    #[tokio::test]
    async fn shapes_follow_length_and_prefix() {
        let ctx = OpContext::default();
        let w = words();
        let one = generate(1, "-");
        assert!(w.names.contains(&one.as_str()));
        let three = generate(3, "_");
        let parts: Vec<&str> = three.split('_').collect();
        assert!(w.adverbs.contains(&parts[0]) && w.adjectives.contains(&parts[1]) && w.names.contains(&parts[2]));

        let planned = Value::map([("length", Value::Null), ("prefix", Value::string("web"))]);
        let s = RandomPet.create(&planned, &ctx).await.unwrap();
        let id = s.get("id").and_then(Value::as_str).unwrap();
        assert!(id.starts_with("web-") && id.split('-').count() == 3, "{id}");
        assert_eq!(s.get("length"), Some(&Value::number(2)));
        assert_eq!(s.get("separator"), Some(&Value::string("-")));
    }

    #[tokio::test]
    async fn import_by_id() {
        let ctx = OpContext::default();
        let s = RandomPet.import("wisely-helpful-otter", &ctx).await.unwrap();
        assert_eq!(s.get("length"), Some(&Value::number(3)));
        assert_eq!(s.get("id"), Some(&Value::string("wisely-helpful-otter")));
        let p = RandomPet.import("web,happy-otter", &ctx).await.unwrap();
        assert_eq!(p.get("id"), Some(&Value::string("web-happy-otter")));
        assert_eq!(p.get("prefix"), Some(&Value::string("web")));
        assert_eq!(p.get("length"), Some(&Value::number(2)));
        assert!(RandomPet.import("bad--name", &ctx).await.is_err());
    }
}

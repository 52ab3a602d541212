//! `random_id`: random bytes in several encodings, for unique names (hashicorp/random's
//! attributes: `b64_url`, `b64_std`, `hex`, `dec`, and `id`). `prefix` is prepended to every
//! encoding except `id` (which is the bare `b64_url`), as in hashicorp/random.
//!
//! Import ID: the `b64_url` value, optionally preceded by a prefix and a comma
//! (`tenantform import random_id.server web-,p-9E`); `byte_length` is taken from the decoded
//! bytes.

use async_trait::async_trait;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use rand::rngs::OsRng;
use rand::RngCore;
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, OpContext, ProviderError, ResourceSchema, ResourceType, Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use crate::support::attrs::{path, val_opt_str, Attrs};
use crate::support::fs::hex;

/// Upper bound on `byte_length`, to keep a typo from generating megabytes into state.
const MAX_BYTES: i64 = 1024;

pub fn schema() -> ResourceSchema {
    let computed = |d: &str| AttributeSchema::computed(Type::String).describe(d);
    let schema = Schema::new()
        .describe("Random bytes, encoded several ways; useful for unique resource names. Every input is force-new.")
        .attr(
            "byte_length",
            AttributeSchema::required(Type::Number)
                .force_new()
                .describe("The number of random bytes to produce (at least 1)."),
        )
        .attr(
            "prefix",
            AttributeSchema::optional(Type::String)
                .force_new()
                .describe("Arbitrary string to prefix the output value with (not added to `id`)."),
        )
        .attr("keepers", super::keepers_attr())
        .attr("id", computed("The generated id as base64 URL-safe without padding (no prefix)."))
        .attr("b64_url", computed("prefix + the bytes in base64 URL-safe encoding without padding."))
        .attr("b64_std", computed("prefix + the bytes in standard base64 encoding with padding."))
        .attr("hex", computed("prefix + the bytes as lowercase hexadecimal (two digits per byte)."))
        .attr("dec", computed("prefix + the bytes read as a big-endian unsigned integer, in decimal."));
    ResourceSchema { schema, version: 0, import_id: "[<prefix>,]<b64_url>".into() }
}

pub struct RandomId;

fn state(bytes: &[u8], prefix: Option<&str>, keepers: Value) -> Value {
    let p = prefix.unwrap_or("");
    let id = URL_SAFE_NO_PAD.encode(bytes);
    Value::map([
        ("byte_length", Value::number(bytes.len() as f64)),
        ("prefix", val_opt_str(prefix)),
        ("keepers", keepers),
        ("b64_url", Value::string(format!("{p}{id}"))),
        ("b64_std", Value::string(format!("{p}{}", STANDARD.encode(bytes)))),
        ("hex", Value::string(format!("{p}{}", hex(bytes)))),
        ("dec", Value::string(format!("{p}{}", to_decimal(bytes)))),
        ("id", Value::string(id)),
    ])
}

/// The bytes as a big-endian unsigned integer in decimal (any length).
pub fn to_decimal(bytes: &[u8]) -> String {
    let mut num: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    let mut digits = Vec::new();
    while !num.is_empty() {
        let mut rem = 0u32;
        for d in num.iter_mut() {
            let cur = rem * 256 + u32::from(*d);
            *d = (cur / 10) as u8;
            rem = cur % 10;
        }
        digits.push(b'0' + rem as u8);
        let lead = num.iter().take_while(|b| **b == 0).count();
        num.drain(..lead);
    }
    if digits.is_empty() {
        return "0".into();
    }
    digits.reverse();
    String::from_utf8(digits).expect("ASCII digits")
}

#[async_trait]
impl ResourceType for RandomId {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        match config.get("byte_length").and_then(Value::as_i64) {
            Some(n) if !(1..=MAX_BYTES).contains(&n) => vec![ConfigProblem {
                path: path("byte_length"),
                message: format!("byte_length must be between 1 and {MAX_BYTES}, got {n}"),
            }],
            _ => Vec::new(),
        }
    }

    async fn create(&self, planned: &Value, _ctx: &OpContext) -> Result<Value, ProviderError> {
        if let Some(p) = self.validate(planned).into_iter().next() {
            return Err(ProviderError::permanent(p.message).at(p.path));
        }
        let a = Attrs::new(planned);
        let mut bytes = vec![0u8; a.i64("byte_length")? as usize];
        OsRng.fill_bytes(&mut bytes);
        Ok(state(&bytes, a.opt_str("prefix")?, a.raw("keepers")))
    }

    async fn read(&self, current: &Value, _ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        Ok(Some(current.clone()))
    }

    async fn update(&self, prior: &Value, planned: &Value, _ctx: &OpContext) -> Result<Value, ProviderError> {
        Ok(super::carry_over(prior, planned, &["id", "b64_url", "b64_std", "hex", "dec"]))
    }

    async fn delete(&self, _current: &Value, _ctx: &OpContext) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn import(&self, id: &str, _ctx: &OpContext) -> Result<Value, ProviderError> {
        let (prefix, encoded) = match id.rfind(',') {
            Some(i) => (Some(&id[..i]), &id[i + 1..]),
            None => (None, id),
        };
        let bytes = URL_SAFE_NO_PAD.decode(encoded).map_err(|e| {
            ProviderError::permanent(format!("cannot decode {encoded:?} as base64 URL-safe without padding: {e}"))
                .with_help("the import ID of random_id is its b64_url value without the prefix, optionally preceded by `<prefix>,`")
        })?;
        if bytes.is_empty() {
            return Err(ProviderError::permanent("the import ID of random_id decodes to no bytes"));
        }
        Ok(state(&bytes, prefix.filter(|p| !p.is_empty()), Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_of_big_numbers() {
        assert_eq!(to_decimal(&[0]), "0");
        assert_eq!(to_decimal(&[1, 0]), "256");
        assert_eq!(to_decimal(&[0xff; 8]), u64::MAX.to_string());
        assert_eq!(to_decimal(&[0x01, 0, 0, 0, 0, 0, 0, 0, 0]), "18446744073709551616");
    }

    #[tokio::test]
    async fn create_encodes_consistently_and_import_reverses_it() {
        let ctx = OpContext::default();
        let planned = Value::map([("byte_length", Value::number(8)), ("prefix", Value::string("web-"))]);
        let s = RandomId.create(&planned, &ctx).await.unwrap();
        let get = |k: &str| s.get(k).and_then(Value::as_str).unwrap().to_string();
        let id = get("id");
        assert_eq!(get("b64_url"), format!("web-{id}"));
        let bytes = URL_SAFE_NO_PAD.decode(&id).unwrap();
        assert_eq!(bytes.len(), 8);
        assert_eq!(get("hex"), format!("web-{}", hex(&bytes)));
        assert_eq!(get("dec"), format!("web-{}", u64::from_be_bytes(bytes.clone().try_into().unwrap())));
        assert_eq!(get("b64_std"), format!("web-{}", STANDARD.encode(&bytes)));

        let imported = RandomId.import(&format!("web-,{id}"), &ctx).await.unwrap();
        assert_eq!(imported, s, "import reconstructs the whole state");
        let bare = RandomId.import(&id, &ctx).await.unwrap();
        assert_eq!(bare.get("prefix"), Some(&Value::Null));
        assert_eq!(bare.get("byte_length"), Some(&Value::number(8)));
        assert!(RandomId.import("not base64!", &ctx).await.is_err());
    }

    #[test]
    fn validation_bounds_byte_length() {
        assert!(!RandomId.validate(&Value::map([("byte_length", Value::number(0))])).is_empty());
        assert!(RandomId.validate(&Value::map([("byte_length", Value::number(4))])).is_empty());
        assert!(RandomId.validate(&Value::map([("byte_length", Value::Unknown)])).is_empty());
    }
}

//! Request-body validation against Google's discovery schemas, the way Google's front end
//! rejects bad JSON: an unknown field, a wrong JSON type, an invalid enum value or a malformed
//! duration/int64/bytes value is a 400 `INVALID_ARGUMENT` whose message has the real wording
//! (`Invalid JSON payload received. Unknown name "apiVersion": Cannot find field.`).
//!
//! The schemas are extracts of the discovery documents (see `discovery/extract.py`): field
//! names, JSON types, formats, enums. Proto JSON accepts the original snake_case field names as
//! well as lowerCamelCase, and so does this validator. Semantic checks (required fields,
//! ranges) belong to each API's emulator.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::Value as Json;

use super::ApiError;

#[derive(Debug, Deserialize)]
struct Doc {
    schemas: BTreeMap<String, SchemaDef>,
}

#[derive(Debug, Deserialize)]
struct SchemaDef {
    #[serde(default)]
    properties: BTreeMap<String, Prop>,
}

#[derive(Debug, Deserialize)]
struct Prop {
    #[serde(rename = "type", default)]
    ty: Option<String>,
    #[serde(default)]
    format: Option<String>,
    #[serde(rename = "$ref", default)]
    reference: Option<String>,
    #[serde(rename = "enum", default)]
    enumeration: Option<Vec<String>>,
    #[serde(default)]
    items: Option<Box<Prop>>,
    #[serde(rename = "additionalProperties", default)]
    additional: Option<Box<Prop>>,
}

/// One discovery document's schemas.
pub struct Schemas {
    doc: Doc,
    /// Proto package used in enum/duration type names of messages.
    package: &'static str,
}

/// Cloud Run Admin API v2 schemas.
pub fn run_v2() -> &'static Schemas {
    static S: OnceLock<Schemas> = OnceLock::new();
    S.get_or_init(|| Schemas {
        doc: serde_json::from_str(include_str!("discovery/run_v2.json")).expect("run_v2.json is valid"),
        package: "google.cloud.run.v2",
    })
}

/// Secret Manager v1 schemas.
pub fn secretmanager_v1() -> &'static Schemas {
    static S: OnceLock<Schemas> = OnceLock::new();
    S.get_or_init(|| Schemas {
        doc: serde_json::from_str(include_str!("discovery/secretmanager_v1.json"))
            .expect("secretmanager_v1.json is valid"),
        package: "google.cloud.secretmanager.v1",
    })
}

fn snake(camel: &str) -> String {
    let mut out = String::new();
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `update_mask` paths are proto (snake_case) names; the JSON field is their camelCase.
pub fn camel_of(snake: &str) -> String {
    camel(snake)
}

fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in snake.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.push(c.to_ascii_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn unknown_name(name: &str, at: &str) -> ApiError {
    let msg = if at.is_empty() {
        format!("Invalid JSON payload received. Unknown name \"{name}\": Cannot find field.")
    } else {
        format!("Invalid JSON payload received. Unknown name \"{name}\" at '{at}': Cannot find field.")
    };
    ApiError::invalid_argument_field(msg, at)
}

fn invalid_value(at: &str, ty: &str, got: &Json) -> ApiError {
    ApiError::invalid_argument_field(format!("Invalid value at '{at}' ({ty}), {got}"), at)
}

fn join(at: &str, field: &str) -> String {
    if at.is_empty() {
        field.to_string()
    } else {
        format!("{at}.{field}")
    }
}

impl Schemas {
    /// `v`, a message of type `schema`, as Google's proto3 JSON prints it: every field at its
    /// default value is left out — `0`, `false`, `""`, an enum's zero value (`…_UNSPECIFIED`),
    /// an empty list or map, `null` — while a set message stays even when empty (`{}`: presence
    /// means something, as in `replication.automatic`). List elements and map values are always
    /// printed. An `Any` (`{"@type": …}`, e.g. an Operation's `response`) is printed as the
    /// message it names. Fields the schema does not know are kept.
    pub fn output(&self, schema: &str, v: &Json) -> Json {
        self.out_message(schema, v)
    }

    fn out_message(&self, schema: &str, v: &Json) -> Json {
        let (Some(def), Json::Object(m)) = (self.doc.schemas.get(schema), v) else { return v.clone() };
        let mut out = serde_json::Map::new();
        for (k, val) in m {
            match def.properties.get(k) {
                None => {
                    out.insert(k.clone(), val.clone());
                }
                Some(p) => {
                    if let Some(x) = self.out_field(p, val) {
                        out.insert(k.clone(), x);
                    }
                }
            }
        }
        Json::Object(out)
    }

    /// A field's value as printed, `None` when it is at its default.
    fn out_field(&self, p: &Prop, v: &Json) -> Option<Json> {
        if v.is_null() {
            return None;
        }
        if let Some(r) = &p.reference {
            return Some(self.out_message(r, v));
        }
        match (p.ty.as_deref(), v) {
            (Some("array"), Json::Array(items)) => {
                if items.is_empty() {
                    return None;
                }
                let item = p.items.as_deref();
                Some(Json::Array(items.iter().map(|x| item.map_or(x.clone(), |i| self.out_element(i, x))).collect()))
            }
            (Some("object"), Json::Object(m)) => match p.additional.as_deref() {
                Some(add) if add.ty.as_deref() == Some("any") => Some(self.out_any(v)),
                Some(add) => {
                    if m.is_empty() {
                        return None;
                    }
                    Some(Json::Object(m.iter().map(|(k, x)| (k.clone(), self.out_element(add, x))).collect()))
                }
                None => Some(v.clone()),
            },
            (Some("string"), Json::String(s)) => {
                let zero = s.is_empty()
                    || (matches!(p.format.as_deref(), Some("int64" | "uint64")) && s == "0")
                    || p.enumeration.as_ref().and_then(|e| e.first()).is_some_and(|first| first == s);
                (!zero).then(|| v.clone())
            }
            (Some("string"), Json::Number(n)) if matches!(p.format.as_deref(), Some("int64" | "uint64")) => {
                (n.as_f64() != Some(0.0)).then(|| v.clone())
            }
            (Some("integer" | "number"), Json::Number(n)) => (n.as_f64() != Some(0.0)).then(|| v.clone()),
            (Some("boolean"), Json::Bool(b)) => b.then(|| v.clone()),
            _ => Some(v.clone()),
        }
    }

    /// A list element or map value: always printed, messages in proto3 form.
    fn out_element(&self, p: &Prop, v: &Json) -> Json {
        match &p.reference {
            Some(r) => self.out_message(r, v),
            None => v.clone(),
        }
    }

    /// A `google.protobuf.Any`: the message its `@type` names, when this document has it.
    fn out_any(&self, v: &Json) -> Json {
        let Some(ty) = v.get("@type").and_then(Json::as_str) else { return v.clone() };
        let full = ty.rsplit('/').next().unwrap_or(ty);
        let camel: String = full
            .split('.')
            .map(|part| {
                let mut c = part.chars();
                c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
            })
            .collect();
        let short = full.rsplit('.').next().unwrap_or(full);
        if self.doc.schemas.contains_key(&camel) {
            self.out_message(&camel, v)
        } else if self.doc.schemas.contains_key(short) {
            self.out_message(short, v)
        } else {
            v.clone()
        }
    }

    /// Validates `body` as message `schema`; `root` prefixes field paths in messages the way
    /// Google names the request's body field (`"service"`, `"secret"`, or `""`).
    pub fn validate(&self, schema: &str, body: &Json, root: &str) -> Result<(), ApiError> {
        self.message(schema, body, root)
    }

    fn message(&self, schema: &str, v: &Json, at: &str) -> Result<(), ApiError> {
        let Some(def) = self.doc.schemas.get(schema) else {
            return Ok(());
        };
        let Json::Object(m) = v else {
            if v.is_array() {
                return Err(ApiError::invalid_argument_field(
                    format!("Invalid JSON payload received. Unknown name \"\" at '{at}': Proto field is not repeating, cannot start list."),
                    at,
                ));
            }
            return Err(invalid_value(at, &format!("type.googleapis.com/{}.{}", self.package, short(schema)), v));
        };
        for (k, val) in m {
            let prop = def.properties.get(k).or_else(|| def.properties.get(&camel(k)));
            let Some(prop) = prop else {
                return Err(unknown_name(k, at));
            };
            if val.is_null() {
                continue;
            }
            self.prop(prop, val, &join(at, &snake(&camel(k))))?;
        }
        Ok(())
    }

    fn prop(&self, p: &Prop, v: &Json, at: &str) -> Result<(), ApiError> {
        if let Some(r) = &p.reference {
            return self.message(r, v, at);
        }
        match p.ty.as_deref() {
            Some("array") => {
                let Json::Array(items) = v else {
                    return Err(ApiError::invalid_argument_field(
                        format!("Invalid value at '{at}' (type.googleapis.com/repeated), {v}"),
                        at,
                    ));
                };
                let item = p.items.as_deref();
                for (i, x) in items.iter().enumerate() {
                    if let Some(item) = item {
                        self.prop(item, x, &format!("{at}[{i}]"))?;
                    }
                }
                Ok(())
            }
            Some("object") => {
                let Json::Object(m) = v else {
                    return Err(invalid_value(at, "type.googleapis.com/google.protobuf.Struct", v));
                };
                if let Some(add) = p.additional.as_deref() {
                    for (k, x) in m {
                        self.prop(add, x, &format!("{at}[{k}]"))?;
                    }
                }
                Ok(())
            }
            Some("string") => self.string(p, v, at),
            Some("integer") => {
                let ok = match v {
                    Json::Number(n) => n.as_i64().is_some_and(|x| i32::try_from(x).is_ok()),
                    Json::String(s) => s.parse::<i32>().is_ok(),
                    _ => false,
                };
                if ok {
                    Ok(())
                } else {
                    Err(invalid_value(at, "TYPE_INT32", v))
                }
            }
            Some("number") => match v {
                Json::Number(_) => Ok(()),
                Json::String(s)
                    if s.parse::<f64>().is_ok() || matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity") =>
                {
                    Ok(())
                }
                _ => Err(invalid_value(at, "TYPE_FLOAT", v)),
            },
            Some("boolean") => match v {
                Json::Bool(_) => Ok(()),
                _ => Err(invalid_value(at, "TYPE_BOOL", v)),
            },
            _ => Ok(()),
        }
    }

    fn string(&self, p: &Prop, v: &Json, at: &str) -> Result<(), ApiError> {
        match p.format.as_deref() {
            Some("int64") | Some("uint64") => match v {
                Json::Number(n) if n.is_i64() || n.is_u64() => Ok(()),
                Json::String(s) if s.parse::<i64>().is_ok() || s.parse::<u64>().is_ok() => Ok(()),
                _ => Err(invalid_value(at, "TYPE_INT64", v)),
            },
            Some("google-duration") => match v {
                Json::String(s) if is_duration(s) => Ok(()),
                _ => Err(invalid_value(at, "type.googleapis.com/google.protobuf.Duration", v)),
            },
            Some("google-datetime") => match v {
                Json::String(s) if is_timestamp(s) => Ok(()),
                _ => Err(invalid_value(at, "type.googleapis.com/google.protobuf.Timestamp", v)),
            },
            Some("byte") => match v {
                Json::String(s)
                    if base64::engine::general_purpose::STANDARD.decode(s).is_ok()
                        || base64::engine::general_purpose::URL_SAFE.decode(s).is_ok() =>
                {
                    Ok(())
                }
                Json::String(_) => Err(ApiError::invalid_argument_field(
                    format!("Invalid value at '{at}' (TYPE_BYTES), Base64 decoding failed for {v}"),
                    at,
                )),
                _ => Err(invalid_value(at, "TYPE_BYTES", v)),
            },
            _ => {
                let Json::String(s) = v else {
                    return Err(invalid_value(at, "TYPE_STRING", v));
                };
                if let Some(values) = &p.enumeration {
                    if !values.iter().any(|e| e == s) {
                        return Err(invalid_value(at, &format!("type.googleapis.com/{}.Enum", self.package), v));
                    }
                }
                Ok(())
            }
        }
    }
}

fn short(schema: &str) -> &str {
    schema.strip_prefix("GoogleCloudRunV2").or_else(|| schema.strip_prefix("GoogleIamV1")).unwrap_or(schema)
}

/// `"300s"`, `"1.5s"`, `"-2s"`.
pub fn is_duration(s: &str) -> bool {
    let Some(n) = s.strip_suffix('s') else { return false };
    let n = n.strip_prefix('-').unwrap_or(n);
    !n.is_empty() && n.parse::<f64>().is_ok() && n.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// A loose RFC 3339 check: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
pub fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b't')
        && b[13] == b':'
        && b[16] == b':'
        && (s.ends_with('Z') || s.ends_with('z') || s[19..].contains(['+', '-']))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn output_omits_default_values_like_proto3_json() {
        let s = run_v2();
        let svc = json!({
            "name": "projects/1/locations/l/services/a", "description": "", "generation": "0",
            "reconciling": false, "labels": {}, "customAudiences": [], "launchStage": "LAUNCH_STAGE_UNSPECIFIED",
            "template": {"scaling": {"minInstanceCount": 0, "maxInstanceCount": 3},
                         "containers": [{"image": "x", "args": [], "env": [{"name": "A", "value": ""}],
                                         "resources": {"cpuIdle": false, "limits": {"cpu": "1"}}}]},
            "binaryAuthorization": {"useDefault": false},
            "terminalCondition": {"type": "Ready", "state": "CONDITION_SUCCEEDED", "severity": "SEVERITY_UNSPECIFIED"},
        });
        let out = s.output("GoogleCloudRunV2Service", &svc);
        assert_eq!(
            out,
            json!({
                "name": "projects/1/locations/l/services/a",
                "template": {"scaling": {"maxInstanceCount": 3},
                             "containers": [{"image": "x", "env": [{"name": "A"}], "resources": {"limits": {"cpu": "1"}}}]},
                "binaryAuthorization": {},
                "terminalCondition": {"type": "Ready", "state": "CONDITION_SUCCEEDED"},
            })
        );
        let op = json!({"name": "op", "done": false, "response": {"@type": "type.googleapis.com/google.cloud.run.v2.Service", "reconciling": false, "uri": "u"}});
        assert_eq!(
            s.output("GoogleLongrunningOperation", &op),
            json!({"name": "op", "response": {"@type": "type.googleapis.com/google.cloud.run.v2.Service", "uri": "u"}})
        );
        let sm = secretmanager_v1();
        let secret = json!({"name": "n", "replication": {"automatic": {}}, "labels": {}, "annotations": {"a": ""}});
        assert_eq!(
            sm.output("Secret", &secret),
            json!({"name": "n", "replication": {"automatic": {}}, "annotations": {"a": ""}})
        );
    }

    #[test]
    fn rejects_v1_knative_bodies_and_wrong_types_like_google() {
        let s = run_v2();
        let ok = json!({"template": {"containers": [{"image": "x", "ports": [{"containerPort": 8080}]}],
                         "timeout": "300s", "scaling": {"maxInstanceCount": 3}}, "ingress": "INGRESS_TRAFFIC_ALL"});
        s.validate("GoogleCloudRunV2Service", &ok, "service").unwrap();
        let snake = json!({"template": {"max_instance_request_concurrency": 10}});
        s.validate("GoogleCloudRunV2Service", &snake, "service").unwrap();

        let e = s
            .validate("GoogleCloudRunV2Service", &json!({"apiVersion": "serving.knative.dev/v1"}), "service")
            .unwrap_err();
        assert_eq!(e.http, 400);
        assert_eq!(
            e.message,
            "Invalid JSON payload received. Unknown name \"apiVersion\" at 'service': Cannot find field."
        );
        let e = s
            .validate(
                "GoogleCloudRunV2Service",
                &json!({"template": {"maxInstanceRequestConcurrency": "lots"}}),
                "service",
            )
            .unwrap_err();
        assert!(
            e.message.contains("'service.template.max_instance_request_concurrency' (TYPE_INT32)"),
            "{}",
            e.message
        );
        let e = s.validate("GoogleCloudRunV2Service", &json!({"template": {"timeout": 300}}), "service").unwrap_err();
        assert!(e.message.contains("google.protobuf.Duration"), "{}", e.message);
        let e = s.validate("GoogleCloudRunV2Service", &json!({"ingress": "EVERYONE"}), "service").unwrap_err();
        assert!(e.message.contains("'service.ingress'"), "{}", e.message);

        let sm = secretmanager_v1();
        let e = sm.validate("AddSecretVersionRequest", &json!({"payload": {"data": "%%%"}}), "").unwrap_err();
        assert!(e.message.contains("Base64"), "{}", e.message);
        sm.validate("Secret", &json!({"replication": {"automatic": {}}, "labels": {"a": "b"}}), "secret").unwrap();
        let e = sm.validate("Secret", &json!({"replication": {"auto": {}}}), "secret").unwrap_err();
        assert!(e.message.contains("Unknown name \"auto\" at 'secret.replication'"), "{}", e.message);
    }
}

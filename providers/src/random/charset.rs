//! The generator and shared schema of `random_password` and `random_string` (the two differ
//! only in whether `result` is sensitive and what `id` holds), following hashicorp/random:
//! the `min_*` characters are drawn first from their class, the rest from every enabled class,
//! then the whole is shuffled.

use rand::rngs::OsRng;
use rand::seq::SliceRandom;
use tenantform_engine::provider::{AttributeSchema, ConfigProblem, ProviderError, Schema};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use crate::support::attrs::{path, Attrs};

const NUMERIC: &str = "0123456789";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
/// hashicorp/random's default special characters.
pub const DEFAULT_SPECIAL: &str = "!@#$%&*()-_=+[]{}<>:?";

const BOOLS: [&str; 4] = ["special", "upper", "lower", "numeric"];
const MINS: [&str; 4] = ["min_special", "min_upper", "min_lower", "min_numeric"];

/// Input attributes shared by `random_password` and `random_string`; `result_sensitive`
/// decides the mark on `result`.
pub fn schema(description: &str, result_sensitive: bool) -> Schema {
    let flag = |what: &str| {
        AttributeSchema::optional(Type::Bool)
            .force_new()
            .default(Value::Bool(true))
            .describe(format!("Include {what} characters in the result. Default true."))
    };
    let min = |what: &str| {
        AttributeSchema::optional(Type::Number)
            .force_new()
            .default(Value::number(0))
            .describe(format!("Minimum number of {what} characters in the result. Default 0."))
    };
    let mut result = AttributeSchema::computed(Type::String).describe("The generated random string.");
    if result_sensitive {
        result = result.sensitive();
    }
    Schema::new()
        .describe(description)
        .attr(
            "length",
            AttributeSchema::required(Type::Number)
                .force_new()
                .describe("Length of the string, in characters. At least 1 and at least the sum of the min_* values."),
        )
        .attr("special", flag("special (!@#$%&*()-_=+[]{}<>:?, or override_special)"))
        .attr("upper", flag("uppercase alphabet"))
        .attr("lower", flag("lowercase alphabet"))
        .attr("numeric", flag("numeric"))
        .attr("min_special", min("special"))
        .attr("min_upper", min("uppercase"))
        .attr("min_lower", min("lowercase"))
        .attr("min_numeric", min("numeric"))
        .attr(
            "override_special",
            AttributeSchema::optional(Type::String)
                .force_new()
                .describe("Supply your own list of special characters to use instead of the default."),
        )
        .attr("keepers", super::keepers_attr())
        .attr("result", result)
}

/// Parsed generation parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    pub length: i64,
    pub special: bool,
    pub upper: bool,
    pub lower: bool,
    pub numeric: bool,
    pub min_special: i64,
    pub min_upper: i64,
    pub min_lower: i64,
    pub min_numeric: i64,
    pub override_special: Option<String>,
    pub keepers: Value,
}

impl Params {
    pub fn from_value(v: &Value) -> Result<Params, ProviderError> {
        let a = Attrs::new(v);
        let p = Params {
            length: a.i64("length")?,
            special: a.bool_or("special", true)?,
            upper: a.bool_or("upper", true)?,
            lower: a.bool_or("lower", true)?,
            numeric: a.bool_or("numeric", true)?,
            min_special: a.i64_or("min_special", 0)?,
            min_upper: a.i64_or("min_upper", 0)?,
            min_lower: a.i64_or("min_lower", 0)?,
            min_numeric: a.i64_or("min_numeric", 0)?,
            override_special: a.opt_str("override_special")?.map(str::to_string),
            keepers: a.raw("keepers"),
        };
        if let Some(problem) = validate(v).into_iter().next() {
            return Err(ProviderError::permanent(problem.message).at(problem.path));
        }
        Ok(p)
    }

    /// Parameters of an imported value: its length, every class enabled, no minimums (what
    /// hashicorp/random records on import).
    pub fn imported(result: &str) -> Params {
        Params {
            length: result.chars().count() as i64,
            special: true,
            upper: true,
            lower: true,
            numeric: true,
            min_special: 0,
            min_upper: 0,
            min_lower: 0,
            min_numeric: 0,
            override_special: None,
            keepers: Value::Null,
        }
    }

    fn special_chars(&self) -> &str {
        match &self.override_special {
            Some(s) if !s.is_empty() => s,
            _ => DEFAULT_SPECIAL,
        }
    }

    /// Generates a string with the operating system's CSPRNG.
    pub fn generate(&self) -> Result<String, ProviderError> {
        let special: Vec<char> = self.special_chars().chars().collect();
        let classes: [(&[char], bool, i64); 4] = [
            (&special, self.special, self.min_special),
            (&UPPER.chars().collect::<Vec<_>>(), self.upper, self.min_upper),
            (&LOWER.chars().collect::<Vec<_>>(), self.lower, self.min_lower),
            (&NUMERIC.chars().collect::<Vec<_>>(), self.numeric, self.min_numeric),
        ];
        let mut rng = OsRng;
        let mut out: Vec<char> = Vec::with_capacity(self.length as usize);
        let mut all: Vec<char> = Vec::new();
        for (chars, enabled, min) in classes {
            for _ in 0..min {
                out.push(*chars.choose(&mut rng).expect("character classes are not empty"));
            }
            if enabled {
                all.extend_from_slice(chars);
            }
        }
        let rest = self.length - out.len() as i64;
        if rest > 0 && all.is_empty() {
            return Err(ProviderError::permanent(
                "no characters to choose from: at least one of special, upper, lower or numeric must be true",
            ));
        }
        for _ in 0..rest {
            out.push(*all.choose(&mut rng).expect("checked non-empty"));
        }
        out.shuffle(&mut rng);
        Ok(out.into_iter().collect())
    }

    /// The state: every input with its default filled in, plus `result`.
    pub fn state(&self, result: &str, id: &str) -> Value {
        Value::map([
            ("id", Value::string(id)),
            ("length", Value::number(self.length as f64)),
            ("special", Value::Bool(self.special)),
            ("upper", Value::Bool(self.upper)),
            ("lower", Value::Bool(self.lower)),
            ("numeric", Value::Bool(self.numeric)),
            ("min_special", Value::number(self.min_special as f64)),
            ("min_upper", Value::number(self.min_upper as f64)),
            ("min_lower", Value::number(self.min_lower as f64)),
            ("min_numeric", Value::number(self.min_numeric as f64)),
            ("override_special", crate::support::attrs::val_opt_str(self.override_special.as_deref())),
            ("keepers", self.keepers.clone()),
            ("result", Value::string(result)),
        ])
    }
}

/// Range and combination checks; unknown values are skipped.
pub fn validate(config: &Value) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    let num = |n: &str| config.get(n).and_then(Value::as_i64);
    let length = num("length");
    if let Some(l) = length {
        if l < 1 {
            problems.push(ConfigProblem { path: path("length"), message: "length must be at least 1".into() });
        }
    }
    let mut sum = 0;
    let mut all_known = true;
    for m in MINS {
        match config.get(m) {
            Some(v) if v.is_unknown() => all_known = false,
            _ => {}
        }
        let n = num(m).unwrap_or(0);
        if n < 0 {
            problems.push(ConfigProblem { path: path(m), message: format!("{m} must not be negative") });
        }
        sum += n.max(0);
    }
    if let (Some(l), true) = (length, all_known) {
        if l >= 1 && l < sum {
            problems.push(ConfigProblem {
                path: path("length"),
                message: format!("length ({l}) must be at least the sum of the min_* values ({sum})"),
            });
        }
    }
    let flags: Vec<Option<bool>> = BOOLS
        .iter()
        .map(|b| config.get(b).map_or(Some(true), |v| if v.is_null() { Some(true) } else { v.as_bool() }))
        .collect();
    if flags.iter().all(|f| *f == Some(false)) && (length.unwrap_or(1) > sum || !all_known) {
        problems.push(ConfigProblem {
            path: path("special"),
            message: "at least one of special, upper, lower or numeric must be true".into(),
        });
    }
    if config.get("override_special").and_then(Value::as_str) == Some("")
        && config.get("special").and_then(Value::as_bool) != Some(false)
    {
        // hashicorp/random treats "" as "use the default set"; say so rather than surprise.
        problems.push(ConfigProblem {
            path: path("override_special"),
            message: "override_special is empty; leave it unset to use the default special characters, or set special = false".into(),
        });
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(entries: &[(&str, Value)]) -> Value {
        Value::map(entries.iter().cloned())
    }

    #[test]
    fn honours_minimums_and_classes() {
        let v = cfg(&[
            ("length", Value::number(20)),
            ("special", Value::Bool(false)),
            ("upper", Value::Bool(false)),
            ("min_numeric", Value::number(5)),
            ("min_upper", Value::number(3)),
        ]);
        let p = Params::from_value(&v).unwrap();
        for _ in 0..50 {
            let s = p.generate().unwrap();
            assert_eq!(s.chars().count(), 20);
            assert!(s.chars().filter(|c| c.is_ascii_digit()).count() >= 5, "{s}");
            assert!(s.chars().filter(|c| c.is_ascii_uppercase()).count() >= 3, "{s}");
            assert!(s.chars().all(|c| c.is_ascii_alphanumeric()), "{s}");
        }
    }

    #[test]
    fn override_special_is_used() {
        let v = cfg(&[
            ("length", Value::number(30)),
            ("upper", Value::Bool(false)),
            ("lower", Value::Bool(false)),
            ("numeric", Value::Bool(false)),
            ("override_special", Value::string("é_")),
        ]);
        let s = Params::from_value(&v).unwrap().generate().unwrap();
        assert!(s.chars().all(|c| c == 'é' || c == '_'), "{s}");
        assert_eq!(s.chars().count(), 30);
    }

    #[test]
    fn validation_catches_impossible_configs() {
        let msgs = |v: Value| validate(&v).into_iter().map(|p| p.message).collect::<Vec<_>>().join("; ");
        assert!(msgs(cfg(&[("length", Value::number(0))])).contains("at least 1"));
        assert!(
            msgs(cfg(&[("length", Value::number(3)), ("min_upper", Value::number(4))])).contains("sum of the min_*")
        );
        let none = cfg(&[
            ("length", Value::number(3)),
            ("special", Value::Bool(false)),
            ("upper", Value::Bool(false)),
            ("lower", Value::Bool(false)),
            ("numeric", Value::Bool(false)),
        ]);
        assert!(msgs(none).contains("at least one of"));
        assert!(validate(&cfg(&[("length", Value::Unknown), ("min_upper", Value::number(4))])).is_empty());
        assert!(Params::from_value(&cfg(&[("length", Value::number(-1))])).is_err());
    }
}

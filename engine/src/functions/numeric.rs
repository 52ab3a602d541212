//! Numeric functions: `min`, `max`, `abs`, `ceil`, `floor`, `pow`, `log`, `signum` and
//! `parseint`.
//!
//! Numbers are IEEE doubles here, where Terraform uses arbitrary precision; results agree for
//! everything a configuration normally computes (counts, sizes, ports), and a result that is
//! not finite is reported as an error rather than returned.

use super::{def, p, Args, FuncDef, FunctionError, Kind};
use crate::value::Value;

pub(super) const FUNCTIONS: &[FuncDef] = &[
    def("min", &[], min).variadic_at_least(p("numbers", Kind::Number), 1),
    def("max", &[], max).variadic_at_least(p("numbers", Kind::Number), 1),
    def("abs", &[p("num", Kind::Number)], abs),
    def("ceil", &[p("num", Kind::Number)], ceil),
    def("floor", &[p("num", Kind::Number)], floor),
    def("pow", &[p("base", Kind::Number), p("exponent", Kind::Number)], pow),
    def("log", &[p("num", Kind::Number), p("base", Kind::Number)], log),
    def("signum", &[p("num", Kind::Number)], signum),
    def("parseint", &[p("number", Kind::String), p("base", Kind::Number)], parseint),
];

fn finite(n: f64) -> Result<Value, FunctionError> {
    if n.is_finite() {
        // Normalise -0 so that it prints and compares as 0.
        Ok(Value::Number(if n == 0.0 { 0.0 } else { n }))
    } else {
        Err(FunctionError::new("the result is not a finite number"))
    }
}

fn fold(a: &Args, pick: fn(f64, f64) -> f64) -> Result<Value, FunctionError> {
    if a.len() == 0 {
        return Err(FunctionError::new("must pass at least one number"));
    }
    let first = a.num(0);
    finite((1..a.len()).map(|i| a.num(i)).fold(first, pick))
}

fn min(a: Args) -> Result<Value, FunctionError> {
    fold(&a, f64::min)
}

fn max(a: Args) -> Result<Value, FunctionError> {
    fold(&a, f64::max)
}

fn abs(a: Args) -> Result<Value, FunctionError> {
    finite(a.num(0).abs())
}

fn ceil(a: Args) -> Result<Value, FunctionError> {
    finite(a.num(0).ceil())
}

fn floor(a: Args) -> Result<Value, FunctionError> {
    finite(a.num(0).floor())
}

fn pow(a: Args) -> Result<Value, FunctionError> {
    finite(a.num(0).powf(a.num(1)))
}

fn log(a: Args) -> Result<Value, FunctionError> {
    let (num, base) = (a.num(0), a.num(1));
    // log2 and log10 are exact for exact powers, which users test against (log(8, 2) == 3).
    let r = if base == 2.0 {
        num.log2()
    } else if base == 10.0 {
        num.log10()
    } else {
        num.ln() / base.ln()
    };
    finite(r)
}

fn signum(a: Args) -> Result<Value, FunctionError> {
    let n = a.num(0);
    Ok(Value::Number(if n > 0.0 {
        1.0
    } else if n < 0.0 {
        -1.0
    } else {
        0.0
    }))
}

/// `parseint(number, base)` for bases 2 to 62: digits are 0-9, then a-z, then (only above
/// base 36, where case matters) A-Z; a leading `+` or `-` is allowed.
fn parseint(a: Args) -> Result<Value, FunctionError> {
    let s = a.str(0);
    let base = a.int(1)?;
    if !(2..=62).contains(&base) {
        return Err(FunctionError::at(1, "base must be a whole number between 2 and 62 inclusive"));
    }
    let bad = || FunctionError::at(0, format!("cannot parse {} as a base {base} integer", a.show(s)));
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return Err(bad());
    }
    let mut n = 0.0f64;
    for c in digits.chars() {
        let d = match c {
            '0'..='9' => c as i64 - '0' as i64,
            'a'..='z' => c as i64 - 'a' as i64 + 10,
            'A'..='Z' if base <= 36 => c as i64 - 'A' as i64 + 10,
            'A'..='Z' => c as i64 - 'A' as i64 + 36,
            _ => return Err(bad()),
        };
        if d >= base {
            return Err(bad());
        }
        n = n * base as f64 + d as f64;
    }
    finite(if neg { -n } else { n })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;

    #[test]
    fn min_max() {
        assert_eq!(ok("min", vec![n(12.0), n(54.0), n(3.0)]), n(3.0));
        assert_eq!(ok("max", vec![n(12.0), n(54.0), n(3.0)]), n(54.0));
        assert_eq!(ok("max", vec![s("7"), n(-1.5)]), n(7.0));
        assert_eq!(err("min", vec![]), "min: expected at least 1 argument, got 0; usage: min(numbers...)");
        assert_eq!(err("max", vec![n(1.0), sl(&[])]), "max: argument 2 must be a number, got list");
    }

    #[test]
    fn rounding_and_sign() {
        assert_eq!(ok("abs", vec![n(-12.4)]), n(12.4));
        assert_eq!(ok("abs", vec![n(0.0)]), n(0.0));
        assert_eq!(ok("ceil", vec![n(5.1)]), n(6.0));
        assert_eq!(ok("ceil", vec![n(-5.1)]), n(-5.0));
        assert_eq!(ok("floor", vec![n(4.9)]), n(4.0));
        assert_eq!(ok("floor", vec![n(-4.1)]), n(-5.0));
        assert_eq!(ok("signum", vec![n(-13.0)]), n(-1.0));
        assert_eq!(ok("signum", vec![n(0.0)]), n(0.0));
        assert_eq!(ok("signum", vec![n(344.0)]), n(1.0));
    }

    #[test]
    fn pow_and_log() {
        assert_eq!(ok("pow", vec![n(3.0), n(2.0)]), n(9.0));
        assert_eq!(ok("pow", vec![n(4.0), n(0.0)]), n(1.0));
        assert_eq!(ok("pow", vec![n(2.0), n(-1.0)]), n(0.5));
        assert_eq!(ok("log", vec![n(50.0), n(10.0)]), n(50f64.log10()));
        assert_eq!(ok("log", vec![n(16.0), n(2.0)]), n(4.0));
        assert_eq!(ok("log", vec![n(8.0), n(2.0)]), n(3.0));
        assert_eq!(ok("log", vec![n(1000.0), n(10.0)]), n(3.0));
        assert_eq!(ok("log", vec![n(1.0), n(10.0)]), n(0.0));
        assert_eq!(err("log", vec![n(0.0), n(10.0)]), "log: the result is not a finite number");
    }

    #[test]
    fn parseint_bases() {
        assert_eq!(ok("parseint", vec![s("100"), n(10.0)]), n(100.0));
        assert_eq!(ok("parseint", vec![s("FF"), n(16.0)]), n(255.0));
        assert_eq!(ok("parseint", vec![s("-10"), n(16.0)]), n(-16.0));
        assert_eq!(ok("parseint", vec![s("1011111011101111"), n(2.0)]), n(48879.0));
        assert_eq!(ok("parseint", vec![s("aA"), n(62.0)]), n(656.0));
        assert_eq!(ok("parseint", vec![s("12"), n(10.0)]), n(12.0));
        assert_eq!(err("parseint", vec![s("12"), n(2.0)]), "parseint: cannot parse \"12\" as a base 2 integer");
        assert_eq!(err("parseint", vec![s(""), n(10.0)]), "parseint: cannot parse \"\" as a base 10 integer");
        assert_eq!(err("parseint", vec![s("1.5"), n(10.0)]), "parseint: cannot parse \"1.5\" as a base 10 integer");
        assert_eq!(
            err("parseint", vec![s("1"), n(1.0)]),
            "parseint: base must be a whole number between 2 and 62 inclusive"
        );
    }
}

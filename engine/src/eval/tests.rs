//! Evaluator tests: every expression form, with and without marks.

use super::*;

fn scope() -> MapScope {
    let mut s = MapScope::default();
    s.vars.insert("name".into(), Value::string("acme"));
    s.vars.insert("n".into(), Value::number(3));
    s.vars.insert("list".into(), Value::List(vec![Value::string("a"), Value::string("b")]));
    s.vars.insert(
        "users".into(),
        Value::List(vec![
            Value::map([("name", Value::string("ann")), ("admin", Value::Bool(true))]),
            Value::map([("name", Value::string("bob")), ("admin", Value::Bool(false))]),
        ]),
    );
    s.vars.insert("password".into(), Value::string("hunter2").mark_sensitive());
    s.vars.insert("tags".into(), Value::map([("env", Value::string("prod")), ("team", Value::string("core"))]));
    s.resources.insert("random_id.x".into(), Value::map([("hex", Value::Unknown), ("byte_length", Value::number(4))]));
    s.tenant = Some(Value::map([("slug", Value::string("acme"))]));
    s
}

fn ev(src: &str) -> Value {
    eval_source(src, &scope()).unwrap_or_else(|(_, d)| panic!("{src}: {d:?}"))
}

fn ev_err(src: &str) -> Diagnostic {
    eval_source(src, &scope()).expect_err(src).1
}

#[test]
fn literals_and_collections() {
    assert_eq!(ev("1 + 2 * 3"), Value::number(7));
    assert_eq!(ev("\"5\" + 1"), Value::number(6));
    assert_eq!(ev("10 % 4"), Value::number(2));
    assert_eq!(ev("1 - 2 - 3"), Value::number(-4));
    assert_eq!(ev("8 / 4 / 2"), Value::number(1));
    assert_eq!(ev("2 * 3 + 4 * 5 - 1"), Value::number(25));
    assert_eq!(ev("1 + 2 == 3 && 2 > 1 || false"), Value::Bool(true));
    assert_eq!(ev("(1 + 2) * 3"), Value::number(9));
    assert_eq!(ev("-var.n"), Value::number(-3));
    assert_eq!(ev("!(var.list[0] == \"a\")"), Value::Bool(false));
    assert_eq!(ev("!true || false"), Value::Bool(false));
    assert_eq!(ev("[1, \"a\", null]"), Value::List(vec![Value::number(1), Value::string("a"), Value::Null]));
    assert_eq!(ev("{ a = 1, \"b c\" = 2 }").get("b c"), Some(&Value::number(2)));
    assert_eq!(ev("var.n >= 3 && var.n < 4"), Value::Bool(true));
    assert_eq!(ev("[1, 2] == [1, 2]"), Value::Bool(true));
    assert_eq!(ev("{a = 1} != {a = 1}"), Value::Bool(false));
}

#[test]
fn references_and_traversals() {
    assert_eq!(ev("var.list[1]"), Value::string("b"));
    assert_eq!(ev("var.tags[\"env\"]"), Value::string("prod"));
    assert_eq!(ev("var.tags.team"), Value::string("core"));
    assert_eq!(ev("var.users[*].name"), Value::List(vec![Value::string("ann"), Value::string("bob")]));
    assert_eq!(ev("var.users.*.admin"), Value::List(vec![Value::Bool(true), Value::Bool(false)]));
    assert_eq!(ev("tenant.slug"), Value::string("acme"));
    assert_eq!(ev("random_id.x.byte_length"), Value::number(4));
}

#[test]
fn templates_and_directives() {
    assert_eq!(ev("\"${var.name}-${var.n}\""), Value::string("acme-3"));
    assert_eq!(ev("\"%{ if var.n > 2 }big%{ else }small%{ endif }\""), Value::string("big"));
    assert_eq!(ev("\"%{ for u in var.users }${u.name},%{ endfor }\""), Value::string("ann,bob,"));
    assert_eq!(ev("\"a   %{~ if true ~}   b   %{~ endif ~}   c\""), Value::string("abc"));
    assert_eq!(ev("<<-EOT\n    hello ${var.name}\n    bye\n  EOT\n"), Value::string("hello acme\nbye\n"));
}

#[test]
fn for_expressions() {
    assert_eq!(ev("[for u in var.users : u.name if u.admin]"), Value::List(vec![Value::string("ann")]));
    assert_eq!(
        ev("{for u in var.users : u.name => u.admin}"),
        Value::map([("ann", Value::Bool(true)), ("bob", Value::Bool(false))])
    );
    assert_eq!(
        ev("{for k, v in var.tags : v => k}"),
        Value::map([("prod", Value::string("env")), ("core", Value::string("team"))])
    );
    assert_eq!(
        ev("{for s in [\"a\", \"b\", \"a\"] : s => s...}").get("a"),
        Some(&Value::List(vec![Value::string("a"), Value::string("a")]))
    );
    assert_eq!(
        ev("[for i, s in var.list : \"${i}=${s}\"]"),
        Value::List(vec![Value::string("0=a"), Value::string("1=b")])
    );
}

#[test]
fn unknown_propagates() {
    assert_eq!(ev("random_id.x.hex"), Value::Unknown);
    assert_eq!(ev("\"db-${random_id.x.hex}\""), Value::Unknown);
    assert_eq!(ev("random_id.x.hex == \"a\""), Value::Unknown);
    assert_eq!(ev("random_id.x.hex != null ? 1 : 2"), Value::Unknown);
    assert_eq!(ev("[for s in random_id.x.hex : s]"), Value::Unknown);
    assert_eq!(ev("random_id.x.hex.foo"), Value::Unknown);
    // A known part of a collection stays known.
    assert_eq!(ev("[random_id.x.hex, 1][1]"), Value::number(1));
}

#[test]
fn sensitive_propagates() {
    assert!(ev("var.password").is_sensitive());
    assert!(ev("\"postgres://u:${var.password}@h/db\"").is_sensitive());
    assert!(ev("var.password == \"x\"").is_sensitive());
    assert!(ev("var.password != \"\" ? \"set\" : \"unset\"").is_sensitive());
    assert!(!ev("var.name").contains_sensitive());
    let obj = ev("{ url = var.password, name = var.name }");
    assert!(!obj.is_sensitive());
    assert!(obj.get("url").unwrap().is_sensitive());
    // Never printed.
    assert!(!format!("{}", ev("\"${var.password}\"")).contains("hunter2"));
}

#[test]
fn errors_point_at_the_problem_and_suggest() {
    let d = ev_err("var.nme");
    assert_eq!(d.summary, "Reference to undeclared input variable \"nme\"");
    assert_eq!(d.help.as_deref(), Some("did you mean \"name\"?"));
    let d = ev_err("var.tags.tem");
    assert_eq!(d.help.as_deref(), Some("did you mean \"team\"?"));
    let d = ev_err("var.list[5]");
    assert!(d.label.unwrap().contains("out of range"));
    let d = ev_err("1 + true");
    assert!(d.label.unwrap().contains("a number is required, got bool"));
    let d = ev_err("\"${var.users}\"");
    assert!(d.label.unwrap().contains("cannot include a list"));
    let d = ev_err("varr.x");
    assert!(d.summary.contains("Reference to undeclared resource"), "{}", d.summary);
    let d = ev_err("nosuchfn(1)");
    assert_eq!(d.summary, "Call to unknown function \"nosuchfn\"");
    let span = d.span.unwrap();
    assert_eq!((span.start, span.end), (4, 15));
}

#[test]
fn try_and_can() {
    assert_eq!(ev("try(var.tags.missing, \"fallback\")"), Value::string("fallback"));
    assert_eq!(ev("can(var.list[9])"), Value::Bool(false));
    assert_eq!(ev("can(var.list[0])"), Value::Bool(true));
}

#[test]
fn templatefile_sees_only_its_variables() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.tpl"), "hello ${who}%{ for x in xs }-${x}%{ endfor }").unwrap();
    let mut s = scope();
    s.base_dir = dir.path().to_path_buf();
    let v = eval_source("templatefile(\"t.tpl\", { who = var.name, xs = [1, 2] })", &s).unwrap();
    assert_eq!(v, Value::string("hello acme-1-2"));
    std::fs::write(dir.path().join("bad.tpl"), "${var.name}").unwrap();
    assert!(eval_source("templatefile(\"bad.tpl\", {})", &s).is_err());
}

#[test]
fn secrets_used_as_keys_or_conditions_keep_the_result_sensitive() {
    assert!(ev("{ for k in [\"a\"] : var.password => k }").is_sensitive());
    assert!(ev("[for k in [\"a\"] : k if var.password != \"\"]").is_sensitive());
    let d = ev_err("var.tags[var.password]");
    assert!(!format!("{d:?}").contains("hunter2"), "{d:?}");
}

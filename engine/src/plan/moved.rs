//! `moved {}` blocks: renaming stored objects before anything is compared.

use std::collections::HashSet;

use crate::address::{InstanceAddr, Target};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::state::StateSnapshot;
use crate::validate::Prepared;

/// The source text of an address expression (`tenant.acme.x.y`, `module.a["k"]`) or the value
/// of a string, parsed as a target.
pub(super) fn address_of(
    p: &Prepared,
    e: &crate::config::Expr,
    scope: Option<&dyn crate::eval::Scope>,
) -> Result<Target, Diagnostic> {
    let text = match (&e.expr, scope) {
        (hcl_edit::expr::Expression::String(_) | hcl_edit::expr::Expression::StringTemplate(_), Some(scope)) => {
            let v = crate::eval::eval(e, scope)?;
            v.as_str().map(str::to_string).ok_or_else(|| {
                Diagnostic::error("invalid-address", "The address must be a known string").with_span(e.span())
            })?
        }
        _ => e.span().map(|s| p.sources.snippet(s).trim().to_string()).unwrap_or_default(),
    };
    text.parse::<Target>().map_err(|err| {
        Diagnostic::error("invalid-address", "Invalid address")
            .with_span(e.span())
            .with_label(err.reason.clone())
            .with_help("addresses look like tenant.acme.local_service.web, random_id.x[0] or module.db[\"k\"]")
    })
}

pub(super) type MovedFrom = std::collections::HashMap<InstanceAddr, InstanceAddr>;

/// Applies the root module's `moved {}` blocks to a copy of the state. Returns the renamed
/// state (None when nothing moved) and, for each new address, where it came from.
pub(super) fn apply_moved_blocks(
    p: &Prepared,
    state: &StateSnapshot,
) -> Result<(Option<StateSnapshot>, MovedFrom), Diagnostics> {
    let mut from_of = MovedFrom::new();
    // `moved` blocks of every module instance, their addresses relative to that instance (a
    // block in the tenant stack moves the object in every tenant).
    let blocks: Vec<(&crate::address::ModuleAddr, &crate::config::MovedBlock)> =
        p.stack.modules.iter().flat_map(|mi| mi.module.moved.iter().map(move |m| (&mi.addr, m))).collect();
    if blocks.is_empty() {
        return Ok((None, from_of));
    }
    let mut diags = Diagnostics::new();
    let mut current: Option<StateSnapshot> = None;
    let mut reported = HashSet::new();
    for (base, m) in blocks {
        let (from, to) = match (address_of(p, &m.from, None), address_of(p, &m.to, None)) {
            (Ok(f), Ok(t)) => (relative_to(base, f), relative_to(base, t)),
            (Err(d), _) | (_, Err(d)) => {
                if reported.insert((d.span, d.summary.clone())) {
                    diags.push(d);
                }
                continue;
            }
        };
        let view = current.as_ref().unwrap_or(state);
        // A move whose source is no longer in state has already happened: nothing to do.
        if crate::refactor::matching(view, &from).is_empty() {
            continue;
        }
        match crate::refactor::plan_move(view, &from, &to) {
            Ok(moves) => {
                let changes = crate::refactor::move_changes(view, &moves);
                let mut next = view.clone();
                next.apply_changes(&changes);
                for (old, new) in &moves.resources {
                    let origin = from_of.remove(old).unwrap_or_else(|| old.clone());
                    from_of.insert(new.clone(), origin);
                }
                current = Some(next);
            }
            Err(e) => diags.push(
                Diagnostic::error("invalid-move", format!("Cannot move {from} to {to}"))
                    .with_span(Some(m.span))
                    .with_label(e.0),
            ),
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok((current, from_of))
    }
}

/// A target written in module instance `base`, made absolute.
fn relative_to(base: &crate::address::ModuleAddr, t: Target) -> Target {
    if base.is_root() {
        return t;
    }
    let prefix = |m: &crate::address::ModuleAddr| {
        let mut steps = base.0.clone();
        steps.extend(m.0.iter().cloned());
        crate::address::ModuleAddr(steps)
    };
    match t {
        Target::Module(m) => Target::Module(prefix(&m)),
        Target::Resource(mut r) => {
            r.module = prefix(&r.module);
            Target::Resource(r)
        }
        Target::Instance(mut i) => {
            i.resource.module = prefix(&i.resource.module);
            Target::Instance(i)
        }
    }
}

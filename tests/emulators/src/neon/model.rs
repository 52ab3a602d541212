//! Neon objects as stored and as shown: ids, timestamps, operations whose status follows the
//! clock, and the seeded project layout. Private bookkeeping keys start with `_` and are
//! removed before an object is shown through the API.

use std::sync::atomic::{AtomicU64, Ordering};

use rand::Rng;
use serde_json::{json, Value as Json};

use crate::store::Collections;
use crate::{public, Core};

static DATABASE_IDS: AtomicU64 = AtomicU64::new(1000);

pub fn now_rfc3339() -> String {
    let secs =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", sod / 3600, (sod / 60) % 60, sod % 60)
}

fn words(prefix: &str) -> String {
    const A: &[&str] = &["aged", "quiet", "snowy", "misty", "bold", "calm", "dry", "late", "wild", "young"];
    const N: &[&str] = &["salad", "mountain", "river", "forest", "cloud", "meadow", "field", "sea", "moon", "leaf"];
    let mut r = rand::thread_rng();
    let suffix: String = (0..8).map(|_| (b'a' + r.gen_range(0..26)) as char).collect();
    format!("{prefix}-{}-{}-{suffix}", A[r.gen_range(0..A.len())], N[r.gen_range(0..N.len())])
}

pub fn branch_id() -> String {
    words("br")
}

pub fn endpoint_id() -> String {
    words("ep")
}

pub fn password() -> String {
    let mut r = rand::thread_rng();
    let s: String = (0..12)
        .map(|_| {
            let c = r.gen_range(0..62u8);
            (match c {
                0..=9 => b'0' + c,
                10..=35 => b'a' + c - 10,
                _ => b'A' + c - 36,
            }) as char
        })
        .collect();
    format!("npg_{s}")
}

pub fn role_key(branch: &str, name: &str) -> String {
    format!("{branch}/{name}")
}

/// Records an operation that finishes after the configured delay; returns it as shown.
pub fn new_op(
    core: &Core,
    c: &mut Collections,
    project: &str,
    branch: Option<&str>,
    endpoint: Option<&str>,
    action: &str,
) -> Json {
    let id = uuid::Uuid::new_v4().to_string();
    let now = now_rfc3339();
    let mut op = json!({
        "id": id, "project_id": project, "action": action, "failures_count": 0,
        "created_at": now, "updated_at": now, "total_duration_ms": 0,
        "_started": core.now_ms(), "_ready_at": core.ready_at(),
    });
    if let Some(b) = branch {
        op["branch_id"] = json!(b);
    }
    if let Some(e) = endpoint {
        op["endpoint_id"] = json!(e);
    }
    if let Some(f) = c.get_mut(FAIL_OPS, action) {
        let left = f["count"].as_u64().unwrap_or(0);
        if left > 0 {
            f["count"] = json!(left - 1);
            op["_fail"] = json!(true);
        }
    }
    c.insert("operations", &id, op.clone());
    render_op(core, &op)
}

/// An operation with its status as of now.
pub fn render_op(core: &Core, op: &Json) -> Json {
    let started = op["_started"].as_u64().unwrap_or(0);
    let ready = op["_ready_at"].as_u64().unwrap_or(0);
    let p = core.progress(started, ready);
    let status = if core.is_ready(ready) && op["_fail"] == true {
        "failed"
    } else if core.is_ready(ready) {
        "finished"
    } else if p < 0.2 {
        "scheduling"
    } else {
        "running"
    };
    let mut out = public(op.clone());
    out["status"] = json!(status);
    if status == "finished" || status == "failed" {
        out["total_duration_ms"] = json!(ready.saturating_sub(started));
    }
    if status == "failed" {
        out["failures_count"] = json!(1);
        out["error"] = json!(format!(
            "{} failed: the control plane could not complete the operation",
            op["action"].as_str().unwrap_or("operation")
        ));
    }
    out
}

/// The collection of scheduled operation failures (by action), set through the admin route.
pub const FAIL_OPS: &str = "_fail_operations";

/// A branch's annotation as shown (`AnnotationData`): an empty value when it has none.
pub fn render_annotation(b: &Json) -> Json {
    let a = &b["_annotation"];
    let mut out = json!({
        "object": {"type": "console/branch", "id": b["id"]},
        "value": a.get("value").cloned().unwrap_or(json!({})),
    });
    for k in ["created_at", "updated_at"] {
        if let Some(t) = a.get(k) {
            out[k] = t.clone();
        }
    }
    out
}

/// True when the project has an operation that has not finished.
pub fn project_locked(core: &Core, c: &Collections, project: &str) -> bool {
    c.iter("operations").any(|op| op["project_id"] == project && !core.is_ready(op["_ready_at"].as_u64().unwrap_or(0)))
}

pub fn render_branch(core: &Core, b: &Json) -> Json {
    let ready = core.is_ready(b["_ready_at"].as_u64().unwrap_or(0));
    let mut out = public(b.clone());
    out["current_state"] = json!(if ready { "ready" } else { "init" });
    if !ready {
        out["pending_state"] = json!("ready");
    }
    out
}

pub fn render_endpoint(core: &Core, e: &Json) -> Json {
    let ready = core.is_ready(e["_ready_at"].as_u64().unwrap_or(0));
    let mut out = public(e.clone());
    let settled = if e["disabled"] == true { "idle" } else { "active" };
    out["current_state"] = json!(if ready { settled } else { "init" });
    out
}

/// A role as shown (the password only where the API reveals it).
pub fn render_role(r: &Json, with_password: bool) -> Json {
    let mut out = public(r.clone());
    if with_password {
        out["password"] = r["_password"].clone();
    }
    out
}

pub fn new_branch(project: &str, id: &str, name: &str, parent: Option<&Json>, ready_at: u64, default: bool) -> Json {
    let now = now_rfc3339();
    let mut b = json!({
        "id": id, "project_id": project, "name": name, "current_state": "ready", "state_changed_at": now,
        "creation_source": "console", "created_at": now, "updated_at": now, "default": default, "primary": default,
        "protected": false, "cpu_used_sec": 0, "active_time_seconds": 0, "compute_time_seconds": 0,
        "written_data_bytes": 0, "data_transfer_bytes": 0, "logical_size": 30_000_000, "init_source": "parent-data",
        "_ready_at": ready_at,
    });
    if let Some(p) = parent {
        b["parent_id"] = p["id"].clone();
        b["parent_lsn"] = json!("0/1DE2850");
    }
    b
}

pub fn new_endpoint(project: &str, branch: &str, id: &str, ty: &str, ready_at: u64) -> Json {
    let now = now_rfc3339();
    json!({
        "host": format!("{id}.us-east-2.aws.neon.tech"), "id": id, "project_id": project, "branch_id": branch,
        "region_id": "aws-us-east-2", "autoscaling_limit_min_cu": 0.25, "autoscaling_limit_max_cu": 0.25,
        "type": ty, "current_state": "init", "pooler_enabled": false, "pooler_mode": "transaction",
        "disabled": false, "passwordless_access": true, "creation_source": "console", "created_at": now,
        "updated_at": now, "settings": {"pg_settings": {}}, "proxy_host": "us-east-2.aws.neon.tech",
        "suspend_timeout_seconds": 0, "provisioner": "k8s-neonvm", "_ready_at": ready_at,
    })
}

pub fn new_role(branch: &str, name: &str) -> Json {
    let now = now_rfc3339();
    json!({"branch_id": branch, "name": name, "protected": false, "created_at": now, "updated_at": now, "_password": password()})
}

pub fn new_database(branch: &str, name: &str, owner: &str) -> Json {
    let now = now_rfc3339();
    json!({
        "id": DATABASE_IDS.fetch_add(1, Ordering::SeqCst), "branch_id": branch, "name": name,
        "owner_name": owner, "created_at": now, "updated_at": now,
    })
}

/// Creates a project with a default branch `main`, role `neondb_owner`, database `neondb`
/// and a read-write endpoint, all ready at once. Returns the project as shown.
pub fn create_project(core: &Core, id: &str, name: &str) -> Json {
    let now = now_rfc3339();
    let project = json!({
        "id": id, "name": name, "region_id": "aws-us-east-2", "pg_version": 17, "platform_id": "aws",
        "provisioner": "k8s-neonvm", "created_at": now, "updated_at": now, "proxy_host": "us-east-2.aws.neon.tech",
        "store_passwords": true, "creation_source": "console", "branch_logical_size_limit": -1,
    });
    core.store.with(|c| {
        c.insert("projects", id, project.clone());
        let bid = branch_id();
        c.insert("branches", &bid, new_branch(id, &bid, "main", None, 0, true));
        let eid = endpoint_id();
        c.insert("endpoints", &eid, new_endpoint(id, &bid, &eid, "read_write", 0));
        c.insert("roles", &role_key(&bid, "neondb_owner"), new_role(&bid, "neondb_owner"));
        c.insert("databases", &role_key(&bid, "neondb"), new_database(&bid, "neondb", "neondb_owner"));
    });
    project
}

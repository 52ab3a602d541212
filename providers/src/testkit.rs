//! Test helpers shared by the cloud providers' tests: planned values built from a schema
//! (computed attributes unknown, unset ones null) and in-memory capture of `tracing` output
//! for the "no secret in the logs" checks.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tenantform_engine::provider::ResourceSchema;
use tenantform_engine::value::Value;

/// A planned value for a create: the given attributes, computed ones unknown, the rest null.
pub fn planned(schema: &ResourceSchema, set: &[(&str, Value)]) -> Value {
    let s = &schema.schema;
    let mut m = std::collections::BTreeMap::new();
    for (name, a) in &s.attributes {
        m.insert(name.clone(), if a.is_computed() { Value::Unknown } else { a.default.clone().unwrap_or(Value::Null) });
    }
    for name in s.blocks.keys() {
        m.insert(name.clone(), Value::Null);
    }
    for (k, v) in set {
        m.insert((*k).to_string(), v.clone());
    }
    Value::Map(m)
}

/// `value` with some attributes replaced (the planned value of an update).
pub fn with(value: &Value, set: &[(&str, Value)]) -> Value {
    let mut v = value.clone();
    for (k, x) in set {
        crate::support::diff::set(&mut v, k, x.clone());
    }
    v
}

pub fn s(x: &str) -> Value {
    Value::string(x)
}

pub fn get_str(v: &Value, name: &str) -> String {
    v.get(name).and_then(Value::as_str).unwrap_or_default().to_string()
}

thread_local! {
    static CURRENT: std::cell::RefCell<Option<Arc<Mutex<Vec<u8>>>>> = const { std::cell::RefCell::new(None) };
}

/// Collects everything logged through `tracing` (all levels) on this thread while the guard
/// lives. One global TRACE subscriber routes each line to the capture of the thread that
/// logged it (scoped subscribers race with callsite-interest caching across test threads).
/// Use with current-thread tokio tests, whose tasks all run on the test thread.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

/// Ends a capture when dropped.
pub struct CaptureGuard;

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| *c.borrow_mut() = None);
    }
}

impl LogCapture {
    pub fn install() -> (LogCapture, CaptureGuard) {
        static INIT: std::sync::Once = std::sync::Once::new();
        INIT.call_once(|| {
            let sub = tracing_subscriber::fmt()
                .with_writer(ThreadRouted)
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .finish();
            let _ = tracing::subscriber::set_global_default(sub);
        });
        let cap = LogCapture::default();
        CURRENT.with(|c| *c.borrow_mut() = Some(cap.0.clone()));
        (cap, CaptureGuard)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Writes to the capture of the current thread, if any.
#[derive(Clone, Copy)]
struct ThreadRouted;

impl Write for ThreadRouted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CURRENT.with(|c| {
            if let Some(b) = &*c.borrow() {
                b.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for ThreadRouted {
    type Writer = ThreadRouted;
    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}

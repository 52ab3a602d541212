//! Test helpers for the local provider: a temporary root whose processes (services and the
//! router) are killed when the test ends, pass or fail, and a tiny Python HTTP server.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustix::process::Signal;
use tenantform_engine::value::Value;

use super::process::{group_members, signal_group};
use super::LocalConfig;

/// A temporary provider root. On drop, every process group recorded under it is SIGKILLed.
pub struct TestRoot {
    pub dir: tempfile::TempDir,
    pub router_listen: SocketAddr,
}

impl TestRoot {
    pub fn new() -> TestRoot {
        // A free port for the router; tests that need the router bind it themselves.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let router_listen = l.local_addr().unwrap();
        drop(l);
        TestRoot { dir: tempfile::tempdir().unwrap(), router_listen }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn cfg(&self) -> Arc<LocalConfig> {
        Arc::new(LocalConfig::new(self.dir.path().join("root"), self.router_listen).unwrap())
    }

    /// Writes a Python HTTP server script: answers `GET /` with `$GREETING <Host header>`,
    /// `/fail` with 500, writes its pid to `$PID_FILE` when set, and listens on `$PORT`.
    pub fn server_script(&self) -> PathBuf {
        let p = self.dir.path().join("server.py");
        std::fs::write(&p, SERVER_PY).unwrap();
        p
    }
}

impl Drop for TestRoot {
    fn drop(&mut self) {
        let root = self.dir.path().join("root");
        let mut records: Vec<(i32, u64)> = Vec::new();
        if let Ok(dir) = std::fs::read_dir(root.join("services")) {
            for e in dir.flatten() {
                if let Ok(text) = std::fs::read_to_string(e.path().join("service.json")) {
                    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                        if let (Some(pid), Some(t)) = (v["pid"].as_i64(), v["start_ticks"].as_u64()) {
                            records.push((pid as i32, t));
                        }
                    }
                }
            }
        }
        if let Ok(text) = std::fs::read_to_string(root.join("router.pid")) {
            let mut parts = text.split_whitespace();
            if let (Some(Ok(pid)), Some(Ok(t))) = (parts.next().map(str::parse), parts.next().map(str::parse)) {
                records.push((pid, t));
            }
        }
        for (pid, start) in records {
            if !group_members(pid, start).is_empty() {
                let _ = signal_group(pid, Signal::KILL);
            }
        }
    }
}

/// A string-keyed object value.
pub fn obj(entries: &[(&str, Value)]) -> Value {
    Value::map(entries.iter().cloned())
}

const SERVER_PY: &str = r#"
import http.server, os, sys

if os.environ.get("PID_FILE"):
    with open(os.environ["PID_FILE"], "w") as f:
        f.write(str(os.getpid()))

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/fail":
            body = b"unhealthy\n"
            self.send_response(500)
        else:
            body = (os.environ.get("GREETING", "hello") + " " + self.headers.get("Host", "")
                    + " fwd=" + self.headers.get("X-Forwarded-Host", "")).encode()
            self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(n)
        body = b"got " + data
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

print("listening on", os.environ["PORT"], flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
"#;

//! `local_hostname`: makes `http://<hostname>:<router port>/` reach a local service, e.g.
//! `acme.localhost` → `127.0.0.1:<service port>`, through the [router](super::router).
//!
//! The resource writes the route file `<root>/routes/<hostname>` and makes sure a router for
//! this root is listening on `router_listen`: when nothing listens there it starts one,
//! detached, as `$TENANTFORM_EXE __router --routes <root>/routes --listen <addr>` (or the
//! current executable), logging to `<root>/router.log` and recording `<root>/router.pid`. When
//! the last route is deleted, the router it started is stopped. A router for another root, or
//! another program on that address, is reported rather than fought.
//!
//! `*.localhost` names resolve to 127.0.0.1 for curl and browsers on Linux, so
//! `curl http://acme.localhost:8080/` works; otherwise use
//! `curl -H 'Host: acme.localhost' http://127.0.0.1:8080/`.
//!
//! Update or replace: `hostname` is force-new; `port` and `upstream_host` rewrite the route in
//! place (the router reads routes on every request). `read` reports the route gone when its
//! file was removed or no router answers for this root (apply then restores both), and
//! reports an edited route file as drift.
//!
//! Import ID: `<hostname>` (an existing route file under `<root>/routes/`).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, OpContext, PlanRequest, PlanResponse, ProviderError, ResourceSchema, ResourceType,
    Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::Value;

use super::router::{normalize_host, PROBE_HOST, ROUTER_HEADER};
use super::{http, io_err, process, LocalConfig};
use crate::support::attrs::{path, Attrs};
use crate::support::{diff, fs as sfs};

const DEFAULT_UPSTREAM_HOST: &str = "127.0.0.1";

/// Serializes router start/stop within this process (parallel applies of several hostnames).
static ROUTER_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub fn schema() -> ResourceSchema {
    let schema = Schema::new()
        .describe("A local hostname (e.g. acme.localhost) routed by the tenantform router to a local port.")
        .attr(
            "hostname",
            AttributeSchema::required(Type::String)
                .force_new()
                .describe("Lowercase host name to route, e.g. \"acme.localhost\" (*.localhost resolves to 127.0.0.1)."),
        )
        .attr(
            "port",
            AttributeSchema::required(Type::Number).describe(
                "Port of the upstream, typically local_service.<name>.port. Changing it updates the route in place.",
            ),
        )
        .attr(
            "upstream_host",
            AttributeSchema::optional(Type::String)
                .default(Value::string(DEFAULT_UPSTREAM_HOST))
                .describe("Host (IP or name) of the upstream. Default \"127.0.0.1\"."),
        )
        .attr("url", AttributeSchema::computed(Type::String).describe("http://<hostname>:<router port>"))
        .attr("id", AttributeSchema::computed(Type::String).describe("The hostname."));
    ResourceSchema { schema, version: 0, import_id: "<hostname>".into() }
}

pub struct Hostname {
    cfg: Arc<LocalConfig>,
}

/// Checks that a hostname is already in its routed form.
pub fn check_hostname(h: &str) -> Result<(), String> {
    let ok = normalize_host(h).as_deref() == Some(h)
        && !h.contains('_')
        && h.split('.')
            .all(|label| !label.is_empty() && label.len() <= 63 && !label.starts_with('-') && !label.ends_with('-'))
        && h.len() <= 253;
    if ok {
        Ok(())
    } else {
        Err(format!("invalid hostname {h:?}: use a lowercase DNS name without port, e.g. \"acme.localhost\""))
    }
}

/// What answers on `router_listen`.
enum Probe {
    /// A tenantform router serving this root's routes (with its pid).
    Ours(u32),
    /// A tenantform router serving another directory.
    OtherRouter(String),
    /// Something else.
    Foreign(String),
    /// Nothing listens.
    Nothing,
}

fn upstream_of(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Parses a route line back into (host, port).
fn parse_upstream(line: &str) -> Option<(String, u16)> {
    let (host, port) = line.trim().rsplit_once(':')?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    Some((host.to_string(), port.parse().ok()?))
}

impl Hostname {
    pub fn new(cfg: Arc<LocalConfig>) -> Self {
        Hostname { cfg }
    }

    fn route_file(&self, host: &str) -> PathBuf {
        self.cfg.routes_dir().join(host)
    }

    fn url(&self, host: &str) -> String {
        format!("http://{host}:{}", self.cfg.router_listen.port())
    }

    fn pid_file(&self) -> PathBuf {
        self.cfg.root.join("router.pid")
    }

    fn log_file(&self) -> PathBuf {
        self.cfg.root.join("router.log")
    }

    fn state(&self, host: &str, upstream_host: &str, port: u16) -> Value {
        Value::map([
            ("id", Value::string(host)),
            ("hostname", Value::string(host)),
            ("port", Value::number(port)),
            ("upstream_host", Value::string(upstream_host)),
            ("url", Value::string(self.url(host))),
        ])
    }

    fn inputs(&self, v: &Value) -> Result<(String, String, u16), ProviderError> {
        let a = Attrs::new(v);
        let host = a.str("hostname")?;
        check_hostname(host).map_err(|e| ProviderError::permanent(e).at(path("hostname")))?;
        let port = a.i64("port")?;
        if !(1..=65535).contains(&port) {
            return Err(
                ProviderError::permanent(format!("port must be between 1 and 65535, got {port}")).at(path("port"))
            );
        }
        let upstream_host = a.str_or("upstream_host", DEFAULT_UPSTREAM_HOST)?;
        Ok((host.to_string(), upstream_host.to_string(), port as u16))
    }

    fn read_route(&self, host: &str) -> Result<Option<String>, ProviderError> {
        let f = self.route_file(host);
        match std::fs::read_to_string(&f) {
            Ok(s) => Ok(Some(s.trim().to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(format!("cannot read {}", f.display()), e)),
        }
    }

    fn write_route(&self, host: &str, upstream: &str) -> Result<(), ProviderError> {
        let dir = self.cfg.routes_dir();
        std::fs::create_dir_all(&dir).map_err(|e| io_err(format!("cannot create {}", dir.display()), e))?;
        let f = self.route_file(host);
        sfs::write_atomic(&f, format!("{upstream}\n").as_bytes(), 0o644)
            .map_err(|e| io_err(format!("cannot write {}", f.display()), e))
    }

    async fn probe(&self) -> Probe {
        match http::get(self.cfg.router_listen, PROBE_HOST, "/", Duration::from_secs(2)).await {
            Ok(resp) if resp.status == 200 && resp.header(ROUTER_HEADER).is_some() => {
                let info: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_default();
                let dir = info["routes_dir"].as_str().unwrap_or_default().to_string();
                let same = |a: &str, b: &std::path::Path| {
                    std::fs::canonicalize(a).ok().zip(std::fs::canonicalize(b).ok()).is_some_and(|(x, y)| x == y)
                        || std::path::Path::new(a) == b
                };
                if same(&dir, &self.cfg.routes_dir()) {
                    Probe::Ours(info["pid"].as_u64().unwrap_or(0) as u32)
                } else {
                    Probe::OtherRouter(dir)
                }
            }
            Ok(resp) => Probe::Foreign(format!("it answered HTTP {}", resp.status)),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => Probe::Nothing,
            Err(e) => Probe::Foreign(e.to_string()),
        }
    }

    /// Makes sure a router for this root listens on `router_listen`, starting one if needed.
    async fn ensure_router(&self, ctx: &OpContext) -> Result<(), ProviderError> {
        let _guard = ROUTER_LOCK.lock().await;
        let listen = self.cfg.router_listen;
        match self.probe().await {
            Probe::Ours(_) => Ok(()),
            Probe::OtherRouter(dir) => Err(ProviderError::permanent(format!(
                "the router on {listen} serves routes from {dir}, not from this root ({})",
                self.cfg.routes_dir().display()
            ))
            .with_help("set `router_listen` in the local provider block to another address for this root")),
            Probe::Foreign(what) => Err(ProviderError::permanent(format!(
                "{listen} is in use by another program ({what}), so the hostname router cannot listen there"
            ))
            .with_help("stop that program, or set `router_listen` in the local provider block to a free address")),
            Probe::Nothing => self.spawn_router(ctx).await,
        }
    }

    async fn spawn_router(&self, ctx: &OpContext) -> Result<(), ProviderError> {
        let exe = match std::env::var_os("TENANTFORM_EXE") {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => std::env::current_exe().map_err(|e| io_err("cannot find the tenantform executable", e))?,
        };
        let routes = self.cfg.routes_dir();
        std::fs::create_dir_all(&routes).map_err(|e| io_err(format!("cannot create {}", routes.display()), e))?;
        let log_path = self.log_file();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| io_err(format!("cannot open {}", log_path.display()), e))?;
        let log_err = log.try_clone().map_err(|e| io_err("cannot open the router log", e))?;
        let mut cmd = Command::new(&exe);
        cmd.arg("__router")
            .arg("--routes")
            .arg(&routes)
            .arg("--listen")
            .arg(self.cfg.router_listen.to_string())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        let child = process::spawn_detached(&mut cmd)
            .map_err(|e| io_err(format!("cannot start the router `{} __router`", exe.display()), e))?;
        let failed = |summary: String| {
            ProviderError::permanent(summary)
                .with_detail(format!("last lines of {}:\n{}", log_path.display(), sfs::tail(&log_path, 20)))
                .with_help(format!(
                    "the router is started as `{} __router …`; set TENANTFORM_EXE to the tenantform binary if that is not it",
                    exe.display()
                ))
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Probe::Ours(pid) = self.probe().await {
                if pid == child.pid as u32 {
                    let record = format!("{} {}\n", child.pid, child.start_ticks);
                    sfs::write_atomic(&self.pid_file(), record.as_bytes(), 0o644)
                        .map_err(|e| io_err("cannot write the router pid file", e))?;
                }
                // Otherwise a router started concurrently won the address; it serves us too.
                return Ok(());
            }
            if let Some(status) = child.exit_status() {
                return Err(failed(format!("the hostname router exited ({status}) right after starting")));
            }
            if Instant::now() >= deadline {
                let _ = process::stop_group(child.pid, child.start_ticks, Duration::from_secs(1)).await;
                return Err(failed(format!(
                    "the hostname router did not answer on {} within 10s",
                    self.cfg.router_listen
                )));
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = ctx.cancel.cancelled() => {
                    let _ = process::stop_group(child.pid, child.start_ticks, Duration::from_secs(1)).await;
                    return Err(ProviderError::cancelled());
                }
            }
        }
    }

    /// Stops the router this root started once no route is left.
    async fn stop_router_if_idle(&self) -> Result<(), ProviderError> {
        let _guard = ROUTER_LOCK.lock().await;
        let routes_left = std::fs::read_dir(self.cfg.routes_dir())
            .map(|d| d.flatten().any(|e| !e.file_name().to_string_lossy().starts_with('.')))
            .unwrap_or(false);
        if routes_left {
            return Ok(());
        }
        let pid_file = self.pid_file();
        let Ok(text) = std::fs::read_to_string(&pid_file) else {
            return Ok(());
        };
        let mut parts = text.split_whitespace();
        if let (Some(Ok(pid)), Some(Ok(start))) =
            (parts.next().map(str::parse::<i32>), parts.next().map(str::parse::<u64>))
        {
            if process::is_alive(pid, start) {
                process::stop_group(pid, start, Duration::from_secs(5))
                    .await
                    .map_err(|e| io_err(format!("cannot stop the hostname router (pid {pid})"), e))?;
            }
        }
        sfs::remove_if_exists(&pid_file).map_err(|e| io_err("cannot remove the router pid file", e))
    }
}

#[async_trait]
impl ResourceType for Hostname {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        if let Some(h) = config.get("hostname").and_then(Value::as_str) {
            if let Err(message) = check_hostname(h) {
                problems.push(ConfigProblem { path: path("hostname"), message });
            }
        }
        if let Some(p) = config.get("port").and_then(Value::as_f64) {
            if !(1.0..=65535.0).contains(&p) || p.fract() != 0.0 {
                problems.push(ConfigProblem {
                    path: path("port"),
                    message: format!("port must be between 1 and 65535, got {p}"),
                });
            }
        }
        problems
    }

    async fn plan(&self, req: PlanRequest) -> Result<PlanResponse, ProviderError> {
        let mut planned = req.proposed;
        match planned.get("hostname").and_then(Value::as_str).map(str::to_string) {
            Some(h) => {
                diff::set(&mut planned, "id", Value::string(&h));
                diff::set(&mut planned, "url", Value::string(self.url(&h)));
            }
            None => diff::mark_unknown(&mut planned, &["id", "url"]),
        }
        Ok(PlanResponse { planned, requires_replace: Vec::new() })
    }

    async fn create(&self, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let (host, upstream_host, port) = self.inputs(planned)?;
        let upstream = upstream_of(&upstream_host, port);
        match self.read_route(&host)? {
            Some(existing) if existing != upstream => {
                return Err(ProviderError::permanent(format!(
                    "hostname {host:?} is already routed to {existing} ({})",
                    self.route_file(&host).display()
                ))
                .with_help(format!("import it with `tenantform import <address> {host}`, or choose another hostname")))
            }
            _ => self.write_route(&host, &upstream)?,
        }
        self.ensure_router(ctx).await?;
        Ok(self.state(&host, &upstream_host, port))
    }

    async fn read(&self, current: &Value, _ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        let host = Attrs::new(current).str("hostname")?.to_string();
        let Some(line) = self.read_route(&host)? else {
            return Ok(None);
        };
        if !matches!(self.probe().await, Probe::Ours(_)) {
            // The route exists but nothing serves it: apply re-creates it, starting the router.
            return Ok(None);
        }
        match parse_upstream(&line) {
            Some((h, p)) => Ok(Some(self.state(&host, &h, p))),
            None => {
                // Unreadable route: show it as drift of `port`, repaired by an update.
                let mut s = current.clone();
                diff::set(&mut s, "port", Value::Null);
                Ok(Some(s))
            }
        }
    }

    async fn update(&self, _prior: &Value, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let (host, upstream_host, port) = self.inputs(planned)?;
        self.write_route(&host, &upstream_of(&upstream_host, port))?;
        self.ensure_router(ctx).await?;
        Ok(self.state(&host, &upstream_host, port))
    }

    async fn delete(&self, current: &Value, _ctx: &OpContext) -> Result<(), ProviderError> {
        let host = Attrs::new(current).str("hostname")?.to_string();
        let f = self.route_file(&host);
        sfs::remove_if_exists(&f).map_err(|e| io_err(format!("cannot remove {}", f.display()), e))?;
        self.stop_router_if_idle().await
    }

    async fn import(&self, id: &str, _ctx: &OpContext) -> Result<Value, ProviderError> {
        check_hostname(id).map_err(ProviderError::permanent)?;
        let Some(line) = self.read_route(id)? else {
            return Err(ProviderError::not_found(format!(
                "no route for {id:?} (looked for {})",
                self.route_file(id).display()
            )));
        };
        let (h, p) = parse_upstream(&line).ok_or_else(|| {
            ProviderError::permanent(format!(
                "the route file {} does not hold host:port",
                self.route_file(id).display()
            ))
        })?;
        Ok(self.state(id, &h, p))
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use tenantform_engine::provider::ErrorKind;

    use super::*;
    use crate::local::service::Service;
    use crate::local::testutil::{obj, TestRoot};

    fn cfg(host: &str, port: u16) -> Value {
        obj(&[
            ("hostname", Value::string(host)),
            ("port", Value::number(port)),
            ("upstream_host", Value::string("127.0.0.1")),
            ("url", Value::Unknown),
            ("id", Value::Unknown),
        ])
    }

    async fn start_service(root: &TestRoot, name: &str, greeting: &str) -> Value {
        let svc = Service::new(root.cfg());
        let c = obj(&[
            ("name", Value::string(name)),
            (
                "command",
                Value::List(vec![Value::string("python3"), Value::string(root.server_script().to_string_lossy())]),
            ),
            ("env", Value::map([("GREETING", Value::string(greeting))])),
            ("health_timeout", Value::string("20s")),
        ]);
        svc.create(&c, &OpContext::default()).await.unwrap()
    }

    async fn get_via(router: SocketAddr, host: &str) -> (u16, String) {
        let r = http::get(router, host, "/", Duration::from_secs(5)).await.unwrap();
        (r.status, String::from_utf8_lossy(&r.body).into_owned())
    }

    fn port_of(v: &Value) -> u16 {
        v.get("port").and_then(Value::as_i64).unwrap() as u16
    }

    #[tokio::test]
    async fn routes_a_hostname_to_a_real_service_through_an_in_process_router() {
        let root = TestRoot::new();
        let cfg_ = root.cfg();
        let listener = tokio::net::TcpListener::bind(cfg_.router_listen).await.unwrap();
        tokio::spawn(super::super::router::serve(cfg_.routes_dir(), listener));
        let r = Hostname::new(cfg_.clone());
        let ctx = OpContext::default();
        let a = start_service(&root, "acme-api", "hello-acme").await;
        let b = start_service(&root, "acme-api-v2", "hello-v2").await;

        let c = cfg("acme.localhost", port_of(&a));
        let plan = r.plan(PlanRequest { prior: None, config: c.clone(), proposed: c.clone() }).await.unwrap().planned;
        let s = r.create(&plan, &ctx).await.unwrap();
        assert_eq!(s, plan);
        assert_eq!(s.get("url"), Some(&Value::string(format!("http://acme.localhost:{}", cfg_.router_listen.port()))));
        let (status, body) =
            get_via(cfg_.router_listen, &format!("acme.localhost:{}", cfg_.router_listen.port())).await;
        assert_eq!(status, 200);
        assert!(body.starts_with("hello-acme acme.localhost:"), "{body}");
        assert_eq!(r.read(&s, &ctx).await.unwrap(), Some(s.clone()));
        assert!(!r.pid_file().exists(), "the running router was used, none started");

        // Port change: in place.
        let u = r.update(&s, &cfg("acme.localhost", port_of(&b)), &ctx).await.unwrap();
        assert_eq!(get_via(cfg_.router_listen, "acme.localhost").await.1.split(' ').next(), Some("hello-v2"));
        assert_eq!(r.read(&u, &ctx).await.unwrap(), Some(u.clone()));

        // Drift: the route file was edited by hand.
        std::fs::write(r.route_file("acme.localhost"), format!("127.0.0.1:{}\n", port_of(&a))).unwrap();
        let drifted = r.read(&u, &ctx).await.unwrap().unwrap();
        assert_eq!(port_of(&drifted), port_of(&a));

        assert_eq!(r.import("acme.localhost", &ctx).await.unwrap(), drifted);
        assert_eq!(r.import("nope.localhost", &ctx).await.unwrap_err().kind, ErrorKind::NotFound);

        // Another stack claiming the hostname for another upstream is refused.
        let e = r.create(&cfg("acme.localhost", 1), &ctx).await.unwrap_err();
        assert!(e.summary.contains("already routed"), "{e}");

        r.delete(&u, &ctx).await.unwrap();
        assert_eq!(r.read(&u, &ctx).await.unwrap(), None);
        let (status, body) = get_via(cfg_.router_listen, "acme.localhost").await;
        assert_eq!(status, 404, "{body}");

        assert!(!r.validate(&cfg("Acme.localhost", 1)).is_empty());
        assert!(!r.validate(&cfg("acme.localhost:8080", 1)).is_empty());
        assert!(r.validate(&cfg("acme.localhost", 1)).is_empty());
    }

    #[tokio::test]
    async fn foreign_program_on_router_address_is_reported() {
        let root = TestRoot::new();
        let cfg_ = root.cfg();
        let l = tokio::net::TcpListener::bind(cfg_.router_listen).await.unwrap();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            loop {
                let (mut s, _) = l.accept().await.unwrap();
                let mut b = [0u8; 1024];
                let _ = s.read(&mut b).await;
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi").await;
            }
        });
        let r = Hostname::new(cfg_.clone());
        let e = r.create(&cfg("x.localhost", 9), &OpContext::default()).await.unwrap_err();
        assert!(e.summary.contains("in use by another program"), "{e}");
        assert!(e.help.unwrap().contains("router_listen"));
    }

    /// Entry point of the router subprocess in `spawns_the_router_and_stops_it_with_the_last_route`
    /// (started through a wrapper script standing in for `tenantform __router`).
    #[test]
    #[ignore = "run as a subprocess by another test"]
    fn router_subprocess() {
        let (Ok(routes), Ok(listen)) =
            (std::env::var("TENANTFORM_TEST_ROUTER_ROUTES"), std::env::var("TENANTFORM_TEST_ROUTER_LISTEN"))
        else {
            return;
        };
        super::super::router::run_blocking(std::path::Path::new(&routes), &listen).unwrap();
    }

    #[tokio::test]
    async fn spawns_the_router_and_stops_it_with_the_last_route() {
        use std::os::unix::fs::PermissionsExt;
        let root = TestRoot::new();
        let cfg_ = root.cfg();
        let test_exe = std::env::current_exe().unwrap();
        let wrapper = root.path().join("tenantform");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\n[ \"$1\" = __router ] && [ \"$2\" = --routes ] && [ \"$4\" = --listen ] || exit 64\n\
                 TENANTFORM_TEST_ROUTER_ROUTES=\"$3\" TENANTFORM_TEST_ROUTER_LISTEN=\"$5\" \
                 exec '{}' --exact local::hostname::tests::router_subprocess --ignored --nocapture --test-threads=1\n",
                test_exe.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
        // Only this test reads TENANTFORM_EXE; the variable is how the CLI is found in real use too.
        std::env::set_var("TENANTFORM_EXE", &wrapper);

        let r = Hostname::new(cfg_.clone());
        let ctx = OpContext::default();
        let svc = start_service(&root, "globex", "hello-globex").await;
        let s = r.create(&cfg("globex.localhost", port_of(&svc)), &ctx).await.unwrap();
        let s2 = r.create(&cfg("initech.localhost", port_of(&svc)), &ctx).await.unwrap();
        let text = std::fs::read_to_string(r.pid_file()).unwrap();
        let mut parts = text.split_whitespace();
        let (pid, start): (i32, u64) = (parts.next().unwrap().parse().unwrap(), parts.next().unwrap().parse().unwrap());
        assert!(process::is_alive(pid, start));
        let (status, body) = get_via(cfg_.router_listen, "globex.localhost").await;
        assert_eq!(status, 200);
        assert!(body.starts_with("hello-globex globex.localhost fwd=globex.localhost"), "{body}");
        assert_eq!(r.read(&s, &ctx).await.unwrap(), Some(s.clone()));

        // The router dies (e.g. a reboot): read reports the hostname gone; create restores it.
        process::stop_group(pid, start, Duration::from_secs(5)).await.unwrap();
        assert_eq!(r.read(&s, &ctx).await.unwrap(), None);
        let s = r.create(&cfg("globex.localhost", port_of(&svc)), &ctx).await.unwrap();
        assert_eq!(get_via(cfg_.router_listen, "globex.localhost").await.0, 200);
        let text = std::fs::read_to_string(r.pid_file()).unwrap();
        let mut parts = text.split_whitespace();
        let (pid, start): (i32, u64) = (parts.next().unwrap().parse().unwrap(), parts.next().unwrap().parse().unwrap());

        r.delete(&s, &ctx).await.unwrap();
        assert!(process::is_alive(pid, start), "a route is left: the router keeps running");
        r.delete(&s2, &ctx).await.unwrap();
        assert!(!process::is_alive(pid, start), "the last route is gone: the router stopped");
        assert!(!r.pid_file().exists());
    }
}

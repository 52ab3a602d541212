//! `local_service`: a real process on this machine, serving HTTP on a port of 127.0.0.1.
//!
//! Create resolves the program (on the `PATH` of `env`, else tenantform's), picks the port
//! (`port`, or a free one), and spawns the command detached in its own process group (it
//! outlives tenantform; a Ctrl-C in the terminal does not reach it), stdout and stderr appended
//! to `<root>/services/<name>/service.log`. The pid and the process start time (from
//! `/proc/<pid>/stat`, which tells a reused pid apart) go into state and into
//! `<root>/services/<name>/service.json`. Create succeeds only once
//! `GET http://127.0.0.1:<port><health_path>` answers 2xx/3xx within `health_timeout`; if the
//! process exits first or the time runs out, its process group is killed and the error carries
//! the tail of the log.
//!
//! The process environment is deliberately small: `PATH`, `HOME`, `USER`, `LOGNAME`, `SHELL`,
//! `LANG`, `LC_ALL`, `LC_CTYPE`, `TZ` and `TMPDIR` from tenantform's environment (so a tenant's
//! service never sees the operator's cloud credentials), then `env`, then `PORT=<port>` unless
//! `env` sets `PORT` itself. The command is run directly, not through a shell: to expand
//! variables, use `["sh", "-c", "exec my-server --port \"$PORT\""]`. The command must stay in
//! the foreground; a command that exits counts as a failed start.
//!
//! Update or replace, per attribute:
//! - `name`: force-new (it names the files).
//! - `command`, `env`, `working_dir`, `port`: in place, by restarting the process (stop, then
//!   start and health-check again). A port change is a restart, not a replacement: the
//!   service's identity is its name, and dependents (e.g. `local_hostname.port`) update in
//!   place too. Leaving `port` unset keeps the allocated port across restarts.
//! - `health_path`, `health_timeout`, `stop_timeout`: in place, state only (no restart).
//!
//! `read` reports the service gone when the process is not running or its pid now belongs to
//! another process, so the next plan re-creates it. `delete` sends SIGTERM to the process group,
//! waits up to `stop_timeout`, then sends SIGKILL.
//!
//! Import ID: `<name>`, the service recorded under `<root>/services/<name>/` whose process is
//! still running.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tenantform_engine::provider::{
    AttributeSchema, ConfigProblem, OpContext, PlanRequest, PlanResponse, ProviderError, ResourceSchema, ResourceType,
    Schema,
};
use tenantform_engine::types::Type;
use tenantform_engine::value::{PathStep, Value};

use super::process::{self, KillOnDrop, Spawned};
use super::{absolute, http, io_err, name_attr, validate_name_attr, LocalConfig};
use crate::support::attrs::{path, val_opt_str, val_str_list, Attrs};
use crate::support::{diff, duration, fs as sfs, timefmt};

const DEFAULT_HEALTH_PATH: &str = "/";
const DEFAULT_HEALTH_TIMEOUT: &str = "30s";
const DEFAULT_STOP_TIMEOUT: &str = "10s";
/// Attributes whose change restarts the process.
const RESTART_ATTRS: [&str; 4] = ["command", "env", "port", "working_dir"];
/// Variables passed through from tenantform's own environment.
const INHERITED_ENV: [&str; 10] =
    ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR"];
/// Lines of the log shown in errors.
const LOG_TAIL_LINES: usize = 30;

pub fn schema() -> ResourceSchema {
    let dur = |d: &str, default: &str| {
        AttributeSchema::optional(Type::String)
            .default(Value::string(default))
            .describe(format!("{d} Default \"{default}\"."))
    };
    let schema = Schema::new()
        .describe("A process running on this machine, serving HTTP on 127.0.0.1, restarted when its settings change.")
        .attr(
            "name",
            AttributeSchema::required(Type::String)
                .force_new()
                .describe("Name of the service; its files live in <root>/services/<name>/."),
        )
        .attr(
            "command",
            AttributeSchema::required(Type::List(Box::new(Type::String))).describe(
                "Program and arguments, run directly (no shell). The program is looked up on PATH. Changing it restarts the service.",
            ),
        )
        .attr(
            "env",
            AttributeSchema::optional(Type::Map(Box::new(Type::String))).sensitive().describe(
                "Environment variables (on top of PATH, HOME, USER, LANG, … from tenantform's environment). \
                 Sensitive: may hold secrets. Changing it restarts the service.",
            ),
        )
        .attr(
            "port",
            AttributeSchema::optional_computed(Type::Number).describe(
                "Port on 127.0.0.1 the service listens on, passed as PORT. When unset, a free port is allocated \
                 (and kept across restarts). Changing it restarts the service.",
            ),
        )
        .attr(
            "working_dir",
            AttributeSchema::optional(Type::String).describe(
                "Working directory of the process (default: tenantform's working directory). Changing it restarts the service.",
            ),
        )
        .attr(
            "health_path",
            AttributeSchema::optional(Type::String)
                .default(Value::string(DEFAULT_HEALTH_PATH))
                .describe("Path probed with GET on start; 2xx and 3xx count as healthy. Default \"/\"."),
        )
        .attr("health_timeout", dur("How long the service has to become healthy (e.g. \"30s\").", DEFAULT_HEALTH_TIMEOUT))
        .attr(
            "stop_timeout",
            dur("How long the service has to exit after SIGTERM before it is killed (e.g. \"10s\").", DEFAULT_STOP_TIMEOUT),
        )
        .attr("pid", AttributeSchema::computed(Type::Number).describe("Process id of the running service."))
        .attr(
            "pid_start_time",
            AttributeSchema::computed(Type::Number)
                .describe("Start time of the process (clock ticks after boot), to tell a reused pid apart."),
        )
        .attr("url", AttributeSchema::computed(Type::String).describe("http://127.0.0.1:<port>"))
        .attr("log_path", AttributeSchema::computed(Type::String).describe("File receiving the service's stdout and stderr."))
        .attr("id", AttributeSchema::computed(Type::String).describe("The service's name."));
    ResourceSchema {
        schema,
        version: 0,
        import_id: "<name> (a running service recorded under <root>/services/)".into(),
    }
}

/// What `service.json` records: enough to import the service and to clean it up.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Record {
    name: String,
    pid: i32,
    start_ticks: u64,
    port: u16,
    command: Vec<String>,
    #[serde(default)]
    env: Option<BTreeMap<String, String>>,
    #[serde(default)]
    working_dir: Option<String>,
    health_path: String,
    health_timeout: String,
    stop_timeout: String,
    started_at: String,
}

/// The settings of a service, read from a planned value or state.
#[derive(Clone, Debug)]
struct Spec {
    name: String,
    command: Vec<String>,
    env: Option<BTreeMap<String, String>>,
    port: Option<u16>,
    working_dir: Option<String>,
    health_path: String,
    health_timeout: String,
    stop_timeout: String,
}

fn parse_duration_attr(s: &str, attr: &str) -> Result<Duration, ProviderError> {
    duration::parse(s).map_err(|e| ProviderError::permanent(e).at(path(attr)))
}

impl Spec {
    fn from_value(v: &Value) -> Result<Spec, ProviderError> {
        let a = Attrs::new(v);
        let command = a.opt_string_list("command")?.unwrap_or_default();
        if command.is_empty() || command[0].is_empty() {
            return Err(ProviderError::permanent("`command` must name a program").at(path("command")));
        }
        let port = match a.opt_i64_computed("port")? {
            None => None,
            Some(p) if (1..=65535).contains(&p) => Some(p as u16),
            Some(p) => {
                return Err(
                    ProviderError::permanent(format!("port must be between 1 and 65535, got {p}")).at(path("port"))
                )
            }
        };
        let env = if a.get("env")?.is_some() { Some(a.string_map("env")?) } else { None };
        let spec = Spec {
            name: name_attr(v, "name")?.to_string(),
            command,
            env,
            port,
            working_dir: a.opt_str("working_dir")?.map(str::to_string),
            health_path: a.str_or("health_path", DEFAULT_HEALTH_PATH)?.to_string(),
            health_timeout: a.str_or("health_timeout", DEFAULT_HEALTH_TIMEOUT)?.to_string(),
            stop_timeout: a.str_or("stop_timeout", DEFAULT_STOP_TIMEOUT)?.to_string(),
        };
        parse_duration_attr(&spec.health_timeout, "health_timeout")?;
        parse_duration_attr(&spec.stop_timeout, "stop_timeout")?;
        if !spec.health_path.starts_with('/') {
            return Err(ProviderError::permanent(format!(
                "health_path must start with `/`, got {:?}",
                spec.health_path
            ))
            .at(path("health_path")));
        }
        Ok(spec)
    }
}

pub struct Service {
    cfg: Arc<LocalConfig>,
}

fn url_of(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// Fails with an actionable error when `port` is taken on 127.0.0.1.
fn check_port_free(port: u16) -> Result<(), ProviderError> {
    match std::net::TcpListener::bind(("127.0.0.1", port)) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            Err(ProviderError::permanent(format!("port {port} on 127.0.0.1 is already in use"))
                .with_help(format!(
                    "another process listens there (`ss -ltnp 'sport = :{port}'` shows which); choose another port, \
                     or leave `port` unset to have a free one allocated"
                ))
                .at(path("port")))
        }
        Err(e) => Err(io_err(format!("cannot check port {port}"), e).at(path("port"))),
    }
}

fn allocate_port() -> Result<u16, ProviderError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| io_err("cannot allocate a free port", e))?;
    Ok(l.local_addr().map_err(|e| io_err("cannot allocate a free port", e))?.port())
}

impl Service {
    pub fn new(cfg: Arc<LocalConfig>) -> Self {
        Service { cfg }
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.cfg.services_dir().join(name)
    }
    fn log_path(&self, name: &str) -> PathBuf {
        self.dir(name).join("service.log")
    }
    fn record_path(&self, name: &str) -> PathBuf {
        self.dir(name).join("service.json")
    }

    fn load_record(&self, name: &str) -> Result<Option<Record>, ProviderError> {
        let p = self.record_path(name);
        match std::fs::read_to_string(&p) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| ProviderError::permanent(format!("cannot parse {}: {e}", p.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(format!("cannot read {}", p.display()), e)),
        }
    }

    fn save_record(&self, spec: &Spec, pid: i32, start_ticks: u64, port: u16) -> Result<(), ProviderError> {
        let rec = Record {
            name: spec.name.clone(),
            pid,
            start_ticks,
            port,
            command: spec.command.clone(),
            env: spec.env.clone(),
            working_dir: spec.working_dir.clone(),
            health_path: spec.health_path.clone(),
            health_timeout: spec.health_timeout.clone(),
            stop_timeout: spec.stop_timeout.clone(),
            started_at: timefmt::now_rfc3339(),
        };
        let p = self.record_path(&spec.name);
        let json = serde_json::to_vec_pretty(&rec).map_err(|e| ProviderError::permanent(e.to_string()))?;
        // 0600: `env` may hold secrets.
        sfs::write_atomic(&p, &json, 0o600).map_err(|e| io_err(format!("cannot write {}", p.display()), e))
    }

    fn state(&self, spec: &Spec, pid: i32, start_ticks: u64, port: u16) -> Value {
        Value::map([
            ("id", Value::string(&spec.name)),
            ("name", Value::string(&spec.name)),
            ("command", val_str_list(&spec.command)),
            ("env", spec.env.as_ref().map(crate::support::attrs::val_str_map).unwrap_or(Value::Null)),
            ("port", Value::number(port)),
            ("working_dir", val_opt_str(spec.working_dir.as_deref())),
            ("health_path", Value::string(&spec.health_path)),
            ("health_timeout", Value::string(&spec.health_timeout)),
            ("stop_timeout", Value::string(&spec.stop_timeout)),
            ("pid", Value::number(pid)),
            ("pid_start_time", Value::number(start_ticks as f64)),
            ("url", Value::string(url_of(port))),
            ("log_path", Value::string(self.log_path(&spec.name).to_string_lossy())),
        ])
    }

    /// Starts the process and waits until it is healthy. On failure nothing is left running.
    async fn start(
        &self,
        spec: &Spec,
        port: Option<u16>,
        ctx: &OpContext,
    ) -> Result<(Spawned, u16, KillOnDrop), ProviderError> {
        let cwd = match &spec.working_dir {
            Some(d) => {
                let p = absolute(Path::new(d))?;
                if !p.is_dir() {
                    return Err(ProviderError::permanent(format!("working_dir {} is not a directory", p.display()))
                        .at(path("working_dir")));
                }
                p
            }
            None => absolute(Path::new("."))?,
        };
        let env = spec.env.clone().unwrap_or_default();
        let path_var = env
            .get("PATH")
            .cloned()
            .or_else(|| std::env::var("PATH").ok())
            .unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
        let program = process::find_program(&spec.command[0], &path_var, &cwd).map_err(|e| {
            ProviderError::permanent(e)
                .with_help("install the program, give its full path, or set PATH in `env`")
                .at(vec![PathStep::Key("command".into()), PathStep::Index(0)])
        })?;
        let port = match port {
            Some(p) => {
                check_port_free(p)?;
                p
            }
            None => allocate_port()?,
        };

        let dir = self.dir(&spec.name);
        sfs::create_dir_with_mode(&dir, 0o700).map_err(|e| io_err(format!("cannot create {}", dir.display()), e))?;
        let log_path = self.log_path(&spec.name);
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| io_err(format!("cannot open {}", log_path.display()), e))?;
        let _ = writeln!(
            log,
            "--- tenantform: starting {:?} on port {port} at {} ---",
            spec.command,
            timefmt::now_rfc3339()
        );
        let log_err = log.try_clone().map_err(|e| io_err("cannot open the log", e))?;

        let mut cmd = Command::new(&program);
        cmd.args(&spec.command[1..]).current_dir(&cwd).env_clear();
        for k in INHERITED_ENV {
            if let Some(v) = std::env::var_os(k) {
                cmd.env(k, v);
            }
        }
        cmd.envs(&env);
        if !env.contains_key("PORT") {
            cmd.env("PORT", port.to_string());
        }
        cmd.stdin(Stdio::null()).stdout(log).stderr(log_err);
        let child = process::spawn_detached(&mut cmd)
            .map_err(|e| io_err(format!("cannot start `{}`", program.display()), e))?;
        // If this future is dropped (cancelled) before the caller records the process, the
        // guard kills it: nothing may run that state does not know about.
        let guard = KillOnDrop::new(&child);
        tracing::debug!(service = %spec.name, pid = child.pid, port, "started, waiting for health check");

        match self.wait_healthy(spec, &child, port, ctx).await {
            Ok(()) => Ok((child, port, guard)),
            Err(e) => {
                let _ = process::stop_group(child.pid, child.start_ticks, Duration::from_secs(2)).await;
                Err(e)
            }
        }
    }

    async fn wait_healthy(
        &self,
        spec: &Spec,
        child: &Spawned,
        port: u16,
        ctx: &OpContext,
    ) -> Result<(), ProviderError> {
        let timeout = parse_duration_attr(&spec.health_timeout, "health_timeout")?;
        let deadline = Instant::now() + timeout;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let host = format!("127.0.0.1:{port}");
        let target = format!("GET http://{host}{}", spec.health_path);
        let mut last: String;
        loop {
            if let Some(status) = child.exit_status() {
                return Err(ProviderError::permanent(format!(
                    "service `{}` exited ({status}) before its health check passed",
                    spec.name
                ))
                .with_detail(self.log_tail(&spec.name).await)
                .with_help("the command must keep running in the foreground and serve HTTP on $PORT"));
            }
            let attempt = Duration::from_secs(2)
                .min(deadline.saturating_duration_since(Instant::now()))
                .max(Duration::from_millis(200));
            tokio::select! {
                r = http::get(addr, &host, &spec.health_path, attempt) => match r {
                    Ok(resp) if (200..400).contains(&resp.status) => return Ok(()),
                    Ok(resp) => last = format!("HTTP {}", resp.status),
                    Err(e) => last = e.to_string(),
                },
                _ = ctx.cancel.cancelled() => {
                    return Err(ProviderError::cancelled().with_detail(format!("service `{}` was stopped before it became healthy", spec.name)));
                }
            }
            if Instant::now() >= deadline {
                return Err(ProviderError::permanent(format!(
                    "service `{}` did not become healthy within {}: {target} → {last}",
                    spec.name, spec.health_timeout
                ))
                .with_detail(self.log_tail(&spec.name).await)
                .with_help(format!(
                    "check that the program listens on 127.0.0.1:{port} (it gets PORT={port}) and answers {} with 2xx/3xx, \
                     or raise health_timeout",
                    spec.health_path
                )));
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                _ = ctx.cancel.cancelled() => {
                    return Err(ProviderError::cancelled().with_detail(format!("service `{}` was stopped before it became healthy", spec.name)));
                }
            }
        }
    }

    async fn log_tail(&self, name: &str) -> String {
        // Give the process a moment to flush what it printed on its way out.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let log_path = self.log_path(name);
        format!("last lines of {}:\n{}", log_path.display(), sfs::tail(&log_path, LOG_TAIL_LINES))
    }

    async fn stop(&self, name: &str, pid: i32, start_ticks: u64, stop_timeout: &str) -> Result<(), ProviderError> {
        let grace = duration::parse(stop_timeout).unwrap_or(Duration::from_secs(10));
        match process::stop_group(pid, start_ticks, grace).await {
            Ok(stopped) => {
                tracing::debug!(service = %name, pid, ?stopped, "stopped");
                Ok(())
            }
            Err(e) => Err(io_err(format!("cannot stop service `{name}` (pid {pid})"), e)),
        }
    }
}

fn pid_of(v: &Value) -> Option<(i32, u64)> {
    let pid = v.get("pid")?.as_i64()?;
    let start = v.get("pid_start_time")?.as_f64()?;
    Some((pid as i32, start as u64))
}

#[async_trait]
impl ResourceType for Service {
    fn validate(&self, config: &Value) -> Vec<ConfigProblem> {
        let mut problems = validate_name_attr(config, "name");
        if let Some(items) = config.get("command").and_then(Value::as_list) {
            if items.is_empty() {
                problems.push(ConfigProblem { path: path("command"), message: "command must not be empty".into() });
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
        for attr in ["health_timeout", "stop_timeout"] {
            if let Some(s) = config.get(attr).and_then(Value::as_str) {
                if let Err(message) = duration::parse(s) {
                    problems.push(ConfigProblem { path: path(attr), message });
                }
            }
        }
        if let Some(p) = config.get("health_path").and_then(Value::as_str) {
            if !p.starts_with('/') {
                problems.push(ConfigProblem {
                    path: path("health_path"),
                    message: "health_path must start with `/`".into(),
                });
            }
        }
        problems
    }

    async fn plan(&self, req: PlanRequest) -> Result<PlanResponse, ProviderError> {
        let mut planned = req.proposed;
        if let Some(name) = planned.get("name").and_then(Value::as_str).map(str::to_string) {
            diff::set(&mut planned, "id", Value::string(&name));
            diff::set(&mut planned, "log_path", Value::string(self.log_path(&name).to_string_lossy()));
        }
        if req.config.get("port").is_none_or(Value::is_null) {
            // Unset: keep the port allocated earlier, or allocate one at apply.
            let prior_port = req.prior.as_ref().and_then(|p| p.get("port")).filter(|v| v.as_i64().is_some()).cloned();
            diff::set(&mut planned, "port", prior_port.unwrap_or(Value::Unknown));
        }
        let restart = match &req.prior {
            None => true,
            Some(prior) => diff::any_changed(prior, &planned, &RESTART_ATTRS),
        };
        if restart {
            diff::mark_unknown(&mut planned, &["pid", "pid_start_time"]);
        }
        let url = match planned.get("port").and_then(Value::as_i64) {
            Some(p) => Value::string(url_of(p as u16)),
            None => Value::Unknown,
        };
        diff::set(&mut planned, "url", url);
        Ok(PlanResponse { planned, requires_replace: Vec::new() })
    }

    async fn create(&self, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let spec = Spec::from_value(planned)?;
        if let Some(rec) = self.load_record(&spec.name)? {
            if process::is_alive(rec.pid, rec.start_ticks) {
                return Err(ProviderError::permanent(format!(
                    "a service named `{}` is already running (pid {}, port {})",
                    spec.name, rec.pid, rec.port
                ))
                .with_help(format!(
                    "import it with `tenantform import <address> {}`, or choose another name",
                    spec.name
                )));
            }
            // Leftovers of an earlier run whose leader died (e.g. children of a shell).
            self.stop(&spec.name, rec.pid, rec.start_ticks, &rec.stop_timeout).await?;
        }
        let (child, port, guard) = self.start(&spec, spec.port, ctx).await?;
        self.save_record(&spec, child.pid, child.start_ticks, port)?;
        guard.disarm();
        Ok(self.state(&spec, child.pid, child.start_ticks, port))
    }

    async fn read(&self, current: &Value, _ctx: &OpContext) -> Result<Option<Value>, ProviderError> {
        match pid_of(current) {
            Some((pid, start)) if process::is_alive(pid, start) => Ok(Some(current.clone())),
            _ => Ok(None),
        }
    }

    async fn update(&self, prior: &Value, planned: &Value, ctx: &OpContext) -> Result<Value, ProviderError> {
        let mut spec = Spec::from_value(planned)?;
        let prior_spec = Spec::from_value(prior)?;
        if spec.port.is_none() {
            spec.port = prior_spec.port;
        }
        let (pid, start) = pid_of(prior).unwrap_or((0, 0));
        let running = pid > 0 && process::is_alive(pid, start);
        let restart = !running || diff::any_changed(prior, planned, &RESTART_ATTRS) || spec.port != prior_spec.port;
        if !restart {
            let port = spec.port.unwrap_or(0);
            self.save_record(&spec, pid, start, port)?;
            return Ok(self.state(&spec, pid, start, port));
        }
        if pid > 0 {
            self.stop(&spec.name, pid, start, &prior_spec.stop_timeout).await?;
        }
        let (child, port, guard) = self.start(&spec, spec.port, ctx).await?;
        self.save_record(&spec, child.pid, child.start_ticks, port)?;
        guard.disarm();
        Ok(self.state(&spec, child.pid, child.start_ticks, port))
    }

    async fn delete(&self, current: &Value, _ctx: &OpContext) -> Result<(), ProviderError> {
        let name = name_attr(current, "name")?;
        let stop_timeout = Attrs::new(current).str_or("stop_timeout", DEFAULT_STOP_TIMEOUT)?.to_string();
        if let Some((pid, start)) = pid_of(current) {
            self.stop(name, pid, start, &stop_timeout).await?;
        }
        let dir = self.dir(name);
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(io_err(format!("cannot remove {}", dir.display()), e))
            }
            _ => Ok(()),
        }
    }

    async fn import(&self, id: &str, _ctx: &OpContext) -> Result<Value, ProviderError> {
        super::check_name(id).map_err(ProviderError::permanent)?;
        let Some(rec) = self.load_record(id)? else {
            return Err(ProviderError::not_found(format!(
                "no service named `{id}` (looked for {})",
                self.record_path(id).display()
            )));
        };
        if !process::is_alive(rec.pid, rec.start_ticks) {
            return Err(ProviderError::not_found(format!(
                "service `{id}` is recorded but its process (pid {}) is no longer running",
                rec.pid
            ))
            .with_help("let `tenantform apply` create it instead"));
        }
        let spec = Spec {
            name: rec.name.clone(),
            command: rec.command.clone(),
            env: rec.env.clone(),
            port: Some(rec.port),
            working_dir: rec.working_dir.clone(),
            health_path: rec.health_path.clone(),
            health_timeout: rec.health_timeout.clone(),
            stop_timeout: rec.stop_timeout.clone(),
        };
        Ok(self.state(&spec, rec.pid, rec.start_ticks, rec.port))
    }
}

#[cfg(test)]
mod tests {
    use tenantform_engine::provider::ErrorKind;

    use super::*;
    use crate::local::testutil::{obj, TestRoot};

    fn cfg(root: &TestRoot, greeting: &str, port: Option<u16>) -> Value {
        obj(&[
            ("name", Value::string("api")),
            (
                "command",
                Value::List(vec![Value::string("python3"), Value::string(root.server_script().to_string_lossy())]),
            ),
            ("env", Value::map([("GREETING", Value::string(greeting))])),
            ("port", port.map(Value::number).unwrap_or(Value::Null)),
            ("working_dir", Value::Null),
            ("health_path", Value::string("/")),
            ("health_timeout", Value::string("20s")),
            ("stop_timeout", Value::string("5s")),
        ])
    }

    async fn plan(r: &Service, prior: Option<&Value>, config: &Value) -> Value {
        let mut proposed = config.clone();
        if let Some(p) = prior {
            diff::copy(p, &mut proposed, &["pid", "pid_start_time", "url", "log_path", "id"]);
        } else {
            diff::mark_unknown(&mut proposed, &["pid", "pid_start_time", "url", "log_path", "id"]);
        }
        r.plan(PlanRequest { prior: prior.cloned(), config: config.clone(), proposed }).await.unwrap().planned
    }

    async fn body(url: &str, host: &str) -> String {
        let addr: SocketAddr = url.trim_start_matches("http://").parse().unwrap();
        let r = http::get(addr, host, "/", Duration::from_secs(5)).await.unwrap();
        String::from_utf8(r.body).unwrap()
    }

    fn pid_in(v: &Value) -> (i32, u64) {
        pid_of(v).unwrap()
    }

    #[tokio::test]
    async fn lifecycle_restart_on_env_change_import_and_delete() {
        let root = TestRoot::new();
        let r = Service::new(root.cfg());
        let ctx = OpContext::default();

        let c = cfg(&root, "hello", None);
        let p = plan(&r, None, &c).await;
        assert!(p.get("port").unwrap().is_unknown() && p.get("pid").unwrap().is_unknown());
        let s = r.create(&p, &ctx).await.unwrap();
        let (pid, start) = pid_in(&s);
        assert!(process::is_alive(pid, start));
        let url = s.get("url").and_then(Value::as_str).unwrap().to_string();
        assert_eq!(body(&url, "x").await, "hello x fwd=");
        assert_eq!(r.read(&s, &ctx).await.unwrap(), Some(s.clone()));
        let log = std::fs::read_to_string(s.get("log_path").and_then(Value::as_str).unwrap()).unwrap();
        assert!(log.contains("tenantform: starting") && log.contains("listening on"), "{log}");

        // A health-only change is state-only: same process.
        let mut c_health = cfg(&root, "hello", None);
        diff::set(&mut c_health, "health_timeout", Value::string("25s"));
        let p_health = plan(&r, Some(&s), &c_health).await;
        assert_eq!(p_health.get("pid"), s.get("pid"), "no restart planned");
        let s = r.update(&s, &p_health, &ctx).await.unwrap();
        assert_eq!(pid_in(&s), (pid, start));
        assert_eq!(s, p_health);

        // env change → restart in place, same (allocated) port.
        let c2 = cfg(&root, "bonjour", None);
        let p2 = plan(&r, Some(&s), &c2).await;
        assert!(p2.get("pid").unwrap().is_unknown());
        assert_eq!(p2.get("port"), s.get("port"), "unset port is kept");
        let u = r.update(&s, &p2, &ctx).await.unwrap();
        let (pid2, start2) = pid_in(&u);
        assert_ne!((pid2, start2), (pid, start));
        assert!(!process::is_alive(pid, start), "old process stopped");
        assert_eq!(u.get("port"), s.get("port"));
        assert_eq!(body(&url, "y").await, "bonjour y fwd=");
        assert_eq!(r.read(&u, &ctx).await.unwrap(), Some(u.clone()));

        // Import by name reconstructs the state.
        let imported = r.import("api", &ctx).await.unwrap();
        assert_eq!(imported, u);
        assert_eq!(r.import("nope", &ctx).await.unwrap_err().kind, ErrorKind::NotFound);

        // A second service with the same name is refused while the first runs.
        let e = r.create(&p, &ctx).await.unwrap_err();
        assert!(e.summary.contains("already running"), "{e}");

        r.delete(&u, &ctx).await.unwrap();
        assert!(!process::is_alive(pid2, start2));
        assert_eq!(r.read(&u, &ctx).await.unwrap(), None);
        r.delete(&u, &ctx).await.unwrap();
        assert_eq!(r.import("api", &ctx).await.unwrap_err().kind, ErrorKind::NotFound);
    }

    #[tokio::test]
    async fn read_detects_killed_process_and_reused_pid() {
        let root = TestRoot::new();
        let r = Service::new(root.cfg());
        let ctx = OpContext::default();
        let port = allocate_port().unwrap();
        let s = r.create(&cfg(&root, "hi", Some(port)), &ctx).await.unwrap();
        assert_eq!(s.get("port"), Some(&Value::number(port)));
        assert_eq!(s.get("url").and_then(Value::as_str), Some(url_of(port).as_str()));
        let (pid, start) = pid_in(&s);

        // Same pid, other start time: the pid was reused by another process.
        let mut reused = s.clone();
        diff::set(&mut reused, "pid_start_time", Value::number(start as f64 + 1.0));
        assert_eq!(r.read(&reused, &ctx).await.unwrap(), None);

        // A port in use is reported as such.
        let mut other = cfg(&root, "hi", Some(port));
        diff::set(&mut other, "name", Value::string("other"));
        let e = r.create(&other, &ctx).await.unwrap_err();
        assert!(e.summary.contains(&format!("port {port} on 127.0.0.1 is already in use")), "{e}");

        process::signal_group(pid, rustix::process::Signal::KILL).unwrap();
        assert!(process::wait_until(Duration::from_secs(5), || !process::is_alive(pid, start)).await);
        assert_eq!(r.read(&s, &ctx).await.unwrap(), None, "killed process reads as gone");
        // Re-creating after the crash works (the dead record is cleaned up).
        let again = r.create(&cfg(&root, "hi", Some(port)), &ctx).await.unwrap();
        r.delete(&again, &ctx).await.unwrap();
    }

    #[tokio::test]
    async fn failing_start_returns_log_tail_and_leaves_no_process() {
        let root = TestRoot::new();
        let r = Service::new(root.cfg());
        let ctx = OpContext::default();

        // Exits at once.
        let mut c = cfg(&root, "x", None);
        diff::set(
            &mut c,
            "command",
            val_str_list(&[
                "python3".into(),
                "-c".into(),
                "import sys; print('boom: config missing'); sys.exit(3)".into(),
            ]),
        );
        let e = r.create(&c, &ctx).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Permanent);
        assert!(e.summary.contains("exited") && e.summary.contains("3"), "{e}");
        assert!(e.detail.as_deref().unwrap().contains("boom: config missing"), "{e:?}");

        // Runs, but the health path answers 500 until the timeout.
        let pid_file = root.path().join("unhealthy.pid");
        let mut c = cfg(&root, "x", None);
        diff::set(&mut c, "name", Value::string("unhealthy"));
        diff::set(&mut c, "health_path", Value::string("/fail"));
        diff::set(&mut c, "health_timeout", Value::string("1500ms"));
        diff::set(&mut c, "env", Value::map([("PID_FILE", Value::string(pid_file.to_string_lossy()))]));
        let t = Instant::now();
        let e = r.create(&c, &ctx).await.unwrap_err();
        assert!(t.elapsed() < Duration::from_secs(10));
        assert!(e.summary.contains("did not become healthy within 1500ms") && e.summary.contains("HTTP 500"), "{e}");
        assert!(e.detail.as_deref().unwrap().contains("GET /fail"), "log tail shows the requests: {e:?}");
        let pid: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
        assert!(
            process::wait_until(Duration::from_secs(5), || process::proc_stat(pid).is_none_or(|s| !s.is_running()))
                .await,
            "the unhealthy process was killed"
        );

        // Command not found names the PATH searched.
        let mut c = cfg(&root, "x", None);
        diff::set(&mut c, "command", val_str_list(&["no-such-server-xyz".into()]));
        diff::set(&mut c, "env", Value::map([("PATH", Value::string("/opt/nothing:/usr/bin"))]));
        let e = r.create(&c, &ctx).await.unwrap_err();
        assert!(e.summary.contains("not found in PATH (searched: /opt/nothing, /usr/bin)"), "{e}");
    }

    #[tokio::test]
    async fn cancellation_stops_a_start_in_progress() {
        let root = TestRoot::new();
        let r = Service::new(root.cfg());
        let ctx = OpContext::default();
        let pid_file = root.path().join("slow.pid");
        let mut c = cfg(&root, "x", None);
        diff::set(&mut c, "health_path", Value::string("/fail"));
        diff::set(&mut c, "env", Value::map([("PID_FILE", Value::string(pid_file.to_string_lossy()))]));
        let cancel = ctx.cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            cancel.cancel();
        });
        let t = Instant::now();
        let e = r.create(&c, &ctx).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Cancelled, "{e}");
        assert!(t.elapsed() < Duration::from_secs(10));
        let pid: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
        assert!(
            process::wait_until(Duration::from_secs(5), || process::proc_stat(pid).is_none_or(|s| !s.is_running()))
                .await
        );
    }
}

//! An ephemeral PostgreSQL server for tests: `initdb` into a temporary directory, `postgres`
//! on a free port of 127.0.0.1 with its unix socket in that directory, torn down when the
//! [`PgServer`] is dropped — also when the test panics, and also when the test process is
//! killed: the server runs under a tiny shell watchdog that reads the test process's pipe and
//! stops the server at end-of-file, which the kernel delivers when the process dies.
//!
//! The one harness of the workspace: provider tests, state tests and end-to-end tests all
//! use it (as a dev-dependency), and no test talks to a server it did not start.
//!
//! Binaries are found on `PATH` (`initdb`), else under `/usr/lib/postgresql/<version>/bin`
//! (Debian's layout; the newest version wins), else in `$TENANTFORM_PG_BIN`. When the tests
//! run as root (CI containers), the server runs as the `postgres` user (or `nobody`), since
//! PostgreSQL refuses to run as root.
//!
//! The server accepts the superuser `postgres` with password `postgres` over TCP
//! (SCRAM-SHA-256, so password checks are real) and trusts the unix socket.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// Superuser name and password of every test server.
pub const SUPERUSER: &str = "postgres";
pub const SUPERUSER_PASSWORD: &str = "postgres";

/// A running throw-away server. Dropping it stops the server and deletes its files.
pub struct PgServer {
    port: u16,
    bin: PathBuf,
    socket_dir: PathBuf,
    watchdog: Option<Child>,
    stdin: Option<ChildStdin>,
    // Declared last: removed after the server has stopped.
    dir: tempfile::TempDir,
}

/// Where `initdb` and `postgres` live.
pub fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("TENANTFORM_PG_BIN") {
        let dir = PathBuf::from(dir);
        if dir.join("initdb").exists() {
            return Some(dir);
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            let candidate = d.join("initdb");
            if candidate.is_file() {
                // Debian links /usr/bin tools to a wrapper; follow links to the real bin dir.
                let real = std::fs::canonicalize(&candidate).unwrap_or(candidate);
                if let Some(parent) = real.parent() {
                    if parent.join("postgres").is_file() {
                        return Some(parent.to_path_buf());
                    }
                }
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, b)| b)
}

/// A free TCP port on 127.0.0.1 (free when asked; the server retries on a clash).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0)
}

/// The uid/gid to run the server as when we are root.
#[cfg(unix)]
fn server_user() -> Option<(u32, u32)> {
    use std::os::unix::fs::MetadataExt;
    if std::fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(1) != 0 {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let find = |name: &str| {
        passwd.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 3 && f[0] == name).then(|| (f[2].parse().ok(), f[3].parse().ok()))
        })
    };
    for name in ["postgres", "nobody"] {
        if let Some((Some(u), Some(g))) = find(name) {
            return Some((u, g));
        }
    }
    Some((65534, 65534))
}

fn as_server_user(cmd: &mut Command) {
    #[cfg(unix)]
    if let Some((uid, gid)) = server_user() {
        use std::os::unix::process::CommandExt;
        cmd.uid(uid).gid(gid);
    }
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Makes a CA and a server certificate for localhost/127.0.0.1 in `dir`; returns the server
/// options that use them.
fn make_certificates(dir: &Path) -> String {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let openssl = |args: &[&str], what: &str| {
        let mut c = Command::new("openssl");
        c.args(args).current_dir(dir);
        run(&mut c, what);
    };
    openssl(
        &[
            &["req", "-x509"][..],
            &ec[..],
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "2",
                "-subj",
                "/CN=tenantform test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]
        .concat(),
        "openssl (test CA)",
    );
    openssl(
        &[&["req"][..], &ec[..], &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"]].concat(),
        "openssl (server key)",
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write server.ext");
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
        "openssl (server certificate)",
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = dir.join("server.key");
        let _ = std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600));
        if let Some((uid, gid)) = server_user() {
            for f in ["server.key", "server.crt"] {
                std::os::unix::fs::chown(dir.join(f), Some(uid), Some(gid)).expect("chown the certificate");
            }
        }
    }
    format!(
        "-c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
        dir.join("server.crt").display(),
        dir.join("server.key").display()
    )
}

/// Waits until `postmaster.pid` reports `ready` (PostgreSQL 10+) for our port and the port
/// answers; false when the server exited or the time ran out.
fn wait_ready(watchdog: &mut Child, data: &Path, port: u16, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(_)) = watchdog.try_wait() {
            return false;
        }
        let pidfile = std::fs::read_to_string(data.join("postmaster.pid")).unwrap_or_default();
        let ready = pidfile.lines().nth(7).is_some_and(|l| l.trim() == "ready");
        let ours = pidfile.lines().nth(3).is_some_and(|l| l.trim() == port.to_string());
        if ready && ours && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    false
}

/// Closes the watchdog's pipe (it then stops the server) and waits for it.
fn stop_watchdog(stdin: Option<ChildStdin>, mut w: Child) {
    drop(stdin);
    let start = Instant::now();
    loop {
        match w.try_wait() {
            Ok(Some(_)) | Err(_) => break,
            Ok(None) if start.elapsed() > Duration::from_secs(20) => {
                let _ = w.kill();
                let _ = w.wait();
                break;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

impl PgServer {
    /// Starts a new server tuned for tests (no fsync: nothing here must survive a crash);
    /// panics (failing the test) with the server's log when it cannot.
    pub fn start() -> PgServer {
        Self::start_with(false, false)
    }

    /// Starts a server that also accepts TLS, with a certificate for `localhost` and
    /// `127.0.0.1` issued by a throw-away CA ([`PgServer::ca_file`]); made with the `openssl`
    /// command (which Debian's postgresql package brings along).
    pub fn start_tls() -> PgServer {
        Self::start_with(false, true)
    }

    /// Starts a server with PostgreSQL's durable defaults (fsync, synchronous commit), for
    /// benchmarks whose figures must include the cost of durability.
    pub fn start_durable() -> PgServer {
        Self::start_with(true, false)
    }

    fn start_with(durable: bool, tls: bool) -> PgServer {
        let bin = bin_dir().expect(
            "PostgreSQL is not installed: no initdb on PATH or under /usr/lib/postgresql/*/bin \
             (run .ci/setup, or set TENANTFORM_PG_BIN)",
        );
        let dir = tempfile::Builder::new().prefix("tenantform-pg-").tempdir().expect("temp dir");
        #[cfg(unix)]
        if let Some((uid, gid)) = server_user() {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown the server's temp dir");
        }
        let data = dir.path().join("data");
        let socket_dir = dir.path().to_path_buf();
        let pwfile = dir.path().join("pw");
        std::fs::write(&pwfile, SUPERUSER_PASSWORD).expect("write the password file");
        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", SUPERUSER, "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"])
            .args(["-E", "UTF8", "--locale=C"])
            .arg(format!("--pwfile={}", pwfile.display()))
            .env_remove("PGDATA");
        as_server_user(&mut initdb);
        run(&mut initdb, "initdb");

        let ssl = if tls { make_certificates(dir.path()) } else { String::new() };
        let mut last_log = String::new();
        for _attempt in 0..5 {
            let port = free_port();
            let log = dir.path().join("server.log");
            let tuning = if durable { "" } else { "-c fsync=off -c synchronous_commit=off -c full_page_writes=off" };
            let script = format!(
                "\"$0\" -D \"$1\" -p {port} -k \"$2\" -c listen_addresses=127.0.0.1 {tuning} \
                 -c max_connections=200 -c shared_buffers=32MB {ssl} >\"$3\" 2>&1 &\n\
                 pid=$!\n\
                 trap 'kill -QUIT $pid 2>/dev/null; wait $pid; exit 0' TERM INT\n\
                 read _line\n\
                 kill -QUIT $pid 2>/dev/null\n\
                 wait $pid\n"
            );
            let mut cmd = Command::new("sh");
            cmd.arg("-c")
                .arg(script)
                .arg(bin.join("postgres"))
                .arg(&data)
                .arg(&socket_dir)
                .arg(&log)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            as_server_user(&mut cmd);
            let mut child = cmd.spawn().expect("start the server watchdog");
            let stdin = child.stdin.take();
            if wait_ready(&mut child, &data, port, Duration::from_secs(30)) {
                return PgServer { port, bin, socket_dir, watchdog: Some(child), stdin, dir };
            }
            last_log = std::fs::read_to_string(&log).unwrap_or_default();
            stop_watchdog(stdin, child);
            let _ = std::fs::remove_file(data.join("postmaster.pid"));
        }
        panic!("the test PostgreSQL server did not start:\n{last_log}");
    }

    /// Stops the server (idempotent).
    fn stop(&mut self) {
        if let Some(w) = self.watchdog.take() {
            stop_watchdog(self.stdin.take(), w);
        }
    }

    /// The CA certificate (PEM) that issued a TLS server's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// The temporary directory holding the data directory, socket and `server.log`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// The directory holding the server's unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// A superuser URL for a database of this server (TCP, password auth).
    pub fn url(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}:{SUPERUSER_PASSWORD}@127.0.0.1:{}/{database}", self.port)
    }

    /// A URL for another user of this server.
    pub fn url_as(&self, user: &str, password: &str, database: &str) -> String {
        format!("postgres://{user}:{password}@127.0.0.1:{}/{database}", self.port)
    }

    /// Runs SQL as the superuser through `psql` (over the unix socket) and returns its
    /// unaligned, tuples-only output; panics on an SQL error.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        match self.try_psql(database, sql) {
            Ok(out) => out,
            Err(e) => panic!("psql {database}: {sql}\n{e}"),
        }
    }

    /// Like [`PgServer::psql`], returning the error text instead of panicking.
    pub fn try_psql(&self, database: &str, sql: &str) -> Result<String, String> {
        let psql = if self.bin.join("psql").is_file() { self.bin.join("psql") } else { PathBuf::from("psql") };
        let mut child = Command::new(psql)
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&self.socket_dir)
            .args(["-p", &self.port.to_string(), "-U", SUPERUSER, "-d", database, "-c", sql])
            .env_remove("PGPASSWORD")
            .env_remove("PGSERVICE")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run psql: {e}"))?;
        let mut out = String::new();
        let mut err = String::new();
        if let Some(mut s) = child.stdout.take() {
            let _ = s.read_to_string(&mut out);
        }
        if let Some(mut s) = child.stderr.take() {
            let _ = s.read_to_string(&mut err);
        }
        let status = child.wait().map_err(|e| e.to_string())?;
        if status.success() {
            Ok(out.trim_end().to_string())
        } else {
            Err(err)
        }
    }

    /// Creates a database owned by the superuser.
    pub fn create_database(&self, name: &str) {
        self.psql("postgres", &format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\"")));
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_starts_answers_and_is_gone_after_drop() {
        let s = PgServer::start();
        assert_eq!(s.psql("postgres", "SELECT 1 + 1"), "2");
        s.create_database("x y");
        assert_eq!(s.psql("x y", "SELECT current_database()"), "x y");
        let port = s.port();
        let dir = s.socket_dir().to_path_buf();
        drop(s);
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "the server stopped");
        assert!(!dir.exists(), "its files are gone");
    }
}

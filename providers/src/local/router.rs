//! The local hostname router: a small HTTP/1.1 reverse proxy that sends
//! `http://<hostname>:<port>/…` to the upstream named in `<routes_dir>/<hostname>` (one line,
//! `host:port`), choosing the route by the request's `Host` header (port stripped, case
//! folded).
//!
//! Behaviour a user can rely on:
//! - Routes are read from disk on every request, so adding, changing or removing a route takes
//!   effect at once, without a reload.
//! - Unknown hosts get `404` with a body naming the host and listing the known ones; an
//!   upstream that does not accept the connection gets `502` saying which address failed.
//! - One request per client connection: the request is forwarded with `Connection: close`
//!   and the response carries `Connection: close`, so keep-alive clients simply reconnect and
//!   request bodies (`Content-Length` or chunked) are streamed as they are. WebSocket and other
//!   `Upgrade` requests are tunnelled both ways.
//! - `X-Forwarded-For`, `X-Forwarded-Host` and `X-Forwarded-Proto` are added.
//! - A request with `Host: _tenantform-router` is answered by the router itself (JSON with its
//!   routes directory and pid); `local_hostname` uses it to recognise a running router.
//!
//! Entry points: [`serve`] on a bound listener (tests, embedding) and [`run_blocking`] for the
//! CLI's hidden `tenantform __router --routes DIR --listen ADDR` command. This module does not
//! start or stop router processes; `local_hostname` does.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The `Host` that addresses the router itself.
pub const PROBE_HOST: &str = "_tenantform-router";
/// Header present on every response the router generates itself.
pub const ROUTER_HEADER: &str = "X-Tenantform-Router";

const MAX_HEAD: usize = 64 * 1024;
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Hop-by-hop headers (RFC 9110 §7.6.1) that a proxy must not forward.
const HOP_BY_HOP: [&str; 7] =
    ["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "proxy-authenticate"];

/// Runs the router on its own runtime until the process is stopped: for
/// `tenantform __router --routes DIR --listen ADDR`.
pub fn run_blocking(routes_dir: &Path, listen: &str) -> io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let routes_dir = routes_dir.to_path_buf();
    rt.block_on(async move {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {listen}: {e}")))?;
        serve(routes_dir, listener).await
    })
}

/// Serves connections from `listener` forever, routing by the files in `routes_dir`.
pub async fn serve(routes_dir: PathBuf, listener: TcpListener) -> io::Result<()> {
    let routes = Arc::new(routes_dir);
    tracing::info!(listen = ?listener.local_addr().ok(), routes = %routes.display(), "router serving");
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors or an aborted handshake: keep serving.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let routes = routes.clone();
        tokio::spawn(async move {
            if let Err(e) = handle(stream, peer, &routes).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}

/// Folds a `Host` header value into a route name: lowercase, port and trailing dot removed.
/// `None` when it cannot name a route (empty, IPv6 literal, odd characters).
pub fn normalize_host(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let host = match raw.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => raw,
    };
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    let valid = !host.is_empty()
        && !host.starts_with('.')
        && !host.contains("..")
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    valid.then_some(host)
}

/// The upstream of a route, when the route file exists.
async fn lookup(routes_dir: &Path, host: &str) -> io::Result<Option<String>> {
    match tokio::fs::read_to_string(routes_dir.join(host)).await {
        Ok(s) => Ok(s.lines().next().map(|l| l.trim().to_string()).filter(|l| !l.is_empty())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

async fn known_hosts(routes_dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(mut dir) = tokio::fs::read_dir(routes_dir).await {
        while let Ok(Some(e)) = dir.next_entry().await {
            if let Some(name) = e.file_name().to_str() {
                if !name.starts_with('.') {
                    out.push(name.to_string());
                }
            }
        }
    }
    out.sort();
    out
}

enum Head {
    /// The head ends at this offset (body bytes may follow in the buffer).
    Complete(usize),
    TooLarge,
    /// The peer closed before a complete head.
    Closed,
}

async fn read_head<R: AsyncRead + Unpin>(r: &mut R, buf: &mut Vec<u8>) -> io::Result<Head> {
    let mut searched = 0;
    loop {
        if let Some(i) = buf[searched..].windows(4).position(|w| w == b"\r\n\r\n") {
            return Ok(Head::Complete(searched + i + 4));
        }
        searched = buf.len().saturating_sub(3);
        if buf.len() > MAX_HEAD {
            return Ok(Head::TooLarge);
        }
        let mut chunk = [0u8; 8192];
        let n = r.read(&mut chunk).await?;
        if n == 0 {
            return Ok(Head::Closed);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

struct RequestHead {
    method: String,
    target: String,
    version: String,
    headers: Vec<(String, String)>,
}

impl RequestHead {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn parse_request_head(head: &[u8]) -> Option<RequestHead> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.trim_end_matches("\r\n").split("\r\n");
    let mut parts = lines.next()?.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !is_token(method) || target.is_empty() || !version.starts_with("HTTP/1.") {
        return None;
    }
    let mut headers = Vec::new();
    for line in lines {
        let (k, v) = line.split_once(':')?;
        if !is_token(k) {
            return None; // also rejects obsolete line folding
        }
        headers.push((k.to_string(), v.trim().to_string()));
    }
    Some(RequestHead { method: method.into(), target: target.into(), version: version.into(), headers })
}

async fn respond<W: AsyncWrite + Unpin>(
    w: &mut W,
    status: u16,
    reason: &str,
    content_type: &str,
    body: &str,
) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n{ROUTER_HEADER}: 1\r\n\r\n",
        body.len()
    );
    w.write_all(head.as_bytes()).await?;
    w.write_all(body.as_bytes()).await?;
    w.flush().await?;
    let _ = w.shutdown().await;
    Ok(())
}

async fn respond_text<W: AsyncWrite + Unpin>(w: &mut W, status: u16, reason: &str, body: &str) -> io::Result<()> {
    respond(w, status, reason, "text/plain; charset=utf-8", body).await
}

async fn handle(mut client: TcpStream, peer: SocketAddr, routes_dir: &Path) -> io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    let end = match tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut client, &mut buf)).await {
        Err(_) => {
            return respond_text(
                &mut client,
                408,
                "Request Timeout",
                "tenantform router: request head not received in time\n",
            )
            .await
        }
        Ok(r) => match r? {
            Head::Complete(end) => end,
            Head::Closed => return Ok(()),
            Head::TooLarge => {
                return respond_text(
                    &mut client,
                    431,
                    "Request Header Fields Too Large",
                    "tenantform router: request head over 64 KiB\n",
                )
                .await
            }
        },
    };
    let Some(req) = parse_request_head(&buf[..end]) else {
        return respond_text(&mut client, 400, "Bad Request", "tenantform router: malformed HTTP request\n").await;
    };
    let Some(raw_host) = req.header("host").map(str::to_string) else {
        return respond_text(
            &mut client,
            400,
            "Bad Request",
            "tenantform router: the request has no Host header, so it cannot be routed\n",
        )
        .await;
    };
    let Some(host) = normalize_host(&raw_host) else {
        return respond_text(
            &mut client,
            400,
            "Bad Request",
            &format!("tenantform router: cannot route Host {raw_host:?}\n"),
        )
        .await;
    };
    if host == PROBE_HOST {
        let body = serde_json::json!({
            "router": "tenantform",
            "routes_dir": routes_dir.to_string_lossy(),
            "pid": std::process::id(),
        })
        .to_string();
        return respond(&mut client, 200, "OK", "application/json", &body).await;
    }
    let upstream_addr = match lookup(routes_dir, &host).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            let known = known_hosts(routes_dir).await;
            let list = if known.is_empty() {
                "  (none)".to_string()
            } else {
                known.iter().map(|h| format!("  {h}")).collect::<Vec<_>>().join("\n")
            };
            let body = format!(
                "tenantform router: no route for host {host:?}.\n\nKnown hosts:\n{list}\n\nRoutes are created by local_hostname resources.\n"
            );
            return respond_text(&mut client, 404, "Not Found", &body).await;
        }
        Err(e) => {
            return respond_text(
                &mut client,
                500,
                "Internal Server Error",
                &format!("tenantform router: cannot read the route for {host:?}: {e}\n"),
            )
            .await
        }
    };
    let mut upstream = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(upstream_addr.as_str())).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return bad_gateway(&mut client, &host, &upstream_addr, &e.to_string()).await,
        Err(_) => return bad_gateway(&mut client, &host, &upstream_addr, "connection timed out").await,
    };
    tracing::debug!(%peer, %host, upstream = %upstream_addr, method = %req.method, target = %req.target, "proxying");

    let upgrade = req.header("upgrade").filter(|_| {
        req.header("connection").is_some_and(|c| c.split(',').any(|t| t.trim().eq_ignore_ascii_case("upgrade")))
    });
    let named_in_connection: Vec<String> = req
        .header("connection")
        .map(|c| c.split(',').map(|t| t.trim().to_ascii_lowercase()).collect())
        .unwrap_or_default();
    let mut out = format!("{} {} {}\r\n", req.method, req.target, req.version);
    let mut forwarded_for = peer.ip().to_string();
    for (k, v) in &req.headers {
        let lk = k.to_ascii_lowercase();
        if HOP_BY_HOP.contains(&lk.as_str())
            || named_in_connection.contains(&lk)
            || lk == "x-forwarded-host"
            || lk == "x-forwarded-proto"
        {
            continue;
        }
        if lk == "x-forwarded-for" {
            forwarded_for = format!("{v}, {forwarded_for}");
            continue;
        }
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!(
        "X-Forwarded-For: {forwarded_for}\r\nX-Forwarded-Host: {raw_host}\r\nX-Forwarded-Proto: http\r\n"
    ));
    match upgrade {
        Some(proto) => out.push_str(&format!("Connection: Upgrade\r\nUpgrade: {proto}\r\n\r\n")),
        None => out.push_str("Connection: close\r\n\r\n"),
    }
    upstream.write_all(out.as_bytes()).await?;
    upstream.write_all(&buf[end..]).await?;

    if upgrade.is_some() {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        return Ok(());
    }
    let (mut cr, mut cw) = client.into_split();
    let (mut ur, mut uw) = upstream.into_split();
    let upload = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut cr, &mut uw).await;
        let _ = uw.shutdown().await;
    });
    let result = forward_response(&mut ur, &mut cw, &host, &upstream_addr).await;
    upload.abort();
    let _ = cw.shutdown().await;
    result
}

async fn bad_gateway<W: AsyncWrite + Unpin>(w: &mut W, host: &str, upstream: &str, why: &str) -> io::Result<()> {
    let body = format!(
        "tenantform router: the upstream of {host:?} ({upstream}) is not answering: {why}.\n\
         Is its service running? `tenantform plan` shows services that stopped and re-creates them on apply.\n"
    );
    respond_text(w, 502, "Bad Gateway", &body).await
}

/// Forwards the upstream's response: interim (1xx) heads as they are, the final head with
/// `Connection: close`, then the body until the upstream closes.
async fn forward_response<R, W>(ur: &mut R, cw: &mut W, host: &str, upstream: &str) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = Vec::with_capacity(8192);
    let mut sent_anything = false;
    loop {
        let end = match read_head(ur, &mut buf).await? {
            Head::Complete(end) => end,
            Head::Closed if !sent_anything && buf.is_empty() => {
                return bad_gateway(cw, host, upstream, "it closed the connection without answering").await
            }
            Head::Closed | Head::TooLarge => {
                // Not something to rewrite: pass it through untouched.
                cw.write_all(&buf).await?;
                tokio::io::copy(ur, cw).await?;
                return Ok(());
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        let status: u16 = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        if (100..200).contains(&status) && status != 101 {
            cw.write_all(&buf[..end]).await?;
            buf.drain(..end);
            sent_anything = true;
            continue;
        }
        let mut lines = head.trim_end_matches("\r\n").split("\r\n");
        let mut out = String::with_capacity(head.len() + 32);
        out.push_str(lines.next().unwrap_or("HTTP/1.1 502 Bad Gateway"));
        out.push_str("\r\n");
        for line in lines {
            let name = line.split(':').next().unwrap_or("").trim().to_ascii_lowercase();
            if matches!(name.as_str(), "connection" | "keep-alive" | "proxy-connection") {
                continue;
            }
            out.push_str(line);
            out.push_str("\r\n");
        }
        out.push_str("Connection: close\r\n\r\n");
        cw.write_all(out.as_bytes()).await?;
        cw.write_all(&buf[end..]).await?;
        tokio::io::copy(ur, cw).await?;
        cw.flush().await?;
        return Ok(());
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Starts the router in-process on an ephemeral port.
    pub(crate) async fn start_router(routes_dir: &Path) -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(serve(routes_dir.to_path_buf(), l));
        addr
    }

    /// A small upstream: answers `<tag> <method> host=<Host> xfh=<X-Forwarded-Host> body=<body>`
    /// and closes when asked to (`Connection: close`), as a compliant server does.
    async fn start_upstream(tag: &'static str) -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (mut s, _) = l.accept().await.unwrap();
                tokio::spawn(async move {
                    loop {
                        let mut buf = Vec::new();
                        let Ok(Head::Complete(end)) = read_head(&mut s, &mut buf).await else {
                            return;
                        };
                        let req = parse_request_head(&buf[..end]).unwrap();
                        let len: usize = req.header("content-length").map_or(0, |v| v.parse().unwrap());
                        while buf.len() < end + len {
                            let mut chunk = [0u8; 1024];
                            let n = s.read(&mut chunk).await.unwrap();
                            buf.extend_from_slice(&chunk[..n]);
                        }
                        let body = format!(
                            "{tag} {} host={} xfh={} xff={} body={}",
                            req.method,
                            req.header("host").unwrap_or(""),
                            req.header("x-forwarded-host").unwrap_or(""),
                            req.header("x-forwarded-for").unwrap_or(""),
                            String::from_utf8_lossy(&buf[end..end + len])
                        );
                        let resp = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n{body}",
                            body.len()
                        );
                        s.write_all(resp.as_bytes()).await.unwrap();
                        if req.header("connection").is_some_and(|c| c.eq_ignore_ascii_case("close")) {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    /// Sends raw bytes and reads until the server closes (fails the test on a hang).
    pub(crate) async fn raw(addr: SocketAddr, request: &str) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
            .await
            .expect("the router closed the connection after the response")
            .unwrap();
        String::from_utf8_lossy(&out).into_owned()
    }

    fn write_route(dir: &Path, host: &str, upstream: SocketAddr) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(host), format!("{upstream}\n")).unwrap();
    }

    #[test]
    fn hosts_are_normalized() {
        assert_eq!(normalize_host("Acme.LocalHost:8080").as_deref(), Some("acme.localhost"));
        assert_eq!(normalize_host("acme.localhost.").as_deref(), Some("acme.localhost"));
        assert_eq!(normalize_host("[::1]:8080"), None);
        assert_eq!(normalize_host("../etc/passwd"), None);
        assert_eq!(normalize_host(""), None);
    }

    #[tokio::test]
    async fn routes_by_host_and_forces_connection_close() {
        let dir = tempfile::tempdir().unwrap();
        let routes = dir.path().join("routes");
        let a = start_upstream("A").await;
        let b = start_upstream("B").await;
        write_route(&routes, "acme.localhost", a);
        write_route(&routes, "globex.localhost", b);
        let router = start_router(&routes).await;

        // A keep-alive request still completes: the router answers with Connection: close.
        let resp = raw(router, "GET /x HTTP/1.1\r\nHost: ACME.localhost:8080\r\nConnection: keep-alive\r\n\r\n").await;
        assert!(resp.starts_with("HTTP/1.1 200 OK"), "{resp}");
        assert!(resp.contains("Connection: close\r\n") && !resp.contains("Keep-Alive"), "{resp}");
        assert!(resp.contains("A GET host=ACME.localhost:8080 xfh=ACME.localhost:8080 xff=127.0.0.1 body="), "{resp}");

        let resp =
            raw(router, "POST /items HTTP/1.1\r\nHost: globex.localhost\r\nContent-Length: 5\r\n\r\nhello").await;
        assert!(resp.contains("B POST host=globex.localhost") && resp.ends_with("body=hello"), "{resp}");

        // HTTP/1.0 without keep-alive works too.
        let resp = raw(router, "GET / HTTP/1.0\r\nHost: globex.localhost\r\n\r\n").await;
        assert!(resp.contains("B GET"), "{resp}");

        // Route changes are picked up without a restart.
        write_route(&routes, "acme.localhost", b);
        let resp = raw(router, "GET / HTTP/1.1\r\nHost: acme.localhost\r\n\r\n").await;
        assert!(resp.contains("B GET host=acme.localhost"), "{resp}");
    }

    #[tokio::test]
    async fn unknown_host_404_and_down_upstream_502() {
        let dir = tempfile::tempdir().unwrap();
        let routes = dir.path().join("routes");
        let dead = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        write_route(&routes, "down.localhost", dead);
        let router = start_router(&routes).await;

        let resp = raw(router, "GET / HTTP/1.1\r\nHost: nope.localhost\r\n\r\n").await;
        assert!(resp.starts_with("HTTP/1.1 404 Not Found"), "{resp}");
        assert!(resp.contains("no route for host \"nope.localhost\"") && resp.contains("  down.localhost"), "{resp}");

        let resp = raw(router, "GET / HTTP/1.1\r\nHost: down.localhost\r\n\r\n").await;
        assert!(resp.starts_with("HTTP/1.1 502 Bad Gateway"), "{resp}");
        assert!(resp.contains(&dead.to_string()) && resp.contains("is not answering"), "{resp}");

        let resp = raw(router, "GET / HTTP/1.1\r\n\r\n").await;
        assert!(resp.starts_with("HTTP/1.1 400") && resp.contains("no Host header"), "{resp}");
        let resp = raw(router, "garbage\r\n\r\n").await;
        assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");

        let resp = raw(router, &format!("GET / HTTP/1.1\r\nHost: {PROBE_HOST}\r\n\r\n")).await;
        assert!(resp.contains(&format!("{ROUTER_HEADER}: 1")) && resp.contains("\"router\":\"tenantform\""), "{resp}");
    }

    #[tokio::test]
    async fn interim_responses_and_upgrades_pass_through() {
        // An upstream that sends 100 Continue before the final answer, and one that upgrades.
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let up = l.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (mut s, _) = l.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let Ok(Head::Complete(end)) = read_head(&mut s, &mut buf).await else {
                        return;
                    };
                    let req = parse_request_head(&buf[..end]).unwrap();
                    if req.header("upgrade").is_some() {
                        s.write_all(
                            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n",
                        )
                        .await
                        .unwrap();
                        let mut b = [0u8; 4];
                        s.read_exact(&mut b).await.unwrap();
                        s.write_all(&b).await.unwrap();
                        return;
                    }
                    s.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await.unwrap();
                    s.write_all(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok")
                        .await
                        .unwrap();
                });
            }
        });
        let dir = tempfile::tempdir().unwrap();
        write_route(dir.path(), "x.localhost", up);
        let router = start_router(dir.path()).await;
        let resp =
            raw(router, "PUT / HTTP/1.1\r\nHost: x.localhost\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n")
                .await;
        assert!(resp.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created"), "{resp}");
        assert!(resp.contains("Connection: close") && resp.ends_with("ok"), "{resp}");

        let mut s = TcpStream::connect(router).await.unwrap();
        s.write_all(b"GET /ws HTTP/1.1\r\nHost: x.localhost\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
            .await
            .unwrap();
        let mut buf = Vec::new();
        let Head::Complete(end) = read_head(&mut s, &mut buf).await.unwrap() else { panic!("no head") };
        assert!(String::from_utf8_lossy(&buf[..end]).starts_with("HTTP/1.1 101"));
        s.write_all(b"ping").await.unwrap();
        let mut b = [0u8; 4];
        tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut b)).await.unwrap().unwrap();
        assert_eq!(&b, b"ping");
    }
}

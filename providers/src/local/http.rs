//! A minimal HTTP/1.1 GET client over a plain TCP connection, for the local provider's health
//! checks and router probes (one request, `Connection: close`, bounded time and size). It is
//! deliberately not a general client: no TLS, redirects or chunked decoding.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Limit on what a probe reads.
const MAX_RESPONSE: usize = 1024 * 1024;

/// A response as read off the wire.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Sends `GET <path>` with the given `Host` header to `addr` and reads the response until the
/// server closes the connection (or `timeout` passes: `TimedOut`).
pub async fn get(addr: SocketAddr, host: &str, path: &str, timeout: Duration) -> io::Result<Response> {
    tokio::time::timeout(timeout, get_inner(addr, host, path))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, format!("no answer within {timeout:?}")))?
}

async fn get_inner(addr: SocketAddr, host: &str, path: &str) -> io::Result<Response> {
    let mut stream = TcpStream::connect(addr).await?;
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: tenantform\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(req.as_bytes()).await?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX_RESPONSE {
            break;
        }
        // Enough for a status check once the head and a declared body are in.
        if let Some(resp) = parse(&buf) {
            let want = resp.header("content-length").and_then(|v| v.trim().parse::<usize>().ok());
            if want.is_some_and(|w| resp.body.len() >= w) {
                return Ok(resp);
            }
        }
    }
    parse(&buf).ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidData, "the answer is not an HTTP response (or it is truncated)")
    })
}

fn parse(buf: &[u8]) -> Option<Response> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let mut parts = status_line.splitn(3, ' ');
    if !parts.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let status = parts.next()?.parse().ok()?;
    let headers =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    Some(Response { status, headers, body: buf[end + 4..].to_vec() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_responses() {
        let r = parse(b"HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 2\r\n\r\nok").unwrap();
        assert_eq!(r.status, 302);
        assert_eq!(r.header("location"), Some("/x"));
        assert_eq!(r.body, b"ok");
        assert!(parse(b"SSH-2.0-OpenSSH\r\n\r\n").is_none());
    }

    #[tokio::test]
    async fn refused_connections_are_reported_as_such() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        let e = get(addr, "x", "/", Duration::from_secs(2)).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
    }
}

//! The one outgoing call the sandbox makes: an HTTP/1.1 POST to a webhook callback URL, over a
//! plain tokio `TcpStream` with one deadline for the whole exchange. Only the status line of the
//! answer matters, so only the head is read.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A callback answer's head that is larger than this is not an HTTP answer worth waiting for.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The status line of an answer: `503` and `Service Temporarily Unavailable`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// As sent; the standard phrase when the server sent none.
    pub reason: String,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// POSTs `body` to an `http://` URL and reads the answer's status line, all within `timeout`.
/// The error says why there is no answer (`connection refused`, `no answer within 5 s`, …).
pub async fn post(url: &str, content_type: Option<&str>, body: &[u8], timeout: Duration) -> Result<Answer, String> {
    post_with_headers(url, content_type, &[], body, timeout).await
}

/// `post` with more request headers (QuickBooks signs its webhooks in `intuit-signature`).
pub async fn post_with_headers(
    url: &str,
    content_type: Option<&str>,
    headers: &[(String, String)],
    body: &[u8],
    timeout: Duration,
) -> Result<Answer, String> {
    let target = Target::parse(url)?;
    match tokio::time::timeout(timeout, exchange(&target, content_type, headers, body)).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {} s", timeout.as_secs_f64())),
    }
}

async fn exchange(target: &Target, content_type: Option<&str>, headers: &[(String, String)], body: &[u8]) -> Result<Answer, String> {
    let mut stream = TcpStream::connect((target.host.as_str(), target.port)).await.map_err(|e| io_reason(&e))?;
    let _ = stream.set_nodelay(true);
    let mut head = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: flowmap-sandbox (Exact Online webhooks)\r\nContent-Length: {}\r\nConnection: close\r\n",
        target.path_and_query,
        target.authority,
        body.len()
    );
    if let Some(content_type) = content_type {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    stream.write_all(&request).await.map_err(|e| io_reason(&e))?;
    stream.flush().await.map_err(|e| io_reason(&e))?;

    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = received.windows(2).position(|w| w == b"\r\n") {
            return parse_status_line(&received[..end]);
        }
        if received.len() > MAX_HEAD_BYTES {
            return Err("the answer is not HTTP".into());
        }
        match stream.read(&mut chunk).await {
            Ok(0) if received.is_empty() => return Err("the connection closed without an answer".into()),
            Ok(0) => return parse_status_line(&received),
            Ok(n) => received.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(io_reason(&e)),
        }
    }
}

/// `HTTP/1.1 503 Service Temporarily Unavailable`.
fn parse_status_line(line: &[u8]) -> Result<Answer, String> {
    let line = String::from_utf8_lossy(line);
    let mut parts = line.trim_end().splitn(3, ' ');
    let (version, code, reason) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let status = code.parse::<u16>().ok().filter(|s| version.starts_with("HTTP/") && (100..1000).contains(s));
    let Some(status) = status else {
        return Err("the answer is not HTTP".into());
    };
    let reason = if reason.trim().is_empty() {
        axum::http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or_default().to_string()
    } else {
        reason.trim().to_string()
    };
    Ok(Answer { status, reason })
}

fn io_reason(error: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::ConnectionRefused => "connection refused".into(),
        ErrorKind::ConnectionReset => "connection reset".into(),
        ErrorKind::ConnectionAborted => "connection aborted".into(),
        _ => error.to_string(),
    }
}

/// Where an `http://host[:port]/path?query` URL points.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    /// For `connect`: no brackets around an IPv6 address.
    host: String,
    port: u16,
    /// For the `Host` header: as written in the URL, without user info.
    authority: String,
    path_and_query: String,
}

impl Target {
    fn parse(url: &str) -> Result<Target, String> {
        let url = url.trim();
        let rest = match url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some((scheme, _)) => return Err(format!("{scheme}:// is not supported by the sandbox (use http://)")),
            None => return Err(format!("`{url}` is not an absolute http:// URL")),
        };
        let rest = rest.split('#').next().unwrap_or_default();
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        let path_and_query = match path {
            "" => "/".to_string(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_string(),
        };
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (host, after) = bracketed.split_once(']').ok_or_else(|| format!("`{url}` has an unclosed IPv6 address"))?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(format!("`{url}` names no host"));
        }
        let port = match port {
            None | Some("") => 80,
            Some(port) => port.parse().map_err(|_| format!("`{url}` has an invalid port"))?,
        };
        Ok(Target { host: host.to_string(), port, authority: authority.to_string(), path_and_query })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(host: &str, port: u16, authority: &str, path: &str) -> Target {
        Target { host: host.into(), port, authority: authority.into(), path_and_query: path.into() }
    }

    #[test]
    fn urls() {
        assert_eq!(Target::parse("http://127.0.0.1:9000/hooks/exact?x=1#f"), Ok(target("127.0.0.1", 9000, "127.0.0.1:9000", "/hooks/exact?x=1")));
        assert_eq!(Target::parse("HTTP://localhost"), Ok(target("localhost", 80, "localhost", "/")));
        assert_eq!(Target::parse("http://u:p@[::1]:81?q"), Ok(target("::1", 81, "[::1]:81", "/?q")));
        assert!(Target::parse("https://example.com/").unwrap_err().contains("https:// is not supported"));
        assert!(Target::parse("example.com/x").is_err());
        assert!(Target::parse("http://:80/").is_err());
        assert!(Target::parse("http://h:port/").is_err());
    }

    #[test]
    fn status_lines() {
        let answer = |status: u16, reason: &str| Ok(Answer { status, reason: reason.into() });
        assert_eq!(parse_status_line(b"HTTP/1.1 503 Service Temporarily Unavailable"), answer(503, "Service Temporarily Unavailable"));
        assert_eq!(parse_status_line(b"HTTP/1.0 404"), answer(404, "Not Found"));
        assert_eq!(parse_status_line(b"HTTP/1.1 299 "), answer(299, ""));
        assert!(parse_status_line(b"SSH-2.0-OpenSSH").is_err());
    }

    #[tokio::test]
    async fn a_closed_port_is_connection_refused() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let refused = post(&format!("http://127.0.0.1:{port}/"), None, b"", Duration::from_secs(5)).await;
        assert_eq!(refused, Err("connection refused".into()));
    }
}

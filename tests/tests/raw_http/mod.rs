//! What the edge tests of paths, methods and forwarding share: a raw HTTP/1.1
//! client (reqwest and every other client normalise the path, refuse some
//! methods and re-case others, which is exactly what these tests must not
//! do), keys written straight into KV, and the demo origin's log of what it
//! received.

#![allow(dead_code)] // each test file uses part of it

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use keygate_tests::Edge;
use serde_json::Value;
use shared::key::{AccessKey, KeyType};
use shared::record::{static_key_kv_name, StaticKeyRecord, RECORD_VERSION};

/// A response, as read off the wire.
#[derive(Debug)]
pub struct Raw {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Raw {
    /// The body as JSON (`Null` if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The edge's refusal code, if the body is one.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("<none>")
            .to_owned()
    }

    /// Whether the demo origin answered (its echo names the origin).
    pub fn origin_answered(&self) -> bool {
        self.json()["origin"].is_string()
    }
}

/// Sends one request exactly as given (method, target, headers, body) and
/// reads the response; `None` if the server closed without answering.
pub fn send(
    base: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<Raw> {
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(addr).expect("edge reachable");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut request =
        format!("{method} {target} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        request.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes).ok()?;
    // Read until the response is complete by its own framing, not until the
    // server closes: a server may keep the connection open a while.
    let mut response = Vec::new();
    let mut buf = [0; 16 * 1024];
    loop {
        if let Some(raw) = complete(&response, method == "HEAD") {
            return Some(raw);
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return parse(&response, method == "HEAD"),
            Ok(n) => response.extend_from_slice(&buf[..n]),
        }
    }
}

/// The response, if `bytes` hold all of it.
fn complete(bytes: &[u8], head: bool) -> Option<Raw> {
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let raw = parse(bytes, head)?;
    let rest = &bytes[split + 4..];
    let header = |name: &str| {
        raw.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.to_ascii_lowercase())
    };
    if head || raw.status == 204 || raw.status == 304 {
        return Some(raw);
    }
    if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        return rest.ends_with(b"0\r\n\r\n").then_some(raw);
    }
    let length: usize = header("content-length")?.parse().ok()?;
    (rest.len() >= length).then_some(raw)
}

fn parse(response: &[u8], head: bool) -> Option<Raw> {
    let split = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head_text = String::from_utf8_lossy(&response[..split]);
    let mut lines = head_text.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &response[split + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if head {
        Vec::new()
    } else if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Some(Raw {
        status,
        headers,
        body,
    })
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&rest[..end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or(0);
        rest = &rest[end + 2..];
        if size == 0 || rest.len() < size {
            break;
        }
        body.extend_from_slice(&rest[..size]);
        rest = rest.get(size + 2..).unwrap_or_default();
    }
    body
}

/// A live key of `key_type` with `scopes`, written straight into the edge's KV.
pub async fn key(edge: &Edge, seed: u8, key_type: KeyType, scopes: &[&str]) -> String {
    let key = AccessKey::from_entropy(key_type, "live", None, [seed; 12], &[seed; 32]).unwrap();
    let record = StaticKeyRecord {
        v: RECORD_VERSION,
        client_id: format!("cl_{seed}"),
        key_id: key.key_id().into(),
        env: "live".into(),
        key_type,
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        expires_at: None,
        revoked_at: None,
        client_disabled: false,
        rev: 1,
    };
    edge.put_kv(&[(static_key_kv_name(&key.hash()), record.encode())])
        .await;
    key.expose().to_owned()
}

/// Every request the live demo origin received so far: `{method, path, raw_query}`.
pub fn received(edge: &Edge) -> Vec<Value> {
    let reply = send(
        &edge.live_origin,
        "GET",
        "/",
        &[("x-demo-received", "1")],
        b"",
    )
    .expect("origin reachable");
    reply
        .json()
        .as_array()
        .cloned()
        .expect("the origin's request log")
}

//! The dev stack's origin signing (scripts/dev.sh): where its secret comes
//! from, and what the demo origin says about requests through the edge and
//! around it. Used by dev_stack.rs.

use std::{
    io::{Read, Write},
    net::TcpStream,
    os::unix::fs::PermissionsExt,
    path::Path,
    time::{Duration, Instant},
};

/// Where the origin signing secret comes from in a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Secret {
    /// None yet: the script generates one into the state folder.
    Generated,
    /// A previous run's, in the state folder.
    Reused,
    /// `KEYGATE_ORIGIN_SIGNING_SECRET`.
    FromEnv,
}

pub const GIVEN_SECRET: &str = "origin-secret-given-to-the-dev-stack";

/// `GET <path>` on 127.0.0.1:`port` (plain HTTP/1.1): status line and body.
fn get(port: u16, path: &str, authorization: &str) -> String {
    request(port, "GET", path, authorization)
}

/// `<method> <path>` on 127.0.0.1:`port` (plain HTTP/1.1, no body): the
/// whole response.
pub fn request(port: u16, method: &str, path: &str, authorization: &str) -> String {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nauthorization: {authorization}\r\n\
         content-length: 0\r\nconnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return String::new();
    }
    read_response(&mut stream)
}

/// A response read up to the end of its `content-length` body, not to EOF:
/// the dev servers keep a connection open for seconds after answering, even
/// when asked to close it, and a revocation is timed in milliseconds.
fn read_response(stream: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n");
        if let Some(end) = head_end {
            let head = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            if length.is_some_and(|length| bytes.len() >= end + 4 + length) {
                break;
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The value on the line after the banner line starting with `label`.
pub fn banner_value(banner: &[String], label: &str) -> String {
    let at = banner
        .iter()
        .position(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no {label:?} in the banner: {banner:#?}"));
    banner[at + 1..]
        .iter()
        .find(|l| !l.starts_with(|c: char| c.is_alphanumeric()))
        .map(|l| l.trim().to_owned())
        .unwrap_or_default()
}

/// Requests through the edge show a valid signature at the demo origin;
/// requests straight to the origin have none.
pub fn check_signatures(banner: &[String], ports: &[(&str, u16)], dir: &Path, secret: Secret) {
    let shown = banner_value(banner, "origin signing secret");
    let file = dir.join("origin-signing-secret");
    match secret {
        Secret::FromEnv => {
            assert_eq!(shown, GIVEN_SECRET);
            assert!(!file.exists(), "an explicit secret is not written down");
        }
        Secret::Reused => assert_eq!(shown, GIVEN_SECRET),
        Secret::Generated => {
            assert_eq!(std::fs::read_to_string(&file).unwrap(), shown);
            assert!(
                shown.len() == 64 && shown.bytes().all(|b| b.is_ascii_hexdigit()),
                "{shown}"
            );
            let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "the secret file is the user's only");
        }
    }
    let live_key = banner
        .iter()
        .find_map(|l| l.trim().strip_prefix("live "))
        .map(|k| k.trim().to_owned())
        .expect("the live key in the banner");
    let (edge_port, live_port) = (ports[1].1, ports[3].1);
    let bearer = format!("Bearer {live_key}");
    let deadline = Instant::now() + Duration::from_secs(15);
    let through_edge = loop {
        let response = get(edge_port, "/anything", &bearer);
        if response.starts_with("HTTP/1.1 200") || Instant::now() > deadline {
            break response;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        through_edge.contains(r#""signature":"valid""#),
        "{through_edge}"
    );
    let around_edge = get(live_port, "/anything", &bearer);
    assert!(
        around_edge.contains(r#""signature":"missing""#),
        "{around_edge}"
    );
}

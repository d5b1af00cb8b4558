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
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!(
        "GET {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nauthorization: {authorization}\r\nconnection: close\r\n\r\n"
    );
    let mut response = String::new();
    if stream.write_all(request.as_bytes()).is_ok() {
        let _ = stream.read_to_string(&mut response);
    }
    response
}

/// The value on the line after the banner line starting with `label`.
fn banner_value(banner: &[String], label: &str) -> String {
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

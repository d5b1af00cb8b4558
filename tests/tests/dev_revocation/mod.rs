//! `make dev` shows a revocation at the edge within 2 seconds (issue 11):
//! the dev stack runs the edge with a 1 s record cache (printed in its
//! banner), the control plane publishes at once, and the local KV has no
//! propagation delay. Used by dev_stack.rs.

use std::time::{Duration, Instant};

use crate::dev_signing::{banner_value, request};

/// How soon a revocation must show at the edge in `make dev`.
pub const WITHIN: Duration = Duration::from_secs(2);

/// Revokes the banner's test key through the control plane and measures
/// how long until the edge refuses it as `revoked`.
pub fn check_revocation(banner: &[String], ports: &[(&str, u16)]) {
    assert!(
        banner.iter().any(|l| l.contains("edge record cache 1 s")),
        "the banner says the dev cache TTL: {banner:#?}"
    );
    let admin_key = banner_value(banner, "admin key");
    let test_key = banner
        .iter()
        .find_map(|l| l.trim().strip_prefix("test "))
        .map(|k| k.trim().to_owned())
        .expect("the test key in the banner");
    let key_id = test_key.split('_').nth(3).expect("a key id").to_owned();
    let (control_port, edge_port) = (ports[0].1, ports[1].1);
    let bearer = format!("Bearer {test_key}");
    // Working (and cached at the edge) before the revocation.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !request(edge_port, "GET", "/anything", &bearer).starts_with("HTTP/1.1 200") {
        assert!(Instant::now() < deadline, "the test key never worked");
        std::thread::sleep(Duration::from_millis(100));
    }
    let revoked = request(
        control_port,
        "POST",
        &format!("/v1/keys/{key_id}/revoke"),
        &format!("Bearer {admin_key}"),
    );
    assert!(revoked.starts_with("HTTP/1.1 200"), "{revoked}");
    let start = Instant::now();
    let refused = loop {
        let response = request(edge_port, "GET", "/anything", &bearer);
        if response.starts_with("HTTP/1.1 401") || start.elapsed() > WITHIN + WITHIN {
            break response;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = start.elapsed();
    assert!(refused.contains(r#""code":"revoked""#), "{refused}");
    assert!(
        took <= WITHIN,
        "the revocation showed at the edge after {took:?} (limit {WITHIN:?})"
    );
}

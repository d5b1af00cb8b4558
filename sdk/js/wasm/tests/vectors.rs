//! The SDK core against shared's golden vectors (the same files the JS test
//! reads through the installed package), natively: keys parse to their
//! parts, tokens are reproduced byte for byte, origin signatures verify.

use std::path::Path;

use keygate_sdk_wasm::ops::{parse_key, verify_origin, SdkError, Signer};
use serde_json::Value;
use shared::origin::Identity;

fn vectors(name: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/tests/vectors")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("vector file");
    let file: Value = serde_json::from_str(&text).expect("vector JSON");
    file["vectors"].as_array().expect("vectors").clone()
}

fn text(value: &Value) -> &str {
    value.as_str().expect("a string")
}

#[test]
fn keys_parse_to_their_parts() {
    let all = vectors("keys.json");
    assert!(all.len() >= 10);
    for vector in &all {
        let info = parse_key(text(&vector["key"])).expect("vector key parses");
        assert_eq!(info.key_id, text(&vector["key_id"]));
        assert_eq!(info.env, text(&vector["env"]));
        assert_eq!(info.key_type, text(&vector["key_type"]));
        assert_eq!(info.client_id.as_deref(), vector["client_id"].as_str());
        // One changed character breaks the checksum (or the format).
        let mut typo = text(&vector["key"]).to_owned();
        let last = typo.pop().expect("non-empty");
        typo.push(if last == 'a' { 'b' } else { 'a' });
        assert!(parse_key(&typo).is_err());
    }
}

#[test]
fn tokens_are_reproduced_byte_for_byte() {
    let all = vectors("tokens.json");
    assert!(all.len() >= 4);
    for vector in &all {
        let mint = &vector["mint"];
        let signer = Signer::new(text(&vector["key"]), Some(text(&mint["client_id"])))
            .expect("vector key signs");
        let token = signer
            .mint(
                text(&mint["audience"]),
                mint["issued_at"].as_i64().expect("iat"),
                mint["ttl"].as_i64().expect("ttl"),
                text(&mint["jti"]),
            )
            .expect("mint");
        assert_eq!(token, text(&vector["token"]), "{}", vector["key_name"]);
    }
}

#[test]
fn key_errors_are_typed() {
    let keys = vectors("keys.json");
    let find = |name: &str| {
        keys.iter()
            .find(|v| v["name"] == name)
            .map(|v| text(&v["key"]).to_owned())
            .expect("named vector")
    };
    let legacy = find("legacy-secret-32-live");
    let code = |r: Result<Signer, SdkError>| r.map(|_| ()).unwrap_err().code;
    assert_eq!(
        code(Signer::new(&legacy, None)),
        "legacy_key_needs_client_id"
    );
    assert!(Signer::new(&legacy, Some("cl_abc")).is_ok());
    assert_eq!(
        code(Signer::new(&legacy, Some("client"))),
        "invalid_client_id"
    );
    let current = find("secret-32-live");
    assert_eq!(
        code(Signer::new(&current, Some("cl_other"))),
        "client_id_mismatch"
    );
    assert_eq!(
        code(Signer::new(&find("publishable-24-live"), None)),
        "not_signable"
    );
    assert_eq!(code(Signer::new("kg_sk_live_nope", None)), "malformed_key");
    let mut typo = current.clone();
    typo.replace_range(20..21, if &typo[20..21] == "a" { "b" } else { "a" });
    assert_eq!(code(Signer::new(&typo, None)), "checksum_mismatch");
    // No message carries the key.
    let error = Signer::new(&typo, None).unwrap_err();
    assert!(!error.to_string().contains(&typo[20..]));
    assert!(!format!("{:?}", Signer::new(&current, None).unwrap()).contains(&current[30..]));
}

#[test]
fn origin_signatures_verify() {
    let all = vectors("origin.json");
    assert!(!all.is_empty());
    for vector in &all {
        let id = &vector["identity"];
        let identity = Identity {
            method: text(&id["method"]),
            path: text(&id["path"]),
            client_id: text(&id["client_id"]),
            key_id: text(&id["key_id"]),
            env: text(&id["env"]),
            key_type: text(&id["key_type"]),
            auth: text(&id["auth"]),
        };
        let secret = text(&vector["secret"]).as_bytes();
        let header = text(&vector["header"]);
        let t = vector["timestamp"].as_i64().expect("timestamp");
        assert_eq!(
            verify_origin(secret, header, &identity, t + 10, 300),
            Ok(())
        );
        assert_eq!(
            verify_origin(secret, header, &identity, t + 301, 300),
            Err("stale")
        );
        assert_eq!(
            verify_origin(b"other", header, &identity, t, 300),
            Err("invalid")
        );
        let moved = Identity {
            path: "/elsewhere",
            ..identity
        };
        assert_eq!(
            verify_origin(secret, header, &moved, t, 300),
            Err("invalid")
        );
    }
}

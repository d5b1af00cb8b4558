//! The golden vectors of `shared/tests/vectors/`: the provider reproduces
//! every committed token byte for byte (Ed25519 is deterministic), and
//! builds or refuses every committed key as its type and layout say.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use keygate_client::{KeyError, TokenProvider};
use serde_json::Value;
use shared::jwk::PublicJwk;

fn vectors(file: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/tests/vectors")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let parsed: Value = serde_json::from_str(&text).unwrap();
    parsed["vectors"].as_array().unwrap().clone()
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
}

#[test]
fn the_provider_mints_every_committed_token_byte_for_byte() {
    let vectors = vectors("tokens.json");
    assert!(vectors.len() >= 4, "the vectors are there");
    let mut legacy = 0;
    for vector in &vectors {
        let mint = &vector["mint"];
        let (issued_at, ttl) = (
            mint["issued_at"].as_i64().unwrap(),
            mint["ttl"].as_u64().unwrap(),
        );
        let jti = text(&mint["jti"]).to_owned();
        let key = text(&vector["key"]);
        let client_id = text(&mint["client_id"]);
        let mut builder = TokenProvider::builder(key, text(&mint["audience"]))
            .lifetime(Duration::from_secs(ttl))
            // Any margin below the lifetime: the first token is minted now.
            .refresh_margin(Duration::from_secs(ttl / 2))
            .clock(move || issued_at)
            .jti(move || jti.clone());
        if shared::key::AccessKey::parse(key).unwrap().is_legacy() {
            legacy += 1;
            builder = builder.client_id(client_id);
        }
        let provider = builder.build().unwrap();
        assert_eq!(provider.client_id(), client_id);
        let token = provider.token().unwrap();
        let name = text(&vector["key_name"]);
        assert_eq!(token, text(&vector["token"]), "{name}");
        // And it verifies, as the vector's `accept` says.
        let accept = &vector["accept"];
        let jwk = PublicJwk::parse(&vector["public_jwk"].to_string()).unwrap();
        common::verify(
            &token,
            &jwk,
            text(&accept["client_id"]),
            text(&accept["audience"]),
            accept["now"].as_i64().unwrap(),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert!(legacy > 0, "a legacy key's token is among the vectors");
}

#[test]
fn every_committed_key_is_built_or_refused_as_its_kind_says() {
    for vector in vectors("keys.json") {
        let key = text(&vector["key"]);
        let name = text(&vector["name"]);
        let built = TokenProvider::new(key, "https://api.example.com");
        match (text(&vector["key_type"]), vector["client_id"].as_str()) {
            ("publishable", _) => assert_eq!(built.unwrap_err(), KeyError::Publishable, "{name}"),
            ("secret", None) => {
                assert_eq!(
                    built.unwrap_err(),
                    KeyError::LegacyKeyNeedsClientId,
                    "{name}"
                );
            }
            ("secret", Some(client_id)) => {
                let provider = built.unwrap();
                assert_eq!(provider.client_id(), client_id, "{name}");
                assert_eq!(provider.key_id(), text(&vector["key_id"]), "{name}");
                let jwk = PublicJwk::parse(&vector["public_jwk"].to_string()).unwrap();
                let now = keygate_client::Clock::now(&keygate_client::SystemClock);
                common::verify(
                    &provider.token().unwrap(),
                    &jwk,
                    client_id,
                    "https://api.example.com",
                    now,
                )
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            }
            (other, _) => panic!("{name}: unknown key type {other}"),
        }
    }
}

//! Golden vectors: the committed files under `tests/vectors/` are what this
//! code produces from fixed inputs (no randomness, a fixed `now`), byte for
//! byte. Every implementation of keygate's formats (the SDKs of later issues)
//! reads the same files; see `tests/vectors/README.md`.
//!
//! Two kinds of check, so a change is caught whichever side it is on:
//! - generation: the files are regenerated in memory and must equal the
//!   committed text exactly (any byte);
//! - reading: each committed vector is checked from its own inputs the way
//!   another implementation would (parse the key, derive, verify the token
//!   with the shared verifier, decode and re-encode the record, verify the
//!   origin signature).
//!
//! `KEYGATE_REGENERATE_VECTORS=1 cargo test -p shared --features mint --test vectors`
//! rewrites the files (then review `git diff`).

use std::path::PathBuf;

use serde_json::{json, Value};
use shared::{
    hex,
    jwk::PublicJwk,
    jwt::{self, MintClaims, Unverified, VerifyOptions},
    key::{AccessKey, KeyHash, KeyType},
    mac::hmac_sha256,
    origin::{self, Identity},
    record::{
        client_kv_name, jwk_kv_name, static_key_kv_name, ClientRecord, JwkRecord, StaticKeyRecord,
        RECORD_VERSION,
    },
    signing::SigningKeyPair,
    Error,
};

/// 2026-01-01T00:00:00Z: the `now` of every vector.
const NOW: i64 = 1_767_225_600;
const AUDIENCE: &str = "https://api.example.com";
const CLIENT: &str = "cl_4vectors0000000000000";
const LONGEST_CLIENT: &str = "cl_ZZZZZZZZZZZZZZZZZZZZZZZZ";

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn bytes(len: usize, seed: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 31 + seed * 13 + 1) % 256) as u8)
        .collect()
}

/// The inputs of one access key.
struct KeyInput {
    name: &'static str,
    key_type: KeyType,
    env: &'static str,
    /// `None`: a legacy key, issued before keys carried their client.
    client_id: Option<&'static str>,
    key_id: Vec<u8>,
    secret: Vec<u8>,
}

/// The keys every file starts from: each allowed size of each type, and the
/// extremes of the byte range (leading zeros are where base62 codecs differ).
fn key_inputs() -> Vec<KeyInput> {
    let mut inputs: Vec<KeyInput> = [
        ("secret-32-live", KeyType::Secret, "live", 32),
        ("secret-48-test", KeyType::Secret, "test", 48),
        ("secret-64-staging2", KeyType::Secret, "staging2", 64),
        ("publishable-24-live", KeyType::Publishable, "live", 24),
        ("publishable-32-test", KeyType::Publishable, "test", 32),
        ("publishable-48-eu1", KeyType::Publishable, "eu1", 48),
    ]
    .into_iter()
    .enumerate()
    .map(|(seed, (name, key_type, env, size))| KeyInput {
        name,
        key_type,
        env,
        client_id: Some(CLIENT),
        key_id: bytes(12, seed + 100),
        secret: bytes(size, seed),
    })
    .collect();
    for (name, env, client_id, byte) in [
        ("secret-32-zeros", "live", CLIENT, 0),
        ("secret-32-ones", "a", "cl_Z", 0xff),
        ("secret-32-longest-client", "live", LONGEST_CLIENT, 0x5a),
    ] {
        inputs.push(KeyInput {
            name,
            key_type: KeyType::Secret,
            env,
            client_id: Some(client_id),
            key_id: vec![byte; 12],
            secret: vec![byte; 32],
        });
    }
    // Keys issued before keys carried their client id: they parse, derive
    // and sign exactly as before (the signer supplies the client id).
    for (name, key_type, size, seed) in [
        ("legacy-secret-32-live", KeyType::Secret, 32, 0),
        ("legacy-publishable-24-live", KeyType::Publishable, 24, 3),
    ] {
        inputs.push(KeyInput {
            name,
            key_type,
            env: "live",
            client_id: None,
            key_id: bytes(12, seed + 100),
            secret: bytes(size, seed),
        });
    }
    inputs
}

fn key_of(name: &str) -> AccessKey {
    let input = key_inputs()
        .into_iter()
        .find(|input| input.name == name)
        .expect("known key name");
    let key_id = input.key_id.try_into().unwrap();
    AccessKey::from_entropy(
        input.key_type,
        input.env,
        input.client_id,
        key_id,
        &input.secret,
    )
    .unwrap()
}

fn keys() -> Value {
    let vectors: Vec<Value> = key_inputs()
        .into_iter()
        .map(|input| {
            let key = key_of(input.name);
            let pair = SigningKeyPair::derive(&key).ok();
            let public = pair.as_ref().map(SigningKeyPair::public_jwk);
            json!({
                "name": input.name,
                "input": {
                    "key_type": input.key_type.as_str(),
                    "env": input.env,
                    "client_id": input.client_id,
                    "key_id_bytes_hex": hex::encode(&input.key_id),
                    "secret_bytes_hex": hex::encode(&input.secret),
                },
                "key": key.expose(),
                "key_id": key.key_id(),
                "client_id": key.client_id(),
                "key_type": key.key_type().as_str(),
                "env": key.environment(),
                "sha256_hex": key.hash().as_str(),
                "kv_name": static_key_kv_name(&key.hash()),
                "public_jwk": public,
                "private_jwk": pair.as_ref().map(|p| {
                    serde_json::from_str::<Value>(&p.private_jwk_json()).unwrap()
                }),
                "thumbprint": public.as_ref().map(PublicJwk::thumbprint),
            })
        })
        .collect();
    json!({
        "description": "Access keys: from the input bytes, the key text (kg_<sk|pk>_<env>_<key id>_<client id without cl_>_<secret><checksum>; legacy keys, input client_id null, have no client segment), its parts (client_id null for a legacy key), the lowercase hex SHA-256 of the whole text (how it is stored), its KV name, and for secret keys the derived Ed25519 key pair as a public JWK (kid = key id), the private JWK (d = the derived seed) and the RFC 7638 thumbprint of the public JWK. Publishable keys cannot sign: their JWK members are null.",
        "kdf": "seed = HKDF-SHA256(salt = \"keygate/access-key/v1\", ikm = secret bytes, info = \"ed25519-seed/\" || key id)[0..32]; key pair = RFC 8032 from seed",
        "vectors": vectors,
    })
}

fn options() -> VerifyOptions {
    VerifyOptions {
        audience: Some(AUDIENCE.to_owned()),
        client_id: Some(CLIENT.to_owned()),
        ..VerifyOptions::default()
    }
}

/// A token with one character of its payload changed (the signature no
/// longer covers it).
fn tampered(token: &str) -> String {
    let dot = token.find('.').unwrap() + 3;
    let mut bytes = token.as_bytes().to_vec();
    bytes[dot] = if bytes[dot] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

fn tokens() -> Value {
    let defaults = options();
    let vectors: Vec<Value> = [
        ("secret-32-live", "jti-0001", 900),
        ("secret-64-staging2", "jti-0002", 3600),
        ("secret-32-zeros", "jti-0003", 60),
        ("legacy-secret-32-live", "jti-0004", 300),
    ]
    .into_iter()
    .map(|(key_name, jti, ttl)| {
        let pair = SigningKeyPair::derive(&key_of(key_name)).unwrap();
        let issued_at = NOW - 30;
        let claims = MintClaims {
            client_id: CLIENT,
            audience: AUDIENCE,
            issued_at,
            ttl,
            jti,
        };
        let token = jwt::mint(&pair, &claims);
        let segment = |i: usize| -> Value {
            let text = token.split('.').nth(i).unwrap();
            serde_json::from_slice(&shared::b64::decode_url(text).unwrap()).unwrap()
        };
        let refusal = |case: &str, token: &str, now: i64, audience: &str, error: Error| {
            json!({
                "case": case, "token": token, "now": now, "audience": audience,
                "code": error.code(), "reason": error.to_string(),
            })
        };
        let expired_at = issued_at + ttl + defaults.skew;
        json!({
            "key_name": key_name,
            "key": key_of(key_name).expose(),
            "public_jwk": pair.public_jwk(),
            "mint": {
                "client_id": CLIENT, "audience": AUDIENCE,
                "issued_at": issued_at, "ttl": ttl, "jti": jti,
            },
            "header": segment(0),
            "payload": segment(1),
            "token": token,
            "accept": { "now": NOW, "audience": AUDIENCE, "client_id": CLIENT },
            "refuse": [
                refusal("expired", &token, expired_at, AUDIENCE, Error::TokenExpired),
                refusal("other audience", &token, NOW, "https://other.example.com", Error::TokenAudience),
                refusal("payload changed", &tampered(&token), NOW, AUDIENCE, Error::TokenSignature),
            ],
        })
    })
    .collect();
    json!({
        "description": "Tokens: an access key's derived pair signs an at+jwt (Ed25519 is deterministic, so the token is exact). `accept` must verify with the public JWK at `now`; each `refuse` case must be refused with `code` (the product's error code). Verification options: aud must contain `audience`, iss and sub must equal `client_id`, exp - iat <= max_lifetime, and every time check allows `skew` seconds.",
        "max_lifetime": defaults.max_lifetime,
        "skew": defaults.skew,
        "vectors": vectors,
    })
}

/// One KV pair as the publisher writes it: key, exact value, metadata.
fn kv(kind: &str, note: &str, name: String, value: String, rev: i64) -> Value {
    json!({
        "kind": kind,
        "note": note,
        "kv_key": name,
        "kv_value": value,
        "kv_metadata": { "rev": rev },
        "record": serde_json::from_str::<Value>(&value).unwrap(),
    })
}

fn records() -> Value {
    let secret = key_of("secret-32-live");
    let publishable = key_of("publishable-24-live");
    let jwk = SigningKeyPair::derive(&secret).unwrap().public_jwk();
    let static_secret = StaticKeyRecord {
        v: RECORD_VERSION,
        client_id: CLIENT.to_owned(),
        key_id: secret.key_id().to_owned(),
        env: "live".to_owned(),
        key_type: KeyType::Secret,
        scopes: vec![
            "GET,POST:/v1/orders".to_owned(),
            "GET:/v1/reports".to_owned(),
        ],
        expires_at: Some(NOW + 86_400),
        revoked_at: None,
        client_disabled: false,
        rev: 3,
    };
    let static_publishable = StaticKeyRecord {
        key_id: publishable.key_id().to_owned(),
        key_type: KeyType::Publishable,
        scopes: vec![],
        expires_at: None,
        revoked_at: Some(NOW - 60),
        client_disabled: true,
        rev: 9,
        ..static_secret.clone()
    };
    let jwk_record = JwkRecord {
        v: RECORD_VERSION,
        client_id: CLIENT.to_owned(),
        env: "live".to_owned(),
        jwk,
        scopes: static_secret.scopes.clone(),
        expires_at: static_secret.expires_at,
        revoked_at: None,
        client_disabled: false,
        rev: 3,
    };
    let client = ClientRecord {
        v: RECORD_VERSION,
        client_id: CLIENT.to_owned(),
        revoked_before: Some(NOW - 3600),
        disabled: false,
        rev: 12,
    };
    let fresh_client = ClientRecord {
        revoked_before: None,
        disabled: true,
        rev: 1,
        ..client.clone()
    };
    let vectors = vec![
        kv(
            "static_key",
            "secret key with scopes and an expiry; key = the access key of keys.json `secret-32-live`",
            static_key_kv_name(&secret.hash()),
            static_secret.encode(),
            static_secret.rev,
        ),
        kv(
            "static_key",
            "publishable key, unrestricted (empty scopes), revoked, client disabled; key = `publishable-24-live`",
            static_key_kv_name(&publishable.hash()),
            static_publishable.encode(),
            static_publishable.rev,
        ),
        kv(
            "jwk",
            "the secret key's public JWK, found by kid",
            jwk_kv_name(secret.key_id()),
            jwk_record.encode(),
            jwk_record.rev,
        ),
        kv(
            "client",
            "tokens issued before revoked_before are refused",
            client_kv_name(CLIENT),
            client.encode(),
            client.rev,
        ),
        kv(
            "client",
            "a disabled client, never revoked",
            client_kv_name(CLIENT),
            fresh_client.encode(),
            fresh_client.rev,
        ),
    ];
    json!({
        "description": "Workers KV records: each record's KV key name, its exact value bytes (a JSON text; the member order is the writer's, a reader must not depend on it) and the metadata stored with it. Names: sk:<lowercase hex SHA-256 of the key text>, jwk:<key id>, client:<client id>. Every member is required (null where it means none, except rev); a reader refuses a record missing any member that governs access, a record with duplicate members, and a version v above the one it knows.",
        "record_version": RECORD_VERSION,
        "vectors": vectors,
    })
}

fn identities() -> Vec<(Identity<'static>, &'static str)> {
    let base = Identity {
        method: "GET",
        path: "/v1/orders",
        client_id: CLIENT,
        key_id: "3J1eCsmBgHvdA0zdr",
        env: "live",
        key_type: "secret",
        auth: "static",
    };
    vec![
        (base, "static key"),
        (
            Identity {
                method: "POST",
                path: "/v1/orders/42/items",
                auth: "jwt",
                ..base
            },
            "token",
        ),
        (
            Identity {
                method: "DELETE",
                path: "/",
                env: "test",
                key_type: "publishable",
                ..base
            },
            "root path",
        ),
    ]
}

fn origin_vectors() -> Value {
    let secret = b"origin-signing-secret-of-the-vectors";
    let vectors: Vec<Value> = identities()
        .into_iter()
        .map(|(identity, note)| {
            json!({
                "note": note,
                "secret": String::from_utf8_lossy(secret),
                "timestamp": NOW,
                "identity": {
                    "method": identity.method, "path": identity.path,
                    "client_id": identity.client_id, "key_id": identity.key_id,
                    "env": identity.env, "key_type": identity.key_type, "auth": identity.auth,
                },
                "canonical": canonical(&identity, NOW),
                "header": origin::sign(secret, &identity, NOW),
            })
        })
        .collect();
    json!({
        "description": "X-Keygate-Signature, the edge's signature over what it tells the origin: t=<timestamp>,v1=<lowercase hex HMAC-SHA256(secret, canonical)>, canonical = keygate-v1, timestamp, method, path, client id, key id, env, key type and auth joined by \\n (no trailing newline).",
        "vectors": vectors,
    })
}

/// The canonical string, written out here independently of `origin.rs`.
fn canonical(i: &Identity<'_>, timestamp: i64) -> String {
    [
        "keygate-v1",
        &timestamp.to_string(),
        i.method,
        i.path,
        i.client_id,
        i.key_id,
        i.env,
        i.key_type,
        i.auth,
    ]
    .join("\n")
}

fn files() -> [(&'static str, Value); 4] {
    [
        ("keys.json", keys()),
        ("tokens.json", tokens()),
        ("records.json", records()),
        ("origin.json", origin_vectors()),
    ]
}

fn text(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap() + "\n"
}

/// A committed file, text and JSON (while regenerating: the new text, so the
/// read-back tests check what is being written).
fn committed(name: &str) -> (String, Value) {
    if std::env::var_os("KEYGATE_REGENERATE_VECTORS").is_some() {
        let (_, value) = files().into_iter().find(|(n, _)| *n == name).unwrap();
        return (text(&value), value);
    }
    let path = dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; regenerate with KEYGATE_REGENERATE_VECTORS=1",
            path.display()
        )
    });
    let value = serde_json::from_str(&text).expect("vector file is JSON");
    (text, value)
}

fn str_of<'a>(value: &'a Value, name: &str) -> &'a str {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {value}"))
}

/// The files are exactly what the code produces today (or are rewritten
/// when `KEYGATE_REGENERATE_VECTORS=1`).
#[test]
fn committed_files_equal_generated_bytes() {
    let regenerate = std::env::var_os("KEYGATE_REGENERATE_VECTORS").is_some();
    for (name, value) in files() {
        let generated = text(&value);
        if regenerate {
            std::fs::write(dir().join(name), &generated).unwrap();
            continue;
        }
        let (on_disk, _) = committed(name);
        if on_disk != generated {
            let line = on_disk
                .lines()
                .zip(generated.lines())
                .position(|(a, b)| a != b)
                .map_or(
                    on_disk.lines().count().min(generated.lines().count()),
                    |i| i,
                );
            panic!(
                "tests/vectors/{name} differs from what the code produces (first at line {}).\n\
                 If the change is intended, regenerate with KEYGATE_REGENERATE_VECTORS=1 and review git diff.\n\
                 committed: {:?}\ngenerated: {:?}",
                line + 1,
                on_disk.lines().nth(line),
                generated.lines().nth(line)
            );
        }
    }
}

#[test]
fn keys_read_back() {
    let (_, file) = committed("keys.json");
    let vectors = file["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), key_inputs().len());
    for v in vectors {
        let input = &v["input"];
        let key_type = KeyType::from_name(str_of(input, "key_type")).unwrap();
        let key_id: [u8; 12] = hex::decode(str_of(input, "key_id_bytes_hex"))
            .unwrap()
            .try_into()
            .unwrap();
        let secret = hex::decode(str_of(input, "secret_bytes_hex")).unwrap();
        let built = AccessKey::from_entropy(
            key_type,
            str_of(input, "env"),
            input["client_id"].as_str(),
            key_id,
            &secret,
        )
        .unwrap();
        let text = str_of(v, "key");
        assert_eq!(built.expose(), text);
        let parsed = AccessKey::parse(text).unwrap();
        assert_eq!(parsed.key_id(), str_of(v, "key_id"));
        assert_eq!(parsed.client_id().as_deref(), v["client_id"].as_str());
        assert_eq!(parsed.key_type().as_str(), str_of(v, "key_type"));
        assert_eq!(parsed.environment(), str_of(v, "env"));
        assert_eq!(parsed.hash().as_str(), str_of(v, "sha256_hex"));
        assert_eq!(
            KeyHash::of_bytes(text.as_bytes()).as_str(),
            str_of(v, "sha256_hex")
        );
        assert_eq!(static_key_kv_name(&parsed.hash()), str_of(v, "kv_name"));
        match SigningKeyPair::derive(&parsed) {
            Ok(pair) => {
                let public = PublicJwk::parse(&v["public_jwk"].to_string()).unwrap();
                assert_eq!(pair.public_jwk(), public);
                assert_eq!(public.kid.as_deref(), Some(parsed.key_id()));
                assert_eq!(public.thumbprint(), str_of(v, "thumbprint"));
                let private: Value = serde_json::from_str(&pair.private_jwk_json()).unwrap();
                assert_eq!(private, v["private_jwk"]);
                // The private JWK's seed yields the public key on its own.
                let seed = shared::b64::decode_url(str_of(&v["private_jwk"], "d")).unwrap();
                let again = SigningKeyPair::from_seed(seed.try_into().unwrap(), parsed.key_id());
                assert_eq!(again.public_jwk(), public);
            }
            Err(error) => {
                assert_eq!(error, Error::KeyNotSignable);
                assert_eq!(key_type, KeyType::Publishable);
                for member in ["public_jwk", "private_jwk", "thumbprint"] {
                    assert!(v[member].is_null(), "{member} of {v}");
                }
            }
        }
    }
}

#[test]
fn tokens_read_back() {
    let (_, file) = committed("tokens.json");
    let lifetime = file["max_lifetime"].as_i64().unwrap();
    let skew = file["skew"].as_i64().unwrap();
    for v in file["vectors"].as_array().unwrap() {
        let key = AccessKey::parse(str_of(v, "key")).unwrap();
        let pair = SigningKeyPair::derive(&key).unwrap();
        let mint = &v["mint"];
        let token = str_of(v, "token");
        // Deterministic Ed25519: minting again gives the same token.
        let again = jwt::mint(
            &pair,
            &MintClaims {
                client_id: str_of(mint, "client_id"),
                audience: str_of(mint, "audience"),
                issued_at: mint["issued_at"].as_i64().unwrap(),
                ttl: mint["ttl"].as_i64().unwrap(),
                jti: str_of(mint, "jti"),
            },
        );
        assert_eq!(again, token);
        let verification = PublicJwk::parse(&v["public_jwk"].to_string())
            .unwrap()
            .verification_key()
            .unwrap();
        let options_for = |audience: &str, client_id: &str| VerifyOptions {
            audience: Some(audience.to_owned()),
            client_id: Some(client_id.to_owned()),
            ..VerifyOptions::default()
        };
        let defaults = VerifyOptions::default();
        assert_eq!((defaults.max_lifetime, defaults.skew), (lifetime, skew));
        let accept = &v["accept"];
        let unverified = Unverified::parse(token).unwrap();
        assert_eq!(unverified.kid(), key.key_id());
        let verdict = unverified.verify(
            &verification,
            &options_for(str_of(accept, "audience"), str_of(accept, "client_id")),
            accept["now"].as_i64().unwrap(),
        );
        assert!(verdict.is_ok(), "{verdict:?}");
        for case in v["refuse"].as_array().unwrap() {
            let refused = Unverified::parse(str_of(case, "token"))
                .and_then(|u| {
                    u.verify(
                        &verification,
                        &options_for(str_of(case, "audience"), str_of(accept, "client_id")),
                        case["now"].as_i64().unwrap(),
                    )
                })
                .expect_err(str_of(case, "case"));
            assert_eq!(refused.code(), str_of(case, "code"), "{case}");
            assert_eq!(refused.to_string(), str_of(case, "reason"), "{case}");
        }
    }
}

#[test]
fn records_read_back() {
    let (_, file) = committed("records.json");
    assert_eq!(
        file["record_version"].as_u64(),
        Some(u64::from(RECORD_VERSION))
    );
    let mut kinds = Vec::new();
    for v in file["vectors"].as_array().unwrap() {
        let value = str_of(v, "kv_value");
        let name = str_of(v, "kv_key");
        let rev = v["kv_metadata"]["rev"].as_i64().unwrap();
        assert_eq!(&serde_json::from_str::<Value>(value).unwrap(), &v["record"]);
        let kind = str_of(v, "kind");
        kinds.push(kind.to_owned());
        match kind {
            "static_key" => {
                let record = StaticKeyRecord::decode(value).unwrap();
                assert_eq!(record.encode(), value);
                assert_eq!(record.rev, rev);
                assert!(name.starts_with("sk:"));
                assert!(KeyHash::from_hex(&name[3..]).is_some(), "{name}");
            }
            "jwk" => {
                let record = JwkRecord::decode(value).unwrap();
                assert_eq!(record.encode(), value);
                assert_eq!(record.rev, rev);
                assert_eq!(name, jwk_kv_name(record.jwk.kid.as_deref().unwrap()));
                assert!(record.jwk.verification_key().is_ok());
            }
            "client" => {
                let record = ClientRecord::decode(value).unwrap();
                assert_eq!(record.encode(), value);
                assert_eq!(record.rev, rev);
                assert_eq!(name, client_kv_name(&record.client_id));
            }
            other => panic!("unknown record kind {other}"),
        }
    }
    for kind in ["static_key", "jwk", "client"] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} vector");
    }
    // The static key records are found by the hash of the keys in keys.json.
    let (_, keys) = committed("keys.json");
    for v in file["vectors"].as_array().unwrap() {
        if v["kind"] == "static_key" {
            let known = keys["vectors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kv_name"] == v["kv_key"]);
            assert!(known, "{} names no key of keys.json", v["kv_key"]);
        }
    }
}

#[test]
fn origin_signatures_read_back() {
    let (_, file) = committed("origin.json");
    for v in file["vectors"].as_array().unwrap() {
        let secret = str_of(v, "secret").as_bytes();
        let timestamp = v["timestamp"].as_i64().unwrap();
        let i = &v["identity"];
        let identity = Identity {
            method: str_of(i, "method"),
            path: str_of(i, "path"),
            client_id: str_of(i, "client_id"),
            key_id: str_of(i, "key_id"),
            env: str_of(i, "env"),
            key_type: str_of(i, "key_type"),
            auth: str_of(i, "auth"),
        };
        let header = str_of(v, "header");
        assert_eq!(canonical(&identity, timestamp), str_of(v, "canonical"));
        let mac = hmac_sha256(secret, str_of(v, "canonical").as_bytes());
        assert_eq!(header, format!("t={timestamp},v1={}", hex::encode(&mac)));
        assert_eq!(origin::sign(secret, &identity, timestamp), header);
        assert_eq!(
            origin::verify(secret, header, &identity, timestamp, 300),
            Ok(())
        );
    }
}

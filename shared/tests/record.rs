//! The KV record decoders (shared/src/record.rs) through the public API:
//! round trips, and refusal of every record whose missing or corrupt member
//! would otherwise widen access (issue 9, defect 2).

use serde_json::Value;
use shared::{
    jwk::PublicJwk,
    key::{KeyHash, KeyType},
    record::{
        client_kv_name, jwk_kv_name, static_key_kv_name, ClientRecord, JwkRecord, StaticKeyRecord,
        RECORD_VERSION,
    },
    Error,
};

/// A decoder, its record dropped: only the verdict matters here.
type Decode = dyn Fn(&str) -> Result<(), Error>;

fn record() -> StaticKeyRecord {
    StaticKeyRecord {
        v: RECORD_VERSION,
        client_id: "cl_1".to_owned(),
        key_id: "k".to_owned(),
        env: "live".to_owned(),
        key_type: KeyType::Secret,
        scopes: vec!["GET:/v1".to_owned()],
        expires_at: Some(10),
        revoked_at: None,
        client_disabled: false,
        rev: 3,
    }
}

#[test]
fn round_trips() {
    assert_eq!(StaticKeyRecord::decode(&record().encode()), Ok(record()));
}

/// Every member that governs access, removed or mistyped one at a time:
/// the record is refused instead of read as its permissive default.
#[test]
fn missing_or_mistyped_access_members_are_refused() {
    let jwk = jwk_record().encode();
    let client = client_record().encode();
    let cases: [(&str, &[&str], &Decode); 3] = [
        (
            &record().encode(),
            &[
                "scopes",
                "key_type",
                "env",
                "expires_at",
                "revoked_at",
                "client_disabled",
                "client_id",
                "key_id",
            ],
            &|json| StaticKeyRecord::decode(json).map(drop),
        ),
        (
            &jwk,
            &[
                "scopes",
                "env",
                "jwk",
                "expires_at",
                "revoked_at",
                "client_disabled",
                "client_id",
            ],
            &|json| JwkRecord::decode(json).map(drop),
        ),
        (
            &client,
            &["disabled", "revoked_before", "client_id"],
            &|json| ClientRecord::decode(json).map(drop),
        ),
    ];
    for (json, members, decode) in cases {
        assert_eq!(decode(json), Ok(()), "{json}");
        let object: serde_json::Map<String, Value> = serde_json::from_str(json).unwrap();
        for member in members {
            let mut without = object.clone();
            without.remove(*member);
            let text = Value::Object(without).to_string();
            assert_eq!(decode(&text), Err(Error::RecordMalformed), "{text}");
            for wrong in [
                Value::Null,
                Value::from(1.5),
                Value::from(vec![1]),
                Value::Object(serde_json::Map::new()),
            ] {
                // `null` is a valid "none" for the nullable times only.
                if wrong.is_null()
                    && matches!(*member, "expires_at" | "revoked_at" | "revoked_before")
                {
                    continue;
                }
                let mut mistyped = object.clone();
                mistyped.insert((*member).to_owned(), wrong);
                let text = Value::Object(mistyped).to_string();
                assert_eq!(decode(&text), Err(Error::RecordMalformed), "{text}");
            }
        }
    }
    // The old forms that used to decode as unrestricted and enabled.
    let old = r#"{"v":1,"client_id":"c","key_id":"k","env":"test","key_type":"publishable"}"#;
    assert_eq!(StaticKeyRecord::decode(old), Err(Error::RecordMalformed));
    assert_eq!(
        ClientRecord::decode(r#"{"v":1,"client_id":"c"}"#),
        Err(Error::RecordMalformed)
    );
    assert_eq!(
        ClientRecord::decode(r#"{"v":1,"client_id":"c","revoked_before":5}"#),
        Err(Error::RecordMalformed)
    );
    let root = record().encode().replace("\"secret\"", "\"root\"");
    assert_eq!(StaticKeyRecord::decode(&root), Err(Error::RecordMalformed));
    // An environment no key can carry is corruption, not a new environment.
    for env in ["", "LIVE", "live test", "a2345678901234567"] {
        let bad = record().encode().replace("\"live\"", &format!("{env:?}"));
        assert_eq!(
            StaticKeyRecord::decode(&bad),
            Err(Error::RecordMalformed),
            "{bad}"
        );
    }
}

/// What the publisher writes (every member; `null` for "none") decodes,
/// and a missing `rev` (which grants nothing) still reads as 0.
#[test]
fn publisher_forms_decode() {
    let written = r#"{"v":1,"client_id":"c","key_id":"k","env":"test","key_type":"publishable","scopes":[],"expires_at":null,"revoked_at":null,"client_disabled":false,"rev":4}"#;
    let decoded = StaticKeyRecord::decode(written).unwrap();
    assert_eq!(decoded.key_type, KeyType::Publishable);
    assert!(decoded.scopes.is_empty() && decoded.revoked_at.is_none());
    assert_eq!(decoded.encode(), written);
    let client = r#"{"v":1,"client_id":"c","revoked_before":null,"disabled":false}"#;
    assert_eq!(ClientRecord::decode(client).map(|c| c.rev), Ok(0));
}

#[test]
fn refuses_future_versions_and_garbage() {
    let future = record().encode().replace("\"v\":1", "\"v\":2");
    assert_eq!(StaticKeyRecord::decode(&future), Err(Error::RecordVersion));
    assert_eq!(StaticKeyRecord::decode("{"), Err(Error::RecordMalformed));
    assert_eq!(
        StaticKeyRecord::decode(r#"{"v":1}"#),
        Err(Error::RecordMalformed)
    );
}

fn jwk_record() -> JwkRecord {
    JwkRecord {
        v: RECORD_VERSION,
        client_id: "cl_1".to_owned(),
        env: "live".to_owned(),
        jwk: PublicJwk::from_public_key(&[9; 32], "k"),
        scopes: vec![],
        expires_at: None,
        revoked_at: Some(4),
        client_disabled: true,
        rev: 2,
    }
}

fn client_record() -> ClientRecord {
    ClientRecord {
        v: RECORD_VERSION,
        client_id: "cl_1".to_owned(),
        revoked_before: Some(100),
        disabled: false,
        rev: 7,
    }
}

#[test]
fn jwk_and_client_records_round_trip() {
    assert_eq!(JwkRecord::decode(&jwk_record().encode()), Ok(jwk_record()));
    assert_eq!(
        ClientRecord::decode(&client_record().encode()),
        Ok(client_record())
    );
    let minimal =
        ClientRecord::decode(r#"{"v":1,"client_id":"c","revoked_before":null,"disabled":false}"#)
            .unwrap();
    assert_eq!(
        (minimal.revoked_before, minimal.disabled, minimal.rev),
        (None, false, 0)
    );
    assert_eq!(
        ClientRecord::decode(r#"{"v":9,"client_id":"c"}"#),
        Err(Error::RecordVersion)
    );
    assert_eq!(jwk_kv_name("k"), "jwk:k");
    assert_eq!(client_kv_name("cl_1"), "client:cl_1");
}

#[test]
fn kv_name_is_prefixed_hash() {
    let name = static_key_kv_name(&KeyHash::of("abc"));
    assert!(name.starts_with("sk:ba7816bf"));
}

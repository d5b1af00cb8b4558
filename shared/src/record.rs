//! What the control plane writes to Workers KV and the edge reads: the record
//! types and, in one place, the KV key names.
//!
//! Records are JSON with a format version `v`. A reader accepts every version
//! up to [`RECORD_VERSION`] and refuses newer ones, so an edge that has not
//! been redeployed fails closed instead of misreading a record.
//!
//! Fail closed on every member that governs access: `scopes`, `key_type`,
//! `env`, `expires_at`, `revoked_at`, `client_disabled`, and a client's
//! `disabled` and `revoked_before` must be present and well-typed (`null`
//! where it means "none"). A reader that took a missing member for its
//! default would read a truncated, hand-written or older record as
//! "unrestricted", "never expires", "not revoked" or "enabled". The publisher
//! writes every member, so only such records are refused. `rev` alone may be
//! missing (read as 0): it orders writes and grants nothing.

use serde::Serialize;
use serde_json::Value;

use crate::{
    json::StrictObject,
    jwk::PublicJwk,
    key::{is_valid_environment, KeyHash, KeyType},
    Error,
};

/// The newest record format this code writes and understands.
pub const RECORD_VERSION: u32 = 1;

/// The KV key under which a static key's record is stored.
pub fn static_key_kv_name(hash: &KeyHash) -> String {
    format!("sk:{hash}")
}

/// The KV key under which a signing key's public JWK record is stored (by `kid`).
pub fn jwk_kv_name(key_id: &str) -> String {
    format!("jwk:{key_id}")
}

/// The KV key under which a client's record is stored.
pub fn client_kv_name(client_id: &str) -> String {
    format!("client:{client_id}")
}

/// A record's members, version checked first: a record from a newer
/// control plane is refused as such rather than half-understood.
///
/// Decoding is written out by hand over one strict object (unique members)
/// instead of derived per type: the edge bundle then carries one small JSON
/// reader instead of a deserialiser per record type.
struct Members(StrictObject);

impl Members {
    fn parse(json: &str) -> Result<Self, Error> {
        let object = StrictObject::parse(json.as_bytes()).map_err(|_| Error::RecordMalformed)?;
        let members = Self(object);
        match members.0.get("v").and_then(Value::as_u64) {
            Some(v) if v >= 1 && v <= u64::from(RECORD_VERSION) => Ok(members),
            Some(_) => Err(Error::RecordVersion),
            None => Err(Error::RecordMalformed),
        }
    }

    fn version(&self) -> u32 {
        self.0.get("v").and_then(Value::as_u64).unwrap_or(0) as u32
    }

    fn string(&self, name: &str) -> Result<String, Error> {
        string_of(self.0.get(name))
    }

    /// A time that must be present; `null` means none.
    fn nullable_time(&self, name: &str) -> Result<Option<i64>, Error> {
        match self.0.get(name) {
            None => Err(Error::RecordMalformed),
            Some(Value::Null) => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or(Error::RecordMalformed),
        }
    }

    fn integer_or_zero(&self, name: &str) -> Result<i64, Error> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(0),
            Some(v) => v.as_i64().ok_or(Error::RecordMalformed),
        }
    }

    /// A list of strings that must be present: an empty list means
    /// unrestricted, so a missing or `null` one must not read as empty.
    fn strings(&self, name: &str) -> Result<Vec<String>, Error> {
        match self.0.get(name) {
            Some(Value::Array(items)) => items.iter().map(|v| string_of(Some(v))).collect(),
            _ => Err(Error::RecordMalformed),
        }
    }

    /// A flag that must be present: a missing `disabled` is not "enabled".
    fn flag(&self, name: &str) -> Result<bool, Error> {
        match self.0.get(name) {
            Some(Value::Bool(b)) => Ok(*b),
            _ => Err(Error::RecordMalformed),
        }
    }

    /// An environment name as keys carry it; anything else cannot be a
    /// record the control plane wrote.
    fn environment(&self) -> Result<String, Error> {
        let env = self.string("env")?;
        if is_valid_environment(&env) {
            Ok(env)
        } else {
            Err(Error::RecordMalformed)
        }
    }

    fn key_type(&self) -> Result<KeyType, Error> {
        KeyType::from_name(&self.string("key_type")?).ok_or(Error::RecordMalformed)
    }
}

fn string_of(value: Option<&Value>) -> Result<String, Error> {
    match value {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(Error::RecordMalformed),
    }
}

fn optional_string(
    object: &serde_json::Map<String, Value>,
    name: &str,
) -> Result<Option<String>, Error> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::RecordMalformed),
    }
}

fn jwk_of(value: Option<&Value>) -> Result<PublicJwk, Error> {
    let Some(Value::Object(object)) = value else {
        return Err(Error::RecordMalformed);
    };
    let required = |name: &str| string_of(object.get(name));
    Ok(PublicJwk {
        kty: required("kty")?,
        crv: required("crv")?,
        x: required("x")?,
        kid: optional_string(object, "kid")?,
        alg: optional_string(object, "alg")?,
        use_: optional_string(object, "use")?,
    })
}

fn encode<T: Serialize>(record: &T) -> String {
    // Records are structs of strings, integers, options and lists: they
    // always serialise.
    serde_json::to_string(record).unwrap_or_default()
}

/// What the edge needs to verify tokens signed by one access key, found by `kid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JwkRecord {
    /// Record format version.
    pub v: u32,
    /// The client the key belongs to (`iss` and `sub` must equal it).
    pub client_id: String,
    /// `live`, `test`, ...
    pub env: String,
    /// The public key; its `kid` is the key id.
    pub jwk: PublicJwk,
    /// Allowed `METHODS:/path-prefix` scopes; empty means unrestricted.
    pub scopes: Vec<String>,
    /// Unix seconds after which the key is refused.
    pub expires_at: Option<i64>,
    /// Unix seconds at which the key was revoked; set means refused.
    pub revoked_at: Option<i64>,
    /// The key's client is disabled: refused until it is enabled again.
    pub client_disabled: bool,
    /// Monotonic revision of the key's state.
    pub rev: i64,
}

impl JwkRecord {
    /// Decodes a record read from KV.
    pub fn decode(json: &str) -> Result<Self, Error> {
        let m = Members::parse(json)?;
        Ok(Self {
            v: m.version(),
            client_id: m.string("client_id")?,
            env: m.environment()?,
            jwk: jwk_of(m.0.get("jwk"))?,
            scopes: m.strings("scopes")?,
            expires_at: m.nullable_time("expires_at")?,
            revoked_at: m.nullable_time("revoked_at")?,
            client_disabled: m.flag("client_disabled")?,
            rev: m.integer_or_zero("rev")?,
        })
    }

    /// Encodes a record for KV.
    pub fn encode(&self) -> String {
        encode(self)
    }
}

/// Per-client state that applies to all of a client's keys and tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientRecord {
    /// Record format version.
    pub v: u32,
    /// The client.
    pub client_id: String,
    /// Tokens issued (`iat`) before this Unix time are refused: revokes every
    /// outstanding JWT of the client at once, without waiting for `exp`.
    pub revoked_before: Option<i64>,
    /// A disabled client's keys and tokens are all refused.
    pub disabled: bool,
    /// Monotonic revision of the client's state.
    pub rev: i64,
}

impl ClientRecord {
    /// Decodes a record read from KV.
    pub fn decode(json: &str) -> Result<Self, Error> {
        let m = Members::parse(json)?;
        Ok(Self {
            v: m.version(),
            client_id: m.string("client_id")?,
            revoked_before: m.nullable_time("revoked_before")?,
            disabled: m.flag("disabled")?,
            rev: m.integer_or_zero("rev")?,
        })
    }

    /// Encodes a record for KV.
    pub fn encode(&self) -> String {
        encode(self)
    }
}

/// What the edge needs to know about one static key, found by its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaticKeyRecord {
    /// Record format version.
    pub v: u32,
    /// The client the key belongs to.
    pub client_id: String,
    /// The key's public id.
    pub key_id: String,
    /// `live`, `test`, ...
    pub env: String,
    /// Secret or publishable.
    pub key_type: KeyType,
    /// Allowed `METHODS:/path-prefix` scopes; empty means unrestricted.
    pub scopes: Vec<String>,
    /// Unix seconds after which the key is refused.
    pub expires_at: Option<i64>,
    /// Unix seconds at which the key was revoked; set means refused.
    pub revoked_at: Option<i64>,
    /// The key's client is disabled: refused until it is enabled again.
    pub client_disabled: bool,
    /// Monotonic revision of this key's state, so a late write of an older
    /// state can be recognised and never win over a newer one.
    pub rev: i64,
}

impl StaticKeyRecord {
    /// Decodes a record read from KV.
    pub fn decode(json: &str) -> Result<Self, Error> {
        let m = Members::parse(json)?;
        Ok(Self {
            v: m.version(),
            client_id: m.string("client_id")?,
            key_id: m.string("key_id")?,
            env: m.environment()?,
            key_type: m.key_type()?,
            scopes: m.strings("scopes")?,
            expires_at: m.nullable_time("expires_at")?,
            revoked_at: m.nullable_time("revoked_at")?,
            client_disabled: m.flag("client_disabled")?,
            rev: m.integer_or_zero("rev")?,
        })
    }

    /// Encodes a record for KV.
    pub fn encode(&self) -> String {
        encode(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let minimal = ClientRecord::decode(
            r#"{"v":1,"client_id":"c","revoked_before":null,"disabled":false}"#,
        )
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
}

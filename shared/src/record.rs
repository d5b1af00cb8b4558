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

/// What both key records carry besides their own members (the JWK, or the
/// key id and type), decoded once for both.
struct KeyState {
    v: u32,
    client_id: String,
    env: String,
    scopes: Vec<String>,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    client_disabled: bool,
    rev: i64,
}

impl Members {
    fn key_state(&self) -> Result<KeyState, Error> {
        Ok(KeyState {
            v: self.version(),
            client_id: self.string("client_id")?,
            env: self.environment()?,
            scopes: self.strings("scopes")?,
            expires_at: self.nullable_time("expires_at")?,
            revoked_at: self.nullable_time("revoked_at")?,
            client_disabled: self.flag("client_disabled")?,
            rev: self.integer_or_zero("rev")?,
        })
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
    /// The signing-key record of the key `record` describes: the same
    /// access state, so the key's static and signed uses are refused or
    /// accepted together.
    pub fn of_key(record: StaticKeyRecord, jwk: PublicJwk) -> Self {
        let StaticKeyRecord {
            v,
            client_id,
            env,
            scopes,
            expires_at,
            revoked_at,
            client_disabled,
            rev,
            ..
        } = record;
        Self {
            v,
            client_id,
            env,
            jwk,
            scopes,
            expires_at,
            revoked_at,
            client_disabled,
            rev,
        }
    }

    fn from_members(m: &Members) -> Result<Self, Error> {
        let KeyState {
            v,
            client_id,
            env,
            scopes,
            expires_at,
            revoked_at,
            client_disabled,
            rev,
        } = m.key_state()?;
        Ok(Self {
            v,
            client_id,
            env,
            jwk: jwk_of(m.0.get("jwk"))?,
            scopes,
            expires_at,
            revoked_at,
            client_disabled,
            rev,
        })
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
    fn from_members(m: &Members) -> Result<Self, Error> {
        Ok(Self {
            v: m.version(),
            client_id: m.string("client_id")?,
            revoked_before: m.nullable_time("revoked_before")?,
            disabled: m.flag("disabled")?,
            rev: m.integer_or_zero("rev")?,
        })
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
    fn from_members(m: &Members) -> Result<Self, Error> {
        let KeyState {
            v,
            client_id,
            env,
            scopes,
            expires_at,
            revoked_at,
            client_disabled,
            rev,
        } = m.key_state()?;
        Ok(Self {
            v,
            client_id,
            key_id: m.string("key_id")?,
            env,
            key_type: m.key_type()?,
            scopes,
            expires_at,
            revoked_at,
            client_disabled,
            rev,
        })
    }
}

/// `decode` and `encode`, written once for the three record types (inherent
/// methods, so callers need no trait in scope).
macro_rules! record_codec {
    ($($record:ty),+) => {$(
        impl $record {
            /// Decodes a record read from KV; refuses what the module doc says.
            pub fn decode(json: &str) -> Result<Self, Error> {
                Self::from_members(&Members::parse(json)?)
            }

            /// Encodes a record for KV.
            pub fn encode(&self) -> String {
                // Records are structs of strings, integers, options and
                // lists: they always serialise.
                serde_json::to_string(self).unwrap_or_default()
            }
        }
    )+};
}
record_codec!(StaticKeyRecord, JwkRecord, ClientRecord);

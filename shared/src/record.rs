//! What the control plane writes to Workers KV and the edge reads: the record
//! types and, in one place, the KV key names.
//!
//! Records are JSON with a format version `v`. A reader accepts every version
//! up to [`RECORD_VERSION`] (older ones keep decoding: new fields are optional
//! with defaults) and refuses newer ones, so an edge that has not been
//! redeployed fails closed instead of misreading a record.

use serde::{Deserialize, Serialize};

use crate::{key::KeyHash, key::KeyType, Error};

/// The newest record format this code writes and understands.
pub const RECORD_VERSION: u32 = 1;

/// The KV key under which a static key's record is stored.
pub fn static_key_kv_name(hash: &KeyHash) -> String {
    format!("sk:{hash}")
}

/// What the edge needs to know about one static key, found by its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Unix seconds after which the key is refused.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// Unix seconds at which the key was revoked; set means refused.
    #[serde(default)]
    pub revoked_at: Option<i64>,
    /// Monotonic revision of this key's state, so a late write of an older
    /// state can be recognised and never win over a newer one.
    #[serde(default)]
    pub rev: i64,
}

impl StaticKeyRecord {
    /// Decodes a record read from KV.
    pub fn decode(json: &str) -> Result<Self, Error> {
        #[derive(Deserialize)]
        struct Version {
            v: u32,
        }
        let version: Version = serde_json::from_str(json).map_err(|_| Error::RecordMalformed)?;
        if version.v == 0 || version.v > RECORD_VERSION {
            return Err(Error::RecordVersion);
        }
        serde_json::from_str(json).map_err(|_| Error::RecordMalformed)
    }

    /// Encodes a record for KV.
    pub fn encode(&self) -> String {
        // A struct of strings, integers and options always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            rev: 3,
        }
    }

    #[test]
    fn round_trips() {
        assert_eq!(StaticKeyRecord::decode(&record().encode()), Ok(record()));
    }

    #[test]
    fn version_one_without_optional_fields_decodes() {
        let json = r#"{"v":1,"client_id":"c","key_id":"k","env":"test","key_type":"publishable"}"#;
        let decoded = StaticKeyRecord::decode(json).unwrap();
        assert_eq!(decoded.key_type, KeyType::Publishable);
        assert!(decoded.scopes.is_empty() && decoded.revoked_at.is_none());
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

    #[test]
    fn kv_name_is_prefixed_hash() {
        let name = static_key_kv_name(&KeyHash::of("abc"));
        assert!(name.starts_with("sk:ba7816bf"));
    }
}

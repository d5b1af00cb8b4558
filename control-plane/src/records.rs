//! The KV records of a key or a client, built from database rows: pure
//! functions, shared by the publisher (which sends them) and the re-sync
//! (which compares KV with them).

use shared::{
    decision::Records,
    jwk::PublicJwk,
    key::KeyHash,
    record::{
        client_kv_name, jwk_kv_name, static_key_kv_name, ClientRecord, JwkRecord, StaticKeyRecord,
        RECORD_VERSION,
    },
};

use crate::{
    kv::{KvPair, RecordMeta},
    store::{Client, KeyRow},
};

/// How long an expired key's records stay in KV: the records themselves make
/// the edge refuse the key, so this only keeps the refusal specific
/// ("expired" rather than "unknown") for a day. The re-sync leaves keys
/// expired longer than this to KV's own expiry.
pub const EXPIRY_GRACE_SECS: i64 = 86_400;

/// KV refuses expirations sooner than 60 s ahead; keep a margin.
const MIN_EXPIRATION_AHEAD_SECS: i64 = 120;

/// The KV pairs for a key's current state: its static record, and for a
/// secret key its JWK record. None for keys that are never published (admin
/// and verify keys, rows we cannot read).
pub fn key_pairs(row: &KeyRow, client_disabled: bool, now_secs: i64) -> Vec<KvPair> {
    if row.is_control_plane_key() {
        return Vec::new();
    }
    let Some(hash) = KeyHash::from_hex(&row.key_hash) else {
        tracing::error!(key_id = %row.key_id, "unpublishable key row");
        return Vec::new();
    };
    let expiration = row
        .expires_at
        .map(|at| (at + EXPIRY_GRACE_SECS).max(now_secs + MIN_EXPIRATION_AHEAD_SECS));
    let pair = |key: String, value: String| KvPair {
        key,
        value,
        expiration,
        metadata: RecordMeta { rev: row.rev },
    };
    let record = static_record(row, client_disabled);
    let mut pairs = vec![pair(static_key_kv_name(&hash), record.encode())];
    if let Some(jwk) = row
        .public_jwk
        .as_deref()
        .and_then(|j| serde_json::from_str::<PublicJwk>(j).ok())
    {
        pairs.push(pair(
            jwk_kv_name(&row.key_id),
            JwkRecord::of_key(record, jwk).encode(),
        ));
    }
    pairs
}

/// A key's static record: its state as the edge reads it.
pub fn static_record(row: &KeyRow, client_disabled: bool) -> StaticKeyRecord {
    StaticKeyRecord {
        v: RECORD_VERSION,
        client_id: row.client_id.clone(),
        key_id: row.key_id.clone(),
        env: row.env.clone(),
        key_type: row.key_type,
        scopes: row.scopes.clone(),
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        client_disabled,
        rev: row.rev,
    }
}

/// Whether a key expired so long ago that its records may be gone from KV.
pub fn long_expired(row: &KeyRow, now_secs: i64) -> bool {
    row.expires_at
        .is_some_and(|at| at + EXPIRY_GRACE_SECS < now_secs)
}

/// The client-wide record: token revocation time, and whether it is disabled (deleted).
pub fn client_pair(client: &Client) -> KvPair {
    KvPair {
        key: client_kv_name(&client.client_id),
        value: ClientRecord {
            v: RECORD_VERSION,
            client_id: client.client_id.clone(),
            revoked_before: client.revoked_before,
            disabled: client.deleted_at.is_some() || client.disabled_at.is_some(),
            rev: client.rev,
        }
        .encode(),
        expiration: None,
        metadata: RecordMeta { rev: client.rev },
    }
}

/// The records the edge reads for a key, decoded from exactly the values
/// the publisher sends for `row` and its live client (`None`: no such live
/// client, published as disabled): none for a key that is never published.
/// The control plane decides on these, so it answers as the edge would once
/// the state is published. A value that does not decode is an error (the
/// caller fails closed, as the edge does).
pub fn edge_records(
    row: &KeyRow,
    client: Option<&Client>,
    now_secs: i64,
) -> Result<Records, shared::Error> {
    // As the publisher computes it: a key of a client it cannot read is disabled.
    let client_disabled = client.is_none_or(|c| c.disabled_at.is_some());
    let mut records = Records {
        client: client
            .map(|c| ClientRecord::decode(&client_pair(c).value))
            .transpose()?,
        ..Records::default()
    };
    let static_name = KeyHash::from_hex(&row.key_hash).map(|h| static_key_kv_name(&h));
    let jwk_name = jwk_kv_name(&row.key_id);
    for pair in key_pairs(row, client_disabled, now_secs) {
        if Some(&pair.key) == static_name.as_ref() {
            records.static_key = Some(StaticKeyRecord::decode(&pair.value)?);
        } else if pair.key == jwk_name {
            records.signing_key = Some(JwkRecord::decode(&pair.value)?);
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use shared::key::KeyType;

    use super::*;
    use crate::store;

    fn row(client_id: &str, scopes: &[&str]) -> KeyRow {
        KeyRow {
            key_id: "k".to_owned(),
            client_id: client_id.to_owned(),
            env: "live".to_owned(),
            key_type: KeyType::Secret,
            name: None,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            key_hash: KeyHash::of("x").to_string(),
            expires_at: Some(1_000),
            created_at: 0,
            revoked_at: None,
            rev: 2,
            published_rev: 0,
            public_jwk: Some(
                serde_json::to_string(&PublicJwk::from_public_key(&[9; 32], "k")).unwrap(),
            ),
        }
    }

    #[test]
    fn records_carry_state_and_admin_keys_stay_private() {
        // Expires at 1_000: KV may drop the record a day later...
        let pairs = key_pairs(&row("cl_1", &[]), false, 5_000);
        assert_eq!(pairs.len(), 2, "static record and JWK record");
        let jwk = JwkRecord::decode(&pairs[1].value).unwrap();
        assert_eq!(
            (pairs[1].key.as_str(), jwk.client_id.as_str(), jwk.rev),
            ("jwk:k", "cl_1", 2)
        );
        let pair = &pairs[0];
        assert_eq!(pair.key, static_key_kv_name(&KeyHash::of("x")));
        let record = StaticKeyRecord::decode(&pair.value).unwrap();
        assert_eq!((record.rev, record.expires_at), (2, Some(1_000)));
        assert_eq!(pair.expiration, Some(87_400));
        // ...but never sooner than KV accepts, even when published long after.
        let late = &key_pairs(&row("cl_1", &[]), false, 200_000)[0];
        assert_eq!(late.expiration, Some(200_120));
        let disabled = key_pairs(&row("cl_1", &[]), true, 5_000);
        assert!(
            StaticKeyRecord::decode(&disabled[0].value)
                .unwrap()
                .client_disabled
        );
        assert!(
            JwkRecord::decode(&disabled[1].value)
                .unwrap()
                .client_disabled
        );
        assert!(key_pairs(&row(store::ADMIN_CLIENT_ID, &["admin"]), false, 0).is_empty());
        let mut publishable = row("cl_1", &[]);
        publishable.public_jwk = None;
        assert_eq!(key_pairs(&publishable, false, 0).len(), 1);
    }
}

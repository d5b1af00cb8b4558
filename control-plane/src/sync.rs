//! Re-sync: make the KV namespace equal what the database says, whatever
//! happened to it (a lost write, a manual edit, a restored backup).
//!
//! Every record is written with its revision as KV metadata, so one paginated
//! listing of the namespace is compared with the database without reading
//! any value: missing records and records at another revision are written,
//! keygate records that should not exist are deleted. Keys expired more than
//! a day ago are left to KV's own expiry (neither written nor deleted).
//! [`diff`] is the pure comparison; [`resync`] reads, compares and repairs.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::{
    db::Db,
    kv::{Kv, KvPair, ListedKey},
    records::{client_pair, key_pairs, long_expired},
    store::{self, Client, KeyRow},
};

/// KV key prefixes keygate owns; anything else in the namespace is not ours to touch.
const OWNED_PREFIXES: [&str; 3] = ["sk:", "jwk:", "client:"];

/// What a re-sync found (and, unless a dry run, fixed). Names are KV keys:
/// hashes and ids, never secrets.
#[derive(Debug, Default, Serialize)]
pub struct SyncReport {
    /// In the database, absent from KV.
    pub missing: Vec<String>,
    /// In both, at another revision.
    pub stale: Vec<String>,
    /// In KV under a keygate prefix, absent from the database.
    pub extra: Vec<String>,
    /// Whether the differences were written (false for a dry run).
    pub applied: bool,
}

/// The differences between the database (`clients`, `keys`) and a listing
/// of the namespace, and the records to write to repair them.
pub fn diff(
    clients: &[Client],
    keys: &[KeyRow],
    listed: &[ListedKey],
    now_secs: i64,
) -> (SyncReport, Vec<KvPair>) {
    // A key whose client cannot be read is published as disabled.
    let enabled: BTreeSet<&str> = clients
        .iter()
        .filter(|c| c.disabled_at.is_none())
        .map(|c| c.client_id.as_str())
        .collect();
    let mut expected: BTreeMap<String, KvPair> = BTreeMap::new();
    let mut left_to_expire: BTreeSet<String> = BTreeSet::new();
    for row in keys {
        let pairs = key_pairs(row, !enabled.contains(row.client_id.as_str()), now_secs);
        for pair in pairs {
            if long_expired(row, now_secs) {
                left_to_expire.insert(pair.key);
            } else {
                expected.insert(pair.key.clone(), pair);
            }
        }
    }
    for client in clients {
        let pair = client_pair(client);
        expected.insert(pair.key.clone(), pair);
    }

    let mut report = SyncReport::default();
    let mut present: BTreeSet<&str> = BTreeSet::new();
    for item in listed {
        present.insert(item.name.as_str());
        match expected.get(&item.name) {
            Some(pair) if item.metadata != Some(pair.metadata) => {
                report.stale.push(item.name.clone());
            }
            Some(_) => {}
            None if OWNED_PREFIXES.iter().any(|p| item.name.starts_with(p))
                && !left_to_expire.contains(&item.name) =>
            {
                report.extra.push(item.name.clone());
            }
            None => {}
        }
    }
    report.missing = expected
        .keys()
        .filter(|name| !present.contains(name.as_str()))
        .cloned()
        .collect();
    let writes = report
        .missing
        .iter()
        .chain(&report.stale)
        .filter_map(|name| expected.get(name).cloned())
        .collect();
    (report, writes)
}

/// Compares the namespace with the database as of `now_secs` and, unless
/// `dry_run`, repairs it.
pub async fn resync(
    db: &Db,
    kv: &dyn Kv,
    dry_run: bool,
    now_secs: i64,
) -> anyhow::Result<SyncReport> {
    let clients = store::all_clients(&db.pool).await?;
    let keys = store::all_published_keys(&db.pool).await?;
    let listed = kv.list_all().await?;
    let (mut report, writes) = diff(&clients, &keys, &listed, now_secs);
    if !dry_run {
        kv.bulk_put(&writes).await?;
        kv.bulk_delete(&report.extra).await?;
        report.applied = true;
    }
    tracing::info!(
        missing = report.missing.len(),
        stale = report.stale.len(),
        extra = report.extra.len(),
        dry_run,
        "KV re-sync"
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use shared::key::{KeyHash, KeyType};

    use super::*;
    use crate::kv::RecordMeta;

    fn client(id: &str, rev: i64) -> Client {
        Client {
            client_id: id.to_owned(),
            name: "c".to_owned(),
            owner_id: None,
            metadata: "{}".to_owned(),
            created_at: 0,
            deleted_at: None,
            revoked_before: None,
            rev,
            disabled_at: None,
        }
    }

    fn key(id: &str, expires_at: Option<i64>) -> KeyRow {
        KeyRow {
            key_id: id.to_owned(),
            client_id: "cl_a".to_owned(),
            env: "live".to_owned(),
            key_type: KeyType::Publishable,
            name: None,
            scopes: Vec::new(),
            key_hash: KeyHash::of(id).to_string(),
            expires_at,
            created_at: 0,
            revoked_at: None,
            rev: 3,
            published_rev: 3,
            public_jwk: None,
        }
    }

    fn listed(name: &str, rev: i64) -> ListedKey {
        ListedKey {
            name: name.to_owned(),
            metadata: Some(RecordMeta { rev }),
        }
    }

    #[test]
    fn diff_finds_missing_stale_and_extra_and_leaves_the_rest() {
        let now = 10 * 86_400;
        let fresh = key("fresh", None);
        let old = key("old", Some(now - 2 * 86_400));
        let fresh_name = static_name(&fresh);
        let listing = [
            listed(&fresh_name, 2),        // stale: rev 2, database says 3
            listed("sk:gone", 1),          // extra: ours, not in the database
            listed(&static_name(&old), 1), // long expired: left to KV
            listed("someone-else:x", 1),   // not ours: left alone
        ];
        let (report, writes) = diff(&[client("cl_a", 1)], &[fresh, old], &listing, now);
        assert_eq!(report.stale, [fresh_name.as_str()]);
        assert_eq!(report.extra, ["sk:gone"]);
        assert_eq!(report.missing, ["client:cl_a"]);
        let written: Vec<&str> = writes.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(written, ["client:cl_a", fresh_name.as_str()]);
        assert!(!report.applied);
    }

    fn static_name(row: &KeyRow) -> String {
        key_pairs(row, false, 0)[0].key.clone()
    }
}

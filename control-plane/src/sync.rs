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
    clock,
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

/// Compares the namespace with the database and, unless `dry_run`, repairs it.
pub async fn resync(db: &Db, kv: &dyn Kv, dry_run: bool) -> anyhow::Result<SyncReport> {
    let clients = store::all_clients(&db.pool).await?;
    let keys = store::all_published_keys(&db.pool).await?;
    let listed = kv.list_all().await?;
    let (mut report, writes) = diff(&clients, &keys, &listed, clock::now_secs());
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

//! Commands that work on the database directly: the first admin key (there
//! is no API to ask before one exists), verify keys, and the backfill of
//! missing keys.

use anyhow::Context as _;
use shared::key::KeyType;

use crate::{
    clock,
    config::{DbArgs, KeyPolicy},
    db, mint, store,
};

pub(super) async fn create_admin_key(
    db: &DbArgs,
    out: &std::path::Path,
    name: Option<String>,
    scope: &str,
    json: bool,
) -> anyhow::Result<()> {
    // Exactly one reserved scope: the key opens the API or the verifier.
    let scope = match scope {
        shared::scope::ADMIN => shared::scope::ADMIN,
        shared::scope::VERIFY => shared::scope::VERIFY,
        other => anyhow::bail!("unknown admin-key scope {other:?} (admin or verify)"),
    };
    let db = db::connect(&db.database_url).await?;
    let now_ms = clock::now_ms();
    store::ensure_admin_client(&db.pool, now_ms / 1000).await?;
    let key = mint::new_key(KeyType::Secret, "live", store::ADMIN_CLIENT_ID)?;
    let row = store::insert_key(
        &db.pool,
        &store::NewKey {
            key_id: key.key_id().to_owned(),
            client_id: store::ADMIN_CLIENT_ID.to_owned(),
            env: "live".to_owned(),
            key_type: KeyType::Secret.as_str().to_owned(),
            name,
            scopes: vec![scope.to_owned()],
            key_hash: key.hash().to_string(),
            expires_at: None,
            // Admin and verify keys open this API, not the edge: no signing key published.
            public_jwk: None,
        },
        "cli",
        now_ms,
    )
    .await?
    .context("the admin client could not be created")?;
    if out.as_os_str() == "-" {
        if json {
            println!(
                "{}",
                serde_json::json!({ "id": row.key_id, "key": key.expose() })
            );
        } else {
            println!("{}", key.expose());
        }
        return Ok(());
    }
    write_secret_file(out, key.expose())?;
    if json {
        println!("{}", serde_json::json!({ "id": row.key_id, "file": out }));
    } else {
        println!("{scope} key {} written to {}", row.key_id, out.display());
    }
    Ok(())
}

/// Writes a secret to a file readable only by its owner.
fn write_secret_file(path: &std::path::Path, secret: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    writeln!(file, "{secret}")?;
    Ok(())
}

pub(super) async fn backfill(db: &DbArgs, policy: &KeyPolicy, json: bool) -> anyhow::Result<()> {
    let db = db::connect(&db.database_url).await?;
    let issued = crate::backfill::run(&db, policy, "cli:backfill", clock::Clock::system()).await?;
    for item in &issued {
        let key = &item.key;
        if json {
            let line = serde_json::json!({
                "client_id": item.client_id, "env": item.env, "type": key.key_type().as_str(),
                "id": key.key_id(), "key": key.expose(),
            });
            println!("{line}");
        } else {
            println!(
                "{}  {}  {}  {}",
                item.client_id,
                item.env,
                key.key_type().as_str(),
                key.expose()
            );
        }
    }
    eprintln!(
        "backfill: {} keys issued (a running control plane publishes them)",
        issued.len()
    );
    Ok(())
}

//! Commands that call the HTTP API with an admin key: clients, keys,
//! publishing.

use anyhow::bail;
use shared::key::KeyType;

use super::{
    api_client::Api,
    args::{ApiArgs, ClientCommand, KeyCommand, PageArgs, PublishCommand},
    local, offline,
    table::{cell, print_list, print_object},
};
use crate::{config::parse_duration_secs, kv::encode_path_segment};

pub(super) async fn client_command(command: ClientCommand, json: bool) -> anyhow::Result<()> {
    const COLUMNS: &[&str] = &["id", "name", "owner_id", "created_at"];
    match command {
        ClientCommand::Create { name, owner, api } => {
            let client = Api::new(&api)?
                .send(
                    reqwest::Method::POST,
                    "/v1/clients",
                    Some(serde_json::json!({ "name": name, "owner_id": owner })),
                )
                .await?;
            print_object(&client, json, COLUMNS);
        }
        ClientCommand::List { owner, page, api } => {
            let path = list_path("/v1/clients", &page, &[("owner_id", owner)]);
            let page = Api::new(&api)?.get(&path).await?;
            print_list(&page, json, COLUMNS);
        }
        ClientCommand::Disable { id, api } => set_disabled(&id, &api, true, json).await?,
        ClientCommand::Enable { id, api } => set_disabled(&id, &api, false, json).await?,
        ClientCommand::RevokeTokens { id, api } => {
            let client = Api::new(&api)?
                .send(
                    reqwest::Method::POST,
                    &format!("/v1/clients/{}/revoke-tokens", encode_path_segment(&id)),
                    None,
                )
                .await?;
            print_object(&client, json, &["id", "name", "revoked_before"]);
        }
        ClientCommand::Get { id, api } => {
            let client = Api::new(&api)?
                .get(&format!("/v1/clients/{}", encode_path_segment(&id)))
                .await?;
            print_object(&client, json, COLUMNS);
        }
        ClientCommand::Delete { id, api } => {
            Api::new(&api)?
                .send(
                    reqwest::Method::DELETE,
                    &format!("/v1/clients/{}", encode_path_segment(&id)),
                    None,
                )
                .await?;
            if json {
                println!("{}", serde_json::json!({ "id": id, "deleted": true }));
            } else {
                println!("client {id} deleted; its keys are revoked");
            }
        }
    }
    Ok(())
}

async fn set_disabled(id: &str, api: &ApiArgs, disabled: bool, json: bool) -> anyhow::Result<()> {
    let client = Api::new(api)?
        .send(
            reqwest::Method::PATCH,
            &format!("/v1/clients/{}", encode_path_segment(id)),
            Some(serde_json::json!({ "disabled": disabled })),
        )
        .await?;
    print_object(&client, json, &["id", "name", "disabled"]);
    Ok(())
}

pub(super) async fn key_command(command: KeyCommand, json: bool) -> anyhow::Result<()> {
    const COLUMNS: &[&str] = &[
        "id",
        "env",
        "type",
        "status",
        "name",
        "scopes",
        "expires_at",
        "published",
    ];
    match command {
        KeyCommand::Create {
            client,
            env,
            key_type,
            name,
            scopes,
            expires_in,
            api,
        } => {
            // Validate locally too, so a typo fails before any network call.
            if KeyType::from_name(&key_type).is_none() {
                bail!("--type must be secret or publishable");
            }
            for s in &scopes {
                shared::scope::Scope::parse(s).map_err(anyhow::Error::msg)?;
            }
            let expires_in = expires_in
                .map(|d| parse_duration_secs(&d))
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let body = serde_json::json!({
                "env": env, "type": key_type, "name": name, "scopes": scopes, "expires_in": expires_in,
            });
            let created = Api::new(&api)?
                .send(
                    reqwest::Method::POST,
                    &format!("/v1/clients/{}/keys", encode_path_segment(&client)),
                    Some(body),
                )
                .await?;
            if json {
                println!("{created}");
            } else {
                println!("{}", created["key"].as_str().unwrap_or_default());
                eprintln!(
                    "key {} ({} {}) created. Copy it now: it is not stored and will not be shown again.",
                    created["id"].as_str().unwrap_or_default(),
                    created["env"].as_str().unwrap_or_default(),
                    created["type"].as_str().unwrap_or_default(),
                );
            }
        }
        KeyCommand::Inspect { key } => offline::inspect_key(&key, json)?,
        KeyCommand::Regenerate { client, env, api } => {
            let result = Api::new(&api)?
                .send(
                    reqwest::Method::POST,
                    &format!(
                        "/v1/clients/{}/keys/regenerate",
                        encode_path_segment(&client)
                    ),
                    Some(serde_json::json!({ "env": env })),
                )
                .await?;
            if json {
                println!("{result}");
            } else {
                for key in result["keys"].as_array().into_iter().flatten() {
                    println!(
                        "{}  {}",
                        key["type"].as_str().unwrap_or_default(),
                        key["key"].as_str().unwrap_or_default()
                    );
                }
                eprintln!(
                    "revoked: {}. Copy the new keys now: they are not stored and will not be shown again.",
                    cell(&result["revoked"])
                );
            }
        }
        KeyCommand::Backfill { db, policy } => local::backfill(&db, &policy, json).await?,
        KeyCommand::Jwk { private, key } => offline::print_jwk(&key, private)?,
        KeyCommand::List {
            client,
            env,
            page,
            api,
        } => {
            let base = format!("/v1/clients/{}/keys", encode_path_segment(&client));
            let path = list_path(&base, &page, &[("env", env)]);
            let page = Api::new(&api)?.get(&path).await?;
            print_list(&page, json, COLUMNS);
        }
        KeyCommand::Get { id, api } => {
            let key = Api::new(&api)?
                .get(&format!("/v1/keys/{}", encode_path_segment(&id)))
                .await?;
            print_object(&key, json, COLUMNS);
        }
        KeyCommand::Revoke { id, api } => {
            let key = Api::new(&api)?
                .send(
                    reqwest::Method::POST,
                    &format!("/v1/keys/{}/revoke", encode_path_segment(&id)),
                    None,
                )
                .await?;
            print_object(&key, json, COLUMNS);
        }
    }
    Ok(())
}

pub(super) async fn publish_command(command: PublishCommand, json: bool) -> anyhow::Result<()> {
    match command {
        PublishCommand::Sync { dry_run, api } => {
            let report = Api::new(&api)?
                .send(
                    reqwest::Method::POST,
                    &format!("/v1/publish/sync?dry_run={dry_run}"),
                    None,
                )
                .await?;
            if json {
                println!("{report}");
            } else {
                for (what, label) in [
                    ("missing", "write (missing)"),
                    ("stale", "write (stale)"),
                    ("extra", "delete (extra)"),
                ] {
                    for name in report[what].as_array().into_iter().flatten() {
                        println!("{label:<15} {}", name.as_str().unwrap_or_default());
                    }
                }
                eprintln!(
                    "{} missing, {} stale, {} extra; {}",
                    report["missing"].as_array().map_or(0, Vec::len),
                    report["stale"].as_array().map_or(0, Vec::len),
                    report["extra"].as_array().map_or(0, Vec::len),
                    if report["applied"] == true {
                        "repaired"
                    } else {
                        "dry run: nothing changed"
                    }
                );
            }
            Ok(())
        }
        PublishCommand::Status { api } => {
            let status = Api::new(&api)?.get("/v1/publish/status").await?;
            print_object(
                &status,
                json,
                &[
                    "pending",
                    "oldest_pending_ms",
                    "last_success_ms",
                    "last_error",
                ],
            );
            Ok(())
        }
    }
}

/// `base?limit=…` with the cursor and the filters that are set.
fn list_path(base: &str, page: &PageArgs, filters: &[(&str, Option<String>)]) -> String {
    let mut path = format!("{base}?limit={}", page.limit);
    let cursor = [("cursor", page.cursor.as_ref())];
    let filters = filters.iter().map(|(name, value)| (*name, value.as_ref()));
    for (name, value) in filters.chain(cursor) {
        if let Some(value) = value {
            path.push_str(&format!("&{name}={}", encode_path_segment(value)));
        }
    }
    path
}

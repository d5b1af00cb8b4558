//! The `keygate` command line. `serve`, `migrate` and `admin-key create` work
//! on the database directly; every other command calls the HTTP API with an
//! admin key (`KEYGATE_URL`, `KEYGATE_ADMIN_KEY` or `.keygate/admin-key`).
//!
//! Data goes to stdout (tables, or JSON with `--json`); errors go to stderr
//! with exit code 1 (2 for usage errors, from clap).

use std::{path::PathBuf, process::ExitCode};

use anyhow::{bail, Context as _};
use clap::{Parser, Subcommand};
use serde_json::Value;
use shared::{
    jwk::PublicJwk,
    jwt,
    key::{AccessKey, KeyType},
    signing::SigningKeyPair,
};

use crate::{
    clock,
    config::{parse_duration_secs, DbArgs, KeyPolicy, ServeConfig},
    db, mint, store,
};

/// keygate: API keys and access keys, verified at the edge.
#[derive(Debug, Parser)]
#[command(name = "keygate", version)]
pub struct Cli {
    /// Print machine-readable JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the control-plane API and the KV publisher.
    Serve(Box<ServeConfig>),
    /// Apply database migrations and exit.
    Migrate(DbArgs),
    /// Admin keys (keys with the `admin` scope, for this API).
    #[command(subcommand)]
    AdminKey(AdminKeyCommand),
    /// Clients: the holders of keys.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Keys of a client.
    #[command(subcommand)]
    Key(KeyCommand),
    /// The KV publisher.
    #[command(subcommand)]
    Publish(PublishCommand),
    /// Signed access tokens (EdDSA JWTs), offline.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Sign a short-lived JWT with an access key's Ed25519 key.
    Mint {
        /// The access key (`-` reads it from stdin, keeping it out of the process list).
        #[arg(long, env = "KEYGATE_ACCESS_KEY", hide_env_values = true)]
        key: String,
        /// The audience: the edge's public URL.
        #[arg(long)]
        aud: String,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 300)]
        ttl: i64,
        /// The key's client id (`iss` and `sub`); asked of the control plane
        /// (with the key itself) when not given.
        #[arg(long, env = "KEYGATE_CLIENT_ID")]
        client: Option<String>,
        /// Control-plane URL, for the client-id lookup.
        #[arg(long, env = "KEYGATE_URL", default_value = "http://127.0.0.1:7070")]
        url: String,
    },
    /// Verify a JWT offline against a JWK or JWKS, with the edge's rules.
    Verify {
        /// File holding a JWK or a JWKS (`{"keys":[...]}`); `-` for stdin.
        #[arg(long)]
        jwk: String,
        /// Required audience.
        #[arg(long)]
        aud: Option<String>,
        /// Required client id: `iss` and `sub` must both equal it.
        #[arg(long)]
        iss: Option<String>,
        /// Largest accepted lifetime (`exp - iat`), seconds.
        #[arg(long, default_value_t = 3600)]
        max_lifetime: i64,
        /// Allowed clock skew, seconds.
        #[arg(long, default_value_t = 60)]
        skew: i64,
        /// The token.
        token: String,
    },
}

#[derive(Debug, Subcommand)]
enum AdminKeyCommand {
    /// Create an admin key directly in the database and write it to a file.
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// File to write the key to (mode 0600); `-` prints it instead.
        #[arg(long, default_value = ".keygate/admin-key")]
        out: PathBuf,
        /// A label for the key.
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Debug, clap::Args)]
struct ApiArgs {
    /// Control-plane URL.
    #[arg(
        long,
        env = "KEYGATE_URL",
        default_value = "http://127.0.0.1:7070",
        global = true
    )]
    url: String,
    /// Admin key (default: the contents of .keygate/admin-key).
    #[arg(long, env = "KEYGATE_ADMIN_KEY", hide_env_values = true, global = true)]
    admin_key: Option<String>,
}

#[derive(Debug, Subcommand)]
enum ClientCommand {
    /// Create a client.
    Create {
        /// Display name.
        #[arg(long)]
        name: String,
        /// Your id for the owner (user, organisation).
        #[arg(long)]
        owner: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// List clients.
    List {
        /// Only clients of this owner.
        #[arg(long)]
        owner: Option<String>,
        /// Page size.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Continue after this cursor (from a previous page).
        #[arg(long)]
        cursor: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Show one client.
    Get {
        /// Client id.
        id: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Disable a client: its keys and tokens are refused until it is enabled.
    Disable {
        /// Client id.
        id: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Enable a disabled client again.
    Enable {
        /// Client id.
        id: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Refuse every JWT the client's keys signed until now (keys stay valid).
    RevokeTokens {
        /// Client id.
        id: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Delete a client and revoke all its keys.
    Delete {
        /// Client id.
        id: String,
        #[command(flatten)]
        api: ApiArgs,
    },
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Create a key; prints it once.
    Create {
        /// Client id.
        #[arg(long)]
        client: String,
        /// Environment.
        #[arg(long, default_value = "live")]
        env: String,
        /// secret or publishable.
        #[arg(long = "type", default_value = "secret")]
        key_type: String,
        /// A label.
        #[arg(long)]
        name: Option<String>,
        /// `METHODS:/path-prefix`, repeatable (e.g. `GET,HEAD:/v1/reports`).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Lifetime, e.g. `3600`, `12h`, `30d`.
        #[arg(long)]
        expires_in: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// List a client's keys (never their secrets).
    List {
        /// Client id.
        #[arg(long)]
        client: String,
        /// Only this environment.
        #[arg(long)]
        env: Option<String>,
        /// Page size.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Continue after this cursor (from a previous page).
        #[arg(long)]
        cursor: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Show one key.
    Get {
        /// Key id.
        id: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Revoke a key.
    Revoke {
        /// Key id.
        id: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Revoke every key of a client's environment and issue one new key per type (shown once).
    Regenerate {
        /// Client id.
        #[arg(long)]
        client: String,
        /// Environment.
        #[arg(long)]
        env: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Issue keys (one per configured environment and type) to every client
    /// that has none in that environment; idempotent. Works on the database
    /// directly, like ServiceStack's start-up script; prints each new key once.
    Backfill {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        policy: KeyPolicy,
    },
    /// Check a key's format and checksum offline; print its id, type and environment.
    Inspect {
        /// The key (`-` reads it from stdin).
        key: String,
    },
    /// Print an access key's public JWK (or, with --private, its private JWK).
    Jwk {
        /// Print the private JWK (for signing with any JOSE library). Keep it secret.
        #[arg(long)]
        private: bool,
        /// The access key (`-` reads it from stdin).
        key: String,
    },
}

#[derive(Debug, Subcommand)]
enum PublishCommand {
    /// Pending outbox entries and the last publish outcome.
    Status {
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Compare the KV namespace with the database and repair it.
    Sync {
        /// Only print the differences.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        api: ApiArgs,
    },
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let json = cli.json;
    match cli.command {
        Command::Serve(config) => crate::serve::run(*config).await,
        Command::Migrate(args) => {
            db::connect(&args.database_url).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::AdminKey(AdminKeyCommand::Create { db, out, name }) => {
            create_admin_key(&db, &out, name, json).await
        }
        Command::Client(command) => client_command(command, json).await,
        Command::Key(command) => key_command(command, json).await,
        Command::Token(command) => token_command(command).await,
        Command::Publish(PublishCommand::Sync { dry_run, api }) => {
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
        Command::Publish(PublishCommand::Status { api }) => {
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

async fn create_admin_key(
    db: &DbArgs,
    out: &std::path::Path,
    name: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let db = db::connect(&db.database_url).await?;
    let now_ms = clock::now_ms();
    store::ensure_admin_client(&db.pool, now_ms / 1000).await?;
    let key = mint::new_key(KeyType::Secret, "live")?;
    let row = store::insert_key(
        &db.pool,
        &store::NewKey {
            key_id: key.key_id().to_owned(),
            client_id: store::ADMIN_CLIENT_ID.to_owned(),
            env: "live".to_owned(),
            key_type: KeyType::Secret.as_str().to_owned(),
            name,
            scopes: vec![shared::scope::ADMIN.to_owned()],
            key_hash: key.hash().to_string(),
            expires_at: None,
            // Admin keys open this API, not the edge: no signing key published.
            public_jwk: None,
        },
        "cli",
        now_ms,
    )
    .await?;
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
        println!("admin key {} written to {}", row.key_id, out.display());
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

async fn client_command(command: ClientCommand, json: bool) -> anyhow::Result<()> {
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
        ClientCommand::List {
            owner,
            limit,
            cursor,
            api,
        } => {
            let mut path = format!("/v1/clients?limit={limit}");
            if let Some(owner) = owner {
                path.push_str(&format!("&owner_id={}", urlencode(&owner)));
            }
            if let Some(cursor) = cursor {
                path.push_str(&format!("&cursor={}", urlencode(&cursor)));
            }
            let page = Api::new(&api)?.get(&path).await?;
            print_list(&page, json, COLUMNS);
        }
        ClientCommand::Disable { id, api } => set_disabled(&id, &api, true, json).await?,
        ClientCommand::Enable { id, api } => set_disabled(&id, &api, false, json).await?,
        ClientCommand::RevokeTokens { id, api } => {
            let client = Api::new(&api)?
                .send(
                    reqwest::Method::POST,
                    &format!("/v1/clients/{}/revoke-tokens", urlencode(&id)),
                    None,
                )
                .await?;
            print_object(&client, json, &["id", "name", "revoked_before"]);
        }
        ClientCommand::Get { id, api } => {
            let client = Api::new(&api)?
                .get(&format!("/v1/clients/{}", urlencode(&id)))
                .await?;
            print_object(&client, json, COLUMNS);
        }
        ClientCommand::Delete { id, api } => {
            Api::new(&api)?
                .send(
                    reqwest::Method::DELETE,
                    &format!("/v1/clients/{}", urlencode(&id)),
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
            &format!("/v1/clients/{}", urlencode(id)),
            Some(serde_json::json!({ "disabled": disabled })),
        )
        .await?;
    print_object(&client, json, &["id", "name", "disabled"]);
    Ok(())
}

async fn key_command(command: KeyCommand, json: bool) -> anyhow::Result<()> {
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
                    &format!("/v1/clients/{}/keys", urlencode(&client)),
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
        KeyCommand::Inspect { key } => inspect_key(&key, json)?,
        KeyCommand::Regenerate { client, env, api } => {
            let result = Api::new(&api)?
                .send(
                    reqwest::Method::POST,
                    &format!("/v1/clients/{}/keys/regenerate", urlencode(&client)),
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
        KeyCommand::Backfill { db, policy } => backfill(&db, &policy, json).await?,
        KeyCommand::Jwk { private, key } => print_jwk(&key, private)?,
        KeyCommand::List {
            client,
            env,
            limit,
            cursor,
            api,
        } => {
            let mut path = format!("/v1/clients/{}/keys?limit={limit}", urlencode(&client));
            if let Some(env) = env {
                path.push_str(&format!("&env={}", urlencode(&env)));
            }
            if let Some(cursor) = cursor {
                path.push_str(&format!("&cursor={}", urlencode(&cursor)));
            }
            let page = Api::new(&api)?.get(&path).await?;
            print_list(&page, json, COLUMNS);
        }
        KeyCommand::Get { id, api } => {
            let key = Api::new(&api)?
                .get(&format!("/v1/keys/{}", urlencode(&id)))
                .await?;
            print_object(&key, json, COLUMNS);
        }
        KeyCommand::Revoke { id, api } => {
            let key = Api::new(&api)?
                .send(
                    reqwest::Method::POST,
                    &format!("/v1/keys/{}/revoke", urlencode(&id)),
                    None,
                )
                .await?;
            print_object(&key, json, COLUMNS);
        }
    }
    Ok(())
}

async fn backfill(db: &DbArgs, policy: &KeyPolicy, json: bool) -> anyhow::Result<()> {
    let db = db::connect(&db.database_url).await?;
    let issued = crate::backfill::run(&db, policy, "cli:backfill").await?;
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

/// A secret from an argument, or from stdin when the argument is `-` (so it
/// stays out of shell history and the process list).
fn secret_arg(value: &str) -> anyhow::Result<String> {
    if value != "-" {
        return Ok(value.trim().to_owned());
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the key from stdin")?;
    Ok(line.trim().to_owned())
}

fn parse_key(value: &str) -> anyhow::Result<AccessKey> {
    AccessKey::parse(&secret_arg(value)?).map_err(|e| anyhow::anyhow!("invalid key: {e}"))
}

fn inspect_key(value: &str, json: bool) -> anyhow::Result<()> {
    let key = parse_key(value)?;
    let view = serde_json::json!({
        "id": key.key_id(), "type": key.key_type().as_str(), "env": key.environment(), "checksum": "ok",
    });
    print_object(&view, json, &["id", "type", "env", "checksum"]);
    Ok(())
}

fn print_jwk(value: &str, private: bool) -> anyhow::Result<()> {
    let pair = SigningKeyPair::derive(&parse_key(value)?).map_err(|e| anyhow::anyhow!("{e}"))?;
    if private {
        println!("{}", pair.private_jwk_json());
    } else {
        println!("{}", serde_json::to_string(&pair.public_jwk())?);
    }
    Ok(())
}

async fn token_command(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Mint {
            key,
            aud,
            ttl,
            client,
            url,
        } => {
            if !(1..=86_400).contains(&ttl) {
                bail!("--ttl must be between 1 and 86400 seconds (the edge caps lifetimes at its maximum, 1 hour by default)");
            }
            let key = parse_key(&key)?;
            let pair = SigningKeyPair::derive(&key).map_err(|e| anyhow::anyhow!("{e}"))?;
            let client_id = match client {
                Some(client) => client,
                None => whoami(&url, &key).await?,
            };
            let jti = shared::base62::encode(&mint::random::<16>());
            let token = jwt::mint(
                &pair,
                &jwt::MintClaims {
                    client_id: &client_id,
                    audience: &aud,
                    issued_at: clock::now_secs(),
                    ttl,
                    jti: &jti,
                },
            );
            println!("{token}");
            Ok(())
        }
        TokenCommand::Verify {
            jwk,
            aud,
            iss,
            max_lifetime,
            skew,
            token,
        } => {
            let text = if jwk == "-" {
                std::io::read_to_string(std::io::stdin())
                    .context("cannot read the JWK from stdin")?
            } else {
                std::fs::read_to_string(&jwk).with_context(|| format!("cannot read {jwk}"))?
            };
            let keys = parse_jwks(&text)?;
            let unverified = jwt::Unverified::parse(token.trim())
                .map_err(|e| anyhow::anyhow!("token refused: {e}"))?;
            let jwk = keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(unverified.kid()))
                .ok_or_else(|| {
                    anyhow::anyhow!("token refused: no key with kid {}", unverified.kid())
                })?;
            let key = jwk.verification_key().map_err(|e| anyhow::anyhow!("{e}"))?;
            let options = jwt::VerifyOptions {
                audience: aud,
                client_id: iss,
                max_lifetime,
                skew,
            };
            let verified = unverified
                .verify(&key, &options, clock::now_secs())
                .map_err(|e| anyhow::anyhow!("token refused: {e}"))?;
            println!("{}", serde_json::to_string(&verified.claims)?);
            Ok(())
        }
    }
}

/// A JWK or a JWKS, each key checked (Ed25519 OKP, canonical, not weak, no `d`).
fn parse_jwks(text: &str) -> anyhow::Result<Vec<PublicJwk>> {
    let value: Value = serde_json::from_str(text).context("the JWK file is not JSON")?;
    let members = match value.get("keys") {
        Some(Value::Array(keys)) => keys.clone(),
        Some(_) => bail!("\"keys\" must be an array"),
        None => vec![value],
    };
    members
        .iter()
        .map(|k| PublicJwk::parse(&k.to_string()).map_err(|e| anyhow::anyhow!("unusable JWK: {e}")))
        .collect()
}

/// Asks the control plane which client a key belongs to, authenticating with
/// the key itself.
async fn whoami(url: &str, key: &AccessKey) -> anyhow::Result<String> {
    let response = reqwest::Client::new()
        .get(format!("{}/v1/apikeys/self", url.trim_end_matches('/')))
        .bearer_auth(key.expose())
        .send()
        .await
        .with_context(|| {
            format!("cannot reach {url} to look up the key's client (or pass --client)")
        })?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    match body["client_id"].as_str() {
        Some(client_id) if status.is_success() => Ok(client_id.to_owned()),
        _ => bail!(
            "the control plane did not confirm the key ({}, HTTP {}); pass --client",
            body["error"]["code"].as_str().unwrap_or("no details"),
            status.as_u16()
        ),
    }
}

/// A minimal API client for the CLI.
struct Api {
    http: reqwest::Client,
    base: String,
    admin_key: String,
}

impl Api {
    fn new(args: &ApiArgs) -> anyhow::Result<Self> {
        let admin_key = match &args.admin_key {
            Some(key) => key.trim().to_owned(),
            None => std::fs::read_to_string(".keygate/admin-key")
                .context("no admin key: set KEYGATE_ADMIN_KEY or run `keygate admin-key create`")?
                .trim()
                .to_owned(),
        };
        Ok(Self {
            http: reqwest::Client::new(),
            base: args.url.trim_end_matches('/').to_owned(),
            admin_key,
        })
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.admin_key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach the control plane at {}", self.base))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let value: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::Null)
        };
        if !status.is_success() {
            let code = value["error"]["code"].as_str().unwrap_or("unknown");
            let message = value["error"]["message"].as_str().unwrap_or("no details");
            bail!("{message} ({code}, HTTP {})", status.as_u16());
        }
        Ok(value)
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

fn print_object(value: &Value, json: bool, columns: &[&str]) {
    if json {
        println!("{value}");
        return;
    }
    let width = columns.iter().map(|c| c.len()).max().unwrap_or(0);
    for column in columns {
        println!("{column:<width$}  {}", cell(&value[*column]));
    }
}

fn print_list(page: &Value, json: bool, columns: &[&str]) {
    if json {
        println!("{page}");
        return;
    }
    let items = page["items"].as_array().cloned().unwrap_or_default();
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| columns.iter().map(|c| cell(&item[*c])).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rows.iter()
                .map(|r| r[i].len())
                .chain([c.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    println!(
        "{}",
        line(columns.iter().map(|c| c.to_uppercase()).collect())
    );
    for row in rows {
        println!("{}", line(row));
    }
    if let Some(cursor) = page["next_cursor"].as_str() {
        eprintln!("more: --cursor {cursor}");
    }
}

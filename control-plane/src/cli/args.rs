//! The command-line tree (clap): every command, flag and environment
//! variable of `keygate`. The doc comments are the `--help` text.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{DbArgs, KeyPolicy, ServeConfig};

/// keygate: API keys and access keys, verified at the edge.
#[derive(Debug, Parser)]
#[command(name = "keygate", version)]
pub struct Cli {
    /// Print machine-readable JSON instead of tables.
    #[arg(long, global = true)]
    pub(super) json: bool,
    #[command(subcommand)]
    pub(super) command: Command,
}

#[derive(Debug, Subcommand)]
pub(super) enum Command {
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
pub(super) enum TokenCommand {
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
        /// The key's client id (`iss` and `sub`). Keys carry it; only a key
        /// issued before they did needs it, and without it the control
        /// plane is asked (with the key itself).
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
pub(super) enum AdminKeyCommand {
    /// Create an admin key (or with `--scope verify` a verify key) directly
    /// in the database and write it to a file.
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// File to write the key to (mode 0600); `-` prints it instead.
        /// Default: `.keygate/admin-key`, or `.keygate/verify-key` for a verify key.
        #[arg(long)]
        out: Option<PathBuf>,
        /// What the key may do: `admin` (the whole API) or `verify` (only
        /// `POST /v1/verify`, for services that check credentials).
        #[arg(long, default_value = "admin", value_parser = ["admin", "verify"])]
        scope: String,
        /// A label for the key.
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Debug, clap::Args)]
pub(super) struct ApiArgs {
    /// Control-plane URL.
    #[arg(
        long,
        env = "KEYGATE_URL",
        default_value = "http://127.0.0.1:7070",
        global = true
    )]
    pub(super) url: String,
    /// Admin key (default: the contents of .keygate/admin-key).
    #[arg(long, env = "KEYGATE_ADMIN_KEY", hide_env_values = true, global = true)]
    pub(super) admin_key: Option<String>,
}

/// Which page of a list.
#[derive(Debug, clap::Args)]
pub(super) struct PageArgs {
    /// Page size.
    #[arg(long, default_value_t = 100)]
    pub(super) limit: u32,
    /// Continue after this cursor (from a previous page).
    #[arg(long)]
    pub(super) cursor: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(super) enum ClientCommand {
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
        #[command(flatten)]
        page: PageArgs,
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
pub(super) enum KeyCommand {
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
        #[command(flatten)]
        page: PageArgs,
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
pub(super) enum PublishCommand {
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

//! The `keygate` command line. `serve`, `migrate`, `admin-key create` and
//! `key backfill` work on the database directly ([`local`]); `key inspect`,
//! `key jwk` and `token` work offline ([`offline`]); every other command calls
//! the HTTP API with an admin key ([`remote`], through [`api_client`]:
//! `KEYGATE_URL`, `KEYGATE_ADMIN_KEY` or `.keygate/admin-key`).
//!
//! Data goes to stdout (tables from [`table`], or JSON with `--json`); errors
//! go to stderr with exit code 1 (2 for usage errors, from clap).

mod api_client;
mod args;
mod local;
mod offline;
mod remote;
mod table;

use std::process::ExitCode;

use clap::Parser as _;

pub use args::Cli;
use args::{AdminKeyCommand, Command};

use crate::db;

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
        Command::AdminKey(AdminKeyCommand::Create {
            db,
            out,
            name,
            scope,
        }) => {
            let out = out.unwrap_or_else(|| format!(".keygate/{scope}-key").into());
            local::create_admin_key(&db, &out, name, &scope, json).await
        }
        Command::Client(command) => remote::client_command(command, json).await,
        Command::Key(command) => remote::key_command(command, json).await,
        Command::Token(command) => offline::token_command(command).await,
        Command::Publish(command) => remote::publish_command(command, json).await,
    }
}

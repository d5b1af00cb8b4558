//! Commands that need no server: a key's format and checksum, its JWK, and
//! signing or verifying tokens with the edge's rules.

use anyhow::{bail, Context as _};
use serde_json::Value;
use shared::{
    jwk::{Jwks, PublicJwk},
    jwt,
    key::AccessKey,
    signing::SigningKeyPair,
};

use super::{api_client::whoami, args::TokenCommand, table::print_object};
use crate::{clock, mint};

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

pub(super) fn inspect_key(value: &str, json: bool) -> anyhow::Result<()> {
    let key = parse_key(value)?;
    let view = serde_json::json!({
        "id": key.key_id(), "client_id": key.client_id(), "type": key.key_type().as_str(),
        "env": key.environment(), "checksum": "ok",
    });
    print_object(&view, json, &["id", "client_id", "type", "env", "checksum"]);
    Ok(())
}

pub(super) fn print_jwk(value: &str, private: bool) -> anyhow::Result<()> {
    let pair = SigningKeyPair::derive(&parse_key(value)?).map_err(|e| anyhow::anyhow!("{e}"))?;
    if private {
        println!("{}", pair.private_jwk_json());
    } else {
        println!("{}", serde_json::to_string(&pair.public_jwk())?);
    }
    Ok(())
}

pub(super) async fn token_command(command: TokenCommand) -> anyhow::Result<()> {
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
            // Keys carry their client id; only a legacy key needs `--client`
            // or a lookup.
            let client_id = match (client, key.client_id()) {
                (Some(given), Some(carried)) if given != carried => {
                    bail!("--client {given} is not the key's client ({carried})")
                }
                (_, Some(carried)) => carried,
                (Some(given), None) => given,
                (None, None) => whoami(&url, &key).await?,
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
            let jwks = parse_jwks(&text)?;
            let unverified = jwt::Unverified::parse(token.trim())
                .map_err(|e| anyhow::anyhow!("token refused: {e}"))?;
            let jwk = jwks
                .keys
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
            println!("{}", serde_json::to_string(verified.claims())?);
            Ok(())
        }
    }
}

/// A JWK or a JWKS, each key checked (Ed25519 OKP, canonical, not weak, no `d`).
fn parse_jwks(text: &str) -> anyhow::Result<Jwks> {
    let value: Value = serde_json::from_str(text).context("the JWK file is not JSON")?;
    let members = match value.get("keys") {
        Some(Value::Array(keys)) => keys.clone(),
        Some(_) => bail!("\"keys\" must be an array"),
        None => vec![value],
    };
    // Each member through the strict parser (serde alone would not check them).
    let keys = members
        .iter()
        .map(|k| PublicJwk::parse(&k.to_string()).map_err(|e| anyhow::anyhow!("unusable JWK: {e}")))
        .collect::<anyhow::Result<_>>()?;
    Ok(Jwks { keys })
}

//! Fresh identifiers and keys from the operating system's CSPRNG.

use shared::{
    key::{AccessKey, KeyType},
    signing::SigningKeyPair,
};

use crate::store::NewKey;

/// `N` bytes from the OS CSPRNG.
pub fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS CSPRNG failing is not something to limp on from.
    getrandom::getrandom(&mut bytes).expect("the operating system's random source failed");
    bytes
}

/// A new access key (secret or publishable) of `client_id` for `env`,
/// default size. The key carries its client id.
pub fn new_key(key_type: KeyType, env: &str, client_id: &str) -> Result<AccessKey, shared::Error> {
    new_key_sized(key_type, env, client_id, key_type.secret_bytes())
}

/// A new access key with a `bytes`-byte secret (one of the type's allowed sizes).
pub fn new_key_sized(
    key_type: KeyType,
    env: &str,
    client_id: &str,
    bytes: usize,
) -> Result<AccessKey, shared::Error> {
    let secret = random::<64>();
    let secret = secret.get(..bytes).ok_or(shared::Error::KeySecret)?;
    // Every id this service mints can be carried; an id from elsewhere that
    // cannot (none exists today) still gets a working key, one without the
    // client segment, whose holder names the client when signing.
    let carried = shared::key::client_segment(client_id).map(|_| client_id);
    AccessKey::from_entropy(key_type, env, carried, random(), secret)
}

/// What a new key should be.
#[derive(Debug, Clone)]
pub struct KeySpec {
    /// Owner.
    pub client_id: String,
    /// Environment.
    pub env: String,
    /// Secret or publishable.
    pub key_type: KeyType,
    /// Label.
    pub name: Option<String>,
    /// Scopes (already validated).
    pub scopes: Vec<String>,
    /// Absolute expiry, Unix seconds.
    pub expires_at: Option<i64>,
    /// Secret size, bytes.
    pub secret_bytes: usize,
}

impl KeySpec {
    /// An unscoped secret key of `client_id` in `env` that does not expire,
    /// with the default secret size.
    pub fn secret(client_id: &str, env: &str) -> Self {
        Self {
            client_id: client_id.to_owned(),
            env: env.to_owned(),
            key_type: KeyType::Secret,
            name: None,
            scopes: Vec::new(),
            expires_at: None,
            secret_bytes: KeyType::Secret.secret_bytes(),
        }
    }
}

/// Mints a key for `spec`: the plaintext (to show once) and the row to store
/// (hash and, for secret keys, the public JWK of its Ed25519 pair; never the
/// key or the private key).
pub fn key_for(spec: KeySpec) -> Result<(AccessKey, NewKey), shared::Error> {
    let key = new_key_sized(spec.key_type, &spec.env, &spec.client_id, spec.secret_bytes)?;
    let public_jwk = SigningKeyPair::derive(&key)
        .ok()
        .map(|pair| serde_json::to_string(&pair.public_jwk()).unwrap_or_default());
    let row = NewKey {
        key_id: key.key_id().to_owned(),
        client_id: spec.client_id,
        env: spec.env,
        key_type: spec.key_type.as_str().to_owned(),
        name: spec.name,
        scopes: spec.scopes,
        key_hash: key.hash().to_string(),
        expires_at: spec.expires_at,
        public_jwk,
    };
    Ok((key, row))
}

/// A new client id: `cl_` and 17 base62 digits (96 random bits).
pub fn new_client_id() -> String {
    format!("cl_{}", shared::base62::encode(&random::<12>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_ids_are_fresh_and_well_formed() {
        let client = new_client_id();
        let a = new_key(KeyType::Secret, "live", &client).unwrap();
        let b = new_key(KeyType::Secret, "live", &client).unwrap();
        assert_eq!(a.client_id(), Some(client.clone()));
        assert_ne!(a.key_id(), b.key_id());
        assert_ne!(a.expose(), b.expose());
        assert_eq!(AccessKey::parse(a.expose()).unwrap(), a);
        let p = new_key(KeyType::Publishable, "test", &client).unwrap();
        assert!(p.expose().starts_with("kg_pk_test_"));
        assert_ne!(new_client_id(), new_client_id());
        assert_eq!(new_client_id().len(), 20);
    }
}

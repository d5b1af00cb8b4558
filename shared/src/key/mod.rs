//! The access-key format: `kg_<type>_<env>_<key id>_<client>_<secret><checksum>`.
//!
//! - `type`: `sk` (secret key) or `pk` (publishable key);
//! - `env`: `[a-z][a-z0-9]{0,15}` (`live`, `test`, or any configured name);
//! - `key id`: 17 base62 digits (96 random bits), public: it names the key in
//!   the API, in logs and as a JWT `kid`;
//! - `client`: the key's client id without its `cl_` prefix (1 to 24 base62
//!   digits; minted client ids have 17), public: it is what a holder's SDK
//!   writes into a token's `iss` and `sub`, so the key alone is enough to
//!   sign (no client id to configure, no call to the control plane);
//! - `secret`: 43 base62 digits (256 bits) for secret keys, 33 (192 bits) for
//!   publishable keys, from the caller's CSPRNG;
//! - `checksum`: 6 base62 digits, CRC-32 (IEEE) of everything before it, so
//!   a mistyped or truncated key is refused without a KV read. It is not a
//!   security control; the hash lookup is.
//!
//! Keys issued before the client segment existed (*legacy* keys,
//! `kg_<type>_<env>_<key id>_<secret><checksum>`) parse too, and
//! [`AccessKey::client_id`] is `None` for them. The two layouts cannot be
//! confused: base62 has no `_`, so a legacy key has four `_`-separated parts
//! after `kg_` and a current one five. Nothing trusts the client segment: the
//! edge binds a token to the client its `kid` record names, and a static key
//! is looked up by the hash of its whole text.
//!
//! Only `[A-Za-z0-9_]` appears, so keys are safe in headers, URLs and shells,
//! and a double-click selects the whole key.

use core::fmt;

use sha2::{Digest, Sha256};

use crate::{base62, hex, Error};

const PREFIX: &str = "kg_";
const KEY_ID_BYTES: usize = 12;
const CHECKSUM_LEN: usize = base62::encoded_len(4);
/// The length of a key id.
pub const KEY_ID_LEN: usize = base62::encoded_len(KEY_ID_BYTES);
/// No key we issue is longer (a 64-byte secret, a 16-letter environment and
/// a 24-digit client segment make 158); anything longer is refused before
/// parsing.
pub const MAX_KEY_LEN: usize = 160;
/// The longest client segment.
pub const MAX_CLIENT_SEGMENT_LEN: usize = 24;
const CLIENT_PREFIX: &str = "cl_";

/// Secret or publishable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyType {
    /// A server-side key: any method, and the seed of an Ed25519 key pair.
    Secret,
    /// Meant for client-side code: static use only, safe methods by default.
    Publishable,
}

impl KeyType {
    /// The default (and minimum) size of the secret, in bytes.
    pub const fn secret_bytes(self) -> usize {
        match self {
            Self::Secret => 32,
            Self::Publishable => 24,
        }
    }

    /// The secret sizes (bytes) keys of this type may have; configurable
    /// per deployment, never below 256 (secret) or 192 (publishable) bits.
    pub const fn allowed_secret_sizes(self) -> &'static [usize] {
        match self {
            Self::Secret => &[32, 48, 64],
            Self::Publishable => &[24, 32, 48],
        }
    }

    /// The two-letter tag inside the key.
    pub const fn tag(self) -> &'static str {
        match self {
            Self::Secret => "sk",
            Self::Publishable => "pk",
        }
    }

    /// The name used in the API, the CLI and KV records.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Secret => "secret",
            Self::Publishable => "publishable",
        }
    }

    /// Parses the API name (`secret`, `publishable`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "secret" => Some(Self::Secret),
            "publishable" => Some(Self::Publishable),
            _ => None,
        }
    }

    fn from_tag(tag: &str) -> Option<Self> {
        match tag {
            "sk" => Some(Self::Secret),
            "pk" => Some(Self::Publishable),
            _ => None,
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `env` is a valid environment name: `[a-z][a-z0-9]{0,15}`.
pub fn is_valid_environment(env: &str) -> bool {
    let bytes = env.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 16
        && bytes[0].is_ascii_lowercase()
        && bytes
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// Whether `id` is a valid key id: exactly 17 base62 digits that decode to 12 bytes.
pub fn is_valid_key_id(id: &str) -> bool {
    base62::decode::<KEY_ID_BYTES>(id).is_some()
}

/// Whether `segment` can be a key's client segment: 1 to 24 base62 digits.
fn is_valid_client_segment(segment: &str) -> bool {
    (1..=MAX_CLIENT_SEGMENT_LEN).contains(&segment.len()) && segment.bytes().all(base62::is_digit)
}

/// The client segment a key of client `client_id` carries, if that id can be
/// carried (`cl_` and 1 to 24 base62 digits).
pub fn client_segment(client_id: &str) -> Option<&str> {
    client_id
        .strip_prefix(CLIENT_PREFIX)
        .filter(|segment| is_valid_client_segment(segment))
}

/// A well-formed access key whose checksum matched.
///
/// Holding one proves only that the text is a key we *could* have issued; it
/// says nothing about whether it exists or is still valid. `Debug` never
/// prints the secret; [`AccessKey::expose`] is the one way to read it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey {
    text: String,
    key_type: KeyType,
    env_len: usize,
    /// Length of the client segment; 0 for a legacy key.
    client_len: usize,
}

impl AccessKey {
    /// Builds a new key from random bytes the caller drew from a CSPRNG.
    ///
    /// `client_id` is the client the key belongs to (`cl_…`), carried in the
    /// key; `None` builds a legacy key without it (only to test that keys
    /// issued before the client segment keep working). `secret` must be one
    /// of `key_type.allowed_secret_sizes()` long.
    pub fn from_entropy(
        key_type: KeyType,
        env: &str,
        client_id: Option<&str>,
        key_id: [u8; KEY_ID_BYTES],
        secret: &[u8],
    ) -> Result<Self, Error> {
        if !is_valid_environment(env) {
            return Err(Error::KeyEnvironment);
        }
        if !key_type.allowed_secret_sizes().contains(&secret.len()) {
            return Err(Error::KeySecret);
        }
        let client = match client_id {
            Some(id) => Some(client_segment(id).ok_or(Error::KeyClient)?),
            None => None,
        };
        let mut text = format!(
            "{PREFIX}{}_{env}_{}_",
            key_type.tag(),
            base62::encode(&key_id)
        );
        if let Some(segment) = client {
            text.push_str(segment);
            text.push('_');
        }
        text.push_str(&base62::encode(secret));
        let checksum = crate::crc32::hash(text.as_bytes()).to_be_bytes();
        text.push_str(&base62::encode(&checksum));
        Ok(Self {
            text,
            key_type,
            env_len: env.len(),
            client_len: client.map_or(0, str::len),
        })
    }

    /// Parses and checks a key offline: format, lengths, alphabet and checksum.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text.len() > MAX_KEY_LEN {
            return Err(Error::KeyTooLong);
        }
        let rest = text.strip_prefix(PREFIX).ok_or(Error::KeyPrefix)?;
        let mut parts = rest.splitn(4, '_');
        let tag = parts.next().ok_or(Error::KeyType)?;
        let key_type = KeyType::from_tag(tag).ok_or(Error::KeyType)?;
        let env = parts.next().ok_or(Error::KeyEnvironment)?;
        if !is_valid_environment(env) {
            return Err(Error::KeyEnvironment);
        }
        let key_id = parts.next().ok_or(Error::KeyId)?;
        if !is_valid_key_id(key_id) {
            return Err(Error::KeyId);
        }
        let rest = parts.next().ok_or(Error::KeySecret)?;
        let (client, body) = match rest.split_once('_') {
            Some((client, body)) if is_valid_client_segment(client) => (client, body),
            Some(_) => return Err(Error::KeyClient),
            None => ("", rest),
        };
        if body.len() <= CHECKSUM_LEN || !body.bytes().all(base62::is_digit) {
            return Err(Error::KeySecret);
        }
        let (secret, checksum) = body.split_at(body.len() - CHECKSUM_LEN);
        // The secret's length says its size; only the allowed sizes exist.
        let size = key_type
            .allowed_secret_sizes()
            .iter()
            .copied()
            .find(|&bytes| base62::encoded_len(bytes) == secret.len())
            .ok_or(Error::KeySecret)?;
        if base62::decode_vec(secret, size).is_none() {
            return Err(Error::KeySecret);
        }
        let signed = &text[..text.len() - CHECKSUM_LEN];
        let expected = crate::crc32::hash(signed.as_bytes()).to_be_bytes();
        if base62::decode::<4>(checksum) != Some(expected) {
            return Err(Error::KeyChecksum);
        }
        Ok(Self {
            text: text.to_owned(),
            key_type,
            env_len: env.len(),
            client_len: client.len(),
        })
    }

    /// Secret or publishable.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The environment the key belongs to.
    pub fn environment(&self) -> &str {
        let start = PREFIX.len() + 3;
        &self.text[start..start + self.env_len]
    }

    /// The public key id.
    pub fn key_id(&self) -> &str {
        let start = PREFIX.len() + 3 + self.env_len + 1;
        &self.text[start..start + KEY_ID_LEN]
    }

    /// The client id the key carries (`cl_…`); `None` for a legacy key.
    pub fn client_id(&self) -> Option<String> {
        (self.client_len > 0).then(|| {
            let start = PREFIX.len() + 3 + self.env_len + 1 + KEY_ID_LEN + 1;
            format!(
                "{CLIENT_PREFIX}{}",
                &self.text[start..start + self.client_len]
            )
        })
    }

    /// Whether the key predates the client segment.
    pub fn is_legacy(&self) -> bool {
        self.client_len == 0
    }

    /// The 256-bit secret of a secret key (the seed material of its Ed25519
    /// pair); `None` for publishable keys.
    #[cfg(feature = "mint")]
    pub(crate) fn secret_bytes(&self) -> Option<Vec<u8>> {
        if self.key_type != KeyType::Secret {
            return None;
        }
        let client = if self.client_len > 0 {
            self.client_len + 1
        } else {
            0
        };
        let start = PREFIX.len() + 3 + self.env_len + 1 + KEY_ID_LEN + 1 + client;
        let secret = &self.text[start..self.text.len() - CHECKSUM_LEN];
        let size = self
            .key_type
            .allowed_secret_sizes()
            .iter()
            .copied()
            .find(|&bytes| base62::encoded_len(bytes) == secret.len())?;
        base62::decode_vec(secret, size)
    }

    /// The SHA-256 by which the key is stored and looked up.
    pub fn hash(&self) -> KeyHash {
        KeyHash::of(&self.text)
    }

    /// The full key text. Show it once, to its owner; never store or log it.
    pub fn expose(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKey")
            .field("key_type", &self.key_type)
            .field("environment", &self.environment())
            .field("key_id", &self.key_id())
            .field("client_id", &self.client_id())
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Lowercase hex SHA-256 of a whole key: the only form in which a key is
/// stored (database and KV). Keys carry 192+ random bits, so a fast unsalted
/// hash is enough: there is nothing to brute-force.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyHash(String);

impl KeyHash {
    /// Hashes a key's text.
    pub fn of(key_text: &str) -> Self {
        Self::of_bytes(key_text.as_bytes())
    }

    /// Lowercase hex SHA-256 of any bytes.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        Self(hex::encode(&Sha256::digest(bytes)))
    }

    /// Accepts a stored hash (64 lowercase hex digits).
    pub fn from_hex(hex: &str) -> Option<Self> {
        (hex.len() == 64 && hex.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Self(hex.to_owned()))
    }

    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests;

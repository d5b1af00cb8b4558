//! Access keys as signing keys: a secret key's 256-bit secret
//! deterministically yields an Ed25519 key pair, so the holder keeps one
//! string and the control plane keeps only the public half.
//!
//! KDF (documented, stable; changing it would change every key's JWK):
//! `seed = HKDF-SHA256(salt = "keygate/access-key/v1", ikm = secret bytes,
//! info = "ed25519-seed/" || key id)[0..32]`, then RFC 8032 key generation
//! from `seed`. The salt separates this use of the secret from any other; the
//! key id in `info` binds the pair to the key's public identity.

use core::fmt;

use crate::{b64, jwk::PublicJwk, key::AccessKey, mac::hkdf_sha256_32, Error};

const KDF_SALT: &[u8] = b"keygate/access-key/v1";
const KDF_INFO_PREFIX: &[u8] = b"ed25519-seed/";

/// The Ed25519 key pair of a secret access key. `Debug` never prints it.
pub struct SigningKeyPair {
    pair: ed25519_compact::KeyPair,
    seed: [u8; 32],
    key_id: String,
}

impl SigningKeyPair {
    /// Derives the pair of a secret key (publishable keys cannot sign).
    pub fn derive(key: &AccessKey) -> Result<Self, Error> {
        let secret = key.secret_bytes().ok_or(Error::KeyNotSignable)?;
        let mut info = KDF_INFO_PREFIX.to_vec();
        info.extend_from_slice(key.key_id().as_bytes());
        let seed = hkdf_sha256_32(KDF_SALT, &secret, &info);
        let mut secret = secret;
        secret.fill(0);
        Ok(Self::from_seed(seed, key.key_id()))
    }

    /// A pair from a raw RFC 8032 seed (for known-answer tests and imports).
    pub fn from_seed(seed: [u8; 32], key_id: &str) -> Self {
        Self {
            pair: ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new(seed)),
            seed,
            key_id: key_id.to_owned(),
        }
    }

    /// The public key bytes.
    pub fn public_key(&self) -> [u8; 32] {
        *self.pair.pk
    }

    /// The public JWK, `kid` = key id: what the control plane stores and publishes.
    pub fn public_jwk(&self) -> PublicJwk {
        PublicJwk::from_public_key(&self.public_key(), &self.key_id)
    }

    /// The private JWK (`d` = seed), for signing with any JOSE library.
    /// Print it to its owner only; never store or log it.
    pub fn private_jwk_json(&self) -> String {
        let public = self.public_jwk();
        serde_json::json!({
            "kty": public.kty, "crv": public.crv, "x": public.x,
            "d": b64::encode_url(&self.seed),
            "kid": public.kid, "alg": public.alg, "use": public.use_,
        })
        .to_string()
    }

    /// Signs `message` (deterministic Ed25519: no randomness needed).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        *self.pair.sk.sign(message, None)
    }

    /// The key id.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
}

impl fmt::Debug for SigningKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyPair")
            .field("key_id", &self.key_id)
            .field("public_key", &b64::encode_url(&self.public_key()))
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl Drop for SigningKeyPair {
    fn drop(&mut self) {
        // ed25519-compact wipes its own secret key; wipe our copy of the seed.
        self.seed = [0; 32];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{hex::encode as hex, key::KeyType};

    fn hex32(text: &str) -> [u8; 32] {
        crate::hex::decode(text).unwrap().try_into().unwrap()
    }

    /// RFC 8032 §7.1, TEST 1 and TEST 2.
    #[test]
    fn rfc8032_vectors() {
        let one = SigningKeyPair::from_seed(
            hex32("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"),
            "k",
        );
        assert_eq!(
            hex(&one.public_key()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        assert_eq!(
            hex(&one.sign(b"")),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
        let two = SigningKeyPair::from_seed(
            hex32("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"),
            "k",
        );
        assert_eq!(
            hex(&two.public_key()),
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"
        );
        assert_eq!(
            hex(&two.sign(&[0x72])),
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
        );
    }

    /// RFC 8037 Appendix A.1/A.2: the private JWK's `d` yields `x`.
    #[test]
    fn rfc8037_key_pair() {
        let d = b64::decode_url("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A").unwrap();
        let pair = SigningKeyPair::from_seed(d.try_into().unwrap(), "k");
        assert_eq!(
            pair.public_jwk().x,
            "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        );
    }

    #[test]
    fn derivation_is_deterministic_and_domain_separated() {
        let key =
            AccessKey::from_entropy(KeyType::Secret, "live", None, [1; 12], &[2; 32]).unwrap();
        let a = SigningKeyPair::derive(&key).unwrap();
        let b = SigningKeyPair::derive(&AccessKey::parse(key.expose()).unwrap()).unwrap();
        assert_eq!(a.public_key(), b.public_key());
        assert_eq!(a.public_jwk().kid.as_deref(), Some(key.key_id()));
        // The seed is not the raw secret (domain separation).
        let raw = SigningKeyPair::from_seed([2; 32], key.key_id());
        assert_ne!(a.public_key(), raw.public_key());
        // Another key id, same secret: another pair.
        let other =
            AccessKey::from_entropy(KeyType::Secret, "live", None, [9; 12], &[2; 32]).unwrap();
        assert_ne!(
            SigningKeyPair::derive(&other).unwrap().public_key(),
            a.public_key()
        );
        // Pinned, so that a change of KDF cannot go unnoticed.
        assert_eq!(a.public_jwk().x, PINNED_X);
        let publishable =
            AccessKey::from_entropy(KeyType::Publishable, "live", None, [1; 12], &[2; 24]).unwrap();
        assert_eq!(
            SigningKeyPair::derive(&publishable).err(),
            Some(Error::KeyNotSignable)
        );
    }

    const PINNED_X: &str = "kudzFqlSkzCKnFtUepIpModTNATXNeBt75uYU_MnJhM";

    #[test]
    fn debug_and_private_jwk() {
        let key =
            AccessKey::from_entropy(KeyType::Secret, "live", None, [1; 12], &[2; 32]).unwrap();
        let pair = SigningKeyPair::derive(&key).unwrap();
        let private: serde_json::Value = serde_json::from_str(&pair.private_jwk_json()).unwrap();
        let d = private["d"].as_str().unwrap().to_owned();
        assert!(!format!("{pair:?}").contains(&d));
        let again = SigningKeyPair::from_seed(
            b64::decode_url(&d).unwrap().try_into().unwrap(),
            key.key_id(),
        );
        assert_eq!(again.public_key(), pair.public_key());
    }
}

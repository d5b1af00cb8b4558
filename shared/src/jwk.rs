//! Ed25519 public keys as JWKs (RFC 8037 `OKP`), their RFC 7638 thumbprint,
//! and [`VerificationKey`]: a public key that has passed every check a key
//! from outside must pass (canonical point, not of small order).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{b64, json::StrictObject, Error};

/// An Ed25519 public JWK: `{"kty":"OKP","crv":"Ed25519","x":…,"kid":…,"alg":"EdDSA","use":"sig"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    /// Always `OKP`.
    pub kty: String,
    /// Always `Ed25519`.
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    /// The key id (the access key's id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// `EdDSA` (or `Ed25519`, RFC 9864).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// `sig`.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

impl PublicJwk {
    /// The JWK of a raw public key.
    pub fn from_public_key(public_key: &[u8; 32], kid: &str) -> Self {
        Self {
            kty: "OKP".to_owned(),
            crv: "Ed25519".to_owned(),
            x: b64::encode_url(public_key),
            kid: Some(kid.to_owned()),
            alg: Some("EdDSA".to_owned()),
            use_: Some("sig".to_owned()),
        }
    }

    /// Parses a JWK from outside: strict JSON, no private members.
    pub fn parse(json: &str) -> Result<Self, Error> {
        let object = StrictObject::parse(json.as_bytes()).map_err(|_| Error::JwkInvalid)?;
        if object.get("d").is_some() {
            return Err(Error::JwkPrivate);
        }
        let jwk: Self = serde_json::from_str(json).map_err(|_| Error::JwkInvalid)?;
        jwk.verification_key()?;
        Ok(jwk)
    }

    /// The RFC 7638 thumbprint: base64url SHA-256 of the required members in
    /// lexicographic order, no whitespace.
    pub fn thumbprint(&self) -> String {
        let canonical = format!(
            r#"{{"crv":"{}","kty":"{}","x":"{}"}}"#,
            self.crv, self.kty, self.x
        );
        b64::encode_url(&Sha256::digest(canonical.as_bytes()))
    }

    /// Checks the JWK and returns the key to verify signatures with.
    pub fn verification_key(&self) -> Result<VerificationKey, Error> {
        if self.kty != "OKP" || self.crv != "Ed25519" {
            return Err(Error::JwkInvalid);
        }
        if self
            .alg
            .as_deref()
            .is_some_and(|alg| alg != "EdDSA" && alg != "Ed25519")
        {
            return Err(Error::JwkInvalid);
        }
        if self.use_.as_deref().is_some_and(|u| u != "sig") {
            return Err(Error::JwkInvalid);
        }
        let bytes = b64::decode_url(&self.x).ok_or(Error::JwkInvalid)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| Error::JwkInvalid)?;
        VerificationKey::from_bytes(bytes)
    }
}

/// A JWK Set, `{"keys":[…]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<PublicJwk>,
}

/// An Ed25519 public key that is a canonical encoding of a point of large
/// order. Only such keys are accepted from outside: a small-order key would
/// "verify" forged signatures in lax verifiers (WebCrypto among them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerificationKey(ed25519_compact::PublicKey);

impl VerificationKey {
    /// Checks raw key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self, Error> {
        let key = ed25519_compact::PublicKey::new(bytes);
        key.validate().map_err(|_| Error::JwkWeakKey)?;
        Ok(Self(key))
    }

    /// The raw 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        *self.0
    }

    /// Verifies an Ed25519 signature (RFC 8032, with canonical S and the
    /// small-order checks of ed25519-compact).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), Error> {
        let signature = ed25519_compact::Signature::from_slice(signature)
            .map_err(|_| Error::TokenSignatureLength)?;
        self.0
            .verify(message, &signature)
            .map_err(|_| Error::TokenSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8037 Appendix A.2 public key.
    const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    fn rfc8037() -> PublicJwk {
        PublicJwk {
            kty: "OKP".to_owned(),
            crv: "Ed25519".to_owned(),
            x: RFC8037_X.to_owned(),
            kid: None,
            alg: None,
            use_: None,
        }
    }

    #[test]
    fn rfc8037_a3_thumbprint() {
        assert_eq!(
            rfc8037().thumbprint(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn parse_checks_everything() {
        let good =
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
        assert_eq!(PublicJwk::parse(good).unwrap(), rfc8037());
        let private = r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}"#;
        assert_eq!(PublicJwk::parse(private), Err(Error::JwkPrivate));
        assert_eq!(
            PublicJwk::parse(&good.replace("OKP", "EC")),
            Err(Error::JwkInvalid)
        );
        assert_eq!(
            PublicJwk::parse(&good.replace("Ed25519", "X25519")),
            Err(Error::JwkInvalid)
        );
        assert_eq!(
            PublicJwk::parse(&good.replace("URo", "URo=")),
            Err(Error::JwkInvalid)
        );
        let duplicate = r#"{"kty":"OKP","kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
        assert_eq!(PublicJwk::parse(duplicate), Err(Error::JwkInvalid));
        let with_alg = good.replace("}", r#","alg":"RS256"}"#);
        assert_eq!(PublicJwk::parse(&with_alg), Err(Error::JwkInvalid));
    }

    #[test]
    fn refuses_small_order_and_non_canonical_keys() {
        // The identity point (small order) and a non-canonical encoding of it.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(
            VerificationKey::from_bytes(identity),
            Err(Error::JwkWeakKey)
        );
        assert_eq!(VerificationKey::from_bytes([0; 32]), Err(Error::JwkWeakKey));
        let mut non_canonical = [0xff; 32];
        non_canonical[31] = 0x7f;
        assert_eq!(
            VerificationKey::from_bytes(non_canonical),
            Err(Error::JwkWeakKey)
        );
        assert!(rfc8037().verification_key().is_ok());
    }
}

"""A secret access key's Ed25519 key pair, derived as ``shared/src/signing.rs``:

``seed = HKDF-SHA256(salt = "keygate/access-key/v1", ikm = secret bytes,
info = "ed25519-seed/" || key id)[0..32]``, then RFC 8032 key generation from
the seed. Deterministic: the same key always yields the same pair, so the
control plane (which keeps only the public half) and this SDK agree.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Dict

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import InvalidKeyError
from .key import AccessKey

KDF_SALT = b"keygate/access-key/v1"
KDF_INFO_PREFIX = b"ed25519-seed/"


def b64url(data: bytes) -> str:
    """Unpadded base64url (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def derive_seed(key: AccessKey) -> bytes:
    """The 32-byte RFC 8032 seed of a secret key."""
    if key.key_type != "secret":
        raise InvalidKeyError(
            "invalid_key", "not_signable", "publishable keys cannot sign"
        )
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=KDF_SALT,
        info=KDF_INFO_PREFIX + key.key_id.encode("ascii"),
    )
    return hkdf.derive(key.secret_bytes())


class SigningKeyPair:
    """The Ed25519 pair of a secret access key. ``repr`` never shows the secret."""

    __slots__ = ("_private", "_seed", "key_id", "public_key")

    def __init__(self, seed: bytes, key_id: str) -> None:
        self._seed = seed
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self.key_id = key_id
        #: The raw 32-byte public key.
        self.public_key = self._private.public_key().public_bytes_raw()

    @classmethod
    def derive(cls, key: AccessKey) -> "SigningKeyPair":
        """The pair of a secret key (``InvalidKeyError`` for publishable keys)."""
        return cls(derive_seed(key), key.key_id)

    def sign(self, message: bytes) -> bytes:
        """A deterministic Ed25519 signature (64 bytes)."""
        return self._private.sign(message)

    def public_jwk(self) -> Dict[str, str]:
        """The public JWK (RFC 8037 OKP), ``kid`` = key id."""
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64url(self.public_key),
            "kid": self.key_id,
            "alg": "EdDSA",
            "use": "sig",
        }

    def private_jwk(self) -> Dict[str, str]:
        """The private JWK (``d`` = seed), for any JOSE library. Never log it."""
        jwk = self.public_jwk()
        jwk["d"] = b64url(self._seed)
        return jwk

    def private_jwk_json(self) -> str:
        """The private JWK as the CLI prints it (compact, members sorted)."""
        return json.dumps(self.private_jwk(), sort_keys=True, separators=(",", ":"))

    def thumbprint(self) -> str:
        """RFC 7638 thumbprint of the public JWK."""
        canonical = '{"crv":"Ed25519","kty":"OKP","x":"%s"}' % b64url(self.public_key)
        return b64url(hashlib.sha256(canonical.encode("ascii")).digest())

    def __repr__(self) -> str:
        return f"SigningKeyPair(key_id={self.key_id!r}, x={b64url(self.public_key)!r}, secret=<redacted>)"

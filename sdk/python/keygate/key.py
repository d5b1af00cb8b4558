"""The access-key format, parsed exactly as ``shared/src/key.rs`` does.

``kg_<sk|pk>_<env>_<key id>_<client>_<secret><checksum>``, and the legacy
layout without the client segment, ``kg_<sk|pk>_<env>_<key id>_<secret><checksum>``:

- ``env``: ``[a-z][a-z0-9]{0,15}``;
- ``key id``: 17 base62 digits that decode to 12 bytes (public: the JWT ``kid``);
- ``client``: the client id without ``cl_``, 1 to 24 base62 digits;
- ``secret``: base62 of 32, 48 or 64 bytes (secret keys) or 24, 32 or 48 bytes
  (publishable keys);
- ``checksum``: 6 base62 digits, CRC-32 (IEEE) of everything before it.

The checks run in the same order as the Rust parser, so both refuse the same
text with the same reason.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field
from typing import Optional

from . import base62
from .errors import InvalidKeyError

PREFIX = "kg_"
CLIENT_PREFIX = "cl_"
KEY_ID_BYTES = 12
KEY_ID_LEN = base62.encoded_len(KEY_ID_BYTES)
CHECKSUM_LEN = base62.encoded_len(4)
#: Longer text is refused before parsing (no key we issue is longer).
MAX_KEY_LEN = 160
MAX_CLIENT_SEGMENT_LEN = 24

_TYPES = {"sk": "secret", "pk": "publishable"}
_SECRET_SIZES = {"secret": (32, 48, 64), "publishable": (24, 32, 48)}

_MESSAGES = {
    "prefix": "key does not start with kg_",
    "type": "unknown key type",
    "environment": "invalid environment in key",
    "key_id": "invalid key id",
    "client": "invalid client id in key",
    "secret": "invalid key secret",
    "checksum": "key checksum mismatch",
    "too_long": "credential too long",
}


def _malformed(reason: str) -> InvalidKeyError:
    return InvalidKeyError("malformed_credential", reason, _MESSAGES[reason])


def is_valid_environment(env: str) -> bool:
    """``[a-z][a-z0-9]{0,15}``, ASCII only."""
    return (
        0 < len(env) <= 16
        and "a" <= env[0] <= "z"
        and all("a" <= c <= "z" or "0" <= c <= "9" for c in env)
    )


def is_valid_key_id(key_id: str) -> bool:
    """17 base62 digits that decode to 12 bytes."""
    return base62.decode(key_id, KEY_ID_BYTES) is not None


def _is_valid_client_segment(segment: str) -> bool:
    return 0 < len(segment) <= MAX_CLIENT_SEGMENT_LEN and all(
        base62.is_digit(c) for c in segment
    )


def is_valid_client_id(client_id: str) -> bool:
    """Whether a key could carry ``client_id``: ``cl_`` and 1-24 base62 digits."""
    return client_id.startswith(CLIENT_PREFIX) and _is_valid_client_segment(
        client_id[len(CLIENT_PREFIX) :]
    )


@dataclass(frozen=True)
class AccessKey:
    """A well-formed access key whose checksum matched.

    It proves only that the text is a key keygate *could* have issued, not
    that it exists or is valid. ``repr`` never shows the secret.
    """

    key_type: str  # "secret" or "publishable"
    env: str
    key_id: str
    #: ``cl_…`` for current keys, ``None`` for legacy keys.
    client_id: Optional[str]
    _text: str = field(repr=False)
    _secret: bytes = field(repr=False)

    @property
    def is_legacy(self) -> bool:
        """Whether the key predates the embedded client id."""
        return self.client_id is None

    @property
    def sha256_hex(self) -> str:
        """Lowercase hex SHA-256 of the whole key: how keygate stores it."""
        return hashlib.sha256(self._text.encode("ascii")).hexdigest()

    def secret_bytes(self) -> bytes:
        """The random secret (for secret keys, the seed material of the
        Ed25519 pair). Never log it."""
        return self._secret

    def expose(self) -> str:
        """The full key text. Never log or store it."""
        return self._text

    def __repr__(self) -> str:
        return (
            f"AccessKey(key_type={self.key_type!r}, env={self.env!r}, "
            f"key_id={self.key_id!r}, client_id={self.client_id!r}, secret=<redacted>)"
        )


def parse_key(text: str) -> AccessKey:
    """Parses and checks a key offline; raises :class:`InvalidKeyError`."""
    if not isinstance(text, str):
        raise _malformed("prefix")
    try:
        length = len(text.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate: not text any key has
        raise _malformed("prefix") from None
    if length > MAX_KEY_LEN:
        raise _malformed("too_long")
    if not text.startswith(PREFIX):
        raise _malformed("prefix")
    parts = text[len(PREFIX) :].split("_", 3)
    key_type = _TYPES.get(parts[0])
    if key_type is None:
        raise _malformed("type")
    if len(parts) < 2 or not is_valid_environment(parts[1]):
        raise _malformed("environment")
    env = parts[1]
    if len(parts) < 3 or not is_valid_key_id(parts[2]):
        raise _malformed("key_id")
    key_id = parts[2]
    if len(parts) < 4:
        raise _malformed("secret")
    rest = parts[3]
    client, sep, body = rest.partition("_")
    if sep:
        if not _is_valid_client_segment(client):
            raise _malformed("client")
    else:
        client, body = "", rest
    if len(body) <= CHECKSUM_LEN or not all(base62.is_digit(c) for c in body):
        raise _malformed("secret")
    secret_text, checksum = body[:-CHECKSUM_LEN], body[-CHECKSUM_LEN:]
    # The secret's length says its size; only the allowed sizes exist.
    size = next(
        (n for n in _SECRET_SIZES[key_type] if base62.encoded_len(n) == len(secret_text)),
        None,
    )
    secret = base62.decode(secret_text, size) if size is not None else None
    if secret is None:
        raise _malformed("secret")
    expected = (zlib.crc32(text[:-CHECKSUM_LEN].encode("ascii")) & 0xFFFFFFFF).to_bytes(
        4, "big"
    )
    if base62.decode(checksum, 4) != expected:
        raise _malformed("checksum")
    return AccessKey(
        key_type=key_type,
        env=env,
        key_id=key_id,
        client_id=CLIENT_PREFIX + client if client else None,
        _text=text,
        _secret=secret,
    )

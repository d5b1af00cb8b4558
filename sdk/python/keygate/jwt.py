"""Minting an access token exactly as ``shared::jwt::mint`` does.

The Rust side builds header and payload with ``serde_json::json!`` without
the ``preserve_order`` feature, so members come out sorted by name, compact,
non-ASCII unescaped. ``json.dumps(sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`` writes the same bytes, and Ed25519 is deterministic, so
a token minted here equals the Rust one byte for byte (the golden vectors in
``shared/tests/vectors/tokens.json`` check it).
"""

from __future__ import annotations

import json
import secrets
from typing import Any, Dict

from . import base62
from .derive import SigningKeyPair, b64url


def _json(value: Dict[str, Any]) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def new_jti() -> str:
    """A token id: 16 bytes from the OS CSPRNG, base62 (22 characters)."""
    return base62.encode(secrets.token_bytes(16))


def mint(
    pair: SigningKeyPair,
    *,
    client_id: str,
    audience: str,
    issued_at: int,
    ttl: int,
    jti: str,
) -> str:
    """Signs an ``at+jwt``: ``iss`` = ``sub`` = ``client_id``, ``aud``,
    ``iat``, ``exp`` = ``iat + ttl``, ``jti``; header ``alg`` EdDSA, ``kid``."""
    header = {"alg": "EdDSA", "typ": "at+jwt", "kid": pair.key_id}
    payload = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": int(issued_at),
        "exp": int(issued_at) + int(ttl),
        "jti": jti,
    }
    signing_input = f"{b64url(_json(header))}.{b64url(_json(payload))}"
    signature = pair.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url(signature)}"

"""Shared helpers for the keygate tests: the golden vectors and the stack's
environment.

The vectors are read from ``KEYGATE_VECTORS_DIR``, else from the repository
(``shared/tests/vectors``, three folders up from here).
"""

from __future__ import annotations

import base64
import json
import os
import unittest
from pathlib import Path
from typing import Any, Dict, Optional

VECTORS = Path(
    os.environ.get("KEYGATE_VECTORS_DIR")
    or Path(__file__).resolve().parents[3] / "shared" / "tests" / "vectors"
)


def vectors(name: str) -> Dict[str, Any]:
    with open(VECTORS / name, encoding="utf-8") as handle:
        return json.load(handle)


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims(token: str) -> Dict[str, Any]:
    """The payload of a compact JWS (no verification: for assertions)."""
    return json.loads(b64url_decode(token.split(".")[1]))


class Clock:
    """An injectable clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def stack_env(name: str) -> Optional[str]:
    """An environment variable the stack test sets; when the run declares
    that the stack is there (``KEYGATE_REQUIRE_STACK=1``) a missing one fails
    the test instead of skipping it, so nothing is silently left out."""
    value = os.environ.get(name)
    if not value and os.environ.get("KEYGATE_REQUIRE_STACK") == "1":
        raise AssertionError(f"{name} is not set but KEYGATE_REQUIRE_STACK=1")
    if not value:
        raise unittest.SkipTest(f"{name} not set (run through tests/tests/sdk_python.rs)")
    return value


def build_key(key_type: str, env: str, client_id: Optional[str], key_id: bytes, secret: bytes) -> str:
    """Formats a key as the control plane does (``AccessKey::from_entropy``),
    so tests can make keys of any shape without a control plane."""
    import zlib

    from keygate import base62

    text = "kg_" + {"secret": "sk", "publishable": "pk"}[key_type] + f"_{env}_{base62.encode(key_id)}_"
    if client_id is not None:
        text += client_id[3:] + "_"
    text += base62.encode(secret)
    return text + base62.encode(zlib.crc32(text.encode()).to_bytes(4, "big"))

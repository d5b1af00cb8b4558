"""Checking the edge's ``X-Keygate-Signature`` at an origin, as
``shared/src/origin.rs`` does.

The edge sends ``X-Keygate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``
over ``keygate-v1\\n<t>\\n<METHOD>\\n<path>\\n<client id>\\n<key id>\\n<env>\\n<key
type>\\n<auth>`` (``path`` as forwarded, still percent-encoded, no query),
keyed with the secret shared by edge (``ORIGIN_SIGNING_SECRET``) and origin.
A request that carries no valid, fresh signature did not come through the
edge, and its ``X-Keygate-*`` headers must not be believed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Mapping, Optional, Tuple, Union

from .errors import EdgeSignatureError

SIGNATURE_HEADER = "x-keygate-signature"
IDENTITY_HEADERS = (
    "x-keygate-client-id",
    "x-keygate-key-id",
    "x-keygate-env",
    "x-keygate-key-type",
    "x-keygate-auth",
)
DEFAULT_MAX_AGE = 300
# Rust's `i64::from_str`: an optional sign, then ASCII digits.
_TIMESTAMP = re.compile(r"[+-]?[0-9]+")
_I64 = (-(1 << 63), (1 << 63) - 1)

Headers = Union[Mapping[Any, Any], Iterable[Tuple[Any, Any]]]


@dataclass(frozen=True)
class EdgeIdentity:
    """Who called, as the edge asserts it (and signed it)."""

    client_id: str
    key_id: str
    env: str
    key_type: str  # "secret" or "publishable"
    auth: str  # "static" or "jwt"


def canonical(timestamp: int, method: str, path: str, identity: EdgeIdentity) -> str:
    """The signed string."""
    return "\n".join(
        [
            "keygate-v1",
            str(timestamp),
            method,
            path,
            identity.client_id,
            identity.key_id,
            identity.env,
            identity.key_type,
            identity.auth,
        ]
    )


def sign(secret: Union[str, bytes], method: str, path: str, identity: EdgeIdentity, timestamp: int) -> str:
    """The header value the edge would send (for tests and other tooling)."""
    mac = hmac.new(_secret_bytes(secret), canonical(timestamp, method, path, identity).encode("utf-8"), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_edge_request(
    headers: Headers,
    secret: Union[str, bytes],
    *,
    method: str,
    path: str,
    max_age: int = DEFAULT_MAX_AGE,
    now: Optional[float] = None,
) -> EdgeIdentity:
    """Checks a request's edge signature and returns the signed identity.

    :param headers: the request headers: a mapping (any case; a
        ``requests``/``httpx``/Starlette/Werkzeug headers object works), or
        ``(name, value)`` pairs as ``str`` or ``bytes`` (ASGI ``scope["headers"]``).
    :param secret: the secret shared with the edge.
    :param method: the request method as received.
    :param path: the request path as received, still percent-encoded, without
        the query string.
    :param max_age: largest accepted distance in seconds between the
        signature's time and ``now`` (either direction).
    :param now: Unix seconds (default: the clock).
    :raises EdgeSignatureError: ``missing``, ``invalid`` or ``stale``.
    """
    key = _secret_bytes(secret)
    values = _collect(headers)
    header = values.get(SIGNATURE_HEADER)
    if header is None:
        raise EdgeSignatureError("missing", "no X-Keygate-Signature: the request did not come through the edge")
    fields = [values.get(name) for name in IDENTITY_HEADERS]
    if any(value is None for value in fields):
        raise EdgeSignatureError("missing", "X-Keygate-Signature without the identity headers it signs")
    if header is _DUPLICATE or any(value is _DUPLICATE for value in fields):
        raise EdgeSignatureError("invalid", "an X-Keygate header appears more than once")
    identity = EdgeIdentity(*fields)  # type: ignore[arg-type]

    t, comma, v1 = header.partition(",")
    if not comma or not t.startswith("t=") or not _TIMESTAMP.fullmatch(t[2:]):
        raise EdgeSignatureError("invalid", "malformed X-Keygate-Signature")
    timestamp = int(t[2:])
    given = v1[3:] if v1.startswith("v1=") else None
    if not _I64[0] <= timestamp <= _I64[1] or given is None or len(given.encode("utf-8")) != 64:
        raise EdgeSignatureError("invalid", "malformed X-Keygate-Signature")
    current = int(time.time() if now is None else now)
    if abs(current - timestamp) > max_age:
        raise EdgeSignatureError("stale", "X-Keygate-Signature is too old (or from the future)")
    expected = hmac.new(key, canonical(timestamp, method, path, identity).encode("utf-8"), hashlib.sha256)
    # Constant time: the comparison must not tell how much of a forgery matched.
    if not hmac.compare_digest(expected.hexdigest().encode("ascii"), given.encode("utf-8")):
        raise EdgeSignatureError("invalid", "X-Keygate-Signature does not match the request")
    return identity


class _Duplicate:
    pass


_DUPLICATE: Any = _Duplicate()


def _text(value: Any) -> str:
    # Header bytes are latin-1 on the wire (ASGI, WSGI); the edge only ever
    # sends ASCII here, so anything else simply fails the MAC.
    return value.decode("latin-1") if isinstance(value, (bytes, bytearray)) else str(value)


def _collect(headers: Headers) -> Dict[str, Any]:
    """The keygate headers, by lower-case name; a repeated one is marked."""
    items: Iterable[Tuple[Any, Any]]
    if hasattr(headers, "multi_items"):  # httpx / Starlette: repeats kept
        items = headers.multi_items()  # type: ignore[union-attr]
    elif hasattr(headers, "items"):  # dicts, requests, http.client, Werkzeug
        items = headers.items()  # type: ignore[union-attr]
    else:  # (name, value) pairs, e.g. ASGI scope["headers"]
        items = headers
    found: Dict[str, Any] = {}
    for name, value in items:
        lower = _text(name).lower()
        if lower == SIGNATURE_HEADER or lower in IDENTITY_HEADERS:
            found[lower] = _DUPLICATE if lower in found else _text(value)
    return found


def _secret_bytes(secret: Union[str, bytes]) -> bytes:
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if not key:
        raise ValueError("the signing secret is empty")
    return key

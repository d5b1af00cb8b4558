"""keygate: the client side of keygate for Python.

- :class:`TokenProvider`: short-lived signed tokens from an access key,
  cached and renewed; :class:`RequestsAuth` and :class:`HttpxAuth` put them on
  ``requests`` / ``httpx`` calls (optional extras, imported lazily).
- :func:`verify_edge_request`, :class:`ASGIMiddleware`,
  :class:`WSGIMiddleware`: an origin checks that a request came through the
  edge (``X-Keygate-Signature``) and reads who called.
- :class:`Verifier`: a service not behind the edge checks a credential
  through the control plane's verification API.
"""

from __future__ import annotations

from typing import Any

from .derive import SigningKeyPair
from .errors import EdgeSignatureError, InvalidKeyError, KeygateError, VerifyError
from .key import AccessKey, parse_key
from .middleware import ASGIMiddleware, WSGIMiddleware
from .origin import EdgeIdentity, verify_edge_request
from .provider import TokenProvider
from .verifier import Verification, Verifier

__version__ = "0.1.0"

__all__ = [
    "ASGIMiddleware",
    "AccessKey",
    "EdgeIdentity",
    "EdgeSignatureError",
    "HttpxAuth",
    "InvalidKeyError",
    "KeygateError",
    "RequestsAuth",
    "SigningKeyPair",
    "TokenProvider",
    "Verification",
    "Verifier",
    "VerifyError",
    "WSGIMiddleware",
    "parse_key",
    "verify_edge_request",
]


def __getattr__(name: str) -> Any:
    # The HTTP client adapters import requests/httpx: only on first use, so
    # both stay optional extras.
    if name in ("RequestsAuth", "HttpxAuth"):
        from . import auth

        return getattr(auth, name)
    raise AttributeError(f"module 'keygate' has no attribute {name!r}")

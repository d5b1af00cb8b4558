"""HTTP client adapters, imported lazily so ``requests`` and ``httpx`` stay
optional (``pip install keygate[requests]`` / ``keygate[httpx]``).

``RequestsAuth(provider)`` is a ``requests.auth.AuthBase`` and
``HttpxAuth(provider)`` an ``httpx.Auth``: each sets ``Authorization:
Bearer <token>`` from the provider on every request (the provider caches and
renews the token, so this costs a lock and a comparison).
"""

from __future__ import annotations

from typing import Any

__all__ = ["RequestsAuth", "HttpxAuth"]


def __getattr__(name: str) -> Any:
    if name == "RequestsAuth":
        from ._requests import RequestsAuth

        return RequestsAuth
    if name == "HttpxAuth":
        from ._httpx import HttpxAuth

        return HttpxAuth
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

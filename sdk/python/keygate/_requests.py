"""``requests`` adapter (needs the ``requests`` extra)."""

from __future__ import annotations

try:
    import requests.auth
except ImportError as error:  # pragma: no cover - depends on the install
    raise ImportError(
        "keygate.RequestsAuth needs requests: pip install 'keygate[requests]'"
    ) from error

from .provider import TokenProvider


class RequestsAuth(requests.auth.AuthBase):
    """``requests.get(url, auth=keygate.RequestsAuth(provider))``."""

    def __init__(self, provider: TokenProvider) -> None:
        self.provider = provider

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self.provider.authorization_header()
        return request

    def __repr__(self) -> str:
        return f"RequestsAuth({self.provider!r})"

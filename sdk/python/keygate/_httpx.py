"""``httpx`` adapter (needs the ``httpx`` extra); works for ``httpx.Client``
and ``httpx.AsyncClient`` alike: minting does no I/O and takes microseconds,
so it never blocks an event loop for long."""

from __future__ import annotations

from typing import Generator

try:
    import httpx
except ImportError as error:  # pragma: no cover - depends on the install
    raise ImportError("keygate.HttpxAuth needs httpx: pip install 'keygate[httpx]'") from error

from .provider import TokenProvider


class HttpxAuth(httpx.Auth):
    """``httpx.Client(auth=keygate.HttpxAuth(provider))``."""

    def __init__(self, provider: TokenProvider) -> None:
        self.provider = provider

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self.provider.authorization_header()
        yield request

    def __repr__(self) -> str:
        return f"HttpxAuth({self.provider!r})"

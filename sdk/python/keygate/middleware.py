"""ASGI and WSGI middleware that lock an origin to the edge.

Every HTTP request must carry a valid, fresh ``X-Keygate-Signature`` (see
:func:`keygate.verify_edge_request`); anything else gets ``401`` with a JSON
body ``{"error":{"code":"edge_signature_<missing|invalid|stale>", …}}`` and
never reaches the application. Accepted requests carry the
:class:`~keygate.EdgeIdentity` in ``scope["keygate"]`` (ASGI) or
``environ["keygate.identity"]`` (WSGI).

The signature covers the path *as forwarded*, still percent-encoded. ASGI
servers give it as ``raw_path`` and gunicorn as ``RAW_URI`` (uWSGI and
others as ``REQUEST_URI``); without those the path is re-encoded from its
decoded form, which matches for ordinary paths and fails closed otherwise.
"""

from __future__ import annotations

import json
import time
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Tuple, Union
from urllib.parse import quote

from .errors import EdgeSignatureError
from .origin import DEFAULT_MAX_AGE, verify_edge_request

_SAFE = "/!$&'()*+,;=:@-._~"
_HEADERS = [
    ("content-type", "application/json"),
    ("cache-control", "no-store"),
]


def _refusal(error: EdgeSignatureError) -> bytes:
    body = {"error": {"code": f"edge_signature_{error.code}", "message": error.message}}
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


class ASGIMiddleware:
    """``app = keygate.ASGIMiddleware(app, secret=os.environ["KEYGATE_SIGNING_SECRET"])``.

    Lifespan events pass through; HTTP requests and WebSocket handshakes are
    checked (a refused handshake is closed with code 1008).
    """

    def __init__(
        self,
        app: Callable[..., Awaitable[None]],
        *,
        secret: Union[str, bytes],
        max_age: int = DEFAULT_MAX_AGE,
        now: Optional[Callable[[], float]] = None,
    ) -> None:
        if not secret:
            raise ValueError("the signing secret is empty")
        self.app = app
        self._secret = secret
        self._max_age = max_age
        self._now = now or time.time

    async def __call__(self, scope: Dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        kind = scope.get("type")
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        try:
            identity = verify_edge_request(
                scope.get("headers") or [],
                self._secret,
                method=scope.get("method", "GET"),
                path=_asgi_path(scope),
                max_age=self._max_age,
                now=self._now(),
            )
        except EdgeSignatureError as error:
            if kind == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            body = _refusal(error)
            headers = [(n.encode(), v.encode()) for n, v in _HEADERS]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": 401, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        # A copy: the server's scope is not ours to change.
        await self.app(dict(scope, keygate=identity), receive, send)


def _asgi_path(scope: Dict[str, Any]) -> str:
    raw = scope.get("raw_path")
    if raw:
        return raw.decode("latin-1").split("?", 1)[0]
    return quote(scope.get("path", ""), safe=_SAFE)


StartResponse = Callable[..., Any]


class WSGIMiddleware:
    """``app = keygate.WSGIMiddleware(app, secret=os.environ["KEYGATE_SIGNING_SECRET"])``."""

    def __init__(
        self,
        app: Callable[[Dict[str, Any], StartResponse], Iterable[bytes]],
        *,
        secret: Union[str, bytes],
        max_age: int = DEFAULT_MAX_AGE,
        now: Optional[Callable[[], float]] = None,
    ) -> None:
        if not secret:
            raise ValueError("the signing secret is empty")
        self.app = app
        self._secret = secret
        self._max_age = max_age
        self._now = now or time.time

    def __call__(self, environ: Dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            identity = verify_edge_request(
                _wsgi_headers(environ),
                self._secret,
                method=environ.get("REQUEST_METHOD", "GET"),
                path=_wsgi_path(environ),
                max_age=self._max_age,
                now=self._now(),
            )
        except EdgeSignatureError as error:
            body = _refusal(error)
            headers = [(n.title(), v) for n, v in _HEADERS]
            headers.append(("Content-Length", str(len(body))))
            start_response("401 Unauthorized", headers)
            return [body]
        environ["keygate.identity"] = identity
        return self.app(environ, start_response)


def _wsgi_headers(environ: Dict[str, Any]) -> List[Tuple[str, str]]:
    # WSGI folds `-` into `_` (HTTP_X_KEYGATE_KEY_ID); the edge strips every
    # incoming spelling of its headers, so this mapping is unambiguous here.
    return [
        (name[5:].replace("_", "-").lower(), value)
        for name, value in environ.items()
        if name.startswith("HTTP_X_KEYGATE_")
    ]


def _wsgi_path(environ: Dict[str, Any]) -> str:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return str(raw).split("?", 1)[0]
    # PEP 3333: SCRIPT_NAME and PATH_INFO are bytes decoded as latin-1.
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    return quote(path.encode("latin-1"), safe=_SAFE)

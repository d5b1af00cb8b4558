"""Verifier: checks a keygate credential (static key or JWT) through the
control plane's verification API, for services that are not behind the edge.

``POST {url}/v1/verify`` with ``Authorization: Bearer <verify key>`` and
``{"credential", "method", "path"}``; the answer is the edge's own decision
(same code, same error codes). Answers are cached for ``cache_ttl`` seconds
(default 30) in a bounded LRU keyed on SHA-256(credential), method and path
(never the credential itself): **the TTL is the revocation window this adds**
(a key revoked now may still verify from the cache for up to ``cache_ttl``
seconds; a cached token is never reused past its ``exp``). Transport errors,
5xx answers and ``status: 503`` decisions are never cached.

Only the standard library is used (``urllib``); the call does not follow
redirects, so the verify key is never sent anywhere but ``url``.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import urllib.error
import urllib.request
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from .errors import VerifyError

DEFAULT_CACHE_TTL = 30
DEFAULT_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class Verification:
    """The decision: ``valid`` and ``code`` (``valid`` or the edge's error
    code), the ``status`` the edge would answer, and for a valid credential
    who it belongs to."""

    valid: bool
    code: str
    status: int
    client_id: Optional[str] = None
    key_id: Optional[str] = None
    env: Optional[str] = None
    key_type: Optional[str] = None
    auth: Optional[str] = None
    scopes: List[str] = field(default_factory=list)
    expires_at: Optional[int] = None
    message: Optional[str] = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx becomes an HTTPError, handled below


class Verifier:
    """``Verifier(url, verify_key).verify(credential, method="GET", path="/")``.

    Thread-safe; one instance per process is the intended use (the cache is
    per instance).

    :param url: the control plane's base URL.
    :param verify_key: a key with scope ``verify`` (or an admin key).
    :param cache_ttl: seconds an answer is reused (0 disables the cache).
    :param cache_size: the most answers kept (least recently used go first).
    :param audience: overrides the audience the API checks JWTs against.
    :param timeout: seconds for one call.
    :param clock: monotonic seconds, for tests (default ``time.monotonic``).
    """

    def __init__(
        self,
        url: str,
        verify_key: str,
        cache_ttl: float = DEFAULT_CACHE_TTL,
        cache_size: int = DEFAULT_CACHE_SIZE,
        *,
        audience: Optional[str] = None,
        timeout: float = 10.0,
        clock: Optional[Callable[[], float]] = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("url must be an http(s) URL of the control plane")
        if not verify_key:
            raise ValueError("verify_key is empty")
        if cache_ttl < 0 or cache_size < 0:
            raise ValueError("cache_ttl and cache_size must not be negative")
        self._endpoint = url.rstrip("/") + "/v1/verify"
        self._verify_key = verify_key
        self._ttl = cache_ttl
        self._size = cache_size
        self._audience = audience
        self._timeout = timeout
        self._clock = clock or time.monotonic
        self._lock = threading.Lock()
        self._cache: "OrderedDict[Tuple[str, str, str], Tuple[float, Verification]]" = OrderedDict()
        self._opener = urllib.request.build_opener(_NoRedirect)
        #: Calls made to the API (cache misses), for tests and metrics.
        self.calls = 0

    def verify(self, credential: str, method: str = "GET", path: str = "/") -> Verification:
        """The decision for ``credential`` used for ``method`` ``path``.

        :raises VerifyError: the API could not answer (never a cached one).
        """
        cache_key = (hashlib.sha256(credential.encode("utf-8")).hexdigest(), method, path)
        cached = self._lookup(cache_key)
        if cached is not None:
            return cached
        verification = self._call(credential, method, path)
        self._store(cache_key, verification)
        return verification

    def _lookup(self, cache_key: Tuple[str, str, str]) -> Optional[Verification]:
        with self._lock:
            entry = self._cache.get(cache_key)
            if entry is None:
                return None
            if self._clock() >= entry[0]:
                del self._cache[cache_key]
                return None
            self._cache.move_to_end(cache_key)
            return entry[1]

    def _store(self, cache_key: Tuple[str, str, str], verification: Verification) -> None:
        # A 503 decision means the API could not read its state: asking
        # again is the only right answer, so it is never reused.
        if self._ttl <= 0 or self._size == 0 or verification.status >= 500:
            return
        now_mono = self._clock()
        expires = now_mono + self._ttl
        if verification.valid and verification.expires_at is not None:
            # Never serve "valid" past the credential's own expiry.
            remaining = verification.expires_at - time.time()
            expires = min(expires, now_mono + remaining)
            if remaining <= 0:
                return
        with self._lock:
            self._cache[cache_key] = (expires, verification)
            self._cache.move_to_end(cache_key)
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)

    def _call(self, credential: str, method: str, path: str) -> Verification:
        body: Dict[str, Any] = {"credential": credential, "method": method, "path": path}
        if self._audience is not None:
            body["audience"] = self._audience
        request = urllib.request.Request(
            self._endpoint,
            data=json.dumps(body).encode("utf-8"),
            headers={
                "Authorization": f"Bearer {self._verify_key}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            method="POST",
        )
        with self._lock:
            self.calls += 1
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        except (urllib.error.URLError, OSError) as error:
            raise VerifyError("unavailable", f"verification API unreachable: {type(error).__name__}") from None
        if status >= 500:
            raise VerifyError("unavailable", f"verification API answered {status}", status)
        try:
            answer = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            answer = None
        if status != 200:
            code = f"http_{status}"
            if isinstance(answer, dict) and isinstance(answer.get("error"), dict):
                code = str(answer["error"].get("code") or code)
            raise VerifyError(code, f"verification API refused the call ({status})", status)
        return _decision(answer)


def _decision(answer: Any) -> Verification:
    def bad() -> VerifyError:
        return VerifyError("bad_response", "verification API answered something other than a decision", 200)

    if not isinstance(answer, dict) or not isinstance(answer.get("valid"), bool):
        raise bad()
    code, status = answer.get("code"), answer.get("status")
    if not isinstance(code, str) or isinstance(status, bool) or not isinstance(status, int):
        raise bad()
    scopes = answer.get("scopes") or []
    expires_at = answer.get("expires_at")
    if not isinstance(scopes, list) or (expires_at is not None and not isinstance(expires_at, int)):
        raise bad()
    text = lambda name: answer.get(name) if isinstance(answer.get(name), str) else None  # noqa: E731
    if answer["valid"] and not (code == "valid" and text("client_id") and text("key_id")):
        raise bad()  # fail closed: a "valid" without an identity is not one
    return Verification(
        valid=answer["valid"],
        code=code,
        status=status,
        client_id=text("client_id"),
        key_id=text("key_id"),
        env=text("env"),
        key_type=text("key_type"),
        auth=text("auth"),
        scopes=[str(s) for s in scopes],
        expires_at=expires_at,
        message=text("message"),
    )

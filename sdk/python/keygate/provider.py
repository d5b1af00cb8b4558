"""TokenProvider: short-lived signed tokens from one access key, cached and
renewed before they expire.

Everything happens offline: the key carries its key id and client id, and
its secret yields the Ed25519 pair (see :mod:`keygate.derive`), so building a
provider needs no call to the control plane. A malformed key fails here, at
construction, not at the first request.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional, Tuple

from .derive import SigningKeyPair
from .errors import InvalidKeyError
from .jwt import mint, new_jti
from .key import is_valid_client_id, parse_key

#: Default token lifetime, seconds.
DEFAULT_LIFETIME = 300
#: By default a token is renewed at 80% of its lifetime.
DEFAULT_RENEW_AT = 0.8


class TokenProvider:
    """Mints, caches and renews access tokens for one key and audience.

    Thread-safe: one provider may be shared by every thread of a process; a
    lock makes sure concurrent callers get the same cached token and at most
    one of them mints its successor.

    :param access_key: a secret access key (``kg_sk_…``).
    :param audience: the edge's public URL (the token's ``aud``).
    :param lifetime: seconds from ``iat`` to ``exp`` (default 300; the edge
        caps it, by default at 3600).
    :param refresh_margin: mint a new token this many seconds before the
        cached one expires (default: 20% of ``lifetime``, so renewal at 80%).
    :param client_id: only for a *legacy* key (issued before keys carried
        their client id): the key's client id, ``cl_…``. For a current key it
        may be given, and must then equal the one the key carries.
    :param now: a clock returning Unix seconds (default ``time.time``), for tests.
    :raises InvalidKeyError: the key is malformed, publishable, legacy
        without ``client_id``, or names another client than ``client_id``.
    """

    def __init__(
        self,
        access_key: str,
        audience: str,
        *,
        lifetime: int = DEFAULT_LIFETIME,
        refresh_margin: Optional[float] = None,
        client_id: Optional[str] = None,
        now: Optional[Callable[[], float]] = None,
    ) -> None:
        key = parse_key(access_key)
        self._client_id = _resolve_client_id(key.client_id, client_id)
        if not isinstance(audience, str) or not audience:
            raise ValueError("audience must be a non-empty string (the edge's public URL)")
        if isinstance(lifetime, bool) or not isinstance(lifetime, int) or lifetime <= 0:
            raise ValueError("lifetime must be a positive number of seconds")
        if refresh_margin is None:
            refresh_margin = lifetime * (1 - DEFAULT_RENEW_AT)
        if not 0 <= refresh_margin < lifetime:
            raise ValueError("refresh_margin must be at least 0 and less than lifetime")
        self._pair = SigningKeyPair.derive(key)
        self._audience = audience
        self._lifetime = lifetime
        self._margin = refresh_margin
        self._now = now or time.time
        self._lock = threading.Lock()
        # (token, iat, exp) of the cached token.
        self._cached: Optional[Tuple[str, int, int]] = None
        self.key_id = key.key_id
        self.env = key.env

    @property
    def client_id(self) -> str:
        """The client the tokens are issued for (``iss`` = ``sub``)."""
        return self._client_id

    @property
    def audience(self) -> str:
        return self._audience

    def get_token(self) -> str:
        """The cached token, or a new one if it is due for renewal."""
        with self._lock:
            now = int(self._now())
            cached = self._cached
            # Renew when the margin is reached, and also when the clock went
            # back before the cached token's `iat` (it would be refused as
            # issued in the future on a correctly set verifier clock).
            if cached is None or now >= cached[2] - self._margin or now < cached[1]:
                token = mint(
                    self._pair,
                    client_id=self._client_id,
                    audience=self._audience,
                    issued_at=now,
                    ttl=self._lifetime,
                    jti=new_jti(),
                )
                cached = (token, now, now + self._lifetime)
                self._cached = cached
            return cached[0]

    def authorization_header(self) -> str:
        """``Bearer <token>``, the value of an ``Authorization`` header."""
        return "Bearer " + self.get_token()

    def invalidate(self) -> None:
        """Drops the cached token: the next call mints a new one."""
        with self._lock:
            self._cached = None

    def __repr__(self) -> str:
        return (
            f"TokenProvider(key_id={self.key_id!r}, client_id={self._client_id!r}, "
            f"audience={self._audience!r}, lifetime={self._lifetime}, secret=<redacted>)"
        )


def _resolve_client_id(carried: Optional[str], given: Optional[str]) -> str:
    if given is not None and (not isinstance(given, str) or not is_valid_client_id(given)):
        raise InvalidKeyError(
            "invalid_key",
            "invalid_client_id",
            "client_id must be cl_ followed by 1 to 24 letters or digits",
        )
    if carried is None:
        if given is None:
            raise InvalidKeyError(
                "invalid_key",
                "legacy_key_needs_client_id",
                "this key predates embedded client ids: pass client_id='cl_…' "
                "(the key's client, from the control plane)",
            )
        return given
    if given is not None and given != carried:
        raise InvalidKeyError(
            "invalid_key",
            "client_id_mismatch",
            f"the key belongs to {carried}, not to the client_id given ({given})",
        )
    return carried

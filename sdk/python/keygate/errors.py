"""The package's typed errors.

None of them ever carries the credential it refused: an exception message
ends up in logs, and an access key or token is a bearer secret.
"""

from __future__ import annotations

from typing import Optional


class KeygateError(Exception):
    """Base class of every error this package raises on purpose."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        #: A stable, machine-readable code (documented per subclass).
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class InvalidKeyError(KeygateError, ValueError):
    """An access key that cannot be used, raised when a provider is built.

    ``code`` is the product's error code (``malformed_credential`` for text
    that is not a well-formed key with a matching checksum, ``invalid_key``
    for a key that is well formed but cannot sign here); ``reason`` says
    exactly why, one of: ``prefix``, ``type``, ``environment``, ``key_id``,
    ``client``, ``secret``, ``checksum``, ``too_long`` (malformed), and
    ``not_signable`` (a publishable key), ``legacy_key_needs_client_id``,
    ``client_id_mismatch``, ``invalid_client_id`` (invalid_key).
    """

    def __init__(self, code: str, reason: str, message: str) -> None:
        super().__init__(code, message)
        self.reason = reason

    def __repr__(self) -> str:
        return (
            f"InvalidKeyError(code={self.code!r}, reason={self.reason!r}, "
            f"message={self.message!r})"
        )


class EdgeSignatureError(KeygateError):
    """A request an origin must refuse: it did not provably come through the edge.

    ``code`` is ``missing`` (no ``X-Keygate-Signature``, or no identity
    headers), ``invalid`` (malformed, or the MAC does not match what the
    headers, method and path say) or ``stale`` (older, or further in the
    future, than ``max_age``).
    """


class VerifyError(KeygateError):
    """The verification API could not answer (this is not a "no").

    ``code`` is the API's error code for 4xx answers (``unauthorized``,
    ``forbidden``, …, or ``http_<status>`` when the body has none),
    ``unavailable`` for a transport error or a 5xx, and ``bad_response``
    for an answer that is not the documented JSON. ``status`` is the HTTP
    status when there was one.
    """

    def __init__(self, code: str, message: str, status: Optional[int] = None) -> None:
        super().__init__(code, message)
        self.status = status

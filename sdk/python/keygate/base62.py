"""Fixed-width base62 (``0-9A-Za-z``), exactly as ``shared/src/base62.rs``.

Every field of a key has a known width (leading zeros kept), and decoding is
canonical: text whose value does not fit in the byte width is refused rather
than truncated.
"""

from __future__ import annotations

from typing import Optional

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_VALUES = {c: i for i, c in enumerate(ALPHABET)}


def encoded_len(nbytes: int) -> int:
    """Digits needed for ``nbytes`` bytes: ceil(8·n / log2 62), in the same
    scaled integer arithmetic as the Rust ``const fn`` (so widths agree)."""
    return -(-(nbytes * 8 * 1_000_000_000) // 5_954_196_310)


def is_digit(char: str) -> bool:
    """Whether ``char`` is a base62 digit (ASCII only: ``str.isalnum`` is not)."""
    return char in _VALUES


def encode(data: bytes) -> str:
    """``data`` (big-endian) as exactly ``encoded_len(len(data))`` digits."""
    value = int.from_bytes(data, "big")
    digits = []
    for _ in range(encoded_len(len(data))):
        value, remainder = divmod(value, 62)
        digits.append(ALPHABET[remainder])
    return "".join(reversed(digits))


def decode(text: str, nbytes: int) -> Optional[bytes]:
    """Exactly ``encoded_len(nbytes)`` digits to ``nbytes`` bytes; ``None``
    for a wrong length, a character outside the alphabet, or overflow."""
    if len(text) != encoded_len(nbytes):
        return None
    value = 0
    for char in text:
        digit = _VALUES.get(char)
        if digit is None:
            return None
        value = value * 62 + digit
    # The running value only grows, so checking the end is the same as the
    # Rust codec's per-digit carry check.
    if value >= 1 << (8 * nbytes):
        return None
    return value.to_bytes(nbytes, "big")

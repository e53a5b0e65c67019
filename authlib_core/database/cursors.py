"""Pagination cursors: opaque, tamper-proof, and bound to the query that produced them.

A cursor holds a position in an index (the key of the last entry scanned) or "end". It is encrypted with a
keystream derived from the server secret (HMAC-SHA256 in counter mode, so index values do not show through)
and authenticated together with a fingerprint of the query (encrypt-then-MAC). A forged or truncated cursor,
or one used with a different query, fails authentication and is rejected with
:class:`~authlib_core.errors.InvalidCursorError`. Positions are keys, not offsets, so a cursor stays valid and
stable while other transactions insert or delete documents.

Example:
    >>> codec = CursorCodec(b"secret")
    >>> cursor = codec.seal(b"query-1", b"\\x10abc")
    >>> codec.open(cursor, b"query-1")
    b'\\x10abc'
    >>> codec.open(codec.seal(b"query-1", None), b"query-1") is None
    True
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from authlib_core.display import display_value
from authlib_core.errors import InvalidCursorError

__all__ = ["CursorCodec"]

_VERSION = 1
_MAC_BYTES = 16
_NONCE_BYTES = 8
_END = 0
_POSITION = 1


class CursorCodec:
    """Seals and opens cursors with keys derived from one server secret."""

    __slots__ = ("_enc_key", "_mac_key")

    def __init__(self, secret: bytes) -> None:
        if not secret:
            raise ValueError("a cursor secret must not be empty")
        self._enc_key = hmac.digest(secret, b"authlib-core cursor encryption", "sha256")
        self._mac_key = hmac.digest(secret, b"authlib-core cursor authentication", "sha256")

    def _keystream(self, nonce: bytes, length: int) -> bytes:
        blocks = bytearray()
        counter = 0
        while len(blocks) < length:
            blocks += hmac.digest(self._enc_key, nonce + counter.to_bytes(4, "big"), "sha256")
            counter += 1
        return bytes(blocks[:length])

    def _mac(self, fingerprint: bytes, body: bytes) -> bytes:
        return hmac.digest(self._mac_key, hashlib.sha256(fingerprint).digest() + body, "sha256")[:_MAC_BYTES]

    def seal(self, fingerprint: bytes, position: bytes | None) -> str:
        """A cursor for ``position`` (None = the end of the results) of the query ``fingerprint``."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        plain = bytes([_END]) if position is None else bytes([_POSITION]) + position
        cipher = bytes(a ^ b for a, b in zip(plain, self._keystream(nonce, len(plain)), strict=True))
        body = bytes([_VERSION]) + nonce + cipher
        return base64.urlsafe_b64encode(body + self._mac(fingerprint, body)).decode().rstrip("=")

    def open(self, cursor: str, fingerprint: bytes) -> bytes | None:
        """The position inside ``cursor`` (None = end).

        Raises:
            InvalidCursorError: the cursor is malformed, forged, or was made by a different query.
        """
        if not isinstance(cursor, str) or not cursor:
            shown = display_value(cursor, limit=120)
            raise InvalidCursorError(f"Invalid pagination cursor {shown}: expected a cursor string or null.")
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            raise InvalidCursorError("Invalid pagination cursor: it is not a cursor this server issued.") from None
        if len(raw) < 1 + _NONCE_BYTES + 1 + _MAC_BYTES or raw[0] != _VERSION:
            raise InvalidCursorError("Invalid pagination cursor: it is truncated or not a cursor this server issued.")
        body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if not hmac.compare_digest(mac, self._mac(fingerprint, body)):
            raise InvalidCursorError(
                "Invalid pagination cursor: it was modified, or it belongs to a different query (a cursor is only "
                "valid for the exact query — table, index, range, order and filter — that returned it)."
            )
        nonce, cipher = body[1 : 1 + _NONCE_BYTES], body[1 + _NONCE_BYTES :]
        plain = bytes(a ^ b for a, b in zip(cipher, self._keystream(nonce, len(cipher)), strict=True))
        return None if plain[0] == _END else plain[1:]

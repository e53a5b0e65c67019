"""The protocol's timestamps: an unsigned 64-bit integer sent as base64 of its 8 little-endian bytes.

Example:
    >>> encode_ts(1)
    'AQAAAAAAAAA='
    >>> decode_ts("AQAAAAAAAAA=")
    1
"""

from __future__ import annotations

import base64
import binascii

__all__ = ["decode_ts", "encode_ts"]


def encode_ts(ts: int) -> str:
    """``ts`` (0 to 2**64 - 1) in the wire form."""
    return base64.b64encode(ts.to_bytes(8, "little", signed=False)).decode("ascii")


def decode_ts(text: object) -> int:
    """The integer of a wire timestamp.

    Raises:
        ValueError: ``text`` is not base64 of exactly 8 bytes.
    """
    if not isinstance(text, str):
        raise ValueError(f"a timestamp must be a base64 string of 8 bytes, got {type(text).__name__}")
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"a timestamp must be base64 of 8 bytes, got {text[:40]!r}") from exc
    if len(raw) != 8:
        raise ValueError(f"a timestamp must be base64 of 8 bytes, got {len(raw)} bytes")
    return int.from_bytes(raw, "little", signed=False)

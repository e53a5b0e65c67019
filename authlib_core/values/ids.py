"""Document ids that carry their table, in Convex's id format.

An id is the lowercase base32 (alphabet ``0123456789abcdefghjkmnpqrstvwxyz``, no padding) of::

    VInt(table_number) ‖ 16 random bytes ‖ fletcher16(everything before) as 2 bytes little-endian

``VInt`` is LEB128 (7 bits per byte, low group first, high bit = "more") and fletcher16 sums modulo 256,
as in Convex's ``id_v6``. So ``v.id("users")`` can check that a string is an id *of the users table*
without reading the database. Decoding insists on the canonical encoding (zero padding bits, minimal
VInt), so every single-character typo is caught by the checksum. Ids are random, not time-ordered.

**Deviation from Convex: table numbers are derived from the table name.** Convex numbers tables from a
catalog (1, 2, 3, ... giving 31-32 character ids). We keep no catalog: ``table_number(name)`` is a
stable hash of the name (SHA-256: the same in every process, Python version and engine) mapped into
``[2**21, 2**28)``, so its VInt is always 4 bytes and every id is exactly :data:`ID_LENGTH` (36)
characters. Two names can share a number (odds about 1 in 2.7·10^8 for a pair of tables, 1 in 50,000
for a schema of 100 tables): the schema layer must reject a schema whose tables collide. Renaming a
table changes its number and so invalidates its ids, as moving documents to another table does in
Convex.

Example:
    >>> from authlib_core.values import decode_id, is_id_for, new_id, table_number
    >>> doc_id = new_id("users")
    >>> len(doc_id), is_id_for("users", doc_id), is_id_for("posts", doc_id)
    (36, True, False)
    >>> decode_id(doc_id) == table_number("users")
    True
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from typing import TYPE_CHECKING, Final

from authlib_core.errors import InvalidValueError

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["ID_LENGTH", "decode_id", "is_id_for", "new_id", "table_name_for", "table_number"]

_ALPHABET: Final = "0123456789abcdefghjkmnpqrstvwxyz"
_DIGITS: Final = {char: index for index, char in enumerate(_ALPHABET)}
_TABLE_MIN: Final = 1 << 21  # smallest number whose VInt takes 4 bytes
_TABLE_MAX: Final = 1 << 28  # exclusive; every number in range takes exactly 4 bytes
_INTERNAL_ID_LEN: Final = 16
_FOOTER_LEN: Final = 2
_MAX_VINT_LEN: Final = 5
_VERSION: Final = 0

#: Length of every id :func:`new_id` makes (22 bytes → 36 base32 characters).
ID_LENGTH: Final = 36
# Convex's own ids are 31..37 characters; decode_id accepts that whole range.
_MIN_LENGTH: Final = 31
_MAX_LENGTH: Final = 37


def table_number(table: str) -> int:
    """The number that ids of ``table`` carry: a stable hash of the name in ``[2**21, 2**28)``.

    Example:
        >>> table_number("users") == table_number("users"), 2**21 <= table_number("users") < 2**28
        (True, True)
    """
    if not isinstance(table, str) or not table:
        raise InvalidValueError(f"A table name must be a non-empty string, not {table!r}.")
    return _table_number(table)


@functools.lru_cache(maxsize=4096)
def _table_number(table: str) -> int:
    try:
        data = table.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidValueError(f"Table name {table!r} is not valid Unicode.") from None
    digest = hashlib.sha256(data).digest()
    return _TABLE_MIN + int.from_bytes(digest[:8], "big") % (_TABLE_MAX - _TABLE_MIN)


def new_id(table: str) -> str:
    """A fresh random id for a document of ``table`` (128 random bits from :mod:`secrets`).

    Example:
        >>> a, b = new_id("users"), new_id("users")
        >>> a != b and is_id_for("users", a)
        True
    """
    prefix = _vint(table_number(table)) + secrets.token_bytes(_INTERNAL_ID_LEN)
    return _base32(prefix + (_fletcher16(prefix) ^ _VERSION).to_bytes(2, "little"))


def decode_id(s: object) -> int | None:
    """The table number inside id ``s``, or ``None`` if ``s`` is not a well-formed id.

    Rejected: non-strings, wrong length, characters outside the alphabet (uppercase included),
    non-canonical padding bits, a bad VInt, and a footer that does not match the checksum.

    Example:
        >>> decode_id("not an id") is None
        True
    """
    if not isinstance(s, str) or not _MIN_LENGTH <= len(s) <= _MAX_LENGTH:
        return None
    data = _unbase32(s)
    if data is None:
        return None
    parsed = _read_vint(data)
    if parsed is None:
        return None
    number, used = parsed
    if len(data) != used + _INTERNAL_ID_LEN + _FOOTER_LEN:
        return None
    prefix, footer = data[:-_FOOTER_LEN], data[-_FOOTER_LEN:]
    if int.from_bytes(footer, "little") != _fletcher16(prefix) ^ _VERSION:
        return None
    return number


def is_id_for(table: str, s: object) -> bool:
    """Whether ``s`` is a well-formed id of a document in ``table``.

    Example:
        >>> is_id_for("users", new_id("users")), is_id_for("users", 42)
        (True, False)
    """
    number = decode_id(s)
    return number is not None and number == table_number(table)


def table_name_for(s: object, tables: Iterable[str]) -> str | None:
    """Which of ``tables`` id ``s`` belongs to (``None`` if none, or if ``s`` is not an id).

    Table numbers are hashes, so only a list of candidate names (the schema's tables) can turn a number
    back into a name.

    Example:
        >>> table_name_for(new_id("posts"), ["users", "posts"])
        'posts'
    """
    number = decode_id(s)
    if number is None:
        return None
    return next((name for name in tables if table_number(name) == number), None)


def _vint(number: int) -> bytes:
    out = bytearray()
    while number >= 0x80:
        out.append((number & 0x7F) | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


def _read_vint(data: bytes) -> tuple[int, int] | None:
    number = 0
    for index in range(min(_MAX_VINT_LEN, len(data))):
        byte = data[index]
        number |= (byte & 0x7F) << (7 * index)
        if byte < 0x80:
            if (index > 0 and byte == 0) or number == 0 or number >= 1 << 32:
                return None  # non-minimal encoding, table 0, or beyond u32
            return number, index + 1
    return None


def _fletcher16(data: bytes) -> int:
    low = high = 0
    for byte in data:
        low = (low + byte) % 256
        high = (high + low) % 256
    return (high << 8) | low


def _base32(data: bytes) -> str:
    bits = len(data) * 8
    length = -(-bits // 5)
    number = int.from_bytes(data, "big") << (length * 5 - bits)
    return "".join(_ALPHABET[(number >> (5 * (length - 1 - i))) & 31] for i in range(length))


def _unbase32(s: str) -> bytes | None:
    number = 0
    for char in s:
        digit = _DIGITS.get(char)
        if digit is None:
            return None
        number = (number << 5) | digit
    size = len(s) * 5 // 8
    padding = len(s) * 5 - size * 8
    if padding >= 5 or number & ((1 << padding) - 1):
        return None  # not the canonical encoding of any byte string
    return (number >> padding).to_bytes(size, "big")

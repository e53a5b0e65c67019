"""Keys of the subscription index: which changes can touch which reads, found by key lookup instead of a Scan.

A connection registers one *watch key* per thing its queries read; a change is looked up by the keys it touches.
Every pair of a read and a write that intersect (:meth:`ReadSet.intersects`) shares a key, so the index never
misses a connection; it may name a connection whose queries turn out unaffected (the session checks exactly).

* A document read by id: ``d#<id>``; a write of that document looks it up.
* An index interval inside the keys whose first component is one value (``eq`` on the first field, the usual
  live query): ``r#<table>#<index>#<hex of that component>``; any other interval: ``r#<table>#<index>#*``.
  A written index key looks up both its own first component's key and the ``*`` key of its index.
* A read set the engine could not record (``complete=False``): ``all``, which every change looks up.

Example:
    >>> from authlib_core.database.readset import ReadSet, Write, WriteSet
    >>> from authlib_core.values import index_key, prefix_successor
    >>> low = index_key(["alice"])
    >>> reads = ReadSet(ranges=(("notes", "by_owner", low, prefix_successor(low)),))
    >>> read_keys(reads) & write_keys(WriteSet((Write("notes", "n1", {"by_owner": (None, low + b"\\x0d")}),)))
    {'r#notes#by_owner#10616c69636500'}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from authlib_core.values import prefix_successor

if TYPE_CHECKING:
    from authlib_core.database.readset import ReadSet, WriteSet

__all__ = ["ALL", "first_component", "read_keys", "write_keys"]

#: The key every connection with an unrecorded read set registers, and every "everything" change looks up.
ALL: Final = "all"

#: Encoded scalar tags and their total lengths (tag included); see :mod:`authlib_core.values.order`.
_FIXED = {0x01: 1, 0x03: 1, 0x08: 1, 0x0E: 1, 0x0F: 1, 0x0D: 9}
_FIXED.update({0x09: 2, 0x0A: 3, 0x0B: 5, 0x0C: 9, 0x07: 2, 0x06: 3, 0x05: 5, 0x04: 9})
_ESCAPED = (0x10, 0x11)  # string, bytes: escaped, ended by 0x00
_NESTED = (0x12, 0x15)  # array, object: components, ended by 0x00
_DEPTH = 64


def _end_of_value(key: bytes, start: int, depth: int = 0) -> int | None:
    """The index just past the encoded value starting at ``start``, or None if ``key`` ends inside it."""
    if start >= len(key) or depth > _DEPTH:
        return None
    tag = key[start]
    if tag in _FIXED:
        end = start + _FIXED[tag]
        return end if end <= len(key) else None
    if tag in _ESCAPED:
        end = key.find(b"\x00", start + 1)
        return None if end < 0 else end + 1
    if tag in _NESTED:
        position = start + 1
        while position < len(key) and key[position] != 0x00:
            after = _end_of_value(key, position, depth + 1)
            if after is None:
                return None
            position = after
        return position + 1 if position < len(key) else None
    return None


def first_component(key: bytes) -> bytes | None:
    """The encoded first value of an index key (None if ``key`` does not start with a whole value).

    Example:
        >>> from authlib_core.values import index_key
        >>> first_component(index_key(["a", 1.0])) == index_key(["a"])
        True
    """
    end = _end_of_value(key, 0)
    return None if end is None else key[:end]


def _interval_key(table: str, index: str, lower: bytes, upper: bytes) -> str:
    component = first_component(lower)
    if component is not None and upper <= prefix_successor(component):
        return f"r#{table}#{index}#{component.hex()}"
    return f"r#{table}#{index}#*"


def read_keys(reads: ReadSet | None) -> set[str]:
    """The watch keys a query with read set ``reads`` registers (``{ALL}`` when the engine recorded none)."""
    if reads is None or not reads.complete:
        return {ALL}
    keys = {f"d#{document}" for document in reads.documents}
    keys.update(_interval_key(*interval) for interval in reads.ranges)
    return keys


def write_keys(writes: WriteSet) -> set[str]:
    """The watch keys to look up for a change: every connection that may have read what it touched is under one."""
    if writes.everything:
        raise ValueError("a write set of 'everything' names no keys; notify every connection instead")
    keys = {ALL}
    for write in writes.writes:
        keys.add(f"d#{write.id}")
        for index, pair in write.keys.items():
            for key in pair:
                if key is None:
                    continue
                keys.add(f"r#{write.table}#{index}#*")
                component = first_component(key)
                if component is not None:
                    keys.add(f"r#{write.table}#{index}#{component.hex()}")
    return keys

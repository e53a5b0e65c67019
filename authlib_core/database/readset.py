"""Read sets and write sets: what a transaction depended on and what a commit changed.

Engines already record every read of a transaction to detect conflicts (point reads by id, index intervals as
scanned). :meth:`~authlib_core.database.interface.EngineTransaction.read_set` hands that record out as a
:class:`ReadSet`, so a live query knows exactly which later commits can change its result: one mechanism, two uses.
A commit's :class:`WriteSet` lists each written document with its index keys before and after; a read set
*intersects* a write set when a written id was read by id, or a key before or after falls inside a read interval.

Example:
    >>> reads = ReadSet(documents=frozenset({"d1"}), ranges=(("notes", "by_creation_time", b"", b"\\xff"),))
    >>> reads.intersects(WriteSet((Write("notes", "d9", {"by_creation_time": (None, b"\\x10")}),)))
    True
    >>> reads.intersects(WriteSet((Write("users", "u1", {"by_creation_time": (None, b"\\x10")}),)))
    False
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import contextvars
import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from authlib_core.database.interface import WriteOp

__all__ = [
    "ReadSet",
    "Write",
    "WriteSet",
    "collect_read_set",
    "recording_reads",
    "write_set",
    "write_set_from_json",
    "write_set_to_json",
]

#: ``(table, index, lower, upper)``: a half-open interval of encoded keys read by a scan.
Interval = tuple[str, str, bytes, bytes]


@dataclasses.dataclass(frozen=True, slots=True)
class Write:
    """One written document: its table, id and, per index, its key ``(before, after)`` (None where absent)."""

    table: str
    id: str
    keys: Mapping[str, tuple[bytes | None, bytes | None]]


@dataclasses.dataclass(frozen=True, slots=True)
class WriteSet:
    """Everything one commit changed. ``everything``: treat every read as changed (e.g. the functions reloaded)."""

    writes: tuple[Write, ...]
    everything: bool = False

    @property
    def tables(self) -> frozenset[str]:
        """The tables written."""
        return frozenset(write.table for write in self.writes)


def write_set_to_json(writes: WriteSet) -> dict[str, Any]:
    """A JSON form of a write set (keys in base64), for handing a commit to another process.

    Example:
        >>> ws = WriteSet((Write("notes", "n1", {"by_topic": (None, b"\\x10a\\x00")}),))
        >>> write_set_from_json(write_set_to_json(ws)) == ws
        True
    """
    return {
        "everything": writes.everything,
        "writes": [
            [
                write.table,
                write.id,
                {name: [None if key is None else _b64(key) for key in pair] for name, pair in write.keys.items()},
            ]
            for write in writes.writes
        ],
    }


def write_set_from_json(data: Any) -> WriteSet:
    """The write set of :func:`write_set_to_json`'s output.

    Raises:
        ValueError: ``data`` is not such an output.
    """
    try:
        return WriteSet(
            tuple(
                Write(
                    str(table),
                    str(document),
                    {
                        str(name): (
                            None if before is None else base64.b64decode(before, validate=True),
                            None if after is None else base64.b64decode(after, validate=True),
                        )
                        for name, (before, after) in keys.items()
                    },
                )
                for table, document, keys in data["writes"]
            ),
            everything=bool(data["everything"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as exc:
        raise ValueError(f"not a stored write set: {exc}") from exc


@dataclasses.dataclass(frozen=True, slots=True)
class ReadSet:
    """What a transaction read. ``complete=False`` means the engine could not say: every write intersects it."""

    documents: frozenset[str] = frozenset()
    ranges: tuple[Interval, ...] = ()
    complete: bool = True

    @property
    def tables(self) -> frozenset[str]:
        """The tables whose index intervals were read (point reads are matched by id)."""
        return frozenset(interval[0] for interval in self.ranges)

    def to_json(self) -> dict[str, Any]:
        """A JSON form (keys in base64), for keeping a live query's read set outside the process.

        Example:
            >>> ReadSet.from_json(ReadSet(frozenset({"d1"}), (("t", "i", b"\\x01", b"\\x02"),)).to_json()).documents
            frozenset({'d1'})
        """
        return {
            "documents": sorted(self.documents),
            "ranges": [[table, index, _b64(lower), _b64(upper)] for table, index, lower, upper in self.ranges],
            "complete": self.complete,
        }

    @classmethod
    def from_json(cls, data: Any) -> ReadSet:
        """The read set of :meth:`to_json`'s output.

        Raises:
            ValueError: ``data`` is not such an output.
        """
        try:
            return cls(
                documents=frozenset(str(item) for item in data["documents"]),
                ranges=tuple(
                    (
                        str(table),
                        str(index),
                        base64.b64decode(lower, validate=True),
                        base64.b64decode(upper, validate=True),
                    )
                    for table, index, lower, upper in data["ranges"]
                ),
                complete=bool(data["complete"]),
            )
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise ValueError(f"not a stored read set: {exc}") from exc

    def union(self, other: ReadSet) -> ReadSet:
        """Both read sets as one."""
        return ReadSet(self.documents | other.documents, self.ranges + other.ranges, self.complete and other.complete)

    def intersects(self, writes: WriteSet) -> bool:
        """True when a commit of ``writes`` may change what this transaction read."""
        if writes.everything:
            return True
        if not self.complete:
            return bool(writes.writes)
        for write in writes.writes:
            if write.id in self.documents:
                return True
            for table, index, lower, upper in self.ranges:
                if table != write.table:
                    continue
                before, after = write.keys.get(index, (None, None))
                if (before is not None and lower <= before < upper) or (after is not None and lower <= after < upper):
                    return True
        return False


def write_set(ops: Sequence[WriteOp]) -> WriteSet:
    """The write set of a commit's operations."""
    writes = []
    for op in ops:
        names = set(op.keys_before) | set(op.keys_after)
        keys = {name: (op.keys_before.get(name), op.keys_after.get(name)) for name in names}
        writes.append(Write(op.table, op.id, keys))
    return WriteSet(tuple(writes))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


_collector: contextvars.ContextVar[list[ReadSet] | None] = contextvars.ContextVar("authlib_read_sets", default=None)


@contextlib.contextmanager
def recording_reads() -> Iterator[list[ReadSet]]:
    """Collect the read sets of the queries run inside the block (in this thread/context).

    Example:
        >>> with recording_reads() as reads:
        ...     pass  # database.run_query(...) appends its ReadSet here
        >>> reads
        []
    """
    reads: list[ReadSet] = []
    token = _collector.set(reads)
    try:
        yield reads
    finally:
        _collector.reset(token)


def collect_read_set(read_set: Callable[[], ReadSet | None]) -> None:
    """Hand a finished transaction's read set to :func:`recording_reads` when a caller is recording.

    ``read_set`` (e.g. ``tx.read_set``) is called only then: a plain HTTP query builds no read set.

    Example:
        >>> with recording_reads() as reads:
        ...     collect_read_set(lambda: None)  # an engine that keeps no read set
        >>> reads[0].complete
        False
    """
    reads = _collector.get()
    if reads is not None:
        found = read_set()
        reads.append(found if found is not None else ReadSet(complete=False))

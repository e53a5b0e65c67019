"""The storage-engine interface: the few primitives every engine implements.

Everything Convex-shaped (``ctx.db``, queries, filters, pagination, read-your-own-writes, limits, retries)
lives above this module in engine-neutral code. An engine only has to:

* read one document by id (:meth:`EngineTransaction.get`);
* read a range of one index in key order (:meth:`EngineTransaction.scan`);
* commit a set of document writes atomically **after checking that nothing it read has changed**
  (:meth:`EngineTransaction.commit`) — this is what makes mutations serializable, phantoms included;
* for engines whose reads are not served from one snapshot, check the reads of a read-only transaction
  (:meth:`EngineTransaction.validate`) so that a query never observes part of a mutation.

Keys are bytes that sort bytewise in Convex's value order (:func:`authlib_core.values.index_key`), so an
engine never interprets values: SQLite keeps them in a BLOB primary key, DynamoDB in a Binary sort key.
Engines store documents as canonical ``convex_encoded_json`` text (:func:`serialize_document`).

Engines translate their native errors: a conflict becomes :class:`~authlib_core.errors.ConflictError`,
a transient outage :class:`~authlib_core.errors.StorageUnavailableError`; nothing native escapes.

The engine contract test suite (``tests/contract/``) is the executable form of this interface.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Literal

from authlib_core.values import Value, decode, dumps, encode, loads

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from authlib_core.database.readset import ReadSet
    from authlib_core.database.receipts import Receipt

__all__ = [
    "BY_CREATION_TIME",
    "BY_ID",
    "DocumentRecord",
    "EngineTransaction",
    "IndexEntry",
    "IndexSpec",
    "KeyRange",
    "Order",
    "ScanResult",
    "StorageEngine",
    "TransactionMode",
    "WriteOp",
    "deserialize_document",
    "serialize_document",
    "stored_size",
]

Order = Literal["asc", "desc"]
TransactionMode = Literal["read", "write", "exclusive"]

#: Built-in index of every table, ordered by ``_creationTime`` (then ``_id``).
BY_CREATION_TIME = "by_creation_time"
#: Built-in point "index" on ``_id``; answered by :meth:`EngineTransaction.get`.
BY_ID = "by_id"


@dataclasses.dataclass(frozen=True, slots=True)
class IndexSpec:
    """An index as the engine sees it.

    ``fields`` are the user fields in order (dotted paths allowed); every index key also ends with
    ``_creationTime`` and ``_id``, which are not listed here. ``shards`` is a layout hint for engines
    that spread an index over several partitions (DynamoDB); engines that do not shard ignore it.
    """

    table: str
    name: str
    fields: tuple[str, ...]
    shards: int = 1

    @property
    def qualified_name(self) -> str:
        """``"table.index"``, the name used in messages and engine catalogs."""
        return f"{self.table}.{self.name}"


@dataclasses.dataclass(frozen=True, slots=True)
class KeyRange:
    """A half-open interval ``[lower, upper)`` of encoded keys of one index.

    ``eq_values`` are the values of the leading fields fixed by ``q.eq(...)`` (possibly none). Engines that
    partition an index by its first field use ``eq_values[0]`` to pick the partition; when it is absent the
    range may span every partition.
    """

    index: IndexSpec
    lower: bytes
    upper: bytes
    eq_values: tuple[Value, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class DocumentRecord:
    """One stored document as the engine returns it.

    ``value`` is the whole document including ``_id`` and ``_creationTime``. ``version`` is an engine-defined
    integer that changes on every write of this document; the transaction layer hands records back in
    :class:`WriteOp` so the engine can check the version it read.
    """

    table: str
    id: str
    creation_time: float
    value: dict[str, Value]
    version: int
    #: ``len(serialize_document(value))`` when the engine knows it (the stored text's length), so reads are
    #: counted against the limits without encoding the document again; ``None``: computed when needed.
    size: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class IndexEntry:
    """One index entry: its full key (fields, ``_creationTime``, ``_id``) and the document it points to."""

    key: bytes
    document: DocumentRecord


@dataclasses.dataclass(frozen=True, slots=True)
class ScanResult:
    """A batch of entries in scan order. ``exhausted`` is true when the range has no entries after them."""

    entries: list[IndexEntry]
    exhausted: bool


@dataclasses.dataclass(frozen=True, slots=True)
class WriteOp:
    """The final effect of one transaction on one document.

    ``before`` is the committed record the transaction read (None for an insert); ``after`` the complete new
    document including system fields (None for a delete). ``keys_before`` / ``keys_after`` map every index of
    the table (including :data:`BY_CREATION_TIME`) to the document's key in it, before and after.
    """

    table: str
    id: str
    before: DocumentRecord | None
    after: dict[str, Value] | None
    keys_before: Mapping[str, bytes]
    keys_after: Mapping[str, bytes]
    indexes: Mapping[str, IndexSpec]


class EngineTransaction(ABC):
    """One transaction's view of the store. Not shared between threads.

    Every ``get`` and ``scan`` is recorded as part of the transaction's read set; :meth:`commit` and
    :meth:`validate` check that set.
    """

    @abstractmethod
    def get(self, document_id: str) -> DocumentRecord | None:
        """Return the document with this id, or None. Records the read (absence included)."""

    @abstractmethod
    def scan(self, key_range: KeyRange, order: Order, *, after: bytes | None, limit: int) -> ScanResult:
        """Return up to ``limit`` entries of ``key_range`` in ``order``, strictly after ``after``.

        "After" follows the scan direction: for ``"desc"`` it means keys smaller than ``after``. Records
        the interval actually covered (from the start of the range, or ``after``, up to the last entry
        returned, or to the end of the range when ``exhausted``).
        """

    @abstractmethod
    def commit(self, writes: Sequence[WriteOp]) -> None:
        """Atomically validate the read set and apply ``writes``; all of them or none.

        Raises:
            ConflictError: something this transaction read changed since it was read, or a concurrent
                transaction holds the items; nothing was written.
            ReceiptExistsError: the receipt added (:meth:`add_receipt`) has a key another commit took first;
                nothing was written.
            StorageUnavailableError: the store failed; nothing was written.
        """

    @abstractmethod
    def validate(self) -> None:
        """Check that everything read is still current (used by read-only transactions).

        Engines whose reads all come from one snapshot implement this as a no-op.

        Raises:
            ConflictError: a read is stale; the caller re-runs the transaction.
        """

    @abstractmethod
    def close(self) -> None:
        """Release the transaction's resources; uncommitted writes are discarded. Idempotent."""

    def add_receipt(self, receipt: Receipt) -> bool:
        """Write ``receipt`` inside the next :meth:`commit` (which must then have writes); False when it cannot go
        in (the engine keeps no receipts, or the commit has no room left for it): the caller keeps it otherwise.
        The commit then applies only where no unexpired receipt has its key, and otherwise raises
        :class:`~authlib_core.database.receipts.ReceiptExistsError` having written nothing.
        See :mod:`authlib_core.database.receipts`."""
        return False

    def read_set(self) -> ReadSet | None:
        """What this transaction has read so far (the record kept for conflict detection), or None when the
        engine does not expose it (then a live query re-runs after every commit)."""
        return None


class StorageEngine(ABC):
    """A document store: a factory of transactions plus index maintenance."""

    #: Human-readable engine name ("sqlite", "dynamodb").
    name: str = "engine"
    #: True when all reads of one transaction come from a single snapshot.
    snapshot_reads: bool = False
    #: True when ``begin("exclusive")`` blocks other writers (used to guarantee progress under contention).
    supports_exclusive: bool = False
    #: Seconds one storage call may take when the store hangs (its timeouts); a conflict retry starts only while
    #: the request's time budget still covers the backoff plus this much (:mod:`authlib_core.database.deadline`).
    call_budget_s: float = 0.0

    #: True when the engine keeps receipts (:mod:`authlib_core.database.receipts`).
    supports_receipts: bool = False
    #: Largest receipt value (UTF-8 bytes) one commit can take; a larger one is the caller's to shorten.
    max_receipt_bytes: int = 0

    @abstractmethod
    def begin(self, mode: TransactionMode) -> EngineTransaction:
        """Start a transaction. ``"read"`` never writes; ``"exclusive"`` is only valid if supported."""

    @abstractmethod
    def ensure_indexes(self, indexes: Sequence[IndexSpec]) -> None:
        """Make the stored index entries match ``indexes`` (every table's full list, built-ins included).

        New or changed indexes are built from the stored documents; indexes no longer listed are dropped.
        Idempotent and cheap when nothing changed.
        """

    def read_receipt(self, scope: str, key: str) -> str | None:
        """The value of the receipt ``(scope, key)`` if it is kept and not expired.

        Raises:
            StorageUnavailableError: the store cannot be read.
        """
        return None

    def write_receipt(self, receipt: Receipt) -> bool:
        """Keep ``receipt`` outside any transaction (for what no commit carries), unless an unexpired receipt has
        its key: that one is kept (a failure's answer never replaces a committed success). True when written.

        Raises:
            StorageUnavailableError: the store cannot be written.
        """
        return False

    def close(self) -> None:  # noqa: B027  # optional hook
        """Release connections and clients."""


def serialize_document(value: Mapping[str, Value]) -> str:
    """Canonical storage form of a document: ``convex_encoded_json`` text with sorted keys.

    Example:
        >>> serialize_document({"b": 1.0, "a": b"x"})
        '{"a":{"$bytes":"eA=="},"b":1}'
    """
    return dumps(encode(dict(value), "convex_encoded_json"))


def stored_size(record: DocumentRecord) -> int:
    """``len(serialize_document(record.value))``, from the stored text's length when the engine recorded it."""
    return record.size if record.size is not None else len(serialize_document(record.value))


def deserialize_document(text: str | bytes) -> dict[str, Value]:
    """Inverse of :func:`serialize_document`.

    Example:
        >>> deserialize_document('{"a":{"$bytes":"eA=="},"b":1}')
        {'a': b'x', 'b': 1.0}
    """
    value = decode(loads(text))
    if not isinstance(value, dict):
        raise TypeError("a stored document must be a JSON object")
    return value

"""One transaction: reads through the engine, buffered writes, read-your-own-writes, limits, commit.

Writes are buffered here and reach the engine only at :meth:`Transaction.commit`, as one atomic batch that
the engine validates against everything the transaction read. Reads see the transaction's own writes:
``get`` returns the buffered version, and index scans merge buffered documents into the engine's entries
in key order. Nothing is written if the function raises.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from authlib_core.database.catalog import SYSTEM_FIELDS, Catalog
from authlib_core.database.interface import (
    DocumentRecord,
    EngineTransaction,
    IndexEntry,
    KeyRange,
    Order,
    WriteOp,
    serialize_document,
    stored_size,
)
from authlib_core.database.keys import document_key, document_keys
from authlib_core.database.limits import Limits, TransactionUsage
from authlib_core.database.system_tables import is_system_table
from authlib_core.display import display_value
from authlib_core.errors import DocumentNotFoundError, InvalidQueryError, LimitExceededError, SchemaValidationError
from authlib_core.values import REMOVE, Int64, Value, decode_id, is_id_for, new_id, to_value

if TYPE_CHECKING:
    from authlib_core.database.readset import ReadSet
    from authlib_core.database.receipts import Receipt

__all__ = ["Scan", "Transaction", "copy_value"]

_MAX_BATCH = 1000


#: Values that are never containers: shared by copies as they are, without a call per field.
_SCALARS = frozenset({str, float, bool, type(None), bytes, Int64})


def copy_value(value: Value) -> Value:
    """A copy of ``value`` whose lists and dicts are new objects (scalars are immutable and shared)."""
    if isinstance(value, dict):
        return {key: item if type(item) in _SCALARS else copy_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [item if type(item) in _SCALARS else copy_value(item) for item in value]
    return value


@dataclasses.dataclass(frozen=True, slots=True)
class _Pending:
    table: str
    before: DocumentRecord | None
    after: dict[str, Value] | None


class Scan:
    """A lazy, ordered walk over one index range, merging buffered writes into the engine's entries.

    Pulls entries from the engine in growing batches; :attr:`at_end` tells whether the range is exhausted
    (so pagination knows ``isDone`` without reading one entry too many). :attr:`rows` and :attr:`bytes` count
    what this scan has returned (filtered-out documents included), for ``paginate``'s per-page read options.
    """

    def __init__(
        self,
        tx: Transaction,
        key_range: KeyRange,
        order: Order,
        *,
        after: bytes | None,
        stop: bytes | None,
        batch_hint: int,
    ) -> None:
        self._tx = tx
        self._range = key_range
        self._order: Order = order
        self._position = after
        self._stop = stop
        self._batch = max(1, min(batch_hint, _MAX_BATCH))
        self._engine_buffer: list[IndexEntry] = []
        self._engine_done = False
        self._pending = tx._pending_in_range(key_range, order, after)
        self.last_key: bytes | None = after
        self.rows = 0
        self.bytes = 0

    def _before(self, a: bytes, b: bytes) -> bool:
        return a < b if self._order == "asc" else a > b

    def _past_stop(self, key: bytes) -> bool:
        return self._stop is not None and self._before(self._stop, key)

    def _fill(self) -> None:
        while not self._engine_buffer and not self._engine_done:
            result = self._tx._engine.scan(self._range, self._order, after=self._position, limit=self._batch)
            self._batch = min(self._batch * 2, _MAX_BATCH)
            if result.entries:
                self._position = result.entries[-1].key
            self._engine_done = result.exhausted or not result.entries
            hidden = self._tx._pending_ids(self._range.index.table)
            for entry in result.entries:
                self._tx._remember(entry.document)
                if entry.document.id not in hidden:
                    self._engine_buffer.append(entry)
            self._engine_buffer.reverse()  # pop() from the end in scan order

    def next(self) -> tuple[bytes, dict[str, Value]] | None:
        """The next (key, document) in scan order, or None at the end. Counts the read against the limits."""
        self._fill()
        engine_head = self._engine_buffer[-1] if self._engine_buffer else None
        pending_head = self._pending[-1] if self._pending else None
        if engine_head is None and pending_head is None:
            return None
        if pending_head is not None and (engine_head is None or self._before(pending_head[0], engine_head.key)):
            key, document = pending_head
            if self._past_stop(key):
                self._stop_here()
                return None
            self._pending.pop()
            size = len(serialize_document(document).encode())
        else:
            assert engine_head is not None
            key, document = engine_head.key, engine_head.document.value
            if self._past_stop(key):
                self._stop_here()
                return None
            size = stored_size(engine_head.document)
            self._tx._usage.add_read(size)  # raises at a limit; the entry then stays unread
            self._engine_buffer.pop()
        self.last_key = key
        self.rows += 1
        self.bytes += size
        return key, copy_value(document)  # type: ignore[return-value]

    def _stop_here(self) -> None:
        self._pending.clear()
        self._engine_buffer.clear()
        self._engine_done = True

    @property
    def at_end(self) -> bool:
        """True when no entry is left in the range (reads the next engine batch if needed)."""
        self._fill()
        if self._engine_buffer:
            return self._past_stop(self._engine_buffer[-1].key)
        if self._pending:
            return self._past_stop(self._pending[-1][0])
        return True


def _through(key_range: KeyRange, order: Order, stop: bytes) -> KeyRange:
    """``key_range`` cut after ``stop`` in scan order. Keys are prefix-free, so ``stop + 0x00`` is above ``stop``
    and below every greater key."""
    if order == "asc":
        return dataclasses.replace(key_range, upper=min(key_range.upper, stop + b"\x00"))
    return dataclasses.replace(key_range, lower=max(key_range.lower, stop))


class Transaction:
    """Engine-neutral transaction state shared by ``DatabaseReader`` and ``DatabaseWriter``."""

    def __init__(
        self,
        engine: EngineTransaction,
        catalog: Catalog,
        limits: Limits,
        *,
        writable: bool,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self.catalog = catalog
        self._limits = limits
        self._usage = TransactionUsage(limits)
        self.writable = writable
        self._clock = clock
        self._read: dict[str, DocumentRecord | None] = {}
        self._pending: dict[str, _Pending] = {}
        self._last_creation_time = 0.0

    @property
    def limits(self) -> Limits:
        """The limits this transaction enforces."""
        return self._limits

    # -- reads -----------------------------------------------------------------------------------------
    def _remember(self, record: DocumentRecord) -> None:
        self._read.setdefault(record.id, record)

    def _committed(self, document_id: str) -> DocumentRecord | None:
        if document_id in self._read:
            return self._read[document_id]
        record = self._engine.get(document_id)
        self._read[document_id] = record
        if record is not None:
            self._usage.add_read(stored_size(record))
        return record

    def get(self, document_id: str) -> dict[str, Value] | None:
        """The document with this id (this transaction's own writes included), or None."""
        self._usage.add_range(document_id, "get")
        pending = self._pending.get(document_id)
        if pending is not None:
            return copy_value(pending.after) if pending.after is not None else None  # type: ignore[return-value]
        record = self._committed(document_id)
        return copy_value(record.value) if record is not None else None  # type: ignore[return-value]

    def scan(
        self,
        key_range: KeyRange,
        order: Order,
        *,
        after: bytes | None = None,
        stop: bytes | None = None,
        batch_hint: int = 100,
    ) -> Scan:
        """Start a lazy scan of ``key_range`` (see :class:`Scan`). Counts one index range (once per distinct range).

        ``stop`` (inclusive) narrows the range the engine reads, so a page that ends at an end cursor neither
        reads nor depends on entries past it.
        """
        self._usage.add_range((key_range.index.qualified_name, key_range.lower, key_range.upper, after, stop), "query")
        if stop is not None:
            key_range = _through(key_range, order, stop)
        return Scan(self, key_range, order, after=after, stop=stop, batch_hint=batch_hint)

    def _pending_ids(self, table: str) -> set[str]:
        return {document_id for document_id, pending in self._pending.items() if pending.table == table}

    def _pending_in_range(
        self, key_range: KeyRange, order: Order, after: bytes | None
    ) -> list[tuple[bytes, dict[str, Value]]]:
        """Buffered documents inside the range, reversed so that pop() yields them in scan order."""
        found: list[tuple[bytes, dict[str, Value]]] = []
        for pending in self._pending.values():
            if pending.table != key_range.index.table or pending.after is None:
                continue
            key = document_key(pending.after, key_range.index)
            if not key_range.lower <= key < key_range.upper:
                continue
            if after is not None and (key <= after if order == "asc" else key >= after):
                continue
            found.append((key, pending.after))
        found.sort(key=lambda item: item[0], reverse=(order == "asc"))
        return found

    # -- writes ----------------------------------------------------------------------------------------
    def _require_writable(self, method: str) -> None:
        if not self.writable:
            raise InvalidQueryError(f"db.{method} is not available here: queries are read-only; use a mutation.")

    def _next_creation_time(self) -> float:
        now = self._clock() * 1000.0
        value = now if now > self._last_creation_time else math.nextafter(self._last_creation_time, math.inf)
        self._last_creation_time = value
        return value

    def _check_written(self, table: str, document: dict[str, Value]) -> None:
        size = len(serialize_document(document).encode())
        if size > self._limits.max_document_bytes:
            raise LimitExceededError(
                f"Document too large for table {table!r}: {size} bytes encoded, the limit is "
                f"{self._limits.max_document_bytes} (it fits a DynamoDB item on every engine). Store large data "
                "elsewhere (e.g. S3) and keep a reference in the document."
            )
        for spec in self.catalog.indexes(table).values():
            key = document_key(document, spec)
            if len(key) > self._limits.max_index_key_bytes:
                raise LimitExceededError(
                    f"Index {spec.qualified_name}: the indexed values of this document take {len(key)} bytes, the "
                    f"limit is {self._limits.max_index_key_bytes} (DynamoDB's sort key size). Index shorter values."
                )

    def _current(
        self, document_id: object, method: str, *, system: bool = False
    ) -> tuple[str, dict[str, Value], DocumentRecord | None]:
        if not isinstance(document_id, str):
            raise InvalidQueryError(f"db.{method} expects a document id string, got {type(document_id).__name__}.")
        pending = self._pending.get(document_id)
        if pending is not None:
            if pending.after is None:
                raise DocumentNotFoundError(f"{method} on nonexistent document ID {document_id}")
            found: tuple[str, dict[str, Value], DocumentRecord | None] = (pending.table, pending.after, pending.before)
        else:
            self._usage.add_range(document_id, "write")  # Convex's delete_inner / patch_inner read the document by id
            record = self._committed(document_id)
            if record is None:
                raise DocumentNotFoundError(f"{method} on nonexistent document ID {document_id}")
            found = (record.table, record.value, record)
        if is_system_table(found[0]) and not system:
            raise InvalidQueryError(
                f"db.{method}: {document_id} is a document of the system table {found[0]!r}, which is read-only. "
                "Cancel a scheduled function with ctx.scheduler.cancel(id)."
            )
        return found

    def insert(self, table: str, document: Mapping[str, object]) -> str:
        """Buffer a new document; returns its id."""
        self._require_writable("insert")
        table = self.catalog.check_table_name(table)
        value = self.catalog.validate_document(table, document)
        document_id = new_id(table)
        full: dict[str, Value] = {"_id": document_id, "_creationTime": self._next_creation_time(), **value}
        self._check_written(table, full)
        self._pending[document_id] = _Pending(table=table, before=None, after=full)
        return document_id

    def _system_fields_unchanged(self, table: str, given: Mapping[str, object], current: Mapping[str, Value]) -> None:
        for name in SYSTEM_FIELDS:
            if name in given and given[name] != current[name]:
                raise SchemaValidationError(
                    f"Failed to write to table {table!r}: {name} cannot be changed (got "
                    f"{display_value(given[name])}, the document has {display_value(current[name])})."
                )

    def patch(self, document_id: str, fields: Mapping[str, object]) -> None:
        """Shallow-merge ``fields`` into a document; a field set to ``REMOVE`` is deleted."""
        self._require_writable("patch")
        if not isinstance(fields, Mapping):
            raise InvalidQueryError(f"db.patch expects a dict of fields, got {type(fields).__name__}.")
        table, current, before = self._current(document_id, "patch")
        self._system_fields_unchanged(table, fields, current)
        merged: dict[str, object] = {k: v for k, v in current.items() if k not in SYSTEM_FIELDS}
        for key, value in fields.items():
            if key in SYSTEM_FIELDS:
                continue
            if value is REMOVE:
                merged.pop(key, None)
            else:
                merged[key] = value
        self._replace_with(document_id, table, current, before, merged)

    def replace(self, document_id: str, document: Mapping[str, object]) -> None:
        """Replace a document's fields entirely (system fields are kept)."""
        self._require_writable("replace")
        if not isinstance(document, Mapping):
            raise InvalidQueryError(f"db.replace expects a dict, got {type(document).__name__}.")
        table, current, before = self._current(document_id, "replace")
        self._system_fields_unchanged(table, document, current)
        fields = {k: v for k, v in document.items() if k not in SYSTEM_FIELDS}
        self._replace_with(document_id, table, current, before, fields)

    def _replace_with(
        self,
        document_id: str,
        table: str,
        current: Mapping[str, Value],
        before: DocumentRecord | None,
        fields: Mapping[str, object],
    ) -> None:
        value = self.catalog.validate_document(table, fields)
        full: dict[str, Value] = {"_id": current["_id"], "_creationTime": current["_creationTime"], **value}
        self._check_written(table, full)
        self._pending[document_id] = _Pending(table=table, before=before, after=full)

    def insert_system(self, table: str, document: Mapping[str, Value]) -> str:
        """Buffer a new document of a system table (only the library writes them); returns its id."""
        self._require_writable("insert")
        value = to_value(dict(document))
        assert isinstance(value, dict)
        document_id = new_id(table)
        full: dict[str, Value] = {"_id": document_id, "_creationTime": self._next_creation_time(), **value}
        self._check_written(table, full)
        self._pending[document_id] = _Pending(table=table, before=None, after=full)
        return document_id

    def replace_system(self, document_id: str, document: Mapping[str, Value]) -> None:
        """Replace the fields of a system table's document (only the library writes them)."""
        self._require_writable("replace")
        table, current, before = self._current(document_id, "replace", system=True)
        value = to_value(dict(document))
        assert isinstance(value, dict)
        full: dict[str, Value] = {"_id": current["_id"], "_creationTime": current["_creationTime"], **value}
        self._check_written(table, full)
        self._pending[document_id] = _Pending(table=table, before=before, after=full)

    def delete_system(self, document_id: str) -> None:
        """Delete a system table's document."""
        self._require_writable("delete")
        table, _current, before = self._current(document_id, "delete", system=True)
        self._pending[document_id] = _Pending(table=table, before=before, after=None)

    def delete(self, document_id: str) -> None:
        """Delete a document."""
        self._require_writable("delete")
        table, _current, before = self._current(document_id, "delete")
        self._pending[document_id] = _Pending(table=table, before=before, after=None)

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undo the writes made inside the block if it raises (used by nested ``run_mutation``)."""
        saved = dict(self._pending)
        saved_time = self._last_creation_time
        try:
            yield
        except BaseException:
            self._pending = saved
            self._last_creation_time = saved_time
            raise

    # -- end -------------------------------------------------------------------------------------------
    def write_ops(self) -> list[WriteOp]:
        """The buffered writes as engine operations (no-ops dropped), after checking the write limits."""
        ops: list[WriteOp] = []
        total = 0
        for document_id, pending in self._pending.items():
            if pending.before is None and pending.after is None:
                continue
            if pending.before is not None and pending.after == pending.before.value:
                continue
            specs = self.catalog.indexes(pending.table)
            if pending.after is not None:
                total += len(serialize_document(pending.after).encode())
            ops.append(
                WriteOp(
                    table=pending.table,
                    id=document_id,
                    before=pending.before,
                    after=pending.after,
                    keys_before=document_keys(pending.before.value, list(specs.values())) if pending.before else {},
                    keys_after=document_keys(pending.after, list(specs.values())) if pending.after else {},
                    indexes=specs,
                )
            )
        self._usage.check_writes(len(ops), total)
        return ops

    def commit(self, receipt: Receipt | None = None) -> tuple[list[WriteOp], bool]:
        """Validate reads and apply the buffered writes atomically (see ``EngineTransaction.commit``), with
        ``receipt`` among them when there are writes and the engine takes it.

        Returns the operations committed (empty when the transaction wrote nothing) and whether the receipt went in.
        """
        ops = self.write_ops()
        carried = receipt is not None and bool(ops) and self._engine.add_receipt(receipt)
        self._engine.commit(ops)
        return ops, carried

    def read_set(self) -> ReadSet | None:
        """What the engine recorded as read by this transaction (see :mod:`authlib_core.database.readset`)."""
        return self._engine.read_set()

    def validate(self) -> None:
        """Check that every read is still current (read-only transactions on non-snapshot engines)."""
        self._engine.validate()

    def close(self) -> None:
        """Release the engine transaction; uncommitted writes are discarded."""
        self._engine.close()

    def id_table(self, document_id: str) -> str | None:
        """The table of an id when it is known, for ``normalize_id`` and two-argument calls."""
        return self.catalog.table_of_id(document_id)

    def is_well_formed_id(self, document_id: str) -> bool:
        """True when ``document_id`` decodes as a document id (of any table)."""
        return decode_id(document_id) is not None

    def id_belongs_to(self, table: str, document_id: object) -> bool:
        """True when ``document_id`` is a well-formed id of ``table``."""
        return is_id_for(table, document_id)

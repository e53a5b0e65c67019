"""The embedded storage engine: one SQLite file in WAL mode, stdlib :mod:`sqlite3` only.

Layout (schema version :data:`SCHEMA_VERSION`, kept in ``meta``)::

    meta(name PRIMARY KEY, value)                    schema_version, commit_seq
    documents(id PRIMARY KEY, tbl, creation_time, version, value)
    index_entries(tbl, idx, key BLOB, id, PRIMARY KEY (tbl, idx, key)) WITHOUT ROWID
    index_catalog(tbl, idx, fields_json, PRIMARY KEY (tbl, idx)) WITHOUT ROWID

Index keys are opaque bytes that sort bytewise in Convex's value order, and SQLite compares BLOBs with
``memcmp``, so every index range is one ``SEARCH index_entries USING PRIMARY KEY (tbl=? AND idx=? AND key>?
AND key<?)`` (see :data:`SCAN_SQL`; a unit test checks the query plan).

Versions. ``meta.commit_seq`` counts commits; a commit writes ``commit_seq + 1`` as the version of every
document it writes. So a version changes on every write, never repeats (no ABA after a delete and an
insert), and a transaction can tell in one read whether *anything* committed since its snapshot.

Transactions. Each transaction borrows one connection from a small pool for its whole life.

* ``"read"``: ``BEGIN`` (deferred); the transaction's first read pins a WAL snapshot and every later read sees
  it; nothing to validate.
* ``"write"``: reads come from one snapshot, as in ``"read"``, and are recorded (point reads with the
  version seen, index ranges with the exact interval covered and the (key, id, version) list seen). At
  :meth:`~SQLiteTransaction.commit` the snapshot ends, ``BEGIN IMMEDIATE`` takes the database's write lock,
  and if ``commit_seq`` moved since the snapshot every recorded read is re-read and compared; any
  difference rolls back and raises :class:`~authlib_core.errors.ConflictError` naming what changed. Then
  the writes are applied and committed as one SQLite transaction. A write transaction without writes is
  serializable at its snapshot and only ends it.
* ``"exclusive"``: ``BEGIN IMMEDIATE`` at the start, so the write lock is held from the first read to the
  commit; nothing can conflict. The layer above uses it after repeated conflicts to guarantee progress.

Every writer (commits and :meth:`SQLiteEngine.ensure_indexes`) bumps ``commit_seq`` in the same SQLite
transaction, which is what makes the "nothing moved" shortcut sound.

Errors. ``sqlite3`` errors never escape: a write lock not obtained within ``busy_timeout_s`` becomes
:class:`~authlib_core.errors.ConflictError` (retried like any conflict). Inside a request's time budget the wait
for the lock never outlasts the budget (:mod:`.sqlite_lock`): a lock not obtained before the budget ran out is a
:class:`~authlib_core.errors.StorageUnavailableError` (503, not retried: no time is left). A corrupt or foreign
file, a disk or permission failure becomes :class:`~authlib_core.errors.StorageUnavailableError` naming the file
and what to do.

Processes. Several processes may open the same file (SQLite's file locks coordinate them). A forked child
never reuses its parent's connections: the pool notices the new process id and opens fresh ones, and keeps
the inherited ones referenced (closing them in the child could checkpoint or delete the parent's WAL).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Final

from authlib_core.database.engines import sqlite_receipts as receipts
from authlib_core.database.engines.sqlite_lock import budget_spent_error, set_lock_wait
from authlib_core.database.interface import (
    BY_ID,
    DocumentRecord,
    EngineTransaction,
    IndexEntry,
    IndexSpec,
    KeyRange,
    Order,
    ScanResult,
    StorageEngine,
    TransactionMode,
    WriteOp,
    deserialize_document,
    serialize_document,
)
from authlib_core.database.keys import document_key
from authlib_core.database.readset import ReadSet
from authlib_core.errors import AuthlibError, ConfigError, ConflictError, StorageUnavailableError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from types import TracebackType

    from authlib_core.database.receipts import Receipt

__all__ = [
    "GET_SQL",
    "SCAN_SQL",
    "SCHEMA_VERSION",
    "VALIDATE_RANGE_SQL",
    "SQLiteEngine",
    "SQLiteTransaction",
    "translate_sqlite_error",
]

#: Version of the on-disk layout; bump it (and add a migration) whenever the tables change.
SCHEMA_VERSION: Final = 1

_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS documents ("
    " id TEXT PRIMARY KEY, tbl TEXT NOT NULL, creation_time REAL NOT NULL,"
    " version INTEGER NOT NULL, value TEXT NOT NULL)",
    # only ensure_indexes walks a table's documents
    "CREATE INDEX IF NOT EXISTS documents_by_table ON documents (tbl)",
    "CREATE TABLE IF NOT EXISTS index_entries ("
    " tbl TEXT NOT NULL, idx TEXT NOT NULL, key BLOB NOT NULL, id TEXT NOT NULL,"
    " PRIMARY KEY (tbl, idx, key)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS index_catalog ("
    " tbl TEXT NOT NULL, idx TEXT NOT NULL, fields_json TEXT NOT NULL,"
    " PRIMARY KEY (tbl, idx)) WITHOUT ROWID",
)

# "sessions" and "rate_limits" belong to the session stores in the same file (engines/sqlite_sessions.py).
_TABLES: Final = frozenset(
    {"meta", "documents", "index_entries", "index_catalog", "sessions", "rate_limits", receipts.TABLE}
)

_SELECT_ENTRIES: Final = (
    "SELECT e.key, d.id, d.tbl, d.creation_time, d.version, d.value"
    " FROM index_entries AS e CROSS JOIN documents AS d ON d.id = e.id"
    " WHERE e.tbl = ? AND e.idx = ? AND e.key >= ? AND e.key < ?"
)

#: The one statement that answers an index range, by direction. Parameters: table, index, lower bound
#: (inclusive), upper bound (exclusive), limit. ``CROSS JOIN`` pins the join order: the range is walked in
#: the primary key of ``index_entries`` and each document fetched by its primary key.
SCAN_SQL: Final[Mapping[Order, str]] = {
    "asc": _SELECT_ENTRIES + " ORDER BY e.key ASC LIMIT ?",
    "desc": _SELECT_ENTRIES + " ORDER BY e.key DESC LIMIT ?",
}

#: Re-reads an interval covered by a scan at commit time. Parameters: table, index, lower (incl.), upper (excl.).
VALIDATE_RANGE_SQL: Final = (
    "SELECT e.key, e.id, d.version"
    " FROM index_entries AS e CROSS JOIN documents AS d ON d.id = e.id"
    " WHERE e.tbl = ? AND e.idx = ? AND e.key >= ? AND e.key < ? ORDER BY e.key ASC"
)

#: A point read. Parameter: document id.
GET_SQL: Final = "SELECT tbl, creation_time, version, value FROM documents WHERE id = ?"

_SELECT_SEQ: Final = "SELECT value FROM meta WHERE name = 'commit_seq'"
_UPDATE_SEQ: Final = "UPDATE meta SET value = ? WHERE name = 'commit_seq'"

# primary result codes (https://www.sqlite.org/rescode.html)
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 3, 5, 6, 8
_SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 10, 11, 13, 14, 26

#: Idle connections kept per engine; more are opened on demand (never a blocking pool: an exclusive
#: transaction must not starve the others of connections) and closed when returned. The dev server runs one thread
#: per HTTP connection, and at 32 busy connections ~30 transactions are open at once: with 8 kept, every few dozen
#: requests paid for opening a connection (and its cold schema and statement caches) again. 32 keeps what such a
#: peak opened; the open files are those the peak needed anyway.
_MAX_IDLE: Final = 32

#: Connections inherited through fork(): kept referenced, never closed (see the module docstring).
_INHERITED: list[sqlite3.Connection] = []


def _successor(key: bytes) -> bytes:
    """The smallest byte string greater than ``key`` (so ``k > key`` is ``k >= _successor(key)``)."""
    return key + b"\x00"


def _translate(
    error: sqlite3.Error, path: Path, what: str, busy_timeout_s: float, *, budgeted: bool = False
) -> AuthlibError:
    """The library error for a native SQLite error raised while doing ``what`` on the store at ``path``.

    The message (what a client may see) names no file; ``detail`` (the log, the command line) names the file, the
    operation and SQLite's own text. ``budgeted``: the wait for the lock was cut to the request's time budget.
    The session and rate-limit stores use the same translation.
    """
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(error)
    lowered = text.lower()
    detail = f"SQLite store {path}, while {what}: {type(error).__name__}: {text}"
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED) or "database is locked" in lowered or "busy" in lowered:
        if budgeted:
            return budget_spent_error(detail)
        return ConflictError(
            f"The SQLite store stayed locked by another writer for more than {busy_timeout_s:g}s; nothing was "
            "written. Another thread or process held a write transaction that long; retry, or give the engine a "
            "longer busy_timeout_s.",
            detail=detail,
        )
    if primary in (_SQLITE_NOTADB, _SQLITE_CORRUPT) or "not a database" in lowered or "malformed" in lowered:
        return StorageUnavailableError(
            "The store file is not a SQLite database or is corrupt. It should hold the authlib-core document "
            "store: restore it from a backup, or move it away to start with an empty store.",
            detail=detail,
        )
    if primary == _SQLITE_FULL:
        return StorageUnavailableError(
            "The disk holding the SQLite store is full; nothing was written. Free some space and retry.", detail=detail
        )
    if primary in (_SQLITE_CANTOPEN, _SQLITE_PERM, _SQLITE_READONLY):
        return StorageUnavailableError(
            "Cannot open or write the SQLite store. Check that its folder exists and that the file and folder are "
            "writable by this process (SQLite also creates -wal and -shm files next to it).",
            detail=detail,
        )
    if primary == _SQLITE_IOERR:
        return StorageUnavailableError(
            "Disk I/O error on the SQLite store; nothing was written. Check the disk and the file system (network "
            "file systems do not support WAL mode).",
            detail=detail,
        )
    return StorageUnavailableError("The SQLite store failed; nothing was written. Retry the request.", detail=detail)


def translate_sqlite_error(
    error: BaseException, path: Path, what: str, busy_timeout_s: float, *, budgeted: bool = False
) -> AuthlibError | None:
    """:func:`_translate` for any exception: None when ``error`` is not a native SQLite error."""
    if not isinstance(error, sqlite3.Error):
        return None
    return _translate(error, path, what, busy_timeout_s, budgeted=budgeted)


class _Pool:
    """Connections to one file, handed to one transaction at a time; safe across threads and fork()."""

    def __init__(self, path: Path, busy_timeout_s: float) -> None:
        self._path = path
        self._busy_timeout_s = busy_timeout_s
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._pid = os.getpid()
        self.closed = False

    def _connect(self) -> sqlite3.Connection:
        # check_same_thread=False: a connection moves between threads, but the pool lends it to one
        # transaction at a time, and a transaction is not shared between threads.
        connection = sqlite3.connect(
            self._path,
            timeout=self._busy_timeout_s,
            isolation_level=None,
            check_same_thread=False,
            cached_statements=64,
        )
        try:
            connection.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            connection.close()
            raise
        return connection

    def _adopt_fork(self) -> None:
        """Called with the lock held: drop (without closing) connections inherited from a parent process."""
        if self._pid != os.getpid():
            _INHERITED.extend(self._idle)
            self._idle = []
            self._pid = os.getpid()

    def acquire(self) -> sqlite3.Connection:
        with self._lock:
            if self.closed:
                raise StorageUnavailableError(
                    f"The SQLite store {self._path} was closed; open a new engine to keep using it."
                )
            self._adopt_fork()
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def release(self, connection: sqlite3.Connection, *, reusable: bool = True) -> None:
        with self._lock:
            if os.getpid() != self._pid:
                _INHERITED.append(connection)
                return
            if reusable and not self.closed and len(self._idle) < _MAX_IDLE and not connection.in_transaction:
                self._idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            self.closed = True
            self._adopt_fork()
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


@dataclasses.dataclass(slots=True)
class _RangeRead:
    """One interval ``[lower, upper)`` of an index read by a scan, and the entries seen in it (key order)."""

    table: str
    index: str
    lower: bytes
    upper: bytes
    entries: list[tuple[bytes, str, int]]


class SQLiteTransaction(EngineTransaction):
    """A transaction of :class:`SQLiteEngine` (see the module docstring). Usable as a context manager."""

    def __init__(self, engine: SQLiteEngine, mode: TransactionMode) -> None:
        self._engine = engine
        self.mode: TransactionMode = mode
        self._connection: sqlite3.Connection | None = None
        self._gets: dict[str, tuple[str | None, int | None]] = {}
        self._ranges: list[_RangeRead] = []
        self._closed = False
        self._receipt: Receipt | None = None
        with engine._errors("opening a connection"):
            connection = engine._pool.acquire()
        self._connection = connection
        try:
            if mode == "exclusive":
                engine._begin_immediate(connection, "starting an exclusive transaction")
            with engine._errors("starting a transaction"):
                if mode != "exclusive":
                    connection.execute("BEGIN")
                # commit_seq of the snapshot (this read pins the WAL snapshot for the whole transaction). Only a
                # commit compares it, and a read transaction never commits writes: its snapshot is pinned by its own
                # first read instead (a deferred BEGIN starts the read transaction there, and every later read of
                # the transaction sees the same snapshot), so it reads no more than the query asks for.
                self._snapshot_seq = _read_seq(connection) if mode != "read" else -1
        except BaseException:
            self._finish()
            raise

    # -- context manager -------------------------------------------------------------------------------
    def __enter__(self) -> SQLiteTransaction:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- reads -----------------------------------------------------------------------------------------
    def _open_connection(self) -> sqlite3.Connection:
        if self._closed or self._connection is None:
            raise RuntimeError("this SQLite transaction is closed (committed, failed or closed); begin a new one")
        return self._connection

    def get(self, document_id: str) -> DocumentRecord | None:
        connection = self._open_connection()
        with self._engine._errors("reading a document"):
            row = connection.execute(GET_SQL, (document_id,)).fetchone()
        record = None
        if row is not None:
            table, creation_time, version, text = row
            record = DocumentRecord(
                table=table,
                id=document_id,
                creation_time=creation_time,
                value=deserialize_document(text),
                version=version,
                size=len(text) if isinstance(text, str) else None,
            )
        # every mode records: write transactions validate it at commit, live queries use it as their read set
        self._gets.setdefault(document_id, (record.table, record.version) if record else (None, None))
        return record

    def scan(self, key_range: KeyRange, order: Order, *, after: bytes | None, limit: int) -> ScanResult:
        connection = self._open_connection()
        if limit < 1:
            raise ValueError(f"scan limit must be at least 1, got {limit}")
        if order not in ("asc", "desc"):
            raise ValueError(f"scan order must be 'asc' or 'desc', got {order!r}")
        table, index = key_range.index.table, key_range.index.name
        lower, upper = key_range.lower, key_range.upper
        if after is not None:
            if order == "asc":
                lower = max(lower, _successor(after))
            else:
                upper = min(upper, after)
        if lower >= upper:
            return ScanResult(entries=[], exhausted=True)
        with self._engine._errors(f"reading index {table}.{index}"):
            rows = connection.execute(SCAN_SQL[order], (table, index, lower, upper, limit + 1)).fetchall()
        exhausted = len(rows) <= limit
        entries = [
            IndexEntry(
                key=key,
                document=DocumentRecord(
                    table=doc_table,
                    id=doc_id,
                    creation_time=creation_time,
                    value=deserialize_document(text),
                    version=version,
                    size=len(text) if isinstance(text, str) else None,
                ),
            )
            for key, doc_id, doc_table, creation_time, version, text in rows[:limit]
        ]
        if not exhausted:
            last = entries[-1].key
            if order == "asc":
                upper = _successor(last)
            else:
                lower = last
        seen: list[tuple[bytes, str, int]] = []
        if self.mode == "write":  # only a commit compares what was seen; the interval alone is a query's read set
            seen = [(entry.key, entry.document.id, entry.document.version) for entry in entries]
            if order == "desc":
                seen.reverse()
        self._record_range(_RangeRead(table, index, lower, upper, seen))
        return ScanResult(entries=entries, exhausted=exhausted)

    def _record_range(self, read: _RangeRead) -> None:
        """Record a scanned interval, merging it with the previous one when they touch (successive batches)."""
        if self._ranges:
            last = self._ranges[-1]
            if (last.table, last.index) == (read.table, read.index):
                if last.upper == read.lower:
                    last.upper = read.upper
                    last.entries.extend(read.entries)
                    return
                if read.upper == last.lower:
                    last.lower = read.lower
                    last.entries[:0] = read.entries
                    return
        self._ranges.append(read)

    def read_set(self) -> ReadSet:
        """The documents read by id and the index intervals covered so far."""
        return ReadSet(
            documents=frozenset(self._gets),
            ranges=tuple((read.table, read.index, read.lower, read.upper) for read in self._ranges),
        )

    def validate(self) -> None:
        """No-op: every read of this transaction comes from one snapshot (raises if the transaction is closed)."""
        self._open_connection()

    # -- commit ----------------------------------------------------------------------------------------
    def commit(self, writes: Sequence[WriteOp]) -> None:
        connection = self._open_connection()
        if self.mode == "read" and writes:
            raise RuntimeError("a read transaction cannot write; begin('write') instead")
        if not writes:
            # reads from one snapshot are serializable at that snapshot: nothing to check or apply
            self._finish()
            return
        engine = self._engine
        try:
            with engine._errors("committing a transaction"):
                seq = self._snapshot_seq
                if self.mode == "write":
                    connection.execute("ROLLBACK")  # end the read snapshot
                    engine._begin_immediate(connection, "committing a transaction")  # take the write lock
                    seq = _read_seq(connection)
                    if seq != self._snapshot_seq:
                        self._check_reads(connection)
                version = seq + 1
                for op in writes:
                    _apply(connection, op, version)
                if self._receipt is not None:  # raises ReceiptExistsError if one has its key: nothing commits
                    receipts.insert(connection, self._receipt)
                connection.execute(_UPDATE_SEQ, (version,))
                connection.execute("COMMIT")
        finally:
            self._finish()

    def add_receipt(self, receipt: Receipt) -> bool:
        """Write ``receipt`` in the same SQLite transaction as the documents (:mod:`.sqlite_receipts`)."""
        self._receipt = receipt
        return True

    def _check_reads(self, connection: sqlite3.Connection) -> None:
        """Re-read every recorded read under the write lock; raise ConflictError on the first difference."""
        for document_id, (table, version) in self._gets.items():
            row = connection.execute("SELECT tbl, version FROM documents WHERE id = ?", (document_id,)).fetchone()
            now_version = row[1] if row is not None else None
            if now_version != version:
                name = table or (row[0] if row is not None else "?")
                change = "inserted" if version is None else "deleted" if row is None else "modified"
                raise ConflictError(
                    f"Document {document_id} in table {name!r} was {change} by a concurrent transaction after "
                    "this transaction read it."
                )
        for read in self._ranges:
            rows = connection.execute(VALIDATE_RANGE_SQL, (read.table, read.index, read.lower, read.upper)).fetchall()
            if rows != read.entries:
                raise ConflictError(_range_conflict_message(read, rows))

    # -- end -------------------------------------------------------------------------------------------
    def _finish(self) -> None:
        """End the SQLite transaction (rolling back whatever is open) and give the connection back."""
        connection = self._connection
        if connection is None:
            self._closed = True
            return
        reusable = True
        if connection.in_transaction:
            try:
                connection.execute("ROLLBACK")
            except sqlite3.Error:
                reusable = False
        self._release(reusable=reusable)

    def _release(self, *, reusable: bool) -> None:
        connection, self._connection = self._connection, None
        self._closed = True
        if connection is not None:
            self._engine._pool.release(connection, reusable=reusable)

    def close(self) -> None:
        """Discard the transaction (uncommitted writes were never sent to SQLite). Idempotent."""
        if not self._closed:
            self._finish()


class _Errors:
    """``with engine._errors(what):`` turns a native SQLite error raised in the block into the library's error.

    A small class rather than a ``contextlib`` generator: every read and every transaction enters one.
    """

    __slots__ = ("_engine", "_what")

    def __init__(self, engine: SQLiteEngine, what: str) -> None:
        self._engine = engine
        self._what = what

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if isinstance(exc, sqlite3.Error):
            engine = self._engine
            raise _translate(exc, engine.path, self._what, engine.busy_timeout_s) from exc


def _read_seq(connection: sqlite3.Connection) -> int:
    row = connection.execute(_SELECT_SEQ).fetchone()
    if row is None:
        raise sqlite3.DatabaseError("database disk image is malformed: meta.commit_seq is missing")
    value: int = row[0]
    return value


def _range_conflict_message(read: _RangeRead, now: list[tuple[bytes, str, int]]) -> str:
    before = {key: (doc_id, version) for key, doc_id, version in read.entries}
    after = {key: (doc_id, version) for key, doc_id, version in now}
    changed = sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))
    detail = "its entries changed"
    if changed:
        key = changed[0]
        if key not in before:
            detail = f"document {after[key][0]} entered it"
        elif key not in after:
            detail = f"document {before[key][0]} left it"
        else:
            detail = f"document {before[key][0]} was modified"
    return (
        f"Index range of {read.table}.{read.index} changed after this transaction read it: {detail} "
        "(a concurrent transaction inserted, modified or deleted a document in the range)."
    )


def _apply(connection: sqlite3.Connection, op: WriteOp, version: int) -> None:
    """Write one document and its index entries; ConflictError if the stored document is not ``op.before``."""
    if op.before is None and op.after is None:
        return
    if op.after is not None:
        text = serialize_document(op.after)
        raw_time = op.after.get("_creationTime")
        if not isinstance(raw_time, (int, float)):
            raise ValueError(f"document {op.id} has no numeric _creationTime: {raw_time!r}")
        creation_time = float(raw_time)
    if op.before is None:
        assert op.after is not None
        cursor = connection.execute(
            "INSERT OR IGNORE INTO documents (id, tbl, creation_time, version, value) VALUES (?, ?, ?, ?, ?)",
            (op.id, op.table, creation_time, version, text),
        )
        if cursor.rowcount != 1:
            raise ConflictError(f"Document {op.id} already exists in table {op.table!r}; it cannot be inserted again.")
    else:
        if op.after is None:
            cursor = connection.execute(
                "DELETE FROM documents WHERE id = ? AND version = ?", (op.id, op.before.version)
            )
        else:
            cursor = connection.execute(
                "UPDATE documents SET value = ?, creation_time = ?, version = ? WHERE id = ? AND version = ?",
                (text, creation_time, version, op.id, op.before.version),
            )
        if cursor.rowcount != 1:
            raise ConflictError(
                f"Document {op.id} in table {op.table!r} was modified or deleted by a concurrent transaction "
                "after this transaction read it."
            )
    names = set(op.indexes) | set(op.keys_before) | set(op.keys_after)
    names.discard(BY_ID)
    for name in sorted(names):
        spec = op.indexes.get(name)
        old = op.keys_before.get(name)
        if old is None and op.before is not None and spec is not None:
            old = document_key(op.before.value, spec)
        new = op.keys_after.get(name)
        if new is None and op.after is not None and spec is not None:
            new = document_key(op.after, spec)
        if old == new:
            continue
        if old is not None:
            connection.execute("DELETE FROM index_entries WHERE tbl = ? AND idx = ? AND key = ?", (op.table, name, old))
        if new is not None:
            connection.execute(
                "INSERT OR REPLACE INTO index_entries (tbl, idx, key, id) VALUES (?, ?, ?, ?)",
                (op.table, name, new, op.id),
            )


class SQLiteEngine(StorageEngine):
    """The embedded document store: one SQLite file in WAL mode, shared by threads and processes.

    Example:
        >>> engine = SQLiteEngine(".authlib/dev.sqlite3")  # doctest: +SKIP
        >>> with engine.begin("read") as tx:  # doctest: +SKIP
        ...     tx.get(some_id)

    Args:
        path: the database file; its parent folders are created. ``":memory:"`` is refused: several
            connections (threads, processes) must share the data.
        busy_timeout_s: how long a writer waits for another writer's lock before giving up with
            :class:`~authlib_core.errors.ConflictError`; inside a request's time budget it waits at most what is
            left of the budget, then gives up with :class:`~authlib_core.errors.StorageUnavailableError`.

    Raises:
        ConfigError: ``path`` is not a file path.
        StorageUnavailableError: the file cannot be opened or created, is not a SQLite database, is corrupt,
            or was written by a newer version of authlib-core.
    """

    name = "sqlite"
    snapshot_reads = True
    supports_exclusive = True
    supports_receipts = True
    max_receipt_bytes = 64_000_000

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 30.0) -> None:
        text = os.fspath(path)
        if text in ("", ":memory:") or text.startswith("file:"):
            raise ConfigError(
                f"SQLiteEngine needs the path of a database file, got {text!r}: an in-memory database cannot be "
                "shared by several connections. Pass a file path (tests: a file under tmp_path)."
            )
        if busy_timeout_s < 0:
            raise ConfigError(f"busy_timeout_s must be >= 0, got {busy_timeout_s}")
        self.path = Path(text)
        self.busy_timeout_s = busy_timeout_s
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StorageUnavailableError(
                f"Cannot create the folder {self.path.parent} for the SQLite store {self.path}: {error}."
            ) from error
        self._pool = _Pool(self.path, busy_timeout_s)
        try:
            self._initialize()
        except BaseException:
            self._pool.close()
            raise

    def __repr__(self) -> str:
        return f"SQLiteEngine({str(self.path)!r})"

    def __enter__(self) -> SQLiteEngine:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _errors(self, what: str) -> _Errors:
        """Translate native SQLite errors raised inside the block."""
        return _Errors(self, what)

    def _begin_immediate(self, connection: sqlite3.Connection, what: str) -> None:
        """``BEGIN IMMEDIATE``: take the write lock, waiting up to ``busy_timeout_s`` but never past the request's
        time budget (a lock not obtained by then raises :func:`~.sqlite_lock.budget_spent_error`)."""
        budgeted = False
        try:
            budgeted = set_lock_wait(connection, self.busy_timeout_s)
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise _translate(error, self.path, what, self.busy_timeout_s, budgeted=budgeted) from error

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A pooled connection outside any transaction object, rolled back and returned afterwards."""
        connection = self._pool.acquire()
        reusable = True
        try:
            yield connection
        finally:
            if connection.in_transaction:
                try:
                    connection.execute("ROLLBACK")
                except sqlite3.Error:
                    reusable = False
            self._pool.release(connection, reusable=reusable)

    def _initialize(self) -> None:
        with self._errors("opening the store"), self._connection() as connection:
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]  # persistent; no-op if set
            if str(mode).lower() != "wal":
                raise StorageUnavailableError(
                    f"The SQLite store {self.path} cannot use WAL mode (journal_mode is {mode!r}); WAL needs a "
                    "local file system with shared memory. Put the store on a local disk."
                )
            if self._schema_version(connection) == SCHEMA_VERSION:
                receipts.ensure_table(connection)
                return
            self._begin_immediate(connection, "opening the store")
            stored = self._schema_version(connection)  # another process may have created it meanwhile
            if stored is None:
                foreign = [
                    name
                    for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                    if name not in _TABLES and not name.startswith("sqlite_")
                ]
                if foreign:
                    raise StorageUnavailableError(
                        f"{self.path} is a SQLite database of another application (it has the tables "
                        f"{', '.join(sorted(foreign)[:5])}); authlib-core will not write into it. Use another file."
                    )
                for statement in _SCHEMA:
                    connection.execute(statement)
                receipts.ensure_table(connection)
                connection.execute("INSERT OR IGNORE INTO meta (name, value) VALUES ('commit_seq', 0)")
                connection.execute(
                    "INSERT OR REPLACE INTO meta (name, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
                )
            connection.execute("COMMIT")
            if stored is not None and stored != SCHEMA_VERSION:
                raise StorageUnavailableError(
                    f"The SQLite store {self.path} has layout version {stored}, but this authlib-core understands "
                    f"version {SCHEMA_VERSION}. Upgrade authlib-core, or use another file."
                )

    def _schema_version(self, connection: sqlite3.Connection) -> int | None:
        exists = connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
        if exists is None:
            return None
        row = connection.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
        if row is None:
            return None
        version: int = row[0]
        return version

    # -- StorageEngine ---------------------------------------------------------------------------------
    def begin(self, mode: TransactionMode) -> SQLiteTransaction:
        """Start a transaction; ``"exclusive"`` waits for the write lock (up to ``busy_timeout_s``, and never past
        the request's time budget)."""
        if mode not in ("read", "write", "exclusive"):
            raise ValueError(f"transaction mode must be 'read', 'write' or 'exclusive', got {mode!r}")
        return SQLiteTransaction(self, mode)

    def ensure_indexes(self, indexes: Sequence[IndexSpec]) -> None:
        """Build new or changed indexes from the stored documents and drop unlisted ones, in one transaction."""
        wanted: dict[tuple[str, str], tuple[IndexSpec, str]] = {}
        for spec in indexes:
            if spec.name != BY_ID:
                wanted[(spec.table, spec.name)] = (spec, json.dumps(list(spec.fields)))
        target = {key: fields for key, (_spec, fields) in wanted.items()}
        with self._errors("updating the index catalog"), self._connection() as connection:
            if self._catalog(connection) == target:
                return
            self._begin_immediate(connection, "updating the index catalog")
            stored = self._catalog(connection)
            if stored == target:
                connection.execute("ROLLBACK")
                return
            for table, name in stored.keys() - target.keys():
                connection.execute("DELETE FROM index_entries WHERE tbl = ? AND idx = ?", (table, name))
                connection.execute("DELETE FROM index_catalog WHERE tbl = ? AND idx = ?", (table, name))
            for (table, name), (spec, fields) in wanted.items():
                if stored.get((table, name)) == fields:
                    continue
                connection.execute("DELETE FROM index_entries WHERE tbl = ? AND idx = ?", (table, name))
                documents = connection.execute("SELECT id, value FROM documents WHERE tbl = ?", (table,))
                connection.executemany(
                    "INSERT INTO index_entries (tbl, idx, key, id) VALUES (?, ?, ?, ?)",
                    (
                        (table, name, document_key(deserialize_document(text), spec), document_id)
                        for document_id, text in documents
                    ),
                )
                connection.execute(
                    "INSERT OR REPLACE INTO index_catalog (tbl, idx, fields_json) VALUES (?, ?, ?)",
                    (table, name, fields),
                )
            # entries changed: make every open write transaction validate its reads
            connection.execute(_UPDATE_SEQ, (_read_seq(connection) + 1,))
            connection.execute("COMMIT")

    def _catalog(self, connection: sqlite3.Connection) -> dict[tuple[str, str], str]:
        rows = connection.execute("SELECT tbl, idx, fields_json FROM index_catalog").fetchall()
        return {(table, name): fields for table, name, fields in rows}

    def read_receipt(self, scope: str, key: str) -> str | None:
        """The value of an unexpired receipt (:mod:`.sqlite_receipts`), or None."""
        with self._errors("reading a receipt"), self._connection() as connection:
            return receipts.get(connection, scope, key, now=time.time())

    def write_receipt(self, receipt: Receipt) -> bool:
        """Keep ``receipt`` in a transaction of its own, unless an unexpired receipt has its key (that one stays)."""
        with self._errors("writing a receipt"), self._connection() as connection:
            self._begin_immediate(connection, "writing a receipt")
            written = receipts.put(connection, receipt)
            connection.execute("COMMIT")
        return written

    def close(self) -> None:
        """Close the pooled connections; transactions still open close theirs when they end."""
        self._pool.close()

"""SQLite session and rate-limit stores, in the same database file as the documents.

Tables ``sessions`` (primary key ``(user_id, session_id)``) and ``rate_limits`` (``key``). WAL mode; every thread
gets its own connection, closed when the thread ends; writes that read first run in ``BEGIN IMMEDIATE`` transactions,
so they are atomic across threads and processes. Expired rows are filtered on every read and purged
opportunistically (a user's expired sessions when they sign in again, stale counters when a window reopens).

Example:
    >>> store = SQLiteSessionStore(tmp_path / "dev.sqlite3")  # doctest: +SKIP
"""

from __future__ import annotations

import sqlite3
import threading
import time
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from authlib_core.database.engines.sqlite import translate_sqlite_error
from authlib_core.database.engines.sqlite_lock import set_lock_wait
from authlib_core.database.sessions import RateLimitStore, SessionRecord, SessionStore, ttl_seconds
from authlib_core.errors import ConflictError, StorageUnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from authlib_core.errors import AuthlibError

__all__ = ["SQLiteRateLimitStore", "SQLiteSessionStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    user_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL,
    ip_address TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    dont_remember INTEGER NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    ttl INTEGER NOT NULL,
    PRIMARY KEY (user_id, session_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rate_limits (
    key TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL,
    count INTEGER NOT NULL,
    ttl INTEGER NOT NULL
) WITHOUT ROWID;
"""

_SELECT_ONE = (
    "SELECT user_id, session_id, token_hash, created_at, updated_at, expires_at, absolute_expires_at, ip_address, "
    "user_agent, dont_remember, email, name FROM sessions WHERE user_id = ? AND session_id = ?"
)
_SELECT_LIVE = (
    "SELECT user_id, session_id, token_hash, created_at, updated_at, expires_at, absolute_expires_at, ip_address, "
    "user_agent, dont_remember, email, name FROM sessions "
    "WHERE user_id = ? AND expires_at > ? AND absolute_expires_at > ? ORDER BY created_at, session_id"
)
_INSERT = (
    "INSERT INTO sessions (user_id, session_id, token_hash, created_at, updated_at, expires_at, absolute_expires_at, "
    "ip_address, user_agent, dont_remember, email, name, ttl) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_OPEN_WINDOW = (
    "INSERT INTO rate_limits (key, window_start, count, ttl) VALUES (?, ?, 1, ?) ON CONFLICT(key) "
    "DO UPDATE SET window_start = excluded.window_start, count = 1, ttl = excluded.ttl"
)


class _ThreadConnection:
    """A thread's connection, held only by that thread's local storage: when the thread ends, it is closed."""

    __slots__ = ("__weakref__", "conn")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn


class _Connections:
    """One connection per thread to one file, WAL mode, autocommit (explicit transactions only).

    A thread's connection is closed when the thread ends: the dev server runs each HTTP connection on a thread of
    its own, so connections kept for finished threads would add up (two open files each) with every connection a
    browser or a load test opens. :meth:`close` closes those of threads still running.
    """

    def __init__(self, path: Path, busy_timeout_s: float) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        self._open: weakref.WeakSet[_ThreadConnection] = weakref.WeakSet()
        self._lock = threading.Lock()
        conn = self.connection()
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)

    def connection(self) -> sqlite3.Connection:
        self._local.budgeted = False  # a read: no lock wait of this call was cut to the budget
        held: _ThreadConnection | None = getattr(self._local, "held", None)
        if held is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, timeout=self.busy_timeout_s, isolation_level=None, check_same_thread=False
            )
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_s * 1000)}")
            except BaseException:
                conn.close()
                raise
            held = _ThreadConnection(conn)
            # the thread's local storage is the only strong reference: when the thread ends, the connection closes
            weakref.finalize(held, conn.close)
            self._local.held = held
            with self._lock:
                self._open.add(held)
        return held.conn

    def writer(self) -> sqlite3.Connection:
        """This thread's connection, its wait for the write lock set for the next write: the busy timeout, or
        what is left of the request's time budget when that is shorter (:mod:`.sqlite_lock`)."""
        conn = self.connection()
        self._local.budgeted = set_lock_wait(conn, self.busy_timeout_s)
        return conn

    def budgeted(self) -> bool:
        """Whether this thread's last write waited for the lock only as long as the request's budget allowed."""
        return bool(getattr(self._local, "budgeted", False))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self.writer()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            running = list(self._open)
            self._open.clear()
        for held in running:
            held.conn.close()
        self._local = threading.local()


class _OnFile:
    """What both stores share: their connections, and the SQLite engine's translation of native errors."""

    _db: _Connections

    def storage_error(self, error: BaseException, operation: str) -> AuthlibError | None:
        """SQLite errors (a locked, missing or unwritable file) as 503s. A file locked past the busy timeout is
        "unavailable" here, not a conflict: a session or counter write is not retried like a mutation."""
        translated = translate_sqlite_error(
            error, self._db.path, operation, self._db.busy_timeout_s, budgeted=self._db.budgeted()
        )
        if isinstance(translated, ConflictError):
            return StorageUnavailableError(translated.message, detail=translated.detail)
        return translated


def _record(row: tuple[object, ...]) -> SessionRecord:
    (user_id, session_id, token_hash, created, updated, expires, absolute, ip, agent, dont_remember, email, name) = row
    return SessionRecord(
        user_id=str(user_id),
        session_id=str(session_id),
        token_hash=str(token_hash),
        created_at=int(created),  # type: ignore[call-overload]
        updated_at=int(updated),  # type: ignore[call-overload]
        expires_at=int(expires),  # type: ignore[call-overload]
        absolute_expires_at=int(absolute),  # type: ignore[call-overload]
        ip_address=str(ip),
        user_agent=str(agent),
        dont_remember=bool(dont_remember),
        email=str(email),
        name=str(name),
    )


class SQLiteSessionStore(_OnFile, SessionStore):
    """:class:`SessionStore` on a SQLite file (``clock`` returns epoch seconds; tests inject one)."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time, busy_timeout_s: float = 10.0) -> None:
        self._db = _Connections(path, busy_timeout_s)
        self._clock = clock

    def _now(self) -> int:
        return int(self._clock() * 1000)

    def create(self, record: SessionRecord) -> None:
        with self._db.transaction() as conn:
            # Opportunistic clean-up of this user's dead sessions (bounded by the user's partition).
            conn.execute(
                "DELETE FROM sessions WHERE user_id = ? AND (expires_at <= ? OR absolute_expires_at <= ?)",
                (record.user_id, self._now(), self._now()),
            )
            conn.execute(
                _INSERT,
                (
                    record.user_id,
                    record.session_id,
                    record.token_hash,
                    record.created_at,
                    record.updated_at,
                    record.expires_at,
                    record.absolute_expires_at,
                    record.ip_address,
                    record.user_agent,
                    int(record.dont_remember),
                    record.email,
                    record.name,
                    ttl_seconds(record),
                ),
            )

    def get(self, user_id: str, session_id: str) -> SessionRecord | None:
        row = self._db.connection().execute(_SELECT_ONE, (user_id, session_id)).fetchone()
        if row is None:
            return None
        record = _record(row)
        # Refused and left in place: reads never write (database/sessions.py); the next sign-in purges it.
        return record if record.is_live(self._now()) else None

    def list_for_user(self, user_id: str) -> list[SessionRecord]:
        now = self._now()
        rows = (
            self._db.connection()
            .execute(
                _SELECT_LIVE,
                (user_id, now, now),
            )
            .fetchall()
        )
        return [_record(row) for row in rows]

    def refresh(self, user_id: str, session_id: str, *, expires_at: int, updated_at: int) -> SessionRecord | None:
        now = self._now()
        with self._db.transaction() as conn:
            row = conn.execute(_SELECT_ONE, (user_id, session_id)).fetchone()
            if row is None:
                return None
            current = _record(row)
            if not current.is_live(now):
                return None
            updated = SessionRecord(
                **{**_as_dict(current), "expires_at": expires_at, "updated_at": updated_at}  # type: ignore[arg-type]
            )
            conn.execute(
                "UPDATE sessions SET expires_at = ?, updated_at = ?, ttl = ? WHERE user_id = ? AND session_id = ?",
                (expires_at, updated_at, ttl_seconds(updated), user_id, session_id),
            )
        return updated

    def delete(self, user_id: str, session_id: str) -> None:
        self._db.writer().execute("DELETE FROM sessions WHERE user_id = ? AND session_id = ?", (user_id, session_id))

    def delete_for_user(self, user_id: str, *, keep: str | None = None) -> int:
        cursor = self._db.writer().execute(
            "DELETE FROM sessions WHERE user_id = ? AND session_id IS NOT ?", (user_id, keep)
        )
        return cursor.rowcount

    def update_user_snapshot(self, user_id: str, *, email: str, name: str) -> None:
        self._db.writer().execute("UPDATE sessions SET email = ?, name = ? WHERE user_id = ?", (email, name, user_id))

    def ttl_of(self, user_id: str, session_id: str) -> int | None:
        """The stored TTL (epoch seconds) of a session, expired or not (for tests and tooling)."""
        row = (
            self._db.connection()
            .execute("SELECT ttl FROM sessions WHERE user_id = ? AND session_id = ?", (user_id, session_id))
            .fetchone()
        )
        return None if row is None else int(row[0])

    def close(self) -> None:
        self._db.close()


def _as_dict(record: SessionRecord) -> dict[str, object]:
    return {field: getattr(record, field) for field in SessionRecord.__dataclass_fields__}


class SQLiteRateLimitStore(_OnFile, RateLimitStore):
    """:class:`RateLimitStore` on a SQLite file; each ``hit`` is one ``BEGIN IMMEDIATE`` transaction."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time, busy_timeout_s: float = 10.0) -> None:
        self._db = _Connections(path, busy_timeout_s)
        self._clock = clock

    def hit(self, key: str, window_s: int, limit: int) -> tuple[bool, int]:
        now = int(self._clock() * 1000)
        window_ms = window_s * 1000
        with self._db.transaction() as conn:
            row = conn.execute("SELECT window_start, count FROM rate_limits WHERE key = ?", (key,)).fetchone()
            if row is None or now >= int(row[0]) + window_ms:
                conn.execute(
                    _OPEN_WINDOW,
                    (key, now, -(-(now + window_ms) // 1000)),
                )
                if row is None:
                    conn.execute("DELETE FROM rate_limits WHERE ttl < ?", (now // 1000 - 60,))
                return True, 0
            start, count = int(row[0]), int(row[1])
            if count < limit:
                conn.execute("UPDATE rate_limits SET count = count + 1 WHERE key = ?", (key,))
                return True, 0
        return False, max(1, -(-(start + window_ms - now) // 1000))

    def peek(self, key: str, window_s: int) -> tuple[int, int]:
        now = int(self._clock() * 1000)
        row = (
            self._db.connection()
            .execute("SELECT window_start, count FROM rate_limits WHERE key = ?", (key,))
            .fetchone()
        )
        if row is None or now >= int(row[0]) + window_s * 1000:
            return 0, 0
        return int(row[1]), max(1, -(-(int(row[0]) + window_s * 1000 - now) // 1000))

    def close(self) -> None:
        self._db.close()

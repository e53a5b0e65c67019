"""The answers of mutations received over the sync protocol, kept in SQLite so that they outlive a restart.

A Convex client re-sends every mutation it has not seen settled (no ``MutationResponse``, or no ``Transition`` reaching
its ``ts``) when it reconnects, with the same ``(sessionId, requestId)``. Convex's backend answers such a re-send from
its ``_session_requests`` table instead of running the mutation again. :class:`SQLiteMutationLog` is that table for
the dev server: in the same SQLite file as the documents, table ``sync_mutation_log``, so a dev-server restart (the
usual reason for a reconnect while a mutation is in flight) does not run a mutation twice.

Retention is bounded by count: the newest ``capacity`` answers are kept (older ones are pruned as new ones arrive), far
more than the requests a client can have in flight across one reconnect.

The answer is written right after the mutation commits and before it is sent. A process killed in between (a hard
crash within that instant, not a restart) leaves a committed mutation without an answer; its re-send runs again.
Closing that gap needs the answer written in the mutation's own transaction, as Convex does.

Example:
    >>> log = SQLiteMutationLog(tmp_path / "dev.sqlite3")                        # doctest: +SKIP
    >>> log.put("3f0c…", 1, {"type": "MutationResponse", "requestId": 1, ...})   # doctest: +SKIP
    >>> log.get("3f0c…", 1)["requestId"]                                        # doctest: +SKIP
    1
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any, Final

from authlib_core.errors import StorageUnavailableError

__all__ = ["SQLiteMutationLog"]

logger = logging.getLogger("authlib_core.sync")

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS sync_mutation_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    request_id INTEGER NOT NULL,
    answer TEXT NOT NULL,
    UNIQUE (session_id, request_id)
);
"""
#: Pruning runs once per this many answers (a DELETE by sequence number, cheap).
_PRUNE_EVERY: Final = 100


class SQLiteMutationLog:
    """Answers by ``(sessionId, requestId)`` in a SQLite file; the same interface as the in-memory log.

    One connection per thread (WAL mode, the dev server's threads share the file with the document store).
    """

    def __init__(self, path: Path, *, capacity: int = 10_000, busy_timeout_s: float = 5.0) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.path = Path(path)
        self.capacity = capacity
        self._busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        self._lock = threading.Lock()
        self._puts = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connection().executescript(_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=self._busy_timeout_s, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            self._local.connection = connection
        return connection

    def get(self, session_id: str, request_id: int) -> dict[str, Any] | None:
        """The answer sent for this request before, if it is still kept.

        Raises:
            StorageUnavailableError: the file cannot be read (then the mutation must not run: it may have run).
        """
        try:
            row = (
                self._connection()
                .execute(
                    "SELECT answer FROM sync_mutation_log WHERE session_id = ? AND request_id = ?",
                    (session_id, request_id),
                )
                .fetchone()
            )
        except sqlite3.Error as exc:
            raise StorageUnavailableError(
                "Could not read the log of answered mutations, so this mutation was not run (it may have run "
                "before a reconnect). Retry it.",
            ) from exc
        if row is None:
            return None
        answer: dict[str, Any] = json.loads(row[0])
        return answer

    def put(self, session_id: str, request_id: int, answer: dict[str, Any]) -> None:
        """Keep an answer (the oldest beyond ``capacity`` are dropped). A failure is logged, not raised: the mutation
        has committed and its answer still goes to the client; only a re-send of it would run again."""
        text = json.dumps(answer, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        with self._lock:
            self._puts += 1
            prune = self._puts % _PRUNE_EVERY == 0
        try:
            connection = self._connection()
            connection.execute(
                "INSERT OR REPLACE INTO sync_mutation_log (session_id, request_id, answer) VALUES (?, ?, ?)",
                (session_id, request_id, text),
            )
            if prune:
                self.prune()
        except sqlite3.Error:
            logger.exception("could not keep a mutation's answer; a re-send of request %d would run again", request_id)

    def prune(self) -> None:
        """Drop all but the newest ``capacity`` answers."""
        self._connection().execute(
            "DELETE FROM sync_mutation_log WHERE seq <= (SELECT MAX(seq) FROM sync_mutation_log) - ?",
            (self.capacity,),
        )

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

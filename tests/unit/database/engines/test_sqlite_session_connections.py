"""The SQLite session store's connections: one per running thread, closed when the thread ends.

The dev server runs every HTTP connection on a thread of its own; a connection kept for each finished thread would
hold two open files per HTTP connection ever made.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import TYPE_CHECKING

import pytest

from authlib_core.database.engines.sqlite_sessions import SQLiteRateLimitStore, SQLiteSessionStore

if TYPE_CHECKING:
    import pathlib


def _on_a_thread(store: SQLiteSessionStore) -> sqlite3.Connection:
    """Read a session on a new thread and return the connection that thread used."""
    used: list[sqlite3.Connection] = []

    def work() -> None:
        assert store.get("user", "session") is None
        used.append(store._db.connection())

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return used[0]


def test_a_threads_connection_is_closed_when_the_thread_ends(tmp_path: pathlib.Path) -> None:
    store = SQLiteSessionStore(tmp_path / "dev.sqlite3")
    first, second = _on_a_thread(store), _on_a_thread(store)
    assert first is not second
    for conn in (first, second):
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            conn.execute("SELECT 1")
    # the running thread keeps its own, and the store still answers
    assert store.get("user", "session") is None
    assert store._db.connection().execute("SELECT 1").fetchone() == (1,)


def test_close_closes_the_connections_of_running_threads(tmp_path: pathlib.Path) -> None:
    store = SQLiteRateLimitStore(tmp_path / "dev.sqlite3")
    mine = store._db.connection()
    store.close()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        mine.execute("SELECT 1")

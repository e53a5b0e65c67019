"""A SQLite writer never waits for the write lock past the request's time budget.

Two real connections to one file: a plain ``sqlite3`` connection takes the write lock (``BEGIN IMMEDIATE``, as
another process or a script would) and holds it; the engine's writer, inside a request budget, waits at most
what is left of the budget and then fails with a 503 that says what happened and what to do. Outside a budget
the engine's busy timeout applies, as before.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import closing, contextmanager
from typing import TYPE_CHECKING

import pytest

from authlib_core.database import Database
from authlib_core.database.deadline import request_budget
from authlib_core.database.engines.sqlite import SQLiteEngine
from authlib_core.database.engines.sqlite_lock import lock_wait_s
from authlib_core.database.engines.sqlite_sessions import SQLiteSessionStore
from authlib_core.errors import ConflictError, StorageUnavailableError
from tests.unit.database.engines.test_sqlite import get, insert

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

BUDGET_S = 0.4


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "dev.sqlite3"


@contextmanager
def locked(path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holding the file's write lock for the block."""
    with closing(sqlite3.connect(path, isolation_level=None)) as holder:
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield holder
        finally:
            holder.execute("ROLLBACK")


def assert_budget_error(error: StorageUnavailableError, path: Path) -> None:
    assert "time budget ran out while it waited for the SQLite store's write lock" in error.message
    assert "nothing was written" in error.message
    assert "Retry the request" in error.message
    assert str(path) not in error.message  # what a client sees names no file
    assert str(path) in error.detail  # the log does


def test_a_commit_waits_for_the_lock_only_as_long_as_the_budget(path: Path) -> None:
    with SQLiteEngine(path) as engine:  # busy timeout 30 s
        assert engine.busy_timeout_s == 30.0
        with locked(path), request_budget(BUDGET_S):
            started = time.monotonic()
            with pytest.raises(StorageUnavailableError) as caught:
                insert(engine, "a", b"\x10")
            waited = time.monotonic() - started
        print(f"gave up after {waited * 1000:.0f} ms (budget {BUDGET_S * 1000:.0f} ms)")
        assert BUDGET_S * 0.75 <= waited < 5.0  # it did wait for the lock, and not for 30 s
        assert_budget_error(caught.value, path)
        assert get(engine, "a") is None
        insert(engine, "a", b"\x10")  # the lock is free: the same engine writes again
        assert get(engine, "a") is not None


def test_an_exclusive_transaction_waits_only_as_long_as_the_budget(path: Path) -> None:
    with SQLiteEngine(path) as engine, locked(path), request_budget(BUDGET_S):
        started = time.monotonic()
        with pytest.raises(StorageUnavailableError) as caught:
            engine.begin("exclusive")
        assert time.monotonic() - started < 5.0
        assert_budget_error(caught.value, path)


def test_a_lock_released_within_the_budget_is_taken(path: Path) -> None:
    holder_connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    with SQLiteEngine(path) as engine, closing(holder_connection) as holder:
        holder.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.3, lambda: holder.execute("ROLLBACK"))
        release.start()
        try:
            with request_budget(10.0):
                started = time.monotonic()
                insert(engine, "a", b"\x10")
                assert time.monotonic() - started >= 0.2  # it waited for the other writer, then wrote
        finally:
            release.join()
        assert get(engine, "a") is not None


def test_a_spent_budget_still_writes_when_nobody_holds_the_lock(path: Path) -> None:
    with SQLiteEngine(path) as engine:
        with request_budget(0.0):
            insert(engine, "a", b"\x10")
            with locked(path):
                started = time.monotonic()
                with pytest.raises(StorageUnavailableError):
                    insert(engine, "b", b"\x20")
                assert time.monotonic() - started < 1.0  # no time left: it does not wait at all
        assert get(engine, "a") is not None
        assert get(engine, "b") is None


def test_outside_a_budget_the_busy_timeout_applies_and_is_a_retried_conflict(path: Path) -> None:
    assert lock_wait_s(0.2) == (0.2, False)
    with SQLiteEngine(path, busy_timeout_s=0.2) as engine:
        with request_budget(BUDGET_S):  # a pooled connection whose last wait was cut to a budget...
            assert lock_wait_s(0.2) == (0.2, False)  # (a budget longer than the timeout changes nothing)
            insert(engine, "a", b"\x10")
        with locked(path):
            started = time.monotonic()
            with pytest.raises(ConflictError, match=r"for more than 0\.2s"):
                insert(engine, "b", b"\x20")
            assert 0.15 <= time.monotonic() - started < 5.0


def test_a_mutation_gives_up_at_the_budget_without_retrying(path: Path) -> None:
    database = Database(SQLiteEngine(path), None, cursor_secret=b"lock-budget-test-cursor-secret")
    try:
        with locked(path), request_budget(BUDGET_S):
            started = time.monotonic()
            with pytest.raises(StorageUnavailableError) as caught:
                database.run_mutation(lambda db: db.insert("notes", {"text": "x"}))
            assert time.monotonic() - started < 5.0
        assert_budget_error(caught.value, path)
        assert database.stats.conflicts == 0  # a spent budget is not a conflict to retry
        assert database.run_query(lambda db: db.query("notes").collect()) == []
    finally:
        database.close()


def test_session_writes_wait_only_as_long_as_the_budget(path: Path) -> None:
    store = SQLiteSessionStore(path, busy_timeout_s=10.0)
    try:
        with locked(path), request_budget(BUDGET_S):
            started = time.monotonic()
            with pytest.raises(StorageUnavailableError) as caught:
                store.delete("user", "session")
            assert time.monotonic() - started < 5.0
        assert_budget_error(caught.value, path)
        store.delete("user", "session")  # the lock is free again
        assert store.get("user", "session") is None
        with locked(path):  # a read never reports a wait it did not make
            translated = store.storage_error(sqlite3.OperationalError("database is locked"), "reading")
            assert translated is not None
            assert "for more than 10s" in translated.message
    finally:
        store.close()

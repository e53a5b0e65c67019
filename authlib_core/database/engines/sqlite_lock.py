"""How long a SQLite writer waits for the write lock: the busy timeout, never past the request's time budget.

SQLite has one write lock per file. A writer that finds it taken waits (SQLite's busy handler) up to a timeout,
then fails with ``SQLITE_BUSY``. A fixed timeout (30 s by default) could keep a request waiting after its caller
gave up — past the dev server's request budget, past API Gateway's 30 s. So before each statement that takes the
lock, :func:`set_lock_wait` sets the connection's ``busy_timeout`` to the engine's timeout or, inside a request
budget (:mod:`authlib_core.database.deadline`), to what is left of it, whichever is shorter. When the budget was
the limit, the failure is :func:`budget_spent_error`: a 503 that says the request ran out of time waiting for
another writer, nothing was written, and what to do.

Example:
    >>> import sqlite3
    >>> from authlib_core.database.deadline import request_budget
    >>> connection = sqlite3.connect(":memory:")
    >>> with request_budget(0.5):
    ...     set_lock_wait(connection, busy_timeout_s=30.0)
    True
    >>> connection.execute("PRAGMA busy_timeout").fetchone()[0] <= 500
    True
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from authlib_core.database.deadline import remaining
from authlib_core.errors import StorageUnavailableError

if TYPE_CHECKING:
    import sqlite3

__all__ = ["budget_spent_error", "lock_wait_s", "set_lock_wait"]


def lock_wait_s(busy_timeout_s: float) -> tuple[float, bool]:
    """How long a writer may wait for the lock now, and whether the request's budget (not the timeout) set it.

    Example:
        >>> lock_wait_s(30.0)   # outside a request budget
        (30.0, False)
    """
    left = remaining()
    if left is None or left >= busy_timeout_s:
        return busy_timeout_s, False
    return left, True


def set_lock_wait(connection: sqlite3.Connection, busy_timeout_s: float) -> bool:
    """Set ``connection``'s busy timeout for the next statement that takes the write lock (whole ms, rounded
    down so the wait ends inside the budget); True when the request's budget set it."""
    wait, budgeted = lock_wait_s(busy_timeout_s)
    connection.execute(f"PRAGMA busy_timeout = {max(0, math.floor(wait * 1000.0))}")
    return budgeted


def budget_spent_error(detail: str) -> StorageUnavailableError:
    """The error of a write that gave up on the lock because the request's time budget ran out (HTTP 503)."""
    return StorageUnavailableError(
        "This request's time budget ran out while it waited for the SQLite store's write lock, which another "
        "writer held; nothing was written. Retry the request. If it keeps happening, a long write transaction in "
        "another thread or process (a script, a second server on the same file) is holding the lock: shorten it "
        "or run it when the server is idle.",
        detail=detail,
    )

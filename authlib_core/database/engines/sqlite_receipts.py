"""Receipts (:mod:`authlib_core.database.receipts`) in the SQLite file of the documents: table ``receipts``.

A receipt added to a transaction is written by the same ``BEGIN IMMEDIATE`` … ``COMMIT`` as the documents, so it
exists exactly when the commit does. Expired receipts are invisible to reads and deleted every
:data:`PRUNE_EVERY` writes (a range delete on the ``expires_at`` index).

Example:
    >>> ensure_table(connection)                                              # doctest: +SKIP
    >>> put(connection, Receipt("sync", "s#1", "{}", expires_at=2_000_000_000))  # doctest: +SKIP
    >>> get(connection, "sync", "s#1", now=1_900_000_000)                     # doctest: +SKIP
    '{}'
"""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import sqlite3

    from authlib_core.database.receipts import Receipt

__all__ = ["PRUNE_EVERY", "TABLE", "ensure_table", "get", "put"]

TABLE: Final = "receipts"
#: Expired receipts are deleted once per this many receipts written.
PRUNE_EVERY: Final = 100

_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS receipts ("
    " scope TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, expires_at INTEGER NOT NULL,"
    " PRIMARY KEY (scope, key)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS receipts_by_expiry ON receipts (expires_at)",
)
_written = itertools.count(1)


def ensure_table(connection: sqlite3.Connection) -> None:
    """Create the table if it is missing (stores made before receipts existed get it on open)."""
    for statement in _SCHEMA:
        connection.execute(statement)


def put(connection: sqlite3.Connection, receipt: Receipt) -> None:
    """Write ``receipt`` in the connection's open transaction (replacing one with the same key)."""
    connection.execute(
        "INSERT OR REPLACE INTO receipts (scope, key, value, expires_at) VALUES (?, ?, ?, ?)",
        (receipt.scope, receipt.key, receipt.value, receipt.expires_at),
    )
    if next(_written) % PRUNE_EVERY == 0:
        connection.execute("DELETE FROM receipts WHERE expires_at <= ?", (int(time.time()),))


def get(connection: sqlite3.Connection, scope: str, key: str, *, now: float) -> str | None:
    """The value of an unexpired receipt, or None."""
    row = connection.execute(
        "SELECT value FROM receipts WHERE scope = ? AND key = ? AND expires_at > ?", (scope, key, int(now))
    ).fetchone()
    return None if row is None else str(row[0])

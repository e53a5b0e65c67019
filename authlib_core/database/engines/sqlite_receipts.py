"""Receipts (:mod:`authlib_core.database.receipts`) in the SQLite file of the documents: table ``receipts``.

A receipt added to a transaction is written by the same ``BEGIN IMMEDIATE`` … ``COMMIT`` as the documents, so it
exists exactly when the commit does. It is a plain ``INSERT``: when an unexpired receipt with its key is kept
already (a concurrent run of the same request committed first), :func:`insert` raises
:class:`~authlib_core.database.receipts.ReceiptExistsError` and the caller rolls the whole commit back.
:func:`put` (a receipt no commit carries) never replaces a kept one.

Expired receipts are invisible to reads and deleted every
:data:`PRUNE_EVERY` writes (a range delete on the ``expires_at`` index).

Example:
    >>> ensure_table(connection)                                              # doctest: +SKIP
    >>> put(connection, Receipt("sync", "s#1", "{}", expires_at=2_000_000_000))  # doctest: +SKIP
    >>> get(connection, "sync", "s#1", now=1_900_000_000)                     # doctest: +SKIP
    '{}'
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from typing import TYPE_CHECKING, Final

from authlib_core.database.receipts import ReceiptExistsError

if TYPE_CHECKING:
    from authlib_core.database.receipts import Receipt

__all__ = ["PRUNE_EVERY", "TABLE", "ensure_table", "get", "insert", "put"]

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


def insert(connection: sqlite3.Connection, receipt: Receipt) -> None:
    """Write ``receipt`` in the connection's open write transaction, where no unexpired receipt has its key.

    Raises:
        ReceiptExistsError: one has (the caller must roll the transaction back: nothing of it may commit).
    """
    _drop_expired(connection, receipt)
    try:
        connection.execute(_INSERT, (receipt.scope, receipt.key, receipt.value, receipt.expires_at))
    except sqlite3.IntegrityError as error:
        raise ReceiptExistsError(receipt.scope, receipt.key) from error
    _written_one(connection)


def put(connection: sqlite3.Connection, receipt: Receipt) -> bool:
    """Write ``receipt`` in the connection's open write transaction unless an unexpired receipt has its key (that
    one is kept). Returns True when written."""
    _drop_expired(connection, receipt)
    written = connection.execute(
        _INSERT.replace("INSERT", "INSERT OR IGNORE", 1),
        (receipt.scope, receipt.key, receipt.value, receipt.expires_at),
    ).rowcount
    _written_one(connection)
    return written == 1


_INSERT: Final = "INSERT INTO receipts (scope, key, value, expires_at) VALUES (?, ?, ?, ?)"


def _drop_expired(connection: sqlite3.Connection, receipt: Receipt) -> None:
    """An expired receipt with this key, not pruned yet, does not count as kept."""
    connection.execute(
        "DELETE FROM receipts WHERE scope = ? AND key = ? AND expires_at <= ?",
        (receipt.scope, receipt.key, int(time.time())),
    )


def _written_one(connection: sqlite3.Connection) -> None:
    if next(_written) % PRUNE_EVERY == 0:
        connection.execute("DELETE FROM receipts WHERE expires_at <= ?", (int(time.time()),))


def get(connection: sqlite3.Connection, scope: str, key: str, *, now: float) -> str | None:
    """The value of an unexpired receipt, or None."""
    row = connection.execute(
        "SELECT value FROM receipts WHERE scope = ? AND key = ? AND expires_at > ?", (scope, key, int(now))
    ).fetchone()
    return None if row is None else str(row[0])

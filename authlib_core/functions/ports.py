"""What the functions layer needs from the database layer, as structural types.

``authlib_core.database`` provides the real ``Database``, ``DatabaseReader`` and ``DatabaseWriter``; they satisfy
these protocols by shape. Only the members the executor calls are spelled precisely; the rest of ``ctx.db``'s
surface (documented in DESIGN.md §1) belongs to the database layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

__all__ = ["Database", "DatabaseReader", "DatabaseWriter", "read_only"]

T = TypeVar("T")


class DatabaseReader(Protocol):
    """``ctx.db`` in a query: reads only. It has no write methods at all."""

    def get(self, id: str, /) -> Any:
        """The document with this id, or ``None``."""
        ...

    def query(self, table: str, /) -> Any:
        """A query builder over ``table`` (``.with_index(...)``, ``.collect()``, ...)."""
        ...

    def normalize_id(self, table: str, id: str, /) -> str | None:
        """``id`` if it is an id of ``table``, else ``None``."""
        ...


class DatabaseWriter(DatabaseReader, Protocol):
    """``ctx.db`` in a mutation: reads, writes, and opens savepoints for nested mutations."""

    def insert(self, table: str, document: Any, /) -> str:
        """Insert a document; returns its new id."""
        ...

    def patch(self, id: str, fields: Any, /) -> None:
        """Shallow-merge ``fields`` into the document."""
        ...

    def replace(self, id: str, document: Any, /) -> None:
        """Replace the document's fields."""
        ...

    def delete(self, id: str, /) -> None:
        """Delete the document."""
        ...

    def savepoint(self) -> AbstractContextManager[None]:
        """A sub-transaction: the writes made inside it are undone if the block raises."""
        ...


class Database(Protocol):
    """Runs callbacks in transactions."""

    def run_query(self, fn: Callable[[DatabaseReader], T], /) -> T:
        """Call ``fn`` once in a read-only transaction."""
        ...

    def run_mutation(self, fn: Callable[[DatabaseWriter], T], /) -> T:
        """Call ``fn`` in a write transaction and commit; on a conflict, call it again (bounded retries)."""
        ...


class _ReadOnlyView:
    """The read methods of a writer and nothing else: ``ctx.db`` of a query run inside a mutation."""

    __slots__ = ("_db",)

    def __init__(self, db: DatabaseReader) -> None:
        self._db = db

    def get(self, id: str, /) -> Any:
        return self._db.get(id)

    def query(self, table: str, /) -> Any:
        return self._db.query(table)

    def normalize_id(self, table: str, id: str, /) -> str | None:
        return self._db.normalize_id(table, id)

    def __repr__(self) -> str:
        return f"ReadOnly({self._db!r})"


def read_only(db: DatabaseReader) -> DatabaseReader:
    """A view of ``db`` with only the read methods (so a nested query cannot write through its ``ctx.db``)."""
    return _ReadOnlyView(db)

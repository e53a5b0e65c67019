"""``ctx.db``: :class:`DatabaseReader` in queries, :class:`DatabaseWriter` in mutations.

The reader has no write methods, so a query that tries to write fails at once (and in mypy): at run time
``ctx.db.insert`` in a query raises :class:`~authlib_core.errors.InvalidQueryError` saying queries are
read-only (it is also an ``AttributeError``, so ``hasattr(ctx.db, "insert")`` stays False). Methods take an
id alone, or — like Convex's newer API — the table name first: ``db.get("users", user_id)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn, overload

from authlib_core.database.query import QueryInitializer
from authlib_core.database.system_tables import is_system_table
from authlib_core.display import missing_attribute
from authlib_core.errors import InvalidQueryError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from contextlib import AbstractContextManager

    from authlib_core.database.cursors import CursorCodec
    from authlib_core.database.transaction import Transaction
    from authlib_core.values import Value

__all__ = ["DatabaseReader", "DatabaseWriter", "SystemReader", "transaction_of"]

#: What only a ``DatabaseWriter`` has.
_WRITE_METHODS = frozenset({"insert", "patch", "replace", "delete", "savepoint"})


class _ReadOnlyDatabaseError(InvalidQueryError, AttributeError):
    """A write method was used on a read-only ``ctx.db`` (an ``AttributeError`` too, for ``hasattr``)."""


def _read_only(method: str) -> NoReturn:
    raise _ReadOnlyDatabaseError(
        f"ctx.db.{method} is not available in a query: queries are read-only (Convex: db.{method} is not a "
        "function in a query). Write in a mutation — call it from the client, from an action with "
        "ctx.run_mutation, or from another mutation."
    )


class DatabaseReader:
    """Read access to documents: ``get``, ``query``, ``normalize_id``.

    Example:
        >>> user = ctx.db.get(user_id)  # doctest: +SKIP
        >>> mine = ctx.db.query("myData").with_index(  # doctest: +SKIP
        ...     "by_user", lambda q: q.eq("userId", user_id)
        ... ).collect()
    """

    __slots__ = ("_codec", "_tx")

    def __init__(self, tx: Transaction, codec: CursorCodec) -> None:
        self._tx = tx
        self._codec = codec

    def _resolve(self, method: str, args: tuple[object, ...]) -> str:
        if len(args) == 1:
            document_id = args[0]
        elif len(args) == 2:
            table, document_id = args
            if not isinstance(table, str) or not self._tx.id_belongs_to(table, document_id):
                raise InvalidQueryError(
                    f"db.{method}({table!r}, {document_id!r}): the id is not an id of table {table!r}."
                )
        else:
            raise InvalidQueryError(f"db.{method} expects (id) or (table, id).")
        if not isinstance(document_id, str) or not self._tx.is_well_formed_id(document_id):
            raise InvalidQueryError(
                f"db.{method}: {document_id!r} is not a document id. Ids come from db.insert or a document's _id; "
                "use db.normalize_id(table, s) to check a string from a client."
            )
        return document_id

    @overload
    def get(self, document_id: str, /) -> dict[str, Value] | None: ...
    @overload
    def get(self, table: str, document_id: str, /) -> dict[str, Value] | None: ...
    def get(self, *args: str) -> dict[str, Value] | None:
        """The document with this id, or None if it does not exist."""
        return self._tx.get(self._resolve("get", args))

    def query(self, table: str) -> QueryInitializer:
        """Start a query over ``table`` (see :class:`~authlib_core.database.query.Query`)."""
        return QueryInitializer(self._tx, table, self._codec)

    @property
    def system(self) -> SystemReader:
        """Read-only access to the system tables (``_scheduled_functions``, ``_cron_jobs``).

        Example:
            >>> job = ctx.db.system.get(job_id)  # doctest: +SKIP
            >>> job["state"]["kind"]  # doctest: +SKIP
            'pending'
        """
        return SystemReader(self._tx, self._codec)

    if not TYPE_CHECKING:  # invisible to mypy, so that writing through a reader stays a type error

        def __getattr__(self, name: str) -> object:
            if name in _WRITE_METHODS and not isinstance(self, DatabaseWriter):
                _read_only(name)
            raise missing_attribute(self, name)

    def as_reader(self) -> DatabaseReader:
        """A reader over the same transaction, without write methods (``ctx.run_query`` in a mutation uses it)."""
        return DatabaseReader(self._tx, self._codec)

    def normalize_id(self, table: str, value: object) -> str | None:
        """``value`` if it is a well-formed id of ``table``, else None. Reads nothing.

        Example:
            >>> ctx.db.normalize_id("users", "not-an-id") is None  # doctest: +SKIP
            True
        """
        return value if isinstance(value, str) and self._tx.id_belongs_to(table, value) else None


class DatabaseWriter(DatabaseReader):
    """Read and write access, for mutations. Writes are atomic with the mutation.

    Example:
        >>> item_id = ctx.db.insert("myData", {"userId": user_id, "text": "hi"})  # doctest: +SKIP
        >>> ctx.db.patch(item_id, {"text": "hello"})  # doctest: +SKIP
    """

    __slots__ = ()

    def insert(self, table: str, document: Mapping[str, object]) -> str:
        """Insert a document; returns its new ``_id``. Do not pass ``_id`` or ``_creationTime``."""
        return self._tx.insert(table, document)

    def patch(self, *args: object) -> None:
        """``patch(id, fields)`` or ``patch(table, id, fields)``: shallow merge; ``REMOVE`` deletes a field."""
        document_id = self._resolve("patch", args[:-1])
        self._tx.patch(document_id, args[-1])  # type: ignore[arg-type]

    def replace(self, *args: object) -> None:
        """``replace(id, document)`` or ``replace(table, id, document)``: replace all fields."""
        document_id = self._resolve("replace", args[:-1])
        self._tx.replace(document_id, args[-1])  # type: ignore[arg-type]

    def delete(self, *args: str) -> None:
        """``delete(id)`` or ``delete(table, id)``."""
        self._tx.delete(self._resolve("delete", args))

    def savepoint(self) -> AbstractContextManager[None]:
        """A block whose writes are undone if it raises (nested ``run_mutation`` uses it)."""
        return self._tx.savepoint()


class SystemReader:
    """``ctx.db.system``: ``get(id)`` and ``query(table)`` over the system tables, read-only (as in Convex).

    Example:
        >>> pending = ctx.db.system.query("_scheduled_functions").filter(  # doctest: +SKIP
        ...     lambda q: q.eq(q.field("state.kind"), "pending")
        ... ).collect()
    """

    __slots__ = ("_codec", "_tx")

    def __init__(self, tx: Transaction, codec: CursorCodec) -> None:
        self._tx = tx
        self._codec = codec

    def get(self, document_id: str) -> dict[str, Value] | None:
        """The system document with this id, or None.

        Raises:
            InvalidQueryError: ``document_id`` is not an id of a system table.
        """
        table = self._tx.id_table(document_id) if isinstance(document_id, str) else None
        if table is None or not is_system_table(table):
            raise InvalidQueryError(
                f"db.system.get: {document_id!r} is not an id of a system table (such as an id returned by "
                "ctx.scheduler.run_after). Read the app's own documents with ctx.db.get(id)."
            )
        return self._tx.get(document_id)

    def query(self, table: str) -> QueryInitializer:
        """Start a query over the system table ``table`` (``"_scheduled_functions"`` or ``"_cron_jobs"``)."""
        return QueryInitializer(self._tx, table, self._codec, system=True)

    if not TYPE_CHECKING:  # invisible to mypy: a misspelt method stays a type error

        def __getattr__(self, name: str) -> object:
            raise missing_attribute(self, name)


def transaction_of(db: DatabaseReader) -> Transaction:
    """The transaction behind ``db`` (the library's own writes to system tables go through it)."""
    return db._tx

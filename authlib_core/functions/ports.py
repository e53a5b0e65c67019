"""What the functions layer uses from the database layer.

``ctx.db`` is a :class:`~authlib_core.database.DatabaseReader` in queries and a
:class:`~authlib_core.database.DatabaseWriter` in mutations; the executor runs functions through
:class:`~authlib_core.database.Database`.
"""

from __future__ import annotations

from authlib_core.database import Database, DatabaseReader, DatabaseWriter

__all__ = ["Database", "DatabaseReader", "DatabaseWriter", "read_only"]


def read_only(db: DatabaseReader) -> DatabaseReader:
    """A view of ``db`` with only the read methods (a query run inside a mutation cannot write through it)."""
    return db.as_reader()

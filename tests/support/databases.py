"""Real databases for tests: SQLite files under a temporary folder (no fakes of our own code)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from authlib_core.database import Database, DatabaseReader, DatabaseWriter
from authlib_core.database.engines.sqlite import SQLiteEngine

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from authlib_core.schema import Schema

T = TypeVar("T")

TEST_SECRET = b"test-cursor-secret"


def sqlite_database(path: Path, schema: Schema | None = None) -> Database:
    """A Database on a SQLite file at ``path`` with ``schema``'s indexes built."""
    database = Database(SQLiteEngine(path), schema, cursor_secret=TEST_SECRET)
    database.ensure_indexes()
    return database


class RecordingDatabase(Database):
    """A real SQLite-backed Database that also records which kind of transaction each call started."""

    def __init__(self, path: Path, schema: Schema | None = None) -> None:
        super().__init__(SQLiteEngine(path), schema, cursor_secret=TEST_SECRET)
        self.ensure_indexes()
        self.log: list[str] = []

    def run_query(self, fn: Callable[[DatabaseReader], T]) -> T:
        self.log.append("query")
        return super().run_query(fn)

    def run_mutation(self, fn: Callable[[DatabaseWriter], T]) -> T:
        self.log.append("mutation")
        return super().run_mutation(fn)

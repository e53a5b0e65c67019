"""The DynamoDB engine's read set: what conflict detection recorded, as live queries use it (same as SQLite)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from authlib_core.database.engines.sqlite import SQLiteEngine
from authlib_core.database.readset import ReadSet, write_set
from tests.dynamodb.helpers import delete_op, eq_range, insert, insert_op, specs, update_op

if TYPE_CHECKING:
    from pathlib import Path

    from authlib_core.database.interface import StorageEngine
    from tests.dynamodb.conftest import Backend

T = "items"


def _reads(engine: StorageEngine, group_doc: str) -> tuple[ReadSet, list[str]]:
    """A query-like read: one document by id, then the whole group "g" in two batches."""
    indexes = specs(shards=4)
    tx = engine.begin("read")
    assert tx.get(group_doc) is not None
    first = tx.scan(eq_range(indexes["by_group"], "g"), "asc", after=None, limit=2)
    rest = tx.scan(eq_range(indexes["by_group"], "g"), "asc", after=first.entries[-1].key, limit=10)
    read_set = tx.read_set()
    tx.close()
    assert read_set is not None
    return read_set, [entry.document.id for entry in [*first.entries, *rest.entries]]


def _scenario(engine: StorageEngine) -> list[bool]:
    """Which of a series of writes intersect the read set (the answers must not depend on the engine)."""
    indexes = specs(shards=4)
    engine.ensure_indexes(list(indexes.values()))
    other = insert(engine, T, {"group": "h", "n": 0.0}, indexes)
    watched = insert(engine, T, {"group": "x", "n": 1.0}, indexes)
    for n in range(3):
        insert(engine, T, {"group": "g", "n": float(n)}, indexes)
    read_set, ids = _reads(engine, watched)
    assert len(ids) == 3
    tx = engine.begin("read")
    other_record, watched_record, member = tx.get(other), tx.get(watched), tx.get(ids[1])
    tx.close()
    assert other_record is not None
    assert watched_record is not None
    assert member is not None
    return [
        read_set.intersects(write_set([insert_op(T, {"group": "g", "n": 9.0}, indexes)])),  # joins the group
        read_set.intersects(write_set([insert_op(T, {"group": "k", "n": 9.0}, indexes)])),  # another group
        read_set.intersects(write_set([update_op(other_record, {"group": "h", "n": 5.0}, indexes)])),  # unread
        read_set.intersects(write_set([update_op(watched_record, {"group": "x", "n": 2.0}, indexes)])),  # by id
        read_set.intersects(write_set([update_op(other_record, {"group": "g", "n": 0.0}, indexes)])),  # moves in
        read_set.intersects(write_set([delete_op(member, indexes)])),  # leaves
    ]


EXPECTED = [True, False, False, True, True, True]


def test_sqlite_answers_as_expected(tmp_path: Path) -> None:
    with SQLiteEngine(tmp_path / "db.sqlite") as engine:
        assert _scenario(engine) == EXPECTED


@pytest.mark.parametrize("backend", ["moto"], indirect=True)
def test_dynamodb_read_set_matches_sqlite(backend: Backend) -> None:
    assert _scenario(backend.engine) == EXPECTED


@pytest.mark.parametrize("backend", ["moto"], indirect=True)
def test_dynamodb_read_set_names_documents_and_intervals(backend: Backend) -> None:
    indexes = specs(shards=4)
    watched = insert(backend.engine, T, {"group": "x"}, indexes)
    for n in range(3):
        insert(backend.engine, T, {"group": "g", "n": float(n)}, indexes)
    read_set, _ = _reads(backend.engine, watched)
    assert read_set.complete
    assert read_set.documents == frozenset({watched})
    group = eq_range(indexes["by_group"], "g")
    # two batches of one shard's scan are one interval: the whole group
    assert read_set.ranges == ((T, "by_group", group.lower, group.upper),)

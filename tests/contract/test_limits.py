"""Limits are enforced identically on every engine, before anything is written."""

from __future__ import annotations

from typing import Any

import pytest

from authlib_core.database import Database, Limits
from authlib_core.errors import LimitExceededError, SchemaValidationError
from tests.contract.conftest import CURSOR_SECRET, insert_many
from tests.contract.engines import EngineSpec, open_engine
from tests.contract.schema import contract_schema


def _limited(engine_spec: EngineSpec, **limits: int) -> Database:
    database = Database(open_engine(engine_spec), contract_schema, cursor_secret=CURSOR_SECRET, limits=Limits(**limits))
    database.ensure_indexes()
    return database


def test_document_size_limit(db: Database) -> None:
    limit = db.limits.max_document_bytes
    db.run_mutation(lambda w: w.insert("things", {"blob": "x" * (limit - 1000)}))
    with pytest.raises(LimitExceededError, match="Document too large for table 'things'"):
        db.run_mutation(lambda w: w.insert("things", {"blob": "x" * limit}))
    assert len(db.run_query(lambda r: r.query("things").collect())) == 1


def test_index_key_size_limit(db: Database) -> None:
    with pytest.raises(LimitExceededError, match=r"Index things\.by_value"):
        db.run_mutation(lambda w: w.insert("things", {"value": "k" * 2000}))
    assert db.run_query(lambda r: r.query("things").collect()) == []


def test_nesting_depth_limit(db: Database) -> None:
    deep: dict[str, Any] = {"leaf": 1.0}
    for _ in range(20):
        deep = {"d": deep}
    with pytest.raises(SchemaValidationError, match="nested more than 16"):
        db.run_mutation(lambda w: w.insert("things", {"deep": deep}))


def test_documents_written_limit(engine_spec: EngineSpec) -> None:
    db = _limited(engine_spec, max_documents_written=5)
    try:
        db.run_mutation(lambda w: [w.insert("items", {"group": "g", "rank": float(i)}) for i in range(5)])
        with pytest.raises(LimitExceededError, match="Too many documents written"):
            db.run_mutation(lambda w: [w.insert("items", {"group": "h", "rank": float(i)}) for i in range(6)])
        assert len(db.run_query(lambda r: r.query("items").collect())) == 5
    finally:
        db.close()


def test_documents_read_limit_counts_filtered_documents(engine_spec: EngineSpec) -> None:
    db = _limited(engine_spec, max_documents_read=10)
    try:
        db.run_mutation(lambda w: [w.insert("items", {"group": "g", "rank": float(i)}) for i in range(12)])
        assert len(db.run_query(lambda r: r.query("items").take(10))) == 10
        with pytest.raises(LimitExceededError, match="Too many documents read"):
            db.run_query(lambda r: r.query("items").filter(lambda q: q.eq(q.field("rank"), 11.0)).collect())
    finally:
        db.close()


def test_index_ranges_count_distinct_reads(engine_spec: EngineSpec) -> None:
    """Like Convex's read set: the same document or range read again does not count again; inserts do not count."""
    db = _limited(engine_spec, max_index_ranges=3)
    try:
        ids = insert_many(db, "items", [{"group": "g", "rank": float(i)} for i in range(8)])
        assert db.run_query(lambda r: [r.get(ids[0])["_id"] for _ in range(10)]) == [ids[0]] * 10
        same_range = db.run_query(lambda r: [len(r.query("items").collect()) for _ in range(10)])
        assert same_range == [8] * 10
        with pytest.raises(LimitExceededError, match="Too many reads in one transaction") as caught:
            db.run_query(lambda r: [r.get(item) for item in ids[:4]])
        assert "3 documents read by id with db.get" in caught.value.message
    finally:
        db.close()


def test_writes_read_the_document_they_change(engine_spec: EngineSpec) -> None:
    """Convex's patch_inner / replace_inner / delete_inner read the document by id first, and that read counts
    against the index-range limit (so one mutation deletes at most 4,096 stored documents); a document already
    read by ``get`` counts once; the message names what was counted and nothing is written."""
    db = _limited(engine_spec, max_index_ranges=4)
    try:
        ids = insert_many(db, "items", [{"group": "g", "rank": float(i)} for i in range(8)])

        def get_then_delete(w: Any) -> None:
            for item in ids[:4]:
                assert w.get(item) is not None
                w.delete(item)

        db.run_mutation(get_then_delete)  # 4 documents, each read once: at the limit
        rest = ids[4:]

        def collect_then_change(w: Any) -> None:
            assert len(w.query("items").collect()) == 4
            w.patch(rest[0], {"rank": 100.0})
            w.replace(rest[1], {"group": "g", "rank": 101.0})
            w.delete(rest[2])
            w.delete(rest[3])

        with pytest.raises(LimitExceededError) as caught:
            db.run_mutation(collect_then_change)
        message = caught.value.message
        assert "the limit is 4 distinct index ranges" in message
        assert "0 documents read by id with db.get" in message
        assert "3 documents read by id by db.patch / db.replace / db.delete" in message
        assert "1 query index ranges" in message
        stored = db.run_query(lambda r: r.query("items").collect())
        assert [(d["_id"], d["rank"]) for d in stored] == [(item, float(i + 4)) for i, item in enumerate(rest)]
    finally:
        db.close()


def test_inserts_and_writes_to_new_documents_do_not_count(engine_spec: EngineSpec) -> None:
    db = _limited(engine_spec, max_index_ranges=1)
    try:

        def insert_and_rewrite(w: Any) -> None:
            for i in range(5):
                new = w.insert("items", {"group": "g", "rank": float(i)})
                w.patch(new, {"label": f"l{i}"})

        db.run_mutation(insert_and_rewrite)
        assert len(db.run_query(lambda r: r.query("items").collect())) == 5
    finally:
        db.close()


def test_bulk_delete_at_the_default_limits(engine_spec: EngineSpec, db: Database) -> None:
    """With Convex's default 4,096 ranges: collecting a table and deleting 4,000 of its documents in one mutation
    works; deleting 4,096 (plus the query range) does not, and the error says what was counted."""
    if engine_spec.kind != "sqlite":
        pytest.skip("a DynamoDB commit holds at most 100 items (docs/dynamodb.md); the limited tests above cover it")
    db.run_mutation(lambda w: [w.insert("pairs", {"side": "a", "n": float(i)}) for i in range(8_200)])

    def delete_first(count: int) -> Any:
        def run(w: Any) -> int:
            docs = w.query("pairs").collect()
            for doc in docs[:count]:
                w.delete(doc["_id"])
            return len(docs)

        return run

    assert db.run_mutation(delete_first(4_000)) == 8_200
    with pytest.raises(LimitExceededError, match="the limit is 4,096 distinct index ranges") as caught:
        db.run_mutation(delete_first(4_096))
    assert "4,095 documents read by id by db.patch / db.replace / db.delete" in caught.value.message
    assert "1 query index ranges" in caught.value.message
    assert len(db.run_query(lambda r: r.query("pairs").collect())) == 4_200

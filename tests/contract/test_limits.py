"""Limits are enforced identically on every engine, before anything is written."""

from __future__ import annotations

from typing import Any

import pytest

from authlib_core.database import Database, Limits
from authlib_core.errors import LimitExceededError, SchemaValidationError
from tests.contract.conftest import CURSOR_SECRET
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


def test_index_ranges_limit(engine_spec: EngineSpec) -> None:
    db = _limited(engine_spec, max_index_ranges=3)
    try:
        item_id = db.run_mutation(lambda w: w.insert("items", {"group": "g", "rank": 1.0}))
        with pytest.raises(LimitExceededError, match="Too many index ranges"):
            db.run_query(lambda r: [r.get(item_id) for _ in range(4)])
    finally:
        db.close()

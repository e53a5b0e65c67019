"""Engine-level helpers: build WriteOps and KeyRanges the way the transaction layer does."""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING, Any

from authlib_core.database.interface import (
    BY_CREATION_TIME,
    DocumentRecord,
    IndexSpec,
    KeyRange,
    StorageEngine,
    WriteOp,
)
from authlib_core.database.keys import document_keys
from authlib_core.values import new_id, prefix_successor, sort_key

if TYPE_CHECKING:
    from collections.abc import Mapping

_clock = itertools.count()


def specs(table: str = "items", *, shards: int = 1, creation_shards: int = 1) -> dict[str, IndexSpec]:
    return {
        BY_CREATION_TIME: IndexSpec(table, BY_CREATION_TIME, (), creation_shards),
        "by_group": IndexSpec(table, "by_group", ("group",), shards),
    }


def new_document(table: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    return {"_id": new_id(table), "_creationTime": time.time() * 1000.0 + next(_clock) / 1000.0, **fields}


def insert_op(table: str, fields: Mapping[str, Any], indexes: Mapping[str, IndexSpec]) -> WriteOp:
    document = new_document(table, fields)
    return WriteOp(table, document["_id"], None, document, {}, document_keys(document, list(indexes.values())), indexes)


def update_op(record: DocumentRecord, fields: Mapping[str, Any], indexes: Mapping[str, IndexSpec]) -> WriteOp:
    after = {"_id": record.id, "_creationTime": record.value["_creationTime"], **fields}
    specs_list = list(indexes.values())
    return WriteOp(
        record.table,
        record.id,
        record,
        after,
        document_keys(record.value, specs_list),
        document_keys(after, specs_list),
        indexes,
    )


def delete_op(record: DocumentRecord, indexes: Mapping[str, IndexSpec]) -> WriteOp:
    return WriteOp(
        record.table, record.id, record, None, document_keys(record.value, list(indexes.values())), {}, indexes
    )


def insert(engine: StorageEngine, table: str, fields: Mapping[str, Any], indexes: Mapping[str, IndexSpec]) -> str:
    op = insert_op(table, fields, indexes)
    tx = engine.begin("write")
    tx.commit([op])
    tx.close()
    return op.id


def full_range(spec: IndexSpec) -> KeyRange:
    return KeyRange(spec, b"\x01", b"\xff")


def eq_range(spec: IndexSpec, value: Any) -> KeyRange:
    prefix = sort_key(value)
    return KeyRange(spec, prefix, prefix_successor(prefix), (value,))

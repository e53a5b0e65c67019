"""Index maintenance (``ensure_indexes``): a migration step, not on the request path.

The catalog item (``pk = "catalog"``) records every index the stored entries were built for (table, name,
fields, shards). ``ensure_indexes`` compares it with the indexes the schema declares:

* nothing changed → 1 consistent ``GetItem``, done;
* an index is new or changed (fields or shard count) → its entries are built from the table's documents, read
  through the table's **stored** ``by_creation_time`` shards with ``Query`` (never ``Scan``) — entries carry a
  copy of the document, so no ``GetItem`` per document — and written with ``BatchWriteItem``;
* an index is gone or changed → its old entries are deleted (``Query`` keys only + ``BatchWriteItem``);
* every shard touched gets its version bumped, so a transaction that read it concurrently conflicts;
* finally the catalog is rewritten.

Run it before deploying code that writes to a new index (``python -m authlib_core infra ...``). Re-running it
is idempotent: puts of identical entries and deletes of absent ones are no-ops.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from authlib_core.database.engines.dynamodb import layout
from authlib_core.database.engines.dynamodb.errors import translate_boto_error, translate_client_error
from authlib_core.database.interface import BY_CREATION_TIME, IndexSpec, deserialize_document
from authlib_core.database.keys import document_key

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from authlib_core.database.engines.dynamodb.engine import DynamoDBEngine

__all__ = ["IndexChanges", "ensure_indexes", "load_catalog"]


@dataclasses.dataclass(frozen=True, slots=True)
class IndexChanges:
    """What :func:`ensure_indexes` did, by qualified index name (``"users.by_email"``)."""

    built: tuple[str, ...] = ()  # new, or rebuilt because its fields or shard count changed
    dropped: tuple[str, ...] = ()  # gone from the schema
    unchanged: tuple[str, ...] = ()


_CATALOG_KEY: dict[str, Any] = {"pk": {"S": layout.CATALOG_PK}, "sk": {"B": layout.VERSION_SK}}


def _spec_json(spec: IndexSpec) -> dict[str, Any]:
    return {"table": spec.table, "name": spec.name, "fields": list(spec.fields), "shards": spec.shards}


def _spec_from_json(data: dict[str, Any]) -> IndexSpec:
    return IndexSpec(table=data["table"], name=data["name"], fields=tuple(data["fields"]), shards=int(data["shards"]))


def load_catalog(engine: DynamoDBEngine) -> dict[str, IndexSpec]:
    """The indexes the stored entries were built for, by qualified name."""
    item = engine.client.get_item(TableName=engine.table_name, Key=_CATALOG_KEY, ConsistentRead=True).get("Item")
    if item is None:
        return {}
    return {name: _spec_from_json(data) for name, data in json.loads(item["indexes"]["S"]).items()}


def ensure_indexes(engine: DynamoDBEngine, indexes: Sequence[IndexSpec]) -> IndexChanges:
    """Make the stored index entries match ``indexes``; see the module docstring. Returns what changed.

    Raises:
        StorageUnavailableError: DynamoDB could not be reached, or the documents table does not exist.
    """
    try:
        return _ensure(engine, indexes)
    except ClientError as exc:
        raise translate_client_error(exc, "ensure_indexes") from exc
    except BotoCoreError as exc:
        raise translate_boto_error(exc, "ensure_indexes") from exc


def _ensure(engine: DynamoDBEngine, indexes: Sequence[IndexSpec]) -> IndexChanges:
    old = load_catalog(engine)
    new = {spec.qualified_name: spec for spec in indexes}
    changes = IndexChanges(
        built=tuple(sorted(name for name, spec in new.items() if old.get(name) != spec)),
        dropped=tuple(sorted(name for name in old if name not in new)),
        unchanged=tuple(sorted(name for name, spec in new.items() if old.get(name) == spec)),
    )
    if old == new:
        return changes
    tables = sorted({spec.table for spec in old.values()} | {spec.table for spec in new.values()})
    for table in tables:
        old_specs = {spec.name: spec for spec in old.values() if spec.table == table}
        new_specs = {spec.name: spec for spec in new.values() if spec.table == table}
        drop = [spec for name, spec in old_specs.items() if new_specs.get(name) != spec]
        build = [spec for name, spec in new_specs.items() if old_specs.get(name) != spec]
        if not drop and not build:
            continue
        # Documents are read through the entries as they are stored now: the catalogued by_creation_time, or
        # the default one that writes use for a table the catalog has never seen.
        source = old_specs.get(BY_CREATION_TIME) or IndexSpec(table=table, name=BY_CREATION_TIME, fields=())
        documents = _documents(engine, source) if build else []
        for spec in drop:
            _drop(engine, spec)
        for spec in build:
            _build(engine, spec, documents)
    engine.client.put_item(
        TableName=engine.table_name,
        Item={
            **_CATALOG_KEY,
            "indexes": {
                "S": json.dumps({name: _spec_json(spec) for name, spec in sorted(new.items())}, sort_keys=True)
            },
        },
    )
    return changes


def _documents(engine: DynamoDBEngine, source: IndexSpec) -> list[tuple[str, int, str]]:
    """(id, version, serialized document) of every document of the source index's table."""
    found: list[tuple[str, int, str]] = []
    for shard in range(max(1, source.shards)):
        for item in engine.query_all(layout.shard_pk(source, shard)):
            found.append((item[layout.ATTR_ID]["S"], int(item[layout.ATTR_VERSION]["N"]), item[layout.ATTR_DOC]["S"]))
    return found


def _drop(engine: DynamoDBEngine, spec: IndexSpec) -> None:
    for shard in range(max(1, spec.shards)):
        pk = layout.shard_pk(spec, shard)
        keys = [{"pk": item["pk"], "sk": item["sk"]} for item in engine.query_all(pk, keys_only=True)]
        _batch_write(engine, [{"DeleteRequest": {"Key": key}} for key in keys])
        _bump(engine, pk)


def _build(engine: DynamoDBEngine, spec: IndexSpec, documents: Iterable[tuple[str, int, str]]) -> None:
    requests = []
    for document_id, version, text in documents:
        value = deserialize_document(text)
        key = document_key(value, spec)
        pk = layout.shard_pk(spec, layout.shard_of_document(spec, value))
        requests.append(
            {
                "PutRequest": {
                    "Item": {
                        "pk": {"S": pk},
                        "sk": {"B": key},
                        layout.ATTR_ID: {"S": document_id},
                        layout.ATTR_VERSION: {"N": str(version)},
                        layout.ATTR_DOC: {"S": text},
                    }
                }
            }
        )
    _batch_write(engine, requests)
    for shard in range(max(1, spec.shards)):
        _bump(engine, layout.shard_pk(spec, shard))


def _bump(engine: DynamoDBEngine, pk: str) -> None:
    engine.client.update_item(
        TableName=engine.table_name,
        Key={"pk": {"S": pk}, "sk": {"B": layout.VERSION_SK}},
        UpdateExpression="ADD ver :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )


def _batch_write(engine: DynamoDBEngine, requests: list[dict[str, Any]]) -> None:
    for start in range(0, len(requests), 25):
        pending: dict[str, Any] = {engine.table_name: requests[start : start + 25]}
        delay = 0.05
        while pending:
            response = engine.client.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}
            if pending:
                time.sleep(delay)
                delay = min(delay * 2, 2.0)

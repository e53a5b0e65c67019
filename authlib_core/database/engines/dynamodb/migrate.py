"""Index maintenance and layout conversion (``ensure_indexes``): a migration step, not on the request path.

The catalog item (``pk = "catalog"``) records every index the stored entries were built for (table, name,
fields, shards) and the index layout they use (``layout``; absent means layout 1). ``ensure_indexes`` compares it
with the indexes the schema declares:

* nothing changed → 1 consistent ``GetItem``, done;
* an index is new or changed (fields or shard count) → its entries are built from the table's documents — the
  ids listed by the table's **stored** ``by_creation_time`` entries (``Query``, never ``Scan``), the documents read
  with consistent ``BatchGetItem`` — and written with ``BatchWriteItem``;
* an index is gone or changed → its old entries are deleted (``Query`` keys only + ``BatchWriteItem``);
* every partition version and value version of a built or dropped index is bumped, so a transaction that read it
  concurrently conflicts;
* finally the catalog is rewritten.

**Layout 1 → 2** (entries that carried a copy of the document, one shard version per index shard; see
docs/dynamodb.md, "Migrating from layout 1"), when the catalog says layout 1:

1. fence: every layout-1 shard version item gets a string ``ver``, so a commit of layout-1 code (which adds 1 to
   it in every write) fails as a whole: nothing it writes can be missed by the conversion;
2. build every index of the schema in layout 2 from the documents listed by the layout-1 ``by_creation_time``;
3. write the catalog: layout 2, the indexes, and the layout-1 indexes still to clean up (``legacy``);
4. delete the layout-1 entries (the fenced version items stay), then drop ``legacy`` from the catalog.

Each step is idempotent and the catalog changes only after the step before it finished, so an interrupted run
is completed by running it again (``python -m authlib_core infra migrate``). Re-running a finished migration is
1 ``GetItem``.

**Entry counts** (docs/dynamodb.md §3): a build sets every value version's count exactly; a drop leaves its value
versions without an exact count; and a catalog without ``counts`` (tables written before counts existed) gets
every value version counted once from the stored entries — per partition: the value versions' ``ver``, a keys-only
``Query``, then an update of each count conditioned on that ``ver`` (a concurrent insert or removal of that value
makes it fail, and the partition is counted again) — and then ``counts`` in the catalog.
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
from authlib_core.errors import StorageUnavailableError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from authlib_core.database.engines.dynamodb.engine import DynamoDBEngine

__all__ = ["FENCED_VERSION", "Catalog", "IndexChanges", "ensure_indexes", "load_catalog", "read_catalog"]

#: What a fenced layout-1 shard version item holds instead of a number (docs/dynamodb.md, "Migrating from layout 1").
FENCED_VERSION = "moved to index layout 2 by infra migrate: run the current authlib-core"


@dataclasses.dataclass(frozen=True, slots=True)
class IndexChanges:
    """What :func:`ensure_indexes` did, by qualified index name (``"users.by_email"``)."""

    built: tuple[str, ...] = ()  # new, or rebuilt because its fields or shard count changed
    dropped: tuple[str, ...] = ()  # gone from the schema
    unchanged: tuple[str, ...] = ()
    #: the stored entries were converted from layout 1 (every index was built anew)
    converted: bool = False
    #: unchanged indexes whose value versions were given exact entry counts (tables written before counts)
    counted: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Catalog:
    """The catalog item: indexes by qualified name, their layout, and layout-1 indexes not yet cleaned up."""

    indexes: dict[str, IndexSpec]
    layout: int
    legacy: dict[str, IndexSpec]
    #: every value version of the catalogued indexes has been given an exact entry count
    counts: bool = True


_CATALOG_KEY: dict[str, Any] = {"pk": {"S": layout.CATALOG_PK}, "sk": {"B": layout.VERSION_SK}}


def _spec_json(spec: IndexSpec) -> dict[str, Any]:
    return {"table": spec.table, "name": spec.name, "fields": list(spec.fields), "shards": spec.shards}


def _spec_from_json(data: dict[str, Any]) -> IndexSpec:
    return IndexSpec(table=data["table"], name=data["name"], fields=tuple(data["fields"]), shards=int(data["shards"]))


def _specs_json(specs: dict[str, IndexSpec]) -> str:
    return json.dumps({name: _spec_json(spec) for name, spec in sorted(specs.items())}, sort_keys=True)


def read_catalog(engine: DynamoDBEngine) -> Catalog:
    """The catalog as stored (an absent catalog: no indexes, the current layout)."""
    item = engine.client.get_item(TableName=engine.table_name, Key=_CATALOG_KEY, ConsistentRead=True).get("Item")
    if item is None:
        return Catalog({}, layout.LAYOUT, {})

    def specs(attribute: str) -> dict[str, IndexSpec]:
        text = item[attribute]["S"] if attribute in item else "{}"
        return {name: _spec_from_json(data) for name, data in json.loads(text).items()}

    stored_layout = int(item["layout"]["N"]) if "layout" in item else 1
    return Catalog(specs("indexes"), stored_layout, specs("legacy"), counts="counts" in item)


def load_catalog(engine: DynamoDBEngine) -> dict[str, IndexSpec]:
    """The indexes the stored entries were built for, by qualified name."""
    return read_catalog(engine).indexes


def _write_catalog(engine: DynamoDBEngine, catalog: Catalog) -> None:
    item: dict[str, Any] = {
        **_CATALOG_KEY,
        "indexes": {"S": _specs_json(catalog.indexes)},
        "layout": {"N": str(catalog.layout)},
    }
    if catalog.legacy:
        item["legacy"] = {"S": _specs_json(catalog.legacy)}
    if catalog.counts:
        item["counts"] = {"N": "1"}
    engine.client.put_item(TableName=engine.table_name, Item=item)


def ensure_indexes(engine: DynamoDBEngine, indexes: Sequence[IndexSpec]) -> IndexChanges:
    """Make the stored index entries match ``indexes`` in the current layout; see the module docstring.

    Example:
        >>> ensure_indexes(engine, [IndexSpec("notes", "by_user", ("userId",))])  # doctest: +SKIP
        IndexChanges(built=('notes.by_user',), dropped=(), unchanged=(), converted=False)

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
    catalog = read_catalog(engine)
    new = {spec.qualified_name: spec for spec in indexes}
    if not catalog.indexes:
        catalog = _uncatalogued_layout_1(engine, catalog, {spec.table for spec in new.values()})
    if catalog.layout < layout.LAYOUT:
        return _convert(engine, catalog.indexes, new)
    if catalog.legacy:
        _clean_up(engine, catalog)
    old = catalog.indexes
    changes = IndexChanges(
        built=tuple(sorted(name for name, spec in new.items() if old.get(name) != spec)),
        dropped=tuple(sorted(name for name in old if name not in new)),
        unchanged=tuple(sorted(name for name, spec in new.items() if old.get(name) == spec)),
    )
    if old == new and catalog.counts:
        return changes
    for table in sorted({spec.table for spec in old.values()} | {spec.table for spec in new.values()}):
        old_specs = {spec.name: spec for spec in old.values() if spec.table == table}
        new_specs = {spec.name: spec for spec in new.values() if spec.table == table}
        drop = [spec for name, spec in old_specs.items() if new_specs.get(name) != spec]
        build = [spec for name, spec in new_specs.items() if old_specs.get(name) != spec]
        if not drop and not build:
            continue
        # Documents are listed by the entries as they are stored now: the catalogued by_creation_time, or the
        # default one that writes use for a table the catalog has never seen.
        source = old_specs.get(BY_CREATION_TIME) or IndexSpec(table=table, name=BY_CREATION_TIME, fields=())
        documents = _documents(engine, source, legacy=False) if build else []
        for spec in drop:
            _drop(engine, spec)
        for spec in build:
            _build(engine, spec, documents)
    if not catalog.counts:
        counted = tuple(name for name in changes.unchanged if layout.has_value_versions(new[name]))
        for name in counted:
            _count_entries(engine, new[name])
        changes = dataclasses.replace(changes, counted=counted)
    _write_catalog(engine, Catalog(new, layout.LAYOUT, {}))
    return changes


def _uncatalogued_layout_1(engine: DynamoDBEngine, catalog: Catalog, tables: set[str]) -> Catalog:
    """Layout-1 code writes ``by_creation_time`` entries (1 shard) even before any migration wrote a catalog:
    without a catalog, 1 ``Query`` per table looks for them, and any found are converted like catalogued ones."""
    found: dict[str, IndexSpec] = {}
    for table in sorted(tables):
        spec = IndexSpec(table=table, name=BY_CREATION_TIME, fields=())
        if next(engine.query_all(layout.legacy_shard_pk(spec, 0), keys_only=True), None) is not None:
            found[spec.qualified_name] = spec
    return Catalog(found, 1, {}) if found else catalog


def _convert(engine: DynamoDBEngine, old: dict[str, IndexSpec], new: dict[str, IndexSpec]) -> IndexChanges:
    """Layout 1 → 2: fence, build everything anew, switch the catalog, clean up (module docstring)."""
    for spec in old.values():
        for shard in range(max(1, spec.shards)):
            engine.client.put_item(
                TableName=engine.table_name,
                Item={
                    "pk": {"S": layout.legacy_shard_pk(spec, shard)},
                    "sk": {"B": layout.VERSION_SK},
                    layout.ATTR_VERSION: {"S": FENCED_VERSION},
                },
            )
    for table in sorted({spec.table for spec in new.values()}):
        source = old.get(f"{table}.{BY_CREATION_TIME}") or IndexSpec(table=table, name=BY_CREATION_TIME, fields=())
        documents = _documents(engine, source, legacy=True)
        for spec in new.values():
            if spec.table == table:
                _build(engine, spec, documents)
    catalog = Catalog(new, layout.LAYOUT, old)
    _write_catalog(engine, catalog)
    _clean_up(engine, catalog)
    return IndexChanges(
        built=tuple(sorted(new)), dropped=tuple(sorted(name for name in old if name not in new)), converted=True
    )


def _clean_up(engine: DynamoDBEngine, catalog: Catalog) -> None:
    """Delete the layout-1 entries of ``catalog.legacy`` (keeping the fenced version items), then forget them."""
    for spec in catalog.legacy.values():
        for shard in range(max(1, spec.shards)):
            pk = layout.legacy_shard_pk(spec, shard)
            keys = [{"pk": item["pk"], "sk": item["sk"]} for item in engine.query_all(pk, keys_only=True)]
            _batch_write(engine, [{"DeleteRequest": {"Key": key}} for key in keys])
    _write_catalog(engine, dataclasses.replace(catalog, legacy={}))


def _documents(engine: DynamoDBEngine, source: IndexSpec, *, legacy: bool) -> list[tuple[str, str]]:
    """(id, serialized document) of every document of the source index's table, read from the document items."""
    if legacy:
        pks = [layout.legacy_shard_pk(source, shard) for shard in range(max(1, source.shards))]
    else:
        pks = [layout.shard_pk(source, shard) for shard in range(layout.partitions(source))]
    ids = [item[layout.ATTR_ID]["S"] for pk in pks for item in engine.query_all(pk)]
    found: list[tuple[str, str]] = []
    for start in range(0, len(ids), 100):
        request: dict[str, Any] = {
            engine.table_name: {
                "Keys": [layout.document_item_key(document_id) for document_id in ids[start : start + 100]],
                "ConsistentRead": True,
            }
        }
        while request:
            response = engine.client.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(engine.table_name, []):
                found.append((item["pk"]["S"].removeprefix("d#"), item[layout.ATTR_DOC]["S"]))
            request = dict(response.get("UnprocessedKeys") or {})
    return sorted(found)


def _drop(engine: DynamoDBEngine, spec: IndexSpec) -> None:
    for shard in range(layout.partitions(spec)):
        pk = layout.shard_pk(spec, shard)
        keys = [{"pk": item["pk"], "sk": item["sk"]} for item in engine.query_all(pk, keys_only=True)]
        _batch_write(engine, [{"DeleteRequest": {"Key": key}} for key in keys])
        _bump(engine, pk)
        if layout.has_value_versions(spec):  # their entries are gone: their counts are no longer exact
            for value_pk in sorted({_value_pk(spec, key) for key in keys}):
                _bump(engine, value_pk, f"REMOVE {layout.ATTR_COUNTED_AT}")


def _value_pk(spec: IndexSpec, key: dict[str, Any]) -> str:
    return layout.value_version_pk_of_component(spec, layout.first_component(bytes(key["sk"]["B"])))


def _build(engine: DynamoDBEngine, spec: IndexSpec, documents: Iterable[tuple[str, str]]) -> None:
    requests = []
    counts: dict[str, int] = {}
    for document_id, text in documents:
        value = deserialize_document(text)
        pk = layout.shard_pk(spec, layout.shard_of_document(spec, value))
        item = {"pk": {"S": pk}, "sk": {"B": document_key(value, spec)}, layout.ATTR_ID: {"S": document_id}}
        requests.append({"PutRequest": {"Item": item}})
        if layout.has_value_versions(spec):
            value_pk = layout.value_version_pk_of_document(spec, value)
            counts[value_pk] = counts.get(value_pk, 0) + 1
    _batch_write(engine, requests)
    for shard in range(layout.partitions(spec)):
        _bump(engine, layout.shard_pk(spec, shard))
    for value_pk, count in sorted(counts.items()):
        _set_count(engine, value_pk, count, None, conditional=False)


def _count_entries(engine: DynamoDBEngine, spec: IndexSpec) -> None:
    """Give every value version of ``spec`` that has entries its exact count (module docstring, "Entry counts")."""
    for shard in range(layout.partitions(spec)):
        pk = layout.shard_pk(spec, shard)
        for _ in range(_COUNT_ATTEMPTS):
            values = sorted({_value_pk(spec, item) for item in engine.query_all(pk, keys_only=True)})
            versions = {value_pk: _read_version(engine, value_pk) for value_pk in values}
            counts = dict.fromkeys(values, 0)
            for item in engine.query_all(pk, keys_only=True):
                value_pk = _value_pk(spec, item)
                if value_pk in counts:  # a value first inserted meanwhile is counted by the code that inserted it
                    counts[value_pk] += 1
            if all(_set_count(engine, v, counts[v], versions[v], conditional=True) for v in values):
                break
        else:
            raise StorageUnavailableError(
                f"Counting the entries of index {spec.qualified_name} (partition {shard}) kept meeting concurrent "
                "writes. Run `infra migrate` again when fewer writes reach this table."
            )


#: Countings of one partition before giving up (each one is repeated only if a concurrent write moved a version).
_COUNT_ATTEMPTS = 5


def _read_version(engine: DynamoDBEngine, pk: str) -> int | None:
    key: dict[str, Any] = {"pk": {"S": pk}, "sk": {"B": layout.VERSION_SK}}
    item = engine.client.get_item(TableName=engine.table_name, Key=key, ConsistentRead=True).get("Item")
    return None if item is None or layout.ATTR_VERSION not in item else int(item[layout.ATTR_VERSION]["N"])


def _set_count(engine: DynamoDBEngine, pk: str, count: int, version: int | None, *, conditional: bool) -> bool:
    """Set the entry count of value version ``pk`` and make it exact (``ecv`` = the new ``ver``); with
    ``conditional``, only if ``ver`` is still ``version``. Returns False if that condition failed."""
    params: dict[str, Any] = {
        "TableName": engine.table_name,
        "Key": {"pk": {"S": pk}, "sk": {"B": layout.VERSION_SK}},
        "UpdateExpression": f"SET ver = if_not_exists(ver, :zero) + :one, {layout.ATTR_COUNT} = :count, "
        f"{layout.ATTR_COUNTED_AT} = if_not_exists(ver, :zero) + :one",
        "ExpressionAttributeValues": {":zero": {"N": "0"}, ":one": {"N": "1"}, ":count": {"N": str(count)}},
    }
    if conditional:
        if version is None:
            params["ConditionExpression"] = "attribute_not_exists(ver)"
        else:
            params["ConditionExpression"] = "ver = :seen"
            params["ExpressionAttributeValues"][":seen"] = {"N": str(version)}
    try:
        engine.client.update_item(**params)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _bump(engine: DynamoDBEngine, pk: str, extra: str = "") -> None:
    engine.client.update_item(
        TableName=engine.table_name,
        Key={"pk": {"S": pk}, "sk": {"B": layout.VERSION_SK}},
        UpdateExpression=f"ADD ver :one {extra}".strip(),
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

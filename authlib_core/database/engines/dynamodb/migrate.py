"""Index maintenance and layout conversion (``ensure_indexes``): a migration step, not on the request path.

The catalog item (``pk = "catalog"``) records every index the stored entries were built for (table, name,
fields, shards) and the index layout they use (``layout``; absent means layout 1). ``ensure_indexes`` compares it
with the indexes the schema declares:

* nothing changed → 1 consistent ``GetItem``, done;
* otherwise, per table with an index to build or drop, all of them in one pass: if the table was **never
  written** (below), nothing is stored to delete, build or version, and only the catalog changes; else
* an index is new or changed (fields or shard count) → its entries are built from the table's documents — the
  ids listed by the table's **stored** ``by_creation_time`` entries (``Query``, never ``Scan``), the documents read
  with consistent ``BatchGetItem`` — and written with ``BatchWriteItem``;
* an index is gone or changed → its old entries are deleted (``Query`` keys only + ``BatchWriteItem``);
* then every partition version and value version of a built or dropped index is moved (a bump, or an exact count
  for a built value), so a transaction that read it before conflicts: one update per item, the table's updates in
  ``TransactWriteItems`` of up to 100 (:class:`~.batches.VersionUpdates`);
* finally the catalog is rewritten.

**Never written.** Every commit that adds a ``by_creation_time`` entry (every insert) bumps that entry's partition
version in the same transaction, and version items are never deleted. So if no partition version exists of the
table's stored ``by_creation_time`` (the one that lists its documents), nor of the schema's ``by_creation_time``
(when it has other partitions), nor of any index being dropped, no document of the table was ever inserted, no
commit wrote an entry of any of its indexes, and no build did either: a build writes entries only for the
documents ``by_creation_time`` lists, and while its table had none, it listed none (a build that stopped half-way
listed documents first, so their versions exist). Then the table's indexes hold no entry to delete or build
from, building or dropping them changes no range's membership, and there is nothing to bump (the bumps guard
membership changes): only the catalog changes. One consistent ``BatchGetItem`` of those versions (100 per call,
all tables together) decides it. Without a catalog the same call reads each table's layout-1
``by_creation_time`` shard version, which layout-1 code bumped in every commit that wrote an entry there, to find
a table layout-1 code wrote without ever migrating (formerly one ``Query`` per table for the entries themselves).

**Calls** for a build or drop, with ``n`` tables that have something to build or drop and ``w`` = 16 witness
versions per table (above; 17 without a catalog, more for a dropped index or a re-sharded ``by_creation_time``):

* all of them never written: 1 ``GetItem`` + ⌈``n·w``/100⌉ ``BatchGetItem`` + 1 ``PutItem``. The example app
  (``functions/``: 17 indexes over 7 tables) on a fresh table: **4 calls** (393 before: one ``UpdateItem`` per
  partition version of every index, 16 listing ``Query`` s per table, 1 ``Query`` per table for layout 1);
* plus, per table that was written, with ``d`` documents, ``e`` entries to write, ``k`` to delete and ``u``
  version items to move (16 per index built or dropped, plus 1 per first-field value of a built or dropped
  user index): 16 ``Query`` (the listing, when it builds) + ⌈``d``/100⌉ ``BatchGetItem`` + 16 keys-only
  ``Query`` per dropped index + ⌈``k``/25⌉ + ⌈``e``/25⌉ ``BatchWriteItem`` + ⌈``u``/100⌉ ``TransactWriteItems``
  (each sent again, at most 5 times, while DynamoDB cancels it without applying it) — all the table's
  indexes in one pass. Before: one ``BatchWriteItem`` stream per index and one ``UpdateItem`` per version item.

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
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from authlib_core.database.engines.dynamodb import layout
from authlib_core.database.engines.dynamodb.batches import (
    COUNT_UPDATE,
    VersionUpdates,
    get_items,
    write_items,
    written_partitions,
)
from authlib_core.database.engines.dynamodb.errors import (
    is_condition_failure,
    translate_boto_error,
    translate_client_error,
)
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

    Calls (module docstring, "Calls"): nothing changed, 1 ``GetItem``; indexes to build or drop on ``n`` tables
    never written (fresh tables), 1 ``GetItem`` + ⌈``16n``/100⌉ ``BatchGetItem`` (⌈``17n``/100⌉ without a catalog)
    + 1 ``PutItem``; a table with documents adds its listing, entry writes and ⌈``u``/100⌉ ``TransactWriteItems``
    for its ``u`` version updates.

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
    old = catalog.indexes
    plans = _plans(old, new) if catalog.layout >= layout.LAYOUT else []
    # One read of version items answers two questions (module docstring, "Calls"): without a catalog, whether
    # layout-1 code wrote to a table (its by_creation_time shard version exists), and for every table with
    # something to build or drop, whether any entry of it was ever written (a partition version exists).
    uncatalogued = [] if old else [IndexSpec(table, BY_CREATION_TIME, ()) for table in sorted(_tables(new))]
    written = written_partitions(
        engine,
        [*(layout.legacy_shard_pk(spec, 0) for spec in uncatalogued), *(pk for plan in plans for pk in plan.witnesses)],
    )
    found = {spec.qualified_name: spec for spec in uncatalogued if layout.legacy_shard_pk(spec, 0) in written}
    if found or catalog.layout < layout.LAYOUT:
        return _convert(engine, found or old, new)
    if catalog.legacy:
        _clean_up(engine, catalog)
    changes = IndexChanges(
        built=tuple(sorted(name for name, spec in new.items() if old.get(name) != spec)),
        dropped=tuple(sorted(name for name in old if name not in new)),
        unchanged=tuple(sorted(name for name, spec in new.items() if old.get(name) == spec)),
    )
    if old == new and catalog.counts:
        return changes
    for plan in plans:
        if written.isdisjoint(plan.witnesses):
            continue  # never written: no entry of any index of the table to delete, build from or version
        documents = _documents(engine, plan.source) if plan.build else []
        versions = VersionUpdates()
        write_items(engine, [request for spec in plan.drop for request in _drop(engine, spec, versions)])
        write_items(engine, [request for spec in plan.build for request in _build(spec, documents, versions)])
        versions.send(engine)
    if not catalog.counts:
        counted = tuple(name for name in changes.unchanged if layout.has_value_versions(new[name]))
        for name in counted:
            _count_entries(engine, new[name])
        changes = dataclasses.replace(changes, counted=counted)
    _write_catalog(engine, Catalog(new, layout.LAYOUT, {}))
    return changes


def _tables(specs: dict[str, IndexSpec]) -> set[str]:
    return {spec.table for spec in specs.values()}


@dataclasses.dataclass(frozen=True, slots=True)
class _TablePlan:
    """What one table needs: indexes to drop and to build, and the partitions that list its documents."""

    drop: list[IndexSpec]
    build: list[IndexSpec]
    #: partition keys of the table's stored by_creation_time: the catalogued one, or the default one that writes
    #: use for a table the catalog has never seen
    source: tuple[str, ...]
    #: partition versions of which at least one exists if anything of the table was ever written (module
    #: docstring, "Never written"): those of ``source``, of the schema's by_creation_time, of every dropped index
    witnesses: frozenset[str]


def _plans(old: dict[str, IndexSpec], new: dict[str, IndexSpec]) -> list[_TablePlan]:
    plans = []
    for table in sorted(_tables(old) | _tables(new)):
        old_specs = {spec.name: spec for spec in old.values() if spec.table == table}
        new_specs = {spec.name: spec for spec in new.values() if spec.table == table}
        drop = [spec for name, spec in old_specs.items() if new_specs.get(name) != spec]
        build = [spec for name, spec in new_specs.items() if old_specs.get(name) != spec]
        if drop or build:
            source = old_specs.get(BY_CREATION_TIME) or IndexSpec(table=table, name=BY_CREATION_TIME, fields=())
            pks = _partition_pks(source)
            witnesses = {*pks, *(pk for spec in drop for pk in _partition_pks(spec))}
            if BY_CREATION_TIME in new_specs:
                witnesses.update(_partition_pks(new_specs[BY_CREATION_TIME]))
            plans.append(_TablePlan(drop, build, pks, frozenset(witnesses)))
    return plans


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
        documents = _documents(
            engine, [layout.legacy_shard_pk(source, shard) for shard in range(max(1, source.shards))]
        )
        versions = VersionUpdates()
        specs = [spec for spec in new.values() if spec.table == table]
        write_items(engine, [request for spec in specs for request in _build(spec, documents, versions)])
        versions.send(engine)
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
            write_items(engine, [{"DeleteRequest": {"Key": key}} for key in keys])
    _write_catalog(engine, dataclasses.replace(catalog, legacy={}))


def _partition_pks(spec: IndexSpec) -> tuple[str, ...]:
    return tuple(layout.shard_pk(spec, shard) for shard in range(layout.partitions(spec)))


def _documents(engine: DynamoDBEngine, pks: Sequence[str]) -> list[tuple[str, str]]:
    """(id, serialized document) of every document listed by the by_creation_time entries under ``pks``, read
    from the document items."""
    ids = [item[layout.ATTR_ID]["S"] for pk in pks for item in engine.query_all(pk)]
    items = get_items(engine, [layout.document_item_key(document_id) for document_id in ids])
    return sorted((item["pk"]["S"].removeprefix("d#"), item[layout.ATTR_DOC]["S"]) for item in items)


def _drop(engine: DynamoDBEngine, spec: IndexSpec, versions: VersionUpdates) -> list[dict[str, Any]]:
    """The deletes of every entry of ``spec`` (listed with keys-only ``Query``s); every partition version and the
    value version of every entry join ``versions`` (bumped; the value versions' counts are no longer exact)."""
    requests = []
    for shard in range(layout.partitions(spec)):
        pk = layout.shard_pk(spec, shard)
        for item in engine.query_all(pk, keys_only=True):
            key = {"pk": item["pk"], "sk": item["sk"]}
            requests.append({"DeleteRequest": {"Key": key}})
            if layout.has_value_versions(spec):
                versions.uncount(_value_pk(spec, key))
        versions.bump(pk)
    return requests


def _value_pk(spec: IndexSpec, key: dict[str, Any]) -> str:
    return layout.value_version_pk_of_component(spec, layout.first_component(bytes(key["sk"]["B"])))


def _build(spec: IndexSpec, documents: Iterable[tuple[str, str]], versions: VersionUpdates) -> list[dict[str, Any]]:
    """The puts of the entry of every document in ``spec``; every partition version (bumped) and every value
    version with entries (its exact count) join ``versions``."""
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
    for pk in _partition_pks(spec):
        versions.bump(pk)
    for value_pk, count in counts.items():
        versions.count(value_pk, count)
    return requests


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
            if all(_set_count(engine, v, counts[v], versions[v]) for v in values):
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


def _set_count(engine: DynamoDBEngine, pk: str, count: int, version: int | None) -> bool:
    """Set the entry count of value version ``pk`` and make it exact (``ecv`` = the new ``ver``), only if ``ver`` is
    still ``version`` (absent for None). Returns False if that condition failed."""
    values = {":zero": {"N": "0"}, ":one": {"N": "1"}, ":count": {"N": str(count)}}
    if version is None:
        condition = "attribute_not_exists(ver)"
    else:
        condition = "ver = :seen"
        values[":seen"] = {"N": str(version)}
    try:
        engine.client.update_item(
            TableName=engine.table_name,
            Key={"pk": {"S": pk}, "sk": {"B": layout.VERSION_SK}},
            UpdateExpression=COUNT_UPDATE,
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
        )
    except ClientError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True

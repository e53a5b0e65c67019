"""Index builds (``ensure_indexes``): exact DynamoDB calls, and the guarantees the batched version updates keep."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pytest

from authlib_core.database.engines.dynamodb import layout
from authlib_core.database.engines.dynamodb.migrate import ensure_indexes, read_catalog
from authlib_core.database.interface import BY_CREATION_TIME, IndexSpec
from authlib_core.errors import ConflictError
from tests.dynamodb.helpers import eq_range, full_range, insert, insert_op
from tests.faults.injector import Fault, Injector

if TYPE_CHECKING:
    from tests.dynamodb.conftest import Backend

T = "items"
CREATION = IndexSpec(T, BY_CREATION_TIME, ())
#: Five user indexes of one table: 5 x 16 partition versions + 5 value versions per document (one value each).
FIELDS = ("a", "b", "c", "d", "e")
USER_INDEXES = [IndexSpec(T, f"by_{field}", (field,)) for field in FIELDS]
#: The indexes of each table of :func:`_schema`.
_TABLE_INDEXES = ((BY_CREATION_TIME, ()), ("by_x", ("x",)), ("by_y", ("y", "x")))


def _schema(tables: int) -> list[IndexSpec]:
    """by_creation_time and two user indexes on each of ``tables`` tables."""
    names = [f"t{n}" for n in range(tables)]
    return [IndexSpec(t, name, fields) for t in names for name, fields in _TABLE_INDEXES]


def _version(backend: Backend, pk: str) -> dict[str, Any] | None:
    key = {"pk": {"S": pk}, "sk": {"B": layout.VERSION_SK}}
    item = backend.engine.client.get_item(TableName=backend.table, Key=key, ConsistentRead=True).get("Item")
    return None if item is None else dict(item)


def _listed(backend: Backend, spec: IndexSpec) -> list[str]:
    tx = backend.engine.begin("read")
    try:
        return sorted(entry.document.id for entry in tx.scan(full_range(spec), "asc", after=None, limit=100).entries)
    finally:
        tx.close()


@pytest.mark.parametrize("tables", [5, 6])
def test_a_fresh_table_builds_every_index_with_one_version_read_per_100_partitions(
    backend: Backend, tables: int
) -> None:
    schema = _schema(tables)
    with backend.counter.measure() as calls:
        changes = ensure_indexes(backend.engine, schema)
    # 17 version items per table (16 by_creation_time partitions + the layout-1 shard version, no catalog yet)
    assert calls == {"GetItem": 1, "BatchGetItem": math.ceil(17 * tables / 100), "PutItem": 1}
    assert changes.built == tuple(sorted(spec.qualified_name for spec in schema))
    assert set(read_catalog(backend.engine).indexes) == set(changes.built)
    # Nothing was written but the catalog: no entry, no version item.
    assert all(_version(backend, layout.shard_pk(spec, 0)) is None for spec in schema)
    indexes = {name: IndexSpec("t0", name, fields) for name, fields in _TABLE_INDEXES}
    inserted = insert(backend.engine, "t0", {"x": "one", "y": 2.0}, indexes)
    assert _listed(backend, indexes["by_x"]) == _listed(backend, indexes["by_y"]) == [inserted]
    with backend.counter.measure() as calls:
        ensure_indexes(backend.engine, schema)
    assert calls == {"GetItem": 1}


def test_a_new_index_of_a_fresh_table_in_a_known_catalog_reads_16_versions(backend: Backend) -> None:
    ensure_indexes(backend.engine, [CREATION])
    with backend.counter.measure() as calls:
        assert ensure_indexes(backend.engine, [CREATION, *USER_INDEXES]).built == tuple(
            spec.qualified_name for spec in USER_INDEXES
        )
    assert calls == {"GetItem": 1, "BatchGetItem": 1, "PutItem": 1}


def _fill(backend: Backend, documents: int) -> list[str]:
    ensure_indexes(backend.engine, [CREATION])
    indexes = {BY_CREATION_TIME: CREATION}
    return [insert(backend.engine, T, {field: f"{field}{n}" for field in FIELDS}, indexes) for n in range(documents)]


def test_a_build_on_a_written_table_sends_its_version_updates_in_transactions_of_100(backend: Backend) -> None:
    ids = _fill(backend, 9)
    with backend.counter.measure() as calls:
        ensure_indexes(backend.engine, [CREATION, *USER_INDEXES])
    # 45 entries -> 2 BatchWriteItem; 5 x 16 partition bumps + 45 counts = 125 updates -> 2 TransactWriteItems.
    assert calls == {
        "GetItem": 1,  # the catalog
        "BatchGetItem": 2,  # the 16 by_creation_time partition versions; the 9 documents
        "Query": 16,  # the by_creation_time partitions listing the documents
        "BatchWriteItem": 2,
        "TransactWriteItems": 2,
        "PutItem": 1,  # the catalog
    }
    for spec in USER_INDEXES:
        assert _listed(backend, spec) == sorted(ids)
        field = spec.fields[0]
        # Exact counts (ecv = ver); a transaction retried after a read timeout on a busy server moves ver twice.
        assert all(_exact_count(backend, spec, f"{field}{n}") == 1 for n in range(9))
        assert all(_version(backend, pk) is not None for pk in _partitions(spec))


def _exact_count(backend: Backend, spec: IndexSpec, value: str) -> int | None:
    """The entry count of ``value`` in ``spec`` if it is exact (``ecv = ver``), else None."""
    item = _version(backend, layout.value_version_pk(spec, value))
    if item is None or item.get("ecv") != item["ver"]:
        return None
    return int(item["ec"]["N"])


def _partitions(spec: IndexSpec) -> list[str]:
    return [layout.shard_pk(spec, shard) for shard in range(layout.partitions(spec))]


def test_a_rebuilt_index_moves_each_version_once_and_counts_exactly(backend: Backend) -> None:
    _fill(backend, 3)
    ensure_indexes(backend.engine, [CREATION, USER_INDEXES[0]])
    changed = IndexSpec(T, "by_a", ("a", "b"))  # same name, other fields: dropped and built in one pass
    with backend.counter.measure() as calls:
        assert ensure_indexes(backend.engine, [CREATION, changed]).built == ("items.by_a",)
    # 16 + 16 Queries (listing, old entries), 3 deletes + 3 puts, 16 bumps + 3 counts in one transaction
    assert calls == {
        "GetItem": 1,
        "BatchGetItem": 2,
        "Query": 32,
        "BatchWriteItem": 2,
        "TransactWriteItems": 1,
        "PutItem": 1,
    }
    for n in range(3):
        counted = _version(backend, layout.value_version_pk(changed, f"a{n}"))
        assert counted is not None
        assert (counted["ec"], counted["ecv"], counted["ver"]) == ({"N": "1"}, {"N": "2"}, {"N": "2"})
    assert [(_version(backend, pk) or {}).get("ver") for pk in _partitions(changed)] == [{"N": "2"}] * 16


@pytest.mark.parametrize("read", ["full range", "eq range"])
def test_a_transaction_that_read_the_index_before_its_build_conflicts(backend: Backend, read: str) -> None:
    _fill(backend, 2)
    by_a = USER_INDEXES[0]
    tx = backend.make_engine().begin("write")
    key_range = full_range(by_a) if read == "full range" else eq_range(by_a, "a1")
    assert tx.scan(key_range, "asc", after=None, limit=10).entries == []  # no entries before the build
    ensure_indexes(backend.engine, [CREATION, by_a])
    with pytest.raises(ConflictError):
        tx.commit([insert_op(T, {"a": "a9"}, {BY_CREATION_TIME: CREATION, "by_a": by_a})])


def test_a_build_that_stopped_between_its_version_transactions_is_completed_by_running_it_again(
    backend: Backend,
) -> None:
    ids = _fill(backend, 9)
    sent: list[int] = []

    def stop_at_the_second(**_: Any) -> None:  # before the call is sent (and before the harness lock)
        sent.append(1)
        if len(sent) == 2:
            raise RuntimeError("stopped before the second version transaction")

    client = backend.engine.client
    client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", stop_at_the_second)
    with pytest.raises(RuntimeError, match="stopped"):
        ensure_indexes(backend.engine, [CREATION, *USER_INDEXES])
    client.meta.events.unregister("provide-client-params.dynamodb.TransactWriteItems", stop_at_the_second)
    assert set(read_catalog(backend.engine).indexes) == {CREATION.qualified_name}  # the catalog did not move
    changes = ensure_indexes(backend.engine, [CREATION, *USER_INDEXES])
    assert changes.built == tuple(spec.qualified_name for spec in USER_INDEXES)
    for spec in USER_INDEXES:
        assert _listed(backend, spec) == sorted(ids)
        assert all(_exact_count(backend, spec, f"{spec.fields[0]}{n}") == 1 for n in range(9))


#: Injected answers replace the server's; in-process moto would apply the request as well (it answers in a
#: ``before-send`` handler of its own, and botocore runs every handler).
@pytest.mark.parametrize("backend", ["server"], indirect=True)
@pytest.mark.parametrize("kind", ["TransactionConflict", "TransactionThrottled"])
def test_a_version_transaction_cancelled_without_effect_is_sent_again(backend: Backend, kind: str) -> None:
    _fill(backend, 2)
    injector = Injector(backend.engine.client)
    try:
        injector.arm(Fault("TransactWriteItems", kind, call=1))
        with backend.counter.measure() as calls:
            ensure_indexes(backend.engine, [CREATION, USER_INDEXES[0]])
        assert injector.fired == [f"{kind}@TransactWriteItems#1.1"]
    finally:
        injector.close()
    assert calls["TransactWriteItems"] == 2  # cancelled as a whole, then applied
    counted = _version(backend, layout.value_version_pk(USER_INDEXES[0], "a0"))
    assert counted is not None
    assert (counted["ec"], counted["ecv"], counted["ver"]) == ({"N": "1"}, {"N": "1"}, {"N": "1"})


def test_a_dropped_index_with_entries_is_emptied_even_if_by_creation_time_never_was(backend: Backend) -> None:
    by_a = USER_INDEXES[0]
    ensure_indexes(backend.engine, [CREATION, by_a])
    insert(backend.engine, T, {"a": "a1"}, {"by_a": by_a})  # an entry of by_a only: by_a's versions witness it
    assert len(_listed(backend, by_a)) == 1
    with backend.counter.measure() as calls:
        assert ensure_indexes(backend.engine, [CREATION]).dropped == ("items.by_a",)
    assert calls["BatchWriteItem"] == 1  # the entry's delete
    assert _listed(backend, by_a) == []

"""The DynamoDB engine on moto (in-process and server): call counts, conflicts, limits, pagination."""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any

import pytest

from authlib_core.database.engines.dynamodb.layout import shard_of_value
from authlib_core.database.interface import BY_CREATION_TIME
from authlib_core.errors import ConflictError, LimitExceededError
from tests.dynamodb.helpers import delete_op, eq_range, full_range, insert, insert_op, specs, update_op

if TYPE_CHECKING:
    from tests.dynamodb.conftest import Backend

T = "items"


def test_get_is_one_consistent_get_item(backend: Backend) -> None:
    indexes = specs()
    doc_id = insert(backend.engine, T, {"group": "g", "n": 1.0}, indexes)
    tx = backend.engine.begin("read")
    with backend.counter.measure() as calls:
        record = tx.get(doc_id)
    assert calls == {"GetItem": 1}
    assert record is not None
    assert record.value["n"] == 1.0
    assert record.version == 1
    assert record.table == T
    with backend.counter.measure() as calls:
        tx.validate()  # one GetItem: a single-item read is atomic, nothing to validate
    assert calls == {}
    with backend.counter.measure() as calls:
        assert backend.engine.begin("read").get(doc_id[:-1] + ("a" if doc_id[-1] != "a" else "b")) is None
    assert calls == {"GetItem": 1}


def test_one_page_scan_with_eq_is_version_get_query_and_one_transact_get(backend: Backend) -> None:
    indexes = specs()
    for n in range(5):
        insert(backend.engine, T, {"group": "g", "n": float(n)}, indexes)
    tx = backend.engine.begin("read")
    with backend.counter.measure() as calls:
        result = tx.scan(eq_range(indexes["by_group"], "g"), "asc", after=None, limit=3)
    # the value version of "g", the entries (ids only), then the value version again with the 3 documents
    assert calls == {"GetItem": 1, "Query": 1, "TransactGetItems": 1}
    assert [e.document.value["n"] for e in result.entries] == [0.0, 1.0, 2.0]
    assert [e.document.version for e in result.entries] == [1, 1, 1]
    assert not result.exhausted
    with backend.counter.measure() as calls:
        tx.validate()
    assert calls == {}  # the TransactGetItems confirmed every read at one instant
    with backend.counter.measure() as calls:
        rest = tx.scan(eq_range(indexes["by_group"], "g"), "asc", after=result.entries[-1].key, limit=10)
    assert calls == {"Query": 1, "TransactGetItems": 1}  # the value version is read once per transaction
    assert [e.document.value["n"] for e in rest.entries] == [3.0, 4.0]
    assert rest.exhausted
    with backend.counter.measure() as calls:
        tx.validate()
    assert calls == {}  # the second fetch read the first page's documents along


def test_an_empty_page_fetches_nothing(backend: Backend) -> None:
    indexes = specs()
    tx = backend.engine.begin("read")
    with backend.counter.measure() as calls:
        result = tx.scan(eq_range(indexes["by_group"], "none"), "asc", after=None, limit=3)
    assert calls == {"GetItem": 1, "Query": 1}
    assert result.entries == []
    assert result.exhausted
    with backend.counter.measure() as calls:
        tx.validate()
    assert calls == {"TransactGetItems": 1}


def test_commit_is_exactly_one_transact_write_items(backend: Backend) -> None:
    indexes = specs()
    doc_id = insert(backend.engine, T, {"group": "g", "n": 1.0}, indexes)
    tx = backend.engine.begin("write")
    record = tx.get(doc_id)
    assert record is not None
    with backend.counter.measure() as calls:
        tx.commit([update_op(record, {"group": "h", "n": 2.0}, indexes), insert_op(T, {"group": "g"}, indexes)])
    assert calls == {"TransactWriteItems": 1}
    check = backend.engine.begin("read")
    moved = check.get(doc_id)
    assert moved is not None
    assert moved.version == 2
    assert moved.value["group"] == "h"
    assert [
        e.document.id for e in check.scan(eq_range(indexes["by_group"], "h"), "asc", after=None, limit=10).entries
    ] == [doc_id]
    assert len(check.scan(eq_range(indexes["by_group"], "g"), "asc", after=None, limit=10).entries) == 1


def test_delete_removes_document_and_entries(backend: Backend) -> None:
    indexes = specs()
    doc_id = insert(backend.engine, T, {"group": "g"}, indexes)
    tx = backend.engine.begin("write")
    record = tx.get(doc_id)
    assert record is not None
    tx.commit([delete_op(record, indexes)])
    check = backend.engine.begin("read")
    assert check.get(doc_id) is None
    assert check.scan(full_range(indexes[BY_CREATION_TIME]), "asc", after=None, limit=10).entries == []
    assert check.scan(full_range(indexes["by_group"]), "asc", after=None, limit=10).entries == []


def test_update_of_a_document_read_conflicts(backend: Backend) -> None:
    indexes = specs()
    doc_id = insert(backend.engine, T, {"group": "g", "n": 0.0}, indexes)
    slow = backend.engine.begin("write")
    seen = slow.get(doc_id)
    fast = backend.engine.begin("write")
    current = fast.get(doc_id)
    assert seen is not None
    assert current is not None
    fast.commit([update_op(current, {"group": "g", "n": 1.0}, indexes)])
    with pytest.raises(ConflictError), backend.counter.measure() as calls:
        slow.commit([update_op(seen, {"group": "g", "n": 2.0}, indexes)])
    assert calls == {"TransactWriteItems": 1}
    reader = backend.engine.begin("read")
    reader_doc = reader.get(doc_id)
    assert reader_doc is not None
    assert reader_doc.value["n"] == 1.0


def test_a_document_read_but_not_written_is_checked(backend: Backend) -> None:
    indexes = specs()
    doc_id = insert(backend.engine, T, {"group": "g", "n": 0.0}, indexes)
    tx = backend.engine.begin("write")
    assert tx.get(doc_id) is not None
    other = backend.engine.begin("write")
    record = other.get(doc_id)
    assert record is not None
    other.commit([update_op(record, {"group": "g", "n": 5.0}, indexes)])
    with pytest.raises(ConflictError) as caught:
        tx.commit([insert_op(T, {"group": "x"}, indexes)])
    assert doc_id in caught.value.detail  # the log names the document; the client's message does not
    assert doc_id not in caught.value.message
    tx.validate()  # its only read was one GetItem: atomic on its own, nothing to validate
    two_reads = backend.engine.begin("read")
    two_reads.get(doc_id)
    two_reads.get(insert(backend.engine, T, {"group": "y"}, indexes))
    changer = backend.engine.begin("write")
    current = changer.get(doc_id)
    assert current is not None
    changer.commit([update_op(current, {"group": "g", "n": 6.0}, indexes)])
    with pytest.raises(ConflictError) as caught:
        two_reads.validate()
    assert doc_id in caught.value.detail
    assert doc_id not in caught.value.message


def test_phantom_insert_into_a_scanned_shard_conflicts(backend: Backend) -> None:
    indexes = specs()
    by_group = indexes["by_group"]
    first = backend.engine.begin("write")
    second = backend.engine.begin("write")
    assert first.scan(eq_range(by_group, "ann@x"), "asc", after=None, limit=1).entries == []
    assert second.scan(eq_range(by_group, "ann@x"), "asc", after=None, limit=1).entries == []
    first.commit([insert_op(T, {"group": "ann@x"}, indexes)])
    with pytest.raises(ConflictError) as caught:
        second.commit([insert_op(T, {"group": "ann@x"}, indexes)])
    assert "by_group" in caught.value.detail
    assert "by_group" not in caught.value.message
    reader = backend.engine.begin("read")
    assert len(reader.scan(eq_range(by_group, "ann@x"), "asc", after=None, limit=10).entries) == 1


def test_a_query_that_saw_a_changed_shard_fails_validation(backend: Backend) -> None:
    indexes = specs()
    reader = backend.engine.begin("read")
    reader.scan(eq_range(indexes["by_group"], "g"), "asc", after=None, limit=10)
    insert(backend.engine, T, {"group": "g"}, indexes)
    with pytest.raises(ConflictError):
        reader.validate()


def _unrelated(backend: Backend) -> str:
    """The id of a new document of another table (reading it after a scan leaves validation something to do)."""
    return insert(backend.make_engine(), "other", {"group": "o"}, specs("other"))


def test_a_write_to_the_shard_outside_what_a_query_covered_passes_validation(backend: Backend) -> None:
    indexes = specs()
    for group in ["a", "g", "g", "g", "g", "g", "m"]:
        insert(backend.engine, T, {"group": group}, indexes)
    reader = backend.engine.begin("read")
    exhausted = reader.scan(eq_range(indexes["by_group"], "g"), "asc", after=None, limit=10)
    assert len(exhausted.entries) == 5
    assert exhausted.exhausted  # covers the whole range of "g" (with no entry of "a" or "m")
    first_three = reader.scan(full_range(indexes["by_group"]), "desc", after=None, limit=3)
    assert [e.document.value["group"] for e in first_three.entries] == ["m", "g", "g"]  # covers [3rd "g", end)
    assert reader.get(_unrelated(backend)) is not None  # a read after the last fetch: validate checks
    insert(backend.make_engine(), T, {"group": "b"}, indexes)  # outside both intervals
    with backend.counter.measure() as calls:
        reader.validate()
    # check, re-read the moved shard (the two intervals overlap: one Query), confirm
    assert calls == {"TransactGetItems": 2, "Query": 1}


def test_one_query_per_moved_shard_when_writes_miss_the_covered_intervals(backend: Backend) -> None:
    indexes = specs(shards=4, creation_shards=4)
    for n in range(12):
        insert(backend.engine, T, {"group": f"g{n % 5}", "n": float(n)}, indexes)
    reader = backend.engine.begin("read")
    oldest = reader.scan(full_range(indexes[BY_CREATION_TIME]), "asc", after=None, limit=3)
    assert not oldest.exhausted
    rest = reader.scan(full_range(indexes[BY_CREATION_TIME]), "asc", after=oldest.entries[-1].key, limit=3)
    assert not rest.exhausted  # two batches of one range: their intervals touch and merge
    assert reader.get(_unrelated(backend)) is not None  # a read after the last fetch: validate checks
    newer = [insert(backend.engine, T, {"group": "z"}, indexes) for _ in range(3)]  # keys after what was covered
    lookup = backend.engine.begin("read")
    created = [record.value["_creationTime"] for record in map(lookup.get, newer) if record is not None]
    moved = {shard_of_value(indexes[BY_CREATION_TIME], creation_time) for creation_time in created}
    assert len(created) == 3
    with backend.counter.measure() as calls:
        reader.validate()
    assert calls == {"TransactGetItems": 2, "Query": len(moved)}


@pytest.mark.parametrize("change", ["insert", "delete", "update", "move_in"])
def test_a_write_inside_the_covered_interval_fails_validation(backend: Backend, change: str) -> None:
    indexes = specs()
    ids = {group: insert(backend.engine, T, {"group": group}, indexes) for group in ["a", "g", "h", "i"]}
    ids["g2"] = insert(backend.engine, T, {"group": "g"}, indexes)
    ids["g3"] = insert(backend.engine, T, {"group": "g"}, indexes)
    ids["m"] = insert(backend.engine, T, {"group": "m"}, indexes)
    reader = backend.engine.begin("read")
    seen = reader.scan(eq_range(indexes["by_group"], "g"), "desc", after=None, limit=2)
    assert [e.document.id for e in seen.entries] == [ids["g3"], ids["g2"]]
    assert reader.get(ids["a"]) is not None  # a read after the fetch: validate has to check
    assert not seen.exhausted  # covers the two newest "g" entries up to the end of "g"; the oldest "g" is outside
    writer = backend.engine.begin("write")
    if change == "insert":
        writer.commit([insert_op(T, {"group": "g"}, indexes)])  # the newest "g": inside
    else:
        record = writer.get(ids["m"] if change == "move_in" else ids["g2"])
        assert record is not None
        if change == "delete":
            writer.commit([delete_op(record, indexes)])
        else:  # "update" keeps the key (new version); "move_in" moves "m" to ("g", newest creation time)
            writer.commit([update_op(record, {"group": "g", "n": 1.0}, indexes)])
    with pytest.raises(ConflictError) as caught, backend.counter.measure() as calls:
        reader.validate()
    if change in ("insert", "move_in"):  # the value version of "g" moved: the re-read differs
        assert re.search(r"index entries .*by_group", caught.value.detail)  # the log's detail; not the client's
        assert calls == {"TransactGetItems": 1, "Query": 1}  # no confirmation needed
    else:  # a document the scan returned changed: its own version says so
        assert f"document {ids['g2']}" in caught.value.detail
        assert calls == {"TransactGetItems": 1}


def test_a_write_to_the_range_outside_the_covered_interval_passes_validation(backend: Backend) -> None:
    indexes = specs()
    ids = [insert(backend.engine, T, {"group": "g", "n": float(n)}, indexes) for n in range(4)]
    reader = backend.engine.begin("read")
    seen = reader.scan(eq_range(indexes["by_group"], "g"), "asc", after=None, limit=2)
    assert not seen.exhausted
    assert reader.get(ids[3]) is not None
    writer = backend.engine.begin("write")
    third = writer.get(ids[2])
    assert third is not None
    writer.commit([update_op(third, {"group": "g", "n": 9.0}, indexes)])  # not covered, key unchanged
    with backend.counter.measure() as calls:
        reader.validate()
    assert calls == {"TransactGetItems": 1}  # a patch moves no index version


def test_an_insert_into_the_range_outside_the_covered_interval_passes_validation(backend: Backend) -> None:
    indexes = specs()
    ids = [insert(backend.engine, T, {"group": "g", "n": float(n)}, indexes) for n in range(3)]
    reader = backend.engine.begin("read")
    seen = reader.scan(eq_range(indexes["by_group"], "g"), "asc", after=None, limit=2)
    assert not seen.exhausted
    assert reader.get(ids[2]) is not None
    insert(backend.make_engine(), T, {"group": "g"}, indexes)  # the newest "g": after the covered interval
    with backend.counter.measure() as calls:
        reader.validate()
    assert calls == {"TransactGetItems": 2, "Query": 1}  # check (moved), re-read (equal), confirm


def test_a_phantom_inside_the_covered_interval_fails_validation(backend: Backend) -> None:
    indexes = specs()
    for group in ["a", "m"]:
        insert(backend.engine, T, {"group": group}, indexes)
    reader = backend.engine.begin("read")
    assert reader.scan(eq_range(indexes["by_group"], "g"), "asc", after=None, limit=5).entries == []
    insert(backend.engine, T, {"group": "g"}, indexes)
    with pytest.raises(ConflictError) as caught:
        reader.validate()
    assert re.search(r"index entries .*by_group", caught.value.detail)


def _inject_before_confirmation(backend: Backend, write: Any) -> None:
    """Run ``write`` once, just before the second TransactGetItems of the engine's client (after the re-read)."""
    seen = [0]

    def hook(**_: Any) -> None:
        seen[0] += 1
        if seen[0] == 2:
            write()

    backend.engine.client.meta.events.register("before-call.dynamodb.TransactGetItems", hook)


def _reader_of_the_oldest_g(backend: Backend) -> tuple[Any, dict[str, str]]:
    """A read transaction that read document "a" and the oldest "g" (asc, limit 1); ids by group."""
    indexes = specs()
    ids = {group: insert(backend.engine, T, {"group": group}, indexes) for group in ["a", "g", "g2", "m"]}
    other = backend.make_engine()
    tx = other.begin("write")
    g2 = tx.get(ids["g2"])
    assert g2 is not None
    tx.commit([update_op(g2, {"group": "g"}, indexes)])  # two "g" now
    reader = backend.engine.begin("read")
    assert [
        e.document.id for e in reader.scan(eq_range(indexes["by_group"], "g"), "asc", after=None, limit=1).entries
    ] == [ids["g"]]
    assert reader.get(ids["a"]) is not None  # after the fetch: validate has to check
    return reader, ids


def test_a_write_between_the_re_read_and_the_confirmation_is_caught(backend: Backend) -> None:
    indexes = specs()
    reader, ids = _reader_of_the_oldest_g(backend)
    other = backend.make_engine()
    insert(other, T, {"group": "g"}, indexes)  # the newest "g", outside: moves the value version

    def move_a_into_g() -> None:  # "a" is older than every "g": inside the covered interval, after the re-read
        tx = other.begin("write")
        record = tx.get(ids["a"])
        assert record is not None
        tx.commit([update_op(record, {"group": "g"}, indexes)])

    _inject_before_confirmation(backend, move_a_into_g)
    with pytest.raises(ConflictError), backend.counter.measure() as calls:
        reader.validate()
    # check (moved) + re-read (equal) + confirmation: "a", read by get, changed
    assert calls == {"TransactGetItems": 2, "Query": 1}


def test_a_version_that_keeps_moving_outside_the_interval_is_confirmed_in_another_round(backend: Backend) -> None:
    indexes = specs()
    reader, _ = _reader_of_the_oldest_g(backend)
    other = backend.make_engine()
    insert(other, T, {"group": "g"}, indexes)
    _inject_before_confirmation(backend, lambda: insert(other, T, {"group": "g"}, indexes))  # outside again
    with backend.counter.measure() as calls:
        reader.validate()
    assert calls == {"TransactGetItems": 3, "Query": 2}


def _groups_in_distinct_shards(shards: int) -> tuple[str, str]:
    from authlib_core.database.interface import IndexSpec

    spec = IndexSpec(T, "by_group", ("group",), shards)
    names = [f"g{n}" for n in range(100)]
    a = names[0]
    b = next(name for name in names if shard_of_value(spec, name) != shard_of_value(spec, a))
    return a, b


def test_writes_to_another_shard_do_not_conflict(backend: Backend) -> None:
    indexes = specs(shards=8)
    a, b = _groups_in_distinct_shards(8)
    tx = backend.engine.begin("write")
    with backend.counter.measure() as calls:
        assert tx.scan(eq_range(indexes["by_group"], a), "asc", after=None, limit=1).entries == []
    assert calls == {"GetItem": 1, "Query": 1}  # eq on the first field: one shard
    insert(backend.engine, T, {"group": b}, indexes)  # another shard of by_group
    tx.commit([insert_op(T, {"group": a}, indexes)])  # no conflict
    reader = backend.engine.begin("read")
    assert len(reader.scan(full_range(indexes["by_group"]), "asc", after=None, limit=10).entries) == 2


def test_range_over_every_shard_merges_in_key_order(backend: Backend) -> None:
    indexes = specs(shards=4, creation_shards=4)
    ids = [insert(backend.engine, T, {"group": f"g{n % 7}", "n": float(n)}, indexes) for n in range(20)]
    tx = backend.engine.begin("read")
    with backend.counter.measure() as calls:
        result = tx.scan(full_range(indexes["by_group"]), "asc", after=None, limit=100)
    # every partition version (at least 16 partitions), one Query per partition, the documents with the versions
    # and the value versions of the 7 groups seen; those were read after the Queries, so the Queries run once more
    # with them read before (docs/dynamodb.md §3) and one more TransactGetItems confirms every guard
    assert calls == {"BatchGetItem": 1, "Query": 32, "TransactGetItems": 2}
    keys = [entry.key for entry in result.entries]
    assert keys == sorted(keys)
    assert len(keys) == 20
    assert result.exhausted
    newest_first = tx.scan(full_range(indexes[BY_CREATION_TIME]), "desc", after=None, limit=5)
    assert [e.document.id for e in newest_first.entries] == ids[::-1][:5]
    with backend.counter.measure() as calls:
        tx.validate()
    assert calls == {}  # the second scan's fetch read every earlier read along (16 + 16 + 20 items <= 100)


def test_scan_bounds_are_half_open_and_after_is_exclusive(backend: Backend) -> None:
    indexes = specs()
    for group in ["a", "b", "c", "d"]:
        insert(backend.engine, T, {"group": group}, indexes)
    spec = indexes["by_group"]
    tx = backend.engine.begin("read")
    everything = tx.scan(full_range(spec), "asc", after=None, limit=10).entries
    keys = [entry.key for entry in everything]
    from authlib_core.database.interface import KeyRange

    middle = KeyRange(spec, keys[1], keys[3])  # [b, d)
    assert [e.document.value["group"] for e in tx.scan(middle, "asc", after=None, limit=10).entries] == ["b", "c"]
    assert [e.document.value["group"] for e in tx.scan(middle, "desc", after=None, limit=10).entries] == ["c", "b"]
    assert [e.document.value["group"] for e in tx.scan(middle, "desc", after=keys[2], limit=10).entries] == ["b"]
    assert [e.document.value["group"] for e in tx.scan(middle, "asc", after=keys[1], limit=10).entries] == ["c"]
    empty = tx.scan(middle, "asc", after=keys[2], limit=10)
    assert empty.entries == []
    assert empty.exhausted


def test_pages_over_one_megabyte_continue_transparently(backend: Backend) -> None:
    from authlib_core.database.engines.dynamodb import layout
    from authlib_core.database.interface import serialize_document
    from authlib_core.database.keys import document_key
    from tests.dynamodb.helpers import new_document

    indexes = specs()
    spec = indexes["by_group"]
    group = "big" + "k" * 950  # entries hold a key and an id: ~1 KB each with this key
    items = []
    for _ in range(1080):  # stored as commits store them (BatchWriteItem: moto copies the table per transaction)
        document = new_document(T, {"group": group})
        pk = layout.shard_pk(spec, layout.shard_of_document(spec, document))
        items.append({"pk": {"S": pk}, "sk": {"B": document_key(document, spec)}, "id": {"S": document["_id"]}})
        items.append(
            {
                **layout.document_item_key(document["_id"]),
                "tbl": {"S": T},
                "ct": {"N": repr(document["_creationTime"])},
                "ver": {"N": "1"},
                "doc": {"S": serialize_document(document)},
            }
        )
    for start in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        backend.engine.client.batch_write_item(RequestItems={backend.table: batch})
    reader = backend.engine.begin("read")
    with backend.counter.measure() as calls:
        result = reader.scan(eq_range(spec, group), "asc", after=None, limit=2000)
    assert len(result.entries) == 1080
    assert result.exhausted
    assert calls["GetItem"] == 1
    assert calls["Query"] >= 2  # > 1 MB of entries
    assert calls["TransactGetItems"] == 11  # 99 documents and the value version per call


def test_too_many_actions_raise_before_any_call(backend: Backend) -> None:
    indexes = specs()
    ops = [insert_op(T, {"group": "g"}, indexes) for n in range(40)]  # 40 x (1 + 2) + version bumps > 100
    tx = backend.engine.begin("write")
    with (
        pytest.raises(
            LimitExceededError, match=r"DynamoDB transaction actions \(40 document writes, 80 index entry"
        ) as info,
        backend.counter.measure() as calls,
    ):
        tx.commit(ops)
    assert calls == {}
    assert "Split the work" in info.value.message


def test_more_than_four_megabytes_raise_before_any_call(backend: Backend) -> None:
    indexes = specs()
    blob = "y" * 350_000
    ops = [insert_op(T, {"group": "g", "blob": blob}, indexes) for _ in range(12)]  # 12 documents x 350 KB
    tx = backend.engine.begin("write")
    with pytest.raises(LimitExceededError, match="at most 4194304 bytes") as info, backend.counter.measure() as calls:
        tx.commit(ops)
    assert calls == {}
    assert "12 document writes" in info.value.message


def test_oversize_item_and_sort_key_are_named(backend: Backend) -> None:
    indexes = specs()
    tx = backend.engine.begin("write")
    with pytest.raises(LimitExceededError, match="table 'items'"), backend.counter.measure() as calls:
        tx.commit([insert_op(T, {"group": "g", "blob": "z" * 410_000}, indexes)])
    with pytest.raises(LimitExceededError, match=r"items\.by_group"):
        tx.commit([insert_op(T, {"group": "k" * 1100}, indexes)])
    assert calls == {}


def test_no_lost_updates_under_threads(backend: Backend) -> None:
    indexes = specs()
    counter_id = insert(backend.engine, T, {"group": "c", "value": 0.0}, indexes)
    engines = [backend.make_engine() for _ in range(4)]
    conflicts = 0
    lock = threading.Lock()

    def work(engine: Any) -> None:
        nonlocal conflicts
        for _ in range(10):
            while True:
                tx = engine.begin("write")
                record = tx.get(counter_id)
                try:
                    tx.commit([update_op(record, {"group": "c", "value": record.value["value"] + 1.0}, indexes)])
                    break
                except ConflictError:
                    with lock:
                        conflicts += 1

    threads = [threading.Thread(target=work, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = backend.engine.begin("read").get(counter_id)
    assert final is not None
    assert final.value["value"] == 40.0
    assert final.version == 41


def test_transact_gets_refused_as_too_many_items_are_split(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    if backend.mode == "server":
        pytest.skip("the item limit is changed in this process's moto")
    import moto.dynamodb.responses

    indexes = specs()
    ids = [insert(backend.engine, T, {"group": "g", "n": float(n)}, indexes) for n in range(40)]
    monkeypatch.setattr(moto.dynamodb.responses, "TRANSACTION_MAX_ITEMS", 25)  # moto 5's own limit (DynamoDB: 100)
    tx = backend.engine.begin("read")
    with backend.counter.measure() as calls:
        result = tx.scan(eq_range(indexes["by_group"], "g"), "asc", after=None, limit=100)
    assert [entry.document.id for entry in result.entries] == ids
    assert calls["TransactGetItems"] == 3  # 1 version + 40 documents refused, then 1 + 20 and 1 + 20
    assert tx.get(_unrelated(backend)) is not None
    with backend.counter.measure() as calls:
        tx.validate()
    assert calls["TransactGetItems"] == 3  # 42 versions refused, then 21 + 21

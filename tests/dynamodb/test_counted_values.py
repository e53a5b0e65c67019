"""Entry counts in value versions (docs/dynamodb.md §3): which inserts skip the partition version, the phantoms
that ranges without ``eq`` still catch, and counting the entries of tables written before counts existed."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from authlib_core.database.engines.dynamodb import layout
from authlib_core.database.engines.dynamodb.migrate import ensure_indexes, read_catalog
from authlib_core.database.interface import BY_CREATION_TIME, IndexSpec, deserialize_document
from authlib_core.errors import ConflictError
from tests.dynamodb.helpers import delete_op, eq_range, full_range, insert, insert_op, specs, update_op

if TYPE_CHECKING:
    from tests.dynamodb.conftest import Backend

T = "items"
FIXTURE = Path(__file__).parent / "fixtures" / "layout2_uncounted_items.json"


def _version_item(backend: Backend, pk: str) -> dict[str, Any]:
    key = {"pk": {"S": pk}, "sk": {"B": layout.VERSION_SK}}
    return backend.engine.client.get_item(TableName=backend.table, Key=key, ConsistentRead=True).get("Item") or {}


def _partition_version(backend: Backend, spec: IndexSpec, group: str) -> int:
    item = _version_item(backend, layout.shard_pk(spec, layout.shard_of_value(spec, group)))
    return int(item.get("ver", {"N": "0"})["N"])


def _count(backend: Backend, spec: IndexSpec, value: object) -> tuple[int, bool]:
    """(entry count, whether it is exact) of a value version."""
    item = _version_item(backend, layout.value_version_pk(spec, value))
    return int(item.get(layout.ATTR_COUNT, {"N": "0"})["N"]), layout.count_is_positive(item)


def _insert_after_reading(backend: Backend, group: str, indexes: dict[str, IndexSpec]) -> str:
    """The independent-users pattern: read the value's own range with eq, then insert into it."""
    tx = backend.make_engine().begin("write")
    tx.scan(eq_range(indexes["by_group"], group), "asc", after=None, limit=100)
    op = insert_op(T, {"group": group}, indexes)
    tx.commit([op])
    return op.id


def test_insert_into_a_value_read_with_entries_bumps_only_the_value_version(backend: Backend) -> None:
    indexes = specs()
    by_group = indexes["by_group"]
    _insert_after_reading(backend, "g", indexes)  # the first entry of "g": its partition is bumped
    assert _count(backend, by_group, "g") == (1, True)
    before = _partition_version(backend, by_group, "g")
    _insert_after_reading(backend, "g", indexes)
    assert _partition_version(backend, by_group, "g") == before  # "g" had an entry: no partition bump
    assert _count(backend, by_group, "g") == (2, True)


def test_a_new_value_and_a_removal_bump_the_partition(backend: Backend) -> None:
    indexes = specs()
    by_group = indexes["by_group"]
    first = _partition_version(backend, by_group, "g")
    insert(backend.make_engine(), T, {"group": "g"}, indexes)  # a new value
    assert _partition_version(backend, by_group, "g") == first + 1
    tx = backend.engine.begin("write")
    record = tx.scan(eq_range(by_group, "g"), "asc", after=None, limit=1).entries[0].document
    tx.commit([delete_op(record, indexes)])  # removals always bump (a range without eq may be reading past it)
    assert _partition_version(backend, by_group, "g") == first + 2
    assert _count(backend, by_group, "g") == (0, False)


def test_blind_inserts_skip_the_partition_when_the_engine_saw_the_value_with_entries(backend: Backend) -> None:
    """A blind insert (the mutation did not read the value) is sent without the partition bump when this engine saw
    the value with entries, conditioned on an exact count above zero; if that fails, again with the bump."""
    indexes = specs()
    by_group = indexes["by_group"]
    engine = backend.engine  # the engine whose calls are counted
    with backend.counter.measure() as calls:
        insert(engine, T, {"group": "g"}, indexes)  # a value this engine never saw: bumped, one send
    assert calls == {"TransactWriteItems": 1}
    before = _partition_version(backend, by_group, "g")
    with backend.counter.measure() as calls:
        insert(engine, T, {"group": "g"}, indexes)  # the engine inserted into "g": no bump, one send
    assert calls == {"TransactWriteItems": 1}
    assert _partition_version(backend, by_group, "g") == before
    assert _count(backend, by_group, "g") == (2, True)
    other = backend.make_engine().begin("write")  # another instance removes every "g"
    entries = other.scan(eq_range(by_group, "g"), "asc", after=None, limit=10).entries
    other.commit([delete_op(entry.document, indexes) for entry in entries])
    before = _partition_version(backend, by_group, "g")
    with backend.counter.measure() as calls:
        insert(engine, T, {"group": "g"}, indexes)  # the hint is stale: the count is 0, sent again with the bump
    assert calls == {"TransactWriteItems": 2}
    assert _partition_version(backend, by_group, "g") == before + 1
    assert _count(backend, by_group, "g") == (1, True)
    insert(backend.make_engine(), T, {"group": "g"}, indexes)  # no hint in a fresh engine: bumped at once
    assert _partition_version(backend, by_group, "g") == before + 2
    mine = engine.begin("write")  # this engine removes every "g": it forgets that "g" had entries
    entries = mine.scan(eq_range(by_group, "g"), "asc", after=None, limit=10).entries
    mine.commit([delete_op(entry.document, indexes) for entry in entries])
    with backend.counter.measure() as calls:
        insert(engine, T, {"group": "g"}, indexes)  # bumped at once: one send
    assert calls == {"TransactWriteItems": 1}
    assert _partition_version(backend, by_group, "g") == before + 4


def test_a_range_without_eq_conflicts_with_an_insert_into_a_value_it_saw(backend: Backend) -> None:
    indexes = specs()
    for group in ["a", "g", "m"]:
        insert(backend.engine, T, {"group": group}, indexes)
    scanner = backend.engine.begin("write")
    seen = scanner.scan(full_range(indexes["by_group"]), "asc", after=None, limit=10).entries
    assert [e.document.value["group"] for e in seen] == ["a", "g", "m"]
    before = _partition_version(backend, indexes["by_group"], "g")
    _insert_after_reading(backend, "g", indexes)  # no partition bump: a phantom only the value version shows
    assert _partition_version(backend, indexes["by_group"], "g") == before
    with pytest.raises(ConflictError) as caught:
        scanner.commit([insert_op(T, {"group": "z"}, indexes)])
    assert "by_group" in caught.value.detail
    other = insert(backend.make_engine(), "other", {"group": "o"}, specs("other"))
    reader = backend.engine.begin("read")
    reader.scan(full_range(indexes["by_group"]), "asc", after=None, limit=10)
    assert reader.get(other) is not None  # a read after the scan's fetch: validate has to check
    _insert_after_reading(backend, "m", indexes)
    with pytest.raises(ConflictError):
        reader.validate()  # a query: the value version moved, the re-read finds the new entry


def test_a_page_after_a_cursor_guards_the_cursor_value(backend: Backend) -> None:
    """The cursor's value may get entries inside the page's interval although the page saw none of it."""
    indexes = specs()
    by_group = indexes["by_group"]
    insert(backend.engine, T, {"group": "a"}, indexes)
    insert(backend.engine, T, {"group": "g"}, indexes)
    first = backend.engine.begin("read").scan(full_range(by_group), "asc", after=None, limit=2).entries
    cursor = first[-1].key  # the only "g"
    scanner = backend.engine.begin("write")
    rest = scanner.scan(full_range(by_group), "asc", after=cursor, limit=10)
    assert rest.entries == []
    assert rest.exhausted
    _insert_after_reading(backend, "g", indexes)  # a newer "g": after the cursor, inside the page's interval
    with pytest.raises(ConflictError):
        scanner.commit([insert_op(T, {"group": "z"}, indexes)])
    desc = backend.engine.begin("write")
    newest = desc.scan(full_range(by_group), "desc", after=None, limit=1).entries  # the newest "g"
    older = desc.scan(full_range(by_group), "desc", after=newest[0].key, limit=1).entries
    assert older[0].document.value["group"] == "g"
    _insert_after_reading(backend, "a", indexes)  # outside what desc covered ("a" < the older "g")
    desc.commit([insert_op(T, {"group": "z"}, indexes)])  # no conflict


def test_a_key_move_within_a_value_bumps_the_partition(backend: Backend) -> None:
    indexes = {**specs(), "by_group_n": IndexSpec(T, "by_group_n", ("group", "n"), 1)}
    doc_id = insert(backend.engine, T, {"group": "g", "n": 1.0}, indexes)
    spec = indexes["by_group_n"]
    before = _partition_version(backend, spec, "g")
    tx = backend.engine.begin("write")
    record = tx.get(doc_id)
    assert record is not None
    tx.commit([update_op(record, {"group": "g", "n": 2.0}, indexes)])
    assert _partition_version(backend, spec, "g") == before + 1
    assert _count(backend, spec, "g") == (1, True)


def test_an_update_by_code_that_does_not_count_makes_the_count_inexact(backend: Backend) -> None:
    indexes = specs()
    by_group = indexes["by_group"]
    _insert_after_reading(backend, "g", indexes)
    backend.engine.client.update_item(  # what the previous release does on a removal or insert: ver only
        TableName=backend.table,
        Key={"pk": {"S": layout.value_version_pk(by_group, "g")}, "sk": {"B": layout.VERSION_SK}},
        UpdateExpression="ADD ver :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    assert _count(backend, by_group, "g") == (1, False)
    before = _partition_version(backend, by_group, "g")
    _insert_after_reading(backend, "g", indexes)
    assert _partition_version(backend, by_group, "g") == before + 1  # not trusted: bumped
    assert _count(backend, by_group, "g") == (2, False)  # and it stays inexact until infra migrate counts
    engine = backend.engine
    engine.remember_entries([layout.value_version_pk(by_group, "g")])  # as if it had seen "g" with entries
    with backend.counter.measure() as calls:
        insert(engine, T, {"group": "g"}, indexes)  # blind: the inexact count fails the condition, sent again
    assert calls == {"TransactWriteItems": 2}
    assert _partition_version(backend, by_group, "g") == before + 2
    assert not engine.had_entries(layout.value_version_pk(by_group, "g"))


def _load_uncounted(backend: Backend) -> list[dict[str, Any]]:
    documents = []
    for item in json.loads(FIXTURE.read_text())["items"]:
        decoded = {k: ({"B": base64.b64decode(v["B"])} if "B" in v else v) for k, v in item.items()}
        backend.engine.client.put_item(TableName=backend.table, Item=decoded)
        if item["pk"]["S"].startswith("d#"):
            documents.append(deserialize_document(item["doc"]["S"]))
    return documents


NOTES_BY_USER = IndexSpec("notes", "by_user", ("userId",), 1)
FIXTURE_SPECS = [
    IndexSpec("notes", BY_CREATION_TIME, (), 1),
    NOTES_BY_USER,
    IndexSpec("tags", BY_CREATION_TIME, (), 2),
    IndexSpec("tags", "by_name", ("name",), 3),
]


def test_migrate_counts_the_entries_of_a_table_written_before_counts(backend: Backend) -> None:
    documents = _load_uncounted(backend)
    assert not read_catalog(backend.engine).counts
    users = {d["userId"] for d in documents if "userId" in d}
    assert all(_count(backend, NOTES_BY_USER, user) == (0, False) for user in users)  # as the fixture stored them
    before = _partition_version(backend, NOTES_BY_USER, "user0")
    _insert_note_after_reading(backend, "user0")  # before counting: unknown, so the partition is bumped
    assert _partition_version(backend, NOTES_BY_USER, "user0") == before + 1
    changes = ensure_indexes(backend.engine, FIXTURE_SPECS)
    assert changes.counted == ("notes.by_user", "tags.by_name")
    assert changes.built == ()
    assert read_catalog(backend.engine).counts
    stored = [d for d in documents if "userId" in d] + [{"userId": "user0"}]  # plus the note just inserted
    for user in users:
        expected = sum(1 for d in stored if d["userId"] == user)
        assert _count(backend, NOTES_BY_USER, user) == (expected, True)
    for name in {d["name"] for d in documents if "name" in d}:
        expected = sum(1 for d in documents if d.get("name") == name)
        assert _count(backend, FIXTURE_SPECS[3], name) == (expected, True)
    before = _partition_version(backend, NOTES_BY_USER, "user0")
    _insert_note_after_reading(backend, "user0")  # counted: only the value version moves
    assert _partition_version(backend, NOTES_BY_USER, "user0") == before
    with backend.counter.measure() as calls:
        assert ensure_indexes(backend.engine, FIXTURE_SPECS).counted == ()
    assert calls == {"GetItem": 1}  # counted once; a rerun reads the catalog only


def test_dropping_and_rebuilding_an_index_keeps_counts_exact(backend: Backend) -> None:
    indexes = specs()
    ensure_indexes(backend.engine, list(indexes.values()))
    for group in ["g", "g", "h"]:
        insert(backend.engine, T, {"group": group}, indexes)
    ensure_indexes(backend.engine, [indexes[BY_CREATION_TIME]])  # dropped: the counts are no longer exact
    assert _count(backend, indexes["by_group"], "g")[1] is False
    ensure_indexes(backend.engine, list(indexes.values()))  # built again: counted exactly
    assert _count(backend, indexes["by_group"], "g") == (2, True)
    assert _count(backend, indexes["by_group"], "h") == (1, True)


def _insert_note_after_reading(backend: Backend, user: str) -> None:
    notes = {BY_CREATION_TIME: FIXTURE_SPECS[0], "by_user": NOTES_BY_USER}
    tx = backend.make_engine().begin("write")
    tx.scan(eq_range(NOTES_BY_USER, user), "asc", after=None, limit=100)
    tx.commit([insert_op("notes", {"userId": user}, notes)])


def test_value_versions_met_by_a_query_are_read_before_the_next_query(backend: Backend) -> None:
    """An insert into a seen value between the Queries and the TransactGetItems that first reads its version."""
    indexes = specs()
    for group in ["a", "g", "m"]:
        insert(backend.engine, T, {"group": group}, indexes)
    done: list[str] = []

    def insert_once(**_: Any) -> None:
        if not done:
            done.append(_insert_after_reading(backend, "g", indexes))  # another engine: no partition bump

    backend.engine.client.meta.events.register("before-call.dynamodb.TransactGetItems", insert_once)
    scanner = backend.engine.begin("write")
    with backend.counter.measure() as calls:
        seen = scanner.scan(full_range(indexes["by_group"]), "asc", after=None, limit=10).entries
    # the first round's Queries missed the new "g" and its value version was first read after them: a second
    # round runs its Queries with the versions read before them, and sees it
    assert [e.document.value["group"] for e in seen] == ["a", "g", "g", "m"]
    assert done[0] in [e.document.id for e in seen]
    assert calls["Query"] == 32
    scanner.commit([insert_op(T, {"group": "z"}, indexes)])  # its reads are the state at the commit


def test_counting_sets_no_count_that_a_concurrent_write_made_stale(backend: Backend) -> None:
    """An insert between the counting Query and the count's update fails the update's condition: counted again."""
    documents = _load_uncounted(backend)
    users = {layout.value_version_pk(NOTES_BY_USER, d["userId"]): d["userId"] for d in documents if "userId" in d}
    injected: list[str] = []

    def insert_once(params: dict[str, Any], **_: Any) -> None:
        user = users.get(params["Key"]["pk"]["S"])
        if not injected and user is not None and f"{layout.ATTR_COUNT} = :count" in params["UpdateExpression"]:
            injected.append(user)  # just before this value's count is set, another instance adds a note of it
            _insert_note_after_reading(backend, user)

    backend.engine.client.meta.events.register("provide-client-params.dynamodb.UpdateItem", insert_once)
    ensure_indexes(backend.engine, FIXTURE_SPECS)
    assert injected
    stored = [d for d in _documents_of(backend) if d.get("userId") == injected[0]]
    assert _count(backend, NOTES_BY_USER, injected[0]) == (len(stored), True)


def _documents_of(backend: Backend) -> list[dict[str, Any]]:
    tx = backend.engine.begin("read")
    listed = tx.scan(full_range(FIXTURE_SPECS[0]), "asc", after=None, limit=100).entries
    return [entry.document.value for entry in listed]

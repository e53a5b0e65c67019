"""Converting a table stored by the layout-1 engine (fixtures/layout1_items.json) with ``ensure_indexes``."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from authlib_core.database.engines.dynamodb import layout
from authlib_core.database.engines.dynamodb.migrate import FENCED_VERSION, ensure_indexes, read_catalog
from authlib_core.database.interface import BY_CREATION_TIME, IndexSpec, deserialize_document
from tests.dynamodb.helpers import eq_range, full_range, insert_op, update_op

if TYPE_CHECKING:
    from tests.dynamodb.conftest import Backend

FIXTURE = Path(__file__).parent / "fixtures" / "layout1_items.json"
#: The indexes the fixture was written with (fixtures/make_layout1.py).
NOTES = {
    BY_CREATION_TIME: IndexSpec("notes", BY_CREATION_TIME, (), 1),
    "by_user": IndexSpec("notes", "by_user", ("userId",), 1),
}
TAGS = {
    BY_CREATION_TIME: IndexSpec("tags", BY_CREATION_TIME, (), 2),
    "by_name": IndexSpec("tags", "by_name", ("name",), 3),
}
SPECS = [*NOTES.values(), *TAGS.values()]


def _load(backend: Backend) -> list[dict[str, Any]]:
    """Put the fixture's items into the backend's table; returns the stored documents (decoded)."""
    items = json.loads(FIXTURE.read_text())["items"]
    documents = []
    for item in items:
        decoded = {k: ({"B": base64.b64decode(v["B"])} if "B" in v else v) for k, v in item.items()}
        backend.engine.client.put_item(TableName=backend.table, Item=decoded)
        if item["pk"]["S"].startswith("d#"):
            documents.append(deserialize_document(item["doc"]["S"]))
    return documents


def _ids(result: Any) -> list[str]:
    return [entry.document.id for entry in result.entries]


def _assert_readable(backend: Backend, documents: list[dict[str, Any]]) -> None:
    tx = backend.engine.begin("read")
    for table, indexes in (("notes", NOTES), ("tags", TAGS)):
        mine = sorted((d for d in documents if d["_id"] in _ids_of_table(backend, table)), key=_created)
        listed = tx.scan(full_range(indexes[BY_CREATION_TIME]), "asc", after=None, limit=100)
        assert [entry.document.value for entry in listed.entries] == mine
    for user in ("user0", "user1", "user2", "user9"):
        expected = [d["_id"] for d in sorted(documents, key=_created) if d.get("userId") == user]
        assert _ids(tx.scan(eq_range(NOTES["by_user"], user), "asc", after=None, limit=100)) == expected
    for name in ("tag0", "tag1"):
        expected = [d["_id"] for d in sorted(documents, key=_created) if d.get("name") == name]
        assert _ids(tx.scan(eq_range(TAGS["by_name"], name), "asc", after=None, limit=100)) == expected
    tx.validate()


def _created(document: dict[str, Any]) -> float:
    return float(document["_creationTime"])


def _ids_of_table(backend: Backend, table: str) -> set[str]:
    items = json.loads(FIXTURE.read_text())["items"]
    return {i["pk"]["S"][2:] for i in items if i["pk"]["S"].startswith("d#") and i["tbl"]["S"] == table}


def _legacy_items(backend: Backend) -> list[dict[str, Any]]:
    found = []
    for spec in SPECS:
        for shard in range(spec.shards):
            found += list(backend.engine.query_all(layout.legacy_shard_pk(spec, shard)))
    return found


def test_fixture_holds_what_layout_1_wrote() -> None:
    items = json.loads(FIXTURE.read_text())["items"]
    documents = [deserialize_document(i["doc"]["S"]) for i in items if i["pk"]["S"].startswith("d#")]
    assert len(documents) == 11  # 7 notes (one deleted) + 5 tags
    assert {d.get("text") for d in documents} >= {"patched", "moved"}
    entries = [i for i in items if i["pk"]["S"].startswith("i#") and "doc" in i]
    assert len(entries) == 2 * len(documents)  # by_creation_time + one index each, with copies


def test_layout_1_table_is_converted_and_stays_readable(backend: Backend) -> None:
    documents = _load(backend)
    assert read_catalog(backend.engine).layout == 1
    changes = ensure_indexes(backend.engine, SPECS)
    assert changes.converted
    assert changes.built == tuple(sorted(spec.qualified_name for spec in SPECS))
    catalog = read_catalog(backend.engine)
    assert (catalog.layout, catalog.legacy) == (2, {})
    _assert_readable(backend, documents)
    assert _legacy_items(backend) == []  # entries with copies are gone; the fenced version items stay
    for spec in SPECS:
        for shard in range(spec.shards):
            fenced = backend.engine.client.get_item(
                TableName=backend.table, Key={"pk": {"S": layout.legacy_shard_pk(spec, shard)}, "sk": {"B": b"\x00"}}
            )["Item"]
            assert fenced["ver"] == {"S": FENCED_VERSION}
    # converted documents are written and moved like any other
    tx = backend.engine.begin("write")
    moved = next(d for d in documents if d.get("text") == "moved")
    record = tx.get(moved["_id"])
    assert record is not None
    tx.commit(
        [update_op(record, {"userId": "user1", "text": "back"}, NOTES), insert_op("notes", {"userId": "user9"}, NOTES)]
    )
    reader = backend.engine.begin("read")
    assert moved["_id"] in _ids(reader.scan(eq_range(NOTES["by_user"], "user1"), "asc", after=None, limit=100))
    assert len(reader.scan(eq_range(NOTES["by_user"], "user9"), "asc", after=None, limit=100).entries) == 1


def test_conversion_is_idempotent_and_a_rerun_is_one_get(backend: Backend) -> None:
    documents = _load(backend)
    ensure_indexes(backend.engine, SPECS)
    with backend.counter.measure() as calls:
        again = ensure_indexes(backend.engine, SPECS)
    assert calls == {"GetItem": 1}
    assert not again.converted
    assert again.unchanged == tuple(sorted(spec.qualified_name for spec in SPECS))
    _assert_readable(backend, documents)


def test_an_interrupted_conversion_is_completed_by_running_it_again(backend: Backend) -> None:
    documents = _load(backend)
    client = backend.engine.client

    def fail_on_the_catalog(params: dict[str, Any], **_: Any) -> None:
        if params.get("Item", {}).get("pk", {}).get("S") == layout.CATALOG_PK:
            raise RuntimeError("interrupted before the catalog was switched")

    client.meta.events.register("provide-client-params.dynamodb.PutItem", fail_on_the_catalog)
    with pytest.raises(RuntimeError, match="interrupted"):
        ensure_indexes(backend.engine, SPECS)
    client.meta.events.unregister("provide-client-params.dynamodb.PutItem", fail_on_the_catalog)
    assert read_catalog(backend.engine).layout == 1  # nothing switched: the layout-1 entries are all there
    assert len(_legacy_items(backend)) == 2 * len(documents)
    assert ensure_indexes(backend.engine, SPECS).converted
    _assert_readable(backend, documents)
    assert _legacy_items(backend) == []


def test_layout_1_code_cannot_commit_once_the_conversion_began(backend: Backend) -> None:
    _load(backend)
    ensure_indexes(backend.engine, SPECS)
    # What a layout-1 commit of an insert into notes did: the document, its entry, ADD 1 to the shard version.
    shard = {"pk": {"S": layout.legacy_shard_pk(NOTES[BY_CREATION_TIME], 0)}, "sk": {"B": b"\x00"}}
    document = {"pk": {"S": "d#layout1insert"}, "sk": {"B": b"\x00"}, "ver": {"N": "1"}}
    with pytest.raises(ClientError, match="ValidationException"):
        backend.engine.client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": backend.table, "Item": document}},
                {
                    "Update": {
                        "TableName": backend.table,
                        "Key": shard,
                        "UpdateExpression": "ADD ver :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
            ]
        )
    key = {"pk": document["pk"], "sk": document["sk"]}
    assert "Item" not in backend.engine.client.get_item(TableName=backend.table, Key=key)


def test_a_table_of_layout_1_without_a_catalog_is_converted(backend: Backend) -> None:
    documents = _load(backend)
    backend.engine.client.delete_item(TableName=backend.table, Key={"pk": {"S": "catalog"}, "sk": {"B": b"\x00"}})
    # only notes' by_creation_time can be found without the catalog (layout 1 wrote shard 0 of it by default)
    changes = ensure_indexes(backend.engine, [*NOTES.values()])
    assert changes.converted
    notes = [d for d in documents if d["_id"] in _ids_of_table(backend, "notes")]
    tx = backend.engine.begin("read")
    listed = tx.scan(full_range(NOTES[BY_CREATION_TIME]), "asc", after=None, limit=100)
    assert [entry.document.value for entry in listed.entries] == sorted(notes, key=_created)

"""ctx.db document methods: get, insert, patch, replace, delete, normalize_id — on every engine."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pytest

from authlib_core.errors import DocumentNotFoundError, InvalidQueryError, SchemaValidationError
from authlib_core.values import REMOVE, Int64, is_id_for

if TYPE_CHECKING:
    from authlib_core.database import Database


def test_insert_then_get_returns_the_document_with_system_fields(db: Database) -> None:
    item_id = db.run_mutation(lambda w: w.insert("items", {"group": "g", "rank": 1}))
    assert is_id_for("items", item_id)
    doc = db.run_query(lambda r: r.get(item_id))
    assert doc is not None
    assert doc["_id"] == item_id
    assert isinstance(doc["_creationTime"], float)
    assert doc["group"] == "g"
    assert doc["rank"] == 1.0
    assert isinstance(doc["rank"], float)  # a plain int is a float64


def test_get_of_a_deleted_or_unknown_id_is_none(db: Database) -> None:
    item_id = db.run_mutation(lambda w: w.insert("items", {"group": "g", "rank": 1.0}))
    db.run_mutation(lambda w: w.delete(item_id))
    assert db.run_query(lambda r: r.get(item_id)) is None


def test_get_with_table_argument_checks_the_table(db: Database) -> None:
    item_id = db.run_mutation(lambda w: w.insert("items", {"group": "g", "rank": 1.0}))
    assert db.run_query(lambda r: r.get("items", item_id))["_id"] == item_id  # type: ignore[index]
    with pytest.raises(InvalidQueryError, match="not an id of table 'users'"):
        db.run_query(lambda r: r.get("users", item_id))


def test_get_rejects_a_string_that_is_not_an_id(db: Database) -> None:
    with pytest.raises(InvalidQueryError, match="is not a document id"):
        db.run_query(lambda r: r.get("hello"))


def test_patch_merges_shallowly_and_remove_deletes_a_field(db: Database) -> None:
    item_id = db.run_mutation(lambda w: w.insert("items", {"group": "g", "rank": 1.0, "label": "a"}))
    db.run_mutation(lambda w: w.patch(item_id, {"rank": 2.0, "label": REMOVE}))
    doc = db.run_query(lambda r: r.get(item_id))
    assert doc is not None
    assert doc["rank"] == 2.0
    assert doc["group"] == "g"
    assert "label" not in doc


def test_patch_keeps_system_fields_and_rejects_changing_them(db: Database) -> None:
    item_id = db.run_mutation(lambda w: w.insert("items", {"group": "g", "rank": 1.0}))
    before = db.run_query(lambda r: r.get(item_id))
    assert before is not None
    db.run_mutation(lambda w: w.patch(item_id, {"_id": item_id, "rank": 3.0}))
    after = db.run_query(lambda r: r.get(item_id))
    assert after is not None
    assert after["_creationTime"] == before["_creationTime"]
    with pytest.raises(SchemaValidationError, match="_creationTime cannot be changed"):
        db.run_mutation(lambda w: w.patch(item_id, {"_creationTime": 1.0}))


def test_replace_replaces_every_field(db: Database) -> None:
    item_id = db.run_mutation(lambda w: w.insert("items", {"group": "g", "rank": 1.0, "label": "a"}))
    db.run_mutation(lambda w: w.replace(item_id, {"group": "h", "rank": 5.0}))
    doc = db.run_query(lambda r: r.get(item_id))
    assert doc is not None
    assert (doc["group"], doc["rank"], "label" in doc) == ("h", 5.0, False)


@pytest.mark.parametrize("method", ["patch", "replace", "delete"])
def test_writes_to_a_missing_document_fail_and_write_nothing(db: Database, method: str) -> None:
    item_id = db.run_mutation(lambda w: w.insert("items", {"group": "g", "rank": 1.0}))
    db.run_mutation(lambda w: w.delete(item_id))
    other = db.run_mutation(lambda w: w.insert("items", {"group": "x", "rank": 1.0}))

    def attempt(w):  # type: ignore[no-untyped-def]
        w.patch(other, {"rank": 9.0})
        if method == "delete":
            w.delete(item_id)
        else:
            getattr(w, method)(item_id, {"group": "g", "rank": 2.0})

    with pytest.raises(DocumentNotFoundError, match=f"{method} on nonexistent document ID"):
        db.run_mutation(attempt)
    assert db.run_query(lambda r: r.get(other))["rank"] == 1.0  # type: ignore[index]


def test_schema_validation_names_table_field_and_expectation(db: Database) -> None:
    with pytest.raises(SchemaValidationError) as info:
        db.run_mutation(lambda w: w.insert("items", {"group": 3, "rank": 1.0}))
    message = str(info.value)
    assert "items" in message
    assert "group" in message
    assert "string" in message


def test_int64_fields_are_normalised_from_plain_ints(db: Database) -> None:
    item_id = db.run_mutation(lambda w: w.insert("items", {"group": "g", "rank": 1.0, "n": 5}))
    doc = db.run_query(lambda r: r.get(item_id))
    assert doc is not None
    assert isinstance(doc["n"], Int64)
    assert doc["n"] == 5


def test_writing_a_table_missing_from_the_schema_is_an_error(db: Database) -> None:
    with pytest.raises(InvalidQueryError, match="not declared in the schema"):
        db.run_mutation(lambda w: w.insert("nope", {"a": 1.0}))


def test_system_fields_cannot_be_inserted(db: Database) -> None:
    with pytest.raises(SchemaValidationError, match="system field"):
        db.run_mutation(lambda w: w.insert("items", {"_id": "x", "group": "g", "rank": 1.0}))


def test_queries_have_no_write_methods(db: Database) -> None:
    def write_in_query(r):  # type: ignore[no-untyped-def]
        return r.insert("items", {"group": "g", "rank": 1.0})

    with pytest.raises(AttributeError):
        db.run_query(write_in_query)


def test_normalize_id_checks_table_without_reading(db: Database) -> None:
    item_id = db.run_mutation(lambda w: w.insert("items", {"group": "g", "rank": 1.0}))
    assert db.run_query(lambda r: r.normalize_id("items", item_id)) == item_id
    assert db.run_query(lambda r: r.normalize_id("users", item_id)) is None
    assert db.run_query(lambda r: r.normalize_id("items", "garbage")) is None
    assert db.run_query(lambda r: r.normalize_id("items", item_id[:-1] + ("a" if item_id[-1] != "a" else "b"))) is None


def test_creation_times_strictly_increase_within_a_transaction(db: Database) -> None:
    ids = db.run_mutation(lambda w: [w.insert("items", {"group": "g", "rank": float(i)}) for i in range(20)])
    times = [db.run_query(lambda r, i=i: r.get(i))["_creationTime"] for i in ids]  # type: ignore[index,misc]
    assert all(a < b for a, b in itertools.pairwise(times))


def test_documents_survive_reopening_the_store(open_database) -> None:  # type: ignore[no-untyped-def]
    first = open_database()
    item_id = first.run_mutation(lambda w: w.insert("items", {"group": "g", "rank": 1.0}))
    first.close()
    second = open_database()
    assert second.run_query(lambda r: r.get(item_id))["group"] == "g"  # type: ignore[index]

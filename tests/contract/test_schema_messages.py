"""On every engine: values in schema errors read as Convex prints them, and a new schema is checked against the
documents stored."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from authlib_core.database import Database
from authlib_core.database.stored_check import StoredDocumentsCheck
from authlib_core.errors import SchemaValidationError
from authlib_core.schema import define_schema, define_table
from authlib_core.values import Int64, v
from tests.contract.conftest import CURSOR_SECRET, insert_many

if TYPE_CHECKING:
    from collections.abc import Callable


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Int64(5), 'Value: "5n". Validator: v.float64()'),  # an int64 as Convex prints a bigint
        (b"\x01\x02", 'Value: {"$bytes":"AQI="}. Validator: v.float64()'),
        (None, "Value: null. Validator: v.float64()"),
        ({"done": False}, 'Value: {"done":false}. Validator: v.float64()'),
    ],
)
def test_schema_errors_show_values_as_json(db: Database, value: object, shown: str) -> None:
    with pytest.raises(SchemaValidationError) as info:
        db.run_mutation(lambda w: w.insert("counters", {"name": "a", "value": value}))
    assert info.value.message == (
        "Failed to insert or update a document in table 'counters' because it does not match the schema: "
        f"Value does not match validator. Path: .value. {shown}"
    )


def test_a_new_schema_is_checked_against_the_stored_documents(
    db: Database, open_database: Callable[..., Database]
) -> None:
    ids = insert_many(db, "counters", [{"name": f"c{i}", "value": float(i)} for i in range(12)])
    stricter = define_schema({"counters": define_table({"name": v.string(), "value": v.literal(3.0)})})
    check = StoredDocumentsCheck(max_reported=2)
    with pytest.raises(SchemaValidationError) as info:
        check(Database(db.engine, stricter, cursor_secret=CURSOR_SECRET))
    lines = info.value.message.splitlines()
    assert lines[0] == (
        "Schema refused: 11 stored documents do not match it (of the 12 checked); the previous schema stays in force."
    )
    assert lines[1] == (
        f'  table "counters", document {ids[0]}: Value does not match validator. Path: .value. Value: 0. '
        "Validator: v.literal(3.0)"
    )
    assert lines[3] == "  ... and 9 more"
    looser = define_schema({"counters": define_table({"name": v.string(), "value": v.union(v.float64(), v.null())})})
    assert check(Database(db.engine, looser, cursor_secret=CURSOR_SECRET)).checked == 12
    # Nothing was written by either check: the original handle still reads all twelve.
    assert len(open_database().run_query(lambda r: r.query("counters").collect())) == 12

"""A new schema is checked against the documents already stored (real SQLite), before it takes over."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from authlib_core import define_schema, define_table, v
from authlib_core.database import Database
from authlib_core.database.engines.sqlite import SQLiteEngine
from authlib_core.database.stored_check import MIGRATION_HINT, StoredDocumentsCheck
from authlib_core.errors import SchemaValidationError
from tests.support.databases import TEST_SECRET, sqlite_database

if TYPE_CHECKING:
    from pathlib import Path

V1 = define_schema(
    {
        "todos": define_table({"text": v.string(), "done": v.boolean()}),
        "notes": define_table({"body": v.string()}),
    }
)


def with_schema(path: Path, schema: object) -> Database:
    """A database over the same file with another schema, its indexes untouched (as the dev server opens it)."""
    return Database(SQLiteEngine(path), schema, cursor_secret=TEST_SECRET)  # type: ignore[arg-type]


@pytest.fixture
def stored(tmp_path: Path) -> tuple[Path, list[str]]:
    path = tmp_path / "dev.sqlite3"
    database = sqlite_database(path, V1)
    ids = database.run_mutation(
        lambda w: [
            w.insert("todos", {"text": "a", "done": False}),
            w.insert("todos", {"text": "b", "done": True}),
            w.insert("notes", {"body": "n"}),
        ]
    )
    database.close()
    return path, ids


def test_a_required_field_that_stored_documents_lack_is_refused(stored: tuple[Path, list[str]]) -> None:
    path, (first, second, _note) = stored
    v2 = define_schema(
        {
            "todos": define_table({"text": v.string(), "done": v.boolean(), "priority": v.number()}),
            "notes": define_table({"body": v.string()}),
        }
    )
    check = StoredDocumentsCheck()
    with pytest.raises(SchemaValidationError) as info:
        check(with_schema(path, v2))
    assert info.value.message == "\n".join(
        [
            "Schema refused: 2 stored documents do not match it (of the 3 checked); "
            "the previous schema stays in force.",
            f'  table "todos", document {first}: Object is missing the required field `priority`. '
            'Value: {"done":false,"text":"a"}. Validator: v.object({"text": v.string(), "done": v.boolean(), '
            '"priority": v.float64()})',
            f'  table "todos", document {second}: Object is missing the required field `priority`. '
            'Value: {"done":true,"text":"b"}. Validator: v.object({"text": v.string(), "done": v.boolean(), '
            '"priority": v.float64()})',
            MIGRATION_HINT,
        ]
    )


def test_a_changed_field_type_names_the_field(stored: tuple[Path, list[str]]) -> None:
    path, (first, second, _note) = stored
    v2 = define_schema({"todos": define_table({"text": v.string(), "done": v.literal(False)})})
    with pytest.raises(SchemaValidationError) as info:
        StoredDocumentsCheck()(with_schema(path, v2))
    lines = info.value.message.splitlines()
    assert lines[0].startswith("Schema refused: 1 stored document does not match it (of the 2 checked)")
    assert lines[1] == (
        f'  table "todos", document {second}: Value does not match validator. Path: .done. Value: true. '
        "Validator: v.literal(False)"  # the validator as the Python call that builds it
    )
    assert first not in info.value.message


def test_the_optional_step_of_a_migration_is_accepted_and_unchanged_tables_are_skipped(
    stored: tuple[Path, list[str]],
) -> None:
    path, _ = stored
    check = StoredDocumentsCheck()
    assert check(with_schema(path, V1)).checked == 3  # the first check reads every table with a validator
    v2 = define_schema(
        {
            "todos": define_table({"text": v.string(), "done": v.boolean(), "priority": v.optional(v.number())}),
            "notes": define_table({"body": v.string()}),
        }
    )
    report = check(with_schema(path, v2))
    assert (report.checked, report.tables) == (2, ("todos",))  # notes did not change: not read again
    assert check(with_schema(path, v2)).checked == 0


def test_the_work_is_bounded_and_the_message_says_so(tmp_path: Path) -> None:
    path = tmp_path / "dev.sqlite3"
    database = sqlite_database(path, define_schema({"items": define_table({"n": v.number()})}))
    database.run_mutation(lambda w: [w.insert("items", {"n": float(i)}) for i in range(10)])
    strict = define_schema({"items": define_table({"n": v.string()})})
    with pytest.raises(SchemaValidationError) as info:
        StoredDocumentsCheck(max_documents=4, max_reported=2)(with_schema(path, strict))
    lines = info.value.message.splitlines()
    assert lines[0] == (
        "Schema refused: 4 stored documents do not match it (of the first 4 checked (the check stops there)); "
        "the previous schema stays in force."
    )
    assert len(lines) == 5  # two listed, "... and 2 more", the hint
    assert lines[3] == "  ... and 2 more"


def test_a_refused_schema_changes_nothing_stored(stored: tuple[Path, list[str]]) -> None:
    path, ids = stored
    v2 = define_schema({"todos": define_table({"text": v.number(), "done": v.boolean()}).index("by_text", ["text"])})
    with pytest.raises(SchemaValidationError):
        StoredDocumentsCheck()(with_schema(path, v2))
    again = sqlite_database(path, V1)
    assert [d["_id"] for d in again.run_query(lambda r: r.query("todos").collect())] == ids[:2]


def test_schemaless_tables_and_disabled_validation_are_not_checked(stored: tuple[Path, list[str]]) -> None:
    path, _ = stored
    assert StoredDocumentsCheck()(with_schema(path, define_schema({"todos": define_table()}))).checked == 0
    off = define_schema({"todos": define_table({"x": v.string()})}, schema_validation=False)
    assert StoredDocumentsCheck()(with_schema(path, off)).checked == 0

"""Stream records of the documents table as write sets (the same write sets a commit makes on the dev server), and
write sets as inbox entries."""

from __future__ import annotations

import json
from typing import Any

from authlib_core.database.interface import BY_CREATION_TIME, IndexSpec, serialize_document
from authlib_core.database.keys import document_keys
from authlib_core.database.readset import Write, WriteSet, write_set_from_json
from authlib_core.live.delivery import MAX_COMMIT_ENTRY_BYTES, commit_entry
from authlib_core.live.stream import write_set_of_records

SPECS = [IndexSpec("notes", BY_CREATION_TIME, ()), IndexSpec("notes", "by_topic", ("topic",))]


def _specs(table: str) -> list[IndexSpec]:
    assert table == "notes"
    return SPECS


def _image(document: dict[str, Any] | None) -> dict[str, Any] | None:
    if document is None:
        return None
    return {"pk": {"S": "d#n1"}, "tbl": {"S": "notes"}, "ver": {"N": "1"}, "doc": {"S": serialize_document(document)}}


def _record(pk: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    change: dict[str, Any] = {"Keys": {"pk": {"S": pk}, "sk": {"B": "AA=="}}}
    if old is not None:
        change["OldImage"] = old
    if new is not None:
        change["NewImage"] = new
    return {"eventName": "MODIFY" if old and new else "INSERT" if new else "REMOVE", "dynamodb": change}


def test_document_images_give_every_index_key_before_and_after() -> None:
    first = {"_id": "n1", "_creationTime": 1.0, "topic": "a", "text": "x"}
    moved = {**first, "topic": "b"}
    edited = {**moved, "text": "y"}  # content only: every key stays, and is still reported
    records = [
        _record("d#n1", None, _image(first)),
        _record("d#n1", _image(first), _image(moved)),
        _record("d#n1", _image(moved), _image(edited)),
        _record("d#n1", _image(edited), None),
        _record("i#notes#by_topic#0", None, {"id": {"S": "n1"}}),  # engine bookkeeping: ignored
        _record("c#token", None, {"expiresAt": {"N": "1"}}),
    ]
    keys = [document_keys(d, SPECS) for d in (first, moved, edited)]
    expected = [
        {name: (None, keys[0][name]) for name in keys[0]},
        {name: (keys[0][name], keys[1][name]) for name in keys[0]},
        {name: (keys[1][name], keys[2][name]) for name in keys[0]},
        {name: (keys[2][name], None) for name in keys[0]},
    ]
    assert write_set_of_records(records, _specs).writes == tuple(Write("notes", "n1", k) for k in expected)
    assert keys[1]["by_topic"] == keys[2]["by_topic"] != keys[0]["by_topic"]


def test_a_commit_entry_carries_the_write_set_or_everything_when_too_large() -> None:
    small = WriteSet((Write("notes", "n1", {"by_topic": (None, b"\x10a\x00")}),))
    assert write_set_from_json(json.loads(commit_entry(small))["writes"]) == small
    large = WriteSet(tuple(Write("notes", f"n{n}", {"by_topic": (None, b"k" * 40)}) for n in range(1000)))
    assert len(json.dumps([w.id for w in large.writes])) < MAX_COMMIT_ENTRY_BYTES < len(str(large))
    assert write_set_from_json(json.loads(commit_entry(large))["writes"]).everything

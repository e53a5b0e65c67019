"""Stream records of the documents table as write sets, and write sets as inbox entries."""

from __future__ import annotations

import base64
import json

from authlib_core.database.readset import Write, WriteSet, write_set_from_json
from authlib_core.live.delivery import MAX_COMMIT_ENTRY_BYTES, commit_entry
from authlib_core.live.stream import write_set_of_records


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _record(event: str, pk: str, sk: bytes, old: dict[str, object] | None, new: dict[str, object] | None) -> dict:
    change: dict[str, object] = {"Keys": {"pk": {"S": pk}, "sk": {"B": _b64(sk)}}}
    if old is not None:
        change["OldImage"] = {"pk": {"S": pk}, "sk": {"B": _b64(sk)}, **old}
    if new is not None:
        change["NewImage"] = {"pk": {"S": pk}, "sk": {"B": _b64(sk)}, **new}
    return {"eventName": event, "dynamodb": change}


def test_entries_say_which_keys_appeared_moved_or_disappeared_and_bookkeeping_is_ignored() -> None:
    entry = {"id": {"S": "n1"}, "ver": {"N": "2"}}
    records = [
        _record("INSERT", "i#notes#by_topic#0", b"\x10a\x00", None, entry),
        _record("REMOVE", "i#notes#by_topic#3", b"\x10b\x00", entry, None),
        _record("MODIFY", "i#notes#by_creation_time#0", b"\x0d\x01", entry, entry),
        _record("MODIFY", "d#n1", b"\x00", {"tbl": {"S": "notes"}}, {"tbl": {"S": "notes"}}),
        _record("MODIFY", "i#notes#by_topic#0", b"\x00", {"ver": {"N": "1"}}, {"ver": {"N": "2"}}),  # shard version
        _record("INSERT", "c#token", b"\x00", None, {"expiresAt": {"N": "1"}}),  # commit marker
        _record("MODIFY", "catalog", b"\x00", {}, {}),
    ]
    # binary attributes as bytes (GetRecords) are read as well as base64 text (a Lambda event)
    raw = _record("INSERT", "i#notes#by_topic#0", b"\x10c\x00", None, entry)
    raw["dynamodb"]["Keys"]["sk"] = {"B": b"\x10c\x00"}  # type: ignore[index]
    assert write_set_of_records([*records, raw]).writes == (
        Write("notes", "n1", {"by_topic": (None, b"\x10a\x00")}),
        Write("notes", "n1", {"by_topic": (b"\x10b\x00", None)}),
        Write("notes", "n1", {"by_creation_time": (b"\x0d\x01", b"\x0d\x01")}),
        Write("notes", "n1", {}),
        Write("notes", "n1", {"by_topic": (None, b"\x10c\x00")}),
    )


def test_a_commit_entry_carries_the_write_set_or_everything_when_too_large() -> None:
    small = WriteSet((Write("notes", "n1", {"by_topic": (None, b"\x10a\x00")}),))
    assert write_set_from_json(json.loads(commit_entry(small))["writes"]) == small
    large = WriteSet(tuple(Write("notes", f"n{n}", {"by_topic": (None, b"k" * 40)}) for n in range(1000)))
    assert len(json.dumps([w.id for w in large.writes])) < MAX_COMMIT_ENTRY_BYTES < len(str(large))
    assert write_set_from_json(json.loads(commit_entry(large))["writes"]).everything

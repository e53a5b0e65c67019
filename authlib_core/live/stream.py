"""DynamoDB Streams records of the documents table as the write set the sync protocol checks read sets against.

The stream (``NEW_AND_OLD_IMAGES``) carries every item a commit changed. Two kinds matter
(:mod:`authlib_core.database.engines.dynamodb.layout`):

* a document item (``pk`` ``d#<id>``): the document itself, matched against reads by id;
* an index entry (``pk`` ``i#<table>#<index>#<shard>``, ``sk`` the index key): a key that appeared (``INSERT``),
  disappeared (``REMOVE``) or whose document changed (``MODIFY``), matched against scanned intervals.

Everything else (shard version items, commit markers, the index catalog) is bookkeeping and ignored. No index
definitions are needed: the entries themselves say which keys moved.

Example:
    >>> record = {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": "d#n1"}, "sk": {"B": "AA=="}},
    ...     "NewImage": {"pk": {"S": "d#n1"}, "tbl": {"S": "notes"}}}}
    >>> [(w.table, w.id) for w in write_set_of_records([record]).writes]
    [('notes', 'n1')]
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from authlib_core.database.engines.dynamodb.layout import ATTR_ID, ATTR_TABLE, VERSION_SK
from authlib_core.database.readset import Write, WriteSet

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = ["write_set_of_records"]


def _binary(value: Mapping[str, Any]) -> bytes:
    raw = value["B"]
    # Lambda's event JSON carries binary attributes in base64; boto3's GetRecords gives bytes
    return bytes(raw) if isinstance(raw, bytes | bytearray) else base64.b64decode(raw)


def _write_of(record: Mapping[str, Any]) -> Write | None:
    change = record.get("dynamodb") or {}
    keys = change.get("Keys") or {}
    pk = str((keys.get("pk") or {}).get("S", ""))
    old, new = change.get("OldImage"), change.get("NewImage")
    image = new or old or {}
    if pk.startswith("d#"):
        table = (image.get(ATTR_TABLE) or {}).get("S")
        return None if table is None else Write(str(table), pk[2:], {})
    if pk.startswith("i#") and "sk" in keys:
        parts = pk.split("#")
        key = _binary(keys["sk"])
        document = (image.get(ATTR_ID) or {}).get("S")
        if len(parts) != 4 or key == VERSION_SK or document is None:
            return None  # a shard's version item
        before = key if old else None
        after = key if new else None
        return Write(parts[1], str(document), {parts[2]: (before, after)})
    return None


def write_set_of_records(records: Iterable[Mapping[str, Any]]) -> WriteSet:
    """The changes of a batch of stream records (from a Lambda event or from ``GetRecords``) as one write set."""
    writes = [write for record in records if (write := _write_of(record)) is not None]
    return WriteSet(tuple(writes))

"""DynamoDB Streams records of the documents table as the write set the sync protocol checks read sets against.

Only document items matter (``pk`` ``d#<id>``; the stream is ``NEW_AND_OLD_IMAGES``): the old and new image hold the
document (``doc``) and its table (``tbl``), and its key in every index of the table before and after follows from
the table's index definitions, exactly as a commit computes them on the dev server
(:func:`authlib_core.database.readset.write_set`). So a change to a document's content is seen by every interval
holding its key, whatever the engine writes for index entries; index entries, version items, commit markers and the
catalog are the engine's bookkeeping and are ignored (the event source mapping's filter keeps them out).

Example:
    >>> from authlib_core.database.interface import BY_CREATION_TIME, IndexSpec
    >>> image = {"tbl": {"S": "notes"}, "doc": {"S": '{"_id":"n1","_creationTime":1.0}'}}
    >>> record = {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": "d#n1"}}, "NewImage": image}}
    >>> specs = lambda table: [IndexSpec(table, BY_CREATION_TIME, ())]
    >>> [(w.table, w.id, sorted(w.keys)) for w in write_set_of_records([record], specs).writes]
    [('notes', 'n1', ['by_creation_time'])]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from authlib_core.database.engines.dynamodb.layout import ATTR_DOC, ATTR_TABLE
from authlib_core.database.interface import deserialize_document
from authlib_core.database.keys import document_keys
from authlib_core.database.readset import Write, WriteSet

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from authlib_core.database.interface import IndexSpec

__all__ = ["DOCUMENT_PREFIX", "write_set_of_records"]

#: Partition-key prefix of document items (:func:`authlib_core.database.engines.dynamodb.layout.document_pk`).
DOCUMENT_PREFIX = "d#"


def _keys(image: Mapping[str, Any] | None, specs: Sequence[IndexSpec]) -> dict[str, bytes]:
    if not image or ATTR_DOC not in image:
        return {}
    return document_keys(deserialize_document(image[ATTR_DOC]["S"]), specs)


def write_set_of_records(
    records: Iterable[Mapping[str, Any]], indexes: Callable[[str], Sequence[IndexSpec]]
) -> WriteSet:
    """The changes of a batch of stream records (a Lambda event's or ``GetRecords``') as one write set.

    ``indexes(table)`` gives the table's index definitions (the runtime's catalog).
    """
    writes = []
    for record in records:
        change = record.get("dynamodb") or {}
        pk = str(((change.get("Keys") or {}).get("pk") or {}).get("S", ""))
        if not pk.startswith(DOCUMENT_PREFIX):
            continue
        old, new = change.get("OldImage"), change.get("NewImage")
        table = ((new or old or {}).get(ATTR_TABLE) or {}).get("S")
        if table is None:
            continue
        specs = indexes(str(table))
        before, after = _keys(old, specs), _keys(new, specs)
        keys = {name: (before.get(name), after.get(name)) for name in set(before) | set(after)}
        writes.append(Write(str(table), pk[len(DOCUMENT_PREFIX) :], keys))
    return WriteSet(tuple(writes))

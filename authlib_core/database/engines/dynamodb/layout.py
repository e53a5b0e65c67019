"""Item keys and attribute names in the documents table, and DynamoDB item-size accounting.

=================  ====================================  ==============  ==================================
item               ``pk`` (S)                            ``sk`` (B)      attributes
=================  ====================================  ==============  ==================================
document           ``d#<id>``                            ``00``          ``tbl``, ``ct``, ``ver``, ``doc``
index entry        ``i#<table>#<index>#<shard>``         index key       ``id``, ``ver``, ``doc``
shard version      ``i#<table>#<index>#<shard>``         ``00``          ``ver``
index catalog      ``catalog``                           ``00``          ``indexes`` (JSON)
=================  ====================================  ==============  ==================================

Every real index key starts with a type tag byte >= 0x01, so the version item (sort key ``00``) sorts before
every entry of its partition and no key range ever includes it. Table and index names are identifiers (no
``#``), so partition keys cannot collide.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from authlib_core.database.keys import field_value
from authlib_core.values import Value, index_key

if TYPE_CHECKING:
    from collections.abc import Mapping

    from authlib_core.database.interface import IndexSpec

__all__ = [
    "ATTR_CREATION_TIME",
    "ATTR_DOC",
    "ATTR_ID",
    "ATTR_TABLE",
    "ATTR_VERSION",
    "CATALOG_PK",
    "FIRST_ENTRY_KEY",
    "MAX_ITEM_BYTES",
    "MAX_SORT_KEY_BYTES",
    "MAX_TRANSACTION_ACTIONS",
    "MAX_TRANSACTION_BYTES",
    "VERSION_SK",
    "document_item_key",
    "document_pk",
    "item_size",
    "shard_of_document",
    "shard_of_value",
    "shard_pk",
    "shards_of_range",
]

VERSION_SK = b"\x00"
FIRST_ENTRY_KEY = b"\x01"
CATALOG_PK = "catalog"

ATTR_TABLE = "tbl"
ATTR_CREATION_TIME = "ct"
ATTR_VERSION = "ver"
ATTR_DOC = "doc"
ATTR_ID = "id"

#: DynamoDB's item size limit (attribute names + values), 400 KB.
MAX_ITEM_BYTES = 400 * 1024
#: DynamoDB's sort key size limit.
MAX_SORT_KEY_BYTES = 1024
#: TransactWriteItems / TransactGetItems: at most 100 actions ...
MAX_TRANSACTION_ACTIONS = 100
#: ... and at most 4 MB of items in aggregate.
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024


def document_pk(document_id: str) -> str:
    """Partition key of a document item."""
    return "d#" + document_id


def document_item_key(document_id: str) -> dict[str, Any]:
    """The full DynamoDB key of a document item."""
    return {"pk": {"S": document_pk(document_id)}, "sk": {"B": VERSION_SK}}


#: TTL attribute of commit markers (epoch seconds); the documents table's TTL setting names it.
ATTR_EXPIRES = "expiresAt"
#: How long a commit marker is kept: far longer than any request's time budget.
COMMIT_MARKER_TTL_S = 3600


def commit_marker_key(token: str) -> dict[str, Any]:
    """The key of the commit marker of the commit whose ``ClientRequestToken`` is ``token`` (docs/dynamodb.md)."""
    return {"pk": {"S": "c#" + token}, "sk": {"B": VERSION_SK}}


def shard_pk(spec: IndexSpec, shard: int) -> str:
    """Partition key holding one shard of an index: its entries and its version item."""
    return f"i#{spec.table}#{spec.name}#{shard}"


def _first_value(document: Mapping[str, Value], spec: IndexSpec) -> object:
    # The first component of every key of the index: the first field, or _creationTime for by_creation_time.
    if spec.fields:
        return field_value(document, spec.fields[0])
    return document["_creationTime"]


def shard_of_value(spec: IndexSpec, value: object) -> int:
    """The shard holding every entry whose first key component is ``value``.

    A stable hash (BLAKE2b of the component's encoded sort key), so every process and every release agrees.
    """
    if spec.shards <= 1:
        return 0
    digest = hashlib.blake2b(index_key([value]), digest_size=8).digest()  # type: ignore[list-item]
    return int.from_bytes(digest, "big") % spec.shards


def shard_of_document(spec: IndexSpec, document: Mapping[str, Value]) -> int:
    """The shard of ``document``'s entry in ``spec``."""
    return shard_of_value(spec, _first_value(document, spec))


def shards_of_range(spec: IndexSpec, eq_values: tuple[Value, ...]) -> list[int]:
    """The shards a range must read: one when it fixes the first key component, otherwise all."""
    if spec.shards <= 1:
        return [0]
    if eq_values:
        return [shard_of_value(spec, eq_values[0])]
    return list(range(spec.shards))


def _value_size(value: Mapping[str, Any]) -> int:
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode("utf-8"))
    if kind == "B":
        return len(data)
    if kind == "N":
        # DynamoDB: about 1 byte per 2 significant digits plus 1; a safe upper bound.
        return (len(str(data)) + 1) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    raise ValueError(f"unsupported attribute type {kind}")


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """DynamoDB's size of an item: UTF-8 attribute names plus attribute values."""
    return sum(len(name.encode("utf-8")) + _value_size(value) for name, value in item.items())

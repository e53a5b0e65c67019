"""Item keys and attribute names in the documents table (index layout 2), and DynamoDB item-size accounting.

=================  ==============================================  ==============  ===============================
item               ``pk`` (S)                                      ``sk`` (B)      attributes
=================  ==============================================  ==============  ===============================
document           ``d#<id>``                                      ``00``          ``tbl``, ``ct``, ``ver``, ``doc``
index entry        ``e#<table>#<index>#<partition>``               index key       ``id``
partition version  ``e#<table>#<index>#<partition>``               ``00``          ``ver``
value version      ``v#<table>#<index>#<hash of the first value>``  ``00``          ``ver``
index catalog      ``catalog``                                     ``00``          ``indexes`` (JSON), ``layout``
commit marker      ``c#<token>``                                   ``00``          ``expiresAt``
=================  ==============================================  ==============  ===============================

An index entry holds only the document id: a write that leaves the entry's key unchanged writes nothing of the
index. Entries of one index are spread over :func:`partitions` partition keys by a hash of their first key
component (``eq`` on the first field reads one). A **partition version** counts the entries added to or removed
from its partition (read by ranges without ``eq`` on the first field); a **value version** counts the entries
added or removed whose first field has one value (read by ranges with ``eq`` on it). Neither moves when a
document changes without changing its key (docs/dynamodb.md, section 3).

Every real index key starts with a type tag byte >= 0x01, so the version item (sort key ``00``) sorts before
every entry of its partition and no key range ever includes it. Table and index names are identifiers (no
``#``), so partition keys cannot collide. Layout 1 (``i#...`` partitions whose entries carried a copy of the
document) is converted by :mod:`.migrate`.
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
    "DEFAULT_PARTITIONS",
    "FIRST_ENTRY_KEY",
    "MAX_ITEM_BYTES",
    "MAX_SORT_KEY_BYTES",
    "MAX_TRANSACTION_ACTIONS",
    "MAX_TRANSACTION_BYTES",
    "VERSION_SK",
    "document_item_key",
    "document_pk",
    "has_value_versions",
    "item_size",
    "legacy_shard_pk",
    "LAYOUT",
    "partitions",
    "shard_of_document",
    "shard_of_value",
    "shard_pk",
    "shards_of_range",
    "value_version_pk",
    "value_version_pk_of_document",
]

#: The index layout this code reads and writes; the catalog item records the layout of the stored entries.
LAYOUT = 2
#: Partitions per index when the schema declares fewer (``shards=``): entry reads and writes of unrelated values
#: spread over this many partition keys without any declaration.
DEFAULT_PARTITIONS = 16

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


def partitions(spec: IndexSpec) -> int:
    """How many partition keys hold the entries of ``spec``: its declared ``shards``, at least 16."""
    return max(spec.shards, DEFAULT_PARTITIONS)


def shard_pk(spec: IndexSpec, shard: int) -> str:
    """Partition key holding one partition of an index: its entries and its partition version item."""
    return f"e#{spec.table}#{spec.name}#{shard}"


def legacy_shard_pk(spec: IndexSpec, shard: int) -> str:
    """Layout 1's partition key of one shard of an index (entries with document copies, shard version)."""
    return f"i#{spec.table}#{spec.name}#{shard}"


def has_value_versions(spec: IndexSpec) -> bool:
    """Whether ``spec`` keeps a version per first-field value: every index but ``by_creation_time`` (whose first
    component, ``_creationTime``, is unique per document, so ``eq`` on it is no range worth a version)."""
    return bool(spec.fields)


def _value_hash(value: object) -> str:
    return hashlib.blake2b(index_key([value]), digest_size=10).hexdigest()  # type: ignore[list-item]


def value_version_pk(spec: IndexSpec, value: object) -> str:
    """Partition key of the version of one first-field value of ``spec`` (80-bit BLAKE2b of its sort key).

    Two values sharing a hash would share a version: harmless (more conflicts), and at 80 bits never expected.
    """
    return f"v#{spec.table}#{spec.name}#{_value_hash(value)}"


def value_version_pk_of_document(spec: IndexSpec, document: Mapping[str, Value]) -> str:
    """The value version ``document``'s entry in ``spec`` belongs to."""
    return value_version_pk(spec, _first_value(document, spec))


def _first_value(document: Mapping[str, Value], spec: IndexSpec) -> object:
    # The first component of every key of the index: the first field, or _creationTime for by_creation_time.
    if spec.fields:
        return field_value(document, spec.fields[0])
    return document["_creationTime"]


def shard_of_value(spec: IndexSpec, value: object) -> int:
    """The partition holding every entry whose first key component is ``value``.

    A stable hash (BLAKE2b of the component's encoded sort key), so every process and every release agrees.
    """
    digest = hashlib.blake2b(index_key([value]), digest_size=8).digest()  # type: ignore[list-item]
    return int.from_bytes(digest, "big") % partitions(spec)


def shard_of_document(spec: IndexSpec, document: Mapping[str, Value]) -> int:
    """The shard of ``document``'s entry in ``spec``."""
    return shard_of_value(spec, _first_value(document, spec))


def shards_of_range(spec: IndexSpec, eq_values: tuple[Value, ...]) -> list[int]:
    """The partitions a range must read: one when it fixes the first key component, otherwise all."""
    if eq_values:
        return [shard_of_value(spec, eq_values[0])]
    return list(range(partitions(spec)))


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

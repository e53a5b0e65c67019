"""Item keys and attribute names in the documents table (index layout 2), and DynamoDB item-size accounting.

=================  ==============================================  ==============  ===============================
item               ``pk`` (S)                                      ``sk`` (B)      attributes
=================  ==============================================  ==============  ===============================
document           ``d#<id>``                                      ``00``          ``tbl``, ``ct``, ``ver``, ``doc``
index entry        ``e#<table>#<index>#<partition>``               index key       ``id``
partition version  ``e#<table>#<index>#<partition>``               ``00``          ``ver``
value version      ``v#<table>#<index>#<hash of the first value>``  ``00``          ``ver``, ``ec``, ``ecv``
index catalog      ``catalog``                                     ``00``          ``indexes`` (JSON), ``layout``
commit marker      ``c#<token>``                                   ``00``          ``expiresAt``
=================  ==============================================  ==============  ===============================

An index entry holds only the document id: a write that leaves the entry's key unchanged writes nothing of the
index. Entries of one index are spread over :func:`partitions` partition keys by a hash of their first key
component (``eq`` on the first field reads one). A **partition version** counts the entries added to or removed
from its partition (read by ranges without ``eq`` on the first field); a **value version** counts the entries
added or removed whose first field has one value (read by ranges with ``eq`` on it, and by ranges without it for
every value they saw). Neither moves when a document changes without changing its key (docs/dynamodb.md,
section 3). A value version also counts the value's entries (``ec``); the count is exact while ``ecv`` equals
``ver`` (see :func:`count_is_positive`), and an insert into a value whose exact count is positive needs no
partition version bump.

Every real index key starts with a type tag byte >= 0x01, so the version item (sort key ``00``) sorts before
every entry of its partition and no key range ever includes it. Table and index names are identifiers (no
``#``), so partition keys cannot collide. Layout 1 (``i#...`` partitions whose entries carried a copy of the
document) is converted by :mod:`.migrate`.
"""

from __future__ import annotations

import functools
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
    "ATTR_COUNT",
    "ATTR_COUNTED_AT",
    "ATTR_VERSION",
    "CATALOG_PK",
    "DEFAULT_PARTITIONS",
    "FIRST_ENTRY_KEY",
    "MAX_ITEM_BYTES",
    "MAX_SORT_KEY_BYTES",
    "MAX_TRANSACTION_ACTIONS",
    "MAX_TRANSACTION_BYTES",
    "VERSION_SK",
    "count_is_positive",
    "document_item_key",
    "eq_range_pks",
    "first_component",
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
    "shard_of_component",
    "value_version_pk",
    "value_version_pk_of_component",
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
#: Value version items: the number of entries whose first field has the value ...
ATTR_COUNT = "ec"
#: ... exact while this equals ``ver``: every update of this code adds 1 to both, an update of older code (which
#: does not count) adds 1 to ``ver`` only, and ``infra migrate`` sets both after counting (docs/dynamodb.md §3).
ATTR_COUNTED_AT = "ecv"

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


def value_version_pk(spec: IndexSpec, value: object) -> str:
    """Partition key of the version of one first-field value of ``spec`` (80-bit BLAKE2b of its sort key).

    Two values sharing a hash would share a version and a count; at 80 bits never expected (docs/dynamodb.md §3).
    """
    return value_version_pk_of_component(spec, index_key([value]))  # type: ignore[list-item]


def value_version_pk_of_component(spec: IndexSpec, component: bytes) -> str:
    """Partition key of the value version of the first key component whose encoding is ``component``.

    Example:
        >>> from authlib_core.database.interface import IndexSpec
        >>> spec = IndexSpec("notes", "by_user", ("userId",))
        >>> value_version_pk_of_component(spec, index_key(["ann"])) == value_version_pk(spec, "ann")
        True
    """
    return f"v#{spec.table}#{spec.name}#{hashlib.blake2b(component, digest_size=10).hexdigest()}"


#: Bytes after the tag of the fixed-size encodings of ``authlib_core.values.order`` (ints, floats; 0: no body).
_FIXED_BODY = {0x01: 0, 0x03: 0, 0x04: 8, 0x05: 4, 0x06: 2, 0x07: 1, 0x08: 0, 0x09: 1, 0x0A: 2, 0x0B: 4, 0x0C: 8}
_FIXED_BODY.update({0x0D: 8, 0x0E: 0, 0x0F: 0})


def _component_end(key: bytes, start: int) -> int:
    tag = key[start]
    if tag in _FIXED_BODY:
        return start + 1 + _FIXED_BODY[tag]
    if tag in (0x10, 0x11):  # string, bytes: escaped body (never 0x00), then 0x00
        return key.index(0, start + 1) + 1
    if tag in (0x12, 0x15):  # array, object: nested sort keys (tags >= 0x01), then 0x00
        position = start + 1
        while key[position] != 0:
            position = _component_end(key, position)
        return position + 1
    raise ValueError(f"not an index key: unknown type tag {tag:#x} at byte {start}")


def first_component(key: bytes) -> bytes:
    """The encoding of the first key component of the index key ``key`` (the first field's value).

    Sort keys are self-delimiting (``authlib_core.values.order``), so this is a prefix of ``key``; it equals
    ``index_key([value])`` of the document's first field.

    Example:
        >>> first_component(index_key(["ann", 1.5, "id1"])) == index_key(["ann"])
        True
    """
    return key[: _component_end(key, 0)]


def count_is_positive(item: Mapping[str, Any] | None) -> bool:
    """Whether a value version item says, with an exact count, that the value has at least one entry.

    Example:
        >>> count_is_positive({"ver": {"N": "3"}, "ec": {"N": "2"}, "ecv": {"N": "3"}})
        True
        >>> count_is_positive({"ver": {"N": "4"}, "ec": {"N": "2"}, "ecv": {"N": "3"}})  # bumped by uncounting code
        False
    """
    if not item or ATTR_COUNT not in item or ATTR_COUNTED_AT not in item or ATTR_VERSION not in item:
        return False
    exact = int(item[ATTR_COUNTED_AT]["N"]) == int(item[ATTR_VERSION]["N"])
    return exact and int(item[ATTR_COUNT]["N"]) > 0


@functools.lru_cache(maxsize=4096)
def eq_range_pks(spec: IndexSpec, component: bytes) -> tuple[str, str]:
    """(partition key, value version key) of the range whose first field equals the value encoded as ``component``.

    ``shard_pk(spec, shard_of_component(...))`` and ``value_version_pk_of_component(...)``, memoised: every query
    with ``eq`` on the same value (a user's id) would otherwise hash and format them again.

    Example:
        >>> from authlib_core.database.interface import IndexSpec
        >>> spec = IndexSpec("notes", "by_user", ("userId",))
        >>> eq_range_pks(spec, index_key(["ann"])) == (
        ...     shard_pk(spec, shard_of_value(spec, "ann")), value_version_pk(spec, "ann"))
        True
    """
    return shard_pk(spec, shard_of_component(spec, component)), value_version_pk_of_component(spec, component)


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
    return shard_of_component(spec, index_key([value]))  # type: ignore[list-item]


def shard_of_component(spec: IndexSpec, component: bytes) -> int:
    """The partition of the entries whose first key component is encoded as ``component``.

    Example:
        >>> from authlib_core.database.interface import IndexSpec
        >>> spec = IndexSpec("notes", "by_user", ("userId",))
        >>> shard_of_component(spec, index_key(["ann"])) == shard_of_value(spec, "ann")
        True
    """
    digest = hashlib.blake2b(component, digest_size=8).digest()
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

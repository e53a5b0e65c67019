"""Index keys of documents: the one place that decides what an index entry's key is.

A key is the concatenation of the sort keys of the index fields (a missing field is ``undefined``, which
sorts first), then ``_creationTime``, then ``_id`` — so keys are unique and ordered as Convex orders
index results. Both engines and the transaction layer call :func:`document_key`; nothing else builds keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from authlib_core.values import UNDEFINED, Value, index_key

if TYPE_CHECKING:
    from authlib_core.database.interface import IndexSpec

__all__ = ["document_key", "document_keys", "field_value"]


def field_value(document: Mapping[str, Value], path: str) -> Value | object:
    """The value at a dotted ``path`` of ``document``, or :data:`~authlib_core.values.UNDEFINED`.

    Example:
        >>> field_value({"author": {"name": "ann"}}, "author.name")
        'ann'
        >>> field_value({"author": "ann"}, "author.name") is UNDEFINED
        True
    """
    current: object = document
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return UNDEFINED
        current = current[part]
    return current


def document_key(document: Mapping[str, Value], index: IndexSpec) -> bytes:
    """The key of ``document`` in ``index``: fields, then ``_creationTime``, then ``_id``.

    Example:
        >>> spec = IndexSpec(table="t", name="by_a", fields=("a",))
        >>> k1 = document_key({"_id": "x", "_creationTime": 1.0, "a": "apple"}, spec)
        >>> k2 = document_key({"_id": "y", "_creationTime": 0.5, "a": "banana"}, spec)
        >>> k1 < k2
        True
    """
    values: list[object] = [field_value(document, field) for field in index.fields]
    values.append(document["_creationTime"])
    values.append(document["_id"])
    return index_key(values)  # type: ignore[arg-type]  # UNDEFINED is accepted by index_key


def document_keys(document: Mapping[str, Value], indexes: Sequence[IndexSpec]) -> dict[str, bytes]:
    """The document's key in each of ``indexes``, by index name."""
    return {index.name: document_key(document, index) for index in indexes}

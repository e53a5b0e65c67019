"""Convex values in Python: the value model, validators (``v``), wire encodings, ids, ordering and sizes.

This is layer 1 of authlib-core: it imports only :mod:`authlib_core.errors` and the standard library.

- :mod:`~authlib_core.values.types`: :class:`Int64`, :data:`Value`, :data:`JSONValue`, :data:`REMOVE`
- :mod:`~authlib_core.values.convert`: :func:`to_value` (arbitrary Python → canonical value)
- :mod:`~authlib_core.values.encoding`: :func:`encode` / :func:`decode`, :func:`loads` / :func:`dumps`
- :mod:`~authlib_core.values.validators`, :mod:`~authlib_core.values.builders`: ``v`` and ``V*`` classes
- :mod:`~authlib_core.values.ids`: document ids that carry their table
- :mod:`~authlib_core.values.order`: Convex's total order, byte-sortable index keys
- :mod:`~authlib_core.values.size`: Convex's size formula

Example:
    >>> from authlib_core.values import Int64, decode, encode, v
    >>> args = v.object({"n": v.int64(), "note": v.optional(v.string())})
    >>> args.validate(decode({"n": {"$integer": "BQAAAAAAAAA="}}))
    {'n': Int64(5)}
    >>> encode({"n": Int64(5)}, "json")
    {'n': '5'}
"""

from __future__ import annotations

from authlib_core.values.builders import as_object_validator, v
from authlib_core.values.convert import to_value
from authlib_core.values.encoding import BadFormatError, Format, decode, dumps, encode, loads, parse_format
from authlib_core.values.ids import decode_id, is_id_for, new_id, table_number
from authlib_core.values.order import UNDEFINED, Undefined, compare, index_key, prefix_successor, sort_key
from authlib_core.values.size import document_size, value_size
from authlib_core.values.types import REMOVE, Int64, JSONValue, Remove, Value
from authlib_core.values.validator_json import validator_from_json
from authlib_core.values.validators import Validator, ValidatorMismatch

__all__ = [
    "BadFormatError",
    "Format",
    "Int64",
    "JSONValue",
    "REMOVE",
    "Remove",
    "UNDEFINED",
    "Undefined",
    "Validator",
    "ValidatorMismatch",
    "Value",
    "as_object_validator",
    "compare",
    "decode",
    "decode_id",
    "document_size",
    "dumps",
    "encode",
    "index_key",
    "is_id_for",
    "loads",
    "new_id",
    "parse_format",
    "prefix_successor",
    "sort_key",
    "table_number",
    "to_value",
    "v",
    "validator_from_json",
    "value_size",
]

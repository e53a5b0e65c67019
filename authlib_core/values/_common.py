"""Helpers shared by the values modules: paths in messages, short value descriptions, field names."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Callable

from authlib_core.display import display_value
from authlib_core.errors import InvalidValueError

#: Containers nested deeper than this are rejected with a clear error (instead of a RecursionError).
MAX_DEPTH: Final = 64
#: Longest object key (field name) Convex accepts inside a value.
MAX_KEY_LENGTH: Final = 1024

#: Exact types whose values are canonical Convex values as they are (an ASCII ``str`` is too).
PLAIN_LEAF_TYPES: Final = frozenset({float, bool, type(None)})

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*\Z")

_MAX_DESCRIPTION = 120


def key_path(path: str, key: object) -> str:
    """``path`` extended by an object key: ``.items`` + ``"text"`` → ``.items.text``."""
    if isinstance(key, str) and _IDENTIFIER.match(key):
        return f"{path}.{key}"
    if isinstance(key, str):
        return f"{path}[{json.dumps(key)}]"
    return f"{path}[{key!r}]"


def index_path(path: str, index: int) -> str:
    """``path`` extended by an array index: ``.items`` + 2 → ``.items[2]``."""
    return f"{path}[{index}]"


def at(path: str) -> str:
    """Where a problem is, for messages: ``at .items[2]`` or ``at the top level``."""
    return f"at {path}" if path else "at the top level"


def describe(value: object) -> str:
    """A short text of ``value`` for error messages: its JSON as Convex shows values (``5``, ``null``,
    ``{"done":false}``, ``"5n"``), or the ``repr`` of something that is not a value; never raises.
    """
    return display_value(value, limit=_MAX_DESCRIPTION)


def type_name(value: object) -> str:
    """``int``, ``datetime.datetime``, ``myapp.models.User``: the type as a user recognises it."""
    cls = type(value)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


#: Field names already found valid (a bounded memo: the same few names recur in every document). Cleared, never
#: replaced: a ``str`` key found in it is valid (the hot loops test membership before calling field_name_problem).
VALID_FIELD_NAMES: set[str] = set()
_VALID_FIELD_NAMES = VALID_FIELD_NAMES
_MAX_REMEMBERED_FIELD_NAMES: Final = 4096


def check_field_name(key: object, path: str) -> None:
    """Raise :class:`InvalidValueError` naming ``path`` unless ``key`` can be an object key of a Convex value."""
    if not isinstance(key, str):
        raise InvalidValueError(f"Object key {key!r} {at(path)} is a {type_name(key)}; Convex object keys must be str.")
    problem = field_name_problem(key)
    if problem is not None:
        raise InvalidValueError(f"Invalid field name {key!r} {at(path)}: it {problem}.")


def field_name_problem(key: str) -> str | None:
    """Why ``key`` cannot be an object key in a Convex value, or ``None`` if it can.

    Convex's rule (``convexToJson``): at most 1024 characters, printable ASCII only, no leading ``$``.
    """
    if key in _VALID_FIELD_NAMES:
        return None
    problem = _field_name_problem(key)
    if problem is None and len(key) <= 64:
        if len(_VALID_FIELD_NAMES) >= _MAX_REMEMBERED_FIELD_NAMES:
            _VALID_FIELD_NAMES.clear()
        _VALID_FIELD_NAMES.add(key)
    return problem


def _field_name_problem(key: str) -> str | None:
    if key.startswith("$"):
        return "starts with '$', which Convex reserves for its encoding ($integer, $bytes, ...)"
    if len(key) > MAX_KEY_LENGTH:
        return f"is {len(key)} characters long; the limit is {MAX_KEY_LENGTH}"
    if not _PRINTABLE_ASCII.match(key):
        bad = next(ch for ch in key if not " " <= ch <= "~")
        return f"contains {bad!r}; field names may only contain printable ASCII characters"
    return None


def check_depth(depth: int, path: str) -> None:
    """Raise if a value nests deeper than :data:`MAX_DEPTH`."""
    if depth > MAX_DEPTH:
        raise InvalidValueError(
            f"Value is nested more than {MAX_DEPTH} levels deep {at(path)}. "
            "Flatten it (or check for a list or dict that contains itself)."
        )


def lone_surrogate_problem(text: str) -> str | None:
    """Why ``text`` is not valid Unicode (a lone surrogate), or ``None`` if it is."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"contains a lone surrogate {text[exc.start]!r} at index {exc.start}; Convex strings must be valid Unicode"
        )
    return None


def exact_float(number: int) -> float | None:
    """``float(number)`` if a double holds ``number`` exactly, else ``None``."""
    try:
        result = float(number)
    except OverflowError:
        return None
    return result if result == number else None


def int_to_float(number: int, path: str) -> float:
    """A plain ``int`` as the float64 it stands for; raise if the double cannot hold it exactly."""
    result = exact_float(number)
    if result is None:
        raise InvalidValueError(
            f"The int {number} {at(path)} cannot be represented exactly as a float64 (a plain Python int "
            "is a Convex number). Use Int64(...) for a 64-bit integer (validator v.int64()), "
            "or pass a float if rounding is acceptable."
        )
    return result


def json_loader(parse_constant: Callable[[str], Any]) -> Callable[[str | bytes], Any]:
    """``json.loads(text, parse_constant=parse_constant)``, with the decoder built once instead of on every call.

    ``json.loads`` with a keyword builds a new ``JSONDecoder`` (and its scanner) per call; text that is ``str``
    without a byte-order mark goes straight to one kept decoder, anything else through ``json.loads`` itself, so
    results and errors are the same.

    Example:
        >>> loads = json_loader(lambda name: None)
        >>> loads('{"a": [1, NaN]}')
        {'a': [1, None]}
    """
    decoder = json.JSONDecoder(parse_constant=parse_constant)

    def loads(text: str | bytes) -> Any:
        if type(text) is str and not text.startswith("\ufeff"):
            return decoder.decode(text)
        return json.loads(text, parse_constant=parse_constant)

    return loads

"""Strict JSON text parsing for request bodies: no NaN literals, no lone surrogates, bounded nesting.

Every HTTP body and JSON query parameter is read with :func:`loads_strict`, so a hostile document is a clear
``ValueError`` (an HTTP 400 where it is used), never a ``RecursionError`` or a string that cannot be stored:

* ``NaN``, ``Infinity`` and ``-Infinity`` are not JSON;
* ``"\\ud800"`` (a UTF-16 surrogate without its pair) decodes to a Python string no UTF-8 store, hash or log can
  hold; it is refused with the JSON path of the string;
* containers nested deeper than the standard library's scanner can follow (about 1,000 levels) are refused with
  a message instead of a ``RecursionError`` (stored values are limited to 64 levels further on).

Example:
    >>> loads_strict('{"a": [1, 2]}')
    {'a': [1, 2]}
    >>> loads_strict('{"name": "\\\\ud800"}')
    Traceback (most recent call last):
    ...
    authlib_core.values.json_text.JsonTextError: the string at .name contains a lone surrogate '\\ud800' ...
"""

from __future__ import annotations

import re
from typing import Any, Final

from authlib_core.values._common import index_path, json_loader, key_path, lone_surrogate_problem

__all__ = ["MAX_JSON_DEPTH", "JsonTextError", "loads_strict"]

#: Nesting the message names: the standard library's scanner follows about this many levels.
MAX_JSON_DEPTH: Final = 1000

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JsonTextError(ValueError):
    """JSON text that is malformed (``syntax``) or holds something no request may carry; the message says what.

    Example:
        >>> try:
        ...     loads_strict("[NaN]")
        ... except JsonTextError as error:
        ...     print(error.syntax, error)
        False NaN is not valid JSON; send special floats as {'$float': ...}
    """

    def __init__(self, message: str, *, syntax: bool = False) -> None:
        super().__init__(message)
        self.syntax = syntax


def loads_strict(text: str | bytes) -> Any:
    """Parse JSON ``text`` (UTF-8 bytes or str) with the rules above.

    Example:
        >>> loads_strict(b'{"args": {"n": 1}}')
        {'args': {'n': 1}}

    Raises:
        JsonTextError: not valid JSON, too deeply nested, a NaN/Infinity literal or a lone surrogate.
        UnicodeDecodeError: ``text`` is bytes that are not UTF-8.
    """
    decoded = text if isinstance(text, str) else text.decode("utf-8")
    try:
        value = _loads(decoded)
    except RecursionError:
        raise JsonTextError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep; flatten it") from None
    except JsonTextError:
        raise
    except ValueError as exc:
        raise JsonTextError(str(exc), syntax=True) from None
    # The scanner's own limit follows the interpreter's recursion limit, which a host may raise: the cap is checked
    # on the value too (only when the text has enough brackets to reach it), so the answer never depends on it.
    if decoded.count("[") + decoded.count("{") > MAX_JSON_DEPTH and _depth_exceeds(value, MAX_JSON_DEPTH):
        raise JsonTextError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep; flatten it")
    if _SURROGATE_ESCAPE.search(decoded) or lone_surrogate_problem(decoded) is not None:
        problem = _find_lone_surrogate(value)
        if problem is not None:
            raise JsonTextError(problem)
    return value


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists and objects more than ``limit`` levels deep (iteratively: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _reject_constant(name: str) -> Any:
    raise JsonTextError(f"{name} is not valid JSON; send special floats as {{'$float': ...}}")


def _find_lone_surrogate(value: Any) -> str | None:
    """The first string or key holding a lone surrogate, described with its JSON path (iterative: any depth)."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            problem = lone_surrogate_problem(item)
            if problem is not None:
                return f"the string at {path or '(top level)'} {problem}"
        elif isinstance(item, dict):
            for key, child in item.items():
                problem = lone_surrogate_problem(key)
                if problem is not None:
                    return f"an object key at {path or '(top level)'} {problem}"
                stack.append((child, key_path(path, key)))
        elif isinstance(item, list):
            stack.extend((child, index_path(path, index)) for index, child in enumerate(item))
    return None


_loads = json_loader(_reject_constant)

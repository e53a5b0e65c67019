"""How a value reads in a message: JSON, the way Convex prints values in its errors.

Convex renders values for error messages with ``stringifyValueForError`` (``convex/src/values/value.ts``): the
value's JSON, where a ``bigint`` becomes the string ``"5n"`` and ``undefined`` the string ``"undefined"``, cut at
16,384 characters with ``[...truncated]``. :func:`display_value` does the same for Python values, so a message
shows ``5`` for the float64 ``5.0``, ``null`` for ``None``, ``{"done":false}`` for ``{"done": False}`` and ``"5n"``
for ``Int64(5)`` — never a Python ``repr``.

Where JavaScript has no useful JSON, the text says more than Convex's does:

- bytes print as their Convex JSON encoding ``{"$bytes":"<base64>"}`` (``JSON.stringify`` of an ``ArrayBuffer``
  prints ``{}``);
- ``NaN``, ``Infinity`` and ``-Infinity`` print as those words (``JSON.stringify`` prints ``null``).

Objects that are not values (a ``datetime``, a ``set``, a class instance) have no JSON form; they print as their
short ``repr``, which names their Python type. A type may choose its own text by defining
``__convex_display__(self) -> str`` returning a JSON fragment (``Int64`` and the ``REMOVE``/``UNDEFINED`` markers
do).

This module sits below every other one (it imports only the standard library), so exception classes can use it.

Example:
    >>> display_value({"done": False, "n": 5.0, "tags": ("a", None)})
    '{"done":false,"n":5,"tags":["a",null]}'
    >>> display_value(0.1), display_value(1e21), display_value(b"hi")
    ('0.1', '1e+21', '{"$bytes":"aGk="}')
"""

from __future__ import annotations

import base64
import json
import math
import re
import reprlib
from decimal import Decimal
from typing import Final

__all__ = [
    "MAX_DISPLAY_LENGTH",
    "display_number",
    "display_value",
    "missing_attribute",
    "spelling_hint",
    "terminal_text",
]

#: Convex's ``MAX_VALUE_FOR_ERROR_LEN``: longer text is cut and ends with ``[...truncated]``.
MAX_DISPLAY_LENGTH: Final = 16_384
_TRUNCATED: Final = "[...truncated]"
_MAX_DEPTH: Final = 64

_short = reprlib.Repr()
_short.maxstring = _short.maxother = 60
_short.maxlevel = 3


def display_value(value: object, *, limit: int = MAX_DISPLAY_LENGTH) -> str:
    """``value`` as Convex shows a value in a message (see the module docstring); at most ``limit`` characters.

    Never raises: a value that cannot be walked (a cycle, a failing ``__repr__``) prints as far as it can.

    Example:
        >>> display_value([1, "x", None, True])
        '[1,"x",null,true]'
        >>> display_value("a" * 40, limit=20)
        '"aaaaa[...truncated]'
    """
    parts: list[str] = []
    budget = [limit + 1]  # stop walking once the text is longer than the limit
    _emit(value, parts, budget, frozenset(), 0)
    text = "".join(parts)
    if len(text) <= limit:
        return text
    return text[: max(limit - len(_TRUNCATED), 0)] + _TRUNCATED


#: Control characters a terminal acts on (C0 but newline and tab, DEL, C1) and the visible text shown instead.
_TERMINAL_ESCAPES: Final = {
    code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0)) if code not in (0x09, 0x0A)
}


def terminal_text(text: str) -> str:
    r"""``text`` safe to print on a terminal: control characters become visible escapes, newlines and tabs stay.

    Text a request can influence (a traceback whose message holds an argument, an email address, a link) reaches
    the developer's console. There ``ESC`` starts a command (retitle the window, clear the screen, rewrite what
    was printed), ``CR`` lets a line overwrite itself, ``BEL`` rings, and C1 characters (U+0080-U+009F) act as
    ``ESC`` sequences on many terminals. Each of them, every other C0 character and ``DEL`` print as ``\x1b``,
    ``\x0d``... so the text reads as sent and does nothing. Newlines keep a traceback on its lines; a tab only
    moves the cursor right.

    Example:
        >>> terminal_text("plan x\x1b]0;pwned\x07\x1b[2J\nnext\tline\r\x9b")
        'plan x\\x1b]0;pwned\\x07\\x1b[2J\nnext\tline\\x0d\\x9b'
        >>> terminal_text("café ✓")
        'café ✓'
    """
    return text.translate(_TERMINAL_ESCAPES)


def missing_attribute(owner: object, name: str) -> AttributeError:
    """The ``AttributeError`` for ``owner.name``, naming the Python spelling when ``name`` is a camelCase one it has.

    Convex code spells ``withIndex``, ``normalizeId``, ``runQuery``; here they are ``with_index``, ``normalize_id``,
    ``run_query``. Classes whose users come from Convex raise this from ``__getattr__`` (only reached for a name the
    class does not have), so the mistake reads as what to write instead.

    Example:
        >>> class Query:
        ...     def with_index(self): ...
        >>> str(missing_attribute(Query(), "withIndex"))
        "'Query' object has no attribute 'withIndex'; it is spelled `with_index` here (Python naming)"
        >>> str(missing_attribute(Query(), "colect"))
        "'Query' object has no attribute 'colect'"
    """
    return AttributeError(f"{type(owner).__name__!r} object has no attribute {name!r}{spelling_hint(owner, name)}")


def spelling_hint(owner: object, name: str) -> str:
    """``"; it is spelled `with_index` here (Python naming)"`` when ``owner`` has ``name`` in snake_case, else ``""``.

    Example:
        >>> class Ctx:
        ...     def run_query(self): ...
        >>> spelling_hint(Ctx(), "runQuery"), spelling_hint(Ctx(), "runQueries")
        ('; it is spelled `run_query` here (Python naming)', '')
    """
    python = _CAMEL_HUMP.sub(r"_\1", name).lower()
    if python == name or name.startswith("_") or not hasattr(type(owner), python):
        return ""
    return f"; it is spelled `{python}` here (Python naming)"


_CAMEL_HUMP: Final = re.compile(r"(?<=[a-z0-9])([A-Z])")


def display_number(number: float) -> str:
    """A float64 as JavaScript's ``Number.prototype.toString`` writes it: ``5``, ``0.1``, ``1e+21``, ``1e-7``.

    Example:
        >>> display_number(5.0), display_number(-0.0), display_number(123456789012345680000.0), display_number(1e-7)
        ('5', '0', '123456789012345680000', '1e-7')
    """
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    # repr gives the shortest digits that round-trip, as ECMAScript's Number::toString requires.
    _, digit_tuple, exponent = Decimal(repr(abs(number))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    assert isinstance(exponent, int)
    k = len(digits)
    n = exponent + k  # the decimal point sits after n digits
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{sign}{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"


def _emit(value: object, out: list[str], budget: list[int], seen: frozenset[int], depth: int) -> None:
    if budget[0] <= 0:
        return
    text = _scalar(value)
    if text is not None:
        _push(text, out, budget)
        return
    if isinstance(value, dict | list | tuple):
        if id(value) in seen or depth >= _MAX_DEPTH:
            _push('"[Circular]"' if id(value) in seen else '"[...]"', out, budget)
            return
        inner = seen | {id(value)}
        if isinstance(value, dict):
            _push("{", out, budget)
            for i, (key, item) in enumerate(value.items()):
                _push(("," if i else "") + json.dumps(key if isinstance(key, str) else str(key)) + ":", out, budget)
                _emit(item, out, budget, inner, depth + 1)
            _push("}", out, budget)
        else:
            _push("[", out, budget)
            for i, item in enumerate(value):
                if i:
                    _push(",", out, budget)
                _emit(item, out, budget, inner, depth + 1)
            _push("]", out, budget)
        return
    _push(_foreign(value), out, budget)


def _scalar(value: object) -> str | None:
    custom = getattr(type(value), "__convex_display__", None)
    if custom is not None:
        try:
            return str(custom(value))
        except Exception:
            return _foreign(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return display_number(value)
    if isinstance(value, int):  # a plain int is a float64 in the value model
        return display_number(float(value)) if abs(value) < 2**1023 else str(value)
    if isinstance(value, bytes | bytearray):
        return '{"$bytes":"' + base64.b64encode(bytes(value)).decode("ascii") + '"}'
    return None


def _foreign(value: object) -> str:
    try:
        return _short.repr(value)
    except Exception:
        return f"<{type(value).__name__} object>"


def _push(text: str, out: list[str], budget: list[int]) -> None:
    out.append(text)
    budget[0] -= len(text)

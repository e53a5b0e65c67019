"""The Python shapes of Convex values: :class:`Int64`, :data:`Value`, :data:`JSONValue` and :data:`REMOVE`.

Convex has two numeric types. As in the official ``convex`` Python client, a plain Python ``int`` or
``float`` is a *float64* (``v.number()``); a 64-bit integer (``v.int64()``, JavaScript ``bigint``) is
written ``Int64(5)``.

Example:
    >>> from authlib_core.values import Int64, REMOVE
    >>> Int64(5), Int64(5) + 1, REMOVE
    (Int64(5), 6, REMOVE)
"""

from __future__ import annotations

import enum
from typing import Final, Literal, TypeAlias

from authlib_core.errors import InvalidValueError

__all__ = ["INT64_MAX", "INT64_MIN", "REMOVE", "Int64", "JSONValue", "Remove", "Value"]

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1


class Int64(int):
    """A Convex int64 (JavaScript ``bigint``): an ``int`` that knows it is a 64-bit integer.

    The constructor checks the range -2^63..2^63-1. Arithmetic returns plain ``int`` (a float64 in Convex
    terms), so wrap results again when they must stay int64.

    Example:
        >>> Int64(5)
        Int64(5)
        >>> str(Int64(-3)), Int64(7) == 7
        ('-3', True)
        >>> Int64(2**63)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        authlib_core.errors.InvalidValueError: Int64(9223372036854775808) is out of range: ...

    Common mistake: ``Int64(n) == float(n)`` is ``True`` in Python, yet Convex treats int64 ``5`` and float64
    ``5.0`` as different values (they sort apart and ``v.literal(Int64(5))`` rejects ``5.0``).
    """

    __slots__ = ()

    def __new__(cls, value: int | str = 0) -> Int64:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise InvalidValueError(
                f"Int64() takes an int (or a decimal string); got {type(value).__name__} {value!r}. "
                "Convert it first, e.g. Int64(int(x)) when truncating a float is intended."
            )
        number = int(value)
        if not INT64_MIN <= number <= INT64_MAX:
            raise InvalidValueError(f"Int64({number}) is out of range: an int64 lies in {INT64_MIN}..{INT64_MAX}.")
        return super().__new__(cls, number)

    def __repr__(self) -> str:
        return f"Int64({int.__repr__(self)})"

    def __str__(self) -> str:
        return int.__repr__(self)

    def __convex_display__(self) -> str:
        """How messages show it: ``"5n"``, as Convex prints a ``bigint`` (see :mod:`authlib_core.display`)."""
        return f'"{int.__repr__(self)}n"'


class _Remove(enum.Enum):
    """Type of :data:`REMOVE`; there is exactly one instance."""

    REMOVE = "REMOVE"

    def __repr__(self) -> str:
        return "REMOVE"

    def __convex_display__(self) -> str:
        """How messages show it: ``"undefined"``, as Convex prints ``undefined``."""
        return '"undefined"'


#: In ``ctx.db.patch(id, {"field": REMOVE})``, deletes ``field`` (Convex's ``undefined`` in a patch).
#: It is not a value: anywhere else it is rejected.
REMOVE: Final = _Remove.REMOVE

#: The type of :data:`REMOVE`, for annotations such as ``Mapping[str, Value | Remove]``.
Remove: TypeAlias = Literal[_Remove.REMOVE]

#: A Convex value in its canonical Python form. ``int`` here means :class:`Int64` (a plain ``int`` is a
#: float64 and :func:`~authlib_core.values.to_value` turns it into ``float``).
Value: TypeAlias = bool | float | int | str | bytes | list["Value"] | dict[str, "Value"] | None

#: What ``json.loads`` returns (and ``json.dumps`` accepts).
JSONValue: TypeAlias = bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"] | None

"""Function paths (``"admin/users:list"``) and Convex's identifier rules.

A function's path is its module path under the functions folder, ``/``-separated, then ``:`` and the attribute
name: ``functions/admin/users.py`` attribute ``list`` is ``"admin/users:list"``. Lookups also accept Convex's other
spellings: ``"admin/users.js:list"`` and ``"myData"`` (meaning ``"myData:default"``).

Example:
    >>> canonicalize_path("myData.js:getMyData"), canonicalize_path("myData")
    ('myData:getMyData', 'myData:default')
"""

from __future__ import annotations

import json
import re

__all__ = [
    "MAX_IDENTIFIER_LENGTH",
    "MAX_PATH_LENGTH",
    "canonicalize_path",
    "identifier_problem",
    "invalid_path_message",
    "is_api_path",
    "is_valid_identifier",
    "make_path",
]

#: Longest identifier Convex accepts (function names, module path segments).
MAX_IDENTIFIER_LENGTH = 64

#: Longest function path a client may send (HTTP API and live-query socket alike).
MAX_PATH_LENGTH = 1024

#: Where the Convex API's routes live; every other request path is an HTTP action's.
_API_ROOT = "/api"

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# whitespace, C0 and C1 controls, DEL, lone surrogates: never in a path, and unsafe on a log line or a terminal
_UNSAFE_IN_PATH = re.compile(r"[\s\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def identifier_problem(name: str) -> str | None:
    """Why ``name`` is not a valid Convex identifier, or ``None`` when it is.

    Rules: an ASCII letter or ``_`` first, then ASCII letters, digits or ``_``; at most
    64 characters; not made only of underscores.

    Example:
        >>> identifier_problem("getMyData") is None
        True
        >>> identifier_problem("9lives")
        'must start with an ASCII letter or _ and contain only ASCII letters, digits and _'
    """
    if not _IDENTIFIER.fullmatch(name):
        return "must start with an ASCII letter or _ and contain only ASCII letters, digits and _"
    if len(name) > MAX_IDENTIFIER_LENGTH:
        return f"is {len(name)} characters long; the limit is {MAX_IDENTIFIER_LENGTH}"
    if name.strip("_") == "":
        return "must not consist only of underscores"
    return None


def is_valid_identifier(name: str) -> bool:
    """``True`` when ``name`` follows Convex's identifier rules (see :func:`identifier_problem`)."""
    return identifier_problem(name) is None


def make_path(module_path: str, name: str) -> str:
    """Join a ``/``-separated module path and an attribute name: ``make_path("admin/users", "list")``."""
    return f"{module_path}:{name}"


def canonicalize_path(path: str) -> str:
    """The registry key for a path as a client may spell it.

    Strips a ``.js`` suffix from the module part and adds ``:default`` when no function name is given,
    like Convex's ``canonicalizeUdfPath``.

    Example:
        >>> canonicalize_path("admin/users.js:list")
        'admin/users:list'
    """
    module, sep, name = path.partition(":")
    if module.endswith(".js"):
        module = module[: -len(".js")]
    return f"{module}:{name if sep else 'default'}"


def invalid_path_message(path: str) -> str | None:
    """Why a client-sent function path is refused before any lookup (``BadConvexFunctionIdentifier``), else None.

    Refused: empty, longer than :data:`MAX_PATH_LENGTH`, more than one ``:``, whitespace, control characters (C0,
    DEL, C1) or lone surrogates. Checked where a path enters (HTTP body, live-query message), so a path that reaches
    a log line or the dev server's terminal never carries a line break or a terminal command. The message shows the
    path JSON-escaped.

    Example:
        >>> print(invalid_path_message("my Data:get"))
        Invalid function path "my Data:get"; use 'module:function' (no spaces or control characters)
    """
    if path and len(path) <= MAX_PATH_LENGTH and path.count(":") <= 1 and _UNSAFE_IN_PATH.search(path) is None:
        return None
    shown = json.dumps(path[:100])
    return f"Invalid function path {shown}; use 'module:function' (no spaces or control characters)"


def is_api_path(path: str) -> bool:
    """True for ``/api`` and everything under ``/api/``: the Convex API's paths, never an HTTP action's.

    Example:
        >>> is_api_path("/api/query"), is_api_path("/api"), is_api_path("/apiary")
        (True, True, False)
    """
    return path == _API_ROOT or path.startswith(_API_ROOT + "/")

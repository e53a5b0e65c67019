"""The immutable map from function path to definition that the loader builds."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from authlib_core.errors import FunctionNotFoundError
from authlib_core.functions.paths import canonicalize_path
from authlib_core.functions.spec import FunctionDefinition

__all__ = ["FunctionRef", "RegisteredFunction", "Registry"]

#: What ``ctx.run_query`` and friends accept: a path string or the definition object itself.
FunctionRef = str | FunctionDefinition[..., Any]

#: How many close matches a "not found" hint suggests, and how many functions of a module it lists.
_MAX_SUGGESTIONS = 3
_MAX_LISTED = 20


@dataclasses.dataclass(frozen=True, slots=True)
class RegisteredFunction:
    """A definition and the path it is registered under (``"admin/users:list"``)."""

    path: str
    definition: FunctionDefinition[..., Any]


class Registry(Mapping[str, RegisteredFunction]):
    """Immutable mapping ``path -> RegisteredFunction``, built by the loader.

    Example:
        >>> from authlib_core import query
        >>> @query
        ... def ping(ctx):
        ...     return "pong"
        >>> registry = Registry([RegisteredFunction("health:ping", ping)])
        >>> registry.lookup("health.js:ping", public_only=True).definition is ping
        True
        >>> registry.path_of(ping)
        'health:ping'

    Common mistake: keeping a registry across a reload and looking up definitions imported from the new code.
    ``path_of`` matches by identity; use the registry of the same :func:`load_functions` call.
    """

    __slots__ = ("_by_definition", "_by_path")

    def __init__(self, functions: list[RegisteredFunction] | tuple[RegisteredFunction, ...] = ()) -> None:
        by_path: dict[str, RegisteredFunction] = {}
        by_definition: dict[int, str] = {}
        for function in functions:
            if function.path in by_path:
                raise ValueError(f"duplicate function path {function.path!r}")
            by_path[function.path] = function
            by_definition.setdefault(id(function.definition), function.path)
        self._by_path: Mapping[str, RegisteredFunction] = MappingProxyType(dict(sorted(by_path.items())))
        self._by_definition: Mapping[int, str] = MappingProxyType(by_definition)

    def __getitem__(self, path: str) -> RegisteredFunction:
        return self._by_path[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_path)

    def __len__(self) -> int:
        return len(self._by_path)

    def __repr__(self) -> str:
        return f"Registry({list(self._by_path)!r})"

    def lookup(self, path: str, *, public_only: bool) -> RegisteredFunction:
        """The function at ``path`` (any of Convex's spellings: ``"a:b"``, ``"a.js:b"``, ``"a"`` for ``"a:default"``).

        With ``public_only=True`` internal functions are invisible, exactly as if they did not exist.

        Raises:
            FunctionNotFoundError: no such function (or it is internal and ``public_only`` is set).
        """
        found = self._by_path.get(canonicalize_path(path))
        if found is None or (public_only and not found.definition.is_public):
            what = "public function" if public_only else "function"
            raise FunctionNotFoundError(
                f"Could not find {what} for '{path}'.", hint=self.not_found_hint(path, public_only=public_only)
            )
        return found

    def not_found_hint(self, path: str, *, public_only: bool) -> str:
        """What to try instead of the missing ``path``: close matches, then the functions of its module.

        Only functions a caller could reach are named (public ones when ``public_only``).

        Example:
            >>> from authlib_core import query
            >>> ping = query(lambda ctx: "pong")
            >>> Registry([RegisteredFunction("health:ping", ping)]).not_found_hint("health:pong", public_only=True)
            "Did you mean 'health:ping'? Public functions in module 'health': ping."
        """
        import difflib  # only a dev server's hint needs it: kept off the Lambda cold path

        reachable = [p for p, f in self._by_path.items() if f.definition.is_public or not public_only]
        canonical = canonicalize_path(path)
        module = canonical.partition(":")[0]
        what = "Public functions" if public_only else "Functions"
        in_module = [p.partition(":")[2] for p in reachable if p.partition(":")[0] == module]
        if in_module:  # a misspelt function name: compare names within the module
            name = canonical.partition(":")[2]
            close = [f"{module}:{n}" for n in difflib.get_close_matches(name, in_module, n=_MAX_SUGGESTIONS)]
        else:  # a misspelt module: compare whole paths
            close = difflib.get_close_matches(canonical, reachable, n=_MAX_SUGGESTIONS, cutoff=0.75)
        parts: list[str] = []
        if close:
            parts.append("Did you mean " + " or ".join(f"'{p}'" for p in close) + "?")
        if in_module:
            parts.append(f"{what} in module '{module}': {_listing(in_module)}.")
        else:
            modules = sorted({p.partition(":")[0] for p in reachable})
            listing = f"modules with {what.lower()}: {_listing(modules)}" if modules else f"there are no {what.lower()}"
            parts.append(f"The functions folder has no module '{module}' ({listing}).")
        return " ".join(parts)

    def path_of(self, definition: FunctionDefinition[..., Any]) -> str:
        """The path a definition is registered under.

        Raises:
            FunctionNotFoundError: the definition is not in this registry (not a module-level attribute of a module
                in the functions folder, or from before a reload).
        """
        path = self._by_definition.get(id(definition))
        if path is None or self._by_path[path].definition is not definition:
            raise FunctionNotFoundError(
                f"Function `{definition.name}` is not registered. Functions are found as module-level names of "
                "modules in the functions folder; define it there, or call it by its path string."
            )
        return path

    def resolve(self, ref: FunctionRef, *, public_only: bool) -> RegisteredFunction:
        """Look up a path string or a definition object (what ``ctx.run_query`` accepts)."""
        if isinstance(ref, str):
            return self.lookup(ref, public_only=public_only)
        return self.lookup(self.path_of(ref), public_only=public_only)


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:_MAX_LISTED])
    return shown if len(names) <= _MAX_LISTED else f"{shown} and {len(names) - _MAX_LISTED} more"

"""The ``ctx`` a handler receives: what it may do is in its type.

- ``QueryCtx``: ``db`` (a reader, no write methods), ``auth``, ``run_query`` (same transaction);
- ``MutationCtx``: ``db`` (reader and writer), ``auth``, ``run_query`` (same transaction), ``run_mutation``
  (a sub-transaction of this one);
- ``ActionCtx``: no ``db``; ``auth``, ``run_query`` / ``run_mutation`` (each its own transaction), ``run_action``.

A member a kind does not have is absent, not ``None``: ``ctx.run_mutation`` in a query is an ``AttributeError``.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping

    from authlib_core.auth.identity import Auth
    from authlib_core.functions.ports import DatabaseReader, DatabaseWriter
    from authlib_core.functions.registry import FunctionRef
    from authlib_core.values import Value

__all__ = ["ActionCtx", "MutationCtx", "QueryCtx", "RunFunction"]


class RunFunction(Protocol):
    """``ctx.run_query`` / ``run_mutation`` / ``run_action``: call another function by path or definition.

    Arguments are validated as for a client call; internal functions may be called. Returns the result as a
    Convex value (what a client would receive).

    Example:
        >>> from authlib_core import action
        >>> @action
        ... def refresh(ctx, user_id: str):
        ...     profile = ctx.run_query("users:get", {"id": user_id})
        ...     return ctx.run_mutation("users:touch", {"id": user_id}) if profile else None
    """

    def __call__(self, ref: FunctionRef, args: Mapping[str, Any] | None = None, /) -> Value: ...


@dataclasses.dataclass(frozen=True, slots=True)
class QueryCtx:
    """The context of a query: read-only ``db``, ``auth``, ``run_query`` (same snapshot).

    Common mistake: calling ``ctx.db.insert`` in a query; the reader has no write methods. Use a mutation.
    """

    db: DatabaseReader
    auth: Auth
    run_query: RunFunction


@dataclasses.dataclass(frozen=True, slots=True)
class MutationCtx:
    """The context of a mutation: ``db`` reads and writes in one transaction.

    ``run_query`` runs in the same transaction (it sees this mutation's writes); ``run_mutation`` runs as a
    sub-transaction: if it raises, only its writes are undone and this mutation may catch the error and go on.

    Common mistake: side effects (HTTP calls, emails) in a mutation. On a conflict the whole mutation runs again;
    do side effects in an action.
    """

    db: DatabaseWriter
    auth: Auth
    run_query: RunFunction
    run_mutation: RunFunction


@dataclasses.dataclass(frozen=True, slots=True)
class ActionCtx:
    """The context of an action: no ``db``; each ``run_query`` / ``run_mutation`` is its own transaction.

    Common mistake: reading with ``run_query`` then writing with ``run_mutation`` and assuming nothing changed in
    between. Do read-check-write in one mutation.
    """

    auth: Auth
    run_query: RunFunction
    run_mutation: RunFunction
    run_action: RunFunction

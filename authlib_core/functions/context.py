"""The ``ctx`` a handler receives: what it may do is in its type.

- ``QueryCtx``: ``db`` (a reader, no write methods), ``auth``, ``run_query`` (same transaction);
- ``MutationCtx``: ``db`` (reader and writer), ``auth``, ``run_query`` (same transaction), ``run_mutation``
  (a sub-transaction of this one), ``scheduler`` (jobs commit with the mutation);
- ``ActionCtx``: no ``db``; ``auth``, ``run_query`` / ``run_mutation`` (each its own transaction), ``run_action``,
  ``scheduler`` (each call commits at once).

A member a kind does not have is absent, not ``None``, and using it says why: ``ctx.run_mutation`` in a query
raises :class:`~authlib_core.errors.FunctionError` "Cannot call a mutation from a query ..." (also an
``AttributeError``, so ``hasattr(ctx, "run_mutation")`` is False).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

from authlib_core.display import spelling_hint
from authlib_core.errors import FunctionError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from authlib_core.auth.identity import Auth
    from authlib_core.functions.ports import DatabaseReader, DatabaseWriter
    from authlib_core.functions.registry import FunctionRef
    from authlib_core.functions.scheduler import Scheduler
    from authlib_core.values import Value

__all__ = ["ActionCtx", "MutationCtx", "QueryCtx", "RunFunction"]


class _MissingMemberError(FunctionError, AttributeError):
    """A ``ctx`` member this kind of function does not have (an ``AttributeError`` too, for ``hasattr``)."""

    code = "InvalidFunctionCall"


#: Why a kind lacks a member, keyed by (kind, member).
_MISSING: dict[tuple[str, str], str] = {
    ("query", "run_mutation"): (
        "Cannot call a mutation from a query: queries are read-only, so ctx.run_mutation is not available in a "
        "query. Call the mutation from the client, from an action, or from another mutation."
    ),
    ("query", "scheduler"): (
        "ctx.scheduler is not available in a query: queries are read-only and scheduling writes a job. Schedule "
        "from a mutation (atomically with its writes) or from an action."
    ),
    ("query", "run_action"): (
        "Cannot call an action from a query: ctx.run_action is only available in actions. Call the action from "
        "the client or from another action."
    ),
    ("mutation", "run_action"): (
        "Cannot call an action from a mutation: a mutation may re-run on conflicts, so it cannot have side "
        "effects. Call the action from the client or from another action."
    ),
    ("action", "db"): (
        "ctx.db is not available in an action: actions run outside any transaction. Read with ctx.run_query "
        "and write with ctx.run_mutation."
    ),
}


def _missing(ctx: object, kind: str, name: str) -> NoReturn:
    reason = _MISSING.get((kind, name))
    if reason is None:
        article = "an" if kind == "action" else "a"
        raise AttributeError(f"the ctx of {article} {kind} has no attribute {name!r}{spelling_hint(ctx, name)}")
    raise _MissingMemberError(reason)


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

    if not TYPE_CHECKING:  # invisible to mypy: using a missing member stays a type error

        def __getattr__(self, name: str) -> object:
            _missing(self, "query", name)


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
    #: ``run_after`` / ``run_at`` / ``cancel``, as writes of this mutation's transaction.
    scheduler: Scheduler

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> object:
            _missing(self, "mutation", name)


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
    #: ``run_after`` / ``run_at`` / ``cancel``; each call commits at once.
    scheduler: Scheduler

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> object:
            _missing(self, "action", name)

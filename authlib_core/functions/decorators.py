"""``@query``, ``@mutation``, ``@action`` and their internal variants.

They tag a handler and return a :class:`~authlib_core.functions.spec.FunctionDefinition`; nothing is registered
globally. :func:`~authlib_core.functions.loader.load_functions` finds the definitions in the functions folder.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar, overload

from authlib_core.functions.arguments import ModelArguments, build_binder
from authlib_core.functions.kinds import Kind, Visibility
from authlib_core.functions.spec import FunctionDefinition

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from types import FrameType

    from authlib_core.values import Validator

__all__ = ["action", "internal_action", "internal_mutation", "internal_query", "mutation", "query"]

P = ParamSpec("P")
R = TypeVar("R")


class Decorator(Protocol):
    """What ``@query(args=..., returns=...)`` returns: applied to a handler, it gives the definition."""

    def __call__(self, handler: Callable[P, R], /) -> FunctionDefinition[P, R]: ...


def _define(
    kind: Kind,
    visibility: Visibility,
    handler: Callable[P, R],
    args: Mapping[str, Validator] | Validator | None,
    returns: Validator | None,
    module: str,
) -> FunctionDefinition[P, R]:
    binder = build_binder(handler, args)
    return FunctionDefinition(
        kind=kind,
        visibility=visibility,
        handler=handler,
        args=getattr(binder, "validator", None),
        returns=returns,
        args_model=binder.model if isinstance(binder, ModelArguments) else None,
        module=module,
        binder=binder,
    )


def _decorator(
    kind: Kind,
    visibility: Visibility,
    handler: Callable[..., Any] | None,
    args: Mapping[str, Validator] | Validator | None,
    returns: Validator | None,
) -> Any:
    """Both decorator forms; called only from the public decorators below (the frame depth depends on it)."""
    if handler is not None:
        # Frame 0 is this function, 1 the public decorator, 2 the module body that applied it.
        return _define(kind, visibility, handler, args, returns, _module_of(sys._getframe(2)))

    def decorate(fn: Callable[..., Any]) -> FunctionDefinition[..., Any]:
        return _define(kind, visibility, fn, args, returns, _module_of(sys._getframe(1)))

    return decorate


def _module_of(frame: FrameType) -> str:
    return str(frame.f_globals.get("__name__", ""))


@overload
def query(handler: Callable[P, R], /) -> FunctionDefinition[P, R]: ...
@overload
def query(
    *, args: Mapping[str, Validator] | Validator | None = None, returns: Validator | None = None
) -> Decorator: ...
def query(handler: Any = None, /, *, args: Any = None, returns: Any = None) -> Any:
    """Define a public query: it reads the database in one read-only transaction.

    Arguments arrive as keyword arguments after ``ctx``, validated first: by ``args=`` (Convex validators) or, when
    ``args=`` is absent, by the handler's type hints (pydantic, lax mode). ``returns=`` validates the result.

    Example:
        >>> from authlib_core import query, v
        >>> @query(args={"channel": v.string()})
        ... def list_messages(ctx, channel):
        ...     return ctx.db.query("messages").with_index("by_channel", lambda q: q.eq("channel", channel)).collect()
        >>> @query
        ... def count(ctx, limit: int = 10):
        ...     return len(ctx.db.query("messages").take(limit))

    Common mistake: writing from a query. ``ctx.db`` in a query has no ``insert``/``patch``/``delete``; use
    ``@mutation``. Also: a query must be deterministic (no network, no clock-dependent results); use an action.
    """
    return _decorator(Kind.QUERY, Visibility.PUBLIC, handler, args, returns)


@overload
def mutation(handler: Callable[P, R], /) -> FunctionDefinition[P, R]: ...
@overload
def mutation(
    *, args: Mapping[str, Validator] | Validator | None = None, returns: Validator | None = None
) -> Decorator: ...
def mutation(handler: Any = None, /, *, args: Any = None, returns: Any = None) -> Any:
    """Define a public mutation: it reads and writes in one serializable transaction.

    Example:
        >>> from authlib_core import mutation, v
        >>> @mutation(args={"text": v.string()}, returns=v.id("messages"))
        ... def send(ctx, text):
        ...     return ctx.db.insert("messages", {"text": text})

    Common mistake: side effects (sending email, calling an API) in a mutation. On a write conflict the handler runs
    again from the start, so it must only read and write ``ctx.db``. Put side effects in an ``@action`` that calls
    the mutation with ``ctx.run_mutation``.
    """
    return _decorator(Kind.MUTATION, Visibility.PUBLIC, handler, args, returns)


@overload
def action(handler: Callable[P, R], /) -> FunctionDefinition[P, R]: ...
@overload
def action(
    *, args: Mapping[str, Validator] | Validator | None = None, returns: Validator | None = None
) -> Decorator: ...
def action(handler: Any = None, /, *, args: Any = None, returns: Any = None) -> Any:
    """Define a public action: it runs outside any transaction and may have side effects.

    An action has no ``ctx.db``; it reads and writes through ``ctx.run_query`` / ``ctx.run_mutation`` (each its own
    transaction) and may call other actions with ``ctx.run_action``.

    Example:
        >>> from authlib_core import action, v
        >>> @action(args={"text": v.string()})
        ... def shout(ctx, text):
        ...     return ctx.run_mutation("messages:send", {"text": text.upper()})

    Common mistake: expecting several ``ctx.run_mutation`` calls in one action to be atomic. Each is its own
    transaction; put writes that must commit together in one mutation.
    """
    return _decorator(Kind.ACTION, Visibility.PUBLIC, handler, args, returns)


@overload
def internal_query(handler: Callable[P, R], /) -> FunctionDefinition[P, R]: ...
@overload
def internal_query(
    *, args: Mapping[str, Validator] | Validator | None = None, returns: Validator | None = None
) -> Decorator: ...
def internal_query(handler: Any = None, /, *, args: Any = None, returns: Any = None) -> Any:
    """Define a query that only other functions (``ctx.run_query``) and the admin CLI can call.

    Example:
        >>> from authlib_core import internal_query
        >>> @internal_query
        ... def all_users(ctx):
        ...     return ctx.db.query("users").collect()

    Common mistake: relying on an internal function's arguments being trusted. They are still validated, but any
    function of yours can pass anything; validate what matters.
    """
    return _decorator(Kind.QUERY, Visibility.INTERNAL, handler, args, returns)


@overload
def internal_mutation(handler: Callable[P, R], /) -> FunctionDefinition[P, R]: ...
@overload
def internal_mutation(
    *, args: Mapping[str, Validator] | Validator | None = None, returns: Validator | None = None
) -> Decorator: ...
def internal_mutation(handler: Any = None, /, *, args: Any = None, returns: Any = None) -> Any:
    """Define a mutation that only other functions (``ctx.run_mutation``) and the admin CLI can call.

    Example:
        >>> from authlib_core import internal_mutation, v
        >>> @internal_mutation(args={"id": v.id("users")})
        ... def ban(ctx, id):
        ...     ctx.db.patch(id, {"banned": True})

    Common mistake: making a mutation internal to "hide" it while a public function forwards client input to it
    unchecked. Authorise in the public function.
    """
    return _decorator(Kind.MUTATION, Visibility.INTERNAL, handler, args, returns)


@overload
def internal_action(handler: Callable[P, R], /) -> FunctionDefinition[P, R]: ...
@overload
def internal_action(
    *, args: Mapping[str, Validator] | Validator | None = None, returns: Validator | None = None
) -> Decorator: ...
def internal_action(handler: Any = None, /, *, args: Any = None, returns: Any = None) -> Any:
    """Define an action that only other actions (``ctx.run_action``) and the admin CLI can call.

    Example:
        >>> from authlib_core import internal_action
        >>> @internal_action
        ... def nightly_report(ctx):
        ...     return ctx.run_query("reports:summary", {})

    Common mistake: calling an action from a query or mutation. Only actions have ``ctx.run_action``.
    """
    return _decorator(Kind.ACTION, Visibility.INTERNAL, handler, args, returns)

"""``Executor``: run a function by path with validated arguments, in the right kind of transaction.

- A query runs in one read transaction; ``ctx.run_query`` inside it uses the same reader.
- A mutation runs in one write transaction, which the database retries on conflict: **the handler may run several
  times**, so it must be deterministic and touch nothing but ``ctx.db`` (side effects belong in actions).
  ``ctx.run_query`` inside it reads the same transaction through a read-only view; ``ctx.run_mutation`` runs in a
  savepoint, so an exception undoes only the nested call's writes and the caller may catch it.
- An action runs outside any transaction; its ``run_query`` / ``run_mutation`` each start their own.

The result goes through :func:`authlib_core.values.to_value` (a tuple becomes an array, an ``int`` a float64) and,
if the function declares ``returns=``, is validated. Exceptions from user code propagate unchanged; the HTTP layer
turns unknown ones into an opaque error with a request id.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from authlib_core.errors import (
    ArgumentValidationError,
    InvalidValueError,
    ReturnsValidationError,
    WrongFunctionKindError,
)
from authlib_core.functions.context import ActionCtx, MutationCtx, QueryCtx
from authlib_core.functions.kinds import Kind
from authlib_core.functions.ports import read_only
from authlib_core.values import ValidatorMismatch, to_value

if TYPE_CHECKING:
    from authlib_core.auth.identity import Auth
    from authlib_core.functions.ports import Database, DatabaseReader, DatabaseWriter
    from authlib_core.functions.registry import FunctionRef, RegisteredFunction, Registry
    from authlib_core.values import Value

__all__ = ["Executor"]


class Executor:
    """Calls the functions of a :class:`~authlib_core.functions.registry.Registry` against a database.

    Example:
        >>> executor = Executor(app.registry, database)                                      # doctest: +SKIP
        >>> executor.call("myData:add", {"text": "hi"}, kind=Kind.MUTATION, auth=NoAuth())  # doctest: +SKIP

    Common mistake: passing ``public_only=False`` for client requests. Only trusted callers (the admin CLI) may
    reach internal functions; the HTTP layer keeps the default.
    """

    __slots__ = ("database", "registry")

    def __init__(self, registry: Registry, database: Database) -> None:
        self.registry = registry
        self.database = database

    def call(
        self,
        path: str,
        args: Mapping[str, Value] | None,
        *,
        kind: Kind | None = None,
        auth: Auth,
        public_only: bool = True,
        request_id: str = "",
    ) -> Value:
        """Run the function at ``path`` and return its result as a Convex value.

        ``kind`` is the kind the caller expects (``/api/query`` passes ``Kind.QUERY``); ``None`` accepts any.
        ``public_only=False`` lets internal functions be called (the admin CLI). ``request_id`` identifies the
        request in logs; it does not change what runs.

        Raises:
            FunctionNotFoundError: no such function (internal ones count as missing when ``public_only``).
            WrongFunctionKindError: the function is not of ``kind``.
            ArgumentValidationError: the arguments do not match; the message names the field.
            ReturnsValidationError: the result does not match ``returns=``.
            InvalidValueError: the result is not a Convex value (a set, an object with ``$`` keys, ...).
            ConvexError: raised by the function on purpose.
            ConflictError: a mutation kept conflicting (from the database layer).
        """
        function = self.registry.lookup(path, public_only=public_only)
        if kind is not None:
            _check_kind(function, kind)
        kwargs = function.definition.bind_arguments(_as_args(args), function.path)
        definition = function.definition
        if definition.kind is Kind.QUERY:
            return self.database.run_query(lambda reader: self._invoke(function, kwargs, self._query_ctx(reader, auth)))
        if definition.kind is Kind.MUTATION:
            # The database may call this more than once (conflict retries): give each attempt fresh arguments.
            return self.database.run_mutation(
                lambda writer: self._invoke(function, copy.deepcopy(kwargs), self._mutation_ctx(writer, auth))
            )
        return self._invoke(function, kwargs, self._action_ctx(auth))

    def action_context(self, auth: Auth) -> ActionCtx:
        """The context an HTTP action runs with: an action's (``run_query`` / ``run_mutation`` / ``run_action``)."""
        return self._action_ctx(auth)

    def _prepare(self, ref: FunctionRef, args: Mapping[str, Any] | None, kind: Kind) -> tuple[RegisteredFunction, Any]:
        function = self.registry.resolve(ref, public_only=False)
        _check_kind(function, kind)
        value = to_value({} if args is None else args)
        return function, function.definition.bind_arguments(_as_args(value), function.path)

    def _invoke(self, function: RegisteredFunction, kwargs: dict[str, Any], ctx: Any) -> Value:
        definition = function.definition
        result = definition.handler(ctx, **kwargs)
        try:
            value = to_value(result)
        except InvalidValueError as exc:
            raise type(exc)(f"{function.path} returned a value that is not a Convex value: {exc.message}") from exc
        if definition.returns is not None:
            try:
                value = definition.returns.validate(value, "")
            except ValidatorMismatch as exc:
                raise ReturnsValidationError(
                    f"{function.path} returned a value that does not match returns=: {exc.message}"
                ) from exc
        return value

    def _query_ctx(self, reader: DatabaseReader, auth: Auth) -> QueryCtx:
        def run_query(ref: FunctionRef, args: Mapping[str, Any] | None = None, /) -> Value:
            function, kwargs = self._prepare(ref, args, Kind.QUERY)
            return self._invoke(function, kwargs, self._query_ctx(reader, auth))

        return QueryCtx(db=reader, auth=auth, run_query=run_query)

    def _mutation_ctx(self, writer: DatabaseWriter, auth: Auth) -> MutationCtx:
        reader = read_only(writer)

        def run_query(ref: FunctionRef, args: Mapping[str, Any] | None = None, /) -> Value:
            function, kwargs = self._prepare(ref, args, Kind.QUERY)
            return self._invoke(function, kwargs, self._query_ctx(reader, auth))

        def run_mutation(ref: FunctionRef, args: Mapping[str, Any] | None = None, /) -> Value:
            function, kwargs = self._prepare(ref, args, Kind.MUTATION)
            with writer.savepoint():
                return self._invoke(function, kwargs, self._mutation_ctx(writer, auth))

        return MutationCtx(db=writer, auth=auth, run_query=run_query, run_mutation=run_mutation)

    def _action_ctx(self, auth: Auth) -> ActionCtx:
        def run_query(ref: FunctionRef, args: Mapping[str, Any] | None = None, /) -> Value:
            function, kwargs = self._prepare(ref, args, Kind.QUERY)
            return self.database.run_query(lambda reader: self._invoke(function, kwargs, self._query_ctx(reader, auth)))

        def run_mutation(ref: FunctionRef, args: Mapping[str, Any] | None = None, /) -> Value:
            function, kwargs = self._prepare(ref, args, Kind.MUTATION)
            return self.database.run_mutation(
                lambda writer: self._invoke(function, copy.deepcopy(kwargs), self._mutation_ctx(writer, auth))
            )

        def run_action(ref: FunctionRef, args: Mapping[str, Any] | None = None, /) -> Value:
            function, kwargs = self._prepare(ref, args, Kind.ACTION)
            return self._invoke(function, kwargs, self._action_ctx(auth))

        return ActionCtx(auth=auth, run_query=run_query, run_mutation=run_mutation, run_action=run_action)


def _check_kind(function: RegisteredFunction, kind: Kind) -> None:
    actual = function.definition.kind
    if actual is not kind:
        raise WrongFunctionKindError(
            f"Trying to execute {function.path} as {kind.label}, but it is defined as {actual.label}."
        )


def _as_args(args: Any) -> Mapping[str, Value]:
    if args is None:
        return {}
    if not isinstance(args, Mapping) or not all(isinstance(key, str) for key in args):
        raise ArgumentValidationError(
            f"Arguments must be an object with string keys, got {type(args).__name__}; pass {{}} for no arguments"
        )
    return args

"""``Executor``: run a function by path with validated arguments, in the right kind of transaction.

- A query runs in one read transaction; ``ctx.run_query`` inside it uses the same reader.
- A mutation runs in one write transaction, which the database retries on conflict: **the handler may run several
  times**, so it must be deterministic and touch nothing but ``ctx.db`` (side effects belong in actions).
  ``ctx.run_query`` inside it reads the same transaction through a read-only view; ``ctx.run_mutation`` runs in a
  savepoint, so an exception undoes only the nested call's writes and the caller may catch it.
- An action runs outside any transaction; its ``run_query`` / ``run_mutation`` each start their own.
- A query or mutation whose ``auth`` can answer provisionally (:class:`~authlib_core.auth.identity.ProvisionalAuth`:
  a session this instance confirmed before, read again in the background) runs at once; its result, error, writes
  and printed or logged lines (for any handler, its loggers' own included) leave only after that read confirmed the
  identity, else the run is discarded and the call runs again with the real one. Actions never run provisionally.

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
from authlib_core.functions.logs import hold_output
from authlib_core.functions.ports import read_only
from authlib_core.functions.scheduler import Scheduler
from authlib_core.values import ValidatorMismatch, to_value

if TYPE_CHECKING:
    from collections.abc import Callable

    from authlib_core.auth.identity import Auth, ProvisionalAuth
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
        if function.definition.kind is Kind.ACTION:  # side effects as it runs: never on a provisional identity
            return self._invoke(function, kwargs, self._action_ctx(auth))
        speculative = getattr(auth, "speculative", None)
        provisional: ProvisionalAuth | None = speculative() if speculative is not None else None
        if provisional is not None:
            # The session is read while the function runs; nothing of the run leaves before that read confirmed
            # the identity it was given (docs/performance.md, "Round trips on AWS").
            # A discarded run must leave the arguments as they came (a mutation copies them per attempt anyway).
            first = copy.deepcopy(kwargs) if function.definition.kind is Kind.QUERY else kwargs
            with hold_output() as held:
                try:
                    return self._transaction(function, first, provisional, provisional)
                except _UnconfirmedError as unconfirmed:
                    held.discard()
                    auth = unconfirmed.auth
        return self._transaction(function, kwargs, auth, None)

    def _transaction(
        self, function: RegisteredFunction, kwargs: dict[str, Any], auth: Auth, provisional: ProvisionalAuth | None
    ) -> Value:
        """Run a query or mutation in its transaction; with ``provisional``, settle it before the result or any write
        leaves the transaction (a mutation commits only after)."""
        if function.definition.kind is Kind.QUERY:
            return self.database.run_query(
                lambda reader: _settled(
                    provisional, lambda: self._invoke(function, kwargs, self._query_ctx(reader, auth))
                )
            )
        # The database may call this more than once (conflict retries): give each attempt fresh arguments.
        return self.database.run_mutation(
            lambda writer: _settled(
                provisional, lambda: self._invoke(function, copy.deepcopy(kwargs), self._mutation_ctx(writer, auth))
            )
        )

    def call_in_transaction(self, writer: DatabaseWriter, path: str, args: Mapping[str, Value], *, auth: Auth) -> Value:
        """Run the mutation at ``path`` inside ``writer``'s transaction (the scheduler's runner does this, so a job's
        run and its state change commit together). Arguments are validated now; internal mutations are allowed.

        Raises:
            FunctionNotFoundError, WrongFunctionKindError, ArgumentValidationError: as :meth:`call`.
        """
        function = self.registry.lookup(path, public_only=False)
        _check_kind(function, Kind.MUTATION)
        kwargs = function.definition.bind_arguments(_as_args(args), function.path)
        return self._invoke(function, kwargs, self._mutation_ctx(writer, auth))

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

    def _mutation_ctx(self, writer: DatabaseWriter, auth: Auth, scheduler: Scheduler | None = None) -> MutationCtx:
        reader = read_only(writer)
        # One scheduler per transaction (nested run_mutation shares it): its job count is the transaction's.
        jobs = scheduler or Scheduler.in_transaction(self.registry, writer, self.database)

        def run_query(ref: FunctionRef, args: Mapping[str, Any] | None = None, /) -> Value:
            function, kwargs = self._prepare(ref, args, Kind.QUERY)
            return self._invoke(function, kwargs, self._query_ctx(reader, auth))

        def run_mutation(ref: FunctionRef, args: Mapping[str, Any] | None = None, /) -> Value:
            function, kwargs = self._prepare(ref, args, Kind.MUTATION)
            with writer.savepoint():
                return self._invoke(function, kwargs, self._mutation_ctx(writer, auth, jobs))

        return MutationCtx(db=writer, auth=auth, run_query=run_query, run_mutation=run_mutation, scheduler=jobs)

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

        return ActionCtx(
            auth=auth,
            run_query=run_query,
            run_mutation=run_mutation,
            run_action=run_action,
            scheduler=Scheduler.immediate(self.registry, self.database),
        )


class _UnconfirmedError(BaseException):
    """A provisional identity was not confirmed: the run is discarded and the call runs again with ``auth``.

    A ``BaseException``: it must pass the database's ``except Exception`` (which would validate or retry the
    transaction) and end it without a commit.
    """

    def __init__(self, auth: Auth) -> None:
        super().__init__("the provisional identity was not confirmed")
        self.auth = auth


def _settled(provisional: ProvisionalAuth | None, run: Callable[[], Value]) -> Value:
    """``run()``'s result or exception, once ``provisional`` (when given) has confirmed the identity it answered."""
    if provisional is None:
        return run()
    try:
        value = run()
    except Exception:
        _confirm(provisional)
        raise
    _confirm(provisional)
    return value


def _confirm(provisional: ProvisionalAuth) -> None:
    redo = provisional.settle()
    if redo is not None:
        raise _UnconfirmedError(redo)


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

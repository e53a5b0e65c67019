"""``FunctionDefinition``: what ``@query`` and friends return."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

from authlib_core.functions.kinds import Kind, Visibility

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from authlib_core.functions.arguments import ArgumentBinder
    from authlib_core.values import Validator, Value

__all__ = ["FunctionDefinition"]

P = ParamSpec("P")
R = TypeVar("R", covariant=True)


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class FunctionDefinition(Generic[P, R]):
    """A handler tagged as a query, mutation or action; the loader registers it under its path.

    It stays callable: ``fn(ctx, **args)`` calls the handler directly, without validation or a transaction.
    Definitions compare by identity.

    Example:
        >>> from authlib_core import query
        >>> @query
        ... def ping(ctx):
        ...     return "pong"
        >>> ping.kind, ping.visibility, ping(None)
        (<Kind.QUERY: 'query'>, <Visibility.PUBLIC: 'public'>, 'pong')

    Common mistake: calling another function's definition directly from a handler to "run" it. That skips argument
    validation and, for a mutation inside a query, the read-only guarantee. Use ``ctx.run_query(fn, {...})``, or
    share a plain helper function.
    """

    kind: Kind
    visibility: Visibility
    handler: Callable[P, R]
    #: The object validator built from ``args=``, or ``None`` when arguments come from type hints (or none).
    args: Validator | None
    #: The validator of the result (``returns=``), or ``None``.
    returns: Validator | None
    #: The pydantic model built from the type hints when ``args=`` is absent, else ``None``.
    args_model: Any
    #: The module the decorator ran in; the loader registers the function there and nowhere else.
    module: str
    binder: ArgumentBinder = dataclasses.field(repr=False)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.handler(*args, **kwargs)

    @property
    def name(self) -> str:
        """The handler's ``__name__``."""
        return str(getattr(self.handler, "__name__", "<handler>"))

    @property
    def is_public(self) -> bool:
        """``True`` for functions clients may call."""
        return self.visibility is Visibility.PUBLIC

    def bind_arguments(self, args: Mapping[str, Value], path: str) -> dict[str, Any]:
        """Validate ``args`` and return the handler's keyword arguments (``path`` names the function in errors).

        Raises:
            ArgumentValidationError: an argument is missing, unexpected or of the wrong type.
        """
        return self.binder.bind(args, path)

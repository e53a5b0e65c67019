"""Turning a call's arguments into the keyword arguments of a handler, validated.

Three binders, chosen once when the function is defined:

- :class:`ValidatorArguments` when ``args=`` is given (Convex ``v`` validators);
- :class:`ModelArguments` when it is not and the handler has parameters besides ``ctx``: a pydantic model built
  from the type hints (pydantic is imported only here, and only then, to keep Lambda cold starts short);
- :class:`NoArguments` when the handler takes only ``ctx``: the call must pass ``{}``.

Every problem with the handler's signature is found at definition time and raised as
:class:`~authlib_core.errors.FunctionLoadError` naming the file and the function.
"""

from __future__ import annotations

import abc
import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Any

from authlib_core.display import display_value
from authlib_core.errors import ArgumentValidationError, FunctionLoadError
from authlib_core.values import ValidatorMismatch, as_object_validator

if typing.TYPE_CHECKING:
    from authlib_core.values import Validator, Value

__all__ = [
    "ArgumentBinder",
    "ModelArguments",
    "NoArguments",
    "ValidatorArguments",
    "build_binder",
    "describe_handler",
    "refuse_async",
]

ArgsSpec = typing.Union[Mapping[str, "Validator"], "Validator"]


class ArgumentBinder(abc.ABC):
    """Validates the arguments of a call and returns the keyword arguments to pass to the handler."""

    @abc.abstractmethod
    def bind(self, args: Mapping[str, Value], function: str) -> dict[str, Any]:
        """Validate ``args`` for the function at path ``function`` (used in messages).

        Raises:
            ArgumentValidationError: an argument is missing, unexpected or of the wrong type; the message names it.
        """


class NoArguments(ArgumentBinder):
    """The handler takes only ``ctx``: the call must pass no arguments."""

    def bind(self, args: Mapping[str, Value], function: str) -> dict[str, Any]:
        if args:
            names = ", ".join(f"`{name}`" for name in sorted(args))
            raise ArgumentValidationError(
                f"{function} takes no arguments, but was called with {names}. "
                "Add parameters to the handler (or args=) to accept them."
            )
        return {}


class ValidatorArguments(ArgumentBinder):
    """Arguments checked by the object validator built from ``args=``."""

    def __init__(self, validator: Validator) -> None:
        self.validator = validator

    def bind(self, args: Mapping[str, Value], function: str) -> dict[str, Any]:
        try:
            validated = self.validator.validate(dict(args), "")
        except ValidatorMismatch as exc:
            raise ArgumentValidationError(f"{function}: {_describe_mismatch(exc)}") from exc
        if not isinstance(validated, dict):  # an object validator always returns a dict
            raise TypeError(f"{self.validator!r} returned {type(validated).__name__}, not a dict")
        return validated


class ModelArguments(ArgumentBinder):
    """Arguments checked by a pydantic model built from the handler's type hints (lax mode, extra fields rejected)."""

    def __init__(self, model: Any, names: Mapping[str, str]) -> None:
        #: The pydantic model class; its field ``p0`` has alias = the first parameter's name, and so on.
        self.model = model
        self._names = dict(names)

    def bind(self, args: Mapping[str, Value], function: str) -> dict[str, Any]:
        import pydantic

        try:
            instance = self.model.model_validate(dict(args))
        except pydantic.ValidationError as exc:
            raise ArgumentValidationError(f"{function}: {_describe_pydantic(exc)}") from exc
        return {name: getattr(instance, internal) for internal, name in self._names.items()}


def describe_handler(handler: Callable[..., Any]) -> str:
    """``"path/to/file.py: function `name`"`` for error messages."""
    code = getattr(handler, "__code__", None)
    where = code.co_filename if code is not None else getattr(handler, "__module__", "<unknown module>")
    return f"{where}: function `{getattr(handler, '__qualname__', repr(handler))}`"


def refuse_async(handler: Callable[..., Any]) -> None:
    """Refuse an ``async def`` handler where it is defined, not with a puzzling coroutine result on every call.

    Example:
        >>> async def add(ctx, text): ...
        >>> refuse_async(add)
        Traceback (most recent call last):
        ...
        authlib_core.errors.FunctionLoadError: ...: function `add` is `async def`; handlers here are plain functions...

    Raises:
        FunctionLoadError: the handler is a coroutine function or an async generator function.
    """
    if inspect.iscoroutinefunction(handler) or inspect.isasyncgenfunction(handler):
        name = getattr(handler, "__name__", "handler")
        raise FunctionLoadError(
            f"{describe_handler(handler)} is `async def`; handlers here are plain functions (ctx.db and ctx.run_* "
            f"return their results directly, there is nothing to await): write `def {name}(ctx, ...)` and drop the "
            "`await`s"
        )


def build_binder(handler: Callable[..., Any], args: ArgsSpec | None) -> ArgumentBinder:
    """Check ``handler``'s signature against ``args=`` (or its type hints) and build its binder.

    Raises:
        FunctionLoadError: the signature cannot receive the declared arguments; the message says how to fix it.
    """
    where = describe_handler(handler)
    if not callable(handler):
        raise FunctionLoadError(f"{where}: the decorated object is not callable")
    refuse_async(handler)
    try:
        signature = inspect.signature(handler)
    except (TypeError, ValueError) as exc:
        raise FunctionLoadError(f"{where}: cannot read the handler's signature ({exc})") from exc
    params = list(signature.parameters.values())
    if not params or params[0].kind not in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
        raise FunctionLoadError(f"{where}: the handler must take `ctx` as its first positional parameter")
    named: list[inspect.Parameter] = []
    takes_var_keyword = False
    for param in params[1:]:
        if param.kind is param.VAR_POSITIONAL:
            raise FunctionLoadError(
                f"{where}: `*{param.name}` cannot receive arguments; arguments arrive as keywords after ctx"
            )
        if param.kind is param.POSITIONAL_ONLY:
            raise FunctionLoadError(
                f"{where}: parameter `{param.name}` is positional-only; arguments arrive as keywords after ctx"
            )
        if param.kind is param.VAR_KEYWORD:
            takes_var_keyword = True
        else:
            named.append(param)
    if args is not None:
        return _validator_binder(where, args, named, takes_var_keyword)
    if takes_var_keyword:
        raise FunctionLoadError(
            f"{where}: `**kwargs` needs args= to say which arguments are accepted; "
            "declare args={...} or list the parameters with type hints"
        )
    if not named:
        return NoArguments()
    return _model_binder(where, handler, named)


def _validator_binder(
    where: str, args: ArgsSpec, named: list[inspect.Parameter], takes_var_keyword: bool
) -> ValidatorArguments:
    try:
        validator = as_object_validator(args)
    except Exception as exc:
        raise FunctionLoadError(
            f"{where}: args= must be a dict of validators or v.object(...) ({type(exc).__name__}: {exc})"
        ) from exc
    fields: Mapping[str, Validator] = validator.fields
    declared = set(fields)
    for param in named:
        if param.name not in declared:
            raise FunctionLoadError(
                f"{where}: parameter `{param.name}` is not declared in args=; "
                f'add "{param.name}": v.<type>() to args= or remove the parameter{_convex_args_hint(param.name)}'
            )
        if _is_optional_field(fields[param.name]) and param.default is param.empty:
            raise FunctionLoadError(
                f"{where}: argument `{param.name}` is v.optional(...) in args=, so the handler's parameter needs "
                f"a default (for example `{param.name}=None`)"
            )
    missing = sorted(declared - {param.name for param in named})
    if missing and not takes_var_keyword:
        names = ", ".join(f"`{name}`" for name in missing)
        raise FunctionLoadError(
            f"{where}: args= declares {names} but the handler has no parameter of that name; "
            "add the parameters (or `**kwargs`) or remove them from args="
        )
    return ValidatorArguments(validator)


def _convex_args_hint(name: str) -> str:
    """For a parameter named like Convex's ``handler(ctx, args)``: how arguments arrive here instead."""
    if name != "args":
        return ""
    return " (arguments arrive one keyword parameter each, `def f(ctx, text)`, not as Convex's `args` object)"


def _is_optional_field(validator: Validator) -> bool:
    return getattr(validator, "kind", None) == "optional" or bool(getattr(validator, "is_optional", False))


def _model_binder(where: str, handler: Callable[..., Any], named: list[inspect.Parameter]) -> ModelArguments:
    try:
        hints = typing.get_type_hints(handler, include_extras=True)
    except Exception as exc:
        raise FunctionLoadError(
            f"{where}: cannot resolve the parameter type hints ({type(exc).__name__}: {exc})"
        ) from exc
    unannotated = [param.name for param in named if param.name not in hints]
    if unannotated:
        listed = ", ".join(f"`{name}`" for name in unannotated)
        hint = _convex_args_hint(unannotated[0]) if len(unannotated) == 1 else ""
        raise FunctionLoadError(
            f"{where}: parameter {listed} has no type hint; annotate it (for example `text: str`) "
            f"or declare the arguments with args={{...}}{hint}"
        )
    import pydantic

    fields: dict[str, Any] = {}
    names: dict[str, str] = {}
    for index, param in enumerate(named):
        internal = f"p{index}"
        names[internal] = param.name
        default = ... if param.default is param.empty else param.default
        fields[internal] = (hints[param.name], pydantic.Field(default, alias=param.name))
    config = pydantic.ConfigDict(extra="forbid", arbitrary_types_allowed=True, protected_namespaces=())
    try:
        model = pydantic.create_model(f"{getattr(handler, '__name__', 'handler')}_args", __config__=config, **fields)
    except Exception as exc:
        raise FunctionLoadError(
            f"{where}: the parameter type hints cannot validate arguments ({type(exc).__name__}: {exc}); "
            "use hints pydantic understands or declare args={...}"
        ) from exc
    return ModelArguments(model, names)


def _describe_mismatch(exc: ValidatorMismatch) -> str:
    path = str(exc.path).lstrip(".")
    field = path.split(".", 1)[0].split("[", 1)[0]
    if not field:
        return f"arguments are invalid: {exc.message}"
    at = f" (at `{path}`)" if path != field else ""
    return f"argument `{field}` is invalid{at}: {exc.message}"


def _describe_pydantic(exc: Any) -> str:
    error = exc.errors()[0]
    loc = [str(part) for part in error.get("loc", ())]
    if not loc:
        return f"arguments are invalid: {error.get('msg')}"
    field = loc[0]
    path = ".".join(loc)
    at = f" (at `{path}`)" if len(loc) > 1 else ""
    if error.get("type") == "missing":
        return f"argument `{field}` is required but missing{at}"
    if error.get("type") == "extra_forbidden":
        return f"unexpected argument `{field}`; the handler has no parameter of that name"
    return f"argument `{field}` is invalid{at}: {error.get('msg')}; got {display_value(error.get('input'), limit=120)}"

"""The one place that turns exceptions into HTTP responses.

======================================  ======  ==============================================================
Exception                               Status  Body
======================================  ======  ==============================================================
``ConvexError(data)``                   200     ``{"status":"error","errorMessage","errorData"}`` (data in the
                                                request's format)
``FunctionError`` (not found, wrong     200     ``{"status":"error","errorMessage"}``
kind, argument validation, limits...)
``BadRequestError`` (malformed body,    400     ``{"code","message"}`` (``BadJsonBody``, ``BadFormat``, ...)
bad format, oversized body)
``KindNotAllowedError`` (a kind this    403     ``{"code":"Forbidden","message"}``
deployment does not serve)
``ConflictError``                       503     ``{"code":"OptimisticConcurrencyControlFailure","message"}``
``StorageUnavailableError``             503     ``{"code":"StorageUnavailable","message"}``
anything else                           200     ``{"status":"error","errorMessage":"[Request ID: <id>] Server
                                                Error"}``; the stack goes to the log, nothing to the client
======================================  ======  ==============================================================

With ``Settings.expose_errors`` (the dev server turns it on; Lambda never does) the caller learns what went wrong, as
from a Convex dev deployment: an uncaught exception's ``errorMessage`` adds ``Uncaught <Type>: <message>`` and one
``    at <function> (<file>:<line>)`` line per frame of the functions folder, and a missing function's adds close
matches and the functions of its module. The readable traceback goes to :attr:`ErrorOutcome.trace` (the dev server
prints it) instead of the structured log.
"""

from __future__ import annotations

import dataclasses
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from authlib_core.errors import (
    ArgumentValidationError,
    AuthlibError,
    ConflictError,
    ConvexError,
    FunctionError,
    FunctionNotFoundError,
    StorageUnavailableError,
    WrongFunctionKindError,
)
from authlib_core.http.wire import BadRequestError, error_body
from authlib_core.values import to_value

if TYPE_CHECKING:
    from types import TracebackType

    from aws_lambda_powertools import Logger

    from authlib_core.values import Format

__all__ = ["ErrorOutcome", "KindNotAllowedError", "describe_error", "server_error_message", "user_traceback"]


class KindNotAllowedError(AuthlibError):
    """A call of a function kind this deployment refuses (``AUTHLIB_ALLOWED_KINDS``): HTTP 403, nothing runs."""

    code = "Forbidden"

    def __init__(self, path: str, kind: str, allowed: frozenset[str]) -> None:
        super().__init__(
            f"{path} is a {kind}, and this deployment serves only {', '.join(sorted(allowed))} functions "
            f"(AUTHLIB_ALLOWED_KINDS={','.join(sorted(allowed))}); send {kind}s to the endpoint that serves them."
        )


@dataclasses.dataclass(frozen=True, slots=True)
class ErrorOutcome:
    """What an exception becomes: status, JSON body and the outcome label logged for the call."""

    status: int
    body: dict[str, Any]
    outcome: str  # "error" (function error), "rejected" (4xx), "unavailable" (503), "server_error"
    #: The readable traceback of an uncaught exception when errors are exposed (printed by the dev server).
    trace: str | None = None


def server_error_message(request_id: str) -> str:
    """Convex's opaque message: ``[Request ID: <id>] Server Error``."""
    return f"[Request ID: {request_id}] Server Error"


def describe_error(
    exc: Exception, *, request_id: str, fmt: Format, logger: Logger, source: Path | None = None
) -> ErrorOutcome:
    """Map ``exc`` to its response; unexpected exceptions are logged with their stack (call inside ``except``).

    ``source`` is the functions folder when errors are exposed (``Settings.expose_errors``), else ``None``: then
    an uncaught exception says what it was and where in ``source`` it was raised (see the module docstring).
    """
    if isinstance(exc, BadRequestError):
        return ErrorOutcome(400, {"code": exc.code, "message": exc.message}, "rejected")
    if isinstance(exc, KindNotAllowedError):
        return ErrorOutcome(403, {"code": "Forbidden", "message": exc.message}, "rejected")
    if isinstance(exc, ConflictError | StorageUnavailableError):
        logger.warning(
            "storage unavailable or conflicting",
            extra={"error_code": exc.code, "error_message": exc.message, "error_detail": exc.detail},
        )
        return ErrorOutcome(503, {"code": exc.code, "message": exc.message}, "unavailable")
    prefix = server_error_message(request_id)
    try:
        if isinstance(exc, ConvexError):
            data = to_value(exc.data)
            body = error_body(f"{prefix}\nUncaught ConvexError: {exc.message}", fmt, data=data, has_data=True)
            return ErrorOutcome(200, body, "error")
        if isinstance(exc, FunctionNotFoundError):  # Convex's own wording, without the request-id prefix
            return ErrorOutcome(200, error_body(exc.message if source else exc.public_message, fmt), "error")
        if isinstance(exc, WrongFunctionKindError):
            return ErrorOutcome(200, error_body(exc.message, fmt), "error")
        if isinstance(exc, ArgumentValidationError):
            return ErrorOutcome(200, error_body(f"{prefix}\nArgumentValidationError: {exc.message}", fmt), "error")
        if isinstance(exc, FunctionError):
            return ErrorOutcome(200, error_body(f"{prefix}\nUncaught {exc.code}: {exc.message}", fmt), "error")
    except Exception:  # the error itself could not be encoded (e.g. ConvexError data that is not a value)
        logger.exception("could not encode a function error")
        return ErrorOutcome(200, error_body(prefix, fmt), "server_error")
    if source is None:
        logger.exception("unexpected exception in a function call")
        return ErrorOutcome(200, error_body(prefix, fmt), "server_error")
    # Convex's JsError text: the message line, then one line per frame, each ending with a newline.
    text = str(exc)
    lines = [prefix, f"Uncaught {type(exc).__name__}{': ' + text if text else ''}"]
    root = source.resolve().parent
    for frame in _user_frames(exc.__traceback__, source):
        lines.append(f"    at {frame.name} ({_relative(Path(frame.filename), root)}:{frame.lineno})")
    message = "\n".join(lines) + "\n"
    return ErrorOutcome(200, error_body(message, fmt), "server_error", trace=user_traceback(exc, source))


def user_traceback(exc: BaseException, source: Path) -> str:
    """The Python traceback of ``exc``, starting at the first frame inside ``source`` (the library's own calling
    frames above it are left out); the whole traceback when no frame is inside ``source``.

    Example:
        >>> print(user_traceback(exc, Path("functions")))  # doctest: +SKIP
        Traceback (most recent call last):
          File "/app/functions/todos.py", line 12, in create
            raise ValueError("boom")
        ValueError: boom
    """
    tb = exc.__traceback__
    start = tb
    while start is not None and not _inside(start.tb_frame.f_code.co_filename, source):
        start = start.tb_next
    shown = start if start is not None else tb
    return "".join(traceback.format_exception(type(exc), exc, shown)).rstrip("\n")


def _user_frames(tb: TracebackType | None, source: Path) -> list[traceback.FrameSummary]:
    return [frame for frame in traceback.extract_tb(tb) if _inside(frame.filename, source)]


def _inside(filename: str, source: Path) -> bool:
    try:
        return Path(filename).resolve().is_relative_to(source.resolve())
    except (OSError, ValueError):
        return False


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()

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
"""

from __future__ import annotations

import dataclasses
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
    from aws_lambda_powertools import Logger

    from authlib_core.values import Format

__all__ = ["ErrorOutcome", "KindNotAllowedError", "describe_error", "server_error_message"]

# Function errors whose message is Convex's own wording, sent without the request-id prefix.
_VERBATIM = (FunctionNotFoundError, WrongFunctionKindError)


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


def server_error_message(request_id: str) -> str:
    """Convex's opaque message: ``[Request ID: <id>] Server Error``."""
    return f"[Request ID: {request_id}] Server Error"


def describe_error(exc: Exception, *, request_id: str, fmt: Format, logger: Logger) -> ErrorOutcome:
    """Map ``exc`` to its response; unexpected exceptions are logged with their stack (call inside ``except``)."""
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
        if isinstance(exc, _VERBATIM):
            return ErrorOutcome(200, error_body(exc.message, fmt), "error")
        if isinstance(exc, ArgumentValidationError):
            return ErrorOutcome(200, error_body(f"{prefix}\nArgumentValidationError: {exc.message}", fmt), "error")
        if isinstance(exc, FunctionError):
            return ErrorOutcome(200, error_body(f"{prefix}\nUncaught {exc.code}: {exc.message}", fmt), "error")
    except Exception:  # the error itself could not be encoded (e.g. ConvexError data that is not a value)
        logger.exception("could not encode a function error")
        return ErrorOutcome(200, error_body(prefix, fmt), "server_error")
    logger.exception("unexpected exception in a function call")
    return ErrorOutcome(200, error_body(prefix, fmt), "server_error")

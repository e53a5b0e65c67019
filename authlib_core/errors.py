"""Every exception authlib-core raises, in one tree.

::

    AuthlibError                      base class; never raised itself
    ├── ConvexError(data)             raised on purpose by your functions; ``data`` reaches the client
    ├── FunctionError                 a function call failed in a way the caller caused or should see
    │   ├── ArgumentValidationError   arguments do not match ``args=`` / the type hints
    │   ├── ReturnsValidationError    the result does not match ``returns=``
    │   ├── FunctionNotFoundError     no public function at that path (or it is internal)
    │   ├── WrongFunctionKindError    a query called as a mutation, and so on
    │   ├── InvalidValueError         a value Convex cannot represent (``$`` keys, int out of range, ...)
    │   ├── SchemaValidationError     a document does not match its table's validator
    │   ├── InvalidQueryError         an index range or filter that breaks Convex's rules
    │   ├── InvalidCursorError        a pagination cursor that is forged or belongs to another query
    │   ├── DocumentNotFoundError     patch/replace/delete of an id that does not exist
    │   └── LimitExceededError        a documented limit (document size, reads, writes, ...) was hit
    ├── AuthTokenError                HTTP 401: a bearer JWT that is invalid or from no configured provider
    ├── SystemFailure                 HTTP 503: ``message`` for the client, ``detail`` for the log only
    │   ├── ConflictError             a mutation kept conflicting with concurrent writes
    │   ├── StorageUnavailableError   the storage engine failed for a reason outside the caller
    │   └── AuthProviderUnavailableError  an identity provider's keys could not be fetched
    ├── FunctionLoadError             the functions folder cannot be loaded (names the file and function)
    ├── SchemaDefinitionError         ``define_schema`` / ``define_table`` was given something invalid
    └── ConfigError                   the settings or environment are invalid

``FunctionError`` and ``ConvexError`` are *function errors*: on the wire they become HTTP 200 with
``{"status": "error", "errorMessage": ...}``. ``ConflictError`` and ``StorageUnavailableError`` are
*system errors* (``{"code", "message"}`` with status 503). Any other exception is opaque: the caller sees
only ``Server Error`` and a request id; the full stack goes to the log.

The HTTP layer is the only place that turns these into status codes, using :attr:`AuthlibError.code`.

Example:
    >>> from authlib_core import ConvexError
    >>> try:
    ...     raise ConvexError({"code": "UNAUTHENTICATED"})
    ... except ConvexError as exc:
    ...     exc.data
    {'code': 'UNAUTHENTICATED'}
"""

from __future__ import annotations

from typing import Any

from authlib_core.display import display_value

__all__ = [
    "ArgumentValidationError",
    "AuthProviderUnavailableError",
    "AuthTokenError",
    "AuthlibError",
    "BudgetSpentError",
    "ConfigError",
    "ConflictError",
    "ConvexError",
    "DocumentNotFoundError",
    "FunctionError",
    "FunctionLoadError",
    "FunctionNotFoundError",
    "InvalidCursorError",
    "InvalidQueryError",
    "InvalidValueError",
    "LimitExceededError",
    "ReturnsValidationError",
    "SchemaDefinitionError",
    "SchemaValidationError",
    "StorageUnavailableError",
    "ThrottledWriteError",
    "WrongFunctionKindError",
]


class AuthlibError(Exception):
    """Base class of every error the library raises.

    ``code`` is a stable, machine-readable name (Convex's error code where one exists).
    """

    code: str = "AuthlibError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ConvexError(AuthlibError):
    """The error your functions raise on purpose; its ``data`` reaches the client as ``errorData``.

    ``data`` may be any Convex value: a string, a number, a dict, a list, ... The message is ``data`` itself when
    it is a string, else its JSON as Convex prints it (``{"code":"TOO_LONG","max":"128n"}`` for
    ``{"code": "TOO_LONG", "max": Int64(128)}``).

    Example:
        >>> from authlib_core import ConvexError, mutation
        >>> @mutation
        ... def send(ctx, body: str):
        ...     if len(body) > 128:
        ...         raise ConvexError({"code": "TOO_LONG", "max": 128})

    Common mistake: raising a plain ``Exception`` for an expected condition. The client then sees only an
    opaque ``Server Error``; use ``ConvexError`` for anything the caller should act on.
    """

    code = "ConvexError"

    def __init__(self, data: Any) -> None:
        self.data = data
        super().__init__(data if isinstance(data, str) else display_value(data))


class FunctionError(AuthlibError):
    """A function call failed in a way its caller should see (a *function error* on the wire)."""

    code = "FunctionError"


class ArgumentValidationError(FunctionError):
    """The arguments of a call do not match the function's ``args=`` validators or type hints."""

    code = "ArgumentValidationError"


class ReturnsValidationError(FunctionError):
    """A function returned a value that does not match its ``returns=`` validator."""

    code = "ReturnsValidationError"


class FunctionNotFoundError(FunctionError):
    """No public function exists at the requested path.

    ``hint`` says what to try instead (close matches, the module's functions). ``message`` includes it;
    ``public_message`` is Convex's bare sentence, what a production deployment tells any client.
    """

    code = "FunctionNotFound"

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(f"{message} {hint}" if hint else message)
        self.public_message = message
        self.hint = hint

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_not_found, (self.public_message, self.hint))


def _rebuild_not_found(message: str, hint: str) -> FunctionNotFoundError:
    return FunctionNotFoundError(message, hint=hint)


class WrongFunctionKindError(FunctionError):
    """A function was called as the wrong kind (for example a query through ``/api/mutation``)."""

    code = "WrongFunctionKind"


class InvalidValueError(FunctionError):
    """A value that Convex cannot represent: a ``$``-prefixed key, an int64 out of range, a lone surrogate..."""

    code = "InvalidValue"


class SchemaValidationError(FunctionError):
    """A document written to a table does not match the table's validator in the schema."""

    code = "SchemaValidationError"


class InvalidQueryError(FunctionError):
    """A query breaks Convex's rules (an index range out of order, an unknown index, a reused query, ...)."""

    code = "InvalidQuery"


class InvalidCursorError(FunctionError):
    """A pagination cursor was forged, truncated or belongs to a different query."""

    code = "InvalidCursor"


class DocumentNotFoundError(FunctionError):
    """``patch``, ``replace`` or ``delete`` was given the id of a document that does not exist."""

    code = "DocumentNotFound"


class LimitExceededError(FunctionError):
    """A documented limit was exceeded; nothing was written."""

    code = "LimitExceeded"


class SystemFailure(AuthlibError):
    """Base of the two *system errors* (HTTP 503): ``message`` goes to the client, ``detail`` only to the log.

    ``message`` says what happened and that a retry is safe, without internals; ``detail`` names what the
    operator needs (document ids, table names, index shards, endpoints, the native error) and never a secret.

    Example:
        >>> error = StorageUnavailableError("Storage timed out; retry.", detail="GetItem on table 'app-docs'")
        >>> (error.message, error.detail)
        ('Storage timed out; retry.', "GetItem on table 'app-docs'")
    """

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class ConflictError(SystemFailure):
    """A mutation conflicted with concurrent writes on every retry. Maps to HTTP 503.

    The mutation made no change. Retrying later usually succeeds; if it keeps happening, the function
    reads a "hot" document or index range that many mutations write (see docs/database.md).
    """

    code = "OptimisticConcurrencyControlFailure"


class StorageUnavailableError(SystemFailure):
    """The storage engine failed for a reason outside the caller (throttling, network). Maps to HTTP 503.

    ``operator_message`` says the same to someone at a terminal: what failed (no credentials, a missing table,
    access denied) and what to set or check. Nothing the request asked for was written, so the client may retry.
    (The one exception: a DynamoDB commit whose response was lost and whose outcome could not be settled before the
    request's time budget ran out; the message then says so. See docs/dynamodb.md, "Commit outcomes".)
    """

    code = "StorageUnavailable"

    def __init__(self, message: str, *, detail: str = "", operator_message: str = "") -> None:
        super().__init__(message, detail=detail)
        #: What failed and what to do, for someone at a terminal (the CLI prints it in place of ``message``, which
        #: is worded for an HTTP client); empty when there is nothing more specific than ``message``.
        self.operator_message = operator_message


class BudgetSpentError(StorageUnavailableError):
    """What was left of the request's time budget could not cover one more storage call, so it was not sent.
    Maps to HTTP 503.

    Nothing of that call reached the store. When it was a retry of a mutation that had conflicted (or been
    throttled), the transaction layer reports that conflict instead: the store answered every call, the retries
    simply ran out of time.

    Example:
        >>> error = BudgetSpentError("The database did not answer within this request's time budget.")
        >>> (error.code, isinstance(error, StorageUnavailableError))
        ('StorageUnavailable', True)
    """


class ThrottledWriteError(StorageUnavailableError):
    """The storage engine refused a commit for throughput before applying any of it. Maps to HTTP 503.

    Nothing was written, so the transaction layer runs the whole mutation again with backoff, as for a conflict;
    only when its attempts or the request's time budget run out does the client get this error
    (``StorageUnavailable``: retry later).

    Example:
        >>> error = ThrottledWriteError("The database is throttling writes right now; retry.")
        >>> (error.code, isinstance(error, StorageUnavailableError))
        ('StorageUnavailable', True)
    """


class AuthProviderUnavailableError(SystemFailure):
    """An identity provider's discovery document or keys (JWKS) could not be fetched. Maps to HTTP 503.

    The token may well be valid: nothing was decided about it, so the client may retry. ``detail`` (log only) names
    the URL and the failure.
    """

    code = "AuthProviderUnavailable"


class AuthTokenError(AuthlibError):
    """An ``Authorization: Bearer <JWT>`` that cannot be used: HTTP 401 ``{"code", "message"}``; nothing runs.

    ``code`` is Convex's: ``InvalidAuthHeader`` (malformed, badly signed, expired, wrong claims) or
    ``NoAuthProvider`` (no provider of ``functions/auth_config.py`` has the token's issuer and audience). The
    message says what is wrong with the token and never includes key material or server internals.

    Example:
        >>> AuthTokenError("The token has expired.").code
        'InvalidAuthHeader'
    """

    code = "InvalidAuthHeader"

    def __init__(self, message: str, *, code: str = "InvalidAuthHeader") -> None:
        super().__init__(message)
        self.code = code


class FunctionLoadError(AuthlibError):
    """The functions folder could not be loaded; the message names the file and the function."""

    code = "FunctionLoadError"


class SchemaDefinitionError(AuthlibError):
    """``define_schema`` or ``define_table`` was given an invalid table, field or index definition."""

    code = "SchemaDefinitionError"


class ConfigError(AuthlibError):
    """The settings (environment variables or arguments) are invalid or incomplete."""

    code = "ConfigError"

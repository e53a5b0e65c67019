"""The one translation of botocore errors into the library's errors, used by every DynamoDB store.

The documents engine, the session store and the rate-limit store all call :func:`translate` (directly or through
:func:`dynamodb_errors`); nothing native escapes them:

* ``TransactionCanceledException`` whose reasons include ``ConditionalCheckFailed`` or ``TransactionConflict``,
  and ``TransactionConflictException`` → :class:`ConflictError` (the transaction layer retries the whole
  mutation). The reasons are read from the parsed ``CancellationReasons`` and, when an SDK or emulator does not
  return them, from the bracketed list in the message (``"... [ConditionalCheckFailed, None]"``).
* ``TransactionCanceledException`` for throughput (``ThrottlingError``, ``ProvisionedThroughputExceeded``) →
  :class:`ThrottledWriteError`: nothing was written, so the transaction layer runs the mutation again with backoff.
* throttling (``ProvisionedThroughputExceededException``, ``ThrottlingException``, ...), 5xx, timeouts,
  connection errors, an exhausted time budget → :class:`StorageUnavailableError` (botocore's standard retry
  mode has already retried what it could within the budget).
* a ``ValidationException`` about sizes → :class:`LimitExceededError` (the engine checks sizes before calling,
  so this is a last line of defence).
* anything else DynamoDB refuses (a missing table, access denied, bad credentials) → StorageUnavailableError:
  the request did not cause it, and the operator must act.

The client sees a short message without internals (503, "retry"); document ids, table names, index shards,
endpoint URLs and DynamoDB's own message go to ``detail``, which only the log receives. Where the cause is the
setup (no credentials, a missing table, access denied, an endpoint that does not answer), ``operator_message``
says so for someone at a terminal, with what to set or check: the command line prints it instead of the
HTTP-oriented ``message``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from authlib_core.errors import (
    AuthlibError,
    BudgetSpentError,
    ConflictError,
    LimitExceededError,
    StorageUnavailableError,
    ThrottledWriteError,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from contextlib import AbstractContextManager
    from types import TracebackType

__all__ = [
    "CONFLICT_REASONS",
    "BudgetExhaustedError",
    "ConditionsFailedError",
    "ItemsBusyError",
    "cancellation_reasons",
    "dynamodb_errors",
    "is_condition_failure",
    "translate",
    "translate_boto_error",
    "translate_client_error",
]

#: Cancellation codes that mean "another transaction got there first": retry the mutation.
CONFLICT_REASONS = frozenset({"ConditionalCheckFailed", "TransactionConflict"})


class ItemsBusyError(ConflictError):
    """A transaction cancelled only because another transaction held some of its items (``TransactionConflict``),
    with every condition holding: sending the same actions again a few milliseconds later may apply them.

    Example:
        >>> isinstance(ItemsBusyError("busy"), ConflictError)
        True
    """


class ConditionsFailedError(ConflictError):
    """A transaction cancelled only because conditions failed (``ConditionalCheckFailed``); ``failed`` holds the
    positions of those actions in the request's ``TransactItems``.

    Example:
        >>> ConditionsFailedError("changed", failed=(2,)).failed
        (2,)
    """

    def __init__(self, message: str, *, detail: str = "", failed: tuple[int, ...] = ()) -> None:
        super().__init__(message, detail=detail)
        self.failed = failed


_THROTTLING = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
    }
)
_MESSAGE_REASONS = re.compile(r"\[([A-Za-z, ]+)\]\s*$")
_RETRY = "Nothing was changed; retry the request."
#: The terminal's ending for a passing failure (the command line runs one command, not "the request").
_AGAIN = "Nothing was changed; run the command again in a moment."

#: What to check when AWS credentials are missing or refused (the command line's wording).
_CREDENTIALS_ADVICE = (
    "set AWS_PROFILE to a profile from ~/.aws/config (after `aws sso login --profile NAME` for SSO), or "
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys); for a local "
    "emulator pass --endpoint-url (or AUTHLIB_DYNAMODB_ENDPOINT_URL)"
)
_TABLE_ADVICE = (
    "check the table name (--documents-table / AUTHLIB_DOCUMENTS_TABLE, AUTHLIB_SESSIONS_TABLE) and the region "
    "(--region / AWS_REGION) against the deployed stack, or create the tables on a local emulator with "
    "`authlib-core infra create-tables --endpoint-url URL`"
)
#: ``ClientError`` codes that mean the credentials themselves were refused.
_BAD_CREDENTIALS = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
        "ExpiredToken",
        "InvalidClientTokenId",
        "MissingAuthenticationToken",
    }
)


def _operator_message(code: str, operation: str) -> str:
    """For a terminal: what DynamoDB refused (``code``, from ``operation``) and what to do about it."""
    if code == "ResourceNotFoundException":
        return f"DynamoDB has no such table ({operation}): {_TABLE_ADVICE}."
    if code in _BAD_CREDENTIALS:
        return f"AWS did not accept the credentials in use ({code}: invalid or expired): {_CREDENTIALS_ADVICE}."
    if code in ("AccessDeniedException", "AccessDenied"):
        return (
            f"AWS denied the identity in use access to the table ({operation}; the detail names the action): set "
            "AWS_PROFILE to a profile that may use the table (`aws sts get-caller-identity` shows the one in use) "
            f"or have its IAM policy allow the action; {_TABLE_ADVICE}."
        )
    return ""


class BudgetExhaustedError(BotoCoreError):
    """Raised by the client's budget check before an attempt the request's time budget cannot cover."""

    fmt = "The request's time budget has {left:.2f}s left; a DynamoDB attempt may take {needed:.2f}s."


def cancellation_reasons(exc: ClientError) -> list[str]:
    """The per-action cancellation codes of a ``TransactionCanceledException`` (``"None"`` for fine actions)."""
    reasons = exc.response.get("CancellationReasons")
    if isinstance(reasons, list) and reasons:
        return [str(reason.get("Code", "None")) for reason in reasons]
    message = str(exc.response.get("Error", {}).get("Message", ""))
    match = _MESSAGE_REASONS.search(message)
    if match is None:
        return []
    return [part.strip() for part in match.group(1).split(",")]


def is_condition_failure(exc: BaseException) -> bool:
    """True for a single-item write refused by its ``ConditionExpression`` (an expected outcome, not an error)."""
    return (
        isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
    )


def translate_client_error(exc: ClientError, operation: str, descriptions: Sequence[str] | None = None) -> AuthlibError:
    """The library error for a ``ClientError`` raised by ``operation``.

    ``descriptions`` name the actions of a transaction in order ("document <id> of table 'users'", ...); they go
    to the error's ``detail`` (the log), so the operator sees what changed and the client does not.
    """
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    native = f"DynamoDB {operation}: {code}: {error.get('Message', '')}"
    if code == "TransactionCanceledException":
        reasons = cancellation_reasons(exc)
        conflicted = [index for index, reason in enumerate(reasons) if reason in CONFLICT_REASONS]
        if conflicted or not reasons:
            names = [descriptions[i] for i in conflicted if i < len(descriptions)] if descriptions else []
            changed = f" Changed concurrently: {'; '.join(names)}." if names else ""
            codes = sorted({reason for reason in reasons if reason != "None"})
            busy = bool(conflicted) and codes == ["TransactionConflict"]
            message = f"A concurrent write changed data this call read ({', '.join(codes) or 'cancelled'})."
            if conflicted and codes == ["ConditionalCheckFailed"]:
                return ConditionsFailedError(message, detail=native + changed, failed=tuple(conflicted))
            return (ItemsBusyError if busy else ConflictError)(message, detail=native + changed)
        if any(reason in ("ProvisionedThroughputExceeded", "ThrottlingError") for reason in reasons):
            # Nothing of a cancelled transaction was applied: the transaction layer retries it with backoff.
            throttled = "The database is throttling writes right now."
            return ThrottledWriteError(f"{throttled} {_RETRY}", detail=native, operator_message=f"{throttled} {_AGAIN}")
        if "ValidationError" in reasons:
            return LimitExceededError("DynamoDB rejected the transaction as too large or invalid; nothing was written.")
        cancelled = f"The database cancelled the write ({', '.join(reasons)})."
        return StorageUnavailableError(f"{cancelled} {_RETRY}", detail=native, operator_message=f"{cancelled} {_AGAIN}")
    if code == "TransactionConflictException":
        return ConflictError("A concurrent transaction was writing the same data.", detail=native)
    if code in _THROTTLING or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
        failing = f"The database is throttling or temporarily failing requests ({code})."
        return StorageUnavailableError(f"{failing} {_RETRY}", detail=native, operator_message=f"{failing} {_AGAIN}")
    if code == "ValidationException" and "size" in str(error.get("Message", "")).lower():
        return LimitExceededError("DynamoDB rejected the write as too large; nothing was written.")
    if code == "ResourceNotFoundException":
        native += " Create the tables first: python -m authlib_core infra create-tables [--endpoint-url URL]."
    return StorageUnavailableError(
        f"The database refused the request ({code}); the operator must fix the deployment. {_RETRY}",
        detail=native,
        operator_message=_operator_message(code, operation) or f"DynamoDB refused the request ({code}, {operation}).",
    )


def translate_boto_error(exc: BotoCoreError, operation: str) -> StorageUnavailableError:
    """A failure below the HTTP response: timeout or connection error after retries, budget spent, no credentials."""
    native = f"DynamoDB {operation}: {type(exc).__name__}: {exc}"
    operator = ""
    if isinstance(exc, BudgetExhaustedError):
        message = "The database did not answer within this request's time budget."
    elif isinstance(exc, ReadTimeoutError | ConnectTimeoutError):
        message = "The database did not answer in time (timeout after retries)."
        operator = f"DynamoDB did not answer in time ({operation}, after retries): check the network, then run again."
    elif isinstance(exc, EndpointConnectionError | ConnectionError):
        message = "The database cannot be reached (connection failed after retries)."
        operator = (
            f"DynamoDB cannot be reached ({operation}; connection failed after retries): check --endpoint-url "
            "(or AUTHLIB_DYNAMODB_ENDPOINT_URL) and that the emulator there is running, or --region (AWS_REGION) "
            "and the network."
        )
    elif isinstance(exc, NoCredentialsError | PartialCredentialsError):
        message = "The server has no credentials for the database; the operator must fix the deployment."
        operator = f"no AWS credentials were found, so DynamoDB could not be called: {_CREDENTIALS_ADVICE}."
    else:
        message = "The database request failed before an answer arrived."
    kind = BudgetSpentError if isinstance(exc, BudgetExhaustedError) else StorageUnavailableError
    return kind(f"{message} {_RETRY}", detail=native, operator_message=operator or f"{message} {_AGAIN}")


def translate(exc: BaseException, operation: str, descriptions: Sequence[str] | None = None) -> AuthlibError | None:
    """The library error for any botocore exception, or None when ``exc`` is not one."""
    if isinstance(exc, ClientError):
        return translate_client_error(exc, operation, descriptions)
    if isinstance(exc, BotoCoreError):
        return translate_boto_error(exc, operation)
    return None


class _Translating:
    """The context manager :func:`dynamodb_errors` returns (a class: no generator per DynamoDB call)."""

    __slots__ = ("descriptions", "operation")

    def __init__(self, operation: str, descriptions: Sequence[str] | None) -> None:
        self.operation = operation
        self.descriptions = descriptions

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, _tb: TracebackType | None) -> None:
        if isinstance(exc, ClientError | BotoCoreError):
            error = translate(exc, self.operation, self.descriptions)
            assert error is not None
            raise error from exc


def dynamodb_errors(operation: str, descriptions: Sequence[str] | None = None) -> AbstractContextManager[None]:
    """Translate botocore errors raised inside the block (see the module docstring).

    Example:
        >>> with dynamodb_errors("GetItem"):  # doctest: +SKIP
        ...     client.get_item(TableName=table, Key=key)
    """
    return _Translating(operation, descriptions)

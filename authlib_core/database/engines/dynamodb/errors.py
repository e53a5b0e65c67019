"""Translate botocore errors into the library's errors; nothing native escapes the engine.

* ``TransactionCanceledException`` whose reasons include ``ConditionalCheckFailed`` or ``TransactionConflict``
  → :class:`ConflictError` (the transaction layer retries the whole mutation). The reasons are read from the
  parsed ``CancellationReasons`` and, when an SDK or emulator does not return them, from the bracketed list in
  the message (``"... [ConditionalCheckFailed, None]"``).
* throttling, 5xx, timeouts, connection errors → :class:`StorageUnavailableError` (botocore's standard/adaptive
  retry mode has already retried them).
* a ``ValidationException`` about sizes → :class:`LimitExceededError` (the engine checks sizes before calling,
  so this is a last line of defence).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from authlib_core.errors import AuthlibError, ConflictError, LimitExceededError, StorageUnavailableError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from botocore.exceptions import BotoCoreError, ClientError

__all__ = ["CONFLICT_REASONS", "cancellation_reasons", "translate_boto_error", "translate_client_error"]

#: Cancellation codes that mean "another transaction got there first": retry the mutation.
CONFLICT_REASONS = frozenset({"ConditionalCheckFailed", "TransactionConflict"})

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


def translate_client_error(exc: ClientError, operation: str, descriptions: Sequence[str] | None = None) -> AuthlibError:
    """The library error for a ``ClientError`` raised by ``operation``.

    ``descriptions`` name the actions of a transaction in order ("document <id> of table 'users'", ...), so a
    conflict message can say what changed.
    """
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    message = str(error.get("Message", ""))
    if code == "TransactionCanceledException":
        reasons = cancellation_reasons(exc)
        conflicted = [index for index, reason in enumerate(reasons) if reason in CONFLICT_REASONS]
        if conflicted or not reasons:
            what = ""
            if descriptions is not None and conflicted:
                names = [descriptions[i] for i in conflicted if i < len(descriptions)]
                what = " Changed concurrently: " + "; ".join(names[:5]) + ("; ..." if len(names) > 5 else "") + "."
            return ConflictError(
                f"DynamoDB {operation} was cancelled by a concurrent write ({', '.join(reasons) or message}).{what}"
            )
        if any(reason in ("ProvisionedThroughputExceeded", "ThrottlingError") for reason in reasons):
            return StorageUnavailableError(f"DynamoDB {operation} was throttled ({', '.join(reasons)}); retry later.")
        if "ValidationError" in reasons:
            return LimitExceededError(f"DynamoDB rejected {operation}: {message}")
        return StorageUnavailableError(f"DynamoDB cancelled {operation}: {message}")
    if code == "TransactionConflictException":
        return ConflictError(f"DynamoDB {operation} conflicted with a concurrent transaction: {message}")
    if code in _THROTTLING or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
        return StorageUnavailableError(
            f"DynamoDB {operation} failed after retries ({code}: {message}). Nothing was written by a failed "
            "transaction; retry later."
        )
    if code == "ResourceNotFoundException":
        return StorageUnavailableError(
            f"DynamoDB {operation}: {message}. Create the tables first: "
            "python -m authlib_core infra create-tables [--endpoint-url URL]."
        )
    if code == "ValidationException" and "size" in message.lower():
        return LimitExceededError(f"DynamoDB rejected {operation}: {message}")
    if code == "IdempotentParameterMismatchException":
        return StorageUnavailableError(
            f"DynamoDB {operation}: a request token was reused with another payload ({message})."
        )
    return StorageUnavailableError(f"DynamoDB {operation} failed ({code}: {message}).")


def translate_boto_error(exc: BotoCoreError, operation: str) -> StorageUnavailableError:
    """A network-level failure (connection refused, timeout after retries, no credentials)."""
    return StorageUnavailableError(f"DynamoDB {operation} could not be completed: {exc}")

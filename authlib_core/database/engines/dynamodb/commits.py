"""One commit: a single ``TransactWriteItems`` that is applied exactly once, even when its response is lost.

Every commit carries, as its first action, a **commit marker**: a ``Put`` of the item ``pk = "c#<token>"``
conditioned on ``attribute_not_exists(pk)``, where ``<token>`` is the request's ``ClientRequestToken`` (a fresh
UUID). The marker expires after :data:`~.layout.COMMIT_MARKER_TTL_S` through the table's TTL. It settles the one
case a retry cannot: a transaction that DynamoDB applied but whose response never arrived (read timeout,
dropped connection).

* botocore retries the call with the same token. DynamoDB answers an identical retry within 10 minutes with
  the original success (idempotency). An emulator without that (moto), or a retry that reaches DynamoDB
  otherwise, is cancelled because the marker already exists: cancellation reason ``ConditionalCheckFailed``
  on the marker's action means "this very commit was applied", and the commit reports success.
* If botocore gives up (timeouts, connection errors, throttling, time budget) after at least one attempt may
  have reached DynamoDB, the outcome is settled with a **fence**: a conditional ``PutItem`` of the marker,
  flagged ``aborted``. If the fence is written, the transaction did not apply and never can (its marker
  condition now fails), so the caller gets a retryable error — a conflict is retried by the mutation loop, an
  outage is a 503 the client may retry. If the fence finds the marker, one consistent ``GetItem`` tells the
  commit's own marker (applied: success) from an earlier fence attempt whose response was lost (not applied).
* Only when the fence itself cannot reach DynamoDB within the budget is the outcome unknown; the 503 then says
  so.

Cost: one more action per ``TransactWriteItems`` (2 write units for the ~60-byte marker; one of the 100
actions), the marker's storage until TTL removes it, and the fence calls on the failure path only.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from authlib_core.database.deadline import remaining
from authlib_core.database.engines.dynamodb.budget import attempts_sent
from authlib_core.database.engines.dynamodb.errors import (
    cancellation_reasons,
    is_condition_failure,
    translate,
)
from authlib_core.database.engines.dynamodb.layout import ATTR_EXPIRES, COMMIT_MARKER_TTL_S, commit_marker_key
from authlib_core.errors import AuthlibError, StorageUnavailableError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mypy_boto3_dynamodb.client import DynamoDBClient

__all__ = ["COMMIT_MARKER_BYTES", "commit_transaction"]

logger = logging.getLogger("authlib_core.database.dynamodb")

#: Upper bound of a commit marker's size in a transaction's byte count (key, TTL attribute, names).
COMMIT_MARKER_BYTES = 80
#: Fence attempts while DynamoDB reports the marker busy in a transaction still in flight.
_FENCE_ATTEMPTS = 5
_ATTR_ABORTED = "aborted"


def commit_transaction(client: DynamoDBClient, table: str, actions: Sequence[tuple[dict[str, Any], str]]) -> None:
    """Apply ``actions`` (``(TransactItems entry, description)`` pairs) as one transaction, exactly once.

    Raises the translated error (``ConflictError``, ``StorageUnavailableError``, ``LimitExceededError``) only when
    the transaction certainly was not applied — or, when even that cannot be settled, a ``StorageUnavailableError``
    that says the outcome is unknown.

    Example:
        >>> commit_transaction(client, "app-documents", [({"Put": {...}}, "document abc")])  # doctest: +SKIP
    """
    token = str(uuid.uuid4())
    marker = {
        "Put": {
            "TableName": table,
            "Item": _marker_item(token),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
    items = [marker, *(request for request, _ in actions)]
    descriptions = ["commit marker", *(description for _, description in actions)]
    operation = f"TransactWriteItems of {len(actions)} actions in table {table!r} (token {token})"
    sent_before = attempts_sent()
    try:
        client.transact_write_items(TransactItems=items, ClientRequestToken=token)  # type: ignore[arg-type]
        return
    except (ClientError, BotoCoreError) as exc:
        sent = attempts_sent() - sent_before
        error = translate(exc, operation, descriptions)
        assert error is not None
        if isinstance(exc, ClientError):
            if cancellation_reasons(exc)[:1] == ["ConditionalCheckFailed"]:
                logger.info("commit %s was applied by an earlier attempt whose response was lost", token)
                return
            ambiguous = sent > 1  # an earlier attempt got no answer; this one was refused
        else:
            ambiguous = sent >= 1
        if ambiguous and _applied(client, table, token, error):
            logger.info("commit %s was applied; its response was lost (settled by the fence)", token)
            return
        raise error from exc


def _marker_item(token: str, **extra: Any) -> dict[str, Any]:
    expires = int(time.time()) + COMMIT_MARKER_TTL_S
    return {**commit_marker_key(token), ATTR_EXPIRES: {"N": str(expires)}, **extra}


def _applied(client: DynamoDBClient, table: str, token: str, error: AuthlibError) -> bool:
    """Settle the outcome of commit ``token``: True if it was applied; False if it was not and now cannot be."""
    for attempt in range(_FENCE_ATTEMPTS):
        try:
            client.put_item(
                TableName=table,
                Item=_marker_item(token, **{_ATTR_ABORTED: {"BOOL": True}}),
                ConditionExpression="attribute_not_exists(pk)",
            )
            return False  # fenced: the commit's own marker condition can never hold again
        except ClientError as exc:
            if is_condition_failure(exc):
                return _marker_is_the_commits(client, table, token, error)
            busy = exc.response.get("Error", {}).get("Code") in (
                "TransactionConflictException",
                "TransactionInProgressException",
            )
            pause = 0.05 * 2**attempt
            left = remaining()
            if not busy or attempt + 1 == _FENCE_ATTEMPTS or (left is not None and left < pause):
                raise _unknown(error, token, exc) from exc
            time.sleep(pause)
        except BotoCoreError as exc:
            raise _unknown(error, token, exc) from exc
    raise AssertionError("unreachable")  # pragma: no cover


def _marker_is_the_commits(client: DynamoDBClient, table: str, token: str, error: AuthlibError) -> bool:
    """The marker exists: written by the commit (True) or by an earlier fence attempt (False)?"""
    try:
        item = client.get_item(TableName=table, Key=commit_marker_key(token), ConsistentRead=True).get("Item")
    except (ClientError, BotoCoreError) as exc:
        raise _unknown(error, token, exc) from exc
    return item is not None and _ATTR_ABORTED not in item


def _unknown(error: AuthlibError, token: str, cause: BaseException) -> StorageUnavailableError:
    return StorageUnavailableError(
        "The database stopped answering while this mutation was being committed, and whether it was applied "
        "could not be confirmed. Read the data before retrying a mutation that must not run twice.",
        detail=f"commit token {token}: {getattr(error, 'detail', '') or error.message}; settling failed: "
        f"{type(cause).__name__}: {cause}",
    )

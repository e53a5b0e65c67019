"""Receipts (:mod:`authlib_core.database.receipts`) in the documents table: item ``pk = "r#<scope>#<key>"``,
``sk = 00``, attributes ``val`` (the value) and ``expiresAt`` (the table's TTL).

A receipt added to a transaction is one more ``Put`` in the commit's ``TransactWriteItems``, so it is applied
exactly when the documents are. The ``Put`` is conditioned on no unexpired receipt having its key
(:func:`absent_put`): when a concurrent run of the same request committed first, the whole transaction is cancelled
and the engine raises :class:`~authlib_core.database.receipts.ReceiptExistsError`. :func:`write_receipt` (what no
commit carries) has the same condition, so it never replaces a kept receipt.

The stream's filter (``d#`` partition keys only) keeps receipts, and their TTL deletion, away from the fan-out. A
commit that has no room left for it (100 actions, 4 MB) or a value larger than an item
can hold is the caller's to handle (:meth:`DynamoDBTransaction.add_receipt` says so by returning False). Reads
are strongly consistent and skip expired items (TTL deletion lags).

Example:
    >>> from authlib_core.database.receipts import Receipt
    >>> receipt_item(Receipt("sync", "s#1", "{}", expires_at=1_900_000_000))["pk"]
    {'S': 'r#sync#s#1'}
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Final

from authlib_core.database.engines.dynamodb.commits import COMMIT_MARKER_BYTES
from authlib_core.database.engines.dynamodb.errors import dynamodb_errors, is_condition_failure
from authlib_core.database.engines.dynamodb.layout import (
    ATTR_EXPIRES,
    MAX_ITEM_BYTES,
    MAX_TRANSACTION_ACTIONS,
    MAX_TRANSACTION_BYTES,
    VERSION_SK,
    item_size,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from authlib_core.database.receipts import Receipt

__all__ = [
    "MAX_RECEIPT_BYTES",
    "absent_put",
    "fits",
    "keep_after_commit",
    "read_receipt",
    "receipt_item",
    "room_for_receipt",
    "write_receipt",
]

logger = logging.getLogger("authlib_core.database.dynamodb")

ATTR_VALUE: Final = "val"
#: Largest value (UTF-8 bytes) a receipt item takes: its key (a scope and a key of at most 512 characters) and
#: attributes fit in the rest of DynamoDB's 400 KB.
MAX_RECEIPT_BYTES: Final = 380_000


def _key(scope: str, key: str) -> dict[str, Any]:
    return {"pk": {"S": f"r#{scope}#{key}"}, "sk": {"B": VERSION_SK}}


def receipt_item(receipt: Receipt) -> dict[str, Any]:
    """The item of ``receipt``."""
    return {
        **_key(receipt.scope, receipt.key),
        ATTR_VALUE: {"S": receipt.value},
        ATTR_EXPIRES: {"N": str(receipt.expires_at)},
    }


def absent_put(table: str, receipt: Receipt) -> dict[str, Any]:
    """The ``Put`` of ``receipt`` (a ``TransactItems`` entry's, or ``PutItem``'s parameters) that applies only where
    no unexpired receipt has its key (an expired one the TTL has not deleted yet does not count)."""
    return {
        "TableName": table,
        "Item": receipt_item(receipt),
        "ConditionExpression": f"attribute_not_exists(pk) OR {ATTR_EXPIRES} <= :now",
        "ExpressionAttributeValues": {":now": {"N": str(int(time.time()))}},
    }


def fits(item: dict[str, Any]) -> bool:
    """True when the item is within DynamoDB's item size limit."""
    return item_size(item) <= MAX_ITEM_BYTES


def room_for_receipt(actions: int, size: int, receipt: Receipt) -> bool:
    """True when a commit of ``actions`` actions and ``size`` bytes (the commit marker not counted) can take the
    receipt as one more action within DynamoDB's transaction limits."""
    return (
        actions + 2 <= MAX_TRANSACTION_ACTIONS
        and size + COMMIT_MARKER_BYTES + item_size(receipt_item(receipt)) <= MAX_TRANSACTION_BYTES
    )


def keep_after_commit(client: DynamoDBClient, table: str, receipt: Receipt) -> None:
    """Keep the receipt of a commit that had no room for it, right after the commit. A failure is logged, not
    raised: the commit stands (only a re-sent request may then run again)."""
    logger.warning(
        "a commit used all of DynamoDB's transaction limits; its receipt (%s) is written right after it",
        receipt.scope,
    )
    try:
        write_receipt(client, table, receipt)
    except Exception:
        logger.exception("could not keep the receipt (%s) of a committed transaction", receipt.scope)


def read_receipt(client: DynamoDBClient, table: str, scope: str, key: str) -> str | None:
    """The value of an unexpired receipt, or None (one strongly consistent ``GetItem``)."""
    with dynamodb_errors(f"GetItem of receipt {scope} in table {table!r}"):
        item = client.get_item(TableName=table, Key=_key(scope, key), ConsistentRead=True).get("Item")
    if item is None or int(item[ATTR_EXPIRES]["N"]) <= int(time.time()):
        return None
    return str(item[ATTR_VALUE]["S"])


def write_receipt(client: DynamoDBClient, table: str, receipt: Receipt) -> bool:
    """Keep ``receipt`` with one conditional ``PutItem`` (outside any transaction), unless an unexpired receipt has
    its key (that one stays). Returns True when written."""
    with dynamodb_errors(f"PutItem of receipt {receipt.scope} in table {table!r}"):
        try:
            client.put_item(**absent_put(table, receipt))
        except Exception as error:
            if is_condition_failure(error):
                return False
            raise
    return True

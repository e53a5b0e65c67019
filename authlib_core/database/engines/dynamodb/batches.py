"""Batched calls of index builds (:mod:`.migrate`): items read with ``BatchGetItem`` of 100 keys, entries written
with ``BatchWriteItem`` of 25 requests, version items updated with ``TransactWriteItems`` of 100 actions.

A build or drop (:mod:`.migrate`) ends by moving the version of every partition and value it may have changed
(docs/dynamodb.md §7). :class:`VersionUpdates` collects those updates for one table, one per item, and
:meth:`VersionUpdates.send` applies them with ``TransactWriteItems`` of up to
:data:`~.layout.MAX_TRANSACTION_ACTIONS` actions: ⌈*n*/100⌉ calls for *n* items instead of *n* ``UpdateItem``
calls. Every update is unconditional and moves ``ver`` up, so a chunk applied twice (a retry after a lost
response) still leaves every version above what any transaction read; a chunk DynamoDB cancels because a commit
held one of its items (``TransactionConflict``) or for throughput applied nothing and is sent again.

:func:`written_partitions` tells which of a list of partitions has a version item (consistent ``BatchGetItem``,
100 keys per call): a partition version exists from the first commit or build that added or removed an entry
there on, and is never deleted.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from authlib_core.database.engines.dynamodb import layout
from authlib_core.database.engines.dynamodb.errors import ItemsBusyError, translate_client_error
from authlib_core.errors import ThrottledWriteError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from authlib_core.database.engines.dynamodb.engine import DynamoDBEngine

__all__ = ["COUNT_UPDATE", "VersionUpdates", "get_items", "write_items", "written_partitions"]

#: Sets a value version's entry count and makes it exact: ``ver`` + 1 and ``ecv`` = the new ``ver``
#: (values ``:zero``, ``:one``, ``:count``; docs/dynamodb.md §1, "Entry counts").
COUNT_UPDATE = (
    f"SET ver = if_not_exists(ver, :zero) + :one, {layout.ATTR_COUNT} = :count, "
    f"{layout.ATTR_COUNTED_AT} = if_not_exists(ver, :zero) + :one"
)
#: Sends of one transaction while DynamoDB cancels it without applying anything, before giving up.
_CANCELLED_ATTEMPTS = 5


def _key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"B": layout.VERSION_SK}}


class VersionUpdates:
    """The version updates of one table's builds and drops, at most one per item (DynamoDB allows an item once
    per transaction).

    Example:
        >>> updates = VersionUpdates()
        >>> updates.bump("e#notes#by_user#0")
        >>> updates.uncount("v#notes#by_user#ab")   # a dropped entry of this value: its count is no longer exact
        >>> updates.count("v#notes#by_user#ab", 2)  # a built entry count supersedes it
        >>> len(updates)
        2
    """

    def __init__(self) -> None:
        #: pk -> (rank, update expression, values): a higher rank supersedes a lower one on the same item
        self._updates: dict[str, tuple[int, str, dict[str, Any]]] = {}

    def __len__(self) -> int:
        return len(self._updates)

    def _set(self, pk: str, rank: int, expression: str, values: dict[str, Any]) -> None:
        if pk not in self._updates or self._updates[pk][0] < rank:
            self._updates[pk] = (rank, expression, values)

    def bump(self, pk: str) -> None:
        """``ADD ver 1`` on the version item ``pk``."""
        self._set(pk, 0, "ADD ver :one", {":one": {"N": "1"}})

    def uncount(self, pk: str) -> None:
        """``ADD ver 1`` and ``REMOVE ecv`` on value version ``pk``: entries of its value were removed, so its count
        is no longer exact (unless :meth:`count` sets it)."""
        self._set(pk, 1, f"ADD ver :one REMOVE {layout.ATTR_COUNTED_AT}", {":one": {"N": "1"}})

    def count(self, pk: str, entries: int) -> None:
        """Value version ``pk`` has exactly ``entries`` entries: ``ver`` + 1, ``ec``, ``ecv`` (:data:`COUNT_UPDATE`)."""
        self._set(pk, 2, COUNT_UPDATE, {":zero": {"N": "0"}, ":one": {"N": "1"}, ":count": {"N": str(entries)}})

    def send(self, engine: DynamoDBEngine) -> None:
        """Apply every update: ⌈n/100⌉ ``TransactWriteItems`` for n items, in key order."""
        actions = [
            {
                "Update": {
                    "TableName": engine.table_name,
                    "Key": _key(pk),
                    "UpdateExpression": expression,
                    "ExpressionAttributeValues": values,
                }
            }
            for pk, (_, expression, values) in sorted(self._updates.items())
        ]
        for start in range(0, len(actions), layout.MAX_TRANSACTION_ACTIONS):
            _transact(engine, actions[start : start + layout.MAX_TRANSACTION_ACTIONS])
        self._updates.clear()


def _transact(engine: DynamoDBEngine, actions: list[dict[str, Any]]) -> None:
    """One ``TransactWriteItems``, sent again after a pause while DynamoDB cancels it having applied nothing
    because a commit held an item (``TransactionConflict``) or for throughput (``ThrottlingError``)."""
    delay = 0.05
    for attempt in range(1, _CANCELLED_ATTEMPTS + 1):
        try:
            engine.client.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
            return
        except ClientError as exc:
            error = translate_client_error(exc, "index build")
            if attempt == _CANCELLED_ATTEMPTS or not isinstance(error, ItemsBusyError | ThrottledWriteError):
                raise
        time.sleep(delay)
        delay *= 2


def get_items(engine: DynamoDBEngine, keys: Sequence[dict[str, Any]], projection: str = "") -> list[dict[str, Any]]:
    """The items of ``keys`` that exist (any order): 1 consistent ``BatchGetItem`` per 100 keys, unprocessed keys
    read again after a pause; no call for no keys."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), 100):
        request: dict[str, Any] = {engine.table_name: {"Keys": list(keys[start : start + 100]), "ConsistentRead": True}}
        if projection:
            request[engine.table_name]["ProjectionExpression"] = projection
        delay = 0.05
        while request:
            response = engine.client.batch_get_item(RequestItems=request)
            found.extend(response.get("Responses", {}).get(engine.table_name, []))
            request = dict(response.get("UnprocessedKeys") or {})
            if request:
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
    return found


def write_items(engine: DynamoDBEngine, requests: Sequence[dict[str, Any]]) -> None:
    """``PutRequest``/``DeleteRequest`` s in ``BatchWriteItem`` calls of 25, unprocessed items sent again after a
    pause until none is left."""
    for start in range(0, len(requests), 25):
        pending: dict[str, Any] = {engine.table_name: list(requests[start : start + 25])}
        delay = 0.05
        while pending:
            response = engine.client.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}
            if pending:
                time.sleep(delay)
                delay = min(delay * 2, 2.0)


def written_partitions(engine: DynamoDBEngine, pks: Iterable[str]) -> set[str]:
    """Which of the partition keys ``pks`` have a version item (``sk = 00``): :func:`get_items` of their version
    items, 1 ``BatchGetItem`` per 100 keys; no call for none.

    Example:
        >>> written_partitions(engine, ["e#notes#by_creation_time#0"])  # doctest: +SKIP
        set()
    """
    items = get_items(engine, [_key(pk) for pk in sorted(set(pks))], projection="pk")
    return {item["pk"]["S"] for item in items}

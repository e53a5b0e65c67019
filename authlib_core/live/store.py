"""The sync table: one item per connection (protocol state, inbox, lease), the subscription index, the keep-alive list.

The answers of mutations are not here: they are committed with each mutation, in the documents table
(:class:`~authlib_core.sync.mutation_log.ReceiptMutationLog`).

=====================  ==========================  ================  =========================================
item                   ``pk`` (S)                  ``sk`` (S)        attributes
=====================  ==========================  ================  =========================================
connection             ``c#<connection id>``       ``c``             ``state`` (JSON), ``inbox`` (list of JSON),
                                                                     ``lease``, ``leaseUntil`` (ms), ``rev``,
                                                                     ``endpoint``, ``clientVersion``, ``watches``
watch                  ``w#<watch key>``           connection id     (:mod:`authlib_core.live.watch`)
keep-alive list        ``k#<0..15>``               connection id     ``endpoint`` (who gets ``Ping``)
=====================  ==========================  ================  =========================================

Every item carries ``expiresAt`` (epoch seconds; the table's TTL): a connection lives at most 2 hours on API Gateway,
so its items expire 2 h 10 min after ``$connect`` even if ``$disconnect`` never ran. Readers check ``expiresAt`` too
(TTL deletion lags).

Concurrency: work for a connection (a client message, a commit) is first **appended** to its inbox (an atomic
``list_append``), then the appender tries to take the **lease** (a conditional update: free, expired, or already
its own). The holder drains the inbox, posts, saves the state with ``REMOVE inbox[0..n-1]`` (conditioned on still
holding the lease) and releases only if the inbox is then empty; otherwise it drains again. So no work is lost (an
appender either finds the lease free or is seen by the holder's conditional release) and one Lambda at a time
posts to a connection. A lease lasts longer than the holder's remaining Lambda time, so it cannot expire while the
holder still runs.

Example:
    >>> store = SyncStore(client, "stack-sync")                                      # doctest: +SKIP
    >>> store.append("Abc=", ['{"kind":"message","text":"..."}'])                    # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
import time
import zlib
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from authlib_core.database.engines.dynamodb.tables import KeyAttribute, TableDescription, create_table_request

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable

    from mypy_boto3_dynamodb.client import DynamoDBClient

__all__ = [
    "CONNECTION_LIFETIME_S",
    "InboxFullError",
    "KEEPALIVE_SHARDS",
    "SYNC",
    "SyncStore",
    "create_sync_table",
]

#: API Gateway closes a WebSocket connection after 2 hours; its items expire 10 minutes later.
CONNECTION_LIFETIME_S: Final = 2 * 3600 + 600
_BATCH_WRITE: Final = 25
#: Partitions of the keep-alive list (a connection's is a hash of its id): spreads $connect writes and pages.
KEEPALIVE_SHARDS: Final = 16


#: The sync table's shape (template.yaml's ``SyncTable``; tests/sam/test_consistency.py compares them).
SYNC = TableDescription("sync", KeyAttribute("pk", "S"), KeyAttribute("sk", "S"), ttl_attribute="expiresAt")


def create_sync_table(client: DynamoDBClient, name: str) -> None:
    """Create the sync table (local stand-ins and tests; a deployment gets it from the template) with TTL on."""
    client.create_table(**create_table_request(name, SYNC))
    client.get_waiter("table_exists").wait(TableName=name)
    client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"})


class InboxFullError(Exception):
    """The connection's item cannot take more work: DynamoDB refused it as past its 400 KB item limit."""


def _too_large(error: ClientError) -> bool:
    body = error.response.get("Error", {})
    return body.get("Code") == "ValidationException" and "size" in str(body.get("Message", "")).lower()


def _conditional_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class SyncStore:
    """Reads and writes of the sync table (see the module docstring). Thread-safe (boto3 clients are)."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self.client = client
        self.table = table_name

    @staticmethod
    def _key(connection_id: str) -> dict[str, Any]:
        return {"pk": {"S": f"c#{connection_id}"}, "sk": {"S": "c"}}

    # -- connections -----------------------------------------------------------------------------------------
    def admit(self, connection_id: str, address: str, limit: int) -> bool:
        """Count a new connection from ``address`` (``$connect``); False when the address already has ``limit``
        open. The count and the connection's record of its address expire with the connection, so a count a lost
        ``$disconnect`` leaves behind heals by itself.

        Example:
            >>> store.admit("Abc=", "203.0.113.7", 64)  # doctest: +SKIP
            True
        """
        now = int(time.time())
        expires = {"N": str(now + CONNECTION_LIFETIME_S)}
        key = {"pk": {"S": f"ip#{address}"}, "sk": {"S": "n"}}
        try:
            self.client.update_item(
                TableName=self.table,
                Key=key,
                UpdateExpression="ADD n :one SET expiresAt = :expires",
                ConditionExpression="attribute_not_exists(n) OR n < :limit",
                ExpressionAttributeValues={":one": {"N": "1"}, ":limit": {"N": str(limit)}, ":expires": expires},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not _conditional_failed(error):
                raise
            response: dict[str, Any] = dict(error.response)
            old: dict[str, Any] = response.get("Item") or {}
            if int(old.get("expiresAt", {}).get("N", now + 1)) > now:
                return False
            try:  # an expired count (TTL deletion lags): start again at this connection
                self.client.put_item(
                    TableName=self.table,
                    Item={**key, "n": {"N": "1"}, "expiresAt": expires},
                    ConditionExpression="expiresAt = :old",
                    ExpressionAttributeValues={":old": old["expiresAt"]},
                )
            except ClientError as again:
                if _conditional_failed(again):
                    return False  # another $connect got there first: refuse this one, the client retries
                raise
        self.client.put_item(
            TableName=self.table,
            Item={"pk": {"S": f"a#{connection_id}"}, "sk": {"S": "a"}, "address": {"S": address}, "expiresAt": expires},
        )
        return True

    def leave(self, connection_id: str) -> None:
        """Uncount a connection from its address (``$disconnect``; nothing when it was never counted)."""
        removed = self.client.delete_item(
            TableName=self.table, Key={"pk": {"S": f"a#{connection_id}"}, "sk": {"S": "a"}}, ReturnValues="ALL_OLD"
        )
        item = removed.get("Attributes") or {}
        if "address" not in item:
            return
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"pk": {"S": f"ip#{item['address']['S']}"}, "sk": {"S": "n"}},
                UpdateExpression="ADD n :minus",
                ConditionExpression="n > :zero",
                ExpressionAttributeValues={":minus": {"N": "-1"}, ":zero": {"N": "0"}},
            )
        except ClientError as error:
            if not _conditional_failed(error):  # the count expired meanwhile
                raise

    def create(self, connection_id: str, *, endpoint: str, client_version: str | None, state: dict[str, Any]) -> None:
        """Store a new connection (``$connect``)."""
        item: dict[str, Any] = {
            **self._key(connection_id),
            "state": {"S": json.dumps(state, separators=(",", ":"))},
            "inbox": {"L": []},
            "rev": {"N": "0"},
            "endpoint": {"S": endpoint},
            "expiresAt": {"N": str(int(time.time()) + CONNECTION_LIFETIME_S)},
        }
        if client_version:
            item["clientVersion"] = {"S": client_version}
        self.client.put_item(TableName=self.table, Item=item)
        self.client.put_item(
            TableName=self.table,
            Item={**self._keepalive_key(connection_id), "endpoint": {"S": endpoint}, "expiresAt": item["expiresAt"]},
        )

    @staticmethod
    def _keepalive_key(connection_id: str) -> dict[str, Any]:
        shard = zlib.crc32(connection_id.encode("utf-8")) % KEEPALIVE_SHARDS
        return {"pk": {"S": f"k#{shard}"}, "sk": {"S": connection_id}}

    def keepalive(self, shard: int) -> list[tuple[str, str]]:
        """``(connection id, endpoint)`` of the open connections listed in one keep-alive partition."""
        found: list[tuple[str, str]] = []
        now = int(time.time())
        params: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"k#{shard}"}},
        }
        while True:
            response = self.client.query(**params)
            found.extend(
                (str(item["sk"]["S"]), str(item["endpoint"]["S"]))
                for item in response.get("Items", [])
                if int(item["expiresAt"]["N"]) > now
            )
            start = response.get("LastEvaluatedKey")
            if not start:
                return found
            params["ExclusiveStartKey"] = start

    def append(self, connection_id: str, entries: Iterable[str]) -> bool:
        """Add work to a connection's inbox, in order; False when the connection is gone (or expired).

        Raises:
            InboxFullError: the connection's item is at DynamoDB's 400 KB item limit.
        """
        values = [{"S": entry} for entry in entries]
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self._key(connection_id),
                UpdateExpression="SET inbox = list_append(if_not_exists(inbox, :empty), :entries)",
                ConditionExpression="attribute_exists(pk) AND expiresAt > :now",
                ExpressionAttributeValues={
                    ":entries": {"L": values},
                    ":empty": {"L": []},
                    ":now": {"N": str(int(time.time()))},
                },
            )
        except ClientError as error:
            if _conditional_failed(error):
                return False
            if _too_large(error):
                raise InboxFullError(connection_id) from None
            raise
        return True

    def acquire(self, connection_id: str, holder: str, until_ms: int) -> dict[str, Any] | None:
        """Take (or keep) the connection's lease until ``until_ms``; the item as it is now, or None if another
        Lambda holds the lease (it will see the work appended before this call) or the connection is gone.

        Raises:
            InboxFullError: the item has no room left for the lease (DynamoDB's 400 KB item limit).
        """
        try:
            response = self.client.update_item(
                TableName=self.table,
                Key=self._key(connection_id),
                UpdateExpression="SET lease = :me, leaseUntil = :until",
                ConditionExpression=(
                    "attribute_exists(pk) AND (attribute_not_exists(lease) OR lease = :me OR leaseUntil < :now)"
                ),
                ExpressionAttributeValues={
                    ":me": {"S": holder},
                    ":until": {"N": str(until_ms)},
                    ":now": {"N": str(int(time.time() * 1000))},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _conditional_failed(error):
                return None
            if _too_large(error):
                raise InboxFullError(connection_id) from None
            raise
        return dict(response.get("Attributes") or {})

    def save(
        self, connection_id: str, holder: str, *, state: dict[str, Any], handled: Collection[int], watches: set[str]
    ) -> bool:
        """Store the state after handling the inbox entries at the ``handled`` positions (which leave the inbox;
        entries appended meanwhile stay); False when the connection was removed meanwhile (``$disconnect``).

        Raises:
            RuntimeError: the lease is no longer this holder's (cannot happen while the holder's Lambda runs).
            InboxFullError: the state and the entries left in the inbox pass DynamoDB's 400 KB item limit.
        """
        names = ", ".join(f"inbox[{index}]" for index in sorted(handled))
        update = "SET #state = :state, watches = :watches ADD rev :one"
        if names:
            update += f" REMOVE {names}"
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self._key(connection_id),
                UpdateExpression=update,
                ConditionExpression="lease = :me",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":state": {"S": json.dumps(state, separators=(",", ":"))},
                    ":watches": {"S": json.dumps(sorted(watches), separators=(",", ":"))},
                    ":one": {"N": "1"},
                    ":me": {"S": holder},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",  # tells "removed" from "lease lost", no extra read
            )
        except ClientError as error:
            if _too_large(error):
                raise InboxFullError(connection_id) from None
            if not _conditional_failed(error):
                raise
            if "Item" not in error.response:
                return False
            raise RuntimeError(f"connection {connection_id}: the lease was lost before the state was saved") from error
        return True

    def release(self, connection_id: str, holder: str, *, left: int = 0) -> bool:
        """Give the lease up if the inbox holds just the ``left`` entries the holder left there (client messages
        the fan-out leaves to the sync function, messages waiting for one sent before them); False when more work
        arrived meanwhile (drain again)."""
        condition = "lease = :me AND size(inbox) = :left"
        if left == 0:
            condition = "lease = :me AND (attribute_not_exists(inbox) OR size(inbox) = :left)"
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self._key(connection_id),
                UpdateExpression="REMOVE lease, leaseUntil",
                ConditionExpression=condition,
                ExpressionAttributeValues={":me": {"S": holder}, ":left": {"N": str(left)}},
            )
        except ClientError as error:
            if _conditional_failed(error):
                return False
            raise
        return True

    def delete(self, connection_id: str, watches: Iterable[str]) -> None:
        """Remove a connection and its watches (``$disconnect``, a gone connection, a closed session)."""
        self.client.delete_item(TableName=self.table, Key=self._key(connection_id))
        self.client.delete_item(TableName=self.table, Key=self._keepalive_key(connection_id))
        self.remove_watches(connection_id, watches)

    def forget(self, connection_id: str) -> str | None:
        """Remove a connection whose watches are not at hand (``$disconnect``, a full item): the deleted item names
        them. The connection's Management API endpoint, or None when it was gone already."""
        removed = self.client.delete_item(TableName=self.table, Key=self._key(connection_id), ReturnValues="ALL_OLD")
        item = removed.get("Attributes")
        watches = json.loads(item["watches"]["S"]) if item is not None and "watches" in item else []
        self.client.delete_item(TableName=self.table, Key=self._keepalive_key(connection_id))
        self.remove_watches(connection_id, watches)
        return str(item["endpoint"]["S"]) if item is not None and "endpoint" in item else None

    # -- subscription index ----------------------------------------------------------------------------------
    def add_watches(self, connection_id: str, keys: Iterable[str]) -> None:
        """Register the connection under watch keys (before the queries that need them run: docs/realtime.md)."""
        expires = str(int(time.time()) + CONNECTION_LIFETIME_S)
        self._batch(
            [
                {
                    "PutRequest": {
                        "Item": {"pk": {"S": f"w#{key}"}, "sk": {"S": connection_id}, "expiresAt": {"N": expires}}
                    }
                }
                for key in sorted(keys)
            ]
        )

    def remove_watches(self, connection_id: str, keys: Iterable[str]) -> None:
        """Unregister the connection from watch keys."""
        self._batch(
            [{"DeleteRequest": {"Key": {"pk": {"S": f"w#{key}"}, "sk": {"S": connection_id}}}} for key in sorted(keys)]
        )

    def watchers(self, key: str) -> set[str]:
        """Connections registered under a watch key (one strongly consistent ``Query`` per 1 MB page)."""
        found: set[str] = set()
        now = int(time.time())
        params: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"w#{key}"}},
            "ProjectionExpression": "sk, expiresAt",
            "ConsistentRead": True,
        }
        while True:
            response = self.client.query(**params)
            found.update(
                str(item["sk"]["S"]) for item in response.get("Items", []) if int(item["expiresAt"]["N"]) > now
            )
            start = response.get("LastEvaluatedKey")
            if not start:
                return found
            params["ExclusiveStartKey"] = start

    def _batch(self, requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), _BATCH_WRITE):
            pending: dict[str, Any] = {self.table: requests[start : start + _BATCH_WRITE]}
            for attempt in range(8):
                response = self.client.batch_write_item(RequestItems=pending)
                pending = dict(response.get("UnprocessedItems") or {})
                if not pending:
                    break
                time.sleep(min(1.0, 0.05 * 2**attempt))
            else:
                raise RuntimeError(f"DynamoDB kept {len(pending[self.table])} watch writes unprocessed; try again")

"""DynamoDB session and rate-limit stores, on the dedicated sessions table.

Table: partition key ``pk`` (S), sort key ``sk`` (S), TTL attribute ``expiresAt`` (Number, epoch **seconds**).

* A session is the item ``pk = "user#<userId>"``, ``sk = "session#<sessionId>"``. Its ``expiresAt`` is the second at
  which it stops being valid (the idle expiry, which the auth layer never lets pass the absolute cap); millisecond
  values for the API are in ``sessionExpiresAt``, ``absoluteExpiresAt``, ``createdAt`` and ``updatedAt``.
* ``get`` is one ``GetItem`` with ``ConsistentRead=True``; ``list_for_user`` one strongly consistent ``Query`` of
  the user's partition (no GSI, so revoke-all is immediate); ``refresh`` one ``UpdateItem`` conditioned on the item
  existing and being live, so it never resurrects a deleted session. TTL deletion lags by up to days, so every read
  checks expiry itself.
* A rate-limit counter is the item ``pk = "ratelimit#<key>"``, ``sk = "ratelimit"`` (``windowStart`` ms, ``count``,
  ``expiresAt`` = end of the window), changed only by conditional ``UpdateItem`` calls, so it is atomic across Lambda
  instances.

The boto3 client is injected (the engine's composition code creates one per process and reuses it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from authlib_core.database.engines.dynamodb.errors import is_condition_failure, translate
from authlib_core.database.sessions import RateLimitStore, SessionRecord, SessionStore, ttl_seconds

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from authlib_core.errors import AuthlibError

__all__ = ["DynamoDBRateLimitStore", "DynamoDBSessionStore"]

Item = Mapping[str, Any]


def _user_pk(user_id: str) -> str:
    return f"user#{user_id}"


def _session_sk(session_id: str) -> str:
    return f"session#{session_id}"


def _is_condition_failure(error: Exception) -> bool:
    return is_condition_failure(error)


class _OnTable:
    """What both stores share: the sessions table's name, and the engine's translation of botocore errors."""

    _table: str

    def storage_error(self, error: BaseException, operation: str) -> AuthlibError | None:
        """botocore errors, translated as the documents engine translates them (a 503 for an outage)."""
        return translate(error, f"{operation} on table {self._table!r}")


def _to_item(record: SessionRecord) -> dict[str, Any]:
    return {
        "pk": {"S": _user_pk(record.user_id)},
        "sk": {"S": _session_sk(record.session_id)},
        "userId": {"S": record.user_id},
        "sessionId": {"S": record.session_id},
        "tokenHash": {"S": record.token_hash},
        "createdAt": {"N": str(record.created_at)},
        "updatedAt": {"N": str(record.updated_at)},
        "sessionExpiresAt": {"N": str(record.expires_at)},
        "absoluteExpiresAt": {"N": str(record.absolute_expires_at)},
        "expiresAt": {"N": str(ttl_seconds(record))},
        "ipAddress": {"S": record.ip_address},
        "userAgent": {"S": record.user_agent},
        "dontRemember": {"BOOL": record.dont_remember},
        "email": {"S": record.email},
        "name": {"S": record.name},
    }


def _from_item(item: Item) -> SessionRecord:
    return SessionRecord(
        user_id=item["userId"]["S"],
        session_id=item["sessionId"]["S"],
        token_hash=item["tokenHash"]["S"],
        created_at=int(item["createdAt"]["N"]),
        updated_at=int(item["updatedAt"]["N"]),
        expires_at=int(item["sessionExpiresAt"]["N"]),
        absolute_expires_at=int(item["absoluteExpiresAt"]["N"]),
        ip_address=item.get("ipAddress", {}).get("S", ""),
        user_agent=item.get("userAgent", {}).get("S", ""),
        dont_remember=bool(item.get("dontRemember", {}).get("BOOL", False)),
        email=item.get("email", {}).get("S", ""),
        name=item.get("name", {}).get("S", ""),
    )


class DynamoDBSessionStore(_OnTable, SessionStore):
    """:class:`SessionStore` on the DynamoDB sessions table (``clock`` returns epoch seconds)."""

    def __init__(self, client: DynamoDBClient, table_name: str, *, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock

    def _now(self) -> int:
        return int(self._clock() * 1000)

    def _key(self, user_id: str, session_id: str) -> dict[str, Any]:
        return {"pk": {"S": _user_pk(user_id)}, "sk": {"S": _session_sk(session_id)}}

    def create(self, record: SessionRecord) -> None:
        self._client.put_item(
            TableName=self._table,
            Item=_to_item(record),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def get(self, user_id: str, session_id: str) -> SessionRecord | None:
        response = self._client.get_item(TableName=self._table, Key=self._key(user_id, session_id), ConsistentRead=True)
        item = response.get("Item")
        if item is None:
            return None
        record = _from_item(item)
        # Expired but not yet removed by TTL: refused, and left for TTL. No delete here -- the query and
        # mutation functions may only GetItem on this table (reads never write: database/sessions.py).
        return record if record.is_live(self._now()) else None

    def _items(self, user_id: str) -> Iterator[Item]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": _user_pk(user_id)}, ":prefix": {"S": "session#"}},
            "ConsistentRead": True,
        }
        while True:
            response = self._client.query(**request)
            yield from response.get("Items", [])
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            request["ExclusiveStartKey"] = last

    def list_for_user(self, user_id: str) -> list[SessionRecord]:
        now = self._now()
        records = [record for record in map(_from_item, self._items(user_id)) if record.is_live(now)]
        return sorted(records, key=lambda record: (record.created_at, record.session_id))

    def refresh(self, user_id: str, session_id: str, *, expires_at: int, updated_at: int) -> SessionRecord | None:
        now = self._now()
        # The TTL follows the new idle expiry, never past the absolute cap (both are in the condition's item).
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=self._key(user_id, session_id),
                UpdateExpression="SET sessionExpiresAt = :exp, updatedAt = :upd, expiresAt = :ttl",
                ConditionExpression=(
                    "attribute_exists(pk) AND sessionExpiresAt > :now AND absoluteExpiresAt > :now "
                    "AND absoluteExpiresAt >= :exp"
                ),
                ExpressionAttributeValues={
                    ":exp": {"N": str(expires_at)},
                    ":upd": {"N": str(updated_at)},
                    ":ttl": {"N": str(-(-expires_at // 1000))},
                    ":now": {"N": str(now)},
                },
                ReturnValues="ALL_NEW",
            )
        except Exception as error:
            if _is_condition_failure(error):
                return None
            raise
        return _from_item(response["Attributes"])

    def delete(self, user_id: str, session_id: str) -> None:
        self._client.delete_item(TableName=self._table, Key=self._key(user_id, session_id))

    def delete_for_user(self, user_id: str, *, keep: str | None = None) -> int:
        deleted = 0
        for item in list(self._items(user_id)):
            if item["sessionId"]["S"] == keep:
                continue
            self._client.delete_item(TableName=self._table, Key={"pk": item["pk"], "sk": item["sk"]})
            deleted += 1
        return deleted

    def update_user_snapshot(self, user_id: str, *, email: str, name: str) -> None:
        for item in list(self._items(user_id)):
            try:
                self._client.update_item(
                    TableName=self._table,
                    Key={"pk": item["pk"], "sk": item["sk"]},
                    UpdateExpression="SET email = :email, #name = :name",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeNames={"#name": "name"},
                    ExpressionAttributeValues={":email": {"S": email}, ":name": {"S": name}},
                )
            except Exception as error:
                if not _is_condition_failure(error):
                    raise

    def raw_item(self, user_id: str, session_id: str) -> dict[str, Any] | None:
        """The stored item, expired or not (for tests and tooling)."""
        response = self._client.get_item(TableName=self._table, Key=self._key(user_id, session_id), ConsistentRead=True)
        item = response.get("Item")
        return None if item is None else dict(item)


class DynamoDBRateLimitStore(_OnTable, RateLimitStore):
    """:class:`RateLimitStore` on the sessions table: conditional ``UpdateItem`` calls, at most three per hit."""

    def __init__(self, client: DynamoDBClient, table_name: str, *, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock

    def hit(self, key: str, window_s: int, limit: int) -> tuple[bool, int]:
        item_key = {"pk": {"S": f"ratelimit#{key}"}, "sk": {"S": "ratelimit"}}
        window_ms = window_s * 1000
        for _ in range(4):
            now = int(self._clock() * 1000)
            try:  # count in the open window
                self._client.update_item(
                    TableName=self._table,
                    Key=item_key,
                    UpdateExpression="SET #count = #count + :one",
                    ConditionExpression="attribute_exists(pk) AND windowStart > :stale AND #count < :limit",
                    ExpressionAttributeNames={"#count": "count"},
                    ExpressionAttributeValues={
                        ":one": {"N": "1"},
                        ":stale": {"N": str(now - window_ms)},
                        ":limit": {"N": str(limit)},
                    },
                )
                return True, 0
            except Exception as error:
                if not _is_condition_failure(error):
                    raise
            try:  # no window, or a stale one: open a new window
                self._client.update_item(
                    TableName=self._table,
                    Key=item_key,
                    UpdateExpression="SET windowStart = :now, #count = :one, expiresAt = :ttl",
                    ConditionExpression="attribute_not_exists(pk) OR windowStart <= :stale",
                    ExpressionAttributeNames={"#count": "count"},
                    ExpressionAttributeValues={
                        ":now": {"N": str(now)},
                        ":one": {"N": "1"},
                        ":stale": {"N": str(now - window_ms)},
                        ":ttl": {"N": str(-(-(now + window_ms) // 1000))},
                    },
                )
                return True, 0
            except Exception as error:
                if not _is_condition_failure(error):
                    raise
            # The window is open and full — unless another request just reopened it; look once more.
            item = self._client.get_item(TableName=self._table, Key=item_key, ConsistentRead=True).get("Item")
            if item is None or "windowStart" not in item or "count" not in item:
                continue  # reopened or being written meanwhile: try again
            start, count = int(item["windowStart"]["N"]), int(item["count"]["N"])
            if start > now - window_ms and count >= limit:
                return False, max(1, -(-(start + window_ms - now) // 1000))
        return False, window_s

    def peek(self, key: str, window_s: int) -> tuple[int, int]:
        item_key = {"pk": {"S": f"ratelimit#{key}"}, "sk": {"S": "ratelimit"}}
        now = int(self._clock() * 1000)
        item = self._client.get_item(TableName=self._table, Key=item_key, ConsistentRead=True).get("Item")
        if item is None or "windowStart" not in item or "count" not in item:
            return 0, 0
        start, count = int(item["windowStart"]["N"]), int(item["count"]["N"])
        if start <= now - window_s * 1000:
            return 0, 0
        return count, max(1, -(-(start + window_s * 1000 - now) // 1000))

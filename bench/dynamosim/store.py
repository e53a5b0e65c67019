"""The modelled DynamoDB table: items, transaction locks, per-partition throughput, limits and latencies.

Every rule below follows the DynamoDB Developer Guide; the page is named where the rule is applied:

* [TX]  "Amazon DynamoDB Transactions: How it works"
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html
  - TransactWriteItems: at most 100 actions on distinct items, at most 4 MB in aggregate, all or nothing.
  - "Transaction conflict handling": a TransactWriteItems whose item is part of another ongoing TransactWriteItems
    is cancelled (reason ``TransactionConflict``); a PutItem/UpdateItem/DeleteItem of an item in an ongoing
    TransactWriteItems fails with ``TransactionConflictException``; a TransactGetItems of such an item is
    cancelled (``TransactionConflict``). GetItem and Query read committed data and never conflict.
  - "Capacity management for transactions": transactional writes cost 2 write units per 1 KB, transactional
    reads 2 read units per 4 KB.
* [CANCEL] API reference, ``TransactionCanceledException``: DynamoDB cancels a TransactGetItems when "there is an
  ongoing TransactGetItems operation that conflicts with a concurrent PutItem, UpdateItem, DeleteItem or
  TransactWriteItems request" (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactGetItems.html).
* [RW]  "DynamoDB read and write operations" (capacity unit consumption)
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
  - a strongly consistent read of up to 4 KB: 1 read unit, item sizes rounded up to 4 KB (GetItem, and each
    item of a BatchGetItem separately); Query: the sum of the sizes of the items read, rounded up to 4 KB once;
    a read of an absent item still costs 1 unit.
  - a write of up to 1 KB: 1 write unit, rounded up per item; the larger of the old and new item counts.
* [PART] "Best practices for designing and using partition keys effectively" and "Understanding DynamoDB warm
  throughput" (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput-scenarios.html):
  each partition serves at most 3,000 read units and 1,000 write units per second; beyond that requests are
  throttled ("Key range throughput exceeded",
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/throttling-key-range-limit-exceeded-mitigation.html)
  however much capacity the (on-demand) table has as a whole.
* [LAT] "single-digit millisecond" latency (the DynamoDB product page); transactions run two phases and are
  slower. The medians below are assumptions in that range, not measurements.

Modelling choices (documented in docs/performance.md, "The DynamoDB model"):

* a partition is one partition key value (``pk``): the best case of on-demand splitting, where distinct keys
  never share a partition but one key (one item collection) never gets more than one partition's throughput;
* throughput is a token bucket per partition per direction refilled at the cap, holding ``burst_s`` seconds of
  it; capacity is taken when a request is admitted (a transaction cancelled afterwards has still consumed it);
* a TransactWriteItems checks locks and conditions when it arrives, holds its items locked for its service time
  and applies all its writes at one instant at the end (so the model never shows part of a transaction to a
  Query, which real DynamoDB may; the engine's validation covers that case and moto's tests exercise it).
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import random
import re
from collections import Counter, defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from authlib_core.database.engines.dynamodb.layout import item_size

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from bench.dynamosim.scheduler import Scheduler

Key = tuple[str, bytes]
Item = dict[str, dict[str, Any]]

#: [TX] limits of one TransactWriteItems / TransactGetItems.
MAX_ACTIONS = 100
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
#: Query stops after reading 1 MB (API reference, Query: "a single Query operation will read up to ... 1 MB").
MAX_PAGE_BYTES = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The model's parameters. Defaults: DynamoDB's documented caps; latencies are [LAT] assumptions."""

    #: [PART] per-partition caps, units per second.
    write_units_per_s: float = 1000.0
    read_units_per_s: float = 3000.0
    #: Seconds of the cap a partition's bucket holds (short bursts above the cap are absorbed up to this).
    burst_s: float = 0.25
    #: One-way network time Lambda <-> DynamoDB plus the client's own per-call work, seconds.
    one_way_s: float = 0.0004
    #: Median service time per operation, seconds (lognormal with ``sigma``).
    service_median_s: Mapping[str, float] = dataclasses.field(
        default_factory=lambda: {
            "GetItem": 0.0025,
            "Query": 0.0035,
            "BatchGetItem": 0.0035,
            "TransactGetItems": 0.005,
            "TransactWriteItems": 0.009,
            "PutItem": 0.004,
        }
    )
    #: Extra service time per action of a transaction, seconds.
    per_action_s: float = 0.0002
    sigma: float = 0.35


class StoreError(Exception):
    """An error response of the modelled DynamoDB (the client turns it into botocore's ``ClientError``)."""

    def __init__(self, code: str, message: str, *, reasons: list[str] | None = None, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.reasons = reasons
        self.status = status

    @property
    def throttled(self) -> bool:
        return self.code == "ProvisionedThroughputExceededException"


def read_units(size: int, *, transactional: bool = False) -> int:
    """[RW]/[TX] read units of one strongly consistent (or transactional) read of ``size`` bytes."""
    return max(1, math.ceil(size / 4096)) * (2 if transactional else 1)


def write_units(size: int, *, transactional: bool = False) -> int:
    """[RW]/[TX] write units of one write of ``size`` bytes."""
    return max(1, math.ceil(size / 1024)) * (2 if transactional else 1)


class _Bucket:
    """[PART] one partition's token bucket for one direction."""

    __slots__ = ("depth", "last", "rate", "tokens")

    def __init__(self, rate: float, depth: float) -> None:
        self.rate = rate
        self.depth = depth
        self.tokens = depth
        self.last = 0.0

    def level(self, now: float) -> float:
        self.tokens = min(self.depth, self.tokens + (now - self.last) * self.rate)
        self.last = now
        return self.tokens


@dataclasses.dataclass
class StoreStats:
    """What the store saw: calls, throttles, cancellations, capacity per partition and per second."""

    calls: Counter[str] = dataclasses.field(default_factory=Counter)
    throttles: int = 0
    transaction_conflicts: int = 0
    condition_failures: int = 0
    #: (partition, whole second) -> [read units, write units]
    units: defaultdict[tuple[str, int], list[float]] = dataclasses.field(
        default_factory=lambda: defaultdict(lambda: [0.0, 0.0])
    )
    #: item -> TransactionConflict cancellations it caused
    conflict_items: Counter[Key] = dataclasses.field(default_factory=Counter)

    def busiest(self) -> tuple[str, float, str]:
        """The partition and direction with the highest units in any one second: (partition, % of cap, kind)."""
        best = ("-", 0.0, "")
        for (pk, _), (read, write) in self.units.items():
            for share, kind in ((read / 3000.0, "read"), (write / 1000.0, "write")):
                if share * 100 > best[1]:
                    best = (pk, share * 100, kind)
        return best


_CONDITION_ABSENT = re.compile(r"^attribute_not_exists\((\w+)\)$")
_CONDITION_EQUAL = re.compile(r"^(\w+) = (:\w+)$")
_CONDITION_COUNTED = re.compile(r"^(\w+) > (:\w+) AND (\w+) = (\w+)$")
_UPDATE = re.compile(r"^ADD ((?:\w+ :\w+)(?:, \w+ :\w+)*)(?: SET (\w+) = if_not_exists\((\w+), (:\w+)\) \+ (:\w+))?$")
_KEY_BETWEEN = re.compile(r"^pk = (:\w+) AND sk BETWEEN (:\w+) AND (:\w+)$")
_KEY_FROM = re.compile(r"^pk = (:\w+) AND sk >= (:\w+)$")


def _key_of(key: Mapping[str, Mapping[str, Any]]) -> Key:
    return (str(key["pk"]["S"]), bytes(key["sk"]["B"]))


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    if "N" in a and "N" in b:
        return Decimal(a["N"]) == Decimal(b["N"])
    return dict(a) == dict(b)


def _condition_holds(expression: str | None, item: Item | None, values: Mapping[str, Any]) -> bool:
    """The condition expressions the engine sends; anything else is a model gap and raises."""
    if expression is None:
        return True
    if match := _CONDITION_ABSENT.match(expression):
        return item is None or match.group(1) not in item
    if match := _CONDITION_EQUAL.match(expression):
        name, placeholder = match.groups()
        return item is not None and name in item and _same(item[name], values[placeholder])
    if match := _CONDITION_COUNTED.match(expression):
        name, placeholder, left, right = match.groups()
        if item is None or any(attribute not in item for attribute in (name, left, right)):
            return False
        above = Decimal(item[name]["N"]) > Decimal(values[placeholder]["N"])
        return above and _same(item[left], item[right])
    raise NotImplementedError(f"the DynamoDB model does not evaluate the condition {expression!r}")


def _project(item: Item, projection: str | None) -> Item:
    if projection is None:
        return {name: dict(value) for name, value in item.items()}
    names = [name.strip() for name in projection.split(",")]
    return {name: dict(item[name]) for name in names if name in item}


class _Watch:
    """One in-flight TransactGetItems: the items it reads and those a write touched meanwhile."""

    __slots__ = ("hit", "keys")

    def __init__(self, keys: list[Key]) -> None:
        self.keys = keys
        self.hit: set[Key] = set()


class Store:
    """One DynamoDB table with the behaviour documented above, in virtual time.

    Each ``serve_*`` method runs on the scheduler when a request arrives and calls ``reply(outcome, when)`` with
    the response (a dict, or a :class:`StoreError`) and the virtual time it leaves DynamoDB.
    """

    def __init__(self, sim: Scheduler, config: ModelConfig | None = None, *, seed: int = 0) -> None:
        self.sim = sim
        self.rng = random.Random(seed)
        self.config = config or ModelConfig()
        self._items: dict[str, dict[bytes, Item]] = {}
        self._sorted: dict[str, list[bytes]] = {}
        self._locks: dict[Key, int] = {}
        #: items read by TransactGetItems still in flight -> their watches
        self._watchers: dict[Key, list[_Watch]] = {}
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._next_transaction = 0
        self.stats = StoreStats()

    # -- items -------------------------------------------------------------------------------------------------
    def item(self, key: Key) -> Item | None:
        return self._items.get(key[0], {}).get(key[1])

    def items(self) -> Iterable[Item]:
        """Every item, in (partition, sort key) order."""
        for pk in sorted(self._items):
            for sk in self._sorted[pk]:
                yield self._items[pk][sk]

    def _put(self, key: Key, item: Item) -> None:
        partition = self._items.setdefault(key[0], {})
        if key[1] not in partition:
            bisect.insort(self._sorted.setdefault(key[0], []), key[1])
        partition[key[1]] = {name: dict(value) for name, value in item.items()}

    def _delete(self, key: Key) -> None:
        partition = self._items.get(key[0], {})
        if partition.pop(key[1], None) is not None:
            keys = self._sorted[key[0]]
            del keys[bisect.bisect_left(keys, key[1])]

    # -- capacity ------------------------------------------------------------------------------------------------
    def _admit(self, reads: Mapping[str, float], writes: Mapping[str, float]) -> list[str]:
        """[PART] take the units from every partition's bucket, or none if one would go over: throttled partitions."""
        now = self.sim.now
        short: list[str] = []
        buckets: list[tuple[_Bucket, float]] = []
        for kind, demand, rate in (
            ("r", reads, self.config.read_units_per_s),
            ("w", writes, self.config.write_units_per_s),
        ):
            for pk, units in demand.items():
                bucket = self._buckets.get((pk, kind))
                if bucket is None:
                    bucket = self._buckets[(pk, kind)] = _Bucket(rate, rate * self.config.burst_s)
                level = bucket.level(now)
                # A request larger than the whole bucket passes when the bucket is full (and drives it negative).
                if level < units and level < bucket.depth:
                    short.append(pk)
                buckets.append((bucket, units))
        if short:
            self.stats.throttles += 1
            return short
        second = int(now)
        for kind_index, demand in ((0, reads), (1, writes)):
            for pk, units in demand.items():
                self.stats.units[(pk, second)][kind_index] += units
        for bucket, units in buckets:
            bucket.tokens -= units
        return []

    def _latency(self, operation: str, actions: int = 0) -> float:
        median = self.config.service_median_s[operation] + actions * self.config.per_action_s
        return float(median * math.exp(self.config.sigma * self._gauss()))

    def _gauss(self) -> float:
        return self.rng.gauss(0.0, 1.0)

    # -- operations ----------------------------------------------------------------------------------------------
    def serve(self, operation: str, params: Mapping[str, Any], reply: Callable[[Any, float], None]) -> None:
        self.stats.calls[operation] += 1
        handler = getattr(self, f"_serve_{operation}", None)
        if handler is None:
            raise NotImplementedError(f"the DynamoDB model does not implement {operation}")
        handler(params, reply)

    def _done(self, operation: str, reply: Callable[[Any, float], None], outcome: Any, actions: int = 0) -> None:
        reply(outcome, self.sim.now + self._latency(operation, actions))

    def _throttled(self) -> StoreError:
        return StoreError(
            "ProvisionedThroughputExceededException",
            "The level of configured provisioned throughput for the table was exceeded (KeyRangeThroughputExceeded).",
        )

    def _serve_GetItem(self, params: Mapping[str, Any], reply: Callable[[Any, float], None]) -> None:
        key = _key_of(params["Key"])
        item = self.item(key)
        if self._admit({key[0]: read_units(item_size(item) if item else 0)}, {}):
            self._done("GetItem", reply, self._throttled())
            return
        response = {} if item is None else {"Item": _project(item, params.get("ProjectionExpression"))}
        self._done("GetItem", reply, response)

    def _serve_BatchGetItem(self, params: Mapping[str, Any], reply: Callable[[Any, float], None]) -> None:
        ((table, request),) = params["RequestItems"].items()
        keys = [_key_of(key) for key in request["Keys"]]
        reads: Counter[str] = Counter()
        for key in keys:
            item = self.item(key)
            reads[key[0]] += read_units(item_size(item) if item else 0)
        if self._admit(reads, {}):
            self._done("BatchGetItem", reply, self._throttled())
            return
        found = [self.item(key) for key in keys]
        projection = request.get("ProjectionExpression")
        items = [_project(item, projection) for item in found if item is not None]
        self._done("BatchGetItem", reply, {"Responses": {table: items}, "UnprocessedKeys": {}})

    def _serve_Query(self, params: Mapping[str, Any], reply: Callable[[Any, float], None]) -> None:
        values = params["ExpressionAttributeValues"]
        expression = params["KeyConditionExpression"]
        if match := _KEY_BETWEEN.match(expression):
            pk = str(values[match.group(1)]["S"])
            low, high = bytes(values[match.group(2)]["B"]), bytes(values[match.group(3)]["B"])
        elif match := _KEY_FROM.match(expression):
            pk = str(values[match.group(1)]["S"])
            low, high = bytes(values[match.group(2)]["B"]), None
        else:
            raise NotImplementedError(f"the DynamoDB model does not evaluate the key condition {expression!r}")
        keys = self._sorted.get(pk, [])
        start = bisect.bisect_left(keys, low)
        end = len(keys) if high is None else bisect.bisect_right(keys, high)
        selected = keys[start:end]
        forward = params.get("ScanIndexForward", True)
        if not forward:
            selected = selected[::-1]
        if "ExclusiveStartKey" in params:
            after = bytes(params["ExclusiveStartKey"]["sk"]["B"])
            selected = [sk for sk in selected if (sk > after if forward else sk < after)]
        limit = params.get("Limit")
        out: list[Item] = []
        read_bytes = 0
        stopped = False
        for sk in selected:
            if (limit is not None and len(out) >= limit) or read_bytes >= MAX_PAGE_BYTES:
                stopped = True
                break
            item = self._items[pk][sk]
            read_bytes += item_size(item)
            out.append(item)
        # LastEvaluatedKey when the page stopped at Limit or 1 MB with items left (as moto does; DynamoDB may also
        # return one when exactly Limit items were left, which the engine never follows: it asks for one more
        # item than it needs).
        if limit is not None and len(out) == limit and len(out) < len(selected):
            stopped = True
        if self._admit({pk: read_units(read_bytes)}, {}):
            self._done("Query", reply, self._throttled())
            return
        response: dict[str, Any] = {
            "Items": [_project(item, params.get("ProjectionExpression")) for item in out],
            "Count": len(out),
        }
        if stopped and out:
            response["LastEvaluatedKey"] = {"pk": dict(out[-1]["pk"]), "sk": dict(out[-1]["sk"])}
        self._done("Query", reply, response)

    def _serve_TransactGetItems(self, params: Mapping[str, Any], reply: Callable[[Any, float], None]) -> None:
        gets = [action["Get"] for action in params["TransactItems"]]
        if len(gets) > MAX_ACTIONS:
            self._done("TransactGetItems", reply, StoreError("ValidationException", "more than 100 items"))
            return
        keys = [_key_of(get["Key"]) for get in gets]
        reads: Counter[str] = Counter()
        for key in keys:
            item = self.item(key)
            reads[key[0]] += read_units(item_size(item) if item else 0, transactional=True)
        if self._admit(reads, {}):
            reasons = ["ThrottlingError"] * len(keys)
            self._done("TransactGetItems", reply, _cancelled(reasons))
            return
        # [TX] a TransactGetItems of an item in an ongoing TransactWriteItems is cancelled, and [CANCEL] so is an
        # ongoing TransactGetItems when a write of one of its items arrives before it completes.
        reasons = ["TransactionConflict" if key in self._locks else "None" for key in keys]
        if "TransactionConflict" in reasons:
            self._record_conflicts(keys, reasons)
            self._done("TransactGetItems", reply, _cancelled(reasons))
            return
        watch = _Watch(keys)
        for key in keys:
            self._watchers.setdefault(key, []).append(watch)

        def finish() -> None:
            for key in keys:
                self._watchers[key].remove(watch)
                if not self._watchers[key]:
                    del self._watchers[key]
            if watch.hit:
                hit = ["TransactionConflict" if key in watch.hit else "None" for key in keys]
                self._record_conflicts(keys, hit)
                reply(_cancelled(hit), self.sim.now)
                return
            responses = []
            for key, get in zip(keys, gets, strict=True):
                item = self.item(key)
                responses.append({} if item is None else {"Item": _project(item, get.get("ProjectionExpression"))})
            reply({"Responses": responses}, self.sim.now)

        self.sim.at(self.sim.now + self._latency("TransactGetItems", len(keys)), finish)

    def _writing(self, key: Key) -> None:
        """A write of ``key`` begins (a transaction takes its lock, or a single-item write applies)."""
        for watch in self._watchers.get(key, ()):
            watch.hit.add(key)

    def _record_conflicts(self, keys: list[Key], reasons: list[str]) -> None:
        self.stats.transaction_conflicts += 1
        for key, reason in zip(keys, reasons, strict=True):
            if reason == "TransactionConflict":
                self.stats.conflict_items[key] += 1

    def _serve_PutItem(self, params: Mapping[str, Any], reply: Callable[[Any, float], None]) -> None:
        item = params["Item"]
        key = _key_of(item)
        old = self.item(key)
        size = max(item_size(item), item_size(old) if old else 0)
        if self._admit({}, {key[0]: write_units(size)}):
            self._done("PutItem", reply, self._throttled())
            return
        if key in self._locks:  # [TX] a single-item write of an item in an ongoing transaction
            self.stats.transaction_conflicts += 1
            self.stats.conflict_items[key] += 1
            error = StoreError("TransactionConflictException", "Transaction is ongoing for the item")
            self._done("PutItem", reply, error)
            return
        if not _condition_holds(params.get("ConditionExpression"), old, params.get("ExpressionAttributeValues", {})):
            self.stats.condition_failures += 1
            self._done(
                "PutItem", reply, StoreError("ConditionalCheckFailedException", "The conditional request failed")
            )
            return
        self._writing(key)
        self._put(key, item)
        self._done("PutItem", reply, {})

    def _serve_TransactWriteItems(self, params: Mapping[str, Any], reply: Callable[[Any, float], None]) -> None:
        actions = [next(iter(action.items())) for action in params["TransactItems"]]
        keys = [_key_of(body["Item"] if kind == "Put" else body["Key"]) for kind, body in actions]
        # [TX] at most 100 actions, on distinct items, at most 4 MB in aggregate.
        size = sum(item_size(body["Item"]) if kind == "Put" else item_size(body["Key"]) for kind, body in actions)
        if len(actions) > MAX_ACTIONS or len(set(keys)) != len(keys) or size > MAX_TRANSACTION_BYTES:
            error = StoreError(
                "ValidationException", f"{len(actions)} actions, {len(set(keys))} distinct items, {size} bytes"
            )
            self._done("TransactWriteItems", reply, error)
            return
        writes: Counter[str] = Counter()
        for (kind, body), key in zip(actions, keys, strict=True):
            old = self.item(key)
            new_size = item_size(body["Item"]) if kind == "Put" else 0
            writes[key[0]] += write_units(max(new_size, item_size(old) if old else 0), transactional=True)
        if self._admit({}, writes):
            self._done("TransactWriteItems", reply, _cancelled(["ThrottlingError"] * len(actions)))
            return
        # [TX] "Transaction conflict handling": an item held by another ongoing transaction cancels this one.
        reasons = ["TransactionConflict" if key in self._locks else "None" for key in keys]
        if "TransactionConflict" in reasons:
            self._record_conflicts(keys, reasons)
            self._done("TransactWriteItems", reply, _cancelled(reasons))
            return
        reasons = [
            "None"
            if _condition_holds(
                body.get("ConditionExpression"), self.item(key), body.get("ExpressionAttributeValues", {})
            )
            else "ConditionalCheckFailed"
            for (_, body), key in zip(actions, keys, strict=True)
        ]
        if "ConditionalCheckFailed" in reasons:
            self.stats.condition_failures += 1
            self._done("TransactWriteItems", reply, _cancelled(reasons))
            return
        self._next_transaction += 1
        transaction = self._next_transaction
        for key in keys:
            self._locks[key] = transaction
            self._writing(key)
        finish = self.sim.now + self._latency("TransactWriteItems", len(actions))

        def commit() -> None:
            for (kind, body), key in zip(actions, keys, strict=True):
                self._apply(kind, body, key)
                del self._locks[key]
            reply({}, self.sim.now)

        self.sim.at(finish, commit)

    def _apply(self, kind: str, body: Mapping[str, Any], key: Key) -> None:
        if kind == "Put":
            self._put(key, body["Item"])
        elif kind == "Delete":
            self._delete(key)
        elif kind == "Update":
            self._put(key, _updated(self.item(key) or {"pk": {"S": key[0]}, "sk": {"B": key[1]}}, body))
        elif kind != "ConditionCheck":
            raise NotImplementedError(f"the DynamoDB model does not apply {kind}")


def _updated(item: Item, body: Mapping[str, Any]) -> Item:
    """The update expressions the engine sends: ``ADD a :x[, b :y]`` and an optional
    ``SET c = if_not_exists(d, :z) + :w``; every operand is the item before the update, as in DynamoDB."""
    match = _UPDATE.match(body["UpdateExpression"])
    if match is None:
        raise NotImplementedError(f"the DynamoDB model does not apply {body['UpdateExpression']!r}")
    values = body["ExpressionAttributeValues"]

    def number(name: str, default: Decimal) -> Decimal:
        return Decimal(item[name]["N"]) if name in item else default

    out = dict(item)
    for clause in match.group(1).split(", "):
        name, placeholder = clause.split(" ")
        out[name] = {"N": str(number(name, Decimal(0)) + Decimal(values[placeholder]["N"]))}
    target, source, fallback, addend = match.group(2, 3, 4, 5)
    if target is not None:
        out[target] = {"N": str(number(source, Decimal(values[fallback]["N"])) + Decimal(values[addend]["N"]))}
    return out


def _cancelled(reasons: list[str]) -> StoreError:
    return StoreError(
        "TransactionCanceledException",
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{', '.join(reasons)}]",
        reasons=reasons,
    )

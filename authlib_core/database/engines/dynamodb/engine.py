"""The DynamoDB storage engine: strongly consistent reads, Query-only index ranges, one TransactWriteItems per commit.

See ``docs/dynamodb.md`` for the layout (index layout 2), the conflict detection and the call counts. In short:

* ``get`` — 1 ``GetItem`` (consistent) of the document item; the version read is remembered.
* ``scan`` — the range's guard versions (the value version for ``eq`` on the first field, else every partition
  version of the index, plus, on an index with value versions, those of the values seen and of the cursor's
  value, which costs a second round) are read once per transaction **before** the first ``Query`` (1 ``GetItem``, or one
  ``BatchGetItem``); then 1 consistent ``Query`` per partition per page (entries hold only document ids), and
  1 ``TransactGetItems`` of the guards and the page's documents (≤ 100 items per call), which also confirms that
  no entry was added to or removed from the range meanwhile (else the page is read again).
* ``commit`` — 1 ``TransactWriteItems``: conditional document ``Put``/``Delete`` (version read), index entry
  ``Put``/``Delete`` and version bumps **only where a key was added, removed or moved**, conditions on every
  version read and every document read but not written. A partition version is bumped for removals and for
  inserts whose value is not proved to have entries (value versions count them); a blind insert that relied on
  this engine's memory of a value's entries and found none is sent once more with the bump (2 calls).
* ``validate`` — 0 calls when the last scan's ``TransactGetItems`` confirmed every read; else 1
  ``TransactGetItems`` of every version read (0 when the transaction made a single ``GetItem``). An index version
  that moved is not a conflict by itself: its covered intervals are re-read (1 ``Query`` each) and compared with
  what was seen, then a second ``TransactGetItems`` confirms the versions (a seqlock).
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from authlib_core.database.deadline import carry, remaining
from authlib_core.database.engines.dynamodb import layout
from authlib_core.database.engines.dynamodb.commits import COMMIT_MARKER_BYTES, commit_transaction
from authlib_core.database.engines.dynamodb.errors import ConditionsFailedError, ItemsBusyError, dynamodb_errors
from authlib_core.database.engines.dynamodb.layout import (
    ATTR_COUNT,
    ATTR_COUNTED_AT,
    ATTR_CREATION_TIME,
    ATTR_DOC,
    ATTR_ID,
    ATTR_TABLE,
    ATTR_VERSION,
    FIRST_ENTRY_KEY,
    MAX_ITEM_BYTES,
    MAX_SORT_KEY_BYTES,
    MAX_TRANSACTION_ACTIONS,
    MAX_TRANSACTION_BYTES,
    VERSION_SK,
)
from authlib_core.database.engines.dynamodb.receipts import (
    MAX_RECEIPT_BYTES,
    absent_put,
    fits,
    keep_after_commit,
    read_receipt,
    receipt_item,
    room_for_receipt,
    write_receipt,
)
from authlib_core.database.interface import (
    DocumentRecord,
    EngineTransaction,
    IndexEntry,
    IndexSpec,
    KeyRange,
    Order,
    ScanResult,
    StorageEngine,
    TransactionMode,
    WriteOp,
    deserialize_document,
    serialize_document,
)
from authlib_core.database.readset import ReadSet
from authlib_core.database.receipts import ReceiptExistsError
from authlib_core.errors import BudgetSpentError, ConflictError, LimitExceededError
from authlib_core.values import index_key

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

    from mypy_boto3_dynamodb.client import DynamoDBClient

    from authlib_core.database.receipts import Receipt

__all__ = ["DynamoDBEngine", "DynamoDBTransaction"]

#: What a client is told when a concurrent write changed this transaction's reads (the log gets the details).
_CHANGED = "A concurrent write changed data this call read."
#: Items per BatchWriteItem (DynamoDB's maximum), used by index builds only.
_BATCH_WRITE = 25
#: Keys per BatchGetItem (DynamoDB's maximum).
_BATCH_GET = 100
#: Re-read-and-confirm rounds of ``validate`` when shard versions keep moving without the read intervals changing
#: (each round: 1 Query per covered interval of each moved shard + 1 TransactGetItems).
_CONFIRM_ROUNDS = 4
#: Sends of one commit cancelled only by ``TransactionConflict`` (another transaction holding an item for the
#: ~10 ms of its own commit), and the first pause between them (doubling, jittered).
_BUSY_ATTEMPTS = 3
_BUSY_PAUSE_S = 0.008
#: What a read of a version item fetches: its version and, for value versions, the entry count (layout.py).
_VERSION_ATTRIBUTES = f"{ATTR_VERSION}, {ATTR_COUNT}, {ATTR_COUNTED_AT}"
#: Value versions one page of a range without ``eq`` on the first field guards (one per distinct first-field
#: value it returns, plus the cursor's): a page stops before a value that would exceed it, so the guards, the
#: documents and a mutation's conditions stay well inside 100 items per transaction.
_MAX_VALUE_GUARDS = 32
#: Keeps ``ecv`` equal to ``ver`` on a value version whose count is exact (and unequal on one whose is not).
_COUNTED_AT_FOLLOWS_VER = f"{ATTR_COUNTED_AT} = if_not_exists({ATTR_COUNTED_AT}, :zero) + :one"
#: The condition of a blind insert sent without its partition bump: the value has entries, by an exact count.
_HAS_COUNTED_ENTRIES = f"{ATTR_COUNT} > :zero AND {ATTR_COUNTED_AT} = ver"
#: Value versions an engine remembers as having entries (least recently used forgotten first).
_COUNT_HINTS = 4096


def _key(pk: str, sk: bytes) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"B": sk}}


class _Action:
    """One TransactWriteItems action under construction, with a description for conflict messages."""

    __slots__ = ("condition", "description", "item", "key", "kind", "names", "update", "values")

    def __init__(self, kind: str, key: dict[str, Any], description: str) -> None:
        self.kind = kind  # "Put" | "Delete" | "Update" | "ConditionCheck"
        self.key = key
        self.description = description
        self.item: dict[str, Any] | None = None
        self.update: str | None = None
        self.condition: str | None = None
        self.values: dict[str, Any] = {}
        self.names: dict[str, str] = {}

    def condition_on_version(self, version: int | None, *, attribute_for_absent: str = "pk") -> None:
        """Require the item's ``ver`` to be ``version`` (or the item / its ``ver`` to be absent when None)."""
        if version is None:
            self.condition = f"attribute_not_exists({attribute_for_absent})"
        else:
            self.condition = "ver = :seen"
            self.values[":seen"] = {"N": str(version)}

    def size(self) -> int:
        if self.item is not None:
            return layout.item_size(self.item)
        return layout.item_size(self.key) + sum(layout.item_size({name: value}) for name, value in self.values.items())

    def request(self, table_name: str) -> dict[str, Any]:
        body: dict[str, Any] = {"TableName": table_name}
        if self.item is not None:
            body["Item"] = self.item
        else:
            body["Key"] = self.key
        if self.update is not None:
            body["UpdateExpression"] = self.update
        if self.condition is not None:
            body["ConditionExpression"] = self.condition
        if self.values:
            body["ExpressionAttributeValues"] = self.values
        if self.names:
            body["ExpressionAttributeNames"] = self.names
        return {self.kind: body}


@dataclasses.dataclass(frozen=True, slots=True)
class _Covered:
    """One interval ``[start, end)`` of one index partition covered by a scan, and the entry keys it saw there."""

    partition: str
    start: bytes
    end: bytes
    #: the key of every entry of the partition inside the interval, in ascending order.
    keys: tuple[bytes, ...]


def _merge_intervals(covered: Sequence[_Covered]) -> list[tuple[bytes, bytes]]:
    """The union of the covered intervals as disjoint ``[start, end)`` intervals (touching ones merge)."""
    merged: list[list[bytes]] = []
    for interval in sorted(covered, key=lambda c: c.start):
        if merged and interval.start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], interval.end)
        else:
            merged.append([interval.start, interval.end])
    return [(start, end) for start, end in merged]


def _version_key(pk: str) -> dict[str, Any]:
    return _key(pk, VERSION_SK)


def _version_of(item: Mapping[str, Any] | None) -> int | None:
    return None if not item or ATTR_VERSION not in item else int(item[ATTR_VERSION]["N"])


@dataclasses.dataclass(slots=True)
class _Fetched:
    """What one round of a scan read: the entries returned, the documents they point to, the guards' versions."""

    entries: list[tuple[bytes, str]]
    per_partition: list[tuple[list[tuple[bytes, str]], bool]]
    exhausted: bool
    documents: dict[str, dict[str, Any] | None]
    #: every guard's version as the fetch read it (None when the page was empty: nothing was fetched).
    guards: dict[str, int | None] | None
    #: the fetch was one TransactGetItems: its documents and guards are one instant's state.
    atomic: bool
    #: versions of this transaction's earlier reads that the same call read (``d#<id>`` for documents).
    earlier: dict[str, int | None] = dataclasses.field(default_factory=dict)


class DynamoDBTransaction(EngineTransaction):
    """One transaction's reads (with the versions they saw) and its commit. Not shared between threads."""

    def __init__(self, engine: DynamoDBEngine, *, writable: bool) -> None:
        self._engine = engine
        self._client = engine.client
        self._table = engine.table_name
        self._writable = writable
        #: document id -> version read by ``get`` or through a scan (None: the document did not exist).
        self._documents: dict[str, int | None] = {}
        #: version item partition key (a partition version ``e#...`` or a value version ``v#...``) -> its
        #: version when this transaction first read it (None: no item yet).
        self._versions: dict[str, int | None] = {}
        self._version_names: dict[str, str] = {}
        #: (value version partition key, version) states read with an exact entry count above zero.
        self._positive: set[tuple[str, int | None]] = set()
        #: value version partition key -> the index partition holding that value's entries (ranges without eq).
        self._value_partition: dict[str, str] = {}
        #: version item partition key -> the intervals scanned under it, with the keys each scan saw there.
        self._covered: dict[str, list[_Covered]] = {}
        #: shard partition key -> (table, index) it belongs to (names the intervals of ``read_set``).
        self._covered_index: dict[str, tuple[str, str]] = {}
        #: the documents read by ``get`` (those a scan returned are covered by its interval in ``read_set``).
        self._got: set[str] = set()
        #: the versions (``d#<id>`` for documents) one TransactGetItems confirmed at one instant, when that was the
        #: last read and covered every read so far; ``validate`` then has nothing left to check.
        self._snapshot: dict[str, int | None] | None = None
        self._closed = False
        self._receipt: Receipt | None = None

    # -- reads ---------------------------------------------------------------------------------------------
    def get(self, document_id: str) -> DocumentRecord | None:
        with dynamodb_errors(f"GetItem of document {document_id} in table {self._table!r}"):
            response = self._client.get_item(
                TableName=self._table, Key=layout.document_item_key(document_id), ConsistentRead=True
            )
        item = response.get("Item")
        record = None if item is None else _document_record(item, document_id)
        self._remember_document(document_id, None if record is None else record.version)
        self._got.add(document_id)
        return record

    def _remember_document(self, document_id: str, version: int | None) -> None:
        seen = self._documents.setdefault(document_id, version)
        if seen != version:
            raise ConflictError(
                _CHANGED, detail=f"document {document_id} changed while this transaction was reading it"
            )
        if self._snapshot is not None and self._snapshot.get(layout.document_pk(document_id), -1) != version:
            self._snapshot = None

    def scan(self, key_range: KeyRange, order: Order, *, after: bytes | None, limit: int) -> ScanResult:
        """Entries of the range from the index partitions, documents by one ``TransactGetItems`` per page.

        The range's **guards** — the value version of ``eq_values[0]``, or every partition version of the index
        when the first field is not fixed — are read before the first ``Query`` (once per transaction) and read
        again by the ``TransactGetItems`` that fetches the documents. Equal: no entry was added to or removed from
        the range in between, so the entries and documents are the range's state at that instant. Moved: the
        ``Query`` runs again with the versions just read (at most ``_CONFIRM_ROUNDS`` rounds).
        """
        spec = key_range.index
        lower = max(key_range.lower, FIRST_ENTRY_KEY)
        upper = key_range.upper
        if after is not None:
            if order == "asc":
                lower = max(lower, after + b"\x00")  # the smallest key strictly greater than `after`
            else:
                upper = min(upper, after)
        if lower >= upper or limit <= 0:
            return ScanResult(entries=[], exhausted=lower >= upper)
        version_names = self._version_names
        if key_range.eq_values:
            partition, value_pk = layout.eq_range_pks(spec, index_key(key_range.eq_values[:1]))
            partitions = [partition]
        else:
            partitions = [layout.shard_pk(spec, shard) for shard in range(layout.partitions(spec))]
        # Without eq on the first field, a range of an index with value versions also guards every first-field
        # value it sees (and the cursor's value): inserts into a value that has entries bump only its value
        # version (docs/dynamodb.md §3).
        counted = not key_range.eq_values and layout.has_value_versions(spec)
        if key_range.eq_values and layout.has_value_versions(spec):
            guards = [value_pk]
            if value_pk not in version_names:
                version_names[value_pk] = f"index {spec.qualified_name} value {key_range.eq_values[0]!r}"
        else:
            guards = list(partitions)
            for pk in partitions:
                if pk not in version_names:
                    version_names[pk] = f"index {spec.qualified_name} partition {pk.rsplit('#', 1)[1]}"
            if counted and after is not None:
                guards.append(self._value_guard(spec, layout.first_component(after)))
        expected = self._read_versions(guards)
        for attempt in range(_CONFIRM_ROUNDS):
            try:
                fetched = self._fetch_round(spec, partitions, guards, lower, upper, order, limit, counted=counted)
            except ItemsBusyError:  # a commit held a guard or document during the TransactGetItems: read again
                if attempt + 1 == _CONFIRM_ROUNDS:
                    raise
                self._engine.sleep(self._engine.random.uniform(0.5, 1.0) * _BUSY_PAUSE_S * 2**attempt)
                continue
            if fetched.guards is None:
                break
            # Value versions first met by this round: read only now, after the Query; unless this transaction
            # read them before at the same version, the Query runs again with them read before it (the seqlock).
            new = [pk for pk in fetched.guards if pk not in guards]
            guards += new
            expected = {**expected, **{pk: self._versions[pk] for pk in new if pk in self._versions}}
            if all(pk in self._versions for pk in new) and fetched.guards == expected:
                break
            expected = fetched.guards  # read before the next round's Query: the seqlock of docs/dynamodb.md §4
        else:
            names = ", ".join(self._version_names.get(pk, pk) for pk in guards)
            raise ConflictError(_CHANGED, detail=f"index entries kept changing while this scan read them ({names})")
        self._covered_index.update((pk, (spec.table, spec.name)) for pk in partitions)
        return self._record_scan(spec, partitions, guards, expected, fetched, lower, upper, order)

    def _record_scan(
        self,
        spec: IndexSpec,
        partitions: Sequence[str],
        guards: Sequence[str],
        versions: Mapping[str, int | None],
        fetched: _Fetched,
        lower: bytes,
        upper: bytes,
        order: Order,
    ) -> ScanResult:
        for pk in guards:
            self._versions.setdefault(pk, versions[pk])
        self._record_coverage(partitions, guards, fetched, lower, upper, order)
        entries: list[IndexEntry] = []
        for key, document_id in fetched.entries:
            item = fetched.documents.get(document_id)
            if item is None:  # the guards did not move, so the entry's document exists
                raise ConflictError(
                    _CHANGED, detail=f"index {spec.qualified_name} has an entry of document {document_id}, not stored"
                )
            record = _document_record(item, document_id)
            self._remember_document(document_id, record.version)
            entries.append(IndexEntry(key=key, document=record))
        self._snapshot = None
        if fetched.atomic and fetched.guards is not None:
            snapshot: dict[str, int | None] = {**fetched.earlier, **fetched.guards}
            snapshot.update((layout.document_pk(i), _version_of(d)) for i, d in fetched.documents.items())
            read = {layout.document_pk(i): v for i, v in self._documents.items()} | self._versions
            if all(snapshot.get(pk, -1) == version for pk, version in read.items()):
                self._snapshot = snapshot
        return ScanResult(entries=entries, exhausted=fetched.exhausted)

    def _fetch_round(
        self,
        spec: IndexSpec,
        partitions: Sequence[str],
        guards: Sequence[str],
        lower: bytes,
        upper: bytes,
        order: Order,
        limit: int,
        *,
        counted: bool = False,
    ) -> _Fetched:
        """One ``Query`` per partition (in parallel when several), then the documents and guards' versions.

        With ``counted``, the value version of every first-field value returned is read along as a guard; the page
        stops before the entry whose value would take the value guards past ``_MAX_VALUE_GUARDS``.
        """
        if len(partitions) == 1:
            results = [self._query(partitions[0], lower, upper, order, limit)]
        else:
            query = carry(lambda pk: self._query(pk, lower, upper, order, limit))  # keeps the time budget
            results = list(self._engine.executor().map(query, partitions))
        merged = [entry for entries, _ in results for entry in entries]
        if len(results) > 1:  # one partition's Query already returns its entries in scan order
            merged.sort(key=lambda entry: entry[0], reverse=(order == "desc"))
        exhausted = all(done for _, done in results) and len(merged) <= limit
        returned = merged[:limit]
        if not returned:
            return _Fetched(returned, results, exhausted, {}, None, atomic=False)
        if counted:
            guards = list(guards)
            for count, (key, _) in enumerate(returned):
                value_pk = self._value_guard(spec, layout.first_component(key))
                if value_pk in guards:
                    continue
                if count and len(guards) - len(partitions) >= _MAX_VALUE_GUARDS:  # never an empty page
                    returned, exhausted = returned[:count], False
                    break
                guards.append(value_pk)
        ids = [document_id for _, document_id in returned]
        page = set(ids)
        earlier = [pk for pk in self._versions if pk not in guards]
        earlier += [layout.document_pk(i) for i in self._documents if i not in page]
        if len(guards) + len(ids) + len(earlier) > MAX_TRANSACTION_ACTIONS:
            earlier = []  # does not fit in one call: validate checks them later
        documents, versions, atomic, seen = self._fetch_documents(ids, guards, earlier)
        return _Fetched(returned, results, exhausted, documents, versions, atomic=atomic, earlier=seen)

    def _fetch_documents(
        self, document_ids: Sequence[str], guards: Sequence[str], earlier: Sequence[str]
    ) -> tuple[dict[str, dict[str, Any] | None], dict[str, int | None], bool, dict[str, int | None]]:
        """``TransactGetItems`` of the guards' versions and the documents (full items), ≤ 100 items per call.

        Every call repeats the guards, so a guard that moved during any of them is seen. ``earlier`` (version
        item partition keys, ``d#<id>`` for documents) are this transaction's earlier reads, read along when
        everything fits in one call, so that the call confirms every read at once. Returns the documents (None:
        absent), the guards' versions (a guard that differs between calls is reported as ``-1``, which equals no
        version), whether it was a single call, and the versions of ``earlier``. A call refused as invalid — its
        items exceed 4 MB together, which only the answer tells — is split in two.
        """
        room = MAX_TRANSACTION_ACTIONS - len(guards)
        pending = [list(document_ids[start : start + room]) for start in range(0, len(document_ids), room)]
        documents: dict[str, dict[str, Any] | None] = {}
        versions: dict[str, int | None] = {}
        seen: dict[str, int | None] = {}
        calls = 0
        if len(pending) > 1:
            earlier = []
        while pending:
            chunk = pending.pop(0)
            along = earlier if not calls and not pending else []
            request = [
                {
                    "Get": {
                        "TableName": self._table,
                        "Key": _version_key(pk),
                        "ProjectionExpression": _VERSION_ATTRIBUTES,
                    }
                }
                for pk in [*guards, *along]
            ]
            request += [{"Get": {"TableName": self._table, "Key": layout.document_item_key(i)}} for i in chunk]
            names = [self._version_names.get(pk, pk) for pk in [*guards, *along]] + [f"document {i}" for i in chunk]
            calls += 1
            with dynamodb_errors(f"TransactGetItems of {len(chunk)} documents in table {self._table!r}", names):
                try:
                    response = self._client.transact_get_items(TransactItems=request)  # type: ignore[arg-type]
                except ClientError as exc:
                    if len(chunk) < 2 or exc.response.get("Error", {}).get("Code") != "ValidationException":
                        raise
                    pending[:0] = [chunk[: len(chunk) // 2], chunk[len(chunk) // 2 :]]
                    continue
            got = [answer.get("Item") for answer in response.get("Responses", [])]
            for pk, item in zip(guards, got[: len(guards)], strict=True):
                version = self._note_version(pk, item)
                versions[pk] = version if versions.get(pk, version) == version else -1
            head = len(guards) + len(along)
            seen = {pk: _version_of(item) for pk, item in zip(along, got[len(guards) : head], strict=True)}
            documents.update(zip(chunk, got[head:], strict=True))
        return documents, versions, calls == 1, seen

    def read_set(self) -> ReadSet:
        """The documents read by ``get`` and the index intervals scanned: the record conflict detection keeps.

        Documents a scan returned are not listed: the interval that returned them covers any change to them.

        An interval covered in several partitions of one index is one interval of the index (a key belongs to one
        partition, so the union over partitions is what the query read).
        """
        by_index: dict[tuple[str, str], list[_Covered]] = {}
        for covered in self._covered.values():
            for interval in covered:
                by_index.setdefault(self._covered_index[interval.partition], []).append(interval)
        ranges = {
            (table, index, start, end)
            for (table, index), intervals in by_index.items()
            for start, end in _merge_intervals(intervals)
        }
        return ReadSet(documents=frozenset(self._got), ranges=tuple(sorted(ranges)))

    def _record_coverage(
        self,
        partitions: Sequence[str],
        guards: Sequence[str],
        fetched: _Fetched,
        lower: bytes,
        upper: bytes,
        order: Order,
    ) -> None:
        """Remember, under each guard, the interval this scan covered in each partition and the keys seen there.

        The interval runs from where the scan started to the last entry returned (or to the end of the range
        when exhausted), as :meth:`EngineTransaction.scan` defines it; entries a partition's ``Query`` fetched
        past the last returned key are not part of the read. Every entry of a partition inside the interval was
        fetched (a partition whose own results stop early filled the whole batch with smaller keys), so the
        recorded keys are the partition's complete content of the interval as this scan saw it.
        """
        returned = fetched.entries
        if fetched.exhausted or not returned:
            start, end = lower, upper
        elif order == "asc":
            start, end = lower, returned[-1][0] + b"\x00"  # up to and including the last key returned
        else:
            start, end = returned[-1][0], upper
        intervals: dict[str, _Covered] = {}
        for pk, (entries, _) in zip(partitions, fetched.per_partition, strict=True):
            seen = tuple(sorted(key for key, _ in entries if start <= key < end))
            intervals[pk] = interval = _Covered(pk, start, end, seen)
            # A partition's own version guards its entries; a value version guards the value's one partition.
            guard = pk if pk in guards else guards[0]
            self._covered.setdefault(guard, []).append(interval)
        if len(guards) > len(partitions):  # a range without eq that also guards values: each its partition
            for guard in guards:
                partition = self._value_partition.get(guard)
                if guard not in partitions and partition in intervals:
                    self._covered.setdefault(guard, []).append(intervals[partition])

    def _value_guard(self, spec: IndexSpec, component: bytes) -> str:
        """The value version of the first key component ``component`` of ``spec``, named and mapped to its partition."""
        pk = layout.value_version_pk_of_component(spec, component)
        if pk not in self._value_partition:
            self._value_partition[pk] = layout.shard_pk(spec, layout.shard_of_component(spec, component))
            self._version_names.setdefault(pk, f"index {spec.qualified_name} value with key {component.hex()}")
        return pk

    def _note_version(self, pk: str, item: Mapping[str, Any] | None) -> int | None:
        """The version of a version item just read; remembers whether it said its value has entries (exactly)."""
        version = _version_of(item)
        if layout.count_is_positive(item):
            self._positive.add((pk, version))
            self._engine.remember_entries([pk])
        return version

    def _read_versions(self, guards: Sequence[str]) -> dict[str, int | None]:
        """The guards' versions: as first read by this transaction, the others read now (before any ``Query``)."""
        missing = [pk for pk in guards if pk not in self._versions]
        found: dict[str, int | None] = {pk: self._versions[pk] for pk in guards if pk in self._versions}
        if not missing:
            return found
        with dynamodb_errors(f"reading the versions of {', '.join(missing)} in table {self._table!r}"):
            if len(missing) == 1:
                response = self._client.get_item(
                    TableName=self._table,
                    Key=_version_key(missing[0]),
                    ConsistentRead=True,
                    ProjectionExpression=_VERSION_ATTRIBUTES,
                )
                found[missing[0]] = self._note_version(missing[0], response.get("Item"))
                return found
            for start in range(0, len(missing), _BATCH_GET):
                keys = [_version_key(pk) for pk in missing[start : start + _BATCH_GET]]
                request: dict[str, Any] = {
                    self._table: {
                        "Keys": keys,
                        "ConsistentRead": True,
                        "ProjectionExpression": "pk, " + _VERSION_ATTRIBUTES,
                    }
                }
                while request:
                    batch = self._client.batch_get_item(RequestItems=request)
                    for got in batch.get("Responses", {}).get(self._table, []):
                        found[str(got["pk"]["S"])] = self._note_version(str(got["pk"]["S"]), got)
                    request = dict(batch.get("UnprocessedKeys") or {})
        for pk in missing:
            found.setdefault(pk, None)
        return found

    def _range_page(
        self, pk: str, lower: bytes, upper: bytes, start_key: dict[str, Any] | None, **options: Any
    ) -> tuple[list[tuple[bytes, dict[str, Any]]], dict[str, Any] | None]:
        """One consistent ``Query`` page of ``[lower, upper)`` in partition ``pk``: (key, item) pairs, next start key.

        ``BETWEEN`` is inclusive and the interval is not, so an item whose key equals ``upper`` is dropped here.
        """
        params: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :p AND sk BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": {":p": {"S": pk}, ":lo": {"B": lower}, ":hi": {"B": upper}},
            "ConsistentRead": True,
            **options,
        }
        if start_key is not None:
            params["ExclusiveStartKey"] = start_key
        with dynamodb_errors(f"Query of {pk} in table {self._table!r}"):
            response = self._client.query(**params)
        pairs = [(bytes(item["sk"]["B"]), item) for item in response.get("Items", [])]
        return [(key, item) for key, item in pairs if key != upper], response.get("LastEvaluatedKey")

    def _query(
        self, pk: str, lower: bytes, upper: bytes, order: Order, limit: int
    ) -> tuple[list[tuple[bytes, str]], bool]:
        """Up to ``limit`` (key, document id) entries of ``[lower, upper)`` in one partition; (entries, exhausted)."""
        entries: list[tuple[bytes, str]] = []
        start_key: dict[str, Any] | None = None
        # Ask for one more than needed (the extra one may also be the dropped `upper`), so "exhausted" is usually
        # known without another round trip.
        while True:
            page, start_key = self._range_page(
                pk, lower, upper, start_key, ScanIndexForward=order == "asc", Limit=limit - len(entries) + 1
            )
            entries.extend((key, str(item[ATTR_ID]["S"])) for key, item in page)
            if len(entries) > limit:
                return entries[:limit], False
            if start_key is None:
                return entries, True
            if len(entries) == limit:
                return entries, False

    # -- commit --------------------------------------------------------------------------------------------
    def commit(self, writes: Sequence[WriteOp]) -> None:
        if not writes:
            self.validate()
            return
        if not self._writable:
            raise RuntimeError("commit with writes on a read-only DynamoDB transaction")
        self._check_transaction_limits(self._actions(writes, blind=False)[0], writes)
        blind = True
        attempt = 0
        unknown: set[str] = set()  # values a blind send found without an exact count: not remembered
        receipt = self._receipt
        busy: ItemsBusyError | None = None  # the last cancellation for busy items, while resending
        while True:
            actions, conditioned, inserted, counts = self._actions(writes, blind=blind)
            requests = [(a.request(self._table), a.description) for a in actions]
            after = False
            if receipt is not None:  # one more Put when the commit has room for it, else written right after it
                after = not room_for_receipt(len(actions), sum(a.size() for a in actions), receipt)
                if not after:
                    requests.append(({"Put": absent_put(self._table, receipt)}, "receipt"))
            try:
                commit_transaction(self._client, self._table, requests)
                removed = {pk for pk, change in counts.items() if change <= 0}  # may have no entries left
                self._engine.forget_entries(removed)
                self._engine.remember_entries(inserted - unknown - removed)
                if after and receipt is not None:
                    keep_after_commit(self._client, self._table, receipt)
                return
            except ConditionsFailedError as exc:
                if receipt is not None and not after and len(requests) in exc.failed:
                    # The receipt's condition failed (the marker is at 0, the receipt last): the same request was
                    # committed by another run, whose receipt is its answer. Not a conflict to run it again for.
                    raise ReceiptExistsError(receipt.scope, receipt.key, detail=exc.detail) from exc
                # A blind insert sent without its partition bump found no exact count above zero: send the same
                # commit again at once, with the bump (docs/dynamodb.md §3). Any other failed condition is a
                # conflict.
                positions = {index + 1 for index, action in enumerate(actions) if action.key["pk"]["S"] in conditioned}
                if not conditioned or not set(exc.failed) <= positions:
                    raise
                self._engine.forget_entries(conditioned)
                unknown |= conditioned
                blind = False
            except BudgetSpentError as spent:
                if busy is None:
                    raise
                raise busy from spent  # no time left to resend: the items were still busy, nothing was written
            except ItemsBusyError as exc:
                busy = exc
                attempt += 1
                # Cancelled only because another transaction held an item, all conditions holding: the reads are
                # still valid, so the same actions go again shortly (with a new commit marker) instead of the
                # whole mutation. A condition that fails meanwhile makes it a plain ConflictError.
                pause = self._engine.random.uniform(0.5, 1.0) * _BUSY_PAUSE_S * 2 ** (attempt - 1)
                left = remaining()
                if attempt == _BUSY_ATTEMPTS or (left is not None and left < pause + self._engine.call_budget_s):
                    raise
                self._engine.sleep(pause)

    def add_receipt(self, receipt: Receipt) -> bool:
        """One more ``Put`` in the commit (:mod:`.receipts`), unless the item or the commit would be too large."""
        self._receipt = None
        item = receipt_item(receipt)
        if not fits(item):
            return False
        self._receipt = receipt
        return True

    def _actions(
        self, writes: Sequence[WriteOp], *, blind: bool
    ) -> tuple[list[_Action], set[str], set[str], dict[str, int]]:
        """The commit's actions (docs/dynamodb.md §3): documents, changed entries, version bumps, checks.

        With ``blind``, an insert into a value this transaction did not read, which this engine saw with entries
        before, is sent without its partition bump, its value version conditioned on an exact count above zero.
        Returns the actions, the value versions so conditioned, every value version entries are added to, and the
        change of each value version's entry count.
        """
        actions: dict[tuple[str, bytes], _Action] = {}
        bumps: dict[str, str] = {}
        #: value version -> change of its entry count; value version -> the partition version its inserts bump
        #: unless the transaction read the value with an exact count above zero.
        counts: dict[str, int] = {}
        inserted_into: dict[str, tuple[str, str]] = {}
        written_documents: set[str] = set()

        def add(pk: str, sk: bytes, action: _Action) -> None:
            if (pk, sk) in actions:
                raise AssertionError(f"two writes to one item {pk!r} in one commit")
            actions[(pk, sk)] = action

        for op in writes:
            written_documents.add(op.id)
            add(layout.document_pk(op.id), VERSION_SK, self._document_action(op))
            for name, spec in op.indexes.items():
                key_before = op.keys_before.get(name) if op.before is not None else None
                key_after = op.keys_after.get(name) if op.after is not None else None
                if key_before == key_after:
                    continue  # the entry stays as it is: nothing of this index is written
                entry = f"index entry {spec.qualified_name} of {op.id}"
                sides = ((False, op.before.value if op.before else None, key_before), (True, op.after, key_after))
                for put, document, key in sides:
                    if document is None or key is None:
                        continue
                    pk = layout.shard_pk(spec, layout.shard_of_document(spec, document))
                    add(
                        pk,
                        key,
                        self._entry_put(spec, op.id, pk, key) if put else _Action("Delete", _key(pk, key), entry),
                    )
                    partition = f"index {spec.qualified_name} partition {pk.rsplit('#', 1)[1]}"
                    if not layout.has_value_versions(spec):
                        bumps[pk] = partition
                        continue
                    value_pk = layout.value_version_pk_of_document(spec, document)
                    bumps[value_pk] = f"index {spec.qualified_name} value of document {op.id}"
                    counts[value_pk] = counts.get(value_pk, 0) + (1 if put else -1)
                    if put:
                        inserted_into[value_pk] = (pk, partition)
                    else:
                        bumps[pk] = partition  # a removal always bumps its partition (docs/dynamodb.md §3)
        # An entry added to a value that had entries when this transaction read it (exact count, and the commit
        # conditions on that version) bumps only the value version; an entry of a new or uncounted value bumps
        # its partition too, so ranges without eq on the first field see the new value.
        conditioned: dict[str, str] = {}
        for value_pk, (pk, partition) in inserted_into.items():
            if (value_pk, self._versions.get(value_pk, -1)) in self._positive:
                continue
            if blind and value_pk not in self._versions and counts[value_pk] > 0 and self._engine.had_entries(value_pk):
                conditioned[value_pk] = pk
            else:
                bumps[pk] = partition
        conditioned = {value_pk: pk for value_pk, pk in conditioned.items() if pk not in bumps}  # bumped anyway

        # Documents read but not written: their version must be unchanged.
        for document_id, version in self._documents.items():
            if document_id in written_documents:
                continue
            check = _Action("ConditionCheck", layout.document_item_key(document_id), f"document {document_id}")
            check.condition_on_version(version)
            add(layout.document_pk(document_id), VERSION_SK, check)
        # Versions of entries added or removed: bumped (conditioned on the version read, if this transaction read it).
        for pk, description in bumps.items():
            bump = _Action("Update", _version_key(pk), self._version_names.get(pk, description))
            bump.update = "ADD ver :one"
            bump.values[":one"] = {"N": "1"}
            if pk in counts:  # a value version: keep its entry count, exact while ecv follows ver (layout.py)
                bump.update = f"ADD ver :one, {ATTR_COUNT} :count SET {_COUNTED_AT_FOLLOWS_VER}"
                bump.values[":count"] = {"N": str(counts[pk])}
                bump.values[":zero"] = {"N": "0"}
                if pk in conditioned:
                    bump.condition = _HAS_COUNTED_ENTRIES
            if pk in self._versions:
                bump.condition_on_version(self._versions[pk], attribute_for_absent="ver")
            add(pk, VERSION_SK, bump)
        # Versions read but not bumped: unchanged (no entry added to or removed from a range this transaction read).
        for pk, version in self._versions.items():
            if pk in bumps:
                continue
            check = _Action("ConditionCheck", _version_key(pk), self._version_names.get(pk, pk))
            check.condition_on_version(version, attribute_for_absent="ver")
            add(pk, VERSION_SK, check)
        return list(actions.values()), set(conditioned), set(inserted_into), counts

    def _entry_put(self, spec: IndexSpec, document_id: str, pk: str, key: bytes) -> _Action:
        if len(key) > MAX_SORT_KEY_BYTES:
            raise LimitExceededError(
                f"Index {spec.qualified_name}: the key of document {document_id} is {len(key)} bytes; "
                f"DynamoDB sort keys hold at most {MAX_SORT_KEY_BYTES}. Index shorter values."
            )
        action = _Action("Put", _key(pk, key), f"index entry {spec.qualified_name} of {document_id}")
        action.item = {"pk": {"S": pk}, "sk": {"B": key}, ATTR_ID: {"S": document_id}}
        return action

    def _document_action(self, op: WriteOp) -> _Action:
        key = layout.document_item_key(op.id)
        description = f"document {op.id} of table {op.table!r}"
        if op.before is not None:
            read = self._documents.get(op.id, op.before.version)
            if read != op.before.version:
                raise ConflictError(
                    _CHANGED, detail=f"document {op.id} was read at two different versions in one transaction"
                )
        if op.after is None:
            if op.before is None:
                raise AssertionError("a WriteOp with neither before nor after")
            action = _Action("Delete", key, description)
            action.condition_on_version(op.before.version)
            return action
        action = _Action("Put", key, description)
        new_version = (op.before.version + 1) if op.before is not None else 1
        action.item = {
            **key,
            ATTR_TABLE: {"S": op.table},
            ATTR_CREATION_TIME: {"N": repr(float(op.after["_creationTime"]))},  # type: ignore[arg-type]
            ATTR_VERSION: {"N": str(new_version)},
            ATTR_DOC: {"S": serialize_document(op.after)},
        }
        self._check_item_size(action.item, f"document {op.id} of table {op.table!r}")
        if op.before is None:
            action.condition = "attribute_not_exists(pk)"
        else:
            action.condition_on_version(op.before.version)
        return action

    @staticmethod
    def _check_item_size(item: Mapping[str, Any], what: str) -> None:
        size = layout.item_size(item)
        if size > MAX_ITEM_BYTES:
            raise LimitExceededError(
                f"The {what} would be a {size}-byte DynamoDB item; DynamoDB items hold at most {MAX_ITEM_BYTES} "
                "bytes (the document plus its keys). Store large data elsewhere (e.g. S3) and keep a reference."
            )

    def _check_transaction_limits(self, actions: Sequence[_Action], writes: Sequence[WriteOp]) -> None:
        counts = {"document": 0, "entry": 0, "bump": 0, "check": 0}
        for action in actions:
            if action.kind == "ConditionCheck":
                counts["check"] += 1
            elif action.kind == "Update":
                counts["bump"] += 1
            elif action.key["pk"]["S"].startswith("d#"):
                counts["document"] += 1
            else:
                counts["entry"] += 1
        breakdown = (
            f"{len(writes)} document writes, {counts['entry']} index entry writes (one per index whose key a write "
            f"adds, removes or moves, two when it moves), {counts['bump']} index version updates and "
            f"{counts['check']} checks of documents or index ranges read but not written, plus 1 commit marker"
        )
        needed = len(actions) + 1  # the commit marker (commits.py)
        if needed > MAX_TRANSACTION_ACTIONS:
            raise LimitExceededError(
                f"This mutation needs {needed} DynamoDB transaction actions ({breakdown}); one "
                f"TransactWriteItems holds at most {MAX_TRANSACTION_ACTIONS}. Nothing was written. Split the work "
                "over several mutations, write fewer documents per mutation, read fewer documents (every document "
                "a mutation reads and does not write is checked), or give the table fewer indexes."
            )
        total = sum(action.size() for action in actions) + COMMIT_MARKER_BYTES
        if total > MAX_TRANSACTION_BYTES:
            raise LimitExceededError(
                f"This mutation would write {total} bytes in one DynamoDB transaction ({breakdown}); one "
                f"TransactWriteItems holds at most {MAX_TRANSACTION_BYTES} bytes. Nothing was written. Split the "
                "work over several mutations, or write smaller documents."
            )

    # -- validation ----------------------------------------------------------------------------------------
    def validate(self) -> None:
        """Check that this transaction's reads equal the state at one instant (docs/dynamodb.md, section 4).

        0. If the last read was one ``TransactGetItems`` that confirmed every version this transaction read (a
           one-page scan is its only read), the reads are that instant's state: no call.
        1. One ``TransactGetItems`` of every version read. A document at another version fails at once; if every
           index version is the one read, done.
        2. For each index version that moved: remember its new version *v2* (just read), then re-read every
           interval this transaction covered under it with a consistent ``Query`` and compare the keys with what
           the scans saw. Any difference fails.
        3. A second ``TransactGetItems`` of every version, expecting the documents and unmoved versions at the
           versions read and the moved ones at *v2*: the re-read ran while those did not change, so the reads
           equal the state at that check. If one moved again, the check's value is the next *v2*: steps 2-3 repeat,
           at most ``_CONFIRM_ROUNDS`` times (entries that did change fail in step 2 at once).
        """
        if not self._versions and len(self._documents) <= 1:
            return  # nothing read, or one GetItem: a single-item read is atomic by itself
        if self._snapshot is not None:
            return
        documents = [
            (layout.document_item_key(document_id), version, f"document {document_id}")
            for document_id, version in self._documents.items()
        ]
        versions = dict(self._versions)
        moved = self._moved_versions(documents, versions)
        for _ in range(_CONFIRM_ROUNDS):
            if not moved:
                return
            for pk in moved:
                self._reread(pk)
            versions.update(moved)
            moved = self._moved_versions(documents, versions)
        names = ", ".join(self._version_names.get(pk, pk) for pk in moved)
        raise ConflictError(
            _CHANGED, detail=f"index entries kept changing while this transaction was validated ({names})"
        )

    def _moved_versions(
        self, documents: Sequence[tuple[dict[str, Any], int | None, str]], versions: Mapping[str, int | None]
    ) -> dict[str, int | None]:
        """``TransactGetItems`` of every version: raises if a document changed; returns moved index versions."""
        expected = list(documents)
        expected += [(_version_key(pk), version, self._version_names.get(pk, pk)) for pk, version in versions.items()]
        pks: list[str | None] = [None] * len(documents) + list(versions)
        moved: dict[str, int | None] = {}
        for start in range(0, len(expected), MAX_TRANSACTION_ACTIONS):
            chunk = expected[start : start + MAX_TRANSACTION_ACTIONS]
            gets = [
                {"Get": {"TableName": self._table, "Key": key, "ProjectionExpression": "ver"}} for key, _, _ in chunk
            ]
            items = self._transact_get(gets, [name for _, _, name in chunk])
            for pk, (_, version, name), item in zip(
                pks[start : start + MAX_TRANSACTION_ACTIONS], chunk, items, strict=True
            ):
                current = _version_of(item)
                if current == version:
                    continue
                if pk is None:
                    raise ConflictError(_CHANGED, detail=f"a concurrent mutation changed {name}")
                moved[pk] = current
        return moved

    def _transact_get(self, gets: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any] | None]:
        """One ``TransactGetItems`` of ``gets``; split in two when refused as invalid (more items than an
        emulator takes — moto 5 allows 25 — or over 4 MB). Validation checks need no single instant across calls."""
        with dynamodb_errors(f"TransactGetItems in table {self._table!r}", names):
            try:
                response = self._client.transact_get_items(TransactItems=gets)  # type: ignore[arg-type]
            except ClientError as exc:
                if len(gets) < 2 or exc.response.get("Error", {}).get("Code") != "ValidationException":
                    raise
                half = len(gets) // 2
                return self._transact_get(gets[:half], names[:half]) + self._transact_get(gets[half:], names[half:])
        return [answer.get("Item") for answer in response.get("Responses", [])]

    def _reread(self, guard: str) -> None:
        """Re-read every interval covered under ``guard``; raise ConflictError if any differs from what was seen."""
        covered = self._covered.get(guard, [])
        for partition in sorted({interval.partition for interval in covered}):
            mine = [interval for interval in covered if interval.partition == partition]
            for start, end in _merge_intervals(mine):
                current = self._query_keys(partition, start, end)
                for interval in mine:
                    if not (start <= interval.start and interval.end <= end):
                        continue
                    now = tuple(key for key in current if interval.start <= key < interval.end)
                    if now != interval.keys:
                        name = self._version_names.get(guard, guard)
                        raise ConflictError(_CHANGED, detail=f"a concurrent mutation changed index entries of {name}")

    def _query_keys(self, pk: str, start: bytes, end: bytes) -> list[bytes]:
        """The key of every entry of partition ``pk`` in ``[start, end)``, by consistent ``Query``."""
        found: list[bytes] = []
        start_key: dict[str, Any] | None = None
        while True:
            page, start_key = self._range_page(pk, start, end, start_key, ProjectionExpression="sk")
            found.extend(key for key, _ in page)
            if start_key is None:
                return found

    def close(self) -> None:
        self._closed = True


def _document_record(item: Mapping[str, Any], document_id: str) -> DocumentRecord:
    text = item[ATTR_DOC]["S"]
    value = deserialize_document(text)
    return DocumentRecord(
        table=item[ATTR_TABLE]["S"],
        id=document_id,
        creation_time=float(value["_creationTime"]),  # type: ignore[arg-type]
        value=value,
        version=int(item[ATTR_VERSION]["N"]),
        size=len(text),
    )


class DynamoDBEngine(StorageEngine):
    """Documents and index entries in one DynamoDB table (``pk`` S, ``sk`` B); see ``docs/dynamodb.md``.

    Example:
        >>> from authlib_core.database.engines.dynamodb import DynamoDBEngine, create_client
        >>> client = create_client(endpoint_url="http://127.0.0.1:5000")  # doctest: +SKIP
        >>> engine = DynamoDBEngine(client, "authlib-documents")  # doctest: +SKIP
    """

    name = "dynamodb"
    snapshot_reads = False
    supports_exclusive = False
    supports_receipts = True
    max_receipt_bytes = MAX_RECEIPT_BYTES

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        *,
        max_parallel_queries: int = 8,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.table_name = table_name
        #: How the engine waits between sends of a commit whose items were busy (a simulation passes its own).
        self.sleep = sleep
        self.random = random.Random()  # noqa: S311 - backoff jitter, not a secret
        config: Any = client.meta.config  # botocore's Config declares its options dynamically
        self.call_budget_s = float(config.connect_timeout or 0) + float(config.read_timeout or 0)
        self._max_parallel = max(1, max_parallel_queries)
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        #: value versions seen with entries (a hint for blind inserts; a wrong hint costs one more send, never a
        #: wrong result: the commit's condition decides).
        self._had_entries: OrderedDict[str, None] = OrderedDict()

    def had_entries(self, value_pk: str) -> bool:
        """Whether this engine last saw value version ``value_pk`` with entries (read or inserted).

        Example:
            >>> engine.remember_entries(["v#notes#by_user#3a8c"])  # doctest: +SKIP
            >>> engine.had_entries("v#notes#by_user#3a8c")  # doctest: +SKIP
            True
        """
        with self._lock:
            return value_pk in self._had_entries

    def remember_entries(self, value_pks: Iterable[str]) -> None:
        """Note value versions that have entries (an exact count read above zero, or entries just inserted).

        Example:
            >>> engine.remember_entries(["v#notes#by_user#3a8c"])  # doctest: +SKIP
        """
        with self._lock:
            for pk in value_pks:
                self._had_entries[pk] = None
                self._had_entries.move_to_end(pk)
            while len(self._had_entries) > _COUNT_HINTS:
                self._had_entries.popitem(last=False)

    def forget_entries(self, value_pks: Iterable[str]) -> None:
        """Forget value versions that may have no entries left (removed from, or a blind insert found no count).

        Example:
            >>> engine.forget_entries(["v#notes#by_user#3a8c"])  # doctest: +SKIP
        """
        with self._lock:
            for pk in value_pks:
                self._had_entries.pop(pk, None)

    def executor(self) -> ThreadPoolExecutor:
        """The thread pool that queries several shards of one range in parallel (boto3 clients are thread-safe)."""
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self._max_parallel, thread_name_prefix="dynamodb-shard")
            return self._executor

    def begin(self, mode: TransactionMode) -> DynamoDBTransaction:
        if mode == "exclusive":
            raise ValueError("the DynamoDB engine has no exclusive transactions (supports_exclusive is False)")
        return DynamoDBTransaction(self, writable=mode == "write")

    def ensure_indexes(self, indexes: Sequence[IndexSpec]) -> None:
        from authlib_core.database.engines.dynamodb.migrate import ensure_indexes

        ensure_indexes(self, indexes)

    def read_receipt(self, scope: str, key: str) -> str | None:
        return read_receipt(self.client, self.table_name, scope, key)

    def write_receipt(self, receipt: Receipt) -> bool:
        return write_receipt(self.client, self.table_name, receipt)

    def close(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=True)
                self._executor = None

    def query_all(self, pk: str, *, keys_only: bool = False) -> Iterator[dict[str, Any]]:
        """Every entry item of one shard partition, in key order (migrations only; paginates with Query)."""
        start_key: dict[str, Any] | None = None
        while True:
            params: dict[str, Any] = {
                "TableName": self.table_name,
                "KeyConditionExpression": "pk = :p AND sk >= :lo",
                "ExpressionAttributeValues": {":p": {"S": pk}, ":lo": {"B": FIRST_ENTRY_KEY}},
                "ConsistentRead": True,
            }
            if keys_only:
                params["ProjectionExpression"] = "pk, sk"
            if start_key is not None:
                params["ExclusiveStartKey"] = start_key
            response = self.client.query(**params)
            yield from response.get("Items", [])
            start_key = response.get("LastEvaluatedKey")
            if start_key is None:
                return

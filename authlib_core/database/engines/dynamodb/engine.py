"""The DynamoDB storage engine: strongly consistent reads, Query-only index ranges, one TransactWriteItems per commit.

See ``docs/dynamodb.md`` for the layout, the conflict detection and the call counts. In short:

* ``get`` — 1 ``GetItem`` (consistent) of the document item; the version read is remembered.
* ``scan`` — the first time a transaction touches an index shard it reads the shard's version item (1 consistent
  ``GetItem``, or one ``BatchGetItem`` for several shards) **before** querying; then 1 consistent ``Query`` per
  shard per DynamoDB page (1 MB), continued transparently with ``LastEvaluatedKey``.
* ``commit`` — exactly 1 ``TransactWriteItems``: conditional document ``Put``/``Delete`` (version read), index
  entry ``Put``/``Delete``, shard version bumps (``ADD ver 1``), and conditions on every version read.
* ``validate`` — 1 ``TransactGetItems`` of every version read (0 when the transaction made a single ``GetItem``).
  A shard whose version moved is not a conflict by itself: its covered intervals are re-read (1 ``Query`` each)
  and compared with what was seen, then a second ``TransactGetItems`` confirms the versions (a seqlock).
"""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from authlib_core.database.deadline import carry
from authlib_core.database.engines.dynamodb import layout
from authlib_core.database.engines.dynamodb.commits import COMMIT_MARKER_BYTES, commit_transaction
from authlib_core.database.engines.dynamodb.errors import dynamodb_errors
from authlib_core.database.engines.dynamodb.layout import (
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
from authlib_core.errors import ConflictError, LimitExceededError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from mypy_boto3_dynamodb.client import DynamoDBClient

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
    """One interval ``[start, end)`` of one index shard covered by a scan, and the entries the scan saw there."""

    start: bytes
    end: bytes
    #: (key, document version) of every entry of the shard inside the interval, in ascending key order.
    entries: tuple[tuple[bytes, int], ...]


def _merge_intervals(covered: Sequence[_Covered]) -> list[tuple[bytes, bytes]]:
    """The union of the covered intervals as disjoint ``[start, end)`` intervals (touching ones merge)."""
    merged: list[list[bytes]] = []
    for interval in sorted(covered, key=lambda c: c.start):
        if merged and interval.start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], interval.end)
        else:
            merged.append([interval.start, interval.end])
    return [(start, end) for start, end in merged]


class DynamoDBTransaction(EngineTransaction):
    """One transaction's reads (with the versions they saw) and its commit. Not shared between threads."""

    def __init__(self, engine: DynamoDBEngine, *, writable: bool) -> None:
        self._engine = engine
        self._client = engine.client
        self._table = engine.table_name
        self._writable = writable
        #: document id -> version read by ``get`` (None: the document did not exist).
        self._documents: dict[str, int | None] = {}
        #: shard partition key -> version of its version item when first read (None: no item yet).
        self._shards: dict[str, int | None] = {}
        self._shard_names: dict[str, str] = {}
        #: shard partition key -> the intervals scanned in it, with what each scan saw there.
        self._covered: dict[str, list[_Covered]] = {}
        #: shard partition key -> (table, index) it belongs to (names the intervals of ``read_set``).
        self._covered_index: dict[str, tuple[str, str]] = {}
        self._closed = False

    # -- reads ---------------------------------------------------------------------------------------------
    def get(self, document_id: str) -> DocumentRecord | None:
        with dynamodb_errors(f"GetItem of document {document_id} in table {self._table!r}"):
            response = self._client.get_item(
                TableName=self._table, Key=layout.document_item_key(document_id), ConsistentRead=True
            )
        item = response.get("Item")
        record = None if item is None else _document_record(item, document_id)
        version = None if record is None else record.version
        seen = self._documents.setdefault(document_id, version)
        if seen != version:
            raise ConflictError(
                _CHANGED, detail=f"document {document_id} changed while this transaction was reading it"
            )
        return record

    def scan(self, key_range: KeyRange, order: Order, *, after: bytes | None, limit: int) -> ScanResult:
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
        shards = layout.shards_of_range(spec, key_range.eq_values)
        partitions = [layout.shard_pk(spec, shard) for shard in shards]
        self._read_shard_versions(partitions, spec)
        if len(partitions) == 1:
            results = [self._query(partitions[0], spec, lower, upper, order, limit)]
        else:
            query = carry(lambda pk: self._query(pk, spec, lower, upper, order, limit))  # keeps the time budget
            results = list(self._engine.executor().map(query, partitions))
        merged: list[IndexEntry] = [entry for entries, _ in results for entry in entries]
        merged.sort(key=lambda entry: entry.key, reverse=(order == "desc"))
        exhausted = all(done for _, done in results) and len(merged) <= limit
        returned = merged[:limit]
        self._record_coverage(partitions, results, lower, upper, order, returned, exhausted=exhausted)
        self._covered_index.update((pk, (spec.table, spec.name)) for pk in partitions)
        return ScanResult(entries=returned, exhausted=exhausted)

    def read_set(self) -> ReadSet:
        """The documents read by ``get`` and the index intervals scanned: the record conflict detection keeps.

        An interval covered in several shards of one index is one interval of the index (a key belongs to one
        shard, so the union over shards is what the query read).
        """
        ranges = {
            (*self._covered_index[pk], start, end)
            for pk, covered in self._covered.items()
            for start, end in _merge_intervals(covered)
        }
        return ReadSet(documents=frozenset(self._documents), ranges=tuple(sorted(ranges)))

    def _record_coverage(
        self,
        partitions: Sequence[str],
        results: Sequence[tuple[list[IndexEntry], bool]],
        lower: bytes,
        upper: bytes,
        order: Order,
        returned: Sequence[IndexEntry],
        *,
        exhausted: bool,
    ) -> None:
        """Remember, per shard, the interval this scan covered and the (key, version) of every entry in it.

        The interval runs from where the scan started to the last entry returned (or to the end of the range
        when exhausted), as :meth:`EngineTransaction.scan` defines it; entries a shard's ``Query`` fetched past
        the last returned key are not part of the read. Every entry of a shard inside the interval was fetched
        (a shard whose own results stop early filled the whole batch with smaller keys), so the recorded list is
        the shard's complete content of the interval as this scan saw it.
        """
        if exhausted or not returned:
            start, end = lower, upper
        elif order == "asc":
            start, end = lower, returned[-1].key + b"\x00"  # up to and including the last key returned
        else:
            start, end = returned[-1].key, upper
        for pk, (entries, _) in zip(partitions, results, strict=True):
            seen = sorted((e.key, e.document.version) for e in entries if start <= e.key < end)
            self._covered.setdefault(pk, []).append(_Covered(start, end, tuple(seen)))

    def _read_shard_versions(self, partitions: Sequence[str], spec: IndexSpec) -> None:
        """Read (once per transaction) the version item of every shard about to be queried — before the Query."""
        missing = [pk for pk in partitions if pk not in self._shards]
        if not missing:
            return
        for pk in missing:
            self._shard_names[pk] = f"index {spec.qualified_name} shard {pk.rsplit('#', 1)[1]}"
        with dynamodb_errors(f"reading the versions of {', '.join(missing)} in table {self._table!r}"):
            if len(missing) == 1:
                response = self._client.get_item(
                    TableName=self._table,
                    Key=_key(missing[0], VERSION_SK),
                    ConsistentRead=True,
                    ProjectionExpression="ver",
                )
                item = response.get("Item")
                self._shards[missing[0]] = None if item is None else int(item[ATTR_VERSION]["N"])
                return
            found: dict[str, int] = {}
            for start in range(0, len(missing), _BATCH_GET):
                keys = [_key(pk, VERSION_SK) for pk in missing[start : start + _BATCH_GET]]
                request: dict[str, Any] = {
                    self._table: {"Keys": keys, "ConsistentRead": True, "ProjectionExpression": "pk, ver"}
                }
                while request:
                    batch = self._client.batch_get_item(RequestItems=request)
                    for got in batch.get("Responses", {}).get(self._table, []):
                        found[str(got["pk"]["S"])] = int(got[ATTR_VERSION]["N"])
                    request = dict(batch.get("UnprocessedKeys") or {})
            for pk in missing:
                self._shards[pk] = found.get(pk)

    def _range_page(
        self, pk: str, lower: bytes, upper: bytes, start_key: dict[str, Any] | None, **options: Any
    ) -> tuple[list[tuple[bytes, dict[str, Any]]], dict[str, Any] | None]:
        """One consistent ``Query`` page of ``[lower, upper)`` in shard ``pk``: (key, item) pairs, next start key.

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
        self, pk: str, spec: IndexSpec, lower: bytes, upper: bytes, order: Order, limit: int
    ) -> tuple[list[IndexEntry], bool]:
        """Up to ``limit`` entries of ``[lower, upper)`` in one shard; (entries, exhausted)."""
        entries: list[IndexEntry] = []
        start_key: dict[str, Any] | None = None
        # Ask for one more than needed (the extra one may also be the dropped `upper`), so "exhausted" is usually
        # known without another round trip.
        while True:
            page, start_key = self._range_page(
                pk, lower, upper, start_key, ScanIndexForward=order == "asc", Limit=limit - len(entries) + 1
            )
            entries.extend(IndexEntry(key=key, document=_entry_record(item, spec.table)) for key, item in page)
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
        actions = self._actions(writes)
        self._check_transaction_limits(actions, writes)
        commit_transaction(self._client, self._table, [(a.request(self._table), a.description) for a in actions])

    def _actions(self, writes: Sequence[WriteOp]) -> list[_Action]:
        actions: dict[tuple[str, bytes], _Action] = {}
        bumps: dict[str, str] = {}
        written_documents: set[str] = set()

        def add(pk: str, sk: bytes, action: _Action) -> None:
            if (pk, sk) in actions:
                raise AssertionError(f"two writes to one item {pk!r} in one commit")
            actions[(pk, sk)] = action

        for op in writes:
            written_documents.add(op.id)
            actions_for_document = self._document_action(op)
            add(layout.document_pk(op.id), VERSION_SK, actions_for_document)
            new_version = (op.before.version + 1) if op.before is not None else 1
            for name, spec in op.indexes.items():
                key_before = op.keys_before.get(name) if op.before is not None else None
                key_after = op.keys_after.get(name) if op.after is not None else None
                pk_before = (
                    layout.shard_pk(spec, layout.shard_of_document(spec, op.before.value))
                    if op.before is not None and key_before is not None
                    else None
                )
                pk_after = (
                    layout.shard_pk(spec, layout.shard_of_document(spec, op.after))
                    if op.after is not None and key_after is not None
                    else None
                )
                if (
                    pk_before is not None
                    and key_before is not None
                    and (pk_before, key_before) != (pk_after, key_after)
                ):
                    action = _Action(
                        "Delete", _key(pk_before, key_before), f"index entry {spec.qualified_name} of {op.id}"
                    )
                    add(pk_before, key_before, action)
                    bumps[pk_before] = f"index {spec.qualified_name} shard {pk_before.rsplit('#', 1)[1]}"
                if pk_after is not None and key_after is not None and op.after is not None:
                    if len(key_after) > MAX_SORT_KEY_BYTES:
                        raise LimitExceededError(
                            f"Index {spec.qualified_name}: the key of document {op.id} is {len(key_after)} bytes; "
                            f"DynamoDB sort keys hold at most {MAX_SORT_KEY_BYTES}. Index shorter values."
                        )
                    action = _Action("Put", _key(pk_after, key_after), f"index entry {spec.qualified_name} of {op.id}")
                    action.item = {
                        "pk": {"S": pk_after},
                        "sk": {"B": key_after},
                        ATTR_ID: {"S": op.id},
                        ATTR_VERSION: {"N": str(new_version)},
                        ATTR_DOC: {"S": serialize_document(op.after)},
                    }
                    self._check_item_size(action.item, f"index entry of document {op.id} in {spec.qualified_name}")
                    add(pk_after, key_after, action)
                    bumps[pk_after] = f"index {spec.qualified_name} shard {pk_after.rsplit('#', 1)[1]}"

        # Documents read but not written: their version must be unchanged.
        for document_id, version in self._documents.items():
            if document_id in written_documents:
                continue
            check = _Action("ConditionCheck", layout.document_item_key(document_id), f"document {document_id}")
            check.condition_on_version(version)
            add(layout.document_pk(document_id), VERSION_SK, check)
        # Shards written: bump their version (conditioned on the version read, if this transaction scanned them).
        for pk, description in bumps.items():
            bump = _Action("Update", _key(pk, VERSION_SK), description)
            bump.update = "ADD ver :one"
            bump.values[":one"] = {"N": "1"}
            if pk in self._shards:
                bump.condition_on_version(self._shards[pk], attribute_for_absent="ver")
            add(pk, VERSION_SK, bump)
        # Shards scanned but not written: their version must be unchanged (no phantom, no changed entry).
        for pk, version in self._shards.items():
            if pk in bumps:
                continue
            check = _Action("ConditionCheck", _key(pk, VERSION_SK), self._shard_names.get(pk, pk))
            check.condition_on_version(version, attribute_for_absent="ver")
            add(pk, VERSION_SK, check)
        return list(actions.values())

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
            f"{len(writes)} document writes, {counts['entry']} index entry writes (each document has one entry per "
            f"index, two when its key moves), {counts['bump']} index shard version updates and {counts['check']} "
            "checks of documents or index shards read but not written, plus 1 commit marker"
        )
        needed = len(actions) + 1  # the commit marker (commits.py)
        if needed > MAX_TRANSACTION_ACTIONS:
            raise LimitExceededError(
                f"This mutation needs {needed} DynamoDB transaction actions ({breakdown}); one "
                f"TransactWriteItems holds at most {MAX_TRANSACTION_ACTIONS}. Nothing was written. Split the work "
                "over several mutations, write fewer documents per mutation, give the table fewer indexes, or read "
                "fewer separate documents and index shards."
            )
        total = sum(action.size() for action in actions) + COMMIT_MARKER_BYTES
        if total > MAX_TRANSACTION_BYTES:
            raise LimitExceededError(
                f"This mutation would write {total} bytes in one DynamoDB transaction ({breakdown}; every index "
                f"entry carries a copy of its document); one TransactWriteItems holds at most {MAX_TRANSACTION_BYTES} "
                "bytes. Nothing was written. Split the work over several mutations, or write smaller documents."
            )

    # -- validation ----------------------------------------------------------------------------------------
    def validate(self) -> None:
        """Check that this transaction's reads equal the state at one instant (docs/dynamodb.md, section 4).

        1. One ``TransactGetItems`` of every version read. A document at another version fails at once; if every
           shard version is the one read, done.
        2. For each shard whose version moved: remember its new version *v2* (just read), then re-read every
           interval this transaction covered there with a consistent ``Query`` and compare the (key, version)
           lists with what the scans saw. Any difference fails.
        3. A second ``TransactGetItems`` of every version, expecting the documents and unmoved shards at the
           versions read and the moved shards at *v2*: the re-read ran while those shards did not change, so the
           reads equal the state at that check. If a shard moved again, the check's value is the next *v2*:
           steps 2-3 repeat, at most ``_CONFIRM_ROUNDS`` times (entries that did change fail in step 2 at once).
        """
        documents = [
            (layout.document_item_key(document_id), version, f"document {document_id}")
            for document_id, version in self._documents.items()
        ]
        if not self._shards and len(documents) <= 1:
            return  # nothing read, or one GetItem: a single-item read is atomic by itself
        shards = dict(self._shards)
        moved = self._moved_shards(documents, shards)
        for _ in range(_CONFIRM_ROUNDS):
            if not moved:
                return
            for pk in moved:
                self._reread_shard(pk)
            shards.update(moved)
            moved = self._moved_shards(documents, shards)
        names = ", ".join(self._shard_names.get(pk, pk) for pk in moved)
        raise ConflictError(
            _CHANGED, detail=f"index shards kept changing while this transaction was validated ({names})"
        )

    def _moved_shards(
        self, documents: Sequence[tuple[dict[str, Any], int | None, str]], shards: Mapping[str, int | None]
    ) -> dict[str, int | None]:
        """``TransactGetItems`` of every version: raises if a document changed; returns moved shards' new versions."""
        expected = list(documents)
        expected += [(_key(pk, VERSION_SK), version, self._shard_names.get(pk, pk)) for pk, version in shards.items()]
        pks: list[str | None] = [None] * len(documents) + list(shards)
        moved: dict[str, int | None] = {}
        for start in range(0, len(expected), MAX_TRANSACTION_ACTIONS):
            chunk = expected[start : start + MAX_TRANSACTION_ACTIONS]
            with dynamodb_errors(f"TransactGetItems in table {self._table!r}", [name for _, _, name in chunk]):
                response = self._client.transact_get_items(
                    TransactItems=[
                        {"Get": {"TableName": self._table, "Key": key, "ProjectionExpression": "ver"}}
                        for key, _, _ in chunk
                    ]
                )
            for pk, (_, version, name), got in zip(
                pks[start : start + MAX_TRANSACTION_ACTIONS], chunk, response.get("Responses", []), strict=True
            ):
                item = got.get("Item")
                current = None if not item or ATTR_VERSION not in item else int(item[ATTR_VERSION]["N"])
                if current == version:
                    continue
                if pk is None:
                    raise ConflictError(_CHANGED, detail=f"a concurrent mutation changed {name}")
                moved[pk] = current
        return moved

    def _reread_shard(self, pk: str) -> None:
        """Re-read every interval covered in shard ``pk`` and raise ConflictError if any differs from what was seen."""
        covered = self._covered.get(pk, [])
        for start, end in _merge_intervals(covered):
            current = self._query_versions(pk, start, end)
            for interval in covered:
                if not (start <= interval.start and interval.end <= end):
                    continue
                now = tuple((key, version) for key, version in current if interval.start <= key < interval.end)
                if now != interval.entries:
                    name = self._shard_names.get(pk, pk)
                    raise ConflictError(_CHANGED, detail=f"a concurrent mutation changed index entries of {name}")

    def _query_versions(self, pk: str, start: bytes, end: bytes) -> list[tuple[bytes, int]]:
        """(key, document version) of every entry of shard ``pk`` in ``[start, end)``, by consistent ``Query``."""
        found: list[tuple[bytes, int]] = []
        start_key: dict[str, Any] | None = None
        while True:
            page, start_key = self._range_page(pk, start, end, start_key, ProjectionExpression="sk, ver")
            found.extend((key, int(item[ATTR_VERSION]["N"])) for key, item in page)
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


def _entry_record(item: Mapping[str, Any], table: str) -> DocumentRecord:
    text = item[ATTR_DOC]["S"]
    value = deserialize_document(text)
    return DocumentRecord(
        table=table,
        id=item[ATTR_ID]["S"],
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

    def __init__(self, client: DynamoDBClient, table_name: str, *, max_parallel_queries: int = 8) -> None:
        self.client = client
        self.table_name = table_name
        config: Any = client.meta.config  # botocore's Config declares its options dynamically
        self.call_budget_s = float(config.connect_timeout or 0) + float(config.read_timeout or 0)
        self._max_parallel = max(1, max_parallel_queries)
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

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

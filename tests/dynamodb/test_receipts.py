"""Receipts in the documents table: one more ``Put`` of the commit's ``TransactWriteItems``, so a receipt exists
exactly when its commit does; only where none is kept (two runs of one request: one commits, the other writes
nothing and is told why); written right after a commit that has no room left; expired ones are not read; the
sync protocol's answers shortened to what one item holds. moto in-process and moto's server.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import pytest

from authlib_core.database.engines.dynamodb.receipts import MAX_RECEIPT_BYTES
from authlib_core.database.receipts import Receipt, ReceiptExistsError
from authlib_core.errors import ConflictError
from authlib_core.sync.mutation_log import SCOPE, ReceiptMutationLog
from tests.dynamodb.helpers import insert, insert_op, specs, update_op

if TYPE_CHECKING:
    from tests.dynamodb.conftest import Backend

INDEXES = specs()


def _receipt(key: str, value: str = '{"ok":true}', *, lifetime: int = 60) -> Receipt:
    return Receipt("t", key, value, expires_at=int(time.time()) + lifetime)


def _transactions(backend: Backend) -> list[int]:
    """The size of every ``TransactWriteItems`` the engine's client sends from now on."""
    sizes: list[int] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sizes.append(len(params["TransactItems"]))

    backend.engine.client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", record)
    return sizes


def test_a_receipt_is_part_of_its_commit_and_of_nothing_else(backend: Backend) -> None:
    engine = backend.engine
    sizes = _transactions(backend)
    tx = engine.begin("write")
    assert tx.add_receipt(_receipt("k1"))
    tx.commit([insert_op("items", {"group": "a"}, INDEXES)])
    tx.close()
    assert engine.read_receipt("t", "k1") == '{"ok":true}'
    assert len(sizes) == 1  # in the commit's own transaction, not a call of its own

    # A commit refused for a conflict writes neither its documents nor its receipt.
    document_id = insert(engine, "items", {"group": "b"}, INDEXES)
    loser = engine.begin("write")
    record = loser.get(document_id)
    assert record is not None
    winner = engine.begin("write")
    winner.commit([update_op(record, {"group": "c"}, INDEXES)])
    winner.close()
    assert loser.add_receipt(_receipt("k2"))
    with pytest.raises(ConflictError):
        loser.commit([update_op(record, {"group": "d"}, INDEXES)])
    loser.close()
    assert engine.read_receipt("t", "k2") is None


@pytest.mark.parametrize("backend", ["moto"], indirect=True)  # 300 calls: in-process only (a busy server times out)
def test_a_commit_without_room_for_its_receipt_keeps_it_right_after(backend: Backend) -> None:
    """A mutation that uses DynamoDB's 100 actions works as it would without a receipt; the receipt follows it."""
    engine = backend.engine
    base = [insert(engine, "items", {"group": f"g{n}"}, INDEXES) for n in range(100)]
    sizes = _transactions(backend)

    def commit(reads: int, key: str) -> None:
        tx = engine.begin("write")
        for document_id in base[:reads]:
            assert tx.get(document_id) is not None  # each is checked at commit: one action
        assert tx.add_receipt(_receipt(key))
        # a value never inserted before: its commit always bumps a partition version too (docs/dynamodb.md §3)
        tx.commit([insert_op("items", {"group": f"new {key}"}, INDEXES)])
        tx.close()

    commit(0, "probe")
    own = sizes.pop() - 2  # the actions of the insert itself (without the marker and the receipt)
    commit(99 - own - 1, "fits")  # 98 actions + marker + receipt = 100
    assert sizes.pop() == 100
    commit(99 - own, "after")  # 99 actions + marker = 100: the receipt is written after the commit
    assert sizes.pop() == 100
    assert engine.read_receipt("t", "fits") == '{"ok":true}'
    assert engine.read_receipt("t", "after") == '{"ok":true}'


def test_receipts_larger_than_an_item_are_refused_and_expired_ones_are_not_read(backend: Backend) -> None:
    engine = backend.engine
    tx = engine.begin("write")
    assert not tx.add_receipt(_receipt("big", "x" * 410_000))  # past DynamoDB's 400 KB item: the caller's to shorten
    assert tx.add_receipt(_receipt("max", "é" * (MAX_RECEIPT_BYTES // 2)))  # the largest value promised fits
    tx.commit([insert_op("items", {"group": "a"}, INDEXES)])
    tx.close()
    assert engine.read_receipt("t", "max") == "é" * (MAX_RECEIPT_BYTES // 2)
    engine.write_receipt(_receipt("old", lifetime=-1))  # expired, not yet deleted by the TTL
    assert engine.read_receipt("t", "old") is None
    item = engine.client.get_item(TableName=backend.table, Key={"pk": {"S": "r#t#old"}, "sk": {"B": b"\x00"}})
    assert int(item["Item"]["expiresAt"]["N"]) < time.time()  # the table's TTL attribute


def test_a_sync_answer_is_shortened_to_what_one_item_holds(backend: Backend) -> None:
    log = ReceiptMutationLog(lambda: backend.engine)
    lines = [f"[LOG] {'x' * 30_000}"] * 15
    answers = {
        1: {"type": "MutationResponse", "requestId": 1, "logLines": lines, "success": True, "result": "r" * 1000},
        2: {"type": "MutationResponse", "requestId": 2, "logLines": lines, "success": True, "result": "r" * 500_000},
    }
    for request_id, answer in answers.items():
        receipt = log.receipt("session", request_id, answer)
        assert receipt is not None
        assert receipt.scope == SCOPE
        tx = backend.engine.begin("write")
        assert tx.add_receipt(receipt)
        tx.commit([insert_op("items", {"group": "a"}, INDEXES)])
        tx.close()
    assert log.get("session", 1) == {**answers[1], "logLines": []}  # 450 KB of log lines dropped
    too_large = log.get("session", 2)
    assert too_large is not None
    assert (too_large["success"], too_large["requestId"], too_large["ts"]) == (False, 2, None)
    assert "500002 bytes" in too_large["result"]
    assert len(json.dumps(too_large)) < 1000


def _exists(backend: Backend, document_id: str) -> bool:
    tx = backend.engine.begin("read")
    try:
        return tx.get(document_id) is not None
    finally:
        tx.close()


@pytest.mark.parametrize("read_first", [False, True])
def test_of_two_commits_with_the_same_receipt_key_one_applies_and_the_other_writes_nothing(
    backend: Backend, read_first: bool
) -> None:
    """Two runs of one request at once: each found no receipt and ran. The first commit applies; the second is
    cancelled whole and raises ReceiptExistsError (not a conflict: the mutation must not run again), also when its
    reads changed too (both conditions fail)."""
    engine = backend.engine
    shared = insert(engine, "items", {"group": "count 0"}, INDEXES)
    runs = [engine.begin("write"), engine.begin("write")]
    ops = []
    for n, tx in enumerate(runs):
        record = tx.get(shared) if read_first else None
        writes = [insert_op("items", {"group": f"run {n}"}, INDEXES)]
        if record is not None:
            writes.append(update_op(record, {"group": f"count by run {n}"}, INDEXES))
        ops.append(writes)
        assert tx.add_receipt(_receipt("request#1", f'{{"run":{n}}}'))
    runs[0].commit(ops[0])
    runs[0].close()
    with pytest.raises(ReceiptExistsError) as refused:
        runs[1].commit(ops[1])
    runs[1].close()
    assert not isinstance(refused.value, ConflictError)
    assert (refused.value.scope, refused.value.key) == ("t", "request#1")
    assert "committed by another run" in refused.value.message
    assert engine.read_receipt("t", "request#1") == '{"run":0}'
    assert _exists(backend, ops[0][0].id)
    assert not _exists(backend, ops[1][0].id)  # nothing of the second commit was applied
    if read_first:
        tx = engine.begin("read")
        record = tx.get(shared)
        tx.close()
        assert record is not None
        assert record.value["group"] == "count by run 0"


def test_a_receipt_written_apart_never_replaces_a_kept_one(backend: Backend) -> None:
    """What no commit carries (a failed mutation's answer) is put only where no unexpired receipt is kept."""
    engine = backend.engine
    tx = engine.begin("write")
    assert tx.add_receipt(_receipt("request#2", '{"success":true}'))
    tx.commit([insert_op("items", {"group": "a"}, INDEXES)])
    tx.close()
    assert engine.write_receipt(_receipt("request#2", '{"success":false}')) is False
    assert engine.read_receipt("t", "request#2") == '{"success":true}'
    assert engine.write_receipt(_receipt("request#3", "old", lifetime=-1)) is True
    assert engine.write_receipt(_receipt("request#3", "new")) is True  # an expired one the TTL kept does not count
    assert engine.read_receipt("t", "request#3") == "new"

    log = ReceiptMutationLog(lambda: engine)
    success = {"type": "MutationResponse", "requestId": 4, "logLines": [], "success": True, "result": 1, "ts": None}
    receipt = log.receipt("session", 4, success)
    assert receipt is not None
    tx = engine.begin("write")
    assert tx.add_receipt(receipt)
    tx.commit([insert_op("items", {"group": "b"}, INDEXES)])
    tx.close()
    failure = {**success, "success": False, "result": "it failed"}
    assert log.put("session", 4, failure) == success  # the answer that stands
    assert log.get("session", 4) == success

"""The SQLite engine on real files: round trips, scans, precise read-set validation, locking, processes."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from authlib_core.database.engines import sqlite as sqlite_module
from authlib_core.database.engines.sqlite import GET_SQL, SCAN_SQL, VALIDATE_RANGE_SQL, SQLiteEngine
from authlib_core.database.interface import (
    BY_CREATION_TIME,
    DocumentRecord,
    IndexSpec,
    KeyRange,
    WriteOp,
)
from authlib_core.database.keys import document_key
from authlib_core.errors import ConfigError, ConflictError, StorageUnavailableError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from authlib_core.values import Value

ROOT = Path(__file__).resolve().parents[4]

BY_K = IndexSpec(table="items", name="by_k", fields=("k",))
INDEXES = {"by_k": BY_K}
EVERYTHING = KeyRange(index=BY_K, lower=b"", upper=b"\xff" * 16)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "dev.sqlite3"


@pytest.fixture
def engine(path: Path) -> Iterator[SQLiteEngine]:
    with SQLiteEngine(path) as opened:
        yield opened


def document(doc_id: str, **fields: Value) -> dict[str, Value]:
    return {"_id": doc_id, "_creationTime": 1000.0, **fields}


def insert_op(doc_id: str, key: bytes, **fields: Value) -> WriteOp:
    """An insert into ``items`` whose ``by_k`` key is the hand-made ``key``."""
    return WriteOp(
        table="items",
        id=doc_id,
        before=None,
        after=document(doc_id, **fields),
        keys_before={},
        keys_after={"by_k": key},
        indexes=INDEXES,
    )


def update_op(before: DocumentRecord, old_key: bytes, new_key: bytes, **fields: Value) -> WriteOp:
    return WriteOp(
        table="items",
        id=before.id,
        before=before,
        after=document(before.id, **fields),
        keys_before={"by_k": old_key},
        keys_after={"by_k": new_key},
        indexes=INDEXES,
    )


def delete_op(before: DocumentRecord, key: bytes) -> WriteOp:
    return WriteOp(
        table="items",
        id=before.id,
        before=before,
        after=None,
        keys_before={"by_k": key},
        keys_after={},
        indexes=INDEXES,
    )


def insert(engine: SQLiteEngine, doc_id: str, key: bytes, **fields: Value) -> None:
    with engine.begin("write") as tx:
        tx.commit([insert_op(doc_id, key, **fields)])


def get(engine: SQLiteEngine, doc_id: str) -> DocumentRecord | None:
    with engine.begin("read") as tx:
        return tx.get(doc_id)


def scan_ids(engine: SQLiteEngine, order: str = "asc", after: bytes | None = None, limit: int = 100) -> list[str]:
    with engine.begin("read") as tx:
        result = tx.scan(EVERYTHING, order, after=after, limit=limit)  # type: ignore[arg-type]
    return [entry.document.id for entry in result.entries]


def fill(engine: SQLiteEngine, keys: dict[str, bytes]) -> None:
    with engine.begin("write") as tx:
        tx.commit([insert_op(doc_id, key, n=float(i)) for i, (doc_id, key) in enumerate(keys.items())])


FIVE = {"a": b"\x10", "b": b"\x20", "c": b"\x30", "d": b"\x40", "e": b"\x50"}


# -- round trips ----------------------------------------------------------------------------------------------


def test_insert_get_update_delete_round_trip(engine: SQLiteEngine, path: Path) -> None:
    assert path.exists()
    insert(engine, "a", b"\x10", text="hello", n=1.5)
    record = get(engine, "a")
    assert record is not None
    assert (record.table, record.id, record.creation_time) == ("items", "a", 1000.0)
    assert record.value == {"_id": "a", "_creationTime": 1000.0, "text": "hello", "n": 1.5}

    with engine.begin("write") as tx:
        before = tx.get("a")
        assert before == record
        tx.commit([update_op(before, b"\x10", b"\x60", text="bye")])
    updated = get(engine, "a")
    assert updated is not None
    assert updated.value["text"] == "bye"
    assert "n" not in updated.value
    assert updated.version > record.version
    with engine.begin("read") as tx:
        entries = tx.scan(EVERYTHING, "asc", after=None, limit=10).entries
    assert [(e.key, e.document) for e in entries] == [(b"\x60", updated)]  # the index entry moved

    with engine.begin("write") as tx:
        tx.commit([delete_op(updated, b"\x60")])
    assert get(engine, "a") is None
    assert scan_ids(engine) == []


def test_every_write_gets_a_new_version(engine: SQLiteEngine) -> None:
    insert(engine, "a", b"\x10", n=0.0)
    seen = []
    for i in range(3):
        with engine.begin("write") as tx:
            before = tx.get("a")
            assert before is not None
            seen.append(before.version)
            tx.commit([update_op(before, b"\x10", b"\x10", n=float(i + 1))])
    assert seen == sorted(set(seen))
    with engine.begin("read") as tx:
        entry = tx.scan(EVERYTHING, "asc", after=None, limit=1).entries[0]
    assert entry.document.value["n"] == 3.0
    assert entry.document.version > seen[-1]


def test_a_failed_commit_writes_nothing(engine: SQLiteEngine) -> None:
    insert(engine, "a", b"\x10")
    with engine.begin("write") as tx, pytest.raises(ConflictError, match="already exists in table 'items'"):
        tx.commit([insert_op("b", b"\x20"), insert_op("a", b"\x11")])
    assert get(engine, "b") is None
    assert scan_ids(engine) == ["a"]


def test_update_with_a_stale_record_conflicts(engine: SQLiteEngine) -> None:
    insert(engine, "a", b"\x10", n=0.0)
    stale = get(engine, "a")
    assert stale is not None
    with engine.begin("write") as tx:
        tx.commit([update_op(stale, b"\x10", b"\x10", n=1.0)])
    with engine.begin("exclusive") as tx, pytest.raises(ConflictError, match="Document a in table 'items'"):
        tx.commit([update_op(stale, b"\x10", b"\x10", n=2.0)])
    record = get(engine, "a")
    assert record is not None
    assert record.value["n"] == 1.0


def test_data_survives_reopening(path: Path) -> None:
    with SQLiteEngine(path) as first:
        fill(first, FIVE)
    with SQLiteEngine(path) as second:
        assert scan_ids(second) == list(FIVE)
        record = get(second, "c")
        assert record is not None
        assert record.value["n"] == 2.0
        insert(second, "f", b"\x60")
        assert get(second, "f") is not None


# -- scans ----------------------------------------------------------------------------------------------------


def test_scan_orders_pages_and_reports_exhaustion(engine: SQLiteEngine) -> None:
    fill(engine, FIVE)
    with engine.begin("read") as tx:
        asc = tx.scan(EVERYTHING, "asc", after=None, limit=10)
        assert [e.document.id for e in asc.entries] == ["a", "b", "c", "d", "e"]
        assert asc.exhausted
        assert [e.key for e in asc.entries] == list(FIVE.values())

        desc = tx.scan(EVERYTHING, "desc", after=None, limit=10)
        assert [e.document.id for e in desc.entries] == ["e", "d", "c", "b", "a"]
        assert desc.exhausted

        page = tx.scan(EVERYTHING, "asc", after=None, limit=2)
        assert ([e.document.id for e in page.entries], page.exhausted) == (["a", "b"], False)
        page = tx.scan(EVERYTHING, "asc", after=page.entries[-1].key, limit=2)
        assert ([e.document.id for e in page.entries], page.exhausted) == (["c", "d"], False)
        page = tx.scan(EVERYTHING, "asc", after=page.entries[-1].key, limit=2)
        assert ([e.document.id for e in page.entries], page.exhausted) == (["e"], True)

        # exactly `limit` entries left: exhausted is already known
        page = tx.scan(EVERYTHING, "desc", after=b"\x30", limit=2)
        assert ([e.document.id for e in page.entries], page.exhausted) == (["b", "a"], True)
        page = tx.scan(EVERYTHING, "desc", after=b"\x50", limit=1)
        assert ([e.document.id for e in page.entries], page.exhausted) == (["d"], False)

        # bounds are [lower, upper); `after` need not be a stored key
        middle = KeyRange(index=BY_K, lower=b"\x20", upper=b"\x40")
        assert [e.document.id for e in tx.scan(middle, "asc", after=None, limit=9).entries] == ["b", "c"]
        assert [e.document.id for e in tx.scan(middle, "desc", after=None, limit=9).entries] == ["c", "b"]
        assert [e.document.id for e in tx.scan(middle, "asc", after=b"\x20\x00", limit=9).entries] == ["c"]
        assert [e.document.id for e in tx.scan(middle, "desc", after=b"\x30", limit=9).entries] == ["b"]
        beyond = tx.scan(middle, "asc", after=b"\x45", limit=9)
        assert (beyond.entries, beyond.exhausted) == ([], True)
        empty = tx.scan(KeyRange(index=BY_K, lower=b"\x30", upper=b"\x30"), "asc", after=None, limit=9)
        assert (empty.entries, empty.exhausted) == ([], True)

        # other indexes and tables are separate key spaces
        other = KeyRange(index=IndexSpec("items", "other", ()), lower=b"", upper=b"\xff")
        assert tx.scan(other, "asc", after=None, limit=9).entries == []


def test_keys_compare_as_unsigned_bytes(engine: SQLiteEngine) -> None:
    fill(engine, {"long": b"\x10\x00", "short": b"\x10", "high": b"\xfe", "low": b"\x01\xff"})
    assert scan_ids(engine) == ["low", "short", "long", "high"]


def test_read_transactions_see_one_snapshot(engine: SQLiteEngine) -> None:
    insert(engine, "a", b"\x10", n=1.0)
    with engine.begin("read") as reader:
        first = reader.get("a")  # the first read pins the snapshot
        assert first is not None
        assert first.value["n"] == 1.0
        insert(engine, "b", b"\x20")
        with engine.begin("write") as writer:
            before = writer.get("a")
            assert before is not None
            writer.commit([update_op(before, b"\x10", b"\x10", n=2.0)])
        record = reader.get("a")
        assert record is not None
        assert record.value["n"] == 1.0
        assert reader.get("b") is None
        assert [e.document.id for e in reader.scan(EVERYTHING, "asc", after=None, limit=9).entries] == ["a"]
        reader.validate()
    assert scan_ids(engine) == ["a", "b"]


def test_a_read_transaction_takes_its_snapshot_at_its_first_read(engine: SQLiteEngine) -> None:
    insert(engine, "a", b"\x10")
    with engine.begin("read") as reader:
        insert(engine, "b", b"\x20")  # committed before the reader read anything: part of its snapshot
        assert reader.get("b") is not None
        insert(engine, "c", b"\x30")  # committed after: not
        assert [e.document.id for e in reader.scan(EVERYTHING, "asc", after=None, limit=9).entries] == ["a", "b"]


def test_a_read_transaction_sends_only_its_reads(engine: SQLiteEngine) -> None:
    insert(engine, "a", b"\x10")
    engine.begin("read").close()  # the pool keeps the connection; the next transaction borrows it
    connection = engine._pool._idle[-1]
    sent: list[str] = []
    connection.set_trace_callback(sent.append)
    try:
        with engine.begin("read") as reader:
            assert reader._connection is connection
            reader.scan(EVERYTHING, "asc", after=None, limit=9)
            reader.validate()
            reader.commit([])
    finally:
        connection.set_trace_callback(None)
    assert [statement.split()[0] for statement in sent] == ["BEGIN", "SELECT", "ROLLBACK"]


def test_connections_of_a_burst_of_transactions_are_kept_for_the_next(engine: SQLiteEngine) -> None:
    burst = [engine.begin("read") for _ in range(20)]  # 20 at once, as 20 busy dev server threads
    first = [tx._connection for tx in burst]  # held, so no new connection can take an old one's id
    for tx in burst:
        tx.close()
    again = [engine.begin("read") for _ in range(20)]
    assert {id(tx._connection) for tx in again} == {id(connection) for connection in first}  # none opened anew
    for tx in again:
        tx.close()


# -- precise validation ----------------------------------------------------------------------------------------


def test_a_changed_point_read_conflicts(engine: SQLiteEngine) -> None:
    insert(engine, "a", b"\x10", n=1.0)
    with engine.begin("write") as tx:
        tx.get("a")
        with engine.begin("write") as other:
            before = other.get("a")
            assert before is not None
            other.commit([update_op(before, b"\x10", b"\x10", n=2.0)])
        with pytest.raises(ConflictError, match=r"Document a in table 'items' was modified"):
            tx.commit([insert_op("z", b"\x90")])
    assert get(engine, "z") is None


def test_an_absence_read_conflicts_with_an_insert_of_that_id(engine: SQLiteEngine) -> None:
    with engine.begin("write") as tx:
        assert tx.get("a") is None
        insert(engine, "a", b"\x10")
        with pytest.raises(ConflictError, match=r"Document a in table 'items' was inserted"):
            tx.commit([insert_op("z", b"\x90")])


def test_an_unrelated_concurrent_commit_does_not_conflict(engine: SQLiteEngine) -> None:
    fill(engine, FIVE)
    with engine.begin("write") as tx:
        tx.get("a")
        tx.scan(KeyRange(index=BY_K, lower=b"\x10", upper=b"\x30"), "asc", after=None, limit=9)
        insert(engine, "x", b"\x38")  # outside the range read
        other = get(engine, "d")
        assert other is not None
        with engine.begin("write") as writer:
            writer.commit([update_op(other, b"\x40", b"\x41", n=9.0)])  # outside too
        tx.commit([insert_op("z", b"\x90")])
    assert get(engine, "z") is not None


def test_a_phantom_inside_a_scanned_range_conflicts(engine: SQLiteEngine) -> None:
    fill(engine, {"a": b"\x10", "c": b"\x30"})
    with engine.begin("write") as tx:
        result = tx.scan(EVERYTHING, "asc", after=None, limit=10)
        assert result.exhausted
        insert(engine, "b", b"\x20")
        with pytest.raises(ConflictError, match=r"items\.by_k changed .*document b entered it"):
            tx.commit([insert_op("z", b"\x90")])
    assert get(engine, "z") is None


def test_a_phantom_at_the_end_of_an_exhausted_range_conflicts(engine: SQLiteEngine) -> None:
    fill(engine, {"a": b"\x10"})
    with engine.begin("write") as tx:
        tx.scan(KeyRange(index=BY_K, lower=b"\x00", upper=b"\x80"), "desc", after=None, limit=10)
        insert(engine, "b", b"\x7f")  # after the last entry, still inside the range
        with pytest.raises(ConflictError, match=r"items\.by_k"):
            tx.commit([insert_op("z", b"\x90")])


def test_a_modified_document_inside_a_scanned_range_conflicts(engine: SQLiteEngine) -> None:
    fill(engine, FIVE)
    with engine.begin("write") as tx:
        tx.scan(EVERYTHING, "asc", after=None, limit=2)
        record = get(engine, "b")
        assert record is not None
        with engine.begin("write") as writer:
            writer.commit([update_op(record, b"\x20", b"\x20", n=42.0)])  # same key, new value
        with pytest.raises(ConflictError, match=r"document b was modified"):
            tx.commit([insert_op("z", b"\x90")])


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_an_insert_beyond_the_last_entry_of_a_limited_scan_does_not_conflict(engine: SQLiteEngine, order: str) -> None:
    fill(engine, FIVE)
    with engine.begin("write") as tx:
        first = tx.scan(EVERYTHING, order, after=None, limit=2)  # type: ignore[arg-type]
        second = tx.scan(EVERYTHING, order, after=first.entries[-1].key, limit=1)  # type: ignore[arg-type]
        assert not second.exhausted
        # asc covered [.., c]; desc covered [c, ..]: insert just past c on the unread side
        insert(engine, "x", b"\x30\x01" if order == "asc" else b"\x2f\xff")
        deleted = get(engine, "d" if order == "asc" else "b")
        assert deleted is not None
        with engine.begin("write") as writer:
            writer.commit([delete_op(deleted, FIVE[deleted.id])])
        tx.commit([insert_op("z", b"\x90")])
    assert get(engine, "z") is not None


def test_a_write_only_transaction_does_not_conflict(engine: SQLiteEngine) -> None:
    with engine.begin("write") as tx:
        insert(engine, "a", b"\x10")
        tx.commit([insert_op("b", b"\x20")])
    assert scan_ids(engine) == ["a", "b"]


# -- locking -----------------------------------------------------------------------------------------------


def test_exclusive_blocks_a_second_writer_until_commit(path: Path) -> None:
    with SQLiteEngine(path) as engine, SQLiteEngine(path) as other_engine:
        insert(engine, "a", b"\x10")
        done = threading.Event()
        errors: list[BaseException] = []

        def second_writer() -> None:
            try:
                insert(other_engine, "b", b"\x20")
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)
            done.set()

        with engine.begin("exclusive") as tx:
            assert tx.get("a") is not None
            thread = threading.Thread(target=second_writer)
            thread.start()
            assert not done.wait(0.5), "the second writer committed while the exclusive transaction held the lock"
            assert scan_ids(other_engine) == ["a"]  # readers are not blocked
            tx.commit([insert_op("c", b"\x30")])
        assert done.wait(10)
        thread.join()
        assert errors == []
        assert scan_ids(engine) == ["a", "b", "c"]


def test_waiting_past_the_busy_timeout_is_a_conflict(path: Path) -> None:
    with SQLiteEngine(path) as holder, SQLiteEngine(path, busy_timeout_s=0.2) as impatient:
        with holder.begin("exclusive"):
            started = time.monotonic()
            with pytest.raises(ConflictError, match=r"stayed locked by another writer for more than 0\.2s"):
                insert(impatient, "b", b"\x20")
            assert time.monotonic() - started < 5
            with pytest.raises(ConflictError) as caught:
                impatient.begin("exclusive")
            assert str(path) in caught.value.detail
            assert str(path) not in caught.value.message
        insert(impatient, "b", b"\x20")  # the pool still works afterwards
        assert scan_ids(impatient) == ["b"]


def increment(engine: SQLiteEngine, doc_id: str, pause: float = 0.0) -> int:
    """Read-modify-write one counter, retrying conflicts (exclusive after a few), as the layer above does.

    Returns the number of conflicts it went through; ``pause`` widens the read-to-commit window.
    """
    for attempt in range(200):
        mode = "exclusive" if attempt >= 4 else "write"
        try:
            with engine.begin(mode) as tx:  # type: ignore[arg-type]
                before = tx.get(doc_id)
                assert before is not None
                value = before.value["n"]
                assert isinstance(value, float)
                time.sleep(pause)
                tx.commit(
                    [
                        WriteOp(
                            table="counters",
                            id=doc_id,
                            before=before,
                            after={**before.value, "n": value + 1.0},
                            keys_before={},
                            keys_after={},
                            indexes={},
                        )
                    ]
                )
                return attempt
        except ConflictError:
            time.sleep(0.001 * (attempt % 5))
    raise AssertionError("no progress")


def create_counter(engine: SQLiteEngine, doc_id: str) -> None:
    with engine.begin("write") as tx:
        tx.commit(
            [
                WriteOp(
                    table="counters",
                    id=doc_id,
                    before=None,
                    after=document(doc_id, n=0.0),
                    keys_before={},
                    keys_after={},
                    indexes={},
                )
            ]
        )


def counter(engine: SQLiteEngine, doc_id: str) -> float:
    record = get(engine, doc_id)
    assert record is not None
    value = record.value["n"]
    assert isinstance(value, float)
    return value


def test_threads_lose_no_update(engine: SQLiteEngine) -> None:
    create_counter(engine, "c")
    conflicts: list[int] = []
    start = threading.Barrier(8)

    def work() -> None:
        start.wait()
        conflicts.extend(increment(engine, "c", pause=0.0005) for _ in range(25))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counter(engine, "c") == 200.0
    assert len(conflicts) == 200
    assert sum(conflicts) > 0  # the threads really raced


CHILD = """
import sys
from authlib_core.database.engines.sqlite import SQLiteEngine
from tests.unit.database.engines.test_sqlite import increment
engine = SQLiteEngine(sys.argv[1])
sys.stdin.readline()  # start together
conflicts = sum(increment(engine, "c", pause=0.0002) for _ in range(int(sys.argv[2])))
engine.close()
print("ok", conflicts)
"""


def test_processes_lose_no_update(path: Path) -> None:
    with SQLiteEngine(path) as engine:
        create_counter(engine, "c")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        children = [
            subprocess.Popen(
                [sys.executable, "-c", CHILD, str(path), "60"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        time.sleep(0.5)  # let them import
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        for _ in range(60):
            increment(engine, "c", pause=0.0002)
        for child in children:
            out, err = child.communicate(timeout=120)
            assert child.returncode == 0, err
            assert out.split()[0] == "ok"
        assert counter(engine, "c") == 240.0


# -- indexes -------------------------------------------------------------------------------------------------


def test_ensure_indexes_builds_drops_rebuilds_and_is_idempotent(path: Path) -> None:
    by_a = IndexSpec("people", "by_a", ("a",))
    by_b = IndexSpec("people", "by_b", ("b",))
    by_time = IndexSpec("people", BY_CREATION_TIME, ())
    docs: list[dict[str, Value]] = [
        {"_id": "p1", "_creationTime": 1.0, "a": "x", "b": "3"},
        {"_id": "p2", "_creationTime": 2.0, "a": "z", "b": "1"},
        {"_id": "p3", "_creationTime": 3.0, "a": "y", "b": "2"},
    ]

    def ids(engine: SQLiteEngine, spec: IndexSpec) -> list[str]:
        with engine.begin("read") as tx:
            result = tx.scan(KeyRange(spec, b"", b"\xff" * 64), "asc", after=None, limit=100)
        assert [e.key for e in result.entries] == [document_key(e.document.value, spec) for e in result.entries]
        return [e.document.id for e in result.entries]

    with SQLiteEngine(path) as engine:
        engine.ensure_indexes([by_time])
        with engine.begin("write") as tx:
            tx.commit(
                [
                    WriteOp(
                        table="people",
                        id=str(d["_id"]),
                        before=None,
                        after=d,
                        keys_before={},
                        keys_after={BY_CREATION_TIME: document_key(d, by_time)},
                        indexes={BY_CREATION_TIME: by_time},
                    )
                    for d in docs
                ]
            )
        assert ids(engine, by_a) == []

        engine.ensure_indexes([by_time, by_a, IndexSpec("empty", BY_CREATION_TIME, ())])  # build from documents
        assert ids(engine, by_a) == ["p1", "p3", "p2"]
        assert ids(engine, by_time) == ["p1", "p2", "p3"]

        with SQLiteEngine(path, busy_timeout_s=0.1) as other, other.begin("exclusive"):
            # unchanged: a read-only check, no write lock needed
            engine.ensure_indexes([IndexSpec("empty", BY_CREATION_TIME, ()), by_a, by_time])

        engine.ensure_indexes([by_time, IndexSpec("people", "by_a", ("b",))])  # changed fields: rebuilt
        assert ids(engine, IndexSpec("people", "by_a", ("b",))) == ["p2", "p3", "p1"]

        engine.ensure_indexes([by_time, by_b])  # by_a dropped
        assert ids(engine, by_a) == []
        assert ids(engine, by_b) == ["p2", "p3", "p1"]
        with closing(sqlite3.connect(path)) as raw:
            catalog = raw.execute("SELECT tbl, idx, fields_json FROM index_catalog ORDER BY idx").fetchall()
        assert catalog == [("people", "by_b", '["b"]'), ("people", "by_creation_time", "[]")]


def test_ensure_indexes_makes_open_write_transactions_validate(engine: SQLiteEngine) -> None:
    spec = IndexSpec("items", "by_n", ("n",))
    fill(engine, {"a": b"\x10"})
    with engine.begin("write") as tx:
        assert tx.scan(KeyRange(spec, b"", b"\xff" * 64), "asc", after=None, limit=10).entries == []
        engine.ensure_indexes([spec])  # the range read is no longer empty
        with pytest.raises(ConflictError, match=r"items\.by_n"):
            tx.commit([insert_op("z", b"\x90")])


# -- query plans -------------------------------------------------------------------------------------------


def plan(engine: SQLiteEngine, sql: str, parameters: tuple[object, ...]) -> list[str]:
    with closing(sqlite3.connect(engine.path)) as raw:
        rows = raw.execute("EXPLAIN QUERY PLAN " + sql, parameters).fetchall()
    return [row[3] for row in rows]


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_index_ranges_are_answered_through_the_primary_key(engine: SQLiteEngine, order: str) -> None:
    fill(engine, FIVE)
    steps = plan(engine, SCAN_SQL[order], ("items", "by_k", b"\x10", b"\x40", 10))  # type: ignore[index]
    assert steps[0] == "SEARCH e USING PRIMARY KEY (tbl=? AND idx=? AND key>? AND key<?)", steps
    assert steps[1].startswith("SEARCH d USING INDEX sqlite_autoindex_documents_1 (id=?)"), steps
    assert not any(step.startswith("SCAN") or "TEMP B-TREE" in step for step in steps), steps


def test_validation_and_point_reads_use_primary_keys(engine: SQLiteEngine) -> None:
    steps = plan(engine, VALIDATE_RANGE_SQL, ("items", "by_k", b"\x10", b"\x40"))
    assert steps[0] == "SEARCH e USING PRIMARY KEY (tbl=? AND idx=? AND key>? AND key<?)", steps
    assert not any(step.startswith("SCAN") or "TEMP B-TREE" in step for step in steps), steps
    assert plan(engine, GET_SQL, ("a",)) == ["SEARCH documents USING INDEX sqlite_autoindex_documents_1 (id=?)"]


# -- errors and lifecycle -------------------------------------------------------------------------------------


def test_a_corrupt_file_is_reported_with_its_path(tmp_path: Path) -> None:
    bad = tmp_path / "dev.sqlite3"
    bad.write_bytes(b"this is certainly not a SQLite database\n" * 200)
    with pytest.raises(StorageUnavailableError, match="is not a SQLite database or is corrupt") as caught:
        SQLiteEngine(bad)
    assert str(bad) in caught.value.detail  # the log and the command line name the file; a response does not
    assert str(bad) not in caught.value.message
    assert "move it away" in caught.value.message


def test_another_applications_database_is_left_alone(tmp_path: Path) -> None:
    foreign = tmp_path / "app.db"
    with closing(sqlite3.connect(foreign)) as raw:
        raw.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
    with pytest.raises(StorageUnavailableError, match=r"another application.*customers"):
        SQLiteEngine(foreign)
    with closing(sqlite3.connect(foreign)) as raw:
        assert raw.execute("SELECT name FROM sqlite_master").fetchall() == [("customers",)]


def test_a_directory_is_not_a_store(tmp_path: Path) -> None:
    with pytest.raises(StorageUnavailableError) as caught:
        SQLiteEngine(tmp_path)
    assert str(tmp_path) in caught.value.message + caught.value.detail


@pytest.mark.parametrize("target", [":memory:", "", "file::memory:?cache=shared"])
def test_in_memory_targets_are_refused(target: str) -> None:
    with pytest.raises(ConfigError, match="in-memory database cannot be shared"):
        SQLiteEngine(target)


def test_the_store_uses_wal_and_records_its_layout_version(engine: SQLiteEngine) -> None:
    with closing(sqlite3.connect(engine.path)) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert raw.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone() == (1,)


def test_closed_transactions_and_engines_refuse_work(path: Path) -> None:
    engine = SQLiteEngine(path)
    tx = engine.begin("read")
    tx.close()
    tx.close()
    with pytest.raises(RuntimeError, match="closed"):
        tx.validate()
    with pytest.raises(RuntimeError, match="closed"):
        tx.get("a")
    committed = engine.begin("write")
    committed.commit([insert_op("a", b"\x10")])
    with pytest.raises(RuntimeError, match="closed"):
        committed.commit([])
    committed.close()
    with engine.begin("read") as reader, pytest.raises(RuntimeError, match="cannot write"):
        reader.commit([insert_op("b", b"\x20")])
    with pytest.raises(ValueError, match="mode"):
        engine.begin("bogus")  # type: ignore[arg-type]
    engine.close()
    engine.close()
    with pytest.raises(StorageUnavailableError, match="was closed"):
        engine.begin("read")


def test_a_transaction_open_across_engine_close_still_ends_cleanly(path: Path) -> None:
    engine = SQLiteEngine(path)
    tx = engine.begin("write")
    engine.close()
    tx.commit([insert_op("a", b"\x10")])
    with SQLiteEngine(path) as reopened:
        assert get(reopened, "a") is not None


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_opens_its_own_connections(engine: SQLiteEngine) -> None:
    insert(engine, "a", b"\x10")  # the parent now has an idle pooled connection
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child process
        code = 1
        try:
            insert(engine, "b", b"\x20")
            inherited = sqlite_module._INHERITED  # the parent's connection was set aside, not reused
            code = 0 if scan_ids(engine) == ["a", "b"] and len(inherited) == 1 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert scan_ids(engine) == ["a", "b"]  # the parent's own connections are intact
    insert(engine, "c", b"\x30")
    assert scan_ids(engine) == ["a", "b", "c"]

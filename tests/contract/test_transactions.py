"""Transactions: atomicity, read-your-own-writes, serializability (no lost updates, no phantoms)."""

from __future__ import annotations

import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from authlib_core.database import Database, RetryPolicy
from authlib_core.errors import ConflictError, ConvexError

if TYPE_CHECKING:
    from collections.abc import Callable

THREADS = 8
INCREMENTS = 50


def test_an_exception_rolls_back_every_write(db: Database) -> None:
    kept = db.run_mutation(lambda w: w.insert("items", {"group": "g", "rank": 1.0}))

    def fail(w: Any) -> None:
        w.insert("items", {"group": "g", "rank": 2.0})
        w.patch(kept, {"rank": 99.0})
        w.delete(kept)
        raise ConvexError("boom")

    with pytest.raises(ConvexError):
        db.run_mutation(fail)
    docs = db.run_query(lambda r: r.query("items").collect())
    assert [(d["_id"], d["rank"]) for d in docs] == [(kept, 1.0)]


def test_mutation_reads_its_own_writes(db: Database) -> None:
    existing = db.run_mutation(lambda w: w.insert("items", {"group": "g", "rank": 5.0}))

    def body(w: Any) -> Any:
        new_id = w.insert("items", {"group": "g", "rank": 1.0})
        assert w.get(new_id)["rank"] == 1.0
        w.patch(existing, {"rank": 0.5})
        w.insert("items", {"group": "h", "rank": 3.0})
        in_g = w.query("items").with_index("by_group_rank", lambda q: q.eq("group", "g")).collect()
        w.delete(new_id)
        after_delete = w.query("items").with_index("by_group_rank", lambda q: q.eq("group", "g")).collect()
        return [d["rank"] for d in in_g], [d["rank"] for d in after_delete], w.get(new_id)

    in_g, after_delete, deleted = db.run_mutation(body)
    assert in_g == [0.5, 1.0]  # the patched document moved before the new one
    assert after_delete == [0.5]
    assert deleted is None


def test_savepoint_undoes_only_the_inner_writes(db: Database) -> None:
    def body(w: Any) -> list[float]:
        w.insert("items", {"group": "g", "rank": 1.0})
        try:
            with w.savepoint():
                w.insert("items", {"group": "g", "rank": 2.0})
                raise ConvexError("inner failed")
        except ConvexError:
            pass
        return [d["rank"] for d in w.query("items").collect()]

    assert db.run_mutation(body) == [1.0]
    assert [d["rank"] for d in db.run_query(lambda r: r.query("items").collect())] == [1.0]


def _increment(db: Database, counter_id: str) -> None:
    def body(w: Any) -> None:
        doc = w.get(counter_id)
        time.sleep(0.0005)  # widen the read-modify-write window so the threads really interleave
        w.patch(counter_id, {"value": doc["value"] + 1.0})

    db.run_mutation(body)


def test_no_lost_updates_under_concurrent_increments(open_database: Callable[..., Database]) -> None:
    setup = open_database()
    counter_id = setup.run_mutation(lambda w: w.insert("counters", {"name": "c", "value": 0.0}))
    handles = [open_database(RetryPolicy(max_attempts=50)) for _ in range(THREADS)]

    def worker(handle: Database) -> None:
        for _ in range(INCREMENTS):
            _increment(handle, counter_id)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(worker, handles))
    assert setup.run_query(lambda r: r.get(counter_id))["value"] == THREADS * INCREMENTS  # type: ignore[index]
    assert sum(h.stats.conflicts for h in handles) > 0, "the threads never overlapped; the test proved nothing"


def test_no_phantom_double_insert(open_database: Callable[..., Database]) -> None:
    handles = [open_database(RetryPolicy(max_attempts=50)) for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    checked = threading.Barrier(THREADS, timeout=5)

    def sign_up(handle: Database) -> str:
        barrier.wait()
        first_attempt = [True]

        def body(w: Any) -> str:
            existing = w.query("users").with_index("by_email", lambda q: q.eq("email", "a@example.com")).first()
            if existing is not None:
                return "exists"
            if first_attempt[0]:  # every thread has checked before any inserts, however loaded the machine is
                first_attempt[0] = False
                with contextlib.suppress(threading.BrokenBarrierError):
                    checked.wait()
            w.insert("users", {"email": "a@example.com"})
            return "inserted"

        return handle.run_mutation(body)

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(sign_up, handles))
    assert outcomes.count("inserted") == 1
    assert sum(h.stats.conflicts for h in handles) > 0, "the mutations never overlapped; the test proved nothing"
    users = handles[0].run_query(lambda r: r.query("users").collect())
    assert len(users) == 1


def test_a_query_never_observes_part_of_a_mutation(open_database: Callable[..., Database]) -> None:
    writer = open_database(RetryPolicy(max_attempts=50))
    reader = open_database(RetryPolicy(max_attempts=50))
    left = writer.run_mutation(lambda w: w.insert("pairs", {"side": "left", "n": 0.0}))
    right = writer.run_mutation(lambda w: w.insert("pairs", {"side": "right", "n": 0.0}))
    stop = threading.Event()

    def write_pairs() -> None:
        n = 0.0
        while not stop.is_set() and n < 100:
            n += 1

            def body(w: Any, n: float = n) -> None:
                w.patch(left, {"n": n})
                w.patch(right, {"n": n})

            writer.run_mutation(body)

    thread = threading.Thread(target=write_pairs)
    thread.start()
    torn: list[tuple[float, float]] = []
    try:
        for _ in range(150):
            by_get = reader.run_query(lambda r: (r.get(left)["n"], r.get(right)["n"]))
            by_query = reader.run_query(
                lambda r: tuple(d["n"] for d in r.query("pairs").with_index("by_side").collect())
            )
            for pair in (by_get, by_query):
                if pair[0] != pair[1]:
                    torn.append(pair)
    finally:
        stop.set()
        thread.join()
    assert torn == []


def test_conflict_error_after_retries_is_clear_and_writes_nothing(open_database: Callable[..., Database]) -> None:
    db = open_database(RetryPolicy(max_attempts=2, initial_backoff_s=0.0, exclusive_after=100))
    other = open_database()
    counter_id = db.run_mutation(lambda w: w.insert("counters", {"name": "c", "value": 0.0}))

    def body(w: Any) -> None:
        doc = w.get(counter_id)
        other.run_mutation(lambda o: o.patch(counter_id, {"value": doc["value"] + 100.0}))  # concurrent writer
        w.patch(counter_id, {"value": doc["value"] + 1.0})
        w.insert("items", {"group": "never", "rank": 1.0})

    with pytest.raises(ConflictError, match="attempts") as info:
        db.run_mutation(body)
    assert info.value.code == "OptimisticConcurrencyControlFailure"
    assert db.run_query(lambda r: r.get(counter_id))["value"] == 200.0  # type: ignore[index]
    assert db.run_query(lambda r: r.query("items").collect()) == []

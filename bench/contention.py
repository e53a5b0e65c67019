"""Contention: 8 threads incrementing one counter vs 8 threads each incrementing its own, on SQLite and DynamoDB/moto.

Each increment is one ``Database.run_mutation`` (read the counter, write it back plus one), the path a
``@mutation`` takes; conflicts are retried by the database layer with backoff. Reported: commits per second,
retries per commit (``Database.stats.conflicts / commits``), and lost updates (final values vs increments made).

On moto every DynamoDB call is made atomic by the test harness lock (``tests/dynamodb/harness.py``), as each
request is on DynamoDB; the calls themselves still interleave freely between threads.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import BENCH_FUNCTIONS, Row, dynamodb_stack, moto, sqlite_stack

SECTION = "6 contention"
THREADS = 8


def increments(db: Any, ids: list[str], per_thread: int) -> dict[str, float]:
    """``THREADS`` threads; thread *i* increments ``ids[i % len(ids)]`` ``per_thread`` times."""
    before = (db.stats.commits, db.stats.conflicts)
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def bump(w: Any, doc_id: str) -> None:
        counter = w.get(doc_id)
        w.patch(doc_id, {"n": counter["n"] + 1})

    def worker(i: int) -> None:
        doc_id = ids[i % len(ids)]
        barrier.wait()
        try:
            for _ in range(per_thread):
                db.run_mutation(lambda w: bump(w, doc_id))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} threads failed: {errors[0]!r}")
    commits = db.stats.commits - before[0]
    conflicts = db.stats.conflicts - before[1]
    total = db.run_query(lambda r: sum(r.get(i)["n"] for i in ids))
    return {
        "commits_per_s": commits / elapsed,
        "retries_per_commit": conflicts / commits,
        "lost_updates": THREADS * per_thread - total,
        "seconds": elapsed,
    }


def scenario(db: Any, per_thread: int) -> dict[str, dict[str, float]]:
    def new() -> str:
        return db.run_mutation(lambda w: w.insert("counters", {"name": "c", "n": 0.0}))

    hot = [new()]
    own = [new() for _ in range(THREADS)]
    return {"one counter": increments(db, hot, per_thread), "own documents": increments(db, own, per_thread)}


def run(quick: bool = False) -> tuple[list[Row], dict[str, Any]]:
    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        stack = sqlite_stack(Path(tmp) / "c.sqlite3", BENCH_FUNCTIONS)
        results["SQLite"] = scenario(stack.runtime.database, 5 if quick else 300)
        stack.runtime.database.close()
    with moto():
        from tests.dynamodb.harness import expire_commit_markers, serialize_moto_calls

        stack = dynamodb_stack(BENCH_FUNCTIONS, tables="contention")
        serialize_moto_calls(stack.client)
        expire_commit_markers(stack.client)  # as TTL would: moto slows down with every item a table holds
        results["DynamoDB/moto"] = scenario(stack.runtime.database, 3 if quick else 25)
    rows = []
    for engine, result in results.items():
        hot, own = result["one counter"], result["own documents"]
        rows.append(
            Row(
                SECTION,
                f"{engine}: 8 threads, one counter vs own documents",
                "commits/s",
                hot["commits_per_s"],
                own["commits_per_s"],
                note="informational: the hot document serializes",
            )
        )
        rows.append(
            Row(
                SECTION,
                f"{engine}: retries per commit, one counter",
                "retries",
                hot["retries_per_commit"],
                note="informational",
            )
        )
        rows.append(
            Row(
                SECTION,
                f"{engine}: retries per commit, own documents",
                "retries",
                own["retries_per_commit"],
                target="<= 0.05",
                target_kind="abs_max",
                target_value=0.05,
            )
        )
        rows.append(
            Row(
                SECTION,
                f"{engine}: lost updates (both cases)",
                "updates",
                float(hot["lost_updates"] + own["lost_updates"]),
                target="= 0",
                target_kind="eq",
                target_value=0.0,
            )
        )
    return rows, results


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv)[1], indent=1))

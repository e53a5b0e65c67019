"""Scaling: a 20-item index page in a table of 1,000 vs 100,000 documents; paginating through 100,000.

Every document is a note of the same user, so the index range ``by_user = u`` spans the whole table: the worst
case for "cost follows the page, not the table".

* SQLite: time of ``paginate({"numItems": 20})`` through ``Database.run_query`` (median of many).
* DynamoDB (in-process moto): items DynamoDB reads for the page — the ``ScannedCount`` of the engine's ``Query``
  calls (what DynamoDB bills read capacity on) — plus the number of calls. moto's own time is O(partition), unlike
  DynamoDB's, so it is not reported. The 100,000-document table is built from the engine's own items: inserts are
  committed through the engine in 20-document transactions whose ``TransactWriteItems`` are captured (not sent)
  and written with ``BatchWriteItem``, with the shard versions the captured ``ADD``s would have produced.
* Pagination: all 100,000 documents in pages of 100 on SQLite (one walk, which collects the cursors); then the pages
  of the first and the last third timed alternately (:func:`paginate_interleaved`), median time per page of each.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import BENCH_FUNCTIONS, Row, dynamodb_stack, median_spread, moto, sqlite_stack

SECTION = "5 scaling"


def _page(db: Any, n: int = 20, cursor: str | None = None) -> Any:
    return db.run_query(
        lambda r: (
            r.query("notes")
            .with_index("by_user", lambda q: q.eq("userId", "u"))
            .paginate({"numItems": n, "cursor": cursor})
        )
    )


def sqlite_fill(db: Any, n: int, batch: int = 5000) -> None:
    for start in range(0, n, batch):
        count = min(batch, n - start)
        db.run_mutation(
            lambda w, s=start, c=count: [w.insert("notes", {"userId": "u", "text": f"n{s + i}"}) for i in range(c)]
        )


def sqlite_page_us(db: Any, reps: int) -> list[float]:
    _page(db)
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(reps):
            result = _page(db)
        samples.append((time.perf_counter() - started) / reps * 1e6)
        assert len(result["page"]) == 20
    return samples


def paginate_all(db: Any, page_size: int) -> tuple[list[float], list[str | None]]:
    """Seconds per page walking the whole range, and the cursor each page was read with."""
    times: list[float] = []
    cursors: list[str | None] = []
    cursor = None
    while True:
        cursors.append(cursor)
        started = time.perf_counter()
        result = _page(db, page_size, cursor)
        times.append(time.perf_counter() - started)
        if result["isDone"]:
            return times, cursors
        cursor = result["continueCursor"]


def paginate_interleaved(db: Any, cursors: list[str | None], rounds: int) -> tuple[list[float], list[float]]:
    """Seconds per page of the first and the last third of ``cursors``, timed alternately (pairs in both orders).

    One walk from the first page to the last measures the first third at the start of the run and the last third
    at its end, so anything that drifts with time (the shared machine's load, garbage collection of what the walk
    allocated) reads as a cost of position. Alternating pages of both thirds compares them under the same load.
    """
    third = len(cursors) // 3
    first: list[float] = []
    last: list[float] = []
    for round_ in range(rounds):
        for i in range(third):
            pair = [(first, cursors[i]), (last, cursors[2 * third + i])]
            for times, cursor in pair if (i + round_) % 2 == 0 else reversed(pair):
                started = time.perf_counter()
                _page(db, 100, cursor)
                times.append(time.perf_counter() - started)
    return first, last


def dynamodb_fill(stack: Any, n: int) -> None:
    """Insert ``n`` notes as the engine would, but write the captured items with BatchWriteItem."""
    from botocore.awsrequest import AWSResponse

    client = stack.client
    puts: list[dict[str, Any]] = []
    versions: dict[tuple[str, bytes], int] = {}
    table = stack.runtime.settings.documents_table

    def capture(params: dict[str, Any], **_: Any) -> None:
        for action in params["TransactItems"]:
            if "Put" in action:
                puts.append(action["Put"]["Item"])
            elif "Update" in action:
                key = action["Update"]["Key"]
                ident = (key["pk"]["S"], key["sk"]["B"])
                versions[ident] = versions.get(ident, 0) + 1

    def skip(**_: Any) -> Any:  # the call is answered here: nothing is sent
        return AWSResponse("", 200, {}, None), {}

    client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", capture, unique_id="bench-cap")
    client.meta.events.register_first("before-call.dynamodb.TransactWriteItems", skip, unique_id="bench-skip")
    try:
        db = stack.runtime.database
        for start in range(0, n, 20):
            count = min(20, n - start)
            db.run_mutation(lambda w, c=count: [w.insert("notes", {"userId": "u", "text": "n"}) for _ in range(c)])
    finally:
        client.meta.events.unregister("provide-client-params.dynamodb.TransactWriteItems", unique_id="bench-cap")
        client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", unique_id="bench-skip")
    for (pk, sk), ver in versions.items():
        current = client.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"B": sk}}).get("Item")
        base = int(current["ver"]["N"]) if current else 0
        puts.append({"pk": {"S": pk}, "sk": {"B": sk}, "ver": {"N": str(base + ver)}})
    for start in range(0, len(puts), 25):
        request = {table: [{"PutRequest": {"Item": item}} for item in puts[start : start + 25]]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def dynamodb_page_reads(stack: Any) -> dict[str, int]:
    """Calls and items read (``ScannedCount`` summed over Queries) for one 20-item page."""
    reads = {"calls": 0, "scanned": 0, "returned": 0}

    def count(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        reads["calls"] += 1
        if model.name == "Query":
            reads["scanned"] += parsed.get("ScannedCount", 0)
            reads["returned"] += parsed.get("Count", 0)

    stack.client.meta.events.register("after-call.dynamodb", count, unique_id="bench-reads")
    try:
        result = _page(stack.runtime.database)
    finally:
        stack.client.meta.events.unregister("after-call.dynamodb", unique_id="bench-reads")
    assert len(result["page"]) == 20
    return reads


def run(quick: bool = False) -> tuple[list[Row], dict[str, Any]]:
    small, large = (100, 2_000) if quick else (1_000, 100_000)
    reps = 5 if quick else 60
    extra: dict[str, Any] = {"small": small, "large": large}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        stacks = {}
        started = time.perf_counter()
        for n in (small, large):
            stacks[n] = sqlite_stack(Path(tmp) / f"s{n}.sqlite3", BENCH_FUNCTIONS)
            sqlite_fill(stacks[n].runtime.database, n)
        extra["sqlite_fill_s"] = time.perf_counter() - started
        samples = {n: sqlite_page_us(stacks[n].runtime.database, reps) for n in (small, large)}
        ours, ours_spread = median_spread(samples[large])
        base, base_spread = median_spread(samples[small])
        rows.append(
            Row(
                SECTION,
                f"SQLite: 20-item page, {large:,} vs {small:,} docs",
                "us",
                ours,
                base,
                ours_spread,
                base_spread,
                "<= 1.3x",
                "max",
                1.3,
            )
        )
        page_size = 100
        times, cursors = paginate_all(stacks[large].runtime.database, page_size)
        third = len(times) // 3
        parts = [times[:third], times[third : 2 * third], times[2 * third :]]
        walk = [statistics.median(p) * 1e6 for p in parts]
        first_times, last_times = paginate_interleaved(stacks[large].runtime.database, cursors, 1 if quick else 3)
        first, last = statistics.median(first_times) * 1e6, statistics.median(last_times) * 1e6
        extra["paginate"] = {
            "pages": len(times),
            "page_size": page_size,
            "total_s": sum(times),
            "walk_median_us_first_middle_last": walk,
            "interleaved_median_us_first_last": [first, last],
        }
        rows.append(
            Row(
                SECTION,
                f"SQLite: paginate {large:,} docs ({len(times)} pages of {page_size}), last vs first third",
                "us/page",
                last,
                first,
                target="<= 1.1x",
                target_kind="max",
                target_value=1.1,
                note=f"pages of both thirds timed alternately, {len(first_times)} each; one walk first to last: "
                f"median us/page first/middle/last third {walk[0]:.0f}/{walk[1]:.0f}/{walk[2]:.0f}, "
                f"total {sum(times):.2f} s",
            )
        )
        for stack in stacks.values():
            stack.runtime.database.close()

    with moto():
        reads = {}
        started = time.perf_counter()
        for n in (small, large):
            stack = dynamodb_stack(BENCH_FUNCTIONS, tables=f"scale{n}")
            dynamodb_fill(stack, n)
            reads[n] = dynamodb_page_reads(stack)
        extra["dynamodb_fill_s"] = time.perf_counter() - started
        extra["dynamodb_reads"] = reads
    rows.append(
        Row(
            SECTION,
            f"DynamoDB/moto: items read for a 20-item page, {large:,} vs {small:,} docs",
            "items",
            float(reads[large]["scanned"]),
            float(reads[small]["scanned"]),
            target="<= 1.3x",
            target_kind="max",
            target_value=1.3,
            note=f"calls per page: {reads[large]['calls']} vs {reads[small]['calls']}",
        )
    )
    return rows, extra


if __name__ == "__main__":
    import json
    import sys

    rows, extra = run(quick="--quick" in sys.argv)
    for row in rows:
        print(row.figure, row.ours, row.baseline, row.ratio, row.note)
    print(json.dumps(extra, indent=1, default=str))

"""DynamoDB calls and wall time of building the example app's indexes on a fresh documents table.

Run: ``.venv/bin/python -m bench.index_builds [RUNS]`` (default 5). For each of moto's single-threaded server
(``tests.dynamodb.moto_server``) and in-process moto it creates a fresh documents table RUNS times, runs
``ensure_indexes`` with every index of ``functions/``'s schema (the same list ``infra migrate`` builds), and prints
the calls by API (deterministic; ``tests/dynamodb/test_index_builds.py`` asserts them) and the median and fastest
wall time. See docs/dynamodb.md, section 7.
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import aws_env, moto

ROOT = Path(__file__).resolve().parent.parent


def measure(endpoint_url: str | None, runs: int) -> tuple[dict[str, int], list[float], int, int]:
    """(calls by API, wall seconds of each run, indexes, tables) of building the example app's indexes."""
    from authlib_core.database import Database
    from authlib_core.database.engines.dynamodb import DynamoDBEngine, create_client, create_tables
    from authlib_core.database.engines.dynamodb.migrate import ensure_indexes
    from authlib_core.functions import load_functions
    from tests.dynamodb.call_counter import CallCounter

    schema = load_functions(ROOT / "functions").schema
    times: list[float] = []
    calls: dict[str, int] = {}
    indexes: list[Any] = []
    for _ in range(runs):
        client = create_client(endpoint_url=endpoint_url, region="us-east-1")
        table = f"index-builds-{uuid.uuid4().hex[:8]}"
        create_tables(client, {"documents": table, "sessions": table + "-sessions"})
        engine = DynamoDBEngine(client, table)
        indexes = Database(engine, schema, cursor_secret=b"bench-index-builds").catalog.all_indexes()
        counter = CallCounter(client)
        with counter.measure() as counted:
            start = time.perf_counter()
            ensure_indexes(engine, indexes)
            times.append(time.perf_counter() - start)
        calls = dict(sorted(counted.items()))
        engine.close()
    return calls, times, len(indexes), len({spec.table for spec in indexes})


def report(label: str, endpoint_url: str | None, runs: int) -> None:
    calls, times, indexes, tables = measure(endpoint_url, runs)
    print(f"{label}: {indexes} indexes over {tables} tables, {sum(calls.values())} calls {calls}")
    print(f"  wall: median {statistics.median(times) * 1000:.0f} ms, fastest {min(times) * 1000:.0f} ms ({runs} runs)")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    aws_env()
    from tests.dynamodb.harness import start_server

    with start_server() as url:
        report("moto server", url, runs)
    with moto():
        report("in-process moto", None, runs)


if __name__ == "__main__":
    main()

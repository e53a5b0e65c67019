"""Storage under stress, through the dev server on DynamoDB (moto's server): the figures of docs/dynamodb.md.

1. **Hot counter**: 8 clients x 25 increments of one counter (``counter:increment``: one index read, one write),
   each client one request at a time. Reported: failed calls, p50 and max latency, wall time, final value.
2. **No contention**: one client, 50 increments of its own counter: p50 latency, retries per commit.
3. **Hung DynamoDB**: the endpoint accepts connections and never answers; the time a mutation takes to come
   back as 503, with the dev server's budget and with a Lambda context that has 10 s left.

Usage (from the repository root)::

    .venv/bin/python -m bench.storage_faults            # all three
    .venv/bin/python -m bench.storage_faults --only hot --max-backoff 0.5 --max-attempts 12 --exclusive-after 99

Timing is never asserted (tests/faults assert 0 failures and the bounds).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import statistics
import time
from typing import Any

from authlib_core.dev.server import DevContext
from authlib_core.http.app import HttpApp
from tests.dynamodb.harness import start_server
from tests.faults.hang import hung_endpoint
from tests.faults.harness import LambdaContext, Stack, hot_counter
from tests.faults.test_time_budget import call, counting_down, hung_runtime


def _stack(endpoint: str, policy: dict[str, Any] | None = None) -> Stack:
    stack = Stack(endpoint, "dev")
    if policy:
        database = stack.runtime.database
        database.retry = dataclasses.replace(database.retry, **policy)
    return stack


def hot(endpoint: str, policy: dict[str, Any]) -> dict[str, Any]:
    stack = _stack(endpoint, policy)
    try:
        started = time.perf_counter()
        result = hot_counter(stack, clients=8, increments=25)
        wall = time.perf_counter() - started
        stats = stack.runtime.database.stats
        latencies = sorted(result["latencies"])
        return {
            "calls": len(latencies),
            "failures": len(result["failures"]),
            "final_value": result["value"],
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1),
            "max_ms": round(latencies[-1] * 1000, 1),
            "wall_s": round(wall, 2),
            "retries_per_commit": round(stats.conflicts / max(1, stats.commits), 2),
        }
    finally:
        stack.close()


def quiet(endpoint: str) -> dict[str, Any]:
    stack = _stack(endpoint)
    try:
        latencies = []
        for index in range(50):
            started = time.perf_counter()
            status, _ = stack.mutation(f"own-{index % 5}")
            latencies.append(time.perf_counter() - started)
            assert status == 200
        stats = stack.runtime.database.stats
        return {
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "retries_per_commit": round(stats.conflicts / max(1, stats.commits), 2),
        }
    finally:
        stack.close()


def hung() -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for label, context in (("dev_server", DevContext(aws_request_id="bench")), ("lambda_10s_left", None)):
        with hung_endpoint() as endpoint:
            runtime = hung_runtime(endpoint)
            try:
                app = HttpApp(functools.partial(_same, runtime))
                status, body, took = call(app, context or LambdaContext(counting_down(10.0)))
            finally:
                runtime.database.close()
        figures[f"{label}_s"] = round(took, 2)
        figures[f"{label}_status"] = f"{status} {body.get('code')}"
    return figures


def _same(runtime: Any) -> Any:
    return runtime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="hot,quiet,hung")
    parser.add_argument("--max-backoff", type=float, default=None, help="override RetryPolicy.max_backoff_s")
    parser.add_argument("--exclusive-after", type=int, default=None, help="override RetryPolicy.exclusive_after")
    parser.add_argument("--max-attempts", type=int, default=None, help="override RetryPolicy.max_attempts")
    options = parser.parse_args()
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        os.environ.setdefault(name, value)
    only = set(options.only.split(","))
    with start_server() as endpoint:
        if "hot" in only:
            policy = {
                "max_backoff_s": options.max_backoff,
                "exclusive_after": options.exclusive_after,
                "max_attempts": options.max_attempts,
            }
            policy = {key: value for key, value in policy.items() if value is not None}
            print("hot counter 8x25:", hot(endpoint, policy), flush=True)
        if "quiet" in only:
            print("no contention:", quiet(endpoint), flush=True)
    if "hung" in only:
        print("hung DynamoDB, time to 503:", hung(), flush=True)


if __name__ == "__main__":
    main()

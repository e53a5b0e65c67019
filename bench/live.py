"""Live queries on the dev server: commit-to-update latency, the cost of unrelated subscriptions, memory.

* **Latency** (p50/p99): one WebSocket client (``websockets``) on the real dev server subscribes to N queries
  (``notes:getCounter`` on N counters, N = 1, 100, 1,000); a mutation bumps counter 0 again and again. Measured from
  the change feed's publication of the commit (in the committing thread) to the arrival of the client's Transition.
  The baseline is N = 1.
* **Unrelated writes**: a session (the transport-free state machine, over the same runtime) holds 1,000
  subscriptions; a mutation bumps a counter none of them read. Figures: how many queries re-ran (exactly 0: the
  read sets do not intersect) and the time of write + session refresh, against the same with no subscription.
* **Memory per subscription**: ``tracemalloc`` growth while a session subscribes to 1,000 queries, divided by 1,000
  (result values, read sets and protocol state).

Run: ``python -m bench --only live`` (``--quick``: fewer rounds).
"""

from __future__ import annotations

import io
import json
import statistics
import tempfile
import threading
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

from bench.common import BENCH_FUNCTIONS, Row

SECTION = "8 live queries"


def _runtime(tmp: Path) -> Any:
    from authlib_core.config import Settings
    from authlib_core.runtime import build_runtime

    return build_runtime(Settings(functions_dir=BENCH_FUNCTIONS, sqlite_path=tmp / "live.sqlite3", secrets=("x" * 40,)))


def _counters(runtime: Any, count: int) -> list[str]:
    from authlib_core.auth import NoAuth

    return [runtime.executor.call("notes:newCounter", {}, auth=NoAuth()) for _ in range(count)]


def _subscribe_message(ids: list[str]) -> str:
    mods = [
        {"type": "Add", "queryId": i, "udfPath": "notes:getCounter", "args": [{"id": cid}]} for i, cid in enumerate(ids)
    ]
    return json.dumps({"type": "ModifyQuerySet", "baseVersion": 0, "newVersion": 1, "modifications": mods})


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latency(runtime: Any, subscriptions: int, rounds: int) -> list[float]:
    """Milliseconds from commit publication to the client's Transition, ``rounds`` times."""
    from websockets.sync.client import connect

    from authlib_core.auth import NoAuth
    from authlib_core.dev.server import DevServer

    server = DevServer(lambda: runtime, runtime.settings.functions_dir, port=0, out=io.StringIO())
    server.start_background()
    ids = _counters(runtime, subscriptions)
    committed: list[float] = []
    server.sync.feed.subscribe(lambda commit: committed.append(time.perf_counter()))
    arrived: list[float] = []
    got = threading.Event()
    try:
        with connect(server.url.replace("http://", "ws://") + "/api/1.49.0/sync", max_size=None) as ws:
            ws.send(json.dumps({"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0}))
            ws.send(_subscribe_message(ids))
            json.loads(ws.recv(timeout=60))  # the first Transition: every result

            def read() -> None:
                for message in ws:
                    if json.loads(message)["type"] == "Transition":
                        arrived.append(time.perf_counter())
                        got.set()

            threading.Thread(target=read, daemon=True).start()
            samples = []
            for _ in range(rounds):
                got.clear()
                committed.clear()
                runtime.executor.call("notes:bump", {"id": ids[0]}, auth=NoAuth())
                if not got.wait(timeout=30):
                    raise RuntimeError("no Transition arrived after a commit")
                samples.append((arrived[-1] - committed[0]) * 1000)
        return samples
    finally:
        server.shutdown()


class _Counting:
    """The real backend, counting query runs."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.queries = 0

    def call(self, kind: str, path: str, args: Any, auth: Any, journal: str | None = None) -> Any:
        if kind == "query":
            self.queries += 1
        return self.inner.call(kind, path, args, auth, journal)

    def authenticate(self, token: str) -> Any:
        return self.inner.authenticate(token)


def _session(runtime: Any, ids: list[str]) -> tuple[Any, _Counting, Any]:
    from aws_lambda_powertools import Logger

    from authlib_core.http.sync_backend import RuntimeSyncBackend
    from authlib_core.sync import InProcessFeed, SyncSession

    feed = InProcessFeed()
    runtime.database.commit_listeners.append(feed.publish)
    # Not service "bench": Powertools sets the level of the stdlib logger named after the service, and a logger
    # "bench" at ERROR would silence the bench app's own loggers ("bench.app") for the rest of the process.
    backend = _Counting(RuntimeSyncBackend(lambda: runtime, Logger(service="authlib-core-bench-live", level="ERROR")))
    session = SyncSession(backend, feed)
    session.receive(json.dumps({"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0}))
    if ids:
        session.receive(_subscribe_message(ids))
    return session, backend, feed


def unrelated_writes(runtime: Any, subscriptions: int, rounds: int) -> tuple[list[float], int]:
    """(ms per write + refresh, queries re-run) with ``subscriptions`` subscriptions none of the writes touch."""
    from authlib_core.auth import NoAuth

    ids = _counters(runtime, subscriptions)
    (other,) = _counters(runtime, 1)
    session, backend, _feed = _session(runtime, ids)
    before = backend.queries
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        runtime.executor.call("notes:bump", {"id": other}, auth=NoAuth())
        if session.refresh():
            raise RuntimeError("an unrelated write produced a Transition")
        samples.append((time.perf_counter() - started) * 1000)
    session.close()
    return samples, backend.queries - before


def memory_per_subscription(runtime: Any, subscriptions: int) -> float:
    """Bytes allocated per subscription while a session subscribes to ``subscriptions`` queries."""
    ids = _counters(runtime, subscriptions)
    session, _backend, _feed = _session(runtime, [])
    message = _subscribe_message(ids)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    session.receive(message)
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    session.close()
    return used / subscriptions


def run(quick: bool = False) -> tuple[list[Row], dict[str, Any]]:
    rounds = 10 if quick else 200
    sizes = (1, 100) if quick else (1, 100, 1000)
    rows: list[Row] = []
    extra: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        runtime = _runtime(Path(tmp))
        try:
            results = {n: latency(runtime, n, rounds) for n in sizes}
            base = results[1]
            for n, samples in results.items():
                for label, q in (("p50", 0.5), ("p99", 0.99)):
                    rows.append(
                        Row(
                            SECTION,
                            f"commit -> update, {n} subscription(s), {label}",
                            "ms",
                            _percentile(samples, q),
                            _percentile(base, q),
                            note="baseline: 1 subscription",
                        )
                    )
            many = 100 if quick else 1000
            loaded, reruns = unrelated_writes(runtime, many, rounds)
            empty, _ = unrelated_writes(runtime, 0, rounds)
            rows.append(
                Row(
                    SECTION,
                    f"write + refresh, {many} unrelated subscriptions",
                    "ms",
                    statistics.median(loaded),
                    statistics.median(empty),
                    note="baseline: no subscription",
                )
            )
            rows.append(
                Row(
                    SECTION,
                    f"queries re-run by {rounds} unrelated writes ({many} subscriptions)",
                    "queries",
                    float(reruns),
                    target="= 0",
                    target_kind="eq",
                    target_value=0.0,
                )
            )
            per = memory_per_subscription(runtime, many)
            rows.append(Row(SECTION, "memory per subscription", "bytes", per))
            extra = {"latency_ms": {str(n): samples for n, samples in results.items()}}
        finally:
            runtime.database.close()
    return rows, extra


if __name__ == "__main__":
    for row in run(quick=False)[0]:
        print(f"{row.figure:60} {row.ours:10.3f} {row.unit}  (baseline {row.baseline})")

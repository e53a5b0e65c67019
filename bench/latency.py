"""Latency on AWS, modelled: every DynamoDB call takes a fixed time; how long does an authenticated request take?

The whole HTTP app (``HttpApp`` over ``bench/app`` on in-process moto) serves the requests; a botocore ``before-call``
hook on the app's client sleeps ``latency`` seconds per call (a network round trip) and records when each call
started and ended. A warm instance serves the same session over and over:

* ours: the runtime as deployed, which remembers the sessions it confirmed and reads a remembered session in the
  background while the function runs (``AuthService(remember_sessions=...)``);
* baseline: the same runtime with that memory off, i.e. the session read first, then the function (the previous
  behaviour).

Reported per operation: the median wall time per request, and the critical path in round trips (the longest chain
of calls each starting after the previous one ended), which is deterministic.

    PYTHONPATH=. python -m bench --only latency
    PYTHONPATH=. python -m bench.latency --latency-ms 6 --requests 40
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from typing import TYPE_CHECKING, Any

from bench.common import BENCH_FUNCTIONS, Row, dynamodb_stack, make_event, median_spread, moto

if TYPE_CHECKING:
    from collections.abc import Iterator

SECTION = "10 latency on AWS (modelled)"
DEFAULT_LATENCY_S = 0.006


@dataclasses.dataclass(frozen=True)
class Call:
    """One DynamoDB call as the hook saw it (``perf_counter`` seconds)."""

    operation: str
    started: float
    ended: float
    thread: str


class InjectedLatency:
    """Sleeps ``seconds`` in every DynamoDB call of ``client`` (botocore ``before-call``) and records the calls.

    Example:
        >>> with InjectedLatency(client, 0.006).recording() as calls:  # doctest: +SKIP
        ...     app(event, context)
        >>> critical_path(calls)                                    # doctest: +SKIP
        3
    """

    def __init__(self, client: Any, seconds: float) -> None:
        self.seconds = seconds
        self._client = client
        self._lock = threading.Lock()
        self._local = threading.local()
        self._calls: list[Call] | None = None

    def _before(self, model: Any, **_: Any) -> None:
        self._local.started = (model.name, time.perf_counter())
        time.sleep(self.seconds)

    def _after(self, model: Any, **_: Any) -> None:
        started = getattr(self._local, "started", None)
        self._local.started = None
        if started is None:
            return
        call = Call(started[0], started[1], time.perf_counter(), threading.current_thread().name)
        with self._lock:
            if self._calls is not None:
                self._calls.append(call)

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[Call]]:
        """Inject the latency and collect the calls made inside the block (in the order they ended)."""
        events = self._client.meta.events
        unique = f"latency-{id(self)}"
        calls: list[Call] = []
        with self._lock:
            self._calls = calls
        events.register("before-call.dynamodb", self._before, unique_id=f"{unique}-b")
        events.register("after-call.dynamodb", self._after, unique_id=f"{unique}-a")
        events.register("after-call-error.dynamodb", self._after, unique_id=f"{unique}-e")
        try:
            yield calls
        finally:
            events.unregister("before-call.dynamodb", unique_id=f"{unique}-b")
            events.unregister("after-call.dynamodb", unique_id=f"{unique}-a")
            events.unregister("after-call-error.dynamodb", unique_id=f"{unique}-e")
            with self._lock:
                self._calls = None


def critical_path(calls: list[Call]) -> int:
    """The most calls in one chain where each starts after the previous one ended: the sequential round trips."""
    ordered = sorted(calls, key=lambda call: call.started)
    longest: list[int] = []
    for i, call in enumerate(ordered):
        before = [longest[j] for j in range(i) if ordered[j].ended <= call.started]
        longest.append(1 + max(before, default=0))
    return max(longest, default=0)


@dataclasses.dataclass
class Measured:
    """One operation's requests, with and without the session memory."""

    label: str
    ours_ms: list[float]
    baseline_ms: list[float]
    ours_path: int
    baseline_path: int
    ours_calls: int
    baseline_calls: int


def measure(latency_s: float = DEFAULT_LATENCY_S, requests: int = 20) -> list[Measured]:
    """Each operation ``requests`` times with the memory on and off, alternating; the first request warms it."""
    with moto():
        stack = dynamodb_stack(BENCH_FUNCTIONS, tables="latency")
        auth = stack.runtime.auth
        memory = auth.remembered
        assert memory is not None, "the DynamoDB runtime remembers sessions"
        cookie = stack.sign_up("latency@example.test")
        note_id = stack.run("mutation", "notes:addNote", {"text": "n"}, cookie)
        operations = {
            "authenticated one-index-page query": ("query", "notes:myNotes", {}),
            "authenticated read-modify-write mutation": ("mutation", "notes:renameNote", {"id": note_id}),
        }
        hook = InjectedLatency(stack.client, latency_s)
        results = []
        for label, (kind, path, args) in operations.items():
            samples: dict[bool, list[float]] = {True: [], False: []}
            paths: dict[bool, int] = {}
            counts: dict[bool, int] = {}
            for i in range(2 * requests):
                remember = i % 2 == 0
                auth.remembered = memory if remember else None
                if kind == "mutation":  # a new text each time: a patch that changes nothing writes nothing
                    args = {**args, "text": f"text {i}"}
                event = make_event("POST", f"/api/{kind}", {"path": path, "args": args}, cookies=[cookie])
                with hook.recording() as calls:
                    started = time.perf_counter()
                    response = stack.call(event)
                    elapsed = time.perf_counter() - started
                assert '"status":"success"' in response["body"], response["body"]
                samples[remember].append(elapsed * 1000)
                paths[remember] = critical_path(calls)
                counts[remember] = len(calls)
            auth.remembered = memory
            results.append(
                Measured(label, samples[True], samples[False], paths[True], paths[False], counts[True], counts[False])
            )
        return results


def run(quick: bool = False) -> tuple[list[Row], dict[str, Any]]:
    latency_s = DEFAULT_LATENCY_S
    measured = measure(latency_s, requests=3 if quick else 40)
    rows = []
    for item in measured:
        ours, ours_spread = median_spread(item.ours_ms)
        base, base_spread = median_spread(item.baseline_ms)
        rows.append(
            Row(
                SECTION,
                f"{item.label}, {latency_s * 1000:g} ms per call, warm instance",
                "ms",
                ours,
                base,
                ours_spread,
                base_spread,
                target="<= 0.85x",
                target_kind="max",
                target_value=0.85,
                note=f"critical path {item.ours_path} vs {item.baseline_path} round trips; "
                f"{item.ours_calls} vs {item.baseline_calls} calls",
            )
        )
        rows.append(
            Row(
                SECTION,
                f"{item.label}: sequential round trips",
                "calls",
                float(item.ours_path),
                float(item.baseline_path),
                target=f"= {item.baseline_path - 1}",
                target_kind="eq",
                target_value=float(item.baseline_path - 1),
            )
        )
    return rows, {"latency_s": latency_s, "measured": [dataclasses.asdict(item) for item in measured]}


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=DEFAULT_LATENCY_S * 1000)
    parser.add_argument("--requests", type=int, default=40)
    options = parser.parse_args()
    for item in measure(options.latency_ms / 1000, options.requests):
        ours, _ = median_spread(item.ours_ms)
        base, _ = median_spread(item.baseline_ms)
        print(
            f"{item.label}: {ours:.1f} ms vs {base:.1f} ms sequential ({ours / base:.2f}x); "
            f"critical path {item.ours_path} vs {item.baseline_path} round trips"
        )

"""Latency on AWS, modelled: every DynamoDB call takes a fixed time; how long does an authenticated request take?

The whole HTTP app (``HttpApp`` over ``bench/app`` on the DynamoDB engine) serves the requests. The data is set up
on in-process moto and each operation's calls are recorded once; from then on a botocore ``before-call`` handler
answers every call with its recorded response (:class:`Replayer`: in any order, from any thread) after a hook has
slept ``latency`` seconds (:class:`InjectedLatency`: the network round trip) and recorded when the call started and
ended. moto's own CPU time (milliseconds per call) is thus out of the model. A warm instance serves the same session
over and over:

* ours: the runtime as deployed, which remembers the sessions it confirmed and reads a remembered session in the
  background while the function runs (``AuthService(remember_sessions=...)``);
* baseline: the same runtime with that memory off, i.e. the session read first, then the function (the previous
  behaviour, and still the path of a session new to the instance).

Reported per operation: the median wall time per request, and the critical path in round trips (the longest chain
of calls each starting after the previous one ended), which is deterministic. A last row is the CPU cost of the
overlap (process time, every thread, no latency).

    PYTHONPATH=. python -m bench --only latency
    PYTHONPATH=. python -m bench.latency --latency-ms 6 --requests 40
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from typing import TYPE_CHECKING, Any

from bench.common import BENCH_FUNCTIONS, Row, Stack, dynamodb_stack, make_event, median_spread, moto

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


class Replayer:
    """Answers every DynamoDB call of ``client`` with the response recorded for the same operation and table
    (a botocore ``before-call`` handler that returns a response, as ``Stubber`` does), in any order and from any
    thread: the Stubber's queue would hand the overlapping session read the wrong answer. Registered last, so
    hooks registered before it (the injected latency, call counters) still see every call."""

    def __init__(self, client: Any, calls: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> None:
        self._client = client
        self._responses = {(name, params.get("TableName")): response for name, params, response in calls}
        if len(self._responses) != len(calls):
            raise ValueError("two recorded calls share an operation and a table: replay cannot tell them apart")

    def _answer(self, model: Any, params: dict[str, Any], **_: Any) -> Any:
        import copy
        import json

        from botocore.awsrequest import AWSResponse

        table = json.loads(params["body"] or b"{}").get("TableName")
        return AWSResponse(None, 200, {}, None), copy.deepcopy(self._responses[(model.name, table)])

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        """Answer the client's calls inside the block (enter it after leaving moto)."""
        events = self._client.meta.events
        events.register_last("before-call.dynamodb", self._answer, unique_id=f"replay-{id(self)}")
        try:
            yield
        finally:
            events.unregister("before-call.dynamodb", unique_id=f"replay-{id(self)}")


@dataclasses.dataclass
class Operation:
    """One request shape, its event per sample, and the calls it made on the sequential path (for replay)."""

    label: str
    events: Any  # Callable[[int], dict]: the i-th request's event
    replayer: Replayer
    expected: str


def _operations() -> tuple[Stack, Any, list[Operation]]:
    """A warm runtime over moto (left when this returns), a signed-in user with a note, and each operation's calls
    recorded on the sequential path; from here on each operation's :class:`Replayer` answers."""
    from bench.common import Recorder

    with moto():
        stack = dynamodb_stack(BENCH_FUNCTIONS, tables="latency")
        memory = stack.runtime.auth.remembered
        assert memory is not None, "the DynamoDB runtime remembers sessions"
        cookie = stack.sign_up("latency@example.test")
        note_id = stack.run("mutation", "notes:addNote", {"text": "n"}, cookie)

        def query(i: int) -> dict[str, Any]:
            return make_event("POST", "/api/query", {"path": "notes:myNotes", "args": {}}, cookies=[cookie])

        def mutation(i: int) -> dict[str, Any]:  # a new text each time: a patch that changes nothing writes nothing
            args = {"id": note_id, "text": f"text {i}"}
            return make_event("POST", "/api/mutation", {"path": "notes:renameNote", "args": args}, cookies=[cookie])

        operations = []
        for label, events in [
            ("authenticated one-index-page query", query),
            ("authenticated read-modify-write mutation", mutation),
        ]:
            stack.runtime.auth.remembered = None  # recorded on the sequential path: one call after the other
            with Recorder(stack.client).recording() as calls:
                body = stack.call(events(-1))["body"]
            assert '"status":"success"' in body, body
            operations.append(Operation(label, events, Replayer(stack.client, calls), body))
        stack.runtime.auth.remembered = memory
    return stack, memory, operations


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
    """Each operation ``requests`` times with the memory on and off, alternating, every call answered in-process
    after ``latency_s``; the instance is warm (it confirmed the session while the calls were recorded)."""
    stack, memory, operations = _operations()
    auth = stack.runtime.auth
    hook = InjectedLatency(stack.client, latency_s)
    results = []
    for operation in operations:
        samples: dict[bool, list[float]] = {True: [], False: []}
        paths: dict[bool, int] = {}
        counts: dict[bool, int] = {}
        with operation.replayer.answering():
            for i in range(2 * requests):
                remember = i % 2 == 0
                auth.remembered = memory if remember else None
                event = operation.events(i)
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
            Measured(
                operation.label, samples[True], samples[False], paths[True], paths[False], counts[True], counts[False]
            )
        )
    return results


def cpu_per_request(requests: int, rounds: int) -> tuple[list[float], list[float]]:
    """Process CPU µs (every thread) per warm authenticated one-page query, calls answered in-process without
    latency: what reading the session on a second thread costs with the network taken out. (ours, baseline)."""
    stack, memory, operations = _operations()
    auth = stack.runtime.auth
    query = operations[0]
    event = query.events(0)
    samples: dict[bool, list[float]] = {True: [], False: []}
    with query.replayer.answering():
        for i in range(2 * rounds):
            remember = i % 2 == 0
            auth.remembered = memory if remember else None
            assert stack.call(event)["body"] == query.expected  # the same answer either way
            started = time.process_time()
            for _ in range(requests):
                stack.call(event)
            samples[remember].append((time.process_time() - started) / requests * 1e6)
    auth.remembered = memory
    return samples[True], samples[False]


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
    ours_cpu, base_cpu = cpu_per_request(requests=20 if quick else 300, rounds=2 if quick else 7)
    ours, ours_spread = median_spread(ours_cpu)
    base, base_spread = median_spread(base_cpu)
    rows.append(
        Row(
            SECTION,
            "CPU per warm authenticated one-page query, calls answered in-process (all threads)",
            "us",
            ours,
            base,
            ours_spread,
            base_spread,
            target="<= 1.25x",
            target_kind="max",
            target_value=1.25,
            note="reading the session on a second thread: the hand-off and GIL contention, without the network",
        )
    )
    details = {"latency_s": latency_s, "measured": [dataclasses.asdict(item) for item in measured]}
    return rows, {**details, "cpu_us": {"ours": ours_cpu, "baseline": base_cpu}}


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

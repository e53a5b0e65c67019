"""Per-call overhead (warm): one authenticated query through the whole handler vs a bare Powertools route.

Ours: ``HttpApp`` over the example app on the DynamoDB engine (what ``lambda_handler.handler`` builds), answering
``POST /api/query myData:getMyData`` with a signed session cookie: event parsing, cookie signature check, session
lookup, argument validation, the function, value encoding, the structured log line (formatted, then discarded),
the response. Baseline: a bare ``APIGatewayHttpResolver`` route that makes the *same* DynamoDB calls with the same
parameters (recorded from ours) and returns the same JSON.

Both clients are real boto3 clients answered by botocore's ``Stubber`` with the exact responses moto gave
(recorded once), so botocore's parameter validation and serialization are in both; only HTTP is skipped.
Responses are queued before each timed batch (queueing validates them, which is not part of a call).
"""

from __future__ import annotations

import copy
import cProfile
import json
import pstats
import time
from typing import TYPE_CHECKING, Any

from bench.common import Context, Row, discard_logger, dynamodb_stack, median_spread, moto, query_event

if TYPE_CHECKING:
    from collections.abc import Callable

SECTION = "2 warm per-call"
FUNCTION = "myData:getMyData"


def baseline_handler(calls: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> tuple[Callable[..., Any], Any]:
    """A bare Powertools resolver whose one route makes ``calls`` (operation, params) and returns the same JSON."""
    import boto3
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
    from botocore import xform_name

    client = boto3.client("dynamodb", region_name="us-east-1")
    plan = [(xform_name(name), params) for name, params, _ in calls]
    app = APIGatewayHttpResolver()

    @app.post("/api/query")
    def query() -> Response[str]:
        event = app.current_event
        body = json.loads(event.body or "{}")
        if not event.cookies or body.get("path") != FUNCTION:
            return Response(401, "application/json", '{"code":"Unauthenticated"}')
        items: list[Any] = []
        for method, params in plan:  # the documents: the last answer that carries some (TransactGetItems)
            result = getattr(client, method)(**params)
            found = [r.get("Item", {}) for r in result.get("Responses", [])] + result.get("Items", [])
            items = [i for i in found if "doc" in i] or items
        value = [json.loads(item["doc"]["S"]) for item in items]
        return Response(
            200,
            "application/json",
            json.dumps({"status": "success", "value": value}, separators=(",", ":"), sort_keys=True),
        )

    return app.resolve, client


class Stubbed:
    """A Stubber on ``client`` that can queue the recorded responses of ``n`` calls at once."""

    def __init__(self, client: Any, calls: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> None:
        from botocore import xform_name
        from botocore.stub import Stubber

        self.stubber = Stubber(client)
        self.stubber.activate()
        self.responses = [(xform_name(name), response) for name, _, response in calls]

    def queue(self, n: int) -> None:
        for _ in range(n):
            for method, response in self.responses:
                self.stubber.add_response(method, copy.deepcopy(response))

    def drained(self) -> bool:
        return not self.stubber._queue  # the Stubber has no public "is empty"


def setup() -> dict[str, Any]:
    """Seed a user and three notes on moto, record the calls of one query, and stub both clients with them."""
    mocked = moto()
    mocked.__enter__()
    stack = dynamodb_stack(logger=discard_logger())
    # The Stubber answers in call order, so the session is read first, as on a new instance (figure 10 measures the
    # overlap of a remembered session's read, and its CPU cost).
    stack.runtime.auth.remembered = None
    cookie = stack.sign_up()
    for i in range(3):
        stack.run("mutation", "myData:add", {"text": f"note {i}"}, cookie)
    from bench.common import Recorder

    recorder = Recorder(stack.client)
    event = query_event(FUNCTION, cookie=cookie)
    with recorder.recording() as calls:
        expected = stack.call(event)
    mocked.__exit__(None, None, None)  # from here on only the Stubbers answer
    ours = Stubbed(stack.client, calls)
    base_handler, base_client = baseline_handler(calls)
    base = Stubbed(base_client, calls)
    ctx = Context()

    def run_ours() -> dict[str, Any]:
        return stack.app(event, ctx)

    def run_base() -> dict[str, Any]:
        return base_handler(event, ctx)

    ours.queue(1)
    got = run_ours()
    base.queue(1)
    want = run_base()
    assert json.loads(got["body"]) == json.loads(expected["body"]), (got["body"], expected["body"])
    assert json.loads(got["body"]) == json.loads(want["body"]), (got["body"], want["body"])
    return {
        "ours": (ours, run_ours),
        "baseline": (base, run_base),
        "calls": [c[0] for c in calls],
        "recorded": calls,
        "clients": {"ours": stack.client, "baseline": base_client},
        "expected": json.loads(expected["body"]),
        "cookie": cookie,
    }


def own_code_us(state: dict[str, Any], rounds: int, batch: int) -> dict[str, list[float]]:
    """CPU per call of each handler's *own* code: every DynamoDB call answered at once with its recorded answer,
    botocore not entered (the client's methods are replaced on the instance, then restored).

    What is left is the handler itself: for ours, event parsing, the cookie and session check, the function and the
    engine's transaction, value encoding, the log line; for the baseline, the resolver, its loop and ``json``.
    """
    from botocore import xform_name

    answers: dict[str, list[dict[str, Any]]] = {}
    for name, _, response in state["recorded"]:
        answers.setdefault(xform_name(name), []).append(response)
    samples: dict[str, list[float]] = {"ours": [], "baseline": []}
    for mode in ("ours", "baseline"):
        client, (_, fn) = state["clients"][mode], state[mode]
        served = dict.fromkeys(answers, 0)

        def canned(method: str, served: dict[str, int] = served) -> Callable[..., dict[str, Any]]:
            def answer(**_: Any) -> dict[str, Any]:
                index = served[method]
                served[method] = index + 1
                found = answers[method]
                return found[index % len(found)]  # the same object each time: neither handler changes an answer

            return answer

        for method in answers:
            setattr(client, method, canned(method))
        try:
            fn()  # warm-up, and the answer is still the right one
            for _ in range(rounds):
                started = time.thread_time()
                for _ in range(batch):
                    fn()
                samples[mode].append((time.thread_time() - started) / batch * 1e6)
            assert json.loads(fn()["body"]) == state["expected"]
        finally:
            for method in answers:
                delattr(client, method)
    return samples


def time_batch(stubbed: Stubbed, fn: Callable[[], Any], n: int) -> float:
    """Microseconds of this thread's CPU time per call over ``n`` calls.

    CPU time, not wall time: nothing here waits (the Stubber answers in-process), so the two agree on an idle
    machine, but on a shared one wall time also counts the time other processes held the core.
    """
    stubbed.queue(n)
    started = time.thread_time()
    for _ in range(n):
        fn()
    elapsed = time.thread_time() - started
    assert stubbed.drained()
    return elapsed / n * 1e6


def profile(stubbed: Stubbed, fn: Callable[[], Any], n: int, top: int = 15) -> dict[str, Any]:
    """cProfile of ``n`` calls: the top functions by own time and own time per package."""
    stubbed.queue(n)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        fn()
    profiler.disable()
    stats = pstats.Stats(profiler)
    entries = []
    by_package: dict[str, float] = {}
    total = 0.0
    for (filename, line, name), (_, ncalls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        total += tottime
        package = _package(filename)
        by_package[package] = by_package.get(package, 0.0) + tottime
        entries.append((tottime, ncalls, cumtime, f"{_short(filename)}:{line}({name})"))
    entries.sort(reverse=True)
    return {
        "calls": n,
        "top_own_time": [
            {"function": where, "own_us_per_call": t / n * 1e6, "cum_us_per_call": c / n * 1e6, "ncalls": k / n}
            for t, k, c, where in entries[:top]
        ],
        "own_time_by_package_pct": {
            k: round(v / total * 100, 1)
            for k, v in sorted(by_package.items(), key=lambda kv: -kv[1])
            if v / total > 0.005
        },
    }


def _package(filename: str) -> str:
    for marker in ("authlib_core", "aws_lambda_powertools", "botocore", "boto3", "json", "urllib", "logging", "re"):
        if f"/{marker}/" in filename or filename.endswith(f"/{marker}.py"):
            return marker
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins"
    return "other (stdlib)"


def _short(filename: str) -> str:
    for marker in ("authlib_core/", "aws_lambda_powertools/", "botocore/", "boto3/"):
        if marker in filename:
            return filename[filename.index(marker) :]
    return filename.rsplit("/", 1)[-1]


def run(quick: bool = False) -> tuple[list[Row], dict[str, Any]]:
    state = setup()
    rounds, batch = (2, 20) if quick else (9, 400)
    ours_stub, ours_fn = state["ours"]
    base_stub, base_fn = state["baseline"]
    time_batch(ours_stub, ours_fn, batch // 4 or 1)  # warm-up
    time_batch(base_stub, base_fn, batch // 4 or 1)
    samples: dict[str, list[float]] = {"ours": [], "baseline": []}
    for _ in range(rounds):
        samples["ours"].append(time_batch(ours_stub, ours_fn, batch))
        samples["baseline"].append(time_batch(base_stub, base_fn, batch))
    ours, ours_spread = median_spread(samples["ours"])
    base, base_spread = median_spread(samples["baseline"])
    own = own_code_us(state, rounds, batch)
    own_ours, own_ours_spread = median_spread(own["ours"])
    own_base, own_base_spread = median_spread(own["baseline"])
    prof = profile(ours_stub, ours_fn, 20 if quick else 400)
    base_prof = profile(base_stub, base_fn, 20 if quick else 400, top=8)
    row = Row(
        SECTION,
        f"authenticated query ({len(state['calls'])} stubbed DynamoDB calls)",
        "us/call",
        ours,
        base,
        ours_spread,
        base_spread,
        target="<= 1.3x",
        target_kind="max",
        target_value=1.3,
    )
    own_row = Row(
        SECTION,
        "the same, own code only (DynamoDB answered without botocore)",
        "us/call",
        own_ours,
        own_base,
        own_ours_spread,
        own_base_spread,
        note="each handler's own CPU per call: the recorded answers returned at once, botocore not entered",
    )
    return [row, own_row], {
        "samples_us": samples,
        "own_code_samples_us": own,
        "batch": batch,
        "dynamodb_calls": state["calls"],
        "profile_ours": prof,
        "profile_baseline": base_prof,
    }


if __name__ == "__main__":
    import sys

    rows, extra = run(quick="--quick" in sys.argv)
    for r in rows:
        print(r.as_json())
    print(json.dumps(extra, indent=1))

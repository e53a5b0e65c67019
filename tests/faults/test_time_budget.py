"""A hung or conflicting store answers 503 inside the request's time budget (Lambda's remaining time, 30 s cap).

Timing figures for docs/dynamodb.md come from ``bench/storage_faults.py``; here only the bounds are asserted.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING

import pytest

from authlib_core.config import Settings
from authlib_core.database.deadline import MAX_REQUEST_BUDGET_S
from authlib_core.dev.server import DevContext
from authlib_core.http.app import HttpApp
from authlib_core.runtime import build_runtime
from tests.faults.hang import hung_endpoint
from tests.faults.harness import APP, SECRET, LambdaContext, Stack
from tests.faults.injector import Fault
from tests.http.conftest import make_event

if TYPE_CHECKING:
    from collections.abc import Callable

    from authlib_core.runtime import Runtime


pytestmark = pytest.mark.dynamodb_server


def hung_runtime(endpoint: str) -> Runtime:
    suffix = uuid.uuid4().hex[:8]
    return build_runtime(
        Settings(
            engine="dynamodb",
            functions_dir=APP,
            dynamodb_endpoint_url=endpoint,
            region="us-east-1",
            documents_table=f"hung-docs-{suffix}",
            sessions_table=f"hung-sessions-{suffix}",
            secrets=(SECRET,),
        )
    )


def call(app: HttpApp, context: object) -> tuple[int, dict[str, object], float]:
    event = make_event("POST", "/api/mutation", '{"path": "counter:increment", "args": {"name": "c"}}')
    started = time.monotonic()
    response = app(event, context)
    return response["statusCode"], json.loads(response["body"]), time.monotonic() - started


def counting_down(seconds: float) -> Callable[[], float]:
    """What ``get_remaining_time_in_millis`` returns for an invocation that ends ``seconds`` from now."""
    deadline = time.monotonic() + seconds
    return lambda: max(0.0, (deadline - time.monotonic()) * 1000)


def test_a_hung_store_answers_503_within_the_budget() -> None:
    with hung_endpoint() as endpoint:
        runtime = hung_runtime(endpoint)
        try:
            status, body, took = call(HttpApp(lambda: runtime), DevContext(aws_request_id="hung-1"))
        finally:
            runtime.database.close()
    assert status == 503, body
    assert body["code"] == "StorageUnavailable"
    assert endpoint not in str(body)
    assert took < MAX_REQUEST_BUDGET_S  # well inside API Gateway's 30 s


def test_lambda_time_running_out_mid_retry_gives_a_clean_503_before_the_deadline() -> None:
    with hung_endpoint() as endpoint:
        runtime = hung_runtime(endpoint)
        try:
            # 5 s left: the budget is 4 s; one attempt may take 3 s, so the second must not be sent.
            status, body, took = call(HttpApp(lambda: runtime), LambdaContext(counting_down(5.0)))
        finally:
            runtime.database.close()
    assert status == 503, body
    assert body["code"] == "StorageUnavailable"
    assert "time budget" in str(body["message"])
    assert took < 5.0 - 0.5  # answered before Lambda would stop the invocation, with room to return


def test_conflict_retries_stop_at_the_budget(moto_endpoint: str) -> None:
    stack = Stack(moto_endpoint, "lambda", context=None)
    try:
        stack.context = LambdaContext(counting_down(6.0))  # a 5 s budget; each retry needs 3 s left
        stack.injector.arm(Fault("TransactWriteItems", "TransactionConflict", call=None))
        started = time.monotonic()
        status, body = stack.mutation("always-conflicting")
        took = time.monotonic() - started
        assert status == 503, body
        assert body["code"] == "OptimisticConcurrencyControlFailure", (body, stack.log.getvalue()[-3000:])
        assert took < 6.0 - 3.0  # stopped while a last attempt could still have finished
        for internal in (stack.settings.documents_table, "e#counters", "v#counters", "by_name", "d#", "127.0.0.1"):
            assert internal not in str(body), f"{internal!r} leaked into {body}"  # ids, tables, shards: log only
        assert stack.settings.documents_table in stack.log.getvalue()
        assert len(stack.injector.fired) > 3  # it did retry, until the budget ran out
        stack.injector.arm(None)
        stack.context = LambdaContext(counting_down(6.0))  # the next request is a new invocation: its own time
        assert stack.value("always-conflicting") == 0.0
    finally:
        stack.close()


@pytest.mark.parametrize(("left_ms", "budget"), [(10_000, 9.0), (60_000, MAX_REQUEST_BUDGET_S), (500, 0.0)])
def test_the_budget_follows_lambdas_remaining_time(left_ms: int, budget: float) -> None:
    from authlib_core.database.deadline import budget_from_context

    assert budget_from_context(LambdaContext(left_ms)) == budget


@pytest.mark.parametrize(
    ("fault", "stalled"),
    [
        (Fault("TransactWriteItems", "TransactionConflict", call=1), "TransactWriteItems"),  # the commit's resend
        (Fault("TransactWriteItems", "TransactionConflict", call=None), "read"),  # the mutation's next run
    ],
    ids=["resend", "rerun"],
)
def test_a_retry_that_finds_no_time_left_reports_the_conflict(lambda_stack: Stack, fault: Fault, stalled: str) -> None:
    """The race the conflict-retry budget test used to lose about one run in three on a loaded machine: a retry is
    decided with time for one more attempt, then the client stalls before its first call (a garbage collection, a
    busy CPU) and the call's own budget check refuses it. Nothing of that attempt was sent and the store answered
    every call, so the answer is the conflict being retried, not "the database did not answer"."""
    from authlib_core.database.deadline import remaining

    budget_s = lambda_stack.runtime.database.engine.call_budget_s
    stalls: list[float] = []

    def stall_the_retry(model: object, **_: object) -> None:
        name = getattr(model, "name", "")
        if lambda_stack.injector.fired and not stalls and stalled in (name, "read" * (name != "TransactWriteItems")):
            left = remaining() or 0.0
            stalls.append(left)
            time.sleep(max(0.0, left - budget_s + 0.05))  # past the point where the call's budget check refuses

    client = lambda_stack.client
    client.meta.events.register_first("before-call.dynamodb", stall_the_retry, unique_id="stall-the-retry")
    try:
        lambda_stack.context = LambdaContext(counting_down(budget_s + 2.0))
        lambda_stack.injector.arm(fault)
        status, body = lambda_stack.mutation(f"stalled-{uuid.uuid4().hex[:6]}")
    finally:
        lambda_stack.injector.arm(None)
        client.meta.events.unregister("before-call.dynamodb", unique_id="stall-the-retry")
        lambda_stack.context = LambdaContext()
    assert stalls, "the retry never came"
    assert status == 503, body
    assert body["code"] == "OptimisticConcurrencyControlFailure", (body, lambda_stack.log.getvalue()[-2000:])
    assert "time budget" in body["message"]

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
        # Retries stop at the budget with the conflict's answer; when one call of moto's server itself stalls past
        # the remaining budget (seen on a busy machine), the answer is the budget's own clean 503 instead.
        assert body["code"] in ("OptimisticConcurrencyControlFailure", "StorageUnavailable"), (
            body,
            stack.log.getvalue()[-3000:],
        )
        if body["code"] == "StorageUnavailable":
            assert "time budget" in str(body["message"])
        assert took < 6.0 - 3.0  # stopped while a last attempt could still have finished
        for internal in (stack.settings.documents_table, "e#counters", "v#counters", "by_name", "d#", "127.0.0.1"):
            assert internal not in str(body), f"{internal!r} leaked into {body}"  # ids, tables, shards: log only
        assert stack.settings.documents_table in stack.log.getvalue()
        retried = 4 if body["code"] == "OptimisticConcurrencyControlFailure" else 1
        assert len(stack.injector.fired) >= retried  # it did retry, until the budget ran out
        stack.injector.arm(None)
        stack.context = LambdaContext(counting_down(6.0))  # the next request is a new invocation: its own time
        assert stack.value("always-conflicting") == 0.0
    finally:
        stack.close()


@pytest.mark.parametrize(("left_ms", "budget"), [(10_000, 9.0), (60_000, MAX_REQUEST_BUDGET_S), (500, 0.0)])
def test_the_budget_follows_lambdas_remaining_time(left_ms: int, budget: float) -> None:
    from authlib_core.database.deadline import budget_from_context

    assert budget_from_context(LambdaContext(left_ms)) == budget

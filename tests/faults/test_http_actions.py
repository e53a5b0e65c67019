"""HTTP actions under storage faults: exactly once or a retryable 503, never a 500 or a 200 for an outage.

The actions of tests/faults/apps/counterapp/http.py run ``counter:increment`` through ``ctx.run_mutation``; faults
hit the real botocore client before, during and after its commit (as tests/faults/test_exactly_once.py does for
``/api/mutation``), and the session read an action makes when it asks who is calling.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pytest

from tests.faults.injector import Fault
from tests.faults.test_exactly_once import RETRYABLE
from tests.faults.test_outages import DOWN, assert_retryable_503

if TYPE_CHECKING:
    from tests.faults.harness import Stack

pytestmark = pytest.mark.dynamodb_server

_names = itertools.count()

CASES = [
    (Fault("GetItem", "EndpointConnectionError", attempts=5), "refused"),  # before the commit
    (Fault("Query", "ReadTimeout", attempts=2), "applied"),  # botocore's retries recover
    (Fault("TransactWriteItems", "TransactionConflict", call=None), "refused"),  # conflicts until retries run out
    (Fault("TransactWriteItems", "ReadTimeout", attempts=5), "refused"),  # fenced: certainly not applied
    (Fault("TransactWriteItems", "lost_response", attempts=1), "applied"),  # applied, answer lost, settled
]


def increment(stack: Stack, name: str, path: str = "/hooks/increment", token: str | None = None) -> tuple[int, object]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    status, body, _ = stack.request("POST", path, {"name": name}, headers)
    return status, body


@pytest.mark.parametrize(("fault", "expected"), CASES, ids=[f"{f.operation}-{f.kind}-x{f.attempts}" for f, _ in CASES])
def test_an_http_action_mutation_is_applied_once_or_refused(stack: Stack, fault: Fault, expected: str) -> None:
    name = f"hook-{next(_names)}"
    assert increment(stack, name) == (200, {"value": 1})
    stack.injector.arm(fault)
    try:
        status, body = increment(stack, name)
    finally:
        stack.injector.arm(None)
    assert stack.injector.fired
    after = stack.value(name)
    if expected == "applied":
        assert (status, body, after) == (200, {"value": 2}, 2.0)
    else:
        assert status == 503, body
        assert isinstance(body, dict)
        assert body["code"] in RETRYABLE, body
        assert after == 1.0  # nothing written: the sender's retry is safe
    assert increment(stack, name) == (200, {"value": after + 1})  # the retry


def test_the_session_read_of_an_http_action_during_an_outage_is_503(stack: Stack) -> None:
    token = stack.sign_up("hook-outage@example.com")
    stack.injector.arm(Fault("GetItem", "EndpointConnectionError", attempts=DOWN))  # the session read
    try:
        status, body = increment(stack, "mine", "/hooks/mine", token=token)
    finally:
        stack.injector.arm(None)
    assert_retryable_503(status, body, stack)
    assert stack.value("mine") == 0.0
    assert increment(stack, "mine", "/hooks/mine", token=token) == (200, {"value": 1})
    assert increment(stack, "mine", "/hooks/mine") == (401, {"code": "UNAUTHENTICATED", "message": "sign in first"})

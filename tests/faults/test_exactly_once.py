"""Every mutation either took effect exactly once, or the client got a 5xx it can retry — whatever storage does.

Faults hit the real botocore client (tests/faults/injector.py) at chosen points of ``counter:increment``:

* **before** the commit: the shard version ``GetItem`` and the index ``Query`` the mutation reads;
* **during** it: the ``TransactWriteItems`` call itself (throttled, conflicting, timed out, refused);
* **after** it: the ``TransactWriteItems`` reached the server and was applied, and its response was lost.

The property, on the Lambda handler and the dev server: a 200 means the counter moved by exactly one; a 5xx
(503, a Convex system error) means it did not move, so the client's retry is safe; never a 200 for an outage,
never a 500. The deterministic cases run in CI; the Hypothesis run takes ``AUTHLIB_FAULT_EXAMPLES`` examples
per path (default 12; e.g. ``AUTHLIB_FAULT_EXAMPLES=500 .venv/bin/python -m pytest tests/faults -q``).
"""

from __future__ import annotations

import itertools
import os
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.faults.harness import Stack
from tests.faults.injector import Fault

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.dynamodb_server

RETRYABLE = {"StorageUnavailable", "OptimisticConcurrencyControlFailure"}
EXAMPLES = int(os.environ.get("AUTHLIB_FAULT_EXAMPLES", "12"))
_names = itertools.count()


@pytest.fixture(scope="module", params=["lambda", "dev"])
def shared_stack(request: pytest.FixtureRequest, moto_endpoint: str) -> Iterator[Stack]:
    mp = pytest.MonkeyPatch()
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        mp.setenv(name, value)
    built = Stack(moto_endpoint, request.param)
    yield built
    built.close()
    mp.undo()


def check_exactly_once(stack: Stack, fault: Fault) -> str:
    """Run one increment under ``fault``; assert the property; return "applied" or "refused"."""
    name = f"counter-{next(_names)}"
    assert stack.mutation(name)[0] == 200  # the counter exists: the faulted call is a read-modify-write
    stack.injector.arm(fault)
    try:
        status, body = stack.mutation(name)
    finally:
        stack.injector.arm(None)
    after = stack.value(name)
    assert status != 500, body
    if status == 200:
        assert body == {"status": "success", "value": 2}, (fault, body)  # never a 200 for an outage
        assert after == 2.0, (fault, after)  # applied exactly once
        outcome = "applied"
    else:
        assert status == 503, (fault, status, body)
        assert body["code"] in RETRYABLE, (fault, body)
        assert "could not be confirmed" not in body["message"], (fault, body)
        assert after == 1.0, (fault, after)  # not applied: the client's retry is safe
        outcome = "refused"
    assert stack.mutation(name) == (200, {"status": "success", "value": after + 1})  # the client's retry
    assert stack.value(name) == after + 1
    return outcome


# -- chosen points (CI) ---------------------------------------------------------------------------------------

#: (fault, what must happen). 1-2 failing attempts: botocore's retries recover. 3+: its retries run out.
CASES = [
    # before the commit
    (Fault("GetItem", "ThrottlingException", attempts=1), "applied"),
    (Fault("GetItem", "EndpointConnectionError", attempts=5), "refused"),
    (Fault("Query", "ProvisionedThroughputExceededException", attempts=5), "refused"),
    (Fault("Query", "ReadTimeout", attempts=2), "applied"),
    # during the commit
    (Fault("TransactWriteItems", "ProvisionedThroughputExceededException", attempts=5), "refused"),
    (Fault("TransactWriteItems", "TransactionConflict", attempts=1), "applied"),  # retried as a conflict
    (Fault("TransactWriteItems", "TransactionConflict", call=None), "refused"),  # every attempt conflicts
    (Fault("TransactWriteItems", "TransactionThrottled", attempts=1), "applied"),  # nothing applied: run again
    (Fault("TransactWriteItems", "TransactionThrottled", call=None), "refused"),  # every commit throttled: 503
    (Fault("TransactWriteItems", "ConnectTimeout", attempts=5), "refused"),
    (Fault("TransactWriteItems", "ReadTimeout", attempts=1), "applied"),
    (Fault("TransactWriteItems", "ReadTimeout", attempts=5), "refused"),  # fenced: certainly not applied
    # after the commit: applied, answer lost
    (Fault("TransactWriteItems", "lost_response", attempts=1), "applied"),  # the retry finds its own marker
    (Fault("TransactWriteItems", "lost_response", attempts=5), "applied"),  # settled by the fence
]


@pytest.mark.parametrize(("fault", "expected"), CASES, ids=[f"{f.operation}-{f.kind}-x{f.attempts}" for f, _ in CASES])
def test_chosen_points(shared_stack: Stack, fault: Fault, expected: str) -> None:
    assert check_exactly_once(shared_stack, fault) == expected
    assert shared_stack.injector.fired  # the fault really happened


def test_a_commit_throttled_on_every_attempt_is_reported_as_throttling(shared_stack: Stack) -> None:
    """Throttled commits are retried like conflicts, but the 503 they end in names the overload, not a conflict."""
    name = f"counter-{next(_names)}"
    assert shared_stack.mutation(name)[0] == 200
    shared_stack.injector.arm(Fault("TransactWriteItems", "TransactionThrottled", call=None))
    try:
        status, body = shared_stack.mutation(name)
    finally:
        shared_stack.injector.arm(None)
    assert status == 503, body
    assert body["code"] == "StorageUnavailable", body
    assert "throttling writes" in body["message"], body
    assert len(shared_stack.injector.fired) > 1  # retried before giving up
    assert shared_stack.value(name) == 1.0


# -- random faults (Hypothesis) --------------------------------------------------------------------------------

READ_KINDS = ["ProvisionedThroughputExceededException", "ThrottlingException", "ReadTimeout", "ConnectTimeout",
              "EndpointConnectionError", "lost_response"]  # fmt: skip
COMMIT_KINDS = [*READ_KINDS, "TransactionConflict", "TransactionThrottled"]

faults = st.one_of(
    st.builds(
        Fault,
        operation=st.sampled_from(["GetItem", "Query"]),
        kind=st.sampled_from(READ_KINDS),
        call=st.sampled_from([1, 2, None]),
        attempts=st.integers(1, 4),
    ),
    st.builds(
        Fault,
        operation=st.just("TransactWriteItems"),
        kind=st.sampled_from(COMMIT_KINDS),
        call=st.sampled_from([1, 2, None]),
        attempts=st.integers(1, 4),
    ),
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 12,  # CI: the same bounded examples every run
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(fault=faults)
def test_any_fault_leaves_each_mutation_applied_once_or_refused(shared_stack: Stack, fault: Fault) -> None:
    check_exactly_once(shared_stack, fault)

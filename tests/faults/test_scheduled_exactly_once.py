"""A scheduled mutation takes effect exactly once whatever storage does while its run commits.

The job's run and its state change commit in one ``TransactWriteItems``. Faults hit that call (and the reads
before it) through the real botocore client (tests/faults/injector.py); the runner is then called again, as the
dev server's worker and the AWS queue do, until the job is no longer pending. The property: the counter moved by
exactly one and the job is recorded ``success`` — never twice, never lost — including when the commit was applied
and its answer lost.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pytest

from authlib_core.auth.identity import NoAuth
from authlib_core.errors import SystemFailure
from authlib_core.scheduler import JobRunner
from tests.faults.injector import Fault

if TYPE_CHECKING:
    from tests.faults.harness import Stack

pytestmark = pytest.mark.dynamodb_server

_names = itertools.count()

CASES = [
    Fault("GetItem", "EndpointConnectionError", attempts=5),  # reading the job fails: nothing ran
    Fault("Query", "ProvisionedThroughputExceededException", attempts=5),  # the function's read fails
    Fault("TransactWriteItems", "ProvisionedThroughputExceededException", attempts=5),
    Fault("TransactWriteItems", "TransactionConflict", call=None),  # every attempt conflicts
    Fault("TransactWriteItems", "TransactionThrottled", attempts=1),
    Fault("TransactWriteItems", "ConnectTimeout", attempts=5),
    Fault("TransactWriteItems", "ReadTimeout", attempts=5),  # never reached the server whole: not applied
    Fault("TransactWriteItems", "lost_response", attempts=1),  # applied; the retry finds its own marker
    Fault("TransactWriteItems", "lost_response", attempts=5),  # applied; settled by the fence
]


@pytest.mark.parametrize("fault", CASES, ids=[f"{f.operation}-{f.kind}-x{f.attempts}" for f in CASES])
def test_a_scheduled_mutation_runs_exactly_once_under_storage_faults(lambda_stack: Stack, fault: Fault) -> None:
    executor = lambda_stack.runtime.executor
    name = f"job-counter-{next(_names)}"
    assert lambda_stack.mutation(name)[0] == 200  # the counter exists (1): the job is a read-modify-write
    job_id = executor.call("counter:scheduleIncrement", {"name": name}, auth=NoAuth())
    assert isinstance(job_id, str)
    runner = JobRunner(executor)
    lambda_stack.injector.arm(fault)
    try:
        first = runner.run(job_id).outcome
    except SystemFailure:
        first = "interrupted"
    finally:
        lambda_stack.injector.arm(None)
    assert lambda_stack.injector.fired  # the fault really happened
    attempts = 0
    while (job := lambda_stack.runtime.database.run_query(lambda r: r.system.get(job_id))) and job["state"][
        "kind"
    ] == "pending":
        attempts += 1
        assert attempts <= 3, job
        assert runner.run(job_id).outcome == "success"
    assert job is not None
    assert job["state"] == {"kind": "success"}, (fault, first, job)
    assert lambda_stack.value(name) == 2.0, (fault, first)  # exactly once
    assert runner.run(job_id).outcome == "skipped"
    assert lambda_stack.value(name) == 2.0

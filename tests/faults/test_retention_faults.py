"""The retention sweep under DynamoDB faults injected into the real client: whatever storage does, a sweep that
fails leaves every job either deleted whole or untouched, the next sweeps finish the work, and a pending job or a
job finished within the retention is never deleted — including when a delete commit was applied and its answer
lost."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import pytest

from authlib_core.database.jobs import create_job, get_job
from authlib_core.errors import SystemFailure
from authlib_core.scheduler.retention import BATCH, delete_expired_jobs
from tests.faults.injector import Fault

if TYPE_CHECKING:
    from authlib_core.database import Database
    from tests.faults.harness import Stack

pytestmark = pytest.mark.dynamodb_server

WEEK_S = 7 * 86_400
_labels = itertools.count()

CASES = [
    Fault("Query", "ProvisionedThroughputExceededException", attempts=5),  # reading the page fails
    Fault("TransactWriteItems", "ProvisionedThroughputExceededException", attempts=5),
    Fault("TransactWriteItems", "TransactionConflict", call=None),  # every delete commit conflicts
    Fault("TransactWriteItems", "ReadTimeout", attempts=5),
    Fault("TransactWriteItems", "lost_response", attempts=1),  # applied; the retry finds its own marker
    Fault("TransactWriteItems", "lost_response", attempts=5),  # applied; settled by the fence
    Fault("TransactWriteItems", "lost_response", call=2, attempts=1),  # the second batch's answer is lost
]


def jobs(database: Database, count: int, *, finished_ago_s: float | None) -> list[str]:
    """``count`` jobs of one label: canceled ``finished_ago_s`` seconds ago, or pending (None); a few per
    transaction, so that setting up never strains the local moto server."""
    label = f"retention-{next(_labels)}"
    ids: list[str] = []
    for start in range(0, count, 4):

        def write(writer: Any, size: int = min(4, count - start)) -> list[str]:
            now = database.now_ms()
            canceled = None if finished_ago_s is None else now - finished_ago_s * 1000.0
            return [
                create_job(
                    writer, "counter:increment", {"name": label}, scheduled_time=now + 60_000, canceled_at=canceled
                )
                for _ in range(size)
            ]

        ids.extend(database.run_mutation(write))
    return ids


@pytest.mark.parametrize("fault", CASES, ids=[f"{f.operation}-{f.kind}-c{f.call}-x{f.attempts}" for f in CASES])
def test_a_sweep_under_storage_faults_deletes_exactly_the_expired_jobs(lambda_stack: Stack, fault: Fault) -> None:
    database = lambda_stack.runtime.database
    expired = jobs(database, BATCH, finished_ago_s=WEEK_S + 3600) + jobs(database, 5, finished_ago_s=WEEK_S + 60)
    recent = jobs(database, 3, finished_ago_s=WEEK_S - 3600)
    pending = jobs(database, 3, finished_ago_s=None)
    lambda_stack.injector.arm(fault)
    try:
        first: Any = delete_expired_jobs(database, retention_s=WEEK_S)
    except SystemFailure as exc:
        first = exc
    finally:
        lambda_stack.injector.arm(None)
    assert lambda_stack.injector.fired, first  # the fault really happened
    sweeps = 0
    while not delete_expired_jobs(database, retention_s=WEEK_S).done:  # the next ticks finish the work
        sweeps += 1
        assert sweeps < 5
    left = database.run_query(lambda r: {job_id: get_job(r, job_id) for job_id in expired + recent + pending})
    assert [job_id for job_id in expired if left[job_id] is not None] == [], (fault, first)
    assert all(left[job_id] is not None and left[job_id]["state"] == {"kind": "canceled"} for job_id in recent)
    assert all(left[job_id] is not None and left[job_id]["state"] == {"kind": "pending"} for job_id in pending)

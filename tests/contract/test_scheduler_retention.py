"""Retention of finished jobs on every engine: what is deleted, what never is, a backlog over several sweeps, two
sweepers at once, and jobs that finished before the ``by_completion`` index existed.

Every store's clock is a :class:`FakeClock` started at the test's own run time and moved by the test. On DynamoDB
the engine refuses ``Scan`` (``CallCounter``) and any commit over 100 actions, so passing here also shows that the
sweep reads through an index and deletes in batches that fit one ``TransactWriteItems``.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import pytest

from authlib_core.database.jobs import create_job, get_job, set_job_state
from authlib_core.database.system_tables import BY_COMPLETION, SCHEDULED_FUNCTIONS
from authlib_core.scheduler.retention import BATCH, SweepResult, delete_expired_jobs
from authlib_core.scheduler.runner import JobRunner
from tests.contract.test_scheduler import act, act_fail, executor_for, record, schedule, write_then_fail
from tests.support.sessions import FakeClock

if TYPE_CHECKING:
    from collections.abc import Callable

    from authlib_core.database import Database

DAY = 86_400.0
WEEK = 7 * DAY
#: Jobs per setup transaction (a job is 4 DynamoDB items plus a version of its own: see docs/scheduler.md).
SEED = 15


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(now=time.time())  # the test's own time, never the collection's


@pytest.fixture
def open_clocked(open_database: Callable[..., Database], clock: FakeClock) -> Callable[[], Database]:
    return lambda: open_database(clock=clock)


@pytest.fixture
def cdb(open_clocked: Callable[[], Database]) -> Database:
    return open_clocked()


def sweep(db: Database, **options: Any) -> SweepResult:
    """One sweep; its time budget is out of reach unless a test sets it (timing never decides a count here)."""
    return delete_expired_jobs(db, **{"time_budget_s": 600.0, **options})


def state_of(db: Database, job_id: str) -> str | None:
    found = db.run_query(lambda r: get_job(r, job_id))
    return None if found is None else found["state"]["kind"]  # type: ignore[index]


def canceled_jobs(db: Database, count: int, *, label: str = "x") -> list[str]:
    """``count`` jobs canceled now (finished at the clock's time), in transactions every engine takes."""
    ids: list[str] = []
    for start in range(0, count, SEED):
        size = min(SEED, count - start)

        def write(writer: Any, size: int = size) -> list[str]:
            now = db.now_ms()
            return [
                create_job(writer, "jobs:record", {"label": label}, scheduled_time=now + 3_600_000, canceled_at=now)
                for _ in range(size)
            ]

        ids.extend(db.run_mutation(write))
    return ids


def all_jobs(db: Database) -> list[dict[str, Any]]:
    return db.run_query(lambda r: r.system.query(SCHEDULED_FUNCTIONS).collect())


def test_finished_jobs_are_deleted_after_the_retention_and_unfinished_ones_never(
    cdb: Database, clock: FakeClock
) -> None:
    runner = JobRunner(executor_for(cdb))
    succeeded = schedule(cdb, record, {"label": "ok"})
    failed = schedule(cdb, write_then_fail, {"label": "bad"})
    action_failed = schedule(cdb, act_fail, {})
    assert sorted(r.outcome for r in runner.run_due()) == ["failed", "failed", "success"]
    (canceled,) = canceled_jobs(cdb, 1)
    overdue = schedule(cdb, record, {"label": "never run"})  # due now, never run: pending for weeks
    far = schedule(cdb, record, {"label": "far"}, delay=30 * DAY)
    running = schedule(cdb, act, {"label": "running"})

    def claim(writer: Any) -> None:  # an action whose runner took it (and then went quiet)
        job = get_job(writer, running)
        assert job is not None
        set_job_state(writer, job, "inProgress", started_ms=cdb.now_ms())

    cdb.run_mutation(claim)
    finished = [succeeded, failed, action_failed, canceled]

    clock.advance(WEEK - 60)  # not yet: a minute short of the retention
    assert sweep(cdb, retention_s=WEEK).deleted == 0
    assert all(state_of(cdb, job_id) is not None for job_id in finished)

    clock.advance(120)
    recent = schedule(cdb, record, {"label": "recent"})
    assert runner.run(recent).outcome == "success"  # finished just now: kept
    result = sweep(cdb, retention_s=WEEK)
    assert (result.deleted, result.done) == (4, True)
    assert [state_of(cdb, job_id) for job_id in finished] == [None] * 4
    assert state_of(cdb, overdue) == "pending"
    assert state_of(cdb, far) == "pending"
    assert state_of(cdb, running) == "inProgress"
    assert state_of(cdb, recent) == "success"
    assert sweep(cdb, retention_s=WEEK) == sweep(cdb, retention_s=WEEK)

    clock.advance(60 * DAY)  # the unfinished ones stay whatever their age; the recent one goes now
    assert sweep(cdb, retention_s=WEEK).deleted == 1
    assert sorted(state_of(cdb, job_id) or "" for job_id in (overdue, far, running)) == [
        "inProgress",
        "pending",
        "pending",
    ]


def test_the_retention_is_measured_from_completion_not_from_the_scheduled_time(cdb: Database, clock: FakeClock) -> None:
    late = schedule(cdb, record, {"label": "late"})  # due now, run only two weeks later
    clock.advance(2 * WEEK)
    assert JobRunner(executor_for(cdb)).run(late).outcome == "success"
    clock.advance(DAY)
    assert sweep(cdb, retention_s=WEEK).deleted == 0
    assert state_of(cdb, late) == "success"
    clock.advance(WEEK)
    assert sweep(cdb, retention_s=WEEK).deleted == 1


def test_a_backlog_is_worked_off_over_several_bounded_sweeps(cdb: Database, clock: FakeClock) -> None:
    per_sweep = BATCH + 3  # not a multiple of the batch: the last batch of a sweep is cut short
    backlog = 3 * per_sweep + 5
    old = canceled_jobs(cdb, backlog)
    clock.advance(WEEK + 1)
    fresh = canceled_jobs(cdb, 3, label="fresh")
    results = []
    while not results or not results[-1].done:
        results.append(sweep(cdb, retention_s=WEEK, max_jobs=per_sweep))
        assert len(results) < 10
    assert [r.deleted for r in results] == [per_sweep, per_sweep, per_sweep, backlog - 3 * per_sweep]
    assert all(state_of(cdb, job_id) is None for job_id in old)
    assert sorted(job["_id"] for job in all_jobs(cdb)) == sorted(fresh)


def test_a_sweep_stops_when_its_time_budget_is_spent(cdb: Database, clock: FakeClock) -> None:
    canceled_jobs(cdb, 2 * BATCH)
    clock.advance(WEEK + 1)
    ticks = iter(range(100))  # a monotonic clock that moves one second per look
    result = sweep(cdb, retention_s=WEEK, time_budget_s=0.5, monotonic=lambda: float(next(ticks)))
    assert (result.deleted, result.done) == (BATCH, False)  # one batch, then the budget was spent
    assert sweep(cdb, retention_s=WEEK) == SweepResult(BATCH, True)


def test_two_sweepers_at_once_delete_each_job_once_and_nothing_else(
    open_clocked: Callable[[], Database], clock: FakeClock
) -> None:
    first, second = open_clocked(), open_clocked()
    old = canceled_jobs(first, 4 * BATCH)
    pending = schedule(first, record, {"label": "p"})
    clock.advance(WEEK + 1)
    keep = canceled_jobs(first, 2, label="keep")
    counts: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(db: Database) -> None:
        try:
            start.wait()
            counts.append(sweep(db, retention_s=WEEK).deleted)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(db,)) for db in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sum(counts) == len(old)  # every job deleted exactly once between the two
    assert sorted(job["_id"] for job in all_jobs(second)) == sorted([pending, *keep])


def test_jobs_finished_before_the_index_existed_are_deleted_after_the_index_is_built(
    open_clocked: Callable[[], Database], clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from authlib_core.database import catalog
    from authlib_core.database.system_tables import SYSTEM_INDEXES

    without = {
        table: {name: fields for name, fields in indexes.items() if name != BY_COMPLETION}
        for table, indexes in SYSTEM_INDEXES.items()
    }
    with monkeypatch.context() as patch:  # a store written by a release without by_completion
        patch.setattr(catalog, "SYSTEM_INDEXES", without)
        before = open_clocked()
        old = canceled_jobs(before, 5)
        pending = schedule(before, record, {"label": "p"})
    clock.advance(WEEK + 1)
    upgraded = open_clocked()  # opening runs ensure_indexes: the index is built from the stored jobs
    assert sweep(upgraded, retention_s=WEEK).deleted == len(old)
    assert [job["_id"] for job in all_jobs(upgraded)] == [pending]
    assert state_of(upgraded, pending) == "pending"


def test_a_sweep_refuses_a_retention_that_is_not_positive(cdb: Database) -> None:
    with pytest.raises(ValueError, match="retention_s"):
        sweep(cdb, retention_s=0)


def test_a_large_backlog_takes_several_default_sweeps_on_sqlite(
    engine_spec: Any, cdb: Database, clock: FakeClock
) -> None:
    if engine_spec.kind != "sqlite":
        pytest.skip("thousands of jobs: SQLite only (moto would take minutes; the bounds are the same code)")

    def write(writer: Any) -> None:
        now = cdb.now_ms()
        for _ in range(500):
            create_job(writer, "jobs:record", {"label": "old"}, scheduled_time=now, canceled_at=now)

    for _ in range(9):
        cdb.run_mutation(write)
    pending = schedule(cdb, record, {"label": "p"})
    clock.advance(WEEK + 1)
    results = [sweep(cdb, retention_s=WEEK) for _ in range(4)]  # the tick's default bound: 2000 jobs
    assert [(r.deleted, r.done) for r in results] == [(2000, False), (2000, False), (500, True), (0, True)]
    assert [job["_id"] for job in all_jobs(cdb)] == [pending]

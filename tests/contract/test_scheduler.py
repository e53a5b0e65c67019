"""Scheduler semantics on every engine: transactional scheduling, cancel, exactly-once mutations under a crash
between their run and their commit, at-most-once actions, failures recorded, ``ctx.db.system`` reads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from authlib_core import ConvexError, action, internal_mutation, mutation, query
from authlib_core.auth.identity import NoAuth
from authlib_core.database.interface import EngineTransaction, StorageEngine
from authlib_core.errors import InvalidQueryError
from authlib_core.functions import Executor, RegisteredFunction, Registry
from authlib_core.functions.scheduler import ScheduleError
from authlib_core.scheduler.runner import LOST_ACTION_ERROR, JobRunner

if TYPE_CHECKING:
    from authlib_core.database import Database


@internal_mutation
def record(ctx: Any, label: str) -> str:
    return ctx.db.insert("things", {"value": label})


@mutation
def schedule_record(ctx: Any, label: str, fail: bool = False, delay: float = 0) -> str:
    job_id = ctx.scheduler.run_after(delay, record, {"label": label})
    if fail:
        raise ConvexError("changed my mind")
    return job_id


@internal_mutation
def write_then_fail(ctx: Any, label: str) -> None:
    ctx.db.insert("things", {"value": label})
    raise ValueError("the mutation broke")


@action
def act(ctx: Any, label: str) -> None:
    ctx.run_mutation(record, {"label": label})


@action
def schedule_from_action(ctx: Any, label: str) -> str:
    job_id = ctx.scheduler.run_after(0, "jobs:record", {"label": label})
    raise RuntimeError("the action failed after scheduling")
    return job_id  # pragma: no cover


@action
def act_fail(ctx: Any) -> None:
    raise ConvexError({"code": "PAYMENT_DECLINED"})


@query
def list_jobs(ctx: Any) -> list[Any]:
    return ctx.db.system.query("_scheduled_functions").collect()


@query
def a_query(ctx: Any) -> None:
    return None


@internal_mutation
def cancel_own_job(ctx: Any, label: str) -> None:
    (mine,) = (
        ctx.db.system.query("_scheduled_functions")
        .filter(lambda q: q.eq(q.field("state.kind"), "inProgress"))
        .collect()
    )
    ctx.scheduler.cancel(mine["_id"])
    ctx.db.insert("things", {"value": label})


REGISTRY = Registry(
    [
        RegisteredFunction("jobs:record", record),
        RegisteredFunction("jobs:schedule_record", schedule_record),
        RegisteredFunction("jobs:write_then_fail", write_then_fail),
        RegisteredFunction("jobs:act", act),
        RegisteredFunction("jobs:schedule_from_action", schedule_from_action),
        RegisteredFunction("jobs:act_fail", act_fail),
        RegisteredFunction("jobs:list_jobs", list_jobs),
        RegisteredFunction("jobs:a_query", a_query),
        RegisteredFunction("jobs:cancel_own_job", cancel_own_job),
    ]
)


def executor_for(db: Database) -> Executor:
    return Executor(REGISTRY, db)


def call(db: Database, path: str, args: dict[str, Any] | None = None) -> Any:
    return executor_for(db).call(path, args or {}, auth=NoAuth(), public_only=False)


def things(db: Database) -> list[Any]:
    return db.run_query(lambda r: sorted(doc["value"] for doc in r.query("things").collect()))


def jobs(db: Database) -> list[dict[str, Any]]:
    result = call(db, "jobs:list_jobs")
    assert isinstance(result, list)
    return result


def job(db: Database, job_id: str) -> dict[str, Any]:
    found = db.run_query(lambda r: r.system.get(job_id))
    assert isinstance(found, dict)
    return found


def schedule(db: Database, fn: Any, args: dict[str, Any], delay: float = 0) -> str:
    """Schedule ``fn`` from a mutation (the one way apps do it)."""
    executor = executor_for(db)

    def write(writer: Any) -> str:
        return executor._mutation_ctx(writer, NoAuth()).scheduler.run_after(delay, fn, args)

    job_id: str = db.run_mutation(write)
    return job_id


# -- scheduling is part of the mutation's transaction ------------------------------------------------------


def test_a_committed_mutation_leaves_a_pending_job_in_convex_shape(db: Database) -> None:
    before = db.now_ms()
    job_id = call(db, "jobs:schedule_record", {"label": "a", "delay": 60})
    stored = job(db, job_id)
    assert stored["_id"] == job_id
    assert stored["name"] == "jobs:record"
    assert stored["args"] == [{"label": "a"}]
    assert stored["state"] == {"kind": "pending"}
    assert "completedTime" not in stored
    assert before + 60_000 <= stored["scheduledTime"] <= db.now_ms() + 60_000
    assert [j["_id"] for j in jobs(db)] == [job_id]


def test_a_mutation_that_raises_schedules_nothing(db: Database) -> None:
    with pytest.raises(ConvexError):
        call(db, "jobs:schedule_record", {"label": "a", "fail": True})
    assert jobs(db) == []


def test_an_action_schedules_immediately_even_if_it_fails_afterwards(db: Database) -> None:
    with pytest.raises(RuntimeError):
        call(db, "jobs:schedule_from_action", {"label": "x"})
    (stored,) = jobs(db)
    assert stored["state"] == {"kind": "pending"}
    assert JobRunner(executor_for(db)).run_due()
    assert things(db) == ["x"]


# -- running ------------------------------------------------------------------------------------------------


def test_a_due_mutation_runs_once_and_records_success(db: Database) -> None:
    job_id = call(db, "jobs:schedule_record", {"label": "a"})
    later = call(db, "jobs:schedule_record", {"label": "later", "delay": 3600})
    runner = JobRunner(executor_for(db))
    assert [(r.job_id, r.outcome) for r in runner.run_due()] == [(job_id, "success")]
    assert things(db) == ["a"]
    done = job(db, job_id)
    assert done["state"] == {"kind": "success"}
    assert done["completedTime"] >= done["scheduledTime"]
    assert runner.run(job_id).outcome == "skipped"  # a second delivery changes nothing
    assert runner.run_due() == []
    assert things(db) == ["a"]
    assert job(db, later)["state"] == {"kind": "pending"}
    assert runner.next_due_ms() == job(db, later)["scheduledTime"]


def test_a_failing_mutation_is_recorded_and_its_writes_undone(db: Database) -> None:
    job_id = schedule(db, write_then_fail, {"label": "w"})
    assert JobRunner(executor_for(db)).run(job_id).outcome == "failed"
    assert job(db, job_id)["state"] == {"kind": "failed", "error": "ValueError: the mutation broke"}
    assert things(db) == []


def test_arguments_are_validated_when_the_job_runs(db: Database) -> None:
    job_id = schedule(db, record, {"label": 5})
    assert JobRunner(executor_for(db)).run(job_id).outcome == "failed"
    state = job(db, job_id)["state"]
    assert state["kind"] == "failed"
    assert "label" in state["error"]
    assert things(db) == []


def test_a_function_gone_at_run_time_is_recorded_as_failed(db: Database) -> None:
    job_id = schedule(db, record, {"label": "a"})
    runner = JobRunner(Executor(Registry([]), db))
    assert runner.run(job_id).outcome == "failed"
    assert "jobs:record" in job(db, job_id)["state"]["error"]


def test_actions_run_and_their_failures_are_recorded(db: Database) -> None:
    ok = schedule(db, act, {"label": "from-action"})
    bad = schedule(db, act_fail, {})
    runner = JobRunner(executor_for(db))
    assert sorted(r.outcome for r in runner.run_due()) == ["failed", "success"]
    assert things(db) == ["from-action"]
    assert job(db, ok)["state"] == {"kind": "success"}
    assert job(db, bad)["state"] == {"kind": "failed", "error": '{"code":"PAYMENT_DECLINED"}'}


# -- cancel ---------------------------------------------------------------------------------------------------


def test_cancel_stops_a_pending_job_and_ignores_a_finished_one(db: Database) -> None:
    executor = executor_for(db)
    pending = schedule(db, record, {"label": "never"})
    finished = schedule(db, record, {"label": "done"})
    runner = JobRunner(executor)
    assert runner.run(finished).outcome == "success"

    def cancel(writer: Any) -> None:
        scheduler = executor._mutation_ctx(writer, NoAuth()).scheduler
        scheduler.cancel(pending)
        scheduler.cancel(finished)

    db.run_mutation(cancel)
    assert job(db, pending)["state"] == {"kind": "canceled"}
    assert job(db, pending)["completedTime"] >= job(db, pending)["scheduledTime"]
    assert job(db, finished)["state"] == {"kind": "success"}
    assert runner.run_due() == []
    assert runner.run(pending).outcome == "skipped"
    assert things(db) == ["done"]


def test_cancel_refuses_an_id_that_is_not_a_job(db: Database) -> None:
    executor = executor_for(db)
    thing = db.run_mutation(lambda w: w.insert("things", {"value": 1}))
    with pytest.raises(ScheduleError, match="not the id of a scheduled function"):
        db.run_mutation(lambda w: executor._mutation_ctx(w, NoAuth()).scheduler.cancel(thing))


def test_a_canceled_job_stays_canceled_when_its_action_finishes(db: Database) -> None:
    job_id = schedule(db, act, {"label": "x"})

    @action
    def cancels_its_own_job(ctx: Any, label: str) -> None:
        ctx.scheduler.cancel(job_id)
        ctx.run_mutation(record, {"label": label})

    registry = Registry(
        [RegisteredFunction("jobs:act", cancels_its_own_job), RegisteredFunction("jobs:record", record)]
    )
    assert JobRunner(Executor(registry, db)).run(job_id).outcome == "skipped"
    assert job(db, job_id)["state"] == {"kind": "canceled"}
    assert things(db) == ["x"]  # the running action finished


def test_a_mutation_sees_its_own_job_in_progress_and_may_cancel_it(db: Database) -> None:
    job_id = schedule(db, cancel_own_job, {"label": "ran"})
    assert JobRunner(executor_for(db)).run(job_id).outcome == "skipped"
    assert job(db, job_id)["state"] == {"kind": "canceled"}
    assert things(db) == ["ran"]  # its writes committed with the cancel


# -- exactly once / at most once under crashes -----------------------------------------------------------------


class Crash(BaseException):
    """The process dies (not an Exception: nothing in the library may catch it)."""


class CrashingEngine(StorageEngine):
    """Delegates to a real engine; the armed commit crashes before (or after) reaching the store."""

    def __init__(self, inner: StorageEngine) -> None:
        self.inner = inner
        self.crash: str | None = None  # "before" | "after" the next commit that writes ``things``

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def begin(self, mode: Any) -> EngineTransaction:
        return _CrashingTx(self, self.inner.begin(mode))

    def ensure_indexes(self, indexes: Any) -> None:
        self.inner.ensure_indexes(indexes)

    def close(self) -> None:
        self.inner.close()


class _CrashingTx(EngineTransaction):
    def __init__(self, engine: CrashingEngine, inner: EngineTransaction) -> None:
        self.engine = engine
        self.inner = inner

    def get(self, document_id: str) -> Any:
        return self.inner.get(document_id)

    def scan(self, key_range: Any, order: Any, *, after: Any, limit: int) -> Any:
        return self.inner.scan(key_range, order, after=after, limit=limit)

    def commit(self, writes: Any) -> None:
        armed = self.engine.crash if any(op.table == "things" for op in writes) else None
        if armed == "before":
            self.engine.crash = None
            raise Crash
        self.inner.commit(writes)
        if armed == "after":
            self.engine.crash = None
            raise Crash

    def validate(self) -> None:
        self.inner.validate()

    def close(self) -> None:
        self.inner.close()

    def read_set(self) -> Any:
        return self.inner.read_set()


@pytest.fixture
def crashing(db: Database) -> tuple[Database, CrashingEngine]:
    engine = CrashingEngine(db.engine)
    db.engine = engine
    return db, engine


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_scheduled_mutation_takes_effect_exactly_once_when_the_runner_crashes_around_the_commit(
    crashing: tuple[Database, CrashingEngine], when: str
) -> None:
    db, engine = crashing
    job_id = schedule(db, record, {"label": "once"})
    engine.crash = when
    with pytest.raises(Crash):
        JobRunner(executor_for(db)).run(job_id)
    # The run and the job's state change commit together: both happened, or neither.
    expected = ("success", ["once"]) if when == "after" else ("pending", [])
    assert (job(db, job_id)["state"]["kind"], things(db)) == expected
    # A new runner (the restarted process) finishes the work without doing it twice.
    results = JobRunner(executor_for(db)).run_due()
    assert [r.outcome for r in results] == ([] if when == "after" else ["success"])
    assert things(db) == ["once"]
    assert job(db, job_id)["state"] == {"kind": "success"}


def test_an_action_whose_runner_died_is_never_started_again_and_is_recorded_failed(
    crashing: tuple[Database, CrashingEngine],
) -> None:
    db, engine = crashing
    job_id = schedule(db, act, {"label": "maybe"})
    engine.crash = "before"  # the action's own write crashes the process mid-action
    with pytest.raises(Crash):
        JobRunner(executor_for(db)).run(job_id)
    runner = JobRunner(executor_for(db))
    assert job(db, job_id)["state"]["kind"] == "inProgress"
    assert runner.run_due() == []
    assert runner.run(job_id).outcome == "skipped"
    assert runner.recover(started_before_ms=db.now_ms() - 60_000) == []  # may still be running elsewhere
    assert [r.outcome for r in runner.recover(started_before_ms=db.now_ms() + 1)] == ["failed"]
    assert job(db, job_id)["state"] == {"kind": "failed", "error": LOST_ACTION_ERROR}
    assert things(db) == []


# -- scheduling errors and system-table protection ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("delay", "fn", "message"),
    [
        (-1, record, "finite number >= 0"),
        (float("nan"), record, "finite number >= 0"),
        ("soon", record, "number of seconds"),
        (10 * 366 * 86400, record, "5 years"),
        (0, a_query, "is a query"),
        (0, "jobs:nope", "Could not find function"),
    ],
)
def test_bad_schedule_calls_are_refused_and_nothing_is_written(db: Database, delay: Any, fn: Any, message: str) -> None:
    with pytest.raises(Exception, match=message):
        schedule(db, fn, {"label": "x"}, delay=delay)
    assert jobs(db) == []


def test_too_large_arguments_are_refused(db: Database) -> None:
    with pytest.raises(ScheduleError, match="limited to"):
        schedule(db, record, {"label": "x" * 300_000})


def test_system_tables_are_read_only_to_apps(db: Database) -> None:
    job_id = schedule(db, record, {"label": "x"}, delay=60)
    for write in (
        lambda w: w.insert("_scheduled_functions", {"name": "x"}),
        lambda w: w.patch(job_id, {"state": {"kind": "success"}}),
        lambda w: w.delete(job_id),
    ):
        with pytest.raises(InvalidQueryError, match="read-only"):
            db.run_mutation(write)
    with pytest.raises(InvalidQueryError, match="not a system table"):
        db.run_query(lambda r: r.system.query("things"))
    with pytest.raises(InvalidQueryError, match="not an id of a system table"):
        db.run_query(lambda r: r.system.get(db.run_mutation(lambda w: w.insert("things", {"value": 1}))))
    assert job(db, job_id)["state"] == {"kind": "pending"}

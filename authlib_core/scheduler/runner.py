"""``JobRunner``: run one job of ``_scheduled_functions`` with the guarantees Convex gives.

- **A mutation runs exactly once.** Its run, the job's state change (``pending`` → ``success`` or ``failed``) and
  everything it wrote commit in one transaction, which only starts if the job is still ``pending``. A crash or a
  storage failure before the commit leaves the job ``pending`` with nothing written, so it simply runs again; a
  commit that went through leaves it ``success``, so it never runs again. A developer error (an exception from the
  function, bad arguments, a function that no longer exists) undoes the function's writes and records ``failed``
  with the error message. Conflicts retry like any mutation's.
- **An action runs at most once.** The job moves ``pending`` → ``inProgress`` in its own commit *before* the action
  starts; only the runner that made that move runs it. The outcome is recorded afterwards (unless the job was
  canceled meanwhile). An action whose runner died stays ``inProgress`` until :meth:`JobRunner.recover` records it
  ``failed`` ("Transient error while executing action") — it is never started again.
- Arguments are validated when the job runs (as for a call from a client); the function sees no identity.

Example:
    >>> runner = JobRunner(runtime.executor)                  # doctest: +SKIP
    >>> runner.run_due(limit=100)                              # doctest: +SKIP
    [RunResult(job_id='...', outcome='success')]
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Final, Literal

from authlib_core.auth.identity import NoAuth
from authlib_core.database.jobs import due_jobs, get_job, job_args, job_name, jobs_in_state, set_job_state
from authlib_core.errors import AuthlibError, SystemFailure
from authlib_core.functions import Kind

if TYPE_CHECKING:
    from authlib_core.functions import Database, DatabaseWriter, Executor
    from authlib_core.values import Value

__all__ = ["LOST_ACTION_ERROR", "JobRunner", "Outcome", "RunResult"]

logger = logging.getLogger("authlib_core.scheduler")

Outcome = Literal["success", "failed", "skipped"]

#: The error recorded for an action whose runner stopped while it ran (Convex's wording).
LOST_ACTION_ERROR: Final = "Transient error while executing action"


@dataclasses.dataclass(frozen=True, slots=True)
class RunResult:
    """What running one job did: ``skipped`` when it was not pending (already run, running elsewhere, canceled)."""

    job_id: str
    outcome: Outcome


def error_text(exc: BaseException) -> str:
    """The error recorded in ``state.error``: the message of a library or ``ConvexError``, else ``Type: message``."""
    if isinstance(exc, AuthlibError):
        return exc.message
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _pending(writer: DatabaseWriter, job_id: str) -> dict[str, Value] | None:
    job = get_job(writer, job_id)
    if job is None:
        return None
    state = job["state"]
    return job if isinstance(state, dict) and state.get("kind") == "pending" else None


class JobRunner:
    """Runs jobs through an :class:`~authlib_core.functions.Executor` (its registry and database)."""

    __slots__ = ("executor",)

    def __init__(self, executor: Executor) -> None:
        self.executor = executor

    @property
    def database(self) -> Database:
        """The database the jobs live in."""
        return self.executor.database

    def run_due(self, *, limit: int = 100) -> list[RunResult]:
        """Run the pending jobs that are due now, earliest first (up to ``limit``); one index read finds them."""
        now = self.database.now_ms()
        due = self.database.run_query(lambda reader: due_jobs(reader, now_ms=now, limit=limit))
        results: list[RunResult] = []
        for job in due:
            job_id = job["_id"]
            assert isinstance(job_id, str)
            results.append(self.run(job_id))
        return results

    def next_due_ms(self) -> float | None:
        """When the earliest pending job is due (ms since the epoch), or None when nothing is pending."""
        first = self.database.run_query(lambda reader: jobs_in_state(reader, "pending", limit=1))
        if not first:
            return None
        when = first[0]["scheduledTime"]
        assert isinstance(when, float | int)
        return float(when)

    def run(self, job_id: str) -> RunResult:
        """Run the job ``job_id`` if it is still pending (whoever else may be trying to run it).

        Raises:
            SystemFailure: storage failed before the outcome committed; the job is as it was (a mutation stays
                ``pending`` and runs again later).
        """
        job = self.database.run_query(lambda reader: get_job(reader, job_id))
        if job is None or not isinstance(job.get("state"), dict) or job["state"].get("kind") != "pending":  # type: ignore[union-attr]
            return RunResult(job_id, "skipped")
        name = job["name"]
        assert isinstance(name, str)
        try:
            function = self.executor.registry.lookup(name, public_only=False)
        except AuthlibError as exc:
            return self._fail_pending(job_id, error_text(exc))
        if function.definition.kind is Kind.MUTATION:
            return self._run_mutation(job_id)
        if function.definition.kind is Kind.ACTION:
            return self._run_action(job_id)
        return self._fail_pending(
            job_id, f"Unsupported function type: {name} is a query. Only mutations and actions can be scheduled."
        )

    def _fail_pending(self, job_id: str, error: str) -> RunResult:
        def fail(writer: DatabaseWriter) -> Outcome:
            job = _pending(writer, job_id)
            if job is None:
                return "skipped"
            set_job_state(writer, job, "failed", now_ms=self.database.now_ms(), error=error)
            return "failed"

        return RunResult(job_id, self.database.run_mutation(fail))

    def _run_mutation(self, job_id: str) -> RunResult:
        def run(writer: DatabaseWriter) -> Outcome:
            job = _pending(writer, job_id)
            if job is None:
                return "skipped"
            running = set_job_state(writer, job, "inProgress")  # only this transaction ever sees it in progress
            try:
                with writer.savepoint():
                    self.executor.call_in_transaction(writer, job_name(job), job_args(job), auth=NoAuth())
            except SystemFailure:
                raise  # a conflict re-runs the whole transaction; an outage leaves the job pending
            except Exception as exc:  # a developer error: the function's writes are undone, the failure recorded
                set_job_state(writer, running, "failed", now_ms=self.database.now_ms(), error=error_text(exc))
                return "failed"
            after = get_job(writer, job_id)
            if after is not None and after["state"] == {"kind": "canceled"}:
                return "skipped"  # the mutation canceled its own job: its writes stand, the job stays canceled
            set_job_state(writer, running, "success", now_ms=self.database.now_ms())
            return "success"

        return RunResult(job_id, self.database.run_mutation(run))

    def _run_action(self, job_id: str) -> RunResult:
        def claim(writer: DatabaseWriter) -> dict[str, Value] | None:
            job = _pending(writer, job_id)
            if job is None:
                return None
            return set_job_state(writer, job, "inProgress", started_ms=self.database.now_ms())

        claimed = self.database.run_mutation(claim)
        if claimed is None:
            return RunResult(job_id, "skipped")
        error: str | None = None
        try:
            self.executor.call(job_name(claimed), job_args(claimed), kind=Kind.ACTION, auth=NoAuth(), public_only=False)
        except Exception as exc:  # at most once: whatever happened, it is not run again
            error = error_text(exc)
            logger.info("scheduled action %s (%s) failed: %s", job_name(claimed), job_id, error)

        def record(writer: DatabaseWriter) -> Outcome:
            job = get_job(writer, job_id)
            state = job["state"] if job is not None else None
            if job is None or not isinstance(state, dict) or state.get("kind") != "inProgress":
                return "skipped"  # canceled while it ran: it stays canceled
            if error is not None:
                set_job_state(writer, job, "failed", now_ms=self.database.now_ms(), error=error)
                return "failed"
            set_job_state(writer, job, "success", now_ms=self.database.now_ms())
            return "success"

        return RunResult(job_id, self.database.run_mutation(record))

    def recover(self, *, started_before_ms: float, limit: int = 100) -> list[RunResult]:
        """Record as failed the actions left ``inProgress`` by runners that stopped (started before the cutoff).

        The dev server calls it at start (no runner of a previous process is still going); on AWS the tick calls
        it with the runner function's timeout as the cutoff.
        """
        stuck = self.database.run_query(lambda reader: jobs_in_state(reader, "inProgress", limit=limit))
        results: list[RunResult] = []
        for job in stuck:
            state = job["state"]
            assert isinstance(state, dict)
            started = state.get("startedTime", 0.0)
            if not isinstance(started, float | int) or started >= started_before_ms:
                continue
            job_id = job["_id"]
            assert isinstance(job_id, str)

            def fail(writer: DatabaseWriter, job_id: str = job_id, seen: Value = state) -> Outcome:
                current = get_job(writer, job_id)
                if current is None or current["state"] != seen:
                    return "skipped"
                set_job_state(writer, current, "failed", now_ms=self.database.now_ms(), error=LOST_ACTION_ERROR)
                return "failed"

            results.append(RunResult(job_id, self.database.run_mutation(fail)))
        return results

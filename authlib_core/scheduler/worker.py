"""``SchedulerWorker``: the in-process worker of the dev server — runs due jobs and cron jobs as they come due.

A thread sleeps until the earliest pending job or cron run is due, or until a commit writes a job (the database's
commit listeners wake it), so a job runs within a few milliseconds of its time. Jobs run on a small thread pool
(``concurrency``, 8 by default like Convex), so a slow action does not hold up the others.

It follows the current runtime: after a reload it syncs the cron table with the new ``crons.py`` and runs jobs with
the new functions; jobs already running finish with the code they started with. On start, jobs that came due while
nothing ran them run at once (earliest first), each cron whose time passed runs once, and actions left
``inProgress`` by a previous process (it stopped while they ran) are recorded ``failed``.

It also deletes finished jobs older than the runtime's ``job_retention`` (:mod:`.retention`): at start, then every
:data:`SWEEP_INTERVAL_S`, a few hundred jobs at a time (a backlog goes on a second later), so it never holds up
due jobs for long.

Example:
    >>> worker = SchedulerWorker(reloader.current)   # doctest: +SKIP
    >>> worker.start()                              # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from authlib_core.database.jobs import due_jobs, jobs_in_state
from authlib_core.database.system_tables import CRON_JOBS, SCHEDULED_FUNCTIONS
from authlib_core.scheduler.crons import next_cron_due_ms, start_due_crons, sync_crons
from authlib_core.scheduler.retention import delete_expired_jobs
from authlib_core.scheduler.runner import JobRunner, RunResult

if TYPE_CHECKING:
    from collections.abc import Callable

    from authlib_core.database.readset import WriteSet
    from authlib_core.functions import Database
    from authlib_core.runtime import Runtime

__all__ = ["SchedulerWorker"]

logger = logging.getLogger("authlib_core.scheduler")

#: The longest the worker sleeps without looking (a clock jump or a commit from another process is noticed then).
MAX_SLEEP_S = 1.0
#: How long to wait after a storage failure before looking again.
FAILURE_PAUSE_S = 1.0
#: How often finished jobs past their retention are deleted (and how soon after a sweep that left a backlog).
SWEEP_INTERVAL_S = 60.0
SWEEP_BACKLOG_S = 1.0
#: One sweep's bounds: the worker thread also starts due jobs, so it sweeps briefly.
SWEEP_MAX_JOBS = 500
SWEEP_BUDGET_S = 0.25


class SchedulerWorker:
    """Runs the jobs and cron jobs of whatever runtime ``current`` returns, until :meth:`stop`.

    ``on_run`` is called after each job with its name, result and duration in ms (the dev server prints a line).
    """

    def __init__(
        self,
        current: Callable[[], Runtime],
        *,
        concurrency: int = 8,
        on_run: Callable[[str, RunResult, float], object] | None = None,
    ) -> None:
        self._current = current
        self._on_run = on_run
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="authlib-job")
        self._concurrency = concurrency
        self._wakeup = threading.Condition()
        self._woken = False
        self._stopped = False
        self._running: set[str] = set()
        self._runtime: Runtime | None = None
        self._listening: set[int] = set()
        self._recovered = False
        self._next_sweep = 0.0  # time.monotonic() of the next retention sweep (0: at start)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the worker thread (a daemon)."""
        self._thread = threading.Thread(target=self._loop, name="authlib-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop looking for work, let running jobs finish (briefly) and stop the thread."""
        with self._wakeup:
            self._stopped = True
            self._wakeup.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def wake(self) -> None:
        """Look for due work now (a commit wrote a job, a runtime was loaded)."""
        with self._wakeup:
            self._woken = True
            self._wakeup.notify_all()

    def _on_commit(self, writes: WriteSet) -> None:
        if writes.everything or not writes.tables.isdisjoint((SCHEDULED_FUNCTIONS, CRON_JOBS)):
            self.wake()

    def _adopt(self, runtime: Runtime) -> None:
        database = runtime.database
        if id(database) not in self._listening:
            database.commit_listeners.append(self._on_commit)
            self._listening.add(id(database))
        if not self._recovered:  # the first runtime of this process: whatever was in progress belonged to a dead one
            failed = JobRunner(runtime.executor).recover(started_before_ms=float("inf"), limit=1000)
            for result in failed:
                logger.warning(
                    "scheduled action %s was running when the server stopped: recorded as failed", result.job_id
                )
            self._recovered = True
        sync_crons(database, runtime.app.crons)
        self._runtime = runtime

    def _loop(self) -> None:
        while True:
            with self._wakeup:
                if self._stopped:
                    return
                self._woken = False
            pause = self._step()
            with self._wakeup:
                if not self._woken and not self._stopped:
                    self._wakeup.wait(timeout=pause)

    def _step(self) -> float:
        """Start what is due; return how long to sleep."""
        try:
            runtime = self._current()
        except Exception:
            return FAILURE_PAUSE_S  # nothing loaded yet (the load error is printed by the reloader)
        try:
            if runtime is not self._runtime:
                self._adopt(runtime)
            database = runtime.database
            start_due_crons(database)
            self._dispatch(runtime)
            self._sweep(runtime)
            return self._sleep_until(database)
        except Exception:
            logger.exception("the scheduler could not read or start jobs; trying again shortly")
            return FAILURE_PAUSE_S

    def _dispatch(self, runtime: Runtime) -> None:
        database = runtime.database
        free = self._concurrency - len(self._running)
        if free <= 0:
            return
        now = database.now_ms()
        due = database.run_query(lambda r: due_jobs(r, now_ms=now, limit=free + len(self._running)))
        runner = JobRunner(runtime.executor)
        for job in due:
            job_id = job["_id"]
            if not isinstance(job_id, str) or job_id in self._running:
                continue
            self._running.add(job_id)
            self._pool.submit(self._run, runner, job_id, str(job["name"]))

    def _sweep(self, runtime: Runtime) -> None:
        """Delete finished jobs past their retention, when a sweep is due (a failure is logged and retried at the
        next interval; it never keeps due jobs from starting)."""
        retention = runtime.settings.job_retention
        now = time.monotonic()
        if retention is None or now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_INTERVAL_S
        try:
            result = delete_expired_jobs(
                runtime.database, retention_s=retention, max_jobs=SWEEP_MAX_JOBS, time_budget_s=SWEEP_BUDGET_S
            )
        except Exception:
            logger.exception("could not delete finished jobs past their retention; trying again in a minute")
            return
        if result.deleted:
            logger.info("deleted %d finished job(s) older than %ds", result.deleted, retention)
        if not result.done:
            self._next_sweep = time.monotonic() + SWEEP_BACKLOG_S

    def _run(self, runner: JobRunner, job_id: str, name: str) -> None:
        started = time.perf_counter()
        try:
            result = runner.run(job_id)
        except Exception:
            logger.exception("scheduled job %s (%s) could not run; it stays pending and is retried", name, job_id)
            time.sleep(FAILURE_PAUSE_S)
            return
        finally:
            self._running.discard(job_id)
            self.wake()
        if self._on_run is not None and result.outcome != "skipped":
            self._on_run(name, result, (time.perf_counter() - started) * 1000.0)

    def _sleep_until(self, database: Database) -> float:
        waiting = database.run_query(lambda r: jobs_in_state(r, "pending", limit=len(self._running) + 1))
        times = [float(job["scheduledTime"]) for job in waiting if job["_id"] not in self._running]  # type: ignore[arg-type]
        cron = next_cron_due_ms(database)
        if cron is not None:
            times.append(cron)
        if not times:
            return MAX_SLEEP_S
        return max(0.0, min(MAX_SLEEP_S, (min(times) - database.now_ms()) / 1000.0))

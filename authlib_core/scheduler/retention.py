"""Retention of finished jobs: ``_scheduled_functions`` documents finished longer ago than the retention are deleted.

Convex keeps a finished job (``success``, ``failed``, ``canceled``) for 7 days; so does this library by default
(``AUTHLIB_JOB_RETENTION``, seconds, or ``off``). The machinery that already runs periodically sweeps: the dev
server's worker (at start, then every minute) and the AWS scheduler tick (every minute).

How one sweep works, and why it is safe:

- The jobs to delete are read from the ``by_completion`` index (``completedTime``), oldest first, in pages of
  :data:`PAGE` — a range read (DynamoDB ``Query`` calls), never a scan. A job that is pending or in progress has no
  ``completedTime``, so it is never in that range.
- A page is deleted :data:`BATCH` jobs per transaction; each transaction reads every job again by id and deletes
  it only if its document says it is finished, and finished before the cutoff. :data:`BATCH` jobs keep a DynamoDB
  commit inside the 100 actions of one ``TransactWriteItems``.
- Two sweepers at once (two ticks overlapping, two dev processes) read the same page; the first commit wins, the
  other's conflicts, re-reads and finds the jobs gone — nothing is deleted twice and no commit is half-done. The
  delete transaction reads only the jobs themselves (no range), so jobs finishing meanwhile never conflict with it.
- A sweep stops after ``max_jobs`` jobs or ``time_budget_s`` seconds, whichever comes first, so a backlog (the
  first sweep after an upgrade, months of jobs) is worked off over several ticks without ever overrunning one.

Example:
    >>> result = delete_expired_jobs(database, retention_s=7 * 86_400)   # doctest: +SKIP
    >>> result.deleted, result.done                                       # doctest: +SKIP
    (12, True)
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Final

from authlib_core.database.deadline import remaining
from authlib_core.database.jobs import delete_finished_job, finished_jobs_page
from authlib_core.errors import LimitExceededError

if TYPE_CHECKING:
    from collections.abc import Callable

    from authlib_core.functions import Database, DatabaseReader, DatabaseWriter

__all__ = ["BATCH", "DEFAULT_RETENTION_S", "PAGE", "SweepResult", "delete_expired_jobs"]

#: Convex's retention of finished jobs: 7 days.
DEFAULT_RETENTION_S: Final = 7 * 24 * 3600
#: Jobs deleted per transaction: on DynamoDB 4 to 7 actions each (the document, three index entries, the versions
#: of their partitions and of the completion time) plus a few shared, so below the 100 actions of one
#: ``TransactWriteItems`` (measured: about 80 for 12 jobs). A commit the engine finds too large is split in halves.
BATCH: Final = 12
#: Jobs read per index page (then deleted :data:`BATCH` at a time): on DynamoDB a range of ``by_completion`` reads
#: each of its partitions, so larger pages mean fewer ``Query`` calls per job.
PAGE: Final = 4 * BATCH


@dataclasses.dataclass(frozen=True, slots=True)
class SweepResult:
    """What one sweep did: ``deleted`` jobs; ``done`` when no job older than the cutoff was left to look at."""

    deleted: int
    done: bool


def delete_expired_jobs(
    database: Database,
    *,
    retention_s: float,
    max_jobs: int = 2000,
    time_budget_s: float = 10.0,
    monotonic: Callable[[], float] = time.monotonic,
) -> SweepResult:
    """Delete the jobs that finished more than ``retention_s`` seconds ago (by the database's clock).

    At most ``max_jobs`` jobs are looked at, and no new batch starts after ``time_budget_s`` seconds (nor when the
    request budget of :mod:`authlib_core.database.deadline`, if any, is spent); the next sweep starts again from
    the oldest job left. Pending and in-progress jobs are never deleted.

    Raises:
        ValueError: ``retention_s`` or ``max_jobs`` is not positive.
        SystemFailure: storage failed; what was deleted before stays deleted, the rest waits for the next sweep.
    """
    if retention_s <= 0 or max_jobs <= 0:
        raise ValueError(f"retention_s and max_jobs must be positive, got {retention_s} and {max_jobs}")
    stop_at = monotonic() + time_budget_s
    cutoff = database.now_ms() - retention_s * 1000.0

    def out_of_time() -> bool:
        left = remaining()
        return monotonic() >= stop_at or (left is not None and left <= 0.0)

    deleted = 0
    looked_at = 0
    cursor: str | None = None
    while True:
        size = min(PAGE, max_jobs - looked_at)

        def read(reader: DatabaseReader, cursor: str | None = cursor, size: int = size) -> tuple[list[str], str | None]:
            jobs, following = finished_jobs_page(reader, before_ms=cutoff, cursor=cursor, limit=size)
            return [str(job["_id"]) for job in jobs], following

        ids, cursor = database.run_query(read)
        for start in range(0, len(ids), BATCH):
            if start and out_of_time():
                return SweepResult(deleted, done=False)
            deleted += _delete(database, ids[start : start + BATCH], cutoff)
        looked_at += len(ids)
        if cursor is None:
            return SweepResult(deleted, done=True)
        if looked_at >= max_jobs or out_of_time():
            return SweepResult(deleted, done=False)


def _delete(database: Database, ids: list[str], cutoff: float) -> int:
    """Delete the eligible jobs among ``ids`` in one transaction, or in halves if the engine says it is too large
    (nothing is written by a refused commit; a DynamoDB deployment with sharded indexes needs more actions per job).
    """

    def delete(writer: DatabaseWriter) -> int:
        return sum(delete_finished_job(writer, job_id, before_ms=cutoff) for job_id in ids)

    try:
        return database.run_mutation(delete)
    except LimitExceededError:
        if len(ids) == 1:
            raise
        half = len(ids) // 2
        return _delete(database, ids[:half], cutoff) + _delete(database, ids[half:], cutoff)

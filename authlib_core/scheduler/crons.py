"""The cron table: the cron jobs of ``functions/crons.py`` kept in the ``_cron_jobs`` system table, and their runs.

Each declared cron job has one document ``{name, function, args, schedule, nextRun, lastJob?}``:

- :func:`sync_crons` brings the table in line with the declaration (new jobs added, changed ones updated, removed
  ones deleted) — at every dev-server load and every AWS tick, so crons declared in Python need no template edit;
- :func:`start_due_crons` turns every cron whose ``nextRun`` has come into a job of ``_scheduled_functions``
  (``scheduledTime = nextRun``), which the job runner runs with the usual guarantees. It is one transaction per
  cron: the job, ``lastJob`` and the next ``nextRun`` commit together, so two workers never start the same run.
  If the previous run is still pending or in progress, this run is skipped. Runs missed while nothing was running
  (the dev server stopped) collapse into one run now; the next time is the first one after now.

Example:
    >>> sync_crons(database, app.crons)       # doctest: +SKIP
    >>> start_due_crons(database)             # doctest: +SKIP
    [('nightly report', '...job id...', 1796133600000.0)]
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

from authlib_core.database.access import transaction_of
from authlib_core.database.jobs import FINAL_STATES, create_job, get_job, job_args, job_name
from authlib_core.database.system_tables import BY_NAME, CRON_JOBS
from authlib_core.functions.crons import next_cron_time

if TYPE_CHECKING:
    from collections.abc import Iterable

    from authlib_core.functions import Database, DatabaseReader, DatabaseWriter
    from authlib_core.functions.crons import CronJob
    from authlib_core.values import Value

__all__ = ["cron_documents", "next_cron_due_ms", "next_run_after", "start_due_crons", "sync_crons"]

logger = logging.getLogger("authlib_core.scheduler")


def next_run_after(schedule: Value, previous_ms: float, now_ms: float) -> float:
    """The first time of ``schedule`` after ``now_ms``; an interval counts on from ``previous_ms`` (its last due
    time), skipping the runs missed in between."""
    assert isinstance(schedule, dict)
    if schedule["type"] == "interval":
        step = float(schedule["seconds"]) * 1000.0  # type: ignore[arg-type]
        missed = max(0, math.floor((now_ms - previous_ms) / step)) + 1
        return previous_ms + missed * step
    expression = schedule["cron"]
    assert isinstance(expression, str)
    return next_cron_time(expression, now_ms)


def _first_run(schedule: Value, now_ms: float) -> float:
    assert isinstance(schedule, dict)
    if schedule["type"] == "interval":
        return now_ms  # Convex: an interval job first runs when it is deployed
    return next_run_after(schedule, now_ms, now_ms)


def cron_documents(reader: DatabaseReader) -> list[dict[str, Value]]:
    """Every stored cron job, by name (one index range of the system table; there are few)."""
    return reader.system.query(CRON_JOBS).with_index(BY_NAME).collect()


def _stored(writer: DatabaseReader, name: str) -> dict[str, Value] | None:
    return writer.system.query(CRON_JOBS).with_index(BY_NAME, lambda q: q.eq("name", name)).first()


def sync_crons(database: Database, crons: Iterable[CronJob]) -> list[str]:
    """Make ``_cron_jobs`` hold exactly ``crons``; returns the names added, changed or removed.

    One small transaction per changed cron job, each re-checking what it read, so concurrent syncs (two Lambda
    ticks, a dev server reloading) converge without duplicates.
    """
    declared = {job.name: job for job in crons}
    stored = {str(doc["name"]): doc for doc in database.run_query(cron_documents)}
    changed: list[str] = []
    for name, job in declared.items():
        wanted: dict[str, Value] = {
            "name": name,
            "function": str(job.function),
            "args": [job.args],
            "schedule": job.schedule,
        }
        current = stored.get(name)
        if current is not None and all(current.get(key) == value for key, value in wanted.items()):
            continue

        def upsert(writer: DatabaseWriter, name: str = name, wanted: dict[str, Value] = wanted) -> None:
            existing = _stored(writer, name)
            now = database.now_ms()
            if existing is None:
                transaction_of(writer).insert_system(
                    CRON_JOBS, {**wanted, "nextRun": _first_run(wanted["schedule"], now)}
                )
                return
            fields = {k: v for k, v in existing.items() if k not in ("_id", "_creationTime")}
            if existing.get("schedule") != wanted["schedule"]:
                fields["nextRun"] = _first_run(wanted["schedule"], now)
            fields.update(wanted)
            doc_id = existing["_id"]
            assert isinstance(doc_id, str)
            transaction_of(writer).replace_system(doc_id, fields)

        database.run_mutation(upsert)
        changed.append(name)
    for name, doc in stored.items():
        if name in declared:
            continue
        doc_id = doc["_id"]
        assert isinstance(doc_id, str)

        def remove(writer: DatabaseWriter, name: str = name) -> None:
            existing = _stored(writer, name)
            if existing is not None:
                existing_id = existing["_id"]
                assert isinstance(existing_id, str)
                transaction_of(writer).delete_system(existing_id)

        database.run_mutation(remove)
        changed.append(name)
    return changed


def next_cron_due_ms(database: Database) -> float | None:
    """When the earliest cron job is next due, or None without cron jobs."""
    times = [doc["nextRun"] for doc in database.run_query(cron_documents)]
    return min((float(t) for t in times if isinstance(t, float | int)), default=None)


def start_due_crons(database: Database, *, until_ms: float | None = None) -> list[tuple[str, str, float]]:
    """Create the jobs of the cron runs due by ``until_ms`` (default: now); returns ``(cron, job id, due time)``.

    ``until_ms`` in the future creates a run's job ahead of its time (the AWS tick hands it to a delay queue); the
    job then waits as ``pending`` until it is due. While a cron's previous job has not finished, no new run starts:
    a run whose time has come while the previous one is still going is skipped; one in the future waits.
    """
    now = database.now_ms()
    horizon = now if until_ms is None else max(now, until_ms)
    started: list[tuple[str, str, float]] = []
    for doc in database.run_query(cron_documents):
        due = doc["nextRun"]
        if not isinstance(due, float | int) or due > horizon:
            continue
        name = str(doc["name"])

        def start(writer: DatabaseWriter, name: str = name) -> tuple[str, str, float] | None:
            current = _stored(writer, name)
            if current is None:
                return None
            due = current["nextRun"]
            assert isinstance(due, float | int)
            due = float(due)
            if due > horizon:
                return None  # another worker started this run
            fields = {k: v for k, v in current.items() if k not in ("_id", "_creationTime")}
            last = current.get("lastJob")
            previous = get_job(writer, last) if isinstance(last, str) else None
            state = previous["state"] if previous is not None else None
            if isinstance(state, dict) and state.get("kind") not in FINAL_STATES:
                if due > now:
                    return None  # the previous run has not finished; this one is not due yet: decide later
                fields["nextRun"] = next_run_after(current["schedule"], due, now)
                logger.info("cron job %r: skipping a run, the previous one (%s) is still going", name, last)
                _replace(writer, current, fields)
                return None
            job_id = create_job(writer, job_name(current), job_args(current), scheduled_time=due)
            fields["lastJob"] = job_id
            fields["nextRun"] = next_run_after(current["schedule"], due, max(now, due))
            _replace(writer, current, fields)
            return (name, job_id, due)

        created = database.run_mutation(start)
        if created is not None:
            started.append(created)
    return started


def _replace(writer: DatabaseWriter, current: dict[str, Value], fields: dict[str, Value]) -> None:
    current_id = current["_id"]
    assert isinstance(current_id, str)
    transaction_of(writer).replace_system(current_id, fields)

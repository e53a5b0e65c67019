"""System tables: documents the library keeps beside the app's own, under names that start with ``_``.

- ``_scheduled_functions``: one document per job of ``ctx.scheduler`` (and per cron run), in Convex's shape
  ``{name, args, scheduledTime, completedTime?, state: {kind, error?}}``. Apps read it with
  ``ctx.db.system.get(id)`` / ``ctx.db.system.query("_scheduled_functions")``; only the library writes it.
- ``_cron_jobs``: one document per cron job of ``functions/crons.py``: its schedule, the time of its next run and
  the job of its current run.

Besides ``by_creation_time``, each has indexes the scheduler reads instead of scanning: jobs by
``(state.kind, scheduledTime)`` (the pending ones due first) and by ``(completedTime)`` (the finished ones, oldest
first: what the retention sweep deletes), crons by ``(name)``.

Example:
    >>> SCHEDULED_FUNCTIONS in SYSTEM_INDEXES
    True
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "BY_COMPLETION",
    "BY_NAME",
    "BY_STATE",
    "CRON_JOBS",
    "SCHEDULED_FUNCTIONS",
    "SYSTEM_INDEXES",
    "is_system_table",
]

SCHEDULED_FUNCTIONS: Final = "_scheduled_functions"
CRON_JOBS: Final = "_cron_jobs"

#: Jobs by state, then by the time they are due: ``eq("state.kind", "pending").lte("scheduledTime", now)``.
BY_STATE: Final = "by_state"
#: Jobs by the time they finished (success, failure, cancel): ``gte("completedTime", -inf).lt(..., cutoff)``.
#: Unfinished jobs have no ``completedTime`` (indexed as missing, before every number), so such a range never
#: holds one. A single field, so moving between pending and in progress leaves the entry as it is.
BY_COMPLETION: Final = "by_completion"
#: Cron jobs by name.
BY_NAME: Final = "by_name"

#: Each system table's indexes (besides ``by_creation_time``): name -> fields.
SYSTEM_INDEXES: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    SCHEDULED_FUNCTIONS: {BY_STATE: ("state.kind", "scheduledTime"), BY_COMPLETION: ("completedTime",)},
    CRON_JOBS: {BY_NAME: ("name",)},
}


def is_system_table(table: str) -> bool:
    """True for the names of system tables (they start with ``_``)."""
    return table.startswith("_")

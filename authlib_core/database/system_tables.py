"""System tables: documents the library keeps beside the app's own, under names that start with ``_``.

- ``_scheduled_functions``: one document per job of ``ctx.scheduler`` (and per cron run), in Convex's shape
  ``{name, args, scheduledTime, completedTime?, state: {kind, error?}}``. Apps read it with
  ``ctx.db.system.get(id)`` / ``ctx.db.system.query("_scheduled_functions")``; only the library writes it.
- ``_cron_jobs``: one document per cron job of ``functions/crons.py``: its schedule, the time of its next run and
  the job of its current run.

Besides ``by_creation_time``, each has an index the scheduler reads instead of scanning: jobs by
``(state.kind, scheduledTime)`` (the pending ones due first) and crons by ``(name)``.

Example:
    >>> SCHEDULED_FUNCTIONS in SYSTEM_INDEXES
    True
"""

from __future__ import annotations

from typing import Final

__all__ = ["BY_NAME", "BY_STATE", "CRON_JOBS", "SCHEDULED_FUNCTIONS", "SYSTEM_INDEXES", "is_system_table"]

SCHEDULED_FUNCTIONS: Final = "_scheduled_functions"
CRON_JOBS: Final = "_cron_jobs"

#: Jobs by state, then by the time they are due: ``eq("state.kind", "pending").lte("scheduledTime", now)``.
BY_STATE: Final = "by_state"
#: Cron jobs by name.
BY_NAME: Final = "by_name"

#: Each system table's indexes (besides ``by_creation_time``): name -> fields.
SYSTEM_INDEXES: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    SCHEDULED_FUNCTIONS: {BY_STATE: ("state.kind", "scheduledTime")},
    CRON_JOBS: {BY_NAME: ("name",)},
}


def is_system_table(table: str) -> bool:
    """True for the names of system tables (they start with ``_``)."""
    return table.startswith("_")

"""Job documents of ``_scheduled_functions``: created, read and moved between states by the library only.

A job is ``{name, args: [argsObject], scheduledTime, completedTime?, state}`` where ``state`` is one of
``{"kind": "pending"}``, ``{"kind": "inProgress"}``, ``{"kind": "success"}``, ``{"kind": "failed", "error": msg}``,
``{"kind": "canceled"}`` (Convex's shape). Every function here works inside a transaction: a job written from a
mutation commits with it, or not at all.

Example:
    >>> job_id = create_job(writer, "emails:send", {"to": "a@b.c"}, scheduled_time=1.7e12)  # doctest: +SKIP
    >>> due_jobs(reader, now_ms=1.8e12, limit=10)[0]["_id"] == job_id  # doctest: +SKIP
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Literal

from authlib_core.database.access import transaction_of
from authlib_core.database.system_tables import BY_COMPLETION, BY_STATE, SCHEDULED_FUNCTIONS

if TYPE_CHECKING:
    from collections.abc import Mapping

    from authlib_core.database.access import DatabaseReader, DatabaseWriter
    from authlib_core.values import Value

__all__ = [
    "FINAL_STATES",
    "JobState",
    "create_job",
    "delete_finished_job",
    "due_jobs",
    "finished_jobs_page",
    "get_job",
    "job_args",
    "job_name",
    "jobs_in_state",
    "set_job_state",
]

JobState = Literal["pending", "inProgress", "success", "failed", "canceled"]
#: States a job never leaves.
FINAL_STATES: Final = frozenset({"success", "failed", "canceled"})


def create_job(
    writer: DatabaseWriter,
    name: str,
    args: Mapping[str, Value],
    *,
    scheduled_time: float,
    canceled_at: float | None = None,
) -> str:
    """Insert a pending job (``canceled`` when ``canceled_at`` is given) and return its id."""
    document: dict[str, Value] = {"name": name, "args": [dict(args)], "scheduledTime": scheduled_time}
    if canceled_at is None:
        document["state"] = {"kind": "pending"}
    else:
        document["state"] = {"kind": "canceled"}
        document["completedTime"] = canceled_at
    return transaction_of(writer).insert_system(SCHEDULED_FUNCTIONS, document)


def get_job(reader: DatabaseReader, job_id: str) -> dict[str, Value] | None:
    """The job document, or None when there is no such job (never created, or deleted)."""
    job = transaction_of(reader).get(job_id)
    if job is not None and transaction_of(reader).id_table(job_id) != SCHEDULED_FUNCTIONS:
        return None
    return job


def set_job_state(
    writer: DatabaseWriter,
    job: Mapping[str, Value],
    kind: JobState,
    *,
    now_ms: float | None = None,
    error: str | None = None,
    started_ms: float | None = None,
) -> dict[str, Value]:
    """Move ``job`` to state ``kind`` (``completedTime = now_ms`` for a final state); returns the new document.

    ``error`` goes into a ``failed`` state; ``started_ms`` into an ``inProgress`` one (``startedTime``: when an
    action's runner took it, so a runner that died can be told from one still running).
    """
    state: dict[str, Value] = {"kind": kind}
    if error is not None:
        state["error"] = error
    if started_ms is not None:
        state["startedTime"] = started_ms
    fields: dict[str, Value] = {k: v for k, v in job.items() if k not in ("_id", "_creationTime", "completedTime")}
    fields["state"] = state
    if kind in FINAL_STATES and now_ms is not None:
        fields["completedTime"] = now_ms
    job_id = job["_id"]
    assert isinstance(job_id, str)
    transaction_of(writer).replace_system(job_id, fields)
    return {"_id": job_id, "_creationTime": job["_creationTime"], **fields}


def due_jobs(reader: DatabaseReader, *, now_ms: float, limit: int) -> list[dict[str, Value]]:
    """Up to ``limit`` pending jobs due at ``now_ms``, earliest first (one index range: no scan of the table)."""
    return (
        reader.system.query(SCHEDULED_FUNCTIONS)
        .with_index(BY_STATE, lambda q: q.eq("state.kind", "pending").lte("scheduledTime", now_ms))
        .take(limit)
    )


def jobs_in_state(reader: DatabaseReader, kind: JobState, *, limit: int) -> list[dict[str, Value]]:
    """Up to ``limit`` jobs in state ``kind``, by ``scheduledTime``."""
    return reader.system.query(SCHEDULED_FUNCTIONS).with_index(BY_STATE, lambda q: q.eq("state.kind", kind)).take(limit)


def finished_jobs_page(
    reader: DatabaseReader, *, before_ms: float, cursor: str | None, limit: int
) -> tuple[list[dict[str, Value]], str | None]:
    """Up to ``limit`` jobs that finished before ``before_ms``, oldest first, and the cursor of the next page
    (None at the end). One range of the ``by_completion`` index: unfinished jobs have no ``completedTime`` and are
    never in it."""
    page = (
        reader.system.query(SCHEDULED_FUNCTIONS)
        .with_index(BY_COMPLETION, lambda q: q.gte("completedTime", float("-inf")).lt("completedTime", before_ms))
        .paginate({"numItems": limit, "cursor": cursor})
    )
    following = page["continueCursor"]
    return list(page["page"]), None if page["isDone"] or not isinstance(following, str) else following


def delete_finished_job(writer: DatabaseWriter, job_id: str, *, before_ms: float) -> bool:
    """Delete the job ``job_id`` if it is finished (success, failed, canceled) since before ``before_ms``.

    The document itself is checked, not only the index entry that led to it: a pending or running job, or one
    finished later, is never deleted. Returns whether it was deleted (False: gone already, or not eligible).
    """
    job = get_job(writer, job_id)
    if job is None:
        return False
    state = job.get("state")
    completed = job.get("completedTime")
    if not isinstance(state, dict) or state.get("kind") not in FINAL_STATES:
        return False
    if not isinstance(completed, float | int) or isinstance(completed, bool) or not completed < before_ms:
        return False
    transaction_of(writer).delete_system(job_id)
    return True


def job_name(job: Mapping[str, Value]) -> str:
    """The path of the function a job (or a cron job) runs."""
    name = job.get("name") if "function" not in job else job["function"]
    if not isinstance(name, str):
        raise TypeError(f"job {job.get('_id')!r} has no function path")
    return name


def job_args(job: Mapping[str, Value]) -> dict[str, Value]:
    """The arguments object of a job (or a cron job): stored as ``args: [{...}]``, as Convex does."""
    args = job.get("args")
    first = args[0] if isinstance(args, list) and args else None
    if not isinstance(first, dict):
        raise TypeError(f"job {job.get('_id')!r} has malformed args {args!r}")
    return first

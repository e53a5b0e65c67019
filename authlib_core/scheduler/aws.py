"""Scheduled functions and cron jobs on AWS: an SQS delay queue for jobs due soon, a one-minute tick for the rest.

Three paths hand a job to the queue ``AUTHLIB_JOB_QUEUE_URL`` (a message ``{"jobId"}`` whose ``DelaySeconds`` is
the time left, at most 15 minutes); the runner function consumes it:

- **at commit** (:func:`attach_job_queue`): a function that schedules a job due within :data:`NEAR_MS` sends it
  right after its mutation commits (a commit listener; nothing is sent for a mutation that did not commit);
- **the tick** (:func:`tick`, every minute, EventBridge Scheduler): syncs ``_cron_jobs`` with the deployed
  ``crons.py``, creates the jobs of cron runs due within two minutes (their commits send them), and sends every
  pending job due in
  ``[now + 1 min, now + 2 min)`` — each job falls into exactly one tick's window — plus, as a safety net, every
  job overdue by more than :data:`OVERDUE_MS` (a message lost with a crashed function, a run that failed on a
  storage outage). It also records as failed the actions whose runner died (``inProgress`` for longer than the
  runner's timeout), and deletes finished jobs past their retention (:mod:`.retention`, a bounded amount per tick).
  Every read is a ``Query`` of a ``_scheduled_functions`` index, never a ``Scan``;
- **after a cron run** (:func:`handle_messages`): the next run of that cron is created (and so sent) at once, so
  an interval shorter than the tick keeps its pace.

A message may arrive twice or for a job already done: the runner only runs a job that is still ``pending``, in the
transaction that records its outcome (:class:`~authlib_core.scheduler.runner.JobRunner`), so duplicates cost one
read. The queue delivers up to a second early (``DelaySeconds`` is whole seconds, rounded down); the runner sleeps
the rest. docs/scheduler.md has the design, its limits and its cost per job.

Example (what Lambda does)::

    >>> tick_handler({}, context)                                         # doctest: +SKIP
    {'crons': ['nightly report'], 'sent': 3, 'recovered': 0, 'deleted': 16}
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any, Final

from authlib_core.database.jobs import get_job, job_name
from authlib_core.database.system_tables import BY_STATE, SCHEDULED_FUNCTIONS
from authlib_core.errors import ConfigError, SystemFailure
from authlib_core.scheduler.crons import cron_documents, start_due_crons, sync_crons
from authlib_core.scheduler.retention import delete_expired_jobs
from authlib_core.scheduler.runner import JobRunner
from authlib_core.values import index_key

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from authlib_core.database.readset import Write, WriteSet
    from authlib_core.functions import Database, DatabaseReader
    from authlib_core.runtime import Runtime
    from authlib_core.values import Value

__all__ = [
    "NEAR_MS",
    "OVERDUE_MS",
    "QUEUE_URL_ENV",
    "JobQueue",
    "attach_job_queue",
    "handle_messages",
    "run_handler",
    "tick",
    "tick_handler",
]

logger = logging.getLogger("authlib_core.scheduler")

#: The environment variable naming the queue (template.yaml sets it on every function that schedules).
QUEUE_URL_ENV: Final = "AUTHLIB_JOB_QUEUE_URL"
#: How long the runner function may run an action (its Lambda timeout); an action ``inProgress`` longer than this
#: plus a minute is one whose runner died.
RUNNER_TIMEOUT_ENV: Final = "AUTHLIB_JOB_RUNNER_TIMEOUT"
#: The tick's period.
TICK_MS: Final = 60_000
#: Jobs due within this much of their commit are sent at commit; later ones by the tick of their window.
NEAR_MS: Final = 2 * TICK_MS
#: A pending job this late is sent again by every tick (its message was lost, or its run failed on an outage).
OVERDUE_MS: Final = 60_000
#: SQS's longest delay (15 minutes).
MAX_DELAY_S: Final = 900
#: Jobs read per page by the tick (many thousands due in one minute are read page by page).
PAGE: Final = 500
#: The most finished jobs one tick deletes, and the longest it spends on them (a backlog takes several ticks).
SWEEP_MAX_JOBS: Final = 2000
SWEEP_BUDGET_S: Final = 15.0
#: Seconds of the tick's invocation the sweep leaves unused (its last batch, the log line).
TICK_RESERVE_S: Final = 10.0


class JobQueue:
    """The SQS queue that wakes the runner: ``send`` hands jobs over with the delay left until they are due.

    Example:
        >>> queue = JobQueue("https://sqs.us-east-1.amazonaws.com/123456789012/jobs")   # doctest: +SKIP
        >>> queue.send([("job-id", 1796133722008.0)], now_ms=1796133700000.0)           # doctest: +SKIP
    """

    def __init__(self, url: str, *, client: Any = None, region: str | None = None) -> None:
        if not url.startswith("https://") and not url.startswith("http://"):
            raise ConfigError(f"{QUEUE_URL_ENV} must be an SQS queue URL (https://sqs....), got {url!r}.")
        self.url = url
        self._client = client
        self._region = region
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> JobQueue | None:
        """The queue ``AUTHLIB_JOB_QUEUE_URL`` names, or None when it is not set (no scheduler on AWS)."""
        env = os.environ if env is None else env
        url = env.get(QUEUE_URL_ENV, "").strip()
        return cls(url, region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")) if url else None

    @property
    def client(self) -> Any:
        """The SQS client (created on first use: functions that never schedule never load it)."""
        with self._lock:
            if self._client is None:
                import botocore.session  # botocore alone: boto3 is not shipped (docs/deploy.md, "Packaging")

                self._client = botocore.session.get_session().create_client("sqs", region_name=self._region)
            return self._client

    def send(self, jobs: Iterable[tuple[str, float]], *, now_ms: float) -> int:
        """Send ``(job id, due ms)`` pairs, 10 per request; returns how many were accepted.

        Raises:
            SystemFailure: SQS refused some of them (the tick's overdue sweep sends them again).
        """
        entries = [
            {
                "Id": f"m{index}",
                "MessageBody": json.dumps({"jobId": job_id}),
                "DelaySeconds": max(0, min(MAX_DELAY_S, math.floor((due - now_ms) / 1000.0))),
            }
            for index, (job_id, due) in enumerate(jobs)
        ]
        failed: list[Any] = []
        for start in range(0, len(entries), 10):
            answer = self.client.send_message_batch(QueueUrl=self.url, Entries=entries[start : start + 10])
            failed.extend(answer.get("Failed", []))
        if failed:
            raise _QueueError(f"SQS refused {len(failed)} of {len(entries)} job messages: {failed[0]}")
        return len(entries)


class _QueueError(SystemFailure):
    code = "StorageUnavailable"


# -- at commit ---------------------------------------------------------------------------------------------------


def attach_job_queue(runtime: Runtime, queue: JobQueue | None) -> None:
    """Send the jobs each commit of ``runtime``'s database schedules for soon (within :data:`NEAR_MS`).

    A failure to send is logged, never raised: the commit stands, and the tick sends the job once it is overdue.
    Attaching a database a second time does nothing.
    """
    if queue is None or runtime.database in _attached:
        return
    database = runtime.database
    _attached[database] = queue

    def on_commit(writes: WriteSet) -> None:
        created = [write.id for write in writes.writes if write.table == SCHEDULED_FUNCTIONS and _became_pending(write)]
        if not created:
            return
        try:
            now = database.now_ms()
            jobs = database.run_query(lambda reader: _pending_due(reader, created, now + NEAR_MS))
            if jobs:
                queue.send(jobs, now_ms=now)
        except Exception:
            logger.exception("could not hand %d job(s) to the queue; the scheduler tick will", len(created))

    database.commit_listeners.append(on_commit)


#: The databases whose commits already hand jobs to a queue.
_attached: weakref.WeakKeyDictionary[Database, JobQueue] = weakref.WeakKeyDictionary()

#: How every ``by_state`` key of a pending job starts (the encoded first key component, ``"pending"``).
_PENDING_PREFIX: Final = index_key(["pending"])


def _became_pending(write: Write) -> bool:
    before, after = write.keys.get(BY_STATE, (None, None))
    return after is not None and after.startswith(_PENDING_PREFIX) and not (before or b"").startswith(_PENDING_PREFIX)


def _pending_due(reader: DatabaseReader, job_ids: list[str], until_ms: float) -> list[tuple[str, float]]:
    found: list[tuple[str, float]] = []
    for job_id in job_ids:
        job = get_job(reader, job_id)
        if job is None or job["state"] != {"kind": "pending"}:
            continue
        due = job["scheduledTime"]
        if isinstance(due, float | int) and due <= until_ms:
            found.append((job_id, float(due)))
    return found


# -- the tick -------------------------------------------------------------------------------------------------


def _pending_between(database: Database, low: float | None, high: float) -> list[tuple[str, float]]:
    """Every pending job with ``low <= scheduledTime < high``, page by page (index ranges only)."""
    found: list[tuple[str, float]] = []
    cursor: Value = None
    while True:

        def page(reader: DatabaseReader, cursor: Value = cursor) -> dict[str, Any]:
            query = reader.system.query(SCHEDULED_FUNCTIONS).with_index(
                BY_STATE,
                lambda q: (
                    q.eq("state.kind", "pending")
                    if low is None
                    else q.eq("state.kind", "pending").gte("scheduledTime", low)
                ).lt("scheduledTime", high),
            )
            return dict(query.paginate({"numItems": PAGE, "cursor": cursor}))

        result = database.run_query(page)
        for job in result["page"]:
            found.append((str(job["_id"]), float(job["scheduledTime"])))
        if result["isDone"]:
            return found
        cursor = result["continueCursor"]


def tick(
    runtime: Runtime,
    queue: JobQueue,
    *,
    runner_timeout_s: float = 900.0,
    sweep_max_jobs: int = SWEEP_MAX_JOBS,
    sweep_budget_s: float = SWEEP_BUDGET_S,
    time_left_s: Callable[[], float] | None = None,
) -> dict[str, Any]:
    """One minute's work (see the module docstring); returns what it did, for the log.

    The retention sweep comes last and is bounded by ``sweep_max_jobs`` and ``sweep_budget_s``; a failure of it
    is logged and retried by the next tick, and never keeps due jobs from being sent. ``time_left_s`` (the Lambda
    invocation's remaining seconds) shortens it so that :data:`TICK_RESERVE_S` are always left.
    """
    database = runtime.database
    attach_job_queue(runtime, queue)  # the cron runs started below go to the queue as they commit
    changed = sync_crons(database, runtime.app.crons)
    now = database.now_ms()
    crons = start_due_crons(database, until_ms=now + NEAR_MS)
    recovered = JobRunner(runtime.executor).recover(started_before_ms=now - runner_timeout_s * 1000.0 - TICK_MS)
    window = _pending_between(database, now + TICK_MS, now + NEAR_MS)
    overdue = _pending_between(database, None, now - OVERDUE_MS)
    jobs = {**dict(overdue), **dict(window)}
    sent = queue.send(sorted(jobs.items(), key=lambda item: item[1]), now_ms=now) if jobs else 0
    deleted: int | None = None
    retention = runtime.settings.job_retention
    budget = sweep_budget_s if time_left_s is None else min(sweep_budget_s, time_left_s() - TICK_RESERVE_S)
    if retention is not None and budget > 0:
        try:
            swept = delete_expired_jobs(database, retention_s=retention, max_jobs=sweep_max_jobs, time_budget_s=budget)
            deleted = swept.deleted
        except SystemFailure:
            logger.exception("could not delete finished jobs past their retention; the next tick tries again")
    return {
        "cronsChanged": changed,
        "cronsStarted": [name for name, _, _ in crons],
        "sent": sent,
        "overdue": len(overdue),
        "recovered": len(recovered),
        "deleted": deleted,
    }


# -- the runner -------------------------------------------------------------------------------------------------


def handle_messages(
    runtime: Runtime, queue: JobQueue, records: list[Mapping[str, Any]], *, sleep: Callable[[float], None] = time.sleep
) -> dict[str, Any]:
    """Run the jobs of a batch of SQS records; the failures go back to the queue (``batchItemFailures``).

    A job not yet due (the delay is whole seconds, rounded down) is waited for when it is at most a few seconds
    away, else sent back with the delay left. A record whose job is not pending any more is dropped.
    """
    database = runtime.database
    attach_job_queue(runtime, queue)  # jobs the jobs schedule (and a cron's next run) go to the queue at commit
    runner = JobRunner(runtime.executor)
    failures: list[dict[str, str]] = []
    for record in records:
        message_id = str(record.get("messageId", ""))
        try:
            job_id = json.loads(record["body"])["jobId"]
            if not isinstance(job_id, str):
                raise TypeError("jobId is not a string")
        except (KeyError, TypeError, ValueError):
            logger.error("dropping a malformed job message %s", message_id)
            continue
        try:

            def read(reader: DatabaseReader, job_id: str = job_id) -> dict[str, Value] | None:
                return get_job(reader, job_id)

            job = database.run_query(read)
            if job is None or job["state"] != {"kind": "pending"}:
                continue
            due = float(job["scheduledTime"])  # type: ignore[arg-type]
            wait = (due - database.now_ms()) / 1000.0
            if wait > 5.0:
                queue.send([(job_id, due)], now_ms=database.now_ms())
                continue
            if wait > 0:
                sleep(wait)
            result = runner.run(job_id)
            if result.outcome != "skipped":
                logger.info("job %s %s: %s", job_name(job), job_id, result.outcome)
                _next_cron_run(runtime, job_id)
        except Exception:
            logger.exception("job %s could not run now; the queue will deliver it again", job_id)
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


def _next_cron_run(runtime: Runtime, job_id: str) -> None:
    """After a cron's run, create its next run if it is due soon (short intervals keep their pace); the commit
    hands it to the queue."""
    database = runtime.database
    if any(doc.get("lastJob") == job_id for doc in database.run_query(cron_documents)):
        start_due_crons(database, until_ms=database.now_ms() + NEAR_MS)


# -- Lambda entry points --------------------------------------------------------------------------------------------

_state: dict[str, Any] = {}
_state_lock = threading.Lock()


def _runtime_and_queue() -> tuple[Runtime, JobQueue]:
    with _state_lock:
        if "runtime" not in _state:
            from authlib_core.config import Settings
            from authlib_core.runtime import build_runtime

            queue = JobQueue.from_env()
            if queue is None:
                raise ConfigError(f"{QUEUE_URL_ENV} is not set: the scheduler functions need the job queue's URL.")
            runtime = build_runtime(Settings.from_env())
            _state.update(runtime=runtime, queue=queue)
        return _state["runtime"], _state["queue"]


def tick_handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """The EventBridge Scheduler target (every minute)."""
    runtime, queue = _runtime_and_queue()
    timeout = float(os.environ.get(RUNNER_TIMEOUT_ENV, "900"))
    getter = getattr(context, "get_remaining_time_in_millis", None)
    time_left = (lambda: getter() / 1000.0) if callable(getter) else None
    report = tick(runtime, queue, runner_timeout_s=timeout, time_left_s=time_left)
    logger.info("scheduler tick: %s", report)
    return report


def run_handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """The SQS event source's target: run the jobs of a batch (partial failures reported)."""
    runtime, queue = _runtime_and_queue()
    return handle_messages(runtime, queue, list(event.get("Records", [])))

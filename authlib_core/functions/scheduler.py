"""``ctx.scheduler``: run a mutation or an action later — ``run_after``, ``run_at``, ``cancel``.

In a mutation the job document is a write of the mutation's transaction: it exists only if the mutation commits
(and a mutation that re-runs on a conflict schedules once). In an action each call commits at once, whatever the
action does afterwards. Jobs are documents of the system table ``_scheduled_functions``
(``ctx.db.system.get(job_id)``); the scheduler's runner (:mod:`authlib_core.scheduler`) runs them when due.

Example:
    >>> from authlib_core import internal_action, mutation
    >>> @mutation
    ... def sign_up(ctx, email: str):
    ...     user_id = ctx.db.insert("users", {"email": email})
    ...     ctx.scheduler.run_after(0, "emails:welcome", {"userId": user_id})
    ...     return user_id

Common mistake: scheduling an action to do what the mutation could do itself. Schedule actions for side effects
(email, HTTP calls); a mutation's own writes are already atomic.
"""

from __future__ import annotations

import datetime
import logging
import math
import threading
from typing import TYPE_CHECKING, Any, Final

from authlib_core.database.jobs import FINAL_STATES, create_job, get_job, set_job_state
from authlib_core.database.system_tables import SCHEDULED_FUNCTIONS
from authlib_core.errors import FunctionError, InvalidValueError
from authlib_core.functions.kinds import Kind
from authlib_core.values import Value, dumps, encode, to_value

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from authlib_core.functions.ports import Database, DatabaseWriter
    from authlib_core.functions.registry import FunctionRef, Registry

__all__ = ["MAX_ARGS_BYTES", "MAX_DELAY_MS", "MAX_JOBS_PER_TRANSACTION", "ScheduleError", "Scheduler"]

logger = logging.getLogger("authlib_core.scheduler")

#: Jobs one mutation (or one action call) may schedule (Convex: 1000).
MAX_JOBS_PER_TRANSACTION: Final = 1000
#: A job's time may be at most this far from now, either way (Convex: 5 x 366 days).
MAX_DELAY_MS: Final = 5 * 366 * 24 * 3600 * 1000.0
#: The encoded arguments of one job. The job is one document, and a document fits one DynamoDB item.
MAX_ARGS_BYTES: Final = 256 * 1024
#: Distinct (function, delay) pairs the millisecond-delay warning is logged for, per process, before it stops.
_MAX_DELAY_WARNINGS: Final = 1000
_delay_warnings: set[tuple[str, float]] = set()
_delay_warnings_lock = threading.Lock()


class ScheduleError(FunctionError):
    """A ``ctx.scheduler`` call that cannot be honoured: bad time, unknown target, too many jobs, bad id."""

    code = "InvalidScheduledFunction"


class Scheduler:
    """What ``ctx.scheduler`` is in mutations and actions.

    Built by the executor: ``write`` runs a job write in the mutation's transaction (mutations) or in a
    transaction of its own (actions).
    """

    __slots__ = ("_count", "_now_ms", "_registry", "_write")

    def __init__(
        self,
        registry: Registry,
        write: Callable[[Callable[[DatabaseWriter], Any]], Any],
        now_ms: Callable[[], float],
    ) -> None:
        self._registry = registry
        self._write = write
        self._now_ms = now_ms
        self._count = 0

    @classmethod
    def in_transaction(cls, registry: Registry, writer: DatabaseWriter, database: Database) -> Scheduler:
        """The scheduler of a mutation: jobs are writes of ``writer``'s transaction."""
        return cls(registry, lambda write: write(writer), database.now_ms)

    @classmethod
    def immediate(cls, registry: Registry, database: Database) -> Scheduler:
        """The scheduler of an action: each call commits on its own."""
        return cls(registry, database.run_mutation, database.now_ms)

    def run_after(
        self, delay_seconds: float | datetime.timedelta, fn: FunctionRef, args: Mapping[str, Any] | None = None
    ) -> str:
        """Run ``fn(args)`` ``delay_seconds`` from now; returns the job's id (a ``_scheduled_functions`` id).

        ``delay_seconds`` counts **seconds** (Convex's ``runAfter`` counts milliseconds), or is a
        ``datetime.timedelta``. ``fn`` is a mutation or an action (internal ones too): the definition object or its
        path (``"emails:welcome"``). ``run_after(0, ...)`` runs right after this mutation commits.

        A number of seconds that reads as milliseconds -- a whole multiple of 1000 (``5000``, ``60_000``) -- is
        scheduled as given and logs a warning (logger ``authlib_core.scheduler``, once per process for each
        function and delay) naming the function, the delay in seconds and minutes, and Convex's unit. Pass a
        ``timedelta`` to schedule such a delay on purpose without the warning.

        Example:
            >>> job_id = ctx.scheduler.run_after(60, "reminders:send", {"userId": user_id})  # doctest: +SKIP
            >>> ctx.scheduler.run_after(timedelta(hours=10), "reports:daily")  # doctest: +SKIP

        Raises:
            ScheduleError: the delay is not a finite number >= 0 (or too far), ``fn`` is not a mutation or action,
                the arguments are too large, or this transaction already scheduled 1000 jobs.
        """
        explicit = isinstance(delay_seconds, datetime.timedelta)
        if isinstance(delay_seconds, datetime.timedelta):
            delay_seconds = delay_seconds.total_seconds()
        if isinstance(delay_seconds, bool) or not isinstance(delay_seconds, int | float):
            raise ScheduleError(
                f"run_after: delay_seconds must be a number of seconds or a datetime.timedelta, got {delay_seconds!r}."
            )
        if not math.isfinite(delay_seconds) or delay_seconds < 0:
            raise ScheduleError(f"run_after: delay_seconds must be a finite number >= 0, got {delay_seconds!r}.")
        job_id, path = self._schedule(self._now_ms() + delay_seconds * 1000.0, fn, args)
        if not explicit and _reads_as_milliseconds(delay_seconds):
            _warn_milliseconds(path, delay_seconds)
        return job_id

    def run_at(self, timestamp_ms: float, fn: FunctionRef, args: Mapping[str, Any] | None = None) -> str:
        """Run ``fn(args)`` at ``timestamp_ms`` (milliseconds since the epoch, like ``_creationTime``).

        A time in the past runs as soon as possible; ``scheduledTime`` keeps the time given.

        Example:
            >>> ctx.scheduler.run_at(trial_ends_ms, "billing:endTrial", {"userId": user_id})  # doctest: +SKIP
        """
        if isinstance(timestamp_ms, bool) or not isinstance(timestamp_ms, int | float):
            raise ScheduleError(
                f"run_at: timestamp_ms must be milliseconds since the epoch (a number), got {timestamp_ms!r}."
            )
        if not math.isfinite(timestamp_ms):
            raise ScheduleError(f"run_at: timestamp_ms must be finite, got {timestamp_ms!r}.")
        return self._schedule(float(timestamp_ms), fn, args)[0]

    def cancel(self, job_id: str) -> None:
        """Cancel a job: a pending one never runs; a running action finishes but is recorded ``canceled``.

        Canceling a job that already finished does nothing.

        Raises:
            ScheduleError: ``job_id`` is not an id of ``_scheduled_functions``.
        """

        def write(writer: DatabaseWriter) -> None:
            job = get_job(writer, job_id) if isinstance(job_id, str) and _is_job_id(writer, job_id) else None
            if job is None:
                raise ScheduleError(
                    f"cancel: {job_id!r} is not the id of a scheduled function (ids come from run_after / run_at)."
                )
            state = job["state"]
            assert isinstance(state, dict)
            if state["kind"] not in FINAL_STATES:
                set_job_state(writer, job, "canceled", now_ms=self._now_ms())

        self._write(write)

    def _schedule(self, when_ms: float, fn: FunctionRef, args: Mapping[str, Any] | None) -> tuple[str, str]:
        """Write the job; returns its id and the scheduled function's path."""
        now = self._now_ms()
        if abs(when_ms - now) > MAX_DELAY_MS:
            raise ScheduleError(
                f"Cannot schedule a function more than 5 years from now (asked for {when_ms:.0f} ms since the epoch)."
            )
        function = self._registry.resolve(fn, public_only=False)
        kind = function.definition.kind
        if kind is Kind.QUERY:
            raise ScheduleError(
                f"{function.path} is a query; only mutations and actions can be scheduled (a query changes nothing)."
            )
        value = _arguments(args, function.path)
        size = len(dumps(encode(value, "convex_encoded_json")).encode())
        if size > MAX_ARGS_BYTES:
            raise ScheduleError(
                f"The arguments of {function.path} take {size} bytes encoded; a scheduled function's arguments are "
                f"limited to {MAX_ARGS_BYTES} bytes. Store large data in a document and pass its id."
            )
        if self._count >= MAX_JOBS_PER_TRANSACTION:
            raise ScheduleError(
                f"Too many functions scheduled in one transaction (limit: {MAX_JOBS_PER_TRANSACTION}). Schedule one "
                "job that schedules the rest in batches."
            )
        self._count += 1
        job_id: str = self._write(lambda writer: create_job(writer, function.path, value, scheduled_time=when_ms))
        return job_id, function.path


def _reads_as_milliseconds(delay_seconds: float) -> bool:
    """Whether a delay in seconds looks like a Convex millisecond count: a whole multiple of 1000 (>= 1000)."""
    return delay_seconds >= 1000 and delay_seconds % 1000 == 0


def _warn_milliseconds(path: str, delay_seconds: float) -> None:
    """Log, once per process for each (function, delay), that a delay was taken as seconds."""
    key = (path, float(delay_seconds))
    with _delay_warnings_lock:
        if key in _delay_warnings or len(_delay_warnings) >= _MAX_DELAY_WARNINGS:
            return
        _delay_warnings.add(key)
    seconds = f"{delay_seconds:.0f}"
    logger.warning(
        "ctx.scheduler.run_after(%s, %s) scheduled %s in %s seconds (%s minutes from now): run_after takes seconds, "
        "while Convex's runAfter takes milliseconds. If you meant %s seconds, write run_after(%s, ...); to schedule "
        "%s seconds on purpose without this warning, pass datetime.timedelta(seconds=%s).",
        seconds,
        repr(path),
        path,
        seconds,
        f"{delay_seconds / 60:,.1f}",
        f"{delay_seconds / 1000:g}",
        f"{delay_seconds / 1000:g}",
        seconds,
        seconds,
    )


def _arguments(args: Mapping[str, Any] | None, path: str) -> dict[str, Value]:
    try:
        value = to_value({} if args is None else args)
    except InvalidValueError as exc:
        raise ScheduleError(f"The arguments for scheduling {path} are not Convex values: {exc.message}") from None
    if not isinstance(value, dict):
        raise ScheduleError(f"The arguments for scheduling {path} must be a dict, got {type(args).__name__}.")
    return value


def _is_job_id(writer: DatabaseWriter, job_id: str) -> bool:
    return writer.normalize_id(SCHEDULED_FUNCTIONS, job_id) is not None

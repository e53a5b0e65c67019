"""Cron jobs: ``functions/crons.py`` declares what runs on a schedule.

Example:
    >>> from authlib_core import cron_jobs
    >>> crons = cron_jobs()
    >>> crons.interval("clear presence", {"minutes": 5}, "presence:clear")
    >>> crons.daily("nightly report", {"hourUTC": 3, "minuteUTC": 30}, "reports:nightly", {"full": True})
    >>> crons.cron("every weekday at 9", "0 9 * * 1-5", "reports:morning")
    >>> [(job.name, job.schedule) for job in crons]  # doctest: +NORMALIZE_WHITESPACE
    [('clear presence', {'type': 'interval', 'seconds': 300}),
     ('nightly report', {'type': 'cron', 'cron': '30 3 * * *'}),
     ('every weekday at 9', {'type': 'cron', 'cron': '0 9 * * 1-5'})]

Times are UTC. Every schedule becomes either an interval in seconds or a five-field cron expression
(``minute hour day-of-month month day-of-week``, Sunday = 0), checked when the module is loaded: an expression that
can never match (``0 0 31 2 *``) is refused. A cron job's function is a mutation or an action (internal ones too),
given as its definition or its ``"module:function"`` path; it runs without an identity, like any scheduled job.
A run still going when the next is due makes that next run be skipped (never two runs of one cron at once).

Common mistake: a name used twice. Names identify cron jobs across deploys (renaming one starts it afresh), so
each must be unique; the second declaration raises.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from authlib_core.errors import InvalidValueError
from authlib_core.values import Value, to_value

if TYPE_CHECKING:
    from authlib_core.functions.registry import FunctionRef

__all__ = ["CronJob", "Crons", "cron_jobs", "next_cron_time"]

_UNITS: Final = {"seconds": 1, "minutes": 60, "hours": 3600}
_DAYS: Final = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
#: Cron names: printable ASCII, at most this long.
MAX_NAME_LENGTH: Final = 128


@dataclasses.dataclass(frozen=True, slots=True)
class CronJob:
    """One declared cron job: ``schedule`` is ``{"type": "interval", "seconds": n}`` or
    ``{"type": "cron", "cron": "m h dom mon dow"}``; ``function`` is what was given (resolved at load)."""

    name: str
    schedule: dict[str, Value]
    function: FunctionRef
    args: dict[str, Value]


class Crons:
    """What :func:`cron_jobs` returns: add jobs with the methods below; iterate to read them back."""

    __slots__ = ("_jobs",)

    def __init__(self) -> None:
        self._jobs: dict[str, CronJob] = {}

    def __iter__(self) -> Iterator[CronJob]:
        return iter(self._jobs.values())

    def __len__(self) -> int:
        return len(self._jobs)

    def interval(
        self, name: str, every: Mapping[str, int], fn: FunctionRef, args: Mapping[str, Any] | None = None
    ) -> None:
        """Run ``fn`` every ``{"seconds": n}``, ``{"minutes": n}`` or ``{"hours": n}`` (exactly one, n >= 1).

        The first run is when the cron is first deployed (or the dev server first starts with it); then every n
        units after the previous run's time.
        """
        if not isinstance(every, Mapping) or len(every) != 1 or next(iter(every)) not in _UNITS:
            raise ValueError(
                f"crons.interval({name!r}): give exactly one of {{'seconds': n}}, {{'minutes': n}}, {{'hours': n}}; "
                f"got {every!r}."
            )
        ((unit, count),) = every.items()
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"crons.interval({name!r}): {unit} must be a whole number >= 1, got {count!r}.")
        self._add(name, {"type": "interval", "seconds": count * _UNITS[unit]}, fn, args)

    def cron(self, name: str, expression: str, fn: FunctionRef, args: Mapping[str, Any] | None = None) -> None:
        """Run ``fn`` at the times of a five-field cron expression (UTC), e.g. ``"*/15 9-17 * * 1-5"``."""
        if not isinstance(expression, str) or len(expression.split()) != 5:
            raise ValueError(
                f"crons.cron({name!r}): {expression!r} is not a cron expression of five fields "
                "(minute hour day-of-month month day-of-week)."
            )
        expression = " ".join(expression.split())
        next_cron_time(expression, 0.0, name=name)  # raises for a bad or never-matching expression
        self._add(name, {"type": "cron", "cron": expression}, fn, args)

    def hourly(
        self, name: str, at: Mapping[str, int] | None, fn: FunctionRef, args: Mapping[str, Any] | None = None
    ) -> None:
        """Run ``fn`` every hour at ``{"minuteUTC": m}`` (``None`` or ``{}``: a fixed minute derived from ``name``)."""
        fields = _fields(name, "hourly", at, required=(), optional=("minuteUTC",))
        minute = fields.get("minuteUTC", _stable_minute(name))
        self._add(name, {"type": "cron", "cron": f"{minute} * * * *"}, fn, args)

    def daily(self, name: str, at: Mapping[str, int], fn: FunctionRef, args: Mapping[str, Any] | None = None) -> None:
        """Run ``fn`` every day at ``{"hourUTC": h, "minuteUTC": m}`` (minute optional, 0 by default)."""
        fields = _fields(name, "daily", at, required=("hourUTC",), optional=("minuteUTC",))
        self._add(name, {"type": "cron", "cron": f"{fields.get('minuteUTC', 0)} {fields['hourUTC']} * * *"}, fn, args)

    def weekly(self, name: str, at: Mapping[str, Any], fn: FunctionRef, args: Mapping[str, Any] | None = None) -> None:
        """Run ``fn`` every week at ``{"dayOfWeek": "monday", "hourUTC": h, "minuteUTC": m}`` (lower-case day)."""
        day = at.get("dayOfWeek") if isinstance(at, Mapping) else None
        if day not in _DAYS:
            raise ValueError(f"crons.weekly({name!r}): dayOfWeek must be one of {', '.join(_DAYS)}; got {day!r}.")
        rest = {key: value for key, value in at.items() if key != "dayOfWeek"}
        fields = _fields(name, "weekly", rest, required=("hourUTC",), optional=("minuteUTC",))
        cron = f"{fields.get('minuteUTC', 0)} {fields['hourUTC']} * * {_DAYS.index(str(day))}"
        self._add(name, {"type": "cron", "cron": cron}, fn, args)

    def monthly(self, name: str, at: Mapping[str, int], fn: FunctionRef, args: Mapping[str, Any] | None = None) -> None:
        """Run ``fn`` every month on ``{"day": d, "hourUTC": h, "minuteUTC": m}`` (day 1-31; months without that
        day are skipped)."""
        fields = _fields(name, "monthly", at, required=("day", "hourUTC"), optional=("minuteUTC",))
        cron = f"{fields.get('minuteUTC', 0)} {fields['hourUTC']} {fields['day']} * *"
        self._add(name, {"type": "cron", "cron": cron}, fn, args)

    def _add(self, name: str, schedule: dict[str, Value], fn: FunctionRef, args: Mapping[str, Any] | None) -> None:
        if not isinstance(name, str) or not name or len(name) > MAX_NAME_LENGTH or not name.isascii():
            raise ValueError(
                f"A cron job's name must be 1 to {MAX_NAME_LENGTH} printable ASCII characters, got {name!r}."
            )
        if not name.isprintable():
            raise ValueError(f"A cron job's name must be printable ASCII, got {name!r}.")
        if name in self._jobs:
            raise ValueError(f"Cron identifier registered twice: {name!r}. Give each cron job its own name.")
        if not isinstance(fn, str) and not callable(fn):
            raise ValueError(f"crons: {name!r} needs a function or a 'module:function' path, got {fn!r}.")
        try:
            value = to_value({} if args is None else dict(args))
        except (InvalidValueError, TypeError, ValueError) as exc:
            raise ValueError(f"crons: the arguments of {name!r} are not a dict of Convex values: {exc}") from None
        assert isinstance(value, dict)
        self._jobs[name] = CronJob(name=name, schedule=schedule, function=fn, args=value)


def cron_jobs() -> Crons:
    """A new, empty set of cron jobs; ``functions/crons.py`` assigns it to ``crons``.

    Example:
        >>> crons = cron_jobs()
        >>> crons.hourly("sweep", {"minuteUTC": 15}, "sessions:sweep")
        >>> len(crons)
        1
    """
    return Crons()


def next_cron_time(expression: str, after_ms: float, *, name: str = "") -> float:
    """The first time (ms since the epoch) strictly after ``after_ms`` that the cron expression matches (UTC).

    Example:
        >>> next_cron_time("0 * * * *", 0.0)  # 1970-01-01 01:00 UTC
        3600000.0

    Raises:
        ValueError: the expression is invalid or never matches.
    """
    from cronsim import CronSim, CronSimError  # a small pure-Python library, loaded only when crons are declared

    start = datetime.fromtimestamp(after_ms / 1000.0, tz=UTC).replace(microsecond=0)
    try:
        following = next(CronSim(expression, start))
    except (CronSimError, StopIteration) as exc:
        what = f"crons: {name!r}: " if name else ""
        raise ValueError(
            f"{what}{expression!r} is not a usable cron expression ({exc or 'it never matches'})."
        ) from None
    return following.timestamp() * 1000.0


def _fields(
    name: str, method: str, given: Mapping[str, Any] | None, *, required: tuple[str, ...], optional: tuple[str, ...]
) -> dict[str, int]:
    given = {} if given is None else given
    if not isinstance(given, Mapping):
        raise ValueError(f"crons.{method}({name!r}): the schedule must be a dict, got {given!r}.")
    unknown = sorted(set(given) - set(required) - set(optional))
    missing = [key for key in required if key not in given]
    if unknown or missing:
        raise ValueError(
            f"crons.{method}({name!r}): expected keys {', '.join((*required, *optional))}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + "."
        )
    bounds = {"minuteUTC": (0, 59), "hourUTC": (0, 23), "day": (1, 31)}
    for key, value in given.items():
        low, high = bounds[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(
                f"crons.{method}({name!r}): {key} must be a whole number from {low} to {high}, got {value!r}."
            )
    return dict(given)


def _stable_minute(name: str) -> int:
    """A minute of the hour derived from the name, so hourly jobs without a minute do not all start at :00."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:2], "big") % 60

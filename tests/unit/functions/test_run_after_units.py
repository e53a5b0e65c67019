"""``run_after`` takes seconds; a delay that reads as Convex's milliseconds is scheduled as given, with a warning."""

from __future__ import annotations

import datetime
import logging
from typing import TYPE_CHECKING, Any

import pytest

from authlib_core import internal_mutation
from authlib_core.auth import NoAuth
from authlib_core.functions import Executor, RegisteredFunction, Registry
from authlib_core.functions import scheduler as scheduler_module
from tests.support.databases import sqlite_database

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from authlib_core.database import Database


@internal_mutation
def send(ctx: Any) -> None:
    return None


REGISTRY = Registry([RegisteredFunction("emails:send", send)])


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return sqlite_database(tmp_path / "db.sqlite")


@pytest.fixture(autouse=True)
def _fresh_warnings() -> Iterator[None]:
    scheduler_module._delay_warnings.clear()
    yield
    scheduler_module._delay_warnings.clear()


def _schedule(db: Database, delay: Any) -> float:
    """Schedule ``emails:send`` from a mutation; the job's delay from the mutation's clock, in seconds."""
    executor = Executor(REGISTRY, db)

    def write(writer: Any) -> float:
        before = db.now_ms()
        job_id = executor._mutation_ctx(writer, NoAuth()).scheduler.run_after(delay, "emails:send")
        after = db.now_ms()
        job = writer.system.get(job_id)
        assert before + _seconds(delay) * 1000 <= job["scheduledTime"] <= after + _seconds(delay) * 1000
        return float(job["scheduledTime"] - before) / 1000

    return db.run_mutation(write)


def _seconds(delay: Any) -> float:
    return delay.total_seconds() if isinstance(delay, datetime.timedelta) else float(delay)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    records = caplog.records
    return [r.getMessage() for r in records if r.name == "authlib_core.scheduler" and r.levelno == logging.WARNING]


def test_a_delay_that_reads_as_milliseconds_is_scheduled_in_seconds_with_a_warning(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="authlib_core.scheduler"):
        assert _schedule(db, 5000) >= 5000  # what was asked: 5000 seconds, never silently changed
    (message,) = _warnings(caplog)
    assert message == (
        "ctx.scheduler.run_after(5000, 'emails:send') scheduled emails:send in 5000 seconds (83.3 minutes from now): "
        "run_after takes seconds, while Convex's runAfter takes milliseconds. If you meant 5 seconds, write "
        "run_after(5, ...); to schedule 5000 seconds on purpose without this warning, pass "
        "datetime.timedelta(seconds=5000)."
    )


@pytest.mark.parametrize(("delay", "meant"), [(1000, "1"), (60_000.0, "60"), (3_600_000, "3600"), (1_500_000, "1500")])
def test_every_whole_multiple_of_1000_warns(
    db: Database, caplog: pytest.LogCaptureFixture, delay: float, meant: str
) -> None:
    with caplog.at_level(logging.WARNING, logger="authlib_core.scheduler"):
        _schedule(db, delay)
    (message,) = _warnings(caplog)
    assert f"in {delay:.0f} seconds ({delay / 60:,.1f} minutes from now)" in message
    assert f"If you meant {meant} seconds, write run_after({meant}, ...)" in message


@pytest.mark.parametrize(
    "delay",
    [0, 5, 60, 999, 3600, 86_400, 7 * 86_400, 1500, 5000.5, datetime.timedelta(seconds=5000)],
)
def test_seconds_that_do_not_read_as_milliseconds_and_timedeltas_do_not_warn(
    db: Database, caplog: pytest.LogCaptureFixture, delay: Any
) -> None:
    with caplog.at_level(logging.DEBUG, logger="authlib_core.scheduler"):
        _schedule(db, delay)
    assert _warnings(caplog) == []


def test_the_warning_is_logged_once_per_function_and_delay(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="authlib_core.scheduler"):
        for delay in (5000, 5000, 10_000, 5000):
            _schedule(db, delay)
    assert [m.split(" scheduled", 1)[0] for m in _warnings(caplog)] == [
        "ctx.scheduler.run_after(5000, 'emails:send')",
        "ctx.scheduler.run_after(10000, 'emails:send')",
    ]


def test_a_refused_delay_neither_schedules_nor_warns(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="authlib_core.scheduler"), pytest.raises(Exception, match="5 years"):
        _schedule(db, 10 * 366 * 86_400_000)
    assert _warnings(caplog) == []


def test_a_timedelta_is_a_delay_and_a_negative_one_is_refused(db: Database) -> None:
    assert _schedule(db, datetime.timedelta(minutes=2)) >= 120
    with pytest.raises(Exception, match="finite number >= 0"):
        _schedule(db, datetime.timedelta(seconds=-1))

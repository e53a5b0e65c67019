"""``functions/crons.py``: schedules normalised and checked, names unique, functions resolved at load."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from authlib_core import cron_jobs
from authlib_core.errors import FunctionLoadError
from authlib_core.functions import load_functions
from authlib_core.functions.crons import next_cron_time
from authlib_core.scheduler.crons import next_run_after

MakeApp = Callable[..., Path]

JOBS = """
    from authlib_core import internal_mutation, action, query

    @internal_mutation
    def sweep(ctx, full: bool = False):
        return None

    @action
    def report(ctx):
        return None

    @query
    def read(ctx):
        return None
"""


def ms(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000


def test_every_helper_becomes_an_interval_or_a_cron_expression() -> None:
    crons = cron_jobs()
    crons.interval("a", {"minutes": 5}, "jobs:sweep")
    crons.hourly("b", {"minuteUTC": 15}, "jobs:sweep")
    crons.daily("c", {"hourUTC": 3}, "jobs:sweep")
    crons.weekly("d", {"dayOfWeek": "tuesday", "hourUTC": 17, "minuteUTC": 30}, "jobs:sweep")
    crons.monthly("e", {"day": 1, "hourUTC": 0, "minuteUTC": 5}, "jobs:sweep", {"full": True})
    crons.cron("f", "*/15  9-17 * * 1-5", "jobs:sweep")
    assert [(job.name, job.schedule) for job in crons] == [
        ("a", {"type": "interval", "seconds": 300}),
        ("b", {"type": "cron", "cron": "15 * * * *"}),
        ("c", {"type": "cron", "cron": "0 3 * * *"}),
        ("d", {"type": "cron", "cron": "30 17 * * 2"}),
        ("e", {"type": "cron", "cron": "5 0 1 * *"}),
        ("f", {"type": "cron", "cron": "*/15 9-17 * * 1-5"}),
    ]
    assert list(crons)[4].args == {"full": True}


def test_hourly_without_a_minute_picks_a_stable_minute_per_name() -> None:
    first, second = cron_jobs(), cron_jobs()
    first.hourly("sweep", None, "jobs:sweep")
    second.hourly("sweep", {}, "jobs:sweep")
    (a,), (b,) = list(first), list(second)
    assert a.schedule == b.schedule
    minute = int(str(a.schedule["cron"]).split()[0])
    assert 0 <= minute <= 59


@pytest.mark.parametrize(
    ("add", "message"),
    [
        (lambda c: c.interval("x", {"seconds": 0}, "m:f"), "whole number >= 1"),
        (lambda c: c.interval("x", {"seconds": 1, "minutes": 1}, "m:f"), "exactly one"),
        (lambda c: c.interval("x", {"days": 1}, "m:f"), "exactly one"),
        (lambda c: c.cron("x", "0 0 31 2 *", "m:f"), "not a usable cron expression"),
        (lambda c: c.cron("x", "61 * * * *", "m:f"), "not a usable cron expression"),
        (lambda c: c.cron("x", "* * *", "m:f"), "five fields"),
        (lambda c: c.daily("x", {"hourUTC": 24}, "m:f"), "from 0 to 23"),
        (lambda c: c.daily("x", {"minuteUTC": 5}, "m:f"), "missing: hourUTC"),
        (lambda c: c.weekly("x", {"dayOfWeek": "Tuesday", "hourUTC": 1}, "m:f"), "dayOfWeek must be one of"),
        (lambda c: c.monthly("x", {"day": 32, "hourUTC": 1}, "m:f"), "from 1 to 31"),
        (lambda c: c.interval("", {"seconds": 1}, "m:f"), "printable ASCII"),
        (lambda c: c.interval("tab\there", {"seconds": 1}, "m:f"), "printable ASCII"),
        (lambda c: c.interval("x", {"seconds": 1}, "m:f", {"bad": {1, 2}}), "not a dict of Convex values"),
    ],
)
def test_bad_declarations_are_refused_with_a_clear_message(add: Callable[..., None], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        add(cron_jobs())


def test_names_are_unique() -> None:
    crons = cron_jobs()
    crons.interval("sweep", {"hours": 1}, "jobs:sweep")
    with pytest.raises(ValueError, match="registered twice: 'sweep'"):
        crons.daily("sweep", {"hourUTC": 1}, "jobs:sweep")


def test_next_times_follow_the_expression_in_utc() -> None:
    assert next_cron_time("30 17 * * 2", ms("2026-12-01T17:29:59")) == ms("2026-12-01T17:30:00")  # a Tuesday
    assert next_cron_time("30 17 * * 2", ms("2026-12-01T17:30:00")) == ms("2026-12-08T17:30:00")
    assert next_cron_time("0 0 31 * *", ms("2026-11-15T00:00:00")) == ms("2026-12-31T00:00:00")  # skips November


def test_an_interval_skips_the_runs_missed_while_nothing_ran() -> None:
    schedule = {"type": "interval", "seconds": 60}
    assert next_run_after(schedule, 0.0, 30_000.0) == 60_000.0
    assert next_run_after(schedule, 0.0, 60_000.0) == 120_000.0
    assert next_run_after(schedule, 0.0, 3_600_500.0) == 3_660_000.0
    assert next_run_after({"type": "cron", "cron": "0 * * * *"}, 0.0, ms("2026-01-01T10:15:00")) == ms(
        "2026-01-01T11:00:00"
    )


def test_the_loader_resolves_each_cron_function_to_its_path(make_app: MakeApp) -> None:
    root = make_app(
        {
            "jobs.py": JOBS,
            "crons.py": """
                from authlib_core import cron_jobs
                from functions.jobs import sweep

                crons = cron_jobs()
                crons.interval("sweep", {"minutes": 1}, sweep, {"full": True})
                crons.daily("report", {"hourUTC": 6}, "jobs:report")
            """,
        }
    )
    app = load_functions(root)
    assert [(job.name, job.function, job.args) for job in app.crons] == [
        ("sweep", "jobs:sweep", {"full": True}),
        ("report", "jobs:report", {}),
    ]


@pytest.mark.parametrize(
    ("crons", "message"),
    [
        ("x = 1\n", "defines no `crons`"),
        (
            "from authlib_core import cron_jobs\ncrons = cron_jobs()\n"
            "crons.interval('r', {'seconds': 5}, 'jobs:read')\n",
            "'r' runs jobs:read, a query",
        ),
        (
            "from authlib_core import cron_jobs\ncrons = cron_jobs()\n"
            "crons.interval('n', {'seconds': 5}, 'jobs:nope')\n",
            "cron job 'n': Could not find function",
        ),
        (
            "from authlib_core import cron_jobs\ncrons = cron_jobs()\n"
            "crons.interval('d', {'seconds': 5}, 'jobs:sweep')\ncrons.interval('d', {'seconds': 9}, 'jobs:sweep')\n",
            "the cron jobs are invalid (line 4 of crons.py): ValueError: Cron identifier registered twice",
        ),
    ],
)
def test_a_bad_crons_py_fails_the_load_naming_the_file(make_app: MakeApp, crons: str, message: str) -> None:
    root = make_app({"jobs.py": JOBS, "crons.py": crons})
    with pytest.raises(FunctionLoadError, match=r"crons\.py") as raised:
        load_functions(root)
    assert message in raised.value.message

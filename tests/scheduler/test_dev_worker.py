"""The dev server's in-process worker: jobs run on time, survive reloads and restarts; cron jobs run and never
overlap. Timing bounds here are generous (the machine is shared); the measured lateness is printed."""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING

from tests.scheduler.conftest import WORK, Dev, wait_for, write_app

if TYPE_CHECKING:
    from pathlib import Path


def test_a_job_runs_at_its_time_not_before(dev: Dev) -> None:
    job_id = dev.call("mutation", "work:later", {"label": "a", "delay": 0.4})
    job = dev.call("query", "work:job", {"id": job_id})
    assert job["state"] == {"kind": "pending"}
    done = wait_for(lambda: (j := dev.call("query", "work:job", {"id": job_id}))["state"]["kind"] == "success" and j)
    (run,) = dev.runs()
    assert run["label"] == "a"
    assert run["at"] >= job["scheduledTime"]  # never early
    late = run["at"] - job["scheduledTime"]
    print(f"job ran {late:.1f} ms after its time")
    assert late < 2000
    assert done["completedTime"] >= run["at"]
    assert f"job work:record {job_id} success" in dev.out.getvalue()


def test_jobs_due_in_the_past_and_in_order(dev: Dev) -> None:
    now = time.time() * 1000
    dev.call("mutation", "work:at", {"label": "second", "when": now - 1000})
    dev.call("mutation", "work:at", {"label": "first", "when": now - 5000})
    wait_for(lambda: len(dev.runs()) == 2)
    assert sorted(run["label"] for run in dev.runs()) == ["first", "second"]


def test_a_pending_job_survives_a_reload_and_runs_the_new_code(dev: Dev, app_dir: Path) -> None:
    job_id = dev.call("mutation", "work:later", {"label": "old", "delay": 1.0})
    changed = WORK.replace('{"label": label,', '{"label": label + "-reloaded",')
    assert changed != WORK
    write_app(app_dir, work=changed)
    wait_for(lambda: "reloaded" in dev.out.getvalue())
    wait_for(lambda: dev.call("query", "work:job", {"id": job_id})["state"]["kind"] == "success")
    assert [run["label"] for run in dev.runs()] == ["old-reloaded"]


def test_jobs_due_while_the_server_was_stopped_run_when_it_starts(dev: Dev) -> None:
    job_id = dev.call("mutation", "work:later", {"label": "while-down", "delay": 0.5})
    dev.stop()
    time.sleep(0.8)  # the job comes due while nothing runs it
    dev.start()
    wait_for(lambda: dev.call("query", "work:job", {"id": job_id})["state"]["kind"] == "success")
    assert [run["label"] for run in dev.runs()] == ["while-down"]


def test_an_action_interrupted_by_a_stop_is_recorded_failed_and_not_run_again(dev: Dev) -> None:
    job_id = dev.call("mutation", "work:later_slow", {"label": "cut", "seconds": 3})
    wait_for(lambda: [run["label"] for run in dev.runs()] == ["cut:start"])
    dev.stop()  # the process "dies" while the action runs (its thread is abandoned)
    dev.start()
    job = wait_for(lambda: (j := dev.call("query", "work:job", {"id": job_id}))["state"]["kind"] == "failed" and j)
    assert job["state"]["error"] == "Transient error while executing action"
    time.sleep(0.3)
    assert [run["label"] for run in dev.runs()].count("cut:start") == 1  # at most once


CRONS = """
from authlib_core import cron_jobs

crons = cron_jobs()
crons.interval("tick", {"seconds": 1}, "work:record", {"label": "tick"})
"""


def test_an_interval_cron_runs_at_start_and_then_every_interval(app_dir: Path, tmp_path: Path) -> None:
    write_app(app_dir, crons=CRONS)
    dev = Dev(app_dir, tmp_path / "cron.sqlite3").start()
    try:
        wait_for(lambda: len(dev.runs()) >= 3, timeout=15)
        times = sorted(run["at"] for run in dev.runs())
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(gap >= 900 for gap in gaps), gaps  # never more often than the interval
        jobs = dev.call("query", "work:jobs")
        assert {job["name"] for job in jobs} == {"work:record"}
        assert all(job["args"] == [{"label": "tick"}] for job in jobs)
    finally:
        dev.stop()


OVERLAP = """
from authlib_core import cron_jobs

crons = cron_jobs()
crons.interval("slow", {"seconds": 1}, "work:slow", {"label": "run", "seconds": 2.5})
"""


def test_a_cron_run_still_going_is_not_started_twice(app_dir: Path, tmp_path: Path) -> None:
    write_app(app_dir, crons=OVERLAP)
    dev = Dev(app_dir, tmp_path / "overlap.sqlite3").start()
    try:
        wait_for(lambda: sum(run["label"] == "run:start" for run in dev.runs()) >= 2, timeout=20)
        labels = [run["label"] for run in sorted(dev.runs(), key=lambda run: run["at"])]
        # runs never overlap: every start after the first follows the previous run's end
        assert labels[:3] == ["run:start", "run:end", "run:start"], labels
        states = [job["state"]["kind"] for job in dev.call("query", "work:jobs")]
        assert states.count("inProgress") <= 1
    finally:
        dev.stop()


def test_removing_a_cron_stops_it(app_dir: Path, tmp_path: Path) -> None:
    write_app(app_dir, crons=CRONS)
    dev = Dev(app_dir, tmp_path / "remove.sqlite3").start()
    try:
        wait_for(lambda: len(dev.runs()) >= 1)
        (app_dir / "crons.py").write_text("from authlib_core import cron_jobs\n\ncrons = cron_jobs()\n")
        wait_for(lambda: "reloaded" in dev.out.getvalue())
        time.sleep(0.3)
        count = len(dev.runs())
        time.sleep(1.5)
        assert len(dev.runs()) == count
    finally:
        dev.stop()

"""The dev server's worker deletes finished jobs past their retention: at start, and every sweep interval while it
runs; pending jobs stay. Real time (the dev server's clock) with a retention of one second."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from authlib_core.scheduler import worker
from tests.scheduler.conftest import Dev, wait_for

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

RETENTION_S = 1


def job_kind(dev: Dev, job_id: str) -> str | None:
    job = dev.call("query", "work:job", {"id": job_id})
    return None if job is None else job["state"]["kind"]


def test_finished_jobs_are_deleted_at_start_once_their_retention_passed(app_dir: Path, tmp_path: Path) -> None:
    dev = Dev(app_dir, tmp_path / "dev.sqlite3", job_retention=RETENTION_S).start()
    try:
        done = [dev.call("mutation", "work:later", {"label": f"r{i}", "delay": 0}) for i in range(3)]
        later = dev.call("mutation", "work:later", {"label": "later", "delay": 3600})
        wait_for(lambda: all(job_kind(dev, job_id) == "success" for job_id in done))
        dev.stop()
        time.sleep(RETENTION_S + 0.2)
        dev.start()
        wait_for(lambda: all(job_kind(dev, job_id) is None for job_id in done))
        assert job_kind(dev, later) == "pending"
        assert len(dev.runs()) == 3  # the jobs' work stays; only their records go
    finally:
        dev.stop()


def test_a_running_server_sweeps_every_interval(app_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "SWEEP_INTERVAL_S", 0.2)
    dev = Dev(app_dir, tmp_path / "dev.sqlite3", job_retention=RETENTION_S).start()
    try:
        later = dev.call("mutation", "work:later", {"label": "later", "delay": 3600})
        job_id = dev.call("mutation", "work:later", {"label": "now", "delay": 0})
        finished_at = wait_for(lambda: job_kind(dev, job_id) == "success" and time.monotonic())
        wait_for(lambda: job_kind(dev, job_id) is None)
        assert time.monotonic() - finished_at >= RETENTION_S - 0.1  # not before its retention
        assert job_kind(dev, later) == "pending"
    finally:
        dev.stop()

"""Running ``python -m authlib_core`` commands (``dev``, ``run``) in a subprocess, as a user does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start_dev(functions_dir: Path, cwd: Path) -> subprocess.Popen[str]:
    """``dev --functions functions_dir --port 0 --no-static`` with its database in ``cwd``; stdout and stderr merged.

    Use it as a context manager and stop it with :func:`tests.support.processes.stop_process`.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "authlib_core", "dev", "--functions", str(functions_dir), "--port", "0"]
    return subprocess.Popen(
        [*command, "--no-static", "--db", str(cwd / "d.db")],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def run_cli(cwd: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m authlib_core *args`` in ``cwd`` to its exit, output captured; the exit code is not checked.

    ``AUTHLIB_FUNCTIONS_DIR`` and ``AUTHLIB_SQLITE_PATH`` are dropped from the environment so that only ``cwd`` and
    ``args`` decide where functions and data are. A command that does not exit by itself hits ``timeout``.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("AUTHLIB_FUNCTIONS_DIR", None)
    env.pop("AUTHLIB_SQLITE_PATH", None)
    return subprocess.run(
        [sys.executable, "-m", "authlib_core", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )

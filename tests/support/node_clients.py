"""Shared by the Node client tests: installing tests/clients, the real dev server in a subprocess, running node.

The dev server is ``python -m authlib_core dev`` itself (port 0, a temporary SQLite file, no static files), configured
only through its command line and the ``AUTHLIB_*`` environment variables docs/auth.md documents.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.processes import stop_process

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / "tests" / "clients"
#: The example app: myData plus the auth tables.
EXAMPLE_FUNCTIONS = ROOT / "functions"

_LISTENING = re.compile(r"listening on (http://\S+)")


def ensure_node_modules() -> None:
    """``npm ci`` in tests/clients when a dependency is missing; a file lock keeps parallel runs from racing."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the client tests")
    dependencies = json.loads((CLIENTS / "package.json").read_text())["dependencies"]

    def installed() -> bool:
        return all((CLIENTS / "node_modules" / name / "package.json").is_file() for name in dependencies)

    if installed():
        return
    with (CLIENTS / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not installed():
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund"], cwd=CLIENTS, check=True, capture_output=True, timeout=600
            )


@dataclass(frozen=True)
class RunningServer:
    """A dev server subprocess: its URL and the file its output goes to."""

    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextlib.contextmanager
def dev_server(
    workdir: Path,
    functions: Path,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    *,
    port: int = 0,
) -> Iterator[RunningServer]:
    """``python -m authlib_core dev`` on a free port over ``functions``, with its database and secret in ``workdir``.

    ``AUTHLIB_*`` variables of the calling environment are dropped; ``env`` sets the ones the test needs. ``port`` 0
    picks a free port; a fixed one lets a test restart the server where its clients will reconnect.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "dev-server.log"
    base = {k: v for k, v in os.environ.items() if not k.startswith("AUTHLIB_")}
    environment = {
        **base,
        **(env or {}),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), base.get("PYTHONPATH")])),
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "authlib_core", "dev", "--port", str(port), "--no-static"]
    command += ["--db", str(workdir / "dev.sqlite3"), "--functions", str(functions), *args]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=workdir, env=environment, stdout=out, stderr=subprocess.STDOUT)
    try:
        server = RunningServer(_wait_for_url(process, log), log)
        yield server
    finally:
        stop_process(process)


def _wait_for_url(process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = _LISTENING.search(log.read_text(encoding="utf-8", errors="replace"))
        if found:
            return found.group(1)
        if process.poll() is not None:
            pytest.fail(f"the dev server exited with {process.returncode}:\n{log.read_text()}")
        time.sleep(0.05)
    pytest.fail(f"the dev server printed no URL within 30 s:\n{log.read_text()}")


def run_node(script: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``node script`` in tests/clients with ``env`` added to the environment."""
    return subprocess.run(
        ["node", script],
        cwd=CLIENTS,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

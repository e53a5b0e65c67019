"""``python -m authlib_core dev`` and auth rate limits: off by default and said so at start-up; on when asked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

from tests.support.node_clients import EXAMPLE_FUNCTIONS, ROOT, dev_server

if TYPE_CHECKING:
    from pathlib import Path

OFF = "auth rate limits: off (the dev server default; AUTHLIB_RATE_LIMIT=on turns them on)"
ON = (
    "auth rate limits: on (3 requests per 10 s per address; 5 failed passwords per account and address, "
    "50 per account, per 900 s)"
)


def sign_in_statuses(url: str, count: int) -> list[int]:
    statuses = []
    for _ in range(count):
        body = json.dumps({"email": "nobody@example.com", "password": "wrong password"}).encode()
        request = urllib.request.Request(
            f"{url}/api/auth/sign-in/email", data=body, headers={"Content-Type": "application/json", "Origin": url}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
    return statuses


def test_off_by_default_on_the_dev_server(tmp_path: Path) -> None:
    with dev_server(tmp_path, EXAMPLE_FUNCTIONS) as server:
        assert sign_in_statuses(server.url, 6) == [401] * 6  # a test suite's pace is fine
        assert OFF in server.output().splitlines()


def test_on_when_the_environment_says_so(tmp_path: Path) -> None:
    with dev_server(tmp_path, EXAMPLE_FUNCTIONS, {"AUTHLIB_RATE_LIMIT": "on"}) as server:
        assert sign_in_statuses(server.url, 4) == [401, 401, 401, 429]
        assert ON in server.output().splitlines()


def test_a_bad_setting_stops_the_dev_server_with_its_name(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHLIB_")}
    env |= {"AUTHLIB_RATE_LIMIT_IP_MAX": "lots", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "authlib_core", "dev", "--port", "0", "--no-static"]
    command += ["--db", str(tmp_path / "dev.sqlite3"), "--functions", str(EXAMPLE_FUNCTIONS)]
    proc = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode != 0
    assert "AUTHLIB_RATE_LIMIT_IP_MAX is 'lots'; set it to a whole number of requests (at least 1)." in (
        proc.stdout + proc.stderr
    )

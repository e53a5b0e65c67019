"""Fixtures of the browser tests: the built example page, the real dev server, headless Chromium.

Nothing here downloads a browser. Chromium is Debian's package at /usr/bin/chromium
(``scripts/lib/browser.sh`` installs it); Playwright only drives it through ``executable_path``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.processes import stop_process

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parents[2]
WEB_DIR = ROOT / "examples" / "web"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = os.environ.get("AUTHLIB_CHROMIUM", "/usr/bin/chromium")

# The flags this machine needs: no sandbox as root, no GPU, and no background traffic to Google's
# hosts, which the closed network refuses (python.md, "Known to work").
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


#: How long a browser test waits for the page to reach an expected state.
TIMEOUT_MS = 15_000


def playwright_expect() -> Any:
    """Playwright's ``expect`` with :data:`TIMEOUT_MS` as its timeout."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    return expect


@pytest.fixture(scope="session")
def web_dist() -> Path:
    """examples/web/dist, built by the same function the run command uses (npm ci / vite build when stale)."""
    if shutil.which("npm") is None:
        pytest.fail("npm is needed to build examples/web (Node.js >= 20.19)")
    script = 'source scripts/lib/web.sh && ensure_web_build "$0"'
    result = subprocess.run(
        ["bash", "-c", script, "0"], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"building examples/web failed:\n{result.stdout}\n{result.stderr}")
    dist = WEB_DIR / "dist"
    assert (dist / "index.html").is_file()
    return dist


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class DevServer:
    url: str
    log: Path


@pytest.fixture(scope="module")
def dev_server(web_dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """``python -m authlib_core dev`` on a free port, a fresh SQLite file, the example functions/.

    With AUTHLIB_BROWSER_BASE_URL set, the tests use that already-running server instead (serving
    the example page and the example functions), e.g. to watch its log while debugging.
    """
    external = os.environ.get("AUTHLIB_BROWSER_BASE_URL")
    if external:
        yield DevServer(url=external.rstrip("/"), log=ARTIFACTS / "dev-server.log")
        return
    port = _free_port()
    db = tmp_path_factory.mktemp("browser-db") / "dev.sqlite3"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "dev-server.log").write_text("")
    with run_dev_server(port, db, web_dist, ARTIFACTS / "dev-server.log") as server:
        yield server


@contextlib.contextmanager
def run_dev_server(
    port: int,
    db: Path,
    web_dist: Path,
    log_path: Path,
    *,
    functions: Path = ROOT / "functions",
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Iterator[DevServer]:
    """``python -m authlib_core dev`` on ``port`` over ``db``, serving ``web_dist``; stopped when the block ends.

    A test may run it twice on the same port and database: a restart, as the page's live client sees it.
    ``functions``, ``args`` and ``env`` change the app, add command-line options and environment variables.
    """
    command = [
        sys.executable,
        "-m",
        "authlib_core",
        "dev",
        "--port",
        str(port),
        "--db",
        str(db),
        "--functions",
        str(functions),
        "--static",
        str(web_dist),
        *args,
    ]
    environment = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
    with log_path.open("a") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=environment)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_serving(url, process, log_path)
            yield DevServer(url=url, log=log_path)
        finally:
            stop_process(process)


def free_port() -> int:
    """A port nothing listens on right now."""
    return _free_port()


def _wait_until_serving(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the dev server exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/api/auth/ok", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"the dev server did not answer {url}/api/auth/ok within 60 s:\n{log_path.read_text()}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium driven by Playwright; never a downloaded browser build."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/test, or `source scripts/lib/browser.sh && ensure_chromium`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    """test-artifacts/browser/, emptied of the previous run's screenshots."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    return ARTIFACTS

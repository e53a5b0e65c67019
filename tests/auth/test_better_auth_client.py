"""The published ``better-auth`` npm client (``createAuthClient``) against our ``/api/auth``, over real HTTP.

Until the dev server routes ``/api/auth/*`` (the http branch), a stdlib server here maps each request to
``AuthService.handle`` — the same neutral entry point the dev server and the Lambda handler call.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

import pytest

from authlib_core.auth.cookies import parse_cookie_header
from authlib_core.auth.transport import AuthHttpRequest
from tests.support.auth import auth_service
from tests.support.sessions import FakeClock

if TYPE_CHECKING:
    from collections.abc import Iterator

    from authlib_core.auth.service import AuthService

CLIENTS = Path(__file__).resolve().parents[1] / "clients"

pytestmark = pytest.mark.node


def ensure_node_modules() -> None:
    """``npm ci`` once; a file lock keeps parallel test runs from installing over each other."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the client tests")
    with (CLIENTS / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (CLIENTS / "node_modules" / "better-auth" / "package.json").is_file():
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund"], cwd=CLIENTS, check=True, capture_output=True, timeout=600
            )


def serve(service: AuthService) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _handle(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            host = f"http://{self.server.server_address[0]}:{self.server.server_address[1]}"
            if not url.path.startswith("/api/auth/"):
                self.send_response(404)
                self.end_headers()
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            response = service.handle(
                AuthHttpRequest(
                    self.command,
                    url.path.removeprefix("/api/auth"),
                    base_url=host,
                    query=dict(parse_qsl(url.query)),
                    headers=headers,
                    cookies=parse_cookie_header(headers.get("cookie", "")),
                    body=body,
                    client_ip=self.client_address[0],
                    is_https=False,
                )
            )
            payload = response.body_bytes()
            self.send_response(response.status)
            for name, value in response.all_headers().items():
                self.send_header(name, value)
            for cookie in response.set_cookies:
                self.send_header("set-cookie", cookie)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    ensure_node_modules()
    clock = FakeClock(now=time.time())
    clock_thread_stop = threading.Event()

    def tick() -> None:  # a real-time clock the tests could still move
        while not clock_thread_stop.wait(0.05):
            clock.now = time.time()

    threading.Thread(target=tick, daemon=True).start()
    # The script signs in four times within seconds from 127.0.0.1; Better Auth's 3-per-10-s rule would stop it.
    with auth_service(tmp_path, clock, ip_rate_limit=50) as (service, _, _):
        server = serve(service)
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
            clock_thread_stop.set()


def test_better_auth_client(base_url: str) -> None:
    proc = subprocess.run(
        ["node", "better-auth-e2e.mjs"],
        cwd=CLIENTS,
        env={**os.environ, "AUTH_BASE_URL": base_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().endswith("ALL OK")

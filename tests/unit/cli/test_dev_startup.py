"""``dev`` refuses at once, in one line and creating nothing, when it cannot serve. (A missing functions folder is
tested with the other commands': tests/unit/cli/test_cli.py.)"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from authlib_core.scaffold import init_project
from tests.support.dev_cli import run_cli
from tests.support.node_clients import dev_server

if TYPE_CHECKING:
    import subprocess
    from pathlib import Path


def dev(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``dev``; it must exit by itself (a server that kept listening would hit the timeout)."""
    return run_cli(cwd, "dev", "--no-static", *args, timeout=30)


def test_functions_option_naming_a_file_or_nothing(tmp_path: Path) -> None:
    (tmp_path / "fns.py").write_text("")
    done = dev(tmp_path, "--functions", "fns.py")
    assert done.returncode == 2
    assert done.stderr.startswith("error: --functions fns.py (")
    assert done.stderr.endswith(
        "fns.py) is not a folder. Run the dev server from your project's folder "
        "(the one holding functions/), or pass --functions DIR.\n"
    )
    absent = tmp_path / "nowhere"
    done = dev(tmp_path, "--functions", str(absent))
    assert done.stderr.startswith(f"error: --functions {absent} does not exist.")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fns.py"]


def test_port_in_use_is_one_line_naming_the_option(tmp_path: Path) -> None:
    (tmp_path / "functions").mkdir()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = dev(tmp_path, "--port", str(port))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        f"error: port {port} on 127.0.0.1 is already in use (another dev server?). Stop the other process, or pick "
        f"another port with --port, e.g. --port {port + 1} (--port 0 picks a free one).\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["functions"]  # the port is bound before anything is made


def test_a_cors_origin_that_no_browser_sends_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "functions").mkdir()
    for value in ("*", "https://*.example.com", "localhost:5173", "http://localhost:5173/app"):
        done = dev(tmp_path, "--cors-origin", f"http://localhost:3000,{value}")
        assert done.returncode == 2, value
        assert done.stdout == ""
        assert done.stderr == (
            f"error: --cors-origin {value!r} is not an origin: give scheme://host[:port] as the browser sends it "
            "in its Origin header, e.g. --cors-origin http://localhost:5173 (no path, no '*'; repeat the option "
            "for more).\n"
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["functions"]


def test_a_port_out_of_range_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "functions").mkdir()
    done = dev(tmp_path, "--port", "99999")
    assert done.returncode == 2
    assert "argument --port: 99999 is not a port number; give 0-65535 (0 picks a free one)" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_cors_origin_may_sign_in_with_cookies_as_allowed_origins_do_on_aws(tmp_path: Path) -> None:
    # template.yaml feeds AllowedOrigins to CORS and to AUTHLIB_TRUSTED_ORIGINS; --cors-origin plays both parts.
    init_project(tmp_path / "app")
    with dev_server(
        tmp_path / "run", tmp_path / "app" / "functions", args=["--cors-origin", "HTTP://LocalHost:5173/"]
    ) as s:

        def sign_up(origin: str, email: str) -> tuple[int, dict[str, str], dict[str, Any]]:
            body = json.dumps({"email": email, "password": "a-long-password", "name": "A"}).encode()
            headers = {"content-type": "application/json", "origin": origin, "sec-fetch-mode": "cors"}
            request = urllib.request.Request(f"{s.url}/api/auth/sign-up/email", body, headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=30) as reply:
                    return reply.status, dict(reply.headers), json.load(reply)
            except urllib.error.HTTPError as refused:
                return refused.code, dict(refused.headers), json.load(refused)

        status, headers, body = sign_up("http://localhost:5173", "a@example.com")
        assert status == 200, body
        assert headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
        assert body["user"]["email"] == "a@example.com"
        status, headers, body = sign_up("http://localhost:5174", "b@example.com")
        assert (status, body["code"]) == (403, "INVALID_ORIGIN")
        assert "Access-Control-Allow-Origin" not in headers

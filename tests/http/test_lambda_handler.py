"""The module-level Lambda entry point: lazy, once-per-cold-start runtime; a lean import path."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from authlib_core.http.app import HttpApp
from authlib_core.http.lambda_handler import LazyRuntime
from authlib_core.http.messages import HttpResponse
from tests.http.conftest import APPS, Client, captured_logger

ROOT = Path(__file__).resolve().parents[2]

# Until the database layer's engines land on this branch, the runtime runs on the in-memory fake.
SCRIPT = textwrap.dedent(
    """
    import json, sys
    import authlib_core.runtime as runtime
    builds = []
    real_connect = runtime.connect_database
    def counting_connect(settings, schema, **options):
        builds.append(1)
        return real_connect(settings, schema, **options)
    runtime.connect_database = counting_connect
    from tests.http.conftest import Context, make_event
    from authlib_core.http import lambda_handler
    out = {}
    r = lambda_handler.handler(make_event("GET", "/api/ok"), Context())
    out["health"] = [r["statusCode"], builds[:]]
    for i in range(3):
        r = lambda_handler.handler(
            make_event("POST", "/api/query", json.dumps({"path": "calls:echo", "args": {"value": i}})), Context())
        out.setdefault("values", []).append(json.loads(r["body"])["value"])
    out["builds"] = len(builds)
    out["modules"] = sorted(m for m in ("pydantic", "boto3", "moto") if m in sys.modules)
    print("RESULT " + json.dumps(out))
    """
)


def test_runtime_is_built_once_lazily_and_the_import_path_is_lean(tmp_path):
    env = {
        **os.environ,
        "AUTHLIB_FUNCTIONS_DIR": str(APPS / "wireapp"),
        "AUTHLIB_ENGINE": "sqlite",
        "AUTHLIB_SQLITE_PATH": str(tmp_path / "lambda.sqlite3"),
    }
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))[7:])
    assert result["health"] == [200, []]  # the health check builds no runtime
    assert result["values"] == [0.0, 1.0, 2.0]
    assert result["builds"] == 1
    assert result["modules"] == []  # no pydantic (no type-hinted function), no boto3 (SQLite), no moto


def test_lazy_runtime_retries_a_failed_build():
    attempts = []

    def build():
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("first build fails")
        return "runtime"

    lazy = LazyRuntime(build)
    with contextlib.suppress(RuntimeError):
        lazy()
    assert lazy() == "runtime"
    assert lazy() == "runtime"
    assert len(attempts) == 2


def test_a_runtime_that_fails_to_build_gives_an_opaque_error():
    def broken():
        raise RuntimeError("cannot load functions: /secret/path")

    logger, buffer = captured_logger()
    client = Client(HttpApp(broken, logger=logger), buffer)
    status, body = client.post("/api/query", {"path": "calls:echo", "args": {}}, request_id="rid-x")
    assert (status, body) == (200, {"status": "error", "errorMessage": "[Request ID: rid-x] Server Error"})
    assert "cannot load functions" in buffer.getvalue()


class FakeAuthHandler:
    def __init__(self):
        self.requests = []

    def handle(self, request):
        self.requests.append(request)
        if request.path == "/api/auth/get-session":
            return HttpResponse(200, None, headers={"cache-control": "no-store"})
        return HttpResponse(
            200,
            {"token": "t", "user": {"email": "a@b.c"}},
            set_cookies=(
                "better-auth.session_token=abc.sig; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax",
                "better-auth.dont_remember=; Max-Age=0; Path=/",
            ),
        )


def test_auth_routes_forward_to_the_auth_handler(wire_runtime):
    auth = FakeAuthHandler()
    logger, buffer = captured_logger()
    client = Client(HttpApp(lambda: wire_runtime, auth=auth, logger=logger), buffer)
    response = client.raw(
        "POST",
        "/api/auth/sign-in/email",
        {"email": "a@b.c", "password": "pw"},
        headers={"origin": "http://localhost:5173", "X-Forwarded-Proto": "https"},
        cookies=["better-auth.session_token=old.sig", "theme=dark"],
        query="x=1",
    )
    assert response["statusCode"] == 200
    assert response["cookies"] == [
        "better-auth.session_token=abc.sig; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax",
        "better-auth.dont_remember=; Max-Age=0; Path=/",
    ]
    assert json.loads(response["body"]) == {"token": "t", "user": {"email": "a@b.c"}}
    (request,) = auth.requests
    assert request.method == "POST"
    assert request.path == "/api/auth/sign-in/email"
    assert request.query == {"x": "1"}
    assert request.headers["origin"] == "http://localhost:5173"
    assert request.cookies == {"better-auth.session_token": "old.sig", "theme": "dark"}
    assert json.loads(request.body) == {"email": "a@b.c", "password": "pw"}
    assert request.is_https is True
    assert request.client_ip == "192.168.0.1/32"  # the canned SAM event's sourceIp

    response = client.raw("GET", "/api/auth/get-session")
    assert (response["statusCode"], response["body"]) == (200, "null")
    assert response["headers"]["cache-control"] == "no-store"


def test_auth_handler_failure_is_opaque(wire_runtime):
    class Broken:
        def handle(self, request):
            raise RuntimeError("db password is hunter2")

    logger, buffer = captured_logger()
    client = Client(HttpApp(lambda: wire_runtime, auth=Broken(), logger=logger), buffer)
    status, body = client.post("/api/auth/sign-out", {}, request_id="rid-a")
    assert (status, body) == (500, {"code": "InternalServerError", "message": "[Request ID: rid-a] Server Error"})

"""The dev server end to end over real HTTP: events, concurrency, reload, CORS, cookies, static files, shutdown."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from authlib_core.config import Settings
from authlib_core.dev.server import CorsPolicy, DevServer, request_event
from authlib_core.http.messages import HttpResponse
from authlib_core.runtime import build_runtime

ROOT = Path(__file__).resolve().parents[2]

NOTES = """
import time
from authlib_core import action, mutation, query
from authlib_core.values import v

@query
def version(ctx):
    return "v1"

@query(args={"seconds": v.any()})
def slow(ctx, seconds):
    time.sleep(seconds)
    return "slept"

@mutation(args={"text": v.string()})
def add(ctx, text):
    return ctx.db.insert("notes", {"text": text})

@action
def ping(ctx):
    return "pong"
"""


def write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a change even within one mtime tick


@pytest.fixture
def functions_dir(tmp_path):
    folder = tmp_path / "devfns"
    folder.mkdir()
    write(folder, "notes.py", NOTES)
    yield folder
    for module in list(sys.modules):
        if module.split(".")[0] == "devfns":
            del sys.modules[module]


class Auth:
    def __init__(self):
        self.seen = []

    def handle(self, request):
        self.seen.append(request)
        return HttpResponse(
            200, {"ok": True}, headers={"set-auth-token": "tok"}, set_cookies=("a=1; Path=/", "b=2; Path=/; HttpOnly")
        )


@pytest.fixture
def dev(functions_dir, tmp_path):
    yield from _dev_server(functions_dir, tmp_path)


def _dev_server(functions_dir, tmp_path, *, expose_errors=False, **options):
    static = tmp_path / "dist"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html><title>app</title>")
    (static / "assets" / "app.js").write_text("console.log('hi')")
    out = io.StringIO()
    auth = Auth()
    server = DevServer(
        lambda: build_runtime(
            Settings(functions_dir=functions_dir, sqlite_path=tmp_path / "dev.sqlite3", expose_errors=expose_errors)
        ),
        functions_dir,
        port=0,
        cors=CorsPolicy(("http://localhost:5173",)),
        static_dir=static,
        auth=auth,
        out=out,
        reload_interval=0.05,
        **options,
    )
    server.start_background()
    server.auth_handler = auth
    yield server
    server.shutdown()


def http(url, body=None, *, method=None, headers=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, method=method or ("POST" if data is not None else "GET"))
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def query(server, path, args=None):
    status, _, body = http(f"{server.url}/api/query", {"path": path, "args": args or {}})
    return status, json.loads(body)


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_query_and_readable_log_line(dev):
    assert query(dev, "notes:version") == (200, {"status": "success", "value": "v1"})
    _status, _, body = http(f"{dev.url}/api/mutation", {"path": "notes:add", "args": {"text": "x"}})
    assert json.loads(body)["status"] == "success"
    assert wait_for(lambda: "POST /api/mutation notes:add 200 success" in dev.out.getvalue())
    assert "POST /api/query notes:version 200 success" in dev.out.getvalue()
    assert "listening on http://127.0.0.1:" in dev.out.getvalue()


def test_curl_style_form_body(dev):
    # What `curl -d '{...}'` sends: application/x-www-form-urlencoded.
    status, _, body = http(
        f"{dev.url}/api/query",
        b'{"path":"notes:version","args":{}}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (status, json.loads(body)) == (200, {"status": "success", "value": "v1"})


def test_concurrent_requests(dev):
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: query(dev, "notes:slow", {"seconds": 0.4}), range(8)))
    elapsed = time.monotonic() - started
    assert all(result == (200, {"status": "success", "value": "slept"}) for result in results)
    assert elapsed < 8 * 0.4 / 2  # served in parallel, not one after another


def test_reload_on_change_and_broken_edit_keeps_last_good(dev, functions_dir):
    generation = dev.reloader.generation
    write(functions_dir, "notes.py", NOTES.replace('"v1"', '"v2-changed"'))
    assert wait_for(lambda: query(dev, "notes:version")[1].get("value") == "v2-changed")
    assert dev.reloader.generation > generation

    write(functions_dir, "notes.py", NOTES + "\ndef broken(:\n")
    assert wait_for(lambda: "could not load" in dev.out.getvalue())
    assert "still serving the last good version" in dev.out.getvalue()
    assert "SyntaxError" in dev.out.getvalue()
    assert query(dev, "notes:version")[1]["value"] == "v2-changed"

    write(functions_dir, "notes.py", NOTES.replace('"v1"', '"v3-fixed"'))
    assert wait_for(lambda: query(dev, "notes:version")[1].get("value") == "v3-fixed")


def test_new_module_is_picked_up(dev, functions_dir):
    write(functions_dir, "extra.py", "from authlib_core import query\n\n@query\ndef hi(ctx):\n    return 'hi'\n")
    assert wait_for(lambda: query(dev, "extra:hi")[1].get("value") == "hi")


def test_cors_preflight_and_response_headers(dev):
    origin = "http://localhost:5173"
    status, headers, _ = http(
        f"{dev.url}/api/query",
        method="OPTIONS",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
    )
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == origin
    assert headers["Access-Control-Allow-Credentials"] == "true"
    assert "convex-client" in headers["Access-Control-Allow-Headers"]
    assert "authorization" in headers["Access-Control-Allow-Headers"]
    assert headers["Vary"] == "Origin"

    status, headers, _ = http(f"{dev.url}/api/query", {"path": "notes:version", "args": {}}, headers={"Origin": origin})
    assert headers["Access-Control-Allow-Origin"] == origin
    assert headers["Access-Control-Expose-Headers"] == "set-auth-token"

    status, headers, _ = http(
        f"{dev.url}/api/query", {"path": "notes:version", "args": {}}, headers={"Origin": "https://evil.example"}
    )
    assert status == 200
    assert "Access-Control-Allow-Origin" not in headers
    status, headers, _ = http(f"{dev.url}/api/query", method="OPTIONS", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in headers


def test_cookies_flow_both_ways(dev):
    status, headers, _body = http(
        f"{dev.url}/api/auth/sign-in/email",
        {"email": "a@b.c", "password": "pw"},
        headers={"Cookie": "better-auth.session_token=abc.sig%3D; theme=dark", "Origin": "http://localhost:5173"},
    )
    assert status == 200
    assert headers.get_all("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/; HttpOnly"]
    assert headers["set-auth-token"] == "tok"
    (request,) = dev.auth_handler.seen
    assert request.cookies == {"better-auth.session_token": "abc.sig%3D", "theme": "dark"}
    assert "cookie" not in request.headers
    assert request.is_https is False
    assert request.client_ip == "127.0.0.1"


def test_static_files_and_spa_fallback(dev):
    status, headers, body = http(f"{dev.url}/")
    assert (status, body) == (200, b"<!doctype html><title>app</title>")
    assert headers["Content-Type"].startswith("text/html")
    status, headers, body = http(f"{dev.url}/assets/app.js")
    assert body == b"console.log('hi')"
    assert "javascript" in headers["Content-Type"]
    assert http(f"{dev.url}/notes/42")[2] == b"<!doctype html><title>app</title>"  # client-side route
    assert http(f"{dev.url}/../../etc/passwd")[:3:2] == (404, b"Not Found")  # a dot segment: nothing served
    status, _, body = http(f"{dev.url}/api/nope")
    assert status == 404
    assert json.loads(body)["code"] == "NotFound"


def test_binary_body_event():
    event = request_event(
        "POST", "/api/x?a=1", [("Content-Type", "x"), ("X-A", "1"), ("x-a", "2")], b"\xff", "1.2.3.4", "h"
    )
    assert event["isBase64Encoded"] is True
    assert event["body"] == "/w=="
    assert event["headers"]["x-a"] == "1,2"
    assert event["rawQueryString"] == "a=1"
    assert event["requestContext"]["stage"] == "$default"
    assert event["requestContext"]["http"]["sourceIp"] == "1.2.3.4"


BOOT = textwrap.dedent(
    """
    import sys
    from authlib_core.cli.main import main
    sys.exit(main(["dev", *sys.argv[1:]]))
    """
)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_cli_prints_url_serves_and_shuts_down_cleanly(functions_dir, tmp_path, sig):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", BOOT, "--functions", str(functions_dir), "--port", "0", "--db", str(tmp_path / "d.db")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, line
        url = line.split("listening on ")[1].strip()
        _status, _, body = http(f"{url}/api/query", {"path": "notes:version", "args": {}})
        assert json.loads(body) == {"status": "success", "value": "v1"}
        proc.send_signal(sig)
        output, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    assert "stopped" in output
    assert "Traceback" not in output


def test_shutdown_closes_the_socket_and_stops_threads(functions_dir, tmp_path):
    server = DevServer(
        lambda: build_runtime(Settings(functions_dir=functions_dir, sqlite_path=tmp_path / "dev.sqlite3")),
        functions_dir,
        port=0,
        out=io.StringIO(),
    )
    server.start_background()
    url = server.url
    assert query(server, "notes:version")[0] == 200
    server.shutdown()
    names = {thread.name for thread in threading.enumerate()}
    assert "authlib-dev-server" not in names
    assert "authlib-dev-reloader" not in names
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{url}/api/ok", timeout=2)

"""The counter app on moto's server, served by the Lambda handler and by the dev server, with a fault injector.

:class:`Stack` builds one runtime over fresh tables and exposes the same calls on both paths:
``lambda`` (``HttpApp`` called with API Gateway events and a Lambda context) and ``dev`` (the dev server's HTTP
socket). Every call returns ``(status, json_body, headers)``.
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from authlib_core.config import Settings
from authlib_core.database.engines.dynamodb import create_client, create_tables
from authlib_core.dev.server import DevServer
from authlib_core.http.app import HttpApp
from authlib_core.runtime import build_runtime
from tests.dynamodb.harness import expire_commit_markers
from tests.faults.injector import Injector
from tests.http.conftest import make_event

if TYPE_CHECKING:
    from authlib_core.runtime import Runtime

APP = Path(__file__).parent / "apps" / "counterapp"
ORIGIN = "http://app.example.test"
SECRET = "fault-injection-secret-0123456789abcdefghijklmnop"
PASSWORD = "correct horse battery staple"


class LambdaContext:
    """A Lambda context whose remaining time is fixed (or given by a function)."""

    function_name = "authlib-core-faults"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:authlib-core-faults"
    aws_request_id = "faults-1"

    def __init__(self, remaining_ms: Any = 30_000) -> None:
        self._remaining = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return int(self._remaining() if callable(self._remaining) else self._remaining)


class Stack:
    """One runtime over fresh tables on ``endpoint``, reachable through ``path`` ("lambda" or "dev")."""

    def __init__(self, endpoint: str, path: str, context: Any = None, **overrides: Any) -> None:
        suffix = uuid.uuid4().hex[:10]
        defaults: dict[str, Any] = {
            "engine": "dynamodb",
            "functions_dir": APP,
            "dynamodb_endpoint_url": endpoint,
            "region": "us-east-1",
            "documents_table": f"faults-docs-{suffix}",
            "sessions_table": f"faults-sessions-{suffix}",
            "secrets": (SECRET,),
            "trusted_origins": (ORIGIN,),
        }
        self.settings = Settings(**{**defaults, **overrides})
        create_tables(create_client(endpoint_url=endpoint, region="us-east-1"), self.settings)
        self.runtime: Runtime = build_runtime(self.settings)
        self.runtime.database.ensure_indexes()
        self.client = self.runtime.database.engine.client  # type: ignore[attr-defined]
        expire_commit_markers(self.client)
        self.injector = Injector(self.client)
        self.path = path
        self.context = context or LambdaContext()
        self.log = io.StringIO()
        logger = Logger(service=f"faults-{suffix}", logger_handler=logging.StreamHandler(self.log))
        self.server: DevServer | None = None
        if path == "lambda":
            self.app = HttpApp(lambda: self.runtime, logger=logger)
        else:
            # No job worker: its background reads would take faults armed for the call under test.
            self.server = DevServer(
                lambda: self.runtime,
                self.settings.functions_dir,
                port=0,
                out=io.StringIO(),
                reload_interval=60,
                run_jobs=False,
            )
            self.server.start_background()

    def close(self) -> None:
        self.injector.close()
        if self.server is not None:
            self.server.shutdown()
        self.runtime.database.close()

    # -- requests ------------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        *,
        jar: dict[str, str] | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        """One call; with ``jar`` its cookies are sent and the response's ``Set-Cookie`` values update it."""
        raw = b"" if body is None else json.dumps(body).encode()
        headers = {"content-type": "application/json", "origin": ORIGIN, **(headers or {})}
        cookies = [f"{name}={value}" for name, value in (jar or {}).items()]
        if self.server is None:
            route, _, query = path.partition("?")
            event = make_event(
                method, route, raw, headers={"host": "app.example.test", **headers}, query=query, cookies=cookies
            )
            response = self.app(event, self.context)
            text = response["body"]
            _update(jar, response.get("cookies", []))
            return response["statusCode"], (json.loads(text) if text else None), dict(response["headers"])
        if cookies:
            headers["cookie"] = "; ".join(cookies)
        host, port = self.server.httpd.server_address[:2]
        connection = http.client.HTTPConnection(str(host), int(port), timeout=60)
        try:
            connection.request(method, path, body=raw, headers=headers)
            reply = connection.getresponse()
            text = reply.read().decode()
            _update(jar, reply.msg.get_all("Set-Cookie") or [])
            return reply.status, (json.loads(text) if text else None), {k.lower(): v for k, v in reply.getheaders()}
        finally:
            connection.close()

    def mutation(self, name: str, function: str = "counter:increment", token: str | None = None) -> tuple[int, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        status, body, _ = self.request("POST", "/api/mutation", {"path": function, "args": {"name": name}}, headers)
        return status, body

    def value(self, name: str) -> float:
        with self.injector.paused():
            status, body, _ = self.request("POST", "/api/query", {"path": "counter:get", "args": {"name": name}})
        assert status == 200, body
        assert body["status"] == "success", body
        return float(body["value"])

    def sign_up(self, email: str) -> str:
        """A new user; returns the bearer token (``set-auth-token``)."""
        body = {"name": "Ada", "email": email, "password": PASSWORD}
        with self.injector.paused():
            status, reply, headers = self.request("POST", "/api/auth/sign-up/email", body)
        assert status == 200, reply
        return headers["set-auth-token"]


def _update(jar: dict[str, str] | None, set_cookies: list[str]) -> None:
    if jar is None:
        return
    for line in set_cookies:
        name, _, rest = line.partition("=")
        value = rest.split(";")[0]
        if not value or "Max-Age=0" in line:
            jar.pop(name, None)
        else:
            jar[name] = value


def hot_counter(stack: Stack, clients: int = 8, increments: int = 25, name: str = "hot") -> dict[str, Any]:
    """``clients`` threads each send ``increments`` calls of ``counter:increment`` on one counter, one at a time.

    Returns ``failures`` (responses other than a 200 success, with their bodies), ``latencies`` (seconds per
    call, every call) and the counter's final ``value``.
    """
    barrier = threading.Barrier(clients)
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[tuple[int, Any]] = []

    def client() -> None:
        barrier.wait()
        for _ in range(increments):
            started = time.perf_counter()
            status, body = stack.mutation(name)
            took = time.perf_counter() - started
            with lock:
                latencies.append(took)
                if status != 200 or body.get("status") != "success":
                    failures.append((status, body))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"failures": failures, "latencies": latencies, "value": stack.value(name)}

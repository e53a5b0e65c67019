"""A stand-in for the AWS Parameters and Secrets Lambda Extension on 127.0.0.1 (stdlib only).

It answers ``GET /systemsmanager/parameters/get?name=...&withDecryption=true`` like the real one:
200 with ``{"Parameter": {"Value": ...}}`` when the token header matches, 400 while "starting"
(the first ``not_ready`` requests), 401 on a wrong token, 404 for an unknown parameter. With ``authorize``, the
token names the caller (each function has its own session token) and a parameter it may not read is refused
with 400 and AccessDeniedException, as the extension relays SSM's refusal.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


@dataclass
class FakeExtension:
    parameters: dict[str, str]
    token: str = "session-token"
    not_ready: int = 0
    port: int = 0
    requests: list[str] = field(default_factory=list)
    #: ``(token, parameter name)`` of every authorised read (with ``authorize``).
    reads: list[tuple[str, str]] = field(default_factory=list)


@contextmanager
def fake_extension(
    parameters: dict[str, str],
    *,
    token: str = "session-token",
    not_ready: int = 0,
    authorize: Callable[[str, str], bool] | None = None,
) -> Iterator[FakeExtension]:
    state = FakeExtension(dict(parameters), token, not_ready)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            state.requests.append(url.path)
            if state.not_ready > 0:
                state.not_ready -= 1
                return self._answer(400, {"error": "not ready to serve traffic, please wait"})
            sent = self.headers.get("X-Aws-Parameters-Secrets-Token") or ""
            if authorize is None and sent != state.token:
                return self._answer(401, {"error": "bad token"})
            name = query.get("name", [""])[0]
            if authorize is not None:
                if not authorize(sent, name):
                    return self._answer(400, {"error": "AccessDeniedException: not authorized to ssm:GetParameter"})
                state.reads.append((sent, name))
            if url.path != "/systemsmanager/parameters/get" or query.get("withDecryption") != ["true"]:
                return self._answer(400, {"error": "bad request"})
            if name not in state.parameters:
                return self._answer(404, {"error": "ParameterNotFound"})
            return self._answer(
                200, {"Parameter": {"Name": name, "Type": "SecureString", "Value": state.parameters[name]}}
            )

        def _answer(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

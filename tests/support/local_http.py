"""A tiny HTTP server on 127.0.0.1 for tests that need a real remote endpoint (an identity provider's keys)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

#: What a route answers: status, extra headers, and a body (a JSON value, or bytes sent as they are).
Answer = tuple[int, "Mapping[str, str]", Any]


class LocalServer:
    """Answers GET requests from ``routes`` (path → function returning an :data:`Answer`); counts hits per path.

    Unknown paths are 404. Subclasses answer other methods by overriding :meth:`answer`. Call :meth:`close` when
    done (or use it as a context manager).
    """

    def __init__(self, routes: Mapping[str, Callable[[], Answer]]) -> None:
        self.routes = dict(routes)
        self.hits: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._reply(self, "GET", b"")

            def do_POST(self) -> None:
                server._reply(self, "POST", self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def answer(self, method: str, path: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        """What to send for one request (``path`` with its query string); GETs of ``routes`` by default."""
        route = self.routes.get(path) if method == "GET" else None
        return route() if route else (404, {}, {"error": "not found"})

    def _reply(self, handler: BaseHTTPRequestHandler, method: str, body: bytes) -> None:
        self.hits[handler.path] = self.hits.get(handler.path, 0) + 1
        status, headers, payload = self.answer(method, handler.path, body, handler.headers)
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

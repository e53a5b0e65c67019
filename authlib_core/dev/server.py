"""The dev server: a real HTTP server on 127.0.0.1 that plays API Gateway for the Lambda handler.

Each request becomes an API Gateway HTTP API (payload v2) event and goes through the same
:class:`~authlib_core.http.app.HttpApp` the Lambda entry point uses; only the runtime differs (the embedded SQLite
store by default, rebuilt when the functions folder changes). Like API Gateway, the server owns CORS
(``--cors-origin``): it answers preflights (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) and
replaces any ``Access-Control-*`` header an HTTP action sets; other ``OPTIONS`` requests outside ``/api`` reach the
HTTP actions. With ``--static``, a path an HTTP action routes is the action's, others are files.

Start it with ``python -m authlib_core dev`` (options in :mod:`authlib_core.dev.cli`).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import io
import re
import sys
import threading
import time
import uuid
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, TextIO

from aws_lambda_powertools import Logger

from authlib_core.auth.redirects import UnsafeHeaderValueError, header_value
from authlib_core.dev.baton import Baton, arrived_body_length, framing_agrees, route_of
from authlib_core.dev.console import ConsoleFormatter
from authlib_core.dev.guard import HostPolicy, Refusal, body_limit, read_body
from authlib_core.dev.reload import Reloader
from authlib_core.dev.static import StaticFiles
from authlib_core.dev.websocket import SyncHub, sync_client_version
from authlib_core.display import terminal_text
from authlib_core.functions.http_router import is_api_path
from authlib_core.http.app import HttpApp
from authlib_core.http.wire import dump_body
from authlib_core.scheduler.worker import SchedulerWorker

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from authlib_core.http.app import CallRecord
    from authlib_core.http.identity import AuthHandler, IdentityResolver
    from authlib_core.runtime import Runtime
    from authlib_core.scheduler.runner import RunResult

__all__ = ["CORS_ALLOW_HEADERS", "CorsPolicy", "DevContext", "DevServer", "request_event"]

CORS_ALLOW_HEADERS = "content-type, authorization, convex-client"
CORS_EXPOSE_HEADERS = "set-auth-token"
CORS_ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"


@dataclasses.dataclass(frozen=True, slots=True)
class CorsPolicy:
    """API Gateway's ``CorsConfiguration``, played locally: exact origins, with credentials."""

    origins: tuple[str, ...] = ()

    def headers_for(self, origin: str | None) -> dict[str, str]:
        """The CORS headers of a response to a request from ``origin`` (none for an origin not in the list)."""
        if not origin or origin not in self.origins:
            return {}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Expose-Headers": CORS_EXPOSE_HEADERS,
        }

    def preflight_headers(self, origin: str | None) -> dict[str, str]:
        """The headers of a 204 preflight answer (none for an origin not in the list)."""
        base = self.headers_for(origin)
        if not base:
            return {}
        return {
            **base,
            "Access-Control-Allow-Methods": CORS_ALLOW_METHODS,
            "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
            "Access-Control-Max-Age": "600",
        }


@dataclasses.dataclass(frozen=True, slots=True)
class DevContext:
    """A stand-in for the Lambda context object (what Powertools Logger reads from it)."""

    aws_request_id: str
    function_name: str = "authlib-core-dev"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:authlib-core-dev"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def request_event(
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    client_ip: str,
    host: str,
    *,
    trust_forwarded_proto: bool = False,
) -> dict[str, Any]:
    """The API Gateway HTTP API (payload v2) event for one HTTP request.

    Headers are lower-cased (repeated ones joined with ``,``); the ``Cookie`` header moves to ``cookies``; a body
    that is not UTF-8 text is base64-encoded. ``client_ip`` is appended to ``X-Forwarded-For`` (API Gateway does the
    same); ``X-Forwarded-Proto`` is ``http`` unless ``trust_forwarded_proto`` lets the client's value through.
    """
    path, _, query = target.partition("?")
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    # As API Gateway does: the peer is appended to what the client sent, so the right-most entry is always real.
    forwarded = merged.get("x-forwarded-for", "").strip().strip(",")
    merged["x-forwarded-for"] = f"{forwarded}, {client_ip}" if forwarded else client_ip
    # This server speaks plain HTTP; only a TLS proxy in front of it (trusted explicitly) may say otherwise.
    if not trust_forwarded_proto or merged.get("x-forwarded-proto", "").strip().lower() not in ("http", "https"):
        merged["x-forwarded-proto"] = "http"
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode("ascii"), True
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path or "/",
        "rawQueryString": query,
        "headers": merged,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": path or "/",
                "protocol": "HTTP/1.1",
                "sourceIp": client_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": "$default",
            "stage": "$default",
            "time": _http_date(int(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if cookies:
        event["cookies"] = cookies
    if body:
        event["body"] = text
    return event


_date_cache: tuple[int, str] = (-1, "")


def _http_date(second: int) -> str:
    """``formatdate(second, usegmt=True)``, formatted once per second (every request of that second shares it).

    Example:
        >>> _http_date(0)
        'Thu, 01 Jan 1970 00:00:00 GMT'
    """
    global _date_cache  # one (second, text) pair, replaced whole: safe to read from any thread
    cached_second, text = _date_cache
    if cached_second != second:
        text = formatdate(second, usegmt=True)
        _date_cache = (second, text)
    return text


class DevServer:
    """The HTTP server, the reloader and the app, wired together.

    Example:
        >>> server = DevServer(lambda: build_runtime(settings), settings.functions_dir, port=0)  # doctest: +SKIP
        >>> server.start_background(); server.url                                                # doctest: +SKIP
        'http://127.0.0.1:53211'
    """

    def __init__(
        self,
        build: Callable[[], Runtime],
        functions_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 3210,
        cors: CorsPolicy | None = None,
        static_dir: Path | None = None,
        identity: IdentityResolver | None = None,
        auth: AuthHandler | None = None,
        out: TextIO | None = None,
        reload_interval: float = 0.3,
        expose_load_errors: bool = False,
        trusted_origins: Sequence[str] = (),
        trust_forwarded_proto: bool = False,
        read_timeout: float = 10.0,
        max_connections: int = 256,
        codegen_dir: Path | None = None,
        run_jobs: bool = True,
        baton_patience: float = 0.1,
    ) -> None:
        self.out = out or sys.stdout
        self.cors = cors or CorsPolicy()
        self.hosts = HostPolicy(bound_host=host, origins=(*trusted_origins, *self.cors.origins))
        self.trust_forwarded_proto = trust_forwarded_proto
        self.read_timeout = read_timeout
        self.static = StaticFiles(static_dir) if static_dir is not None else None
        # Structured request lines are for CloudWatch; locally the server prints one readable line per call.
        logger = Logger(service="authlib-core", level="WARNING", logger_formatter=ConsoleFormatter())
        # Live queries: every runtime built (first load, reloads) publishes its commits on the hub's change feed.
        self.sync = SyncHub(lambda: self.reloader.current(), logger)
        self.sync.on_call = self._print  # calls over /api/sync get the same one line as HTTP calls
        self.reloader = Reloader(
            lambda: self.sync.follow(build()),
            functions_dir,
            interval=reload_interval,
            out=self.out,
            on_load=self._loaded,
        )
        self.codegen_dir = codegen_dir
        # Scheduled functions and cron jobs: an in-process worker over the current runtime (docs/scheduler.md).
        # run_jobs=False: jobs stay pending (another process runs them, or a test drives the store call by call).
        self.scheduler = SchedulerWorker(self.reloader.current, on_run=self._print_job) if run_jobs else None
        self.app = HttpApp(
            self.reloader.current,
            identity=identity,
            auth=auth,
            logger=logger,
            on_call=self._print,
            load_error_source=functions_dir if expose_load_errors else None,
        )
        # Short requests that had fully arrived are answered one at a time (authlib_core/dev/baton.py).
        # baton_patience: how long after its holder took it a request waits for it before going on without it.
        self.baton = Baton(baton_patience)
        self.httpd = _Server((host, port), _handler_class(self), max_connections=max_connections)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` the server listens on."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        """Load the functions (a failure is printed; the server still starts) and start the reloader."""
        self.reloader.load()
        self.reloader.start()
        if self.scheduler is not None:
            self.scheduler.start()
        print(f"authlib-core dev server listening on {self.url}", file=self.out, flush=True)

    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown` is called from another thread."""
        self.httpd.serve_forever(poll_interval=0.2)

    def start_background(self) -> None:
        """:meth:`start` and serve on a background thread (tests)."""
        self.start()
        self._thread = threading.Thread(target=self.serve_forever, name="authlib-dev-server", daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        """Stop serving (from another thread than :meth:`serve_forever`), stop the reloader, close the socket."""
        self.httpd.shutdown()
        self.close()

    def close(self) -> None:
        """Stop the reloader and close the listening socket."""
        self.reloader.stop()
        if self.scheduler is not None:
            self.scheduler.stop()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def http_route_at(self, path: str, method: str) -> bool:
        """Whether an HTTP action of the current functions serves ``method`` at ``path`` (it wins over files)."""
        try:
            router = self.reloader.current().app.http
        except Exception:  # functions that do not load: the static folder still answers
            return False
        return router is not None and router.lookup(path, method) is not None

    def _loaded(self, runtime: Runtime) -> None:
        """A runtime became current: live queries run again, and the TypeScript types follow (``--codegen``)."""
        self.sync.reloaded(runtime)
        if self.scheduler is not None:
            self.scheduler.wake()
        if self.codegen_dir is None:
            return
        from authlib_core.dev.codegen import write_generated

        try:
            written = write_generated(runtime.app, self.codegen_dir)
        except OSError as exc:
            print(f"error: could not write the generated types into {self.codegen_dir}: {exc}", file=self.out)
            return
        if written:
            print(f"codegen: wrote {', '.join(path.name for path in written)} in {self.codegen_dir}", file=self.out)

    def _print_job(self, name: str, result: RunResult, duration_ms: float) -> None:
        print(f"job {name} {result.job_id} {result.outcome} {duration_ms:.1f}ms", file=self.out, flush=True)

    def _print(self, record: CallRecord) -> None:
        name = f" {record.function}" if record.function else ""
        line = f"{record.method} {record.route}{name} {record.status} {record.outcome} {record.duration_ms:.1f}ms"
        if record.trace:
            line += "\n" + record.trace
        # The function name and the traceback's messages can hold request text: no terminal commands in them.
        print(terminal_text(line), file=self.out, flush=True)


class _Server(ThreadingHTTPServer):
    """One thread per connection, at most ``max_connections`` at once; past that a connection gets a 503 at once."""

    # listen() backlog: the stdlib's 5 drops SYNs when a browser or a load test opens more connections at once,
    # and each dropped SYN costs the client a 1 s retransmission.
    request_queue_size = 128
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], *, max_connections: int
    ) -> None:
        self._slots = threading.BoundedSemaphore(max_connections)
        self.max_connections = max_connections
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.sendall(_BUSY)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def _json_bytes(body: Any) -> bytes:
    return dump_body(body).encode("utf-8")


_BUSY_BODY = _json_bytes(
    {"code": "ServiceUnavailable", "message": "The dev server has too many open connections; retry shortly"}
)
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
    + f"Content-Length: {len(_BUSY_BODY)}\r\n\r\n".encode("ascii")
    + _BUSY_BODY
)
#: Codes of the stdlib's own errors (malformed request line, long or too many headers, unknown method).
_STDLIB_ERROR_CODES = {
    400: "BadRequest",
    404: "NotFound",
    405: "MethodNotAllowed",
    408: "RequestTimeout",
    413: "RequestTooLarge",
    414: "UriTooLong",
    431: "RequestHeaderFieldsTooLarge",
    505: "HttpVersionNotSupported",
}


#: The methods the server answers (others get a 405 naming them).
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_METHODS_TEXT = f"{', '.join(_METHODS[:-1])} or {_METHODS[-1]}"

#: Requests answered holding the baton: function calls that only read and write the database, no I/O outside it.
_QUICK_ROUTES = frozenset({("POST", "/api/query"), ("GET", "/api/query"), ("POST", "/api/mutation")})

#: A request-target as sent on the wire: visible ASCII (the stdlib decodes the request line as Latin-1).
_TARGET = re.compile(r"[\x21-\x7e]+")
_BAD_TARGET = (
    "the request target holds a control character, a space or a byte outside ASCII; percent-encode them "
    "(%1B, %C3%A9), as browsers do"
)


def _handler_class(server: DevServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "authlib-core-dev"
        # TCP_NODELAY: with Nagle on, a response that leaves in two writes waits for the client's delayed ACK of
        # the first (~40 ms per keep-alive request on Linux). bench/throughput.py measures it.
        disable_nagle_algorithm = True
        # A buffered response stream: headers and body leave in one write when the stdlib flushes it after each
        # request (one system call, and one release of the GIL, per response instead of two). WebSocket
        # connections write to the socket itself.
        wbufsize = io.DEFAULT_BUFFER_SIZE
        # Socket read timeout (slowloris): a client that sends nothing for this long is disconnected.
        timeout = server.read_timeout
        #: Whether this thread holds the server's baton for the request being answered.
        holding = False
        #: The body length of a quick request that had fully arrived (the baton was tried before parsing it).
        arrived: int | None = None

        def handle_one_request(self) -> None:
            """The stdlib's, holding the server's baton when the whole request had arrived (dev/baton.py)."""
            try:
                buffered = self.rfile.peek(1) if isinstance(self.rfile, io.BufferedReader) else b""
            except TimeoutError:  # as the stdlib's own read of the request line: quietly close
                self.close_connection = True
                return
            self.arrived = arrived_body_length(buffered) if route_of(buffered) in _QUICK_ROUTES else None
            self.holding = self.arrived is not None and server.baton.take()
            try:
                super().handle_one_request()
            finally:
                self.let_go()

        def let_go(self) -> None:
            """Give the baton back before anything that may wait on the outside world."""
            if self.holding:
                self.holding = False
                server.baton.give()

        def parse_request(self) -> bool:
            """The stdlib's parsing, then the request-target's bytes: visible ASCII only (RFC 9112; a browser
            percent-encodes the rest). The path is printed on the developer's terminal, where ESC and C1 bytes
            would be terminal commands."""
            if not super().parse_request():
                return False
            if _TARGET.fullmatch(self.path) is None:
                self.send_error(400, "Bad Request", _BAD_TARGET)
                return False
            return True

        def handle_expect_100(self) -> bool:
            """The stdlib's ``100 Continue``, sent now: the buffered response stream would hold it back until the
            final answer, and the client waits for it before sending the body."""
            answered = super().handle_expect_100()
            self.wfile.flush()
            return answered

        def date_time_string(self, timestamp: float | None = None) -> str:
            """The ``Date`` header's value (as the standard library's, computed once per second)."""
            return _http_date(int(time.time() if timestamp is None else timestamp))

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            is_sync, client_version = sync_client_version(path)
            if is_sync:
                self.let_go()
                self._sync(client_version)
            elif server.static is not None and not is_api_path(path) and not server.http_route_at(path, "GET"):
                self.let_go()
                if self._admit() is not None:
                    self._static(path)
            else:
                self._lambda()

        def do_OPTIONS(self) -> None:
            path = self.path.split("?", 1)[0]
            preflight = "origin" in self.headers and "access-control-request-method" in self.headers
            if not preflight and not is_api_path(path):  # as API Gateway: only preflights are answered for you
                self._lambda()
                return
            if self._admit() is None:
                return
            headers = server.cors.preflight_headers(self.headers.get("origin"))
            self._send(204, {**headers, "Vary": "Origin"}, [], b"")

        def do_POST(self) -> None:
            self._lambda()

        def do_PUT(self) -> None:
            self._lambda()

        def do_PATCH(self) -> None:
            self._lambda()

        def do_DELETE(self) -> None:
            self._lambda()

        def _admit(self) -> bytes | None:
            """The request body, once the Host and the body framing passed; None when a refusal was sent."""
            try:
                server.hosts.check(self.headers.get_all("host") or [])
                return read_body(self.headers, self.rfile, body_limit(self.path.split("?", 1)[0]))
            except Refusal as refusal:
                self.close_connection = self.close_connection or refusal.close
                extra = {"Connection": "close"} if refusal.close else {}
                headers = {"Content-Type": "application/json", **extra}
                self._send(refusal.status, headers, [], _json_bytes(refusal.body()))
                return None

        def _sync(self, client_version: str | None) -> None:
            """A WebSocket for live queries (Host, Origin and per-address limits checked first)."""
            try:
                server.hosts.check(self.headers.get_all("host") or [])
                host = self.headers.get("host")
                server.sync.check_origin(self.headers.get("origin"), server.hosts)
                server.sync.serve(self, client_version, f"http://{host or 'localhost'}")
            except Refusal as refusal:
                self.close_connection = True
                body = _json_bytes(refusal.body())
                self._send(refusal.status, {"Content-Type": "application/json", "Connection": "close"}, [], body)

        def _lambda(self) -> None:
            quick = (self.command, self.path.split("?", 1)[0]) in _QUICK_ROUTES
            if not quick or (self.arrived is not None and not framing_agrees(self.headers, self.arrived)):
                self.let_go()  # never read a body the baton's look at the buffer did not see whole
            body = self._admit()
            if body is None:
                return
            if quick and self.arrived is None:  # its body came after its head: the baton from here on
                self.holding = server.baton.take()
            host = self.headers.get("host", "localhost")
            event = request_event(
                self.command,
                self.path,
                self.headers.items(),
                body,
                self.client_address[0],
                host,
                trust_forwarded_proto=server.trust_forwarded_proto,
            )
            response = server.app(event, DevContext(aws_request_id=event["requestContext"]["requestId"]))
            if self.command == "POST" and event["rawPath"].startswith("/api/auth/"):
                # sign-out, revocations, password changes live in the session store, not in documents: let live
                # connections check their sessions now rather than on the next commit
                server.sync.sessions_changed()
            raw = response.get("body") or ""
            payload = base64.b64decode(raw) if response.get("isBase64Encoded") else str(raw).encode("utf-8")
            # As API Gateway with CORS configured: the app's own CORS headers are ignored, the configured ones sent.
            own = {k: v for k, v in response.get("headers", {}).items() if not k.lower().startswith("access-control-")}
            headers = {**own, **server.cors.headers_for(self.headers.get("origin"))}
            headers["Vary"] = "Origin"
            self._send(int(response["statusCode"]), headers, list(response.get("cookies") or []), payload)

        def do_HEAD(self) -> None:
            self.do_GET()  # the app answers as for GET; _send leaves the body out

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """The standard library's own refusals (bad request line, 431, unknown method...) in our JSON shape."""
            allow = {}
            if code == 501:  # the stdlib's answer to a method no do_X handles: the client's mistake, so a 4xx
                code, message, explain = 405, "Method Not Allowed", f"use {_METHODS_TEXT}"
                allow = {"Allow": ", ".join(_METHODS)}  # RFC 9110 section 15.5.6: a 405 lists what is allowed
            short, long = self.responses.get(code, ("Error", "The request could not be handled"))
            reason = message or short
            text = f"{reason}: {explain or long}" if (explain or long) != reason else reason
            if code == 431:
                text = f"{reason}; the limits are 65536 bytes per header line and 100 headers"
            body = _json_bytes({"code": _STDLIB_ERROR_CODES.get(code, "BadRequest"), "message": text})
            self.request_version = "HTTP/1.1"  # always a status line and headers, even for an HTTP/0.9-shaped line
            if getattr(self, "command", None) is None and getattr(self, "raw_requestline", b"").startswith(b"HEAD "):
                self.command = "HEAD"  # an unparseable HEAD line still gets no body
            self.close_connection = True
            self._send(code, {"Content-Type": "application/json", "Connection": "close", **allow}, [], body)

        def _static(self, path: str) -> None:
            assert server.static is not None
            status, headers, body = server.static.answer(path)
            self._send(status, headers, [], body)

        def _send(self, status: int, headers: dict[str, str], cookies: list[str], body: bytes) -> None:
            try:  # a value that could split the response never reaches the socket
                for name, value in [*headers.items(), *(("Set-Cookie", cookie) for cookie in cookies)]:
                    header_value(name, value)
            except UnsafeHeaderValueError:
                status, headers, cookies = 500, {"Content-Type": "application/json"}, []
                body = _json_bytes({"code": "InternalServerError", "message": "The response had an unsafe header"})
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            for cookie in cookies:
                self.send_header("Set-Cookie", cookie)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD" and status >= 200 and status not in (204, 304):
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the app prints one line per call

    return Handler


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m authlib_core dev`` (the CLI calls this with the remaining arguments)."""
    from authlib_core.dev.cli import main as cli_main

    return cli_main(argv)

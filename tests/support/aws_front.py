"""A local stand-in for the deployed live-query path, so the published clients can be pointed at the real handlers.

One local HTTP server plays what sits in front of the Lambdas on AWS:

* plain HTTP requests: API Gateway's HTTP API, each answered by the function the expanded template routes it to
  (:class:`tests.sam.lambda_stack.LambdaStack`: the function's environment and IAM role);
* ``GET /api/<version>/sync`` with a WebSocket upgrade: CloudFront's rewrite plus API Gateway's WebSocket API: a
  ``$connect`` event (with ``clientVersion``), one ``$default`` event per text frame, ``$disconnect`` when the socket
  closes; what the handlers post with ``PostToConnection`` is sent on the socket, ``DeleteConnection`` closes it;
* a poller thread: moto's DynamoDB stream of the documents table, in batches, to the fan-out function.

Invocations run one at a time (each function's environment is the process's, as in its own Lambda). The
``websockets`` library frames the socket, as on the dev server; it is a test dependency here, never on the Lambda path.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from authlib_core.dev.websocket import sync_client_version
from tests.http.conftest import Context, make_event

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.sam.live_stack import LiveStack


class AwsFront:
    """The local front (see the module docstring). Use :func:`serve_front`."""

    def __init__(self, live: LiveStack) -> None:
        self.live = live
        self.lock = threading.RLock()  # one invocation at a time
        self.sockets: dict[str, Any] = {}
        self.errors: list[str] = []
        live.on_post = self._post
        live.on_close = self._close
        self._stop = threading.Event()

    # -- API Gateway -> the client ------------------------------------------------------------------------------
    def _post(self, connection: str, text: str) -> None:
        socket = self.sockets.get(connection)
        if socket is not None:
            with contextlib.suppress(Exception):
                socket.send(text)

    def _close(self, connection: str) -> None:
        socket = self.sockets.pop(connection, None)
        if socket is not None:
            threading.Thread(target=socket.close, daemon=True).start()  # not from inside the invocation

    # -- invocations ----------------------------------------------------------------------------------------------
    def http(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
        event = make_event(method, path, body, headers=headers, cookies=cookies, query=query)
        with self.lock:
            function = self.live.http.function_for(method, path)
            result: dict[str, Any] = self.live.http.app(function)(event, Context())
        return result

    def pump_forever(self) -> None:
        while not self._stop.wait(0.05):
            try:
                with self.lock:
                    self.live.pump()
            except Exception as exc:
                self.errors.append(f"fan-out: {exc!r}")

    def socket_session(self, handler: BaseHTTPRequestHandler, client_version: str | None) -> None:
        from websockets.http11 import Request
        from websockets.server import ServerProtocol
        from websockets.sync.connection import Connection

        protocol = ServerProtocol(max_size=128 * 1024)
        head = "".join(f"{name}: {value}\r\n" for name, value in handler.headers.items())
        protocol.receive_data(f"GET {handler.path} HTTP/1.1\r\n{head}\r\n".encode("latin-1"))
        request = next(event for event in protocol.events_received() if isinstance(event, Request))
        connection_id = base64.b64encode(uuid.uuid4().bytes[:12]).decode()
        with self.lock:
            accepted = self.live.connect(
                connection_id, origin=handler.headers.get("origin"), client_version=client_version
            )
        if accepted.get("statusCode") != 200:
            response = protocol.reject(accepted["statusCode"], str(accepted.get("body", "")))
        else:
            response = protocol.accept(request)
        protocol.send_response(response)
        handler.connection.settimeout(None)
        handler.connection.sendall(b"".join(protocol.data_to_send()))
        handler.close_connection = True
        if response.status_code != 101:
            return
        socket = Connection(handler.connection, protocol)
        self.sockets[connection_id] = socket
        try:
            for message in socket:
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                with self.lock:
                    self.live.send(connection_id, json.loads(text))
        except Exception as exc:
            if "ConnectionClosed" not in type(exc).__name__:
                self.errors.append(f"socket {connection_id}: {exc!r}")
        finally:
            self.sockets.pop(connection_id, None)
            with self.lock:
                self.live.disconnect(connection_id)

    def stop(self) -> None:
        self._stop.set()


def _handler(front: AwsFront) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self) -> None:
            path, _, query = self.path.partition("?")
            is_sync, version = sync_client_version(path)
            if is_sync and "websocket" in (self.headers.get("upgrade") or "").lower():
                front.socket_session(self, version)
                return
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            result = front.http(self.command, path, query, headers, body)
            raw = result.get("body") or ""
            data = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode("utf-8")
            self.send_response(result["statusCode"])
            for name, value in (result.get("headers") or {}).items():
                self.send_header(name, value)
            for cookie in result.get("cookies") or []:
                self.send_header("set-cookie", cookie)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

    return Handler


@contextlib.contextmanager
def serve_front(live: LiveStack) -> Iterator[tuple[str, AwsFront]]:
    """Run the front on 127.0.0.1 (a free port) with its stream poller; yields ``(url, front)``."""
    front = AwsFront(live)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(front))
    server.daemon_threads = True
    threads = [
        threading.Thread(target=server.serve_forever, name="aws-front", daemon=True),
        threading.Thread(target=front.pump_forever, name="aws-front-stream", daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", front
    finally:
        front.stop()
        server.shutdown()
        server.server_close()
        for thread in threads:
            thread.join(10)

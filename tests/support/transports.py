"""One request interface over both ways into the app: the Lambda handler (API Gateway v2 events) and the dev server.

``LambdaTransport`` calls :class:`~authlib_core.http.app.HttpApp` with an event as API Gateway builds it;
``DevTransport`` speaks raw HTTP/1.1 over a socket, so malformed framing and headers reach the server as sent.
Both answer a :class:`Reply` (status, header pairs, body bytes).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import socket
import uuid
from typing import TYPE_CHECKING, Any

from authlib_core.config import Settings
from authlib_core.dev.server import DevServer
from authlib_core.http.app import HttpApp
from authlib_core.runtime import build_runtime
from tests.http.conftest import Context

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    from authlib_core.runtime import Runtime


@dataclasses.dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)


class LambdaTransport:
    """Requests as API Gateway HTTP API (payload v2) events to the Lambda handler."""

    name = "lambda"

    def __init__(self, app: HttpApp, host: str = "api.example.test") -> None:
        self.app = app
        self.host = host
        self.origin = f"https://{host}"

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        source_ip: str = "198.51.100.1",
    ) -> Reply:
        target, _, query = path.partition("?")
        merged: dict[str, str] = {"host": self.host, "x-forwarded-proto": "https", "x-forwarded-for": source_ip}
        cookies: list[str] = []
        for name, value in headers:
            key = name.lower()
            if key == "cookie":
                cookies.extend(part.strip() for part in value.split(";") if part.strip())
            elif key in ("x-forwarded-for",):
                merged[key] = f"{value}, {source_ip}"
            elif key in ("x-forwarded-proto", "host"):
                merged[key] = value  # API Gateway sets these itself; a test may still pass what it wants
            else:
                merged[key] = f"{merged[key]},{value}" if key in merged else value
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": target,
            "rawQueryString": query,
            "headers": merged,
            "cookies": cookies,
            "requestContext": {
                "http": {"method": method, "path": target, "sourceIp": source_ip, "protocol": "HTTP/1.1"},
                "requestId": uuid.uuid4().hex,
                "domainName": self.host,
                "stage": "$default",
            },
            "isBase64Encoded": True,
            "body": base64.b64encode(body).decode(),
        }
        response = self.app(event, Context())
        pairs = [(str(k), str(v)) for k, v in (response.get("headers") or {}).items()]
        pairs += [("Set-Cookie", str(c)) for c in response.get("cookies") or []]
        raw = response.get("body") or ""
        payload = base64.b64decode(raw) if response.get("isBase64Encoded") else str(raw).encode("utf-8")
        return Reply(int(response["statusCode"]), pairs, payload)


class DevTransport:
    """Raw HTTP/1.1 requests over a new socket each (``Connection: close``)."""

    name = "dev"

    def __init__(self, server: DevServer) -> None:
        self.server = server
        host, port = server.httpd.server_address[:2]
        self.address = (str(host), int(port))
        self.host = f"127.0.0.1:{port}"
        self.origin = f"http://{self.host}"

    def raw(self, data: bytes, *, timeout: float = 60.0) -> Reply:
        """Send ``data`` as it is and read the whole answer."""
        with socket.create_connection(self.address, timeout=timeout) as sock:
            with contextlib.suppress(OSError):
                sock.sendall(data)
            chunks = []
            while True:
                try:
                    chunk = sock.recv(65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                chunks.append(chunk)
        return parse_reply(b"".join(chunks))

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        source_ip: str = "",
    ) -> Reply:
        names = {name.lower() for name, _ in headers}
        lines = [f"{method} {path} HTTP/1.1"]
        if "host" not in names:
            lines.append(f"Host: {self.host}")
        lines += [f"{name}: {value}" for name, value in headers]
        if "content-length" not in names and "transfer-encoding" not in names and (body or method != "GET"):
            lines.append(f"Content-Length: {len(body)}")
        lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return self.raw(head + body)


def parse_reply(data: bytes) -> Reply:
    """Status, headers and body of one HTTP/1.1 response (``Content-Length`` framing)."""
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/1."):
        raise AssertionError(f"not an HTTP response: {data[:200]!r}")
    status = int(lines[0].split(" ", 2)[1])
    headers = [(k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:])]
    length = next((int(v) for k, v in headers if k.lower() == "content-length"), len(rest))
    return Reply(status, headers, rest[:length])


def example_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """The example app (functions/, with the auth tables) on a fresh SQLite file."""
    from tests.support.node_clients import EXAMPLE_FUNCTIONS

    values: dict[str, Any] = {"functions_dir": EXAMPLE_FUNCTIONS, "sqlite_path": tmp_path / "app.sqlite3"}
    return Settings(**{**values, **overrides})


def lambda_transport(settings: Settings) -> LambdaTransport:
    runtime = build_runtime(settings)
    return LambdaTransport(HttpApp(lambda: runtime))


@contextlib.contextmanager
def dev_transport(settings: Settings, **server_options: Any) -> Iterator[DevTransport]:
    import io

    def build() -> Runtime:
        return build_runtime(settings)

    server_options.setdefault("trusted_origins", settings.trusted_origins)  # as `authlib-core dev` passes them
    server = DevServer(build, settings.functions_dir, port=0, out=io.StringIO(), **server_options)
    server.start_background()
    try:
        yield DevTransport(server)
    finally:
        server.shutdown()


def json_body(value: Any) -> tuple[list[tuple[str, str]], bytes]:
    return [("Content-Type", "application/json")], json.dumps(value).encode()

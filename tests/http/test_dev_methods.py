"""Methods over real sockets: only a GET upgrades to a WebSocket, and an unknown method's 405 names the others."""

from __future__ import annotations

import json

import pytest

from tests.http.test_dev_baton import connect, head, read_all, whole
from tests.http.test_dev_server import _dev_server, functions_dir  # noqa: F401 (fixture)

UPGRADE = (
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
)


@pytest.fixture
def dev(functions_dir, tmp_path):  # noqa: F811 (the fixture imported above)
    yield from _dev_server(functions_dir, tmp_path)


def head_of(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-cased names) and what follows the head."""
    top, _, rest = answer.partition(b"\r\n\r\n")
    status_line, *lines = top.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, rest


def until_head(sock) -> bytes:
    """The answer's bytes up to the end of its head (a 101 would leave the connection open)."""
    answer = b""
    while b"\r\n\r\n" not in answer and (chunk := sock.recv(65536)):
        answer += chunk
    return answer


@pytest.mark.parametrize("target", ["/api/sync", "/api/1.49.0/sync"])
def test_head_of_a_sync_path_never_upgrades_and_answers_as_a_plain_get(dev, target):
    with connect(dev) as sock:
        sock.sendall(head(dev, "HEAD", target, *UPGRADE))
        status, headers, _ = head_of(until_head(sock))
        assert status == 426
        rest = read_all(sock)  # the server closes the connection: no body and no WebSocket frames follow
    assert rest == b""
    get_status, get_headers, get_body = head_of(whole(dev, "GET", target))
    assert (get_status, json.loads(get_body)["code"]) == (426, "UpgradeRequired")
    assert (headers["content-type"], headers["content-length"]) == (get_headers["content-type"], str(len(get_body)))
    assert "upgrade" not in headers
    assert "sec-websocket-accept" not in headers


def test_get_of_a_sync_path_still_upgrades(dev):
    with connect(dev) as sock:
        sock.sendall(head(dev, "GET", "/api/sync", *UPGRADE))
        status, headers, _ = head_of(until_head(sock))
    assert (status, headers["upgrade"].lower()) == (101, "websocket")


def test_an_unknown_method_gets_a_405_naming_each_method_once(dev):
    status, headers, body = head_of(whole(dev, "BREW", "/api/query"))
    methods = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
    assert (status, headers["allow"]) == (405, ", ".join(methods))
    assert json.loads(body) == {
        "code": "MethodNotAllowed",
        "message": "Method Not Allowed: use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS",
    }

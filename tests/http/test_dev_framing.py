"""The dev server's guard over raw sockets: Host values a browser and Python read as different hosts, chunked framing
a strict parser reads differently, and the WebSocket's allowed page origins."""

from __future__ import annotations

import json

import pytest

from tests.http.test_dev_baton import connect, read_all
from tests.http.test_dev_server import _dev_server, dev, functions_dir  # noqa: F401 (fixtures)

BODY = json.dumps({"path": "notes:version", "args": {}}).encode()


def send(server, raw: bytes) -> bytes:
    """``raw`` in one write; every answer the server gives until it closes the connection."""
    with connect(server) as sock:
        sock.settimeout(5)
        sock.sendall(raw)
        return read_all(sock)


def answers(raw: bytes) -> list[bytes]:
    return [b"HTTP/1.1 " + part.split(b"\r\n", 1)[0] for part in raw.split(b"HTTP/1.1 ")[1:]]


@pytest.mark.parametrize(
    "hosts",
    [
        [b"localhost:@evil.example\\@localhost"],  # "localhost" to Python's URL parser, evil.example to a browser
        [b"[::1]:x@evil.example\\@127.0.0.1"],
        [b"localhost:3210/path"],
        [b"local host"],
        [b"localhost:3210", b"evil.example"],  # two Host headers
    ],
    ids=["user info and backslash", "bracketed then user info", "a path", "a space", "two headers"],
)
def test_a_host_that_is_not_host_and_port_is_refused_and_the_connection_closed(dev, hosts):  # noqa: F811
    raw = b"".join(b"Host: " + host + b"\r\n" for host in hosts)
    answer = send(
        dev,
        b"POST /api/query HTTP/1.1\r\n"
        + raw
        + b"Content-Length: %d\r\n\r\n" % len(BODY)
        + BODY
        + b"GET /api/ok HTTP/1.1\r\n\r\n",
    )
    assert answers(answer) == [b"HTTP/1.1 400 Bad Request"]  # one answer: the rest was never parsed
    assert b'"code":"BadRequest"' in answer
    assert b"Connection: close" in answer


def test_a_plain_host_and_port_still_passes(dev):  # noqa: F811
    port = dev.httpd.server_address[1]
    for host in (b"localhost:%d" % port, b"127.0.0.1:%d" % port, b"[::1]:%d" % port, b"app.localhost"):
        answer = send(
            dev,
            b"POST /api/query HTTP/1.1\r\nHost: "
            + host
            + b"\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(BODY)
            + BODY,
        )
        assert answer.startswith(b"HTTP/1.1 200 "), host


def chunked(*body: bytes) -> bytes:
    return b"POST /api/query HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n" + b"".join(body)


SMUGGLED = b"GET /api/smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n"


@pytest.mark.parametrize(
    "raw",
    [
        # a 1,024-byte trailer line: read as "...\r" then "\n", which ended the trailers; the GET came next
        chunked(b"%x\r\n" % len(BODY), BODY, b"\r\n0\r\n", b"X-Pad: " + b"a" * 1017 + b"\r\n", SMUGGLED, b"\r\n"),
        chunked(b" %x \r\n" % len(BODY), BODY, b"\r\n0\r\n\r\n", SMUGGLED),  # spaces around the size
        chunked(b"%x\n" % len(BODY), BODY, b"\r\n0\r\n\r\n", SMUGGLED),  # a bare LF after the size
        chunked(b"%x\r\n" % len(BODY), BODY, b"\n0\r\n\r\n", SMUGGLED),  # a bare LF after the data
        chunked(b"%x\r\n" % len(BODY), BODY, b"\r\n0\r\n\n", SMUGGLED),  # a bare LF ends the trailers
        chunked(b"%x\r\n" % len(BODY), BODY, b"\r\n0\r\nX-A: a\n\r\n", SMUGGLED),  # a trailer ended by a bare LF
    ],
    ids=[
        "long trailer line",
        "spaces around the size",
        "LF after size",
        "LF after data",
        "LF ends trailers",
        "trailer ended by LF",
    ],
)
def test_chunked_framing_a_strict_parser_reads_differently_is_refused(dev, raw):  # noqa: F811
    answer = send(dev, raw)
    assert answers(answer) == [b"HTTP/1.1 400 Bad Request"]
    assert b"Malformed chunked body" in answer


def test_two_transfer_encoding_headers_are_refused(dev):  # noqa: F811
    raw = chunked(b"%x\r\n" % len(BODY), BODY, b"\r\n0\r\n\r\n", SMUGGLED).replace(
        b"Transfer-Encoding: chunked\r\n", b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n"
    )
    answer = send(dev, raw)
    assert answers(answer) == [b"HTTP/1.1 400 Bad Request"]
    assert b"one Transfer-Encoding header" in answer


def test_well_formed_chunks_with_extensions_and_trailers_still_pass(dev):  # noqa: F811
    raw = chunked(b"%x ; name=value\r\n" % len(BODY), BODY, b"\r\n0\r\nX-Trailer: yes\r\n\r\n")
    raw = raw.replace(b"Host: localhost\r\n", b"Host: localhost\r\nConnection: close\r\n")
    answer = send(dev, raw)
    assert answers(answer) == [b"HTTP/1.1 200 OK"]
    assert answer.endswith(b'{"status":"success","value":"v1"}')


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost:5173", True),
        ("http://app.localhost:5173", True),
        ("http://127.0.0.1:5173", True),
        ("http://[::1]:5173", True),
        ("http://192.168.1.23:8080", False),  # a page on the LAN: an IP literal, but not this machine
        ("http://203.0.113.5", False),
        ("http://evil.example", False),
        ("http://localhost:@evil.example", False),
        ("null", False),
    ],
)
def test_websocket_pages_must_be_on_this_machine_or_configured(dev, origin, allowed):  # noqa: F811
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect as ws_connect

    url = dev.url.replace("http://", "ws://") + "/api/1.49.0/sync"
    if allowed:
        with ws_connect(url, origin=origin) as ws:
            assert ws.protocol.state.name == "OPEN"
    else:
        with pytest.raises(InvalidStatus) as refused:
            ws_connect(url, origin=origin)
        assert refused.value.response.status_code == 403
        assert b"ForbiddenOrigin" in refused.value.response.body


def test_a_configured_origin_on_another_address_may_open_a_websocket(functions_dir, tmp_path):  # noqa: F811
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect as ws_connect

    for server in _dev_server(functions_dir, tmp_path, trusted_origins=("http://192.168.1.23:8080",)):
        url = server.url.replace("http://", "ws://") + "/api/1.49.0/sync"
        with ws_connect(url, origin="http://192.168.1.23:8080") as ws:
            assert ws.protocol.state.name == "OPEN"
        with pytest.raises(InvalidStatus) as refused:  # the same address, another port: another origin
            ws_connect(url, origin="http://192.168.1.23:8081")
        assert refused.value.response.status_code == 403


def test_a_configured_wildcard_origin_may_open_a_websocket(functions_dir, tmp_path):  # noqa: F811
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect as ws_connect

    for server in _dev_server(functions_dir, tmp_path, trusted_origins=("https://*.preview.example.com",)):
        url = server.url.replace("http://", "ws://") + "/api/1.49.0/sync"
        with ws_connect(url, origin="https://pr-7.preview.example.com") as ws:
            assert ws.protocol.state.name == "OPEN"
        with pytest.raises(InvalidStatus) as refused:
            ws_connect(url, origin="https://preview.example.com.evil.example")
        assert refused.value.response.status_code == 403

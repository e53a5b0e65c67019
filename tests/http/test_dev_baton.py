"""The dev server's baton over real HTTP (authlib_core/dev/baton.py): which requests take it, when, and the bound on
how long anyone waits for it; plus the framing cases the baton's look at the buffer must not misjudge."""

from __future__ import annotations

import json
import socket
import time

import pytest

from tests.http.test_dev_server import _dev_server, functions_dir, query, wait_for  # noqa: F401 (fixture)

PATIENCE = 1.0
VERSION = json.dumps({"path": "notes:version", "args": {}}).encode()


@pytest.fixture
def patient(functions_dir, tmp_path):  # noqa: F811 (the fixture imported above)
    """A dev server whose quick requests wait up to 1 s for the baton."""
    yield from _dev_server(functions_dir, tmp_path, baton_patience=PATIENCE)


@pytest.fixture
def very_patient(functions_dir, tmp_path):  # noqa: F811
    """Up to 5 s: a request that wrongly waits for the baton is told apart from a slow machine."""
    yield from _dev_server(functions_dir, tmp_path, baton_patience=5.0)


def free(server) -> bool:
    """The baton is free within 1 s. (A thread gives it back just after its answer left, so a client can see the
    answer a moment before; a request that wrongly holds it while waiting for more body holds it for 10 s.)"""
    return wait_for(lambda: not server.baton.held, timeout=1.0)


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def connect(server) -> socket.socket:
    host, port = server.httpd.server_address[:2]
    return socket.create_connection((host, port), timeout=10)


def head(server, method, target, *headers: str) -> bytes:
    host, port = server.httpd.server_address[:2]
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}:{port}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def read_all(sock: socket.socket) -> bytes:
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    return answer


def whole(server, method, target, body=b"") -> bytes:
    """One request sent in one write (head and body together); its answer, read until the connection closes."""
    with connect(server) as sock:
        sock.sendall(head(server, method, target, "Connection: close", f"Content-Length: {len(body)}") + body)
        return read_all(sock)


def late_body(server, target, body) -> bytes:
    """The head first, the body 0.2 s later (as a client that writes them apart, on a slow network)."""
    with connect(server) as sock:
        sock.sendall(head(server, "POST", target, "Connection: close", f"Content-Length: {len(body)}"))
        time.sleep(0.2)
        sock.sendall(body)
        return read_all(sock)


def held_elsewhere(server, call):
    """``call()`` while another request holds the baton (taken just before); its result and how long it took."""
    assert server.baton.take()
    try:
        return timed(call)
    finally:
        server.baton.give()


def test_queries_and_mutations_wait_for_the_baton_at_most_its_patience(patient):
    assert query(patient, "notes:version")[1]["value"] == "v1"  # loaded, connections warm
    add = json.dumps({"path": "notes:add", "args": {"text": "x"}}).encode()
    calls = {
        # the baton is tried before the head is parsed
        "whole query": lambda: whole(patient, "POST", "/api/query", VERSION),
        # the baton is tried once the body is read
        "query whose body comes late": lambda: late_body(patient, "/api/query", VERSION),
        "whole mutation": lambda: whole(patient, "POST", "/api/mutation", add),
        "GET query": lambda: whole(patient, "GET", "/api/query?path=notes:version&format=json"),
    }
    for name, call in calls.items():
        answer, waited = held_elsewhere(patient, call)
        assert answer.startswith(b"HTTP/1.1 200 "), (name, answer)
        assert b'"status":"success"' in answer, (name, answer)
        # it waited for the baton until its patience ran out, then answered without it; never twice that
        assert PATIENCE * 0.95 <= waited < PATIENCE * 1.9, (name, waited)
    assert timed(lambda: whole(patient, "POST", "/api/query", VERSION))[1] < PATIENCE  # free again: no wait


def test_a_long_hold_delays_the_others_at_most_its_patience_in_all(patient):
    assert query(patient, "notes:version")[1]["value"] == "v1"
    assert patient.baton.take()  # a request that holds it for long (a slow query, a client that does not read)
    try:
        first, waited = timed(lambda: whole(patient, "POST", "/api/query", VERSION))
        assert first.endswith(b'"value":"v1"}')
        assert PATIENCE * 0.95 <= waited < PATIENCE * 1.9
        for _ in range(3):  # held longer than the patience already: nobody waits any more
            answer, waited = timed(lambda: whole(patient, "POST", "/api/query", VERSION))
            assert answer.endswith(b'"value":"v1"}')
            assert waited < PATIENCE * 0.5
    finally:
        patient.baton.give()


def test_requests_that_may_wait_on_the_outside_world_never_wait_for_the_baton(very_patient):
    server = very_patient
    assert query(server, "notes:version")[1]["value"] == "v1"
    ping = json.dumps({"path": "notes:ping", "args": {}}).encode()
    calls = {
        "action": lambda: whole(server, "POST", "/api/action", ping),
        # its kind is known only once routed
        "function by name": lambda: whole(server, "POST", "/api/function", VERSION),
        "auth route": lambda: whole(server, "GET", "/api/auth/get-session"),
        "static file": lambda: whole(server, "GET", "/assets/app.js"),
        "HEAD of the query route": lambda: whole(server, "HEAD", "/api/query?path=notes:version"),
    }
    for name, call in calls.items():
        answer, waited = held_elsewhere(server, call)
        assert answer.startswith(b"HTTP/1.1 "), name
        assert not answer.startswith(b"HTTP/1.1 5"), (name, answer)
        assert waited < 2.5, (name, waited)


def test_a_body_still_arriving_and_an_open_websocket_leave_the_baton_free(very_patient):
    from websockets.sync.client import connect as ws_connect

    server = very_patient
    assert query(server, "notes:version")[1]["value"] == "v1"
    with connect(server) as slow:
        slow.sendall(head(server, "POST", "/api/query", f"Content-Length: {len(VERSION)}") + VERSION[:3])
        time.sleep(0.3)  # its thread is reading the rest of the body
        assert free(server)
        assert timed(lambda: query(server, "notes:version"))[1] < 2.5
        slow.sendall(VERSION[3:])
        answer = slow.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200 ")
        assert answer.endswith(b'{"status":"success","value":"v1"}')
    with ws_connect(server.url.replace("http://", "ws://") + "/api/1.49.0/sync", origin=server.url) as ws:
        assert ws.protocol.state.name == "OPEN"
        assert free(server)
        assert timed(lambda: query(server, "notes:version"))[1] < 2.5


#: Heads whose framing the server's parser reads differently from a plain CRLF scan: a bare LF or CR before the
#: length, a folded length, whitespace other than space and tab around it, other line breaks. Each announces 500
#: bytes to one of the two.
ODD_HEADS = {
    "bare LF": "X-A: a\nContent-Length: 500",
    "bare CR": "X-A: a\rContent-Length: 500",
    "folded length": "Content-Length:\r\n 500",
    "form feed after the length": "Content-Length: 500\x0c",
    "no-break space before the length": "Content-Length: \xa0500",
    "a length, then the same header again": f"Content-Length: {len(VERSION)}\r\nContent-Length: 500",
    # the header parser splits lines with str.splitlines: NEL (and VT, FF, FS, GS, RS) end a line there too
    "NEL before the length": "X-A: a\x85Content-Length: 500",
    "form feed before the length": "X-A: a\x0cContent-Length: 500",
}


@pytest.mark.parametrize("extra", list(ODD_HEADS.values()), ids=list(ODD_HEADS))
def test_no_odd_framing_makes_a_request_hold_the_baton_while_its_body_is_read(very_patient, extra):
    server = very_patient
    assert query(server, "notes:version")[1]["value"] == "v1"
    with connect(server) as sock:
        sock.settimeout(3)
        sock.sendall(head(server, "POST", "/api/query", extra) + VERSION)
        time.sleep(0.4)  # the server has parsed the head; it either answered or waits for more body
        assert free(server)
        assert timed(lambda: query(server, "notes:version"))[1] < 2.5
    assert free(server)


def test_a_refused_host_closes_the_connection_so_its_body_is_never_a_next_request(patient):
    inner = (
        head(patient, "POST", "/api/mutation", f"Content-Length: {len(b'{}')}", "Content-Type: application/json")
        + b"{}"
    )
    with connect(patient) as sock:
        sock.sendall(
            head(
                patient, "POST", "/api/query", "Host: rebound.attacker.example", f"Content-Length: {len(inner)}"
            ).replace(f"Host: 127.0.0.1:{patient.httpd.server_address[1]}\r\n".encode(), b"")
            + inner
        )
        answer = read_all(sock)  # the server closes the connection after its answer
    assert answer.startswith(b"HTTP/1.1 403 ")
    assert answer.count(b"HTTP/1.1 ") == 1  # one answer: the body was never parsed as a request
    assert b"Connection: close" in answer
    assert "POST /api/mutation" not in patient.out.getvalue()


def test_expect_100_continue_is_answered_before_the_body_is_sent(patient):
    with connect(patient) as sock:
        sock.settimeout(2)
        sock.sendall(head(patient, "POST", "/api/query", "Expect: 100-continue", f"Content-Length: {len(VERSION)}"))
        interim = sock.recv(65536)  # at once, not with the final answer
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(VERSION)
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.endswith(b'"value":"v1"}')

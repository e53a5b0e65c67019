"""The dev server's baton: which buffered bytes count as a whole request, and the lock's patience."""

from __future__ import annotations

import threading
import time
from http.client import parse_headers
from io import BytesIO

import pytest

from authlib_core.dev.baton import Baton, arrived_body_length, framing_agrees, route_of

BODY = b'{"path":"myData:getMyData","args":{}}'
HEAD = b"POST /api/query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


def request(*headers: bytes, body: bytes = BODY) -> bytes:
    return HEAD + b"".join(header + b"\r\n" for header in headers) + b"\r\n" + body


N = len(BODY)


@pytest.mark.parametrize(
    ("buffered", "length"),
    [
        (request(b"Content-Length: %d" % N), N),
        (request(b"content-length:%d" % N), N),  # names are case-insensitive, spaces optional
        (request(b"CONTENT-LENGTH: \t%d \t" % N), N),
        (request(b"Content-Length: %d" % N) + b"GET / HTTP/1.1\r\n", N),  # a pipelined next request
        (request(b"Content-Length: %d" % (N + 1)), None),  # one byte of the body still to come
        (request(b"Content-Length: %d" % N)[:-N], None),  # the head alone
        (request(body=b""), 0),  # no body announced, none expected
        (HEAD, None),  # the head has not ended
        (request(b"Transfer-Encoding: chunked", body=b"0\r\n\r\n"), None),  # not framed by one length
        (request(b"Content-Length: 2", b"Content-Length: 2", body=b"{}"), None),  # two lengths: the server judges
        (request(b"X-Content-Length: 2", body=b""), 0),  # another header's name ending the same way
        # lines the server's parser splits differently from a CRLF scan: never judged arrived
        (request(b"X-A: a\nContent-Length: 2", body=b"{}"), None),
        (request(b"X-A: a\rContent-Length: 2", body=b"{}"), None),
        (request(b"Content-Length:", b" 2", body=b"{}"), None),
        (request(b"Content-Length:", b"\t2", body=b"{}"), None),
        (b"", None),
    ],
)
def test_arrived_body_length(buffered, length):
    assert arrived_body_length(buffered) == length


def headers(*lines: bytes):
    return parse_headers(BytesIO(b"".join(line + b"\r\n" for line in lines) + b"\r\n"))


@pytest.mark.parametrize(
    ("parsed", "length", "agrees"),
    [
        (headers(b"Content-Length: 34"), 34, True),
        (headers(b"Content-Length:  34 "), 34, True),
        (headers(), 0, True),
        (headers(), 34, False),
        (headers(b"Content-Length: 500"), 34, False),
        (headers(b"Content-Length: 34", b"Content-Length: 34"), 34, False),
        (headers(b"Content-Length: 34", b"Transfer-Encoding: chunked"), 34, False),
        (headers(b"Transfer-Encoding: chunked"), 0, False),
        (headers(b"Content-Length: 34\x0c"), 34, False),  # whitespace beyond space and tab
        (headers(b"Content-Length: +34"), 34, False),
    ],
)
def test_framing_agrees(parsed, length, agrees):
    assert framing_agrees(parsed, length) is agrees


@pytest.mark.parametrize(
    ("buffered", "route"),
    [
        (b"POST /api/query HTTP/1.1\r\n", ("POST", "/api/query")),
        (b"GET /api/query?path=a:b&args=%7B%7D HTTP/1.1\r\nHost: a\r\n", ("GET", "/api/query")),
        (b"POST /api/query HTTP/1.1", None),  # the line has not ended
        (b"POST /api/query\r\n", None),  # HTTP/0.9 shape
        (b"POST  /api/query HTTP/1.1\r\n", None),  # not three parts: the server's parser judges it
        (b"\r\nPOST /api/query HTTP/1.1\r\n", None),
        (b"P\xc3\xa9ST /\xff HTTP/1.1\r\n", ("P\xc3\xa9ST", "/\xff")),  # any byte decodes; it matches no route
    ],
)
def test_route_of(buffered, route):
    assert route_of(buffered) == route


def test_a_second_taker_waits_its_patience_then_goes_on_without_it():
    baton = Baton(patience=0.2)
    assert baton.take()
    outcome: list[tuple[bool, float]] = []

    def other() -> None:
        started = time.monotonic()
        outcome.append((baton.take(), time.monotonic() - started))

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(5)
    taken, waited = outcome[0]
    assert taken is False
    assert 0.19 <= waited < 2
    baton.give()
    assert not baton.held
    assert baton.take()  # free again at once
    baton.give()


def test_a_waiting_taker_gets_it_as_soon_as_it_is_given():
    baton = Baton(patience=5)
    assert baton.take()
    waiting = threading.Event()
    outcome: list[tuple[bool, float]] = []

    def other() -> None:
        waiting.set()
        outcome.append((baton.take(), time.monotonic()))

    thread = threading.Thread(target=other)
    thread.start()
    assert waiting.wait(5)
    time.sleep(0.2)  # it is waiting in take() by now
    given = time.monotonic()
    baton.give()
    thread.join(5)
    taken, at = outcome[0]
    assert taken is True
    assert at - given < 1
    assert baton.held
    baton.give()


def test_nobody_waits_for_a_baton_held_longer_than_the_patience():
    baton = Baton(patience=0.3)
    assert baton.take()
    time.sleep(0.2)
    started = time.monotonic()
    assert baton.take() is False
    assert 0.05 <= time.monotonic() - started < 0.25  # only what was left of the patience
    time.sleep(0.2)
    started = time.monotonic()
    assert baton.take() is False
    assert time.monotonic() - started < 0.05  # the hold is older than the patience: at once
    baton.give()
    assert baton.take()  # a new hold: its own patience again
    started = time.monotonic()
    assert baton.take() is False
    assert time.monotonic() - started >= 0.25
    baton.give()


@pytest.mark.parametrize("patience", [0, -1, float("nan")])
def test_patience_must_be_positive(patience):
    with pytest.raises(ValueError, match="patience must be a positive number of seconds"):
        Baton(patience)

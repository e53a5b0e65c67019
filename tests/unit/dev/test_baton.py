"""The dev server's baton: which buffered bytes count as a whole request, and the lock's patience."""

from __future__ import annotations

import threading
import time

import pytest

from authlib_core.dev.baton import Baton, route_of, whole_request

BODY = b'{"path":"myData:getMyData","args":{}}'
HEAD = b"POST /api/query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


def request(*headers: bytes, body: bytes = BODY) -> bytes:
    return HEAD + b"".join(header + b"\r\n" for header in headers) + b"\r\n" + body


@pytest.mark.parametrize(
    ("buffered", "whole"),
    [
        (request(b"Content-Length: %d" % len(BODY)), True),
        (request(b"content-length:%d" % len(BODY)), True),  # names are case-insensitive, spaces optional
        (request(b"CONTENT-LENGTH: \t%d \t" % len(BODY)), True),
        (request(b"Content-Length: %d" % len(BODY)) + b"GET / HTTP/1.1\r\n", True),  # a pipelined next request
        (request(b"Content-Length: %d" % (len(BODY) + 1)), False),  # one byte of the body still to come
        (request(b"Content-Length: %d" % len(BODY))[: -len(BODY)], False),  # the head alone
        (request(body=b""), True),  # no body announced, none expected
        (HEAD, False),  # the head has not ended
        (request(b"Transfer-Encoding: chunked", body=b"0\r\n\r\n"), False),  # not framed by one length
        (request(b"Content-Length: 2", b"Content-Length: 2", body=b"{}"), False),  # two lengths: the server judges
        (request(b"X-Content-Length: 2", body=b""), True),  # another header's name ending the same way
        (b"", False),
    ],
)
def test_whole_request(buffered, whole):
    assert whole_request(buffered) is whole


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
    outcome: list[tuple[bool, float]] = []
    thread = threading.Thread(target=lambda: outcome.append((baton.take(), time.monotonic())))
    thread.start()
    time.sleep(0.1)
    given = time.monotonic()
    baton.give()
    thread.join(5)
    taken, at = outcome[0]
    assert taken is True
    assert at - given < 1
    assert baton.held
    baton.give()


@pytest.mark.parametrize("patience", [0, -1, float("nan")])
def test_patience_must_be_positive(patience):
    with pytest.raises(ValueError, match="patience must be a positive number of seconds"):
        Baton(patience)

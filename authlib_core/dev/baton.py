"""One request's Python at a time: the dev server's connection threads queue on a lock instead of on the GIL.

The dev server runs one thread per HTTP connection. Only one of them runs Python at a time anyway (the GIL), but
each one gives the GIL up at every system call of its request: every socket read and write, every SQLite step. With
several connections busy, each of those hand-offs wakes another thread, which runs a little of *its* request until
its own next system call. Measured on the example app's authenticated query (``python -m bench --only
throughput``, 2 cores): the server's CPU per request doubled from 1 to 8 connections and tripled at 32, and
requests/s fell below the single connection's.

The :class:`Baton` takes that interleaving away for the requests that are short and known to be so: a thread
holds it while it parses, answers and writes one request that had fully arrived (:func:`arrived_body_length`), so the
other threads wait on one lock instead of taking the GIL at each of its system calls. Everything that may wait on
the outside world (WebSockets, actions, auth routes, files, a body still arriving) runs without it, as before.

The baton is never a gate: a thread waits for it at most until ``patience`` seconds after the current holder took
it, then goes on without it, exactly as every request ran before. A request that holds it for long (a slow query,
a JWKS fetch, a SQLite write lock held by another process, a client that does not read its answer) therefore
delays each other request by at most ``patience``, and none once it has held it that long.
"""

from __future__ import annotations

import re
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from email.message import Message

__all__ = ["Baton", "arrived_body_length", "framing_agrees", "route_of"]

_HEAD_END = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length[ \t]*:[ \t]*(\d{1,15})[ \t]*(?=\r\n)", re.IGNORECASE)
_TRANSFER_ENCODING = re.compile(rb"\r\ntransfer-encoding[ \t]*:", re.IGNORECASE)


def route_of(buffered: bytes) -> tuple[str, str] | None:
    """``(method, path)`` of the request line ``buffered`` starts with, or None before a whole, well-formed line.

    Example:
        >>> route_of(b"POST /api/query?x=1 HTTP/1.1\\r\\nHost: a")
        ('POST', '/api/query')
        >>> route_of(b"POST /api/query HTTP/1.1") is None  # the line has not fully arrived
        True
    """
    end = buffered.find(b"\r\n")
    parts = buffered[:end].split(b" ") if end > 0 else ()
    if len(parts) != 3:
        return None
    return parts[0].decode("latin-1"), parts[1].partition(b"?")[0].decode("latin-1")


def arrived_body_length(buffered: bytes) -> int | None:
    """The body length of the request ``buffered`` starts with, when all of that request has arrived; else None.

    The check is deliberately narrow: a head with a bare CR or LF, a folded line, a body framed other than by one
    ``Content-Length`` (chunked, two lengths) counts as not arrived, so that request waits for the baton only once
    its body is read. It only decides when the baton is taken: the server's own parsing still reads the request,
    and :func:`framing_agrees` checks the two agree before the body is read.

    Example:
        >>> arrived_body_length(b"POST /api/query HTTP/1.1\\r\\nContent-Length: 2\\r\\n\\r\\n{}")
        2
        >>> arrived_body_length(b"POST /api/query HTTP/1.1\\r\\nContent-Length: 20\\r\\n\\r\\n{}") is None
        True
        >>> arrived_body_length(b"GET / HTTP/1.1\\r\\nHost: a") is None
        True
    """
    end = buffered.find(_HEAD_END)
    if end < 0:
        return None
    head = buffered[: end + 2]  # every header line between two CRLFs
    crlf = head.count(b"\r\n")
    if head.count(b"\r") != crlf or head.count(b"\n") != crlf or b"\r\n " in head or b"\r\n\t" in head:
        return None  # a bare CR or LF, or a folded line: lines the server's parser splits differently
    if _TRANSFER_ENCODING.search(head):
        return None
    lengths = _CONTENT_LENGTH.findall(head)
    if len(lengths) > 1:
        return None
    length = int(lengths[0]) if lengths else 0
    return length if end + len(_HEAD_END) + length <= len(buffered) else None


def framing_agrees(headers: Message, length: int) -> bool:
    """Whether the head the server parsed announces exactly the ``length`` :func:`arrived_body_length` found.

    Example:
        >>> from http.client import parse_headers
        >>> from io import BytesIO
        >>> framing_agrees(parse_headers(BytesIO(b"Content-Length: 2\\r\\n\\r\\n")), 2)
        True
        >>> framing_agrees(parse_headers(BytesIO(b"Content-Length: 2\\r\\nContent-Length: 2\\r\\n\\r\\n")), 2)
        False
    """
    if headers.get("transfer-encoding") is not None:
        return False
    values = headers.get_all("content-length") or []
    if not values:
        return length == 0
    value = values[0].strip(" \t")
    return len(values) == 1 and value.isascii() and value.isdecimal() and int(value) == length


class Baton:
    """A lock a request thread holds while it answers a short request that had fully arrived.

    A taker waits at most ``patience`` seconds *counted from when the current holder took it*: while one request
    holds it for longer than that (a slow query, a client that does not read its answer), every other goes on at
    once without it. No request is ever delayed by more than ``patience`` in all.

    Example:
        >>> baton = Baton(patience=0.05)
        >>> baton.take(), baton.held
        (True, True)
        >>> baton.take()  # another thread would wait at most 0.05 s, then go on without it
        False
        >>> baton.give(); baton.held
        False
    """

    __slots__ = ("_lock", "_since", "patience")

    def __init__(self, patience: float = 0.1) -> None:
        if not patience > 0:
            raise ValueError(f"patience must be a positive number of seconds, got {patience!r}")
        self.patience = patience
        self._lock = threading.Lock()
        self._since = 0.0  # time.monotonic() when the current holder took it

    def take(self) -> bool:
        """Wait for the baton until ``patience`` after the current holder took it; True when the caller holds it."""
        lock = self._lock
        if not lock.acquire(blocking=False):
            wait = self._since + self.patience - time.monotonic()
            if wait <= 0 or not lock.acquire(timeout=wait):
                return False
        self._since = time.monotonic()
        return True

    def give(self) -> None:
        """Hand the baton back (only by the thread whose :meth:`take` returned True)."""
        self._lock.release()

    @property
    def held(self) -> bool:
        """Whether some thread holds the baton now."""
        return self._lock.locked()

"""One request's Python at a time: the dev server's connection threads queue on a lock instead of on the GIL.

The dev server runs one thread per HTTP connection. Only one of them runs Python at a time anyway (the GIL), but
each one gives the GIL up at every system call of its request: every socket read and write, every SQLite step. With
several connections busy, each of those hand-offs wakes another thread, which runs a little of *its* request until
its own next system call. Measured on the example app's authenticated query (``python -m bench --only
throughput``, 2 cores): the server's CPU per request doubled from 1 to 8 connections and tripled at 32, and
requests/s fell below the single connection's.

The :class:`Baton` takes that interleaving away for the requests that are short and known to be so: a thread
holds it while it parses, answers and writes one request that had fully arrived (:func:`whole_request`), so the
other threads wait on one lock instead of taking the GIL at each of its system calls. Everything that may wait on
the outside world (WebSockets, actions, auth routes, files, a body still arriving) runs without it, as before.

The baton is never a gate: a thread that cannot take it within ``patience`` seconds goes on without it, exactly as
every request ran before. A request that holds it for long (a slow query, a client that does not read its answer)
therefore delays the others by at most ``patience``, once.
"""

from __future__ import annotations

import re
import threading

__all__ = ["Baton", "route_of", "whole_request"]

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


def whole_request(buffered: bytes) -> bool:
    """Whether ``buffered`` starts with a whole HTTP/1.1 request: its head and all the body it announces.

    The check is deliberately narrow: a body framed other than by one ``Content-Length`` (chunked, or two
    lengths) counts as not whole, so such a request runs without the baton and the server's own parsing judges it.

    Example:
        >>> whole_request(b"POST /api/query HTTP/1.1\\r\\nContent-Length: 2\\r\\n\\r\\n{}")
        True
        >>> whole_request(b"POST /api/query HTTP/1.1\\r\\nContent-Length: 20\\r\\n\\r\\n{}")
        False
        >>> whole_request(b"GET / HTTP/1.1\\r\\nHost: a")
        False
    """
    end = buffered.find(_HEAD_END)
    if end < 0:
        return False
    head = buffered[: end + 2]  # every header line between two CRLFs
    if _TRANSFER_ENCODING.search(head):
        return False
    lengths = _CONTENT_LENGTH.findall(head)
    if len(lengths) > 1:
        return False
    length = int(lengths[0]) if lengths else 0
    return end + len(_HEAD_END) + length <= len(buffered)


class Baton:
    """A lock a request thread holds while it answers a short, fully arrived request.

    Example:
        >>> baton = Baton(patience=0.05)
        >>> baton.take(), baton.held
        (True, True)
        >>> baton.take()  # another thread would wait at most 0.05 s, then go on without it
        False
        >>> baton.give(); baton.held
        False
    """

    __slots__ = ("_lock", "patience")

    def __init__(self, patience: float = 0.1) -> None:
        if not patience > 0:
            raise ValueError(f"patience must be a positive number of seconds, got {patience!r}")
        self.patience = patience
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Wait up to ``patience`` seconds for the baton; True when it is now held by the caller."""
        return self._lock.acquire(timeout=self.patience)

    def give(self) -> None:
        """Hand the baton back (only by the thread whose :meth:`take` returned True)."""
        self._lock.release()

    @property
    def held(self) -> bool:
        """Whether some thread holds the baton now."""
        return self._lock.locked()

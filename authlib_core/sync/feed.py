"""The change feed: every committed write set, numbered in publication order.

A commit's number is the protocol timestamp of the state that includes it. Publishing and reading
:meth:`ChangeFeed.position` happen under one lock, so every commit numbered at or below a position was delivered to
the subscribers before that position was read, and committed before it was published: a query started after reading
position ``p`` sees every commit up to ``p``. Later commits reach the subscribers, which re-run what they intersect.

The dev server uses :class:`InProcessFeed`, fed by :attr:`Database.commit_listeners
<authlib_core.database.Database.commit_listeners>`; a deployment on AWS would feed the same interface from DynamoDB
Streams.

Example:
    >>> from authlib_core.database.readset import WriteSet
    >>> feed = InProcessFeed()
    >>> seen = []
    >>> unsubscribe = feed.subscribe(seen.append)
    >>> ts = feed.publish(WriteSet(()))
    >>> seen[0].ts == ts == feed.position()
    True
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from authlib_core.database.readset import WriteSet

__all__ = ["ChangeFeed", "Commit", "InProcessFeed"]

logger = logging.getLogger("authlib_core.sync")


@dataclasses.dataclass(frozen=True, slots=True)
class Commit:
    """One committed write set and its timestamp."""

    ts: int
    writes: WriteSet


class ChangeFeed(Protocol):
    """Where committed write sets are published and from where live queries learn about them."""

    def publish(self, writes: WriteSet) -> int:
        """Number ``writes`` and deliver them to every subscriber; returns the commit's timestamp."""
        ...

    def position(self) -> int:
        """The timestamp of the last commit published (0 before any)."""
        ...

    def subscribe(self, callback: Callable[[Commit], None]) -> Callable[[], None]:
        """Call ``callback`` for every later commit (quickly: it runs in the committing thread); returns unsubscribe."""
        ...


class InProcessFeed:
    """A :class:`ChangeFeed` inside one process. Timestamps start above the wall clock in nanoseconds, so a client
    that reconnects after a restart never sees time go backwards."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ts = time.time_ns()
        self._start = self._ts
        self._subscribers: dict[int, Callable[[Commit], None]] = {}
        self._next_id = 0

    def publish(self, writes: WriteSet) -> int:
        with self._lock:
            self._ts += 1
            commit = Commit(self._ts, writes)
            subscribers = list(self._subscribers.values())
            for callback in subscribers:
                try:
                    callback(commit)
                except Exception:
                    logger.exception("a change-feed subscriber failed")
            return commit.ts

    def position(self) -> int:
        with self._lock:
            return self._ts

    def subscribe(self, callback: Callable[[Commit], None]) -> Callable[[], None]:
        with self._lock:
            self._next_id += 1
            key = self._next_id
            self._subscribers[key] = callback

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers.pop(key, None)

        return unsubscribe

"""Query journals: what a live query's first run decided, so that its re-runs decide the same.

A paginated live query must keep its page boundaries when documents are inserted before its end: Convex records
the page's end cursor in the query's *journal* the first time it runs, the client keeps the journal with the
subscription (and sends it again after a reconnect), and every re-run pins ``endCursor`` to it. The journal is an
opaque string to the client; ours is ``{"endCursor": <cursor>}``.

Example:
    >>> with journaling(None) as journal:
    ...     journal.record("cursor-1")  # what paginate() does on the first run
    >>> journal.text()
    '{"endCursor":"cursor-1"}'
    >>> journaling_from = parse_journal(journal.text())
    >>> journaling_from.end_cursor
    'cursor-1'
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["QueryJournal", "current_journal", "journaling", "parse_journal"]


@dataclasses.dataclass(slots=True)
class QueryJournal:
    """The journal of one query run: the end cursor to pin (from the last run) and what this run recorded."""

    end_cursor: str | None = None
    recorded: str | None = None
    used: bool = False

    def record(self, cursor: str) -> None:
        """Remember the end of the page this run returned."""
        self.recorded = cursor

    def text(self) -> str | None:
        """The journal to hand the client (None when the query did not paginate)."""
        cursor = self.recorded if self.recorded is not None else self.end_cursor
        return None if cursor is None else json.dumps({"endCursor": cursor}, separators=(",", ":"))


def parse_journal(text: str | None) -> QueryJournal:
    """The journal a client sent back; anything unreadable counts as no journal (the query starts afresh)."""
    if not text:
        return QueryJournal()
    try:
        data = json.loads(text)
    except ValueError:
        return QueryJournal()
    cursor = data.get("endCursor") if isinstance(data, dict) else None
    return QueryJournal(end_cursor=cursor if isinstance(cursor, str) else None)


_current: contextvars.ContextVar[QueryJournal | None] = contextvars.ContextVar("authlib_journal", default=None)


@contextlib.contextmanager
def journaling(text: str | None) -> Iterator[QueryJournal]:
    """Run the block with the journal ``text`` (a live query's run); ``paginate`` reads and records it."""
    journal = parse_journal(text)
    token = _current.set(journal)
    try:
        yield journal
    finally:
        _current.reset(token)


def current_journal() -> QueryJournal | None:
    """The journal of the live query running in this context, if any."""
    return _current.get()

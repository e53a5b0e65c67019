"""The sessions a warm instance has seen: a bounded, thread-safe memory of confirmed session lookups.

:class:`RememberedSessions` maps the SHA-256 of a session token (never the token) to the session record its last
lookup returned. It only lets a query or mutation *start* with the identity the token had a moment ago while the
session is read again in the background (:meth:`~authlib_core.auth.service.RequestAuth.speculative`): nothing is
ever answered from it without that read confirming it. An entry leaves when the session it describes ends
(``min(expiresAt, absolute expiry)``), when a lookup finds the session gone, revoked or expired, or when the memory
is full (least recently used first).

Example:
    >>> from authlib_core.database.sessions import SessionRecord
    >>> memory = RememberedSessions(capacity=2)
    >>> record = SessionRecord("u1", "s1", "ab12", 0, 0, expires_at=5_000, absolute_expires_at=9_000)
    >>> memory.update("ab12", record)
    >>> memory.get("ab12", now_ms=1_000).user_id
    'u1'
    >>> memory.get("ab12", now_ms=5_000) is None  # the session has ended: forgotten
    True
"""

from __future__ import annotations

import collections
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from authlib_core.database.sessions import SessionRecord

__all__ = ["DEFAULT_REMEMBERED_SESSIONS", "RememberedSessions"]

#: Sessions one Lambda instance remembers (a record is well under 1 KB, so at most about 1 MB).
DEFAULT_REMEMBERED_SESSIONS = 1024


class RememberedSessions:
    """At most ``capacity`` session records by token hash, least recently used evicted first.

    Raises:
        ValueError: ``capacity`` is not a positive integer.
    """

    __slots__ = ("_capacity", "_entries", "_lock")

    def __init__(self, capacity: int = DEFAULT_REMEMBERED_SESSIONS) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"capacity must be a positive integer (sessions to remember), got {capacity!r}")
        self._capacity = capacity
        self._entries: collections.OrderedDict[str, SessionRecord] = collections.OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(self, token_hash: str, now_ms: int) -> SessionRecord | None:
        """The record last confirmed for ``token_hash`` while its session has not ended at ``now_ms``, else None."""
        with self._lock:
            record = self._entries.get(token_hash)
            if record is None:
                return None
            if not record.is_live(now_ms):
                del self._entries[token_hash]
                return None
            self._entries.move_to_end(token_hash)
            return record

    def update(self, token_hash: str, record: SessionRecord | None) -> None:
        """Remember what a lookup of the token just returned; ``None`` (no live session) forgets it."""
        with self._lock:
            if record is None:
                self._entries.pop(token_hash, None)
                return
            self._entries[token_hash] = record
            self._entries.move_to_end(token_hash)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

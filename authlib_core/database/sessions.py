"""Where sessions and rate-limit counters live: a store beside the document store, with TTL.

Sessions are not documents: they are written on every sign-in and sliding refresh, read on every authenticated
request, and must expire by themselves. Each engine offers a :class:`SessionStore` and a :class:`RateLimitStore`:

* SQLite (:mod:`authlib_core.database.engines.sqlite_sessions`): tables ``sessions`` and ``rate_limits`` in the
  same database file as the documents.
* DynamoDB (:mod:`authlib_core.database.engines.dynamodb.sessions`): the dedicated sessions table
  (``pk``/``sk``, TTL attribute ``expiresAt`` in epoch seconds).

Contract (tested against both, ``tests/contract/test_sessions.py``):

* Sessions are addressed by ``(user_id, session_id)``; the user id is the partition, so listing and revoking a
  user's sessions are strongly consistent (no secondary index, no lag).
* **Every read checks expiry itself**: a record whose ``expires_at`` or ``absolute_expires_at`` has passed is never
  returned, even while it is still stored (DynamoDB's TTL deletes days late; moto never does).
* **Reads never write.** ``get`` and ``list_for_user`` only read, so resolving a caller needs nothing but a read:
  on AWS the query and mutation functions may only ``GetItem`` on the sessions table (template.yaml), and an
  expired session must not turn every call into ``AccessDeniedException``. Expired records are removed by the
  store's TTL (DynamoDB) or at the user's next sign-in (SQLite), and by sign-out and revocation like any other.
* ``refresh`` only updates a record that exists and has not expired: it never resurrects a deleted session.
* Times are integer milliseconds since the epoch (what the auth API returns), read from the store's ``clock``.
* **Native storage errors never escape**: every public method of every store passes them through the store's
  :meth:`StoreErrors.storage_error`, which each engine implements with the same translation its document engine
  uses, so an outage is a :class:`~authlib_core.errors.StorageUnavailableError` (HTTP 503, retry) on sign-in,
  get-session and ``ctx.auth`` alike, never a 500 or a 200 "Server Error".
"""

from __future__ import annotations

import abc
import dataclasses
import functools
import inspect
from typing import Any

from authlib_core.errors import AuthlibError

__all__ = ["RateLimitStore", "SessionRecord", "SessionStore", "StoreErrors", "ttl_seconds"]


@dataclasses.dataclass(frozen=True, slots=True)
class SessionRecord:
    """One session. ``token_hash`` is the hex SHA-256 of the raw token; the raw token is never stored.

    ``email`` and ``name`` are a snapshot of the user, kept current by ``update_user_snapshot``, so one read yields
    the caller's identity.
    """

    user_id: str
    session_id: str
    token_hash: str
    created_at: int
    updated_at: int
    expires_at: int
    absolute_expires_at: int
    ip_address: str = ""
    user_agent: str = ""
    dont_remember: bool = False
    email: str = ""
    name: str = ""

    def ends_at(self) -> int:
        """When the session stops being valid (ms): the idle expiry, capped by the absolute one."""
        return min(self.expires_at, self.absolute_expires_at)

    def is_live(self, now_ms: int) -> bool:
        """True while neither the idle nor the absolute expiry has passed."""
        return now_ms < self.ends_at()


class StoreErrors:
    """Mixin: every public method a subclass defines has native storage errors translated by ``storage_error``.

    The wrapping happens once, when the subclass is defined (``__init_subclass__``), so no method can forget it.
    Library errors pass through unchanged; an exception ``storage_error`` does not recognise is re-raised as is.

    Example:
        >>> class Store(StoreErrors):
        ...     def storage_error(self, error, operation):
        ...         return StorageUnavailableError("down") if isinstance(error, OSError) else None
        ...     def get(self):
        ...         raise OSError("connection reset")
        >>> Store().get()
        Traceback (most recent call last):
        ...
        authlib_core.errors.StorageUnavailableError: down
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, member in list(vars(cls).items()):
            if name.startswith("_") or name == "storage_error" or not inspect.isfunction(member):
                continue
            if getattr(member, "__isabstractmethod__", False) or getattr(member, "_translates_errors", False):
                continue
            setattr(cls, name, _translating(member, name))

    def storage_error(self, error: BaseException, operation: str) -> AuthlibError | None:
        """The library error for a native ``error`` raised by ``operation``, or None to re-raise it unchanged."""
        return None


def _translating(method: Any, name: str) -> Any:
    @functools.wraps(method)
    def translated(self: StoreErrors, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except AuthlibError:
            raise
        except Exception as error:
            replacement = self.storage_error(error, f"{type(self).__name__}.{name}")
            if replacement is None:
                raise
            raise replacement from error

    translated._translates_errors = True  # type: ignore[attr-defined]
    return translated


def ttl_seconds(record: SessionRecord) -> int:
    """The TTL attribute for ``record``: the epoch second at which it stops being valid (rounded up)."""
    return -(-record.ends_at() // 1000)


class SessionStore(StoreErrors, abc.ABC):
    """Sessions keyed by ``(user_id, session_id)``. Implementations are safe to share between threads."""

    @abc.abstractmethod
    def create(self, record: SessionRecord) -> None:
        """Store a new session."""

    @abc.abstractmethod
    def get(self, user_id: str, session_id: str) -> SessionRecord | None:
        """The live session, or None (missing or expired). One consistent read, and nothing else: never a write."""

    @abc.abstractmethod
    def list_for_user(self, user_id: str) -> list[SessionRecord]:
        """The user's live sessions, oldest first. Strongly consistent."""

    @abc.abstractmethod
    def refresh(self, user_id: str, session_id: str, *, expires_at: int, updated_at: int) -> SessionRecord | None:
        """Move the idle expiry (and the TTL) of a live session; None when it no longer exists or has expired."""

    @abc.abstractmethod
    def delete(self, user_id: str, session_id: str) -> None:
        """Delete one session (no error when it does not exist)."""

    @abc.abstractmethod
    def delete_for_user(self, user_id: str, *, keep: str | None = None) -> int:
        """Delete every session of the user except ``keep``; returns how many were deleted."""

    @abc.abstractmethod
    def update_user_snapshot(self, user_id: str, *, email: str, name: str) -> None:
        """Rewrite the user snapshot (email, name) on every session of the user."""

    def close(self) -> None:
        """Release connections."""


class RateLimitStore(StoreErrors, abc.ABC):
    """Fixed-window request counters that expire by themselves."""

    @abc.abstractmethod
    def hit(self, key: str, window_s: int, limit: int) -> tuple[bool, int]:
        """Count one request for ``key``, atomically; ``(allowed, retry_after_s)``.

        The first request opens a window of ``window_s`` seconds; up to ``limit`` requests are allowed in it. A
        blocked request is not counted and learns how many seconds remain (at least 1). Safe across threads,
        processes and (DynamoDB) Lambda instances.
        """

    @abc.abstractmethod
    def peek(self, key: str, window_s: int) -> tuple[int, int]:
        """``(count, retry_after_s)`` of ``key``'s open window, without counting; ``(0, 0)`` when none is open.

        One consistent read. ``retry_after_s`` is how many seconds the window has left (at least 1 while open).
        """

    def close(self) -> None:
        """Release connections."""

"""Live queries: Convex's WebSocket sync protocol as a transport-free state machine, fed by a change feed.

* :mod:`~authlib_core.sync.feed` — the change feed: committed write sets, numbered (the protocol's timestamps).
* :mod:`~authlib_core.sync.protocol` — one client session: messages in, messages out.
* :mod:`~authlib_core.sync.ports` — what the protocol needs from the runtime (run functions, check tokens, keep the
  answers of mutations).
* :mod:`~authlib_core.sync.mutation_log` — those answers in SQLite, so a re-sent mutation is not run twice.

Transports (the dev server's WebSocket in :mod:`authlib_core.dev.websocket`) only move JSON text.
"""

from __future__ import annotations

from authlib_core.sync.feed import ChangeFeed, Commit, InProcessFeed
from authlib_core.sync.ports import AuthRefused, Caller, MutationAnswers, Outcome, SyncBackend
from authlib_core.sync.protocol import SyncLimits, SyncSession

__all__ = [
    "AuthRefused",
    "Caller",
    "ChangeFeed",
    "Commit",
    "InProcessFeed",
    "MutationAnswers",
    "Outcome",
    "SyncBackend",
    "SyncLimits",
    "SyncSession",
]

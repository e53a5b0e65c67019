"""What the sync protocol needs from the runtime: run functions as a caller, and check a session token.

The protocol never imports the runtime or the HTTP layer; a transport hands it a :class:`SyncBackend`
(:class:`authlib_core.http.sync_backend.RuntimeSyncBackend` on the dev server).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from authlib_core.auth import Auth
    from authlib_core.database.readset import ReadSet
    from authlib_core.values import JSONValue

__all__ = ["Outcome", "SyncBackend"]


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """A function call's outcome in the wire's terms.

    ``value`` is ``convex_encoded_json`` (success) or None; ``error`` the message a client shows; ``error_data``
    the encoded ``ConvexError`` data (``has_data`` tells an explicit null apart from none). ``read_set`` is what a
    query read (None for mutations and actions).
    """

    success: bool
    value: JSONValue = None
    error: str = ""
    error_data: JSONValue = None
    has_data: bool = False
    read_set: ReadSet | None = None
    #: The query's journal after this run (see :mod:`authlib_core.database.journal`); None if it did not paginate.
    journal: str | None = None
    #: For logs only: ``success``, ``error`` (the function failed), ``server_error``...; the call's request id; the
    #: readable traceback of an uncaught exception when the server exposes errors (never sent to the client).
    label: str = "success"
    request_id: str = ""
    trace: str | None = None

    def same_result(self, other: Outcome | None) -> bool:
        """True when ``other`` would show the client the same thing."""
        return other is not None and self.fingerprint() == other.fingerprint()

    def fingerprint(self) -> str:
        """A digest of what the client is shown (a live query keeps this instead of the whole result).

        Example:
            >>> Outcome(True, [1]).fingerprint() == Outcome(True, [1]).fingerprint() != Outcome(True, [2]).fingerprint()
            True
        """
        shown = [self.success, self.value, self.error, self.error_data, self.has_data]
        text = json.dumps(shown, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


class SyncBackend(Protocol):
    """The runtime as the sync protocol sees it."""

    def call(
        self,
        kind: Literal["query", "mutation", "action"],
        path: str,
        args: JSONValue,
        auth: Auth,
        journal: str | None = None,
    ) -> Outcome:
        """Run a public function as the client identified by ``auth``; never raises for a function's failure.

        ``journal`` (queries): what the query's previous run recorded, so that a paginated query keeps its page.
        """
        ...

    def authenticate(self, token: str) -> Auth | None:
        """The caller a session token stands for right now (None: unknown, expired or revoked session)."""
        ...

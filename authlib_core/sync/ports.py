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
    from collections.abc import Callable
    from typing import Any

    from authlib_core.auth import Auth
    from authlib_core.database.readset import ReadSet
    from authlib_core.database.receipts import Receipt
    from authlib_core.values import JSONValue

__all__ = ["AuthRefused", "Caller", "MutationAnswers", "Outcome", "SyncBackend"]


class AuthRefused(Exception):
    """A token that does not identify anyone right now; the message (shown to the client) says why."""


@dataclasses.dataclass(frozen=True, slots=True)
class Caller:
    """Who a token stands for, and until when.

    ``expires_at`` (seconds since the epoch) is when the credential stops being valid as things stand: a session's
    end (which may move later while the session is in use) or a JWT's ``exp`` plus the allowed clock skew. None: no
    known end. The protocol checks the credential again at that moment.

    Example:
        >>> from authlib_core.auth import NoAuth
        >>> Caller(NoAuth(), expires_at=None).expires_at is None
        True
    """

    auth: Auth
    expires_at: float | None = None


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
    #: What the function printed or logged (``"[LOG] text"``...; see :mod:`authlib_core.functions.logs`), for the
    #: client's console; empty unless the backend delivers log lines (the dev server does).
    log_lines: tuple[str, ...] = ()
    #: For logs only: ``success``, ``error`` (the function failed), ``server_error``...; the call's request id; the
    #: readable traceback of an uncaught exception when the server exposes errors (never sent to the client).
    label: str = "success"
    request_id: str = ""
    trace: str | None = None
    #: A mutation this run did not commit because another run of the same request (the same ``on_commit`` receipt
    #: key) committed it first: its kept answer is the answer (see ``ReceiptExistsError``).
    committed_elsewhere: bool = False

    def same_result(self, other: Outcome | None) -> bool:
        """True when ``other`` would show the client the same thing."""
        return other is not None and self.fingerprint() == other.fingerprint()

    def _shown(self) -> tuple[object, ...]:
        # Convex compares a re-run's result and log lines: a query whose printed output changed is sent again.
        return (self.success, self.value, self.error, self.error_data, self.has_data, self.log_lines)

    def fingerprint(self) -> str:
        """A digest of what the client is shown (a live query keeps this instead of the whole result).

        Example:
            >>> Outcome(True, [1]).fingerprint() == Outcome(True, [1]).fingerprint() != Outcome(True, [2]).fingerprint()
            True
        """
        text = json.dumps(list(self._shown()), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
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
        *,
        on_commit: Callable[[Outcome], Receipt | None] | None = None,
    ) -> Outcome:
        """Run a public function as the client identified by ``auth``; never raises for a function's failure.

        ``journal`` (queries): what the query's previous run recorded, so that a paginated query keeps its page.
        ``on_commit`` (mutations): called with the successful outcome right before each commit attempt; the receipt
        it returns is written in that commit (:mod:`authlib_core.database.receipts`).
        """
        ...

    def authenticate(self, token: str) -> Caller:
        """The caller a ``User`` token (a session token of ours, or a JWT of a configured provider) stands for now.

        Raises:
            AuthRefused: the token is not a live session, or not a valid JWT of a configured provider (the message
                says which and why).
        """
        ...


class MutationAnswers(Protocol):
    """Where the answers of mutations are kept by ``(sessionId, requestId)``, so a re-sent mutation is answered
    instead of run again (:class:`~authlib_core.sync.protocol.MutationLog` in memory,
    :class:`~authlib_core.sync.mutation_log.ReceiptMutationLog` in the mutation's own commit)."""

    def get(self, session_id: str, request_id: int) -> dict[str, Any] | None:
        """The answer sent for this request before, if kept.

        Raises:
            StorageUnavailableError: the log cannot be read (the mutation must then not run).
        """
        ...

    def receipt(self, session_id: str, request_id: int, answer: dict[str, Any]) -> Receipt | None:
        """The receipt that keeps a successful ``answer`` inside its mutation's commit (without ``ts``: a re-send is
        answered with the position then); None when this log keeps answers only through :meth:`put`."""
        ...

    def put(self, session_id: str, request_id: int, answer: dict[str, Any]) -> dict[str, Any]:
        """Keep the answer of a mutation whose commit did not carry it (a failure, or no receipts here), unless an
        answer is kept for the request already (a concurrent run's): returns the answer that stands."""
        ...

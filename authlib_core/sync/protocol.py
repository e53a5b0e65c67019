"""One client's sync session: Convex's WebSocket protocol as a state machine, without any transport.

A transport feeds :meth:`SyncSession.receive` the text of each client message and sends the texts it returns, in
order; it calls :meth:`SyncSession.refresh` whenever :meth:`SyncSession.on_commit` (subscribed to the change feed)
has signalled new commits, and :meth:`SyncSession.ping` after a quiet period. When :attr:`SyncSession.closed` turns
true (after ``FatalError`` or ``AuthError``) the transport closes the connection.

State: the version ``(querySet, identity, ts)`` last sent to the client, the subscribed queries (path, args,
journal, last outcome and the read set it came from) and the caller's identity.

* ``ModifyQuerySet`` must start from the current query-set version; added queries run at once.
* ``Authenticate`` (``User`` with a session token of ours or a JWT of a provider in ``functions/auth_config.py``, or
  ``None``) bumps the identity version and re-runs every query as the new caller; a token that identifies nobody
  gets ``AuthError`` (``authUpdateAttempted``).
* ``Mutation`` runs in order; the ``MutationResponse`` carries the timestamp of a state that includes the commit and
  is followed at once by a ``Transition`` reaching it (the client resolves the mutation when that transition
  arrives, so its ``useQuery`` results already show the write). A request id seen before in this session is
  answered from the log instead of running again (clients re-send unacknowledged mutations after a reconnect).
* ``Action`` runs on its own thread; its ``ActionResponse`` goes out with the next :meth:`SyncSession.refresh`
  (``wake`` is set when it finishes).
* A transport may hand the session the identity its handshake carried (``ambient_auth``: the dev server passes the
  same-origin session cookie of a browser page); it is checked again after every commit, and a session that ended
  turns the connection anonymous (its queries run again) instead of closing it.
* A commit re-runs only the queries whose read set it intersects, and a ``Transition`` is sent only when a result
  changed; after a commit, and at the moment the credential expires (:attr:`SyncSession.auth_deadline`: the
  transport calls :meth:`SyncSession.refresh` then), the caller's credential is checked again, and one that ended
  (signed out, revoked, expired) gets ``AuthError`` (``authUpdateAttempted: false``) before any further result.

Example:
    >>> session = SyncSession(backend, feed)                                          # doctest: +SKIP
    >>> session.receive('{"type":"Connect","sessionId":"…","connectionCount":0,"clientTs":0}')  # doctest: +SKIP
    []
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import logging
import re
import threading
import time
import traceback
import uuid
from typing import TYPE_CHECKING, Any, Final

from authlib_core.auth import NoAuth
from authlib_core.database.readset import ReadSet
from authlib_core.errors import StorageUnavailableError
from authlib_core.sync.ports import AuthRefused
from authlib_core.sync.timestamps import encode_ts
from authlib_core.values.json_text import loads_strict

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from authlib_core.auth import Auth
    from authlib_core.database.receipts import Receipt
    from authlib_core.sync.feed import ChangeFeed, Commit
    from authlib_core.sync.ports import Caller, MutationAnswers, Outcome, SyncBackend
    from authlib_core.values import JSONValue

__all__ = ["MutationLog", "SyncLimits", "SyncSession", "describe_failure", "split_message"]

logger = logging.getLogger("authlib_core.sync")

_INTERNAL_ERROR = (
    "InternalServerError: the server failed to handle this connection's message and closed it. The client "
    "reconnects and sends again what was not answered; the server log has the details."
)

#: Largest ``requestId`` (Convex's are u32): the answers of mutations are kept by it.
_MAX_REQUEST_ID: Final = 2**32 - 1

#: The npm client reassembles ``TransitionChunk`` messages from this version on.
_CHUNKS_FROM: Final = (1, 28, 0)
#: A credential found valid at (or a hair past) its stated end is checked again this many seconds later, not at once.
_MIN_RECHECK_S: Final = 0.1


@dataclasses.dataclass(frozen=True, slots=True)
class SyncLimits:
    """Per-connection limits (the transport enforces message size and connections per address)."""

    #: Queries one connection may subscribe to at once.
    max_queries: int = 2000
    #: Largest client message, in bytes (the HTTP API's body limit, so any call that fits there fits here).
    max_message_bytes: int = 5_900_000
    #: Open connections from one client address.
    max_connections_per_address: int = 64
    #: Actions of one connection running at once (Convex's ``TooManyInflightActionsForSingleClient`` limit).
    max_inflight_actions: int = 1000
    #: Seconds without output after which the transport sends ``Ping`` (Convex's server: 15 s; the client gives up
    #: after 60 s of silence).
    ping_after_s: float = 15.0
    #: Transitions longer than this (bytes of JSON) are sent as ``TransitionChunk`` pieces (Convex's size).
    chunk_bytes: int = 5_000_000
    #: Largest ``MutationResponse`` the transport can deliver (None: no limit); a larger one is replaced by a failure
    #: saying the mutation ran, so that a client re-sending it after a reconnect does not loop.
    max_answer_bytes: int | None = None


class ProtocolError(Exception):
    """A client message this server cannot accept; the session answers ``FatalError`` and closes."""


class MutationLog:
    """Answers of recent mutations by ``(sessionId, requestId)``, shared by a server's sessions (bounded)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._answers: collections.OrderedDict[tuple[str, int], dict[str, Any]] = collections.OrderedDict()
        self._capacity = capacity

    def get(self, session_id: str, request_id: int) -> dict[str, Any] | None:
        """The answer sent for this request before, if it is still remembered."""
        with self._lock:
            return self._answers.get((session_id, request_id))

    def receipt(self, session_id: str, request_id: int, answer: dict[str, Any]) -> None:
        """None: answers are kept in memory, through :meth:`put` after the call."""
        return None

    def put(self, session_id: str, request_id: int, answer: dict[str, Any]) -> dict[str, Any]:
        """Remember an answer unless one is remembered for the request already (the oldest is forgotten past the
        capacity); returns the answer that stands."""
        with self._lock:
            kept = self._answers.setdefault((session_id, request_id), answer)
            while len(self._answers) > self._capacity:
                self._answers.popitem(last=False)
            return kept


@dataclasses.dataclass(slots=True)
class _Query:
    path: str
    args: JSONValue
    journal: str | None
    #: :meth:`Outcome.fingerprint` of the last result sent (None: not run yet) and the read set it came from.
    fingerprint: str | None = None
    read_set: ReadSet | None = None

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "path": self.path,
            "args": self.args,
            "journal": self.journal,
            "fingerprint": self.fingerprint,
            "reads": None if self.read_set is None else self.read_set.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> _Query:
        reads = data.get("reads")
        return cls(
            str(data["path"]),
            data.get("args"),
            data.get("journal"),
            data.get("fingerprint"),
            None if reads is None else ReadSet.from_json(reads),
        )


def _client_version_supports_chunks(version: str | None) -> bool:
    match = re.match(r"^(\d+)\.(\d+)\.(\d+)", version or "")
    return match is not None and tuple(int(part) for part in match.groups()) >= _CHUNKS_FROM


def split_message(text: str, limit: int) -> list[str]:
    """``text`` as ``TransitionChunk`` messages of at most ``limit`` UTF-8 bytes of it each (never splitting a
    character), or ``[text]`` when it fits.

    Example:
        >>> [json.loads(part)["chunk"] for part in split_message('{"type":"Transition"}', 10)]
        ['{"type":"T', 'ransition"', '}']
    """
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return [text]
    pieces: list[str] = []
    start = 0
    while start < len(raw):
        end = min(start + limit, len(raw))
        while end < len(raw) and (raw[end] & 0xC0) == 0x80:
            end -= 1  # back off to the start of a UTF-8 character
        pieces.append(raw[start:end].decode("utf-8"))
        start = end
    return [
        _dump(
            {
                "type": "TransitionChunk",
                "chunk": piece,
                "partNumber": number,
                "totalParts": len(pieces),
                "transitionId": str(len(raw)),
            }
        )
        for number, piece in enumerate(pieces)
    ]


def _mutation_answer(request_id: int, outcome: Outcome) -> dict[str, Any]:
    """The ``MutationResponse`` of a mutation's outcome, without ``ts`` for a success (added when it is sent)."""
    answer: dict[str, Any] = {"type": "MutationResponse", "requestId": request_id, "logLines": list(outcome.log_lines)}
    if outcome.success:
        answer.update(success=True, result=outcome.value)
    else:
        answer.update(success=False, result=outcome.error, ts=None)
        if outcome.has_data:
            answer["errorData"] = outcome.error_data
    return answer


def describe_failure(error: BaseException) -> str:
    """An error's type and the place it was raised, for a log line (never its message, which may quote client input).

    Example:
        >>> try:
        ...     {}["x"]
        ... except KeyError as error:
        ...     describe_failure(error).startswith("KeyError at ")
        True
    """
    frames = traceback.extract_tb(error.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
    return f"{type(error).__name__} at {where}"


def _undeliverable(answer: dict[str, Any], size: int, limit: int) -> dict[str, Any]:
    """The answer sent instead of a ``MutationResponse`` the transport cannot deliver (see ``max_answer_bytes``)."""
    outcome = "ran (the data shows its effect)" if answer.get("success") else "failed"
    return {
        "type": "MutationResponse",
        "requestId": answer.get("requestId"),
        "logLines": [],
        "success": False,
        "result": f"This mutation {outcome}, but its answer ({size} bytes) is larger than this server can send in "
        f"one message ({limit} bytes). Return less from the mutation (e.g. an id to query).",
        "ts": None,
    }


def _dump(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _int(message: dict[str, Any], name: str) -> int:
    value = message.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProtocolError(f"{message.get('type')}.{name} must be a non-negative integer, got {value!r:.60}")
    return value


def _str(message: dict[str, Any], name: str) -> str:
    value = message.get(name)
    if not isinstance(value, str):
        raise ProtocolError(f"{message.get('type')}.{name} must be a string")
    return value


class SyncSession:
    """The protocol state of one connection (see the module docstring). Not shared between connections.

    ``receive``, ``refresh`` and ``ping`` are called by one thread at a time (the connection's); ``on_commit`` may be
    called from any thread.
    """

    def __init__(
        self,
        backend: SyncBackend,
        feed: ChangeFeed,
        *,
        limits: SyncLimits | None = None,
        client_version: str | None = None,
        mutations: MutationAnswers | None = None,
        wake: threading.Event | None = None,
        ambient_auth: Callable[[], Caller | None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._backend = backend
        #: The identity the transport's handshake carried (a same-origin session cookie), checked again after
        #: commits; an ``Authenticate`` message replaces it for the rest of the connection.
        self._ambient = ambient_auth
        self._feed = feed
        self.limits = limits or SyncLimits()
        self._chunks = _client_version_supports_chunks(client_version)
        self._mutations: MutationAnswers = mutations or MutationLog()
        #: Set when commits are waiting for :meth:`refresh`.
        self.wake = wake or threading.Event()
        self._pending: list[Commit] = []
        self._stale: set[int] = set()  # queries to run again whatever the commits (invalidate)
        self._outbox: list[str] = []  # responses of actions that finished on their own threads
        self._actions_inflight = 0
        self._pending_lock = threading.Lock()
        self._queries: dict[int, _Query] = {}
        self._query_set = 0
        self._identity = 0
        self._ts = 0
        self._query_set_sent = 0
        self._identity_sent = 0
        self._clock = clock
        self._auth: Auth = NoAuth()
        self._expires_at: float | None = None
        self._set_caller(ambient_auth() if ambient_auth is not None else None)
        self._token: str | None = None
        #: Why the credential of ``_token`` was refused when this state was restored (:meth:`restore`), if it was.
        self._ended: str | None = None
        self._session_id = ""
        self._skew: int | None = None
        #: True once the session ended (``FatalError`` or ``AuthError`` sent); the transport closes the socket.
        self.closed = False
        self._unsubscribe = feed.subscribe(self.on_commit)

    # -- feed ------------------------------------------------------------------------------------------
    def on_commit(self, commit: Commit) -> None:
        """Queue a commit for the next :meth:`refresh` (called by the change feed, in the committing thread)."""
        with self._pending_lock:
            self._pending.append(commit)
        self.wake.set()

    def close(self) -> None:
        """Stop following the change feed (the transport calls this when the connection ends)."""
        self.closed = True
        self._unsubscribe()

    @property
    def auth_deadline(self) -> float | None:
        """When the caller's credential expires (seconds since the epoch), or None; call :meth:`refresh` then."""
        return None if self.closed else self._expires_at

    @property
    def query_count(self) -> int:
        """How many queries the client is subscribed to."""
        return len(self._queries)

    @property
    def versions(self) -> tuple[bool, int, int]:
        """``(Connect received, query-set version, identity version)``: what the next ``ModifyQuerySet`` and
        ``Authenticate`` must start from (a transport that may receive messages out of order waits for these)."""
        return bool(self._session_id), self._query_set, self._identity

    def read_sets(self) -> dict[int, ReadSet | None]:
        """Each subscribed query's read set from its last run (None: not run yet, or nothing recorded)."""
        return {query_id: query.read_set for query_id, query in self._queries.items()}

    def invalidate(self, query_ids: Iterable[int]) -> None:
        """Run these queries again at the next :meth:`refresh` whatever the commits (a transport that registers
        a query's reads somewhere after it ran re-runs it once they are registered)."""
        with self._pending_lock:
            self._stale.update(query_ids)
        self.wake.set()

    @property
    def actions_inflight(self) -> int:
        """Actions of this connection still running (a transport that must not return before they finish waits)."""
        with self._pending_lock:
            return self._actions_inflight

    # -- state kept outside the process ------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """The connection's protocol state as JSON: versions sent, identity token, queries with their journals, the
        fingerprints of the results sent and their read sets. A transport without a long-lived process (API Gateway
        WebSocket + Lambda) stores it between messages and resumes with :meth:`restore`.

        Example:
            >>> state = session.snapshot()                                           # doctest: +SKIP
            >>> SyncSession.restore(backend, feed, state).snapshot() == state       # doctest: +SKIP
            True
        """
        return {
            "sessionId": self._session_id,
            "skew": self._skew,
            "querySet": self._query_set,
            "identity": self._identity,
            "ts": self._ts,
            "querySetSent": self._query_set_sent,
            "identitySent": self._identity_sent,
            "token": self._token,
            "closed": self.closed,
            "queries": {str(query_id): query.to_json() for query_id, query in self._queries.items()},
        }

    @classmethod
    def restore(
        cls,
        backend: SyncBackend,
        feed: ChangeFeed,
        state: dict[str, Any],
        *,
        limits: SyncLimits | None = None,
        client_version: str | None = None,
        mutations: MutationAnswers | None = None,
    ) -> SyncSession:
        """A session continuing from :meth:`snapshot`'s ``state``. Its session token is checked again now: if the
        session ended meanwhile, the next message or refresh answers ``AuthError``.

        Raises:
            ValueError: ``state`` is not a snapshot.
        """
        session = cls(backend, feed, limits=limits, client_version=client_version, mutations=mutations)
        try:
            session._session_id = str(state["sessionId"])
            skew = state["skew"]
            session._skew = None if skew is None else int(skew)
            session._query_set, session._identity = int(state["querySet"]), int(state["identity"])
            session._ts = int(state["ts"])
            session._query_set_sent, session._identity_sent = int(state["querySetSent"]), int(state["identitySent"])
            session._queries = {int(key): _Query.from_json(query) for key, query in state["queries"].items()}
            token = state["token"]
            session.closed = bool(state["closed"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"not a sync session snapshot: {exc!r:.200}") from exc
        if isinstance(token, str):
            session._token = token
            try:
                session._set_caller(backend.authenticate(token))
            except AuthRefused as refused:
                session._ended = str(refused)
        return session

    # -- input -----------------------------------------------------------------------------------------
    def receive(self, text: str) -> list[str]:
        """Handle one client message; returns the messages to send, in order."""
        if self.closed:
            return []
        if self._ended is not None:
            return self._session_ended()
        try:
            try:
                message = loads_strict(text)
            except ValueError as exc:
                return self._fatal(f"Malformed message: {exc}")
            if not isinstance(message, dict):
                raise ProtocolError("a client message must be a JSON object")
            return self._handle(message)
        except ProtocolError as exc:
            return self._fatal(str(exc))
        except StorageUnavailableError:
            raise  # the transport's to handle (retry, or close so that the client reconnects)
        except Exception as error:
            return self._internal_error(error, "a client message")

    def refresh(self) -> list[str]:
        """Re-run the queries that commits since the last call may have changed; a Transition if any result did."""
        if self.closed:
            return []
        if self._ended is not None:
            return self._session_ended()
        self.wake.clear()
        with self._pending_lock:
            finished, self._outbox = self._outbox, []
        try:
            return [*finished, *self._advance(force=False)]
        except StorageUnavailableError:
            raise
        except Exception as error:
            return [*finished, *self._internal_error(error, "an update")]

    def _internal_error(self, error: Exception, what: str) -> list[str]:
        """An unexpected failure while handling ``what``: this connection ends with ``FatalError``
        (``InternalServerError``; the client reconnects and re-sends what is unsettled), nothing else is affected.
        The log names the error's type and place, not its message (it may quote what the client sent)."""
        logger.error("sync session: %s failed (%s); the connection is closed", what, describe_failure(error))
        return self._fatal(_INTERNAL_ERROR)

    def ping(self) -> list[str]:
        """The keep-alive message a quiet connection gets (the client drops a server silent for 60 s)."""
        return [] if self.closed else [_dump({"type": "Ping"})]

    def _fatal(self, error: str) -> list[str]:
        self.close()
        return [_dump({"type": "FatalError", "error": error})]

    def _handle(self, message: dict[str, Any]) -> list[str]:
        kind = message.get("type")
        if kind == "Connect":
            return self._connect(message)
        if kind == "ModifyQuerySet":
            return self._modify(message)
        if kind == "Authenticate":
            return self._authenticate(message)
        if kind == "Mutation":
            return self._mutation(message)
        if kind == "Action":
            return self._action(message)
        if kind == "Event":
            return []
        raise ProtocolError(f"Unknown message type {kind!r:.40}")

    def _connect(self, message: dict[str, Any]) -> list[str]:
        session_id = _str(message, "sessionId")
        try:
            uuid.UUID(session_id)
        except ValueError:
            raise ProtocolError("Connect.sessionId must be a UUID") from None
        # Canonical form: uuid.UUID also takes braces, "urn:uuid:", upper case and any number of hyphens; one UUID is
        # one session however it is spelled, and the keys built from it stay short.
        self._session_id = str(uuid.UUID(session_id))
        client_ts = message.get("clientTs")
        if isinstance(client_ts, int | float) and not isinstance(client_ts, bool):
            self._skew = round(client_ts - time.time() * 1000)  # an integer: the Rust client reads it as i64
        return []

    def _modify(self, message: dict[str, Any]) -> list[str]:
        base, new = _int(message, "baseVersion"), _int(message, "newVersion")
        if base != self._query_set:
            raise ProtocolError(f"BaseVersionMismatch: the query set is at version {self._query_set}, not {base}")
        if new <= base:
            raise ProtocolError(f"ModifyQuerySet.newVersion ({new}) must be greater than baseVersion ({base})")
        modifications = message.get("modifications")
        if not isinstance(modifications, list):
            raise ProtocolError("ModifyQuerySet.modifications must be a list")
        added: list[int] = []
        removed: list[int] = []
        for change in modifications:
            if not isinstance(change, dict):
                raise ProtocolError("each query-set modification must be an object")
            query_id = _int(change, "queryId")
            if change.get("type") == "Add":
                if query_id in self._queries:
                    raise ProtocolError(f"Query {query_id} was added twice")
                if len(self._queries) >= self.limits.max_queries:
                    raise ProtocolError(
                        f"TooManyQueries: this connection already subscribes to {self.limits.max_queries} queries, "
                        "the limit per connection; unsubscribe from some (or open another client)."
                    )
                args = change.get("args")
                if not isinstance(args, list) or len(args) != 1:
                    raise ProtocolError("Add.args must be a list holding one object of arguments")
                journal = change.get("journal")
                self._queries[query_id] = _Query(
                    _str(change, "udfPath"), args[0], journal if isinstance(journal, str) else None
                )
                added.append(query_id)
            elif change.get("type") == "Remove":
                if self._queries.pop(query_id, None) is None:
                    raise ProtocolError(f"Query {query_id} was removed but is not subscribed")
                removed.append(query_id)
                added = [other for other in added if other != query_id]
            else:
                raise ProtocolError(f"Unknown query-set modification {change.get('type')!r:.40}")
        self._query_set = new
        return self._advance(force=True, run=added, removed=removed)

    def _authenticate(self, message: dict[str, Any]) -> list[str]:
        base = _int(message, "baseVersion")
        if base != self._identity:
            raise ProtocolError(f"Authenticate.baseVersion is {base}, the identity version is {self._identity}")
        scheme = message.get("tokenType")
        self._ambient = None  # the client says who it is from now on
        if scheme == "None":
            self._set_caller(None)
            self._token = None
        elif scheme == "User":
            token = _str(message, "value")
            try:
                caller = self._backend.authenticate(token)
            except AuthRefused as refused:
                return self._auth_error(str(refused), attempted=True)
            self._set_caller(caller)
            self._token = token
        elif scheme == "Admin":
            return self._auth_error(
                "Admin keys are not supported: authenticate with a session token (tokenType User).", attempted=True
            )
        else:
            raise ProtocolError(f"Unknown tokenType {scheme!r:.40}")
        self._identity = base + 1
        return self._advance(force=True, run=list(self._queries))

    def _session_ended(self) -> list[str]:
        return self._auth_error(f"This connection's credential is no longer valid: {self._ended}", attempted=False)

    def _set_caller(self, caller: Caller | None) -> None:
        self._auth = NoAuth() if caller is None else caller.auth
        ends = None if caller is None else caller.expires_at
        self._expires_at = None if ends is None else max(ends, self._clock() + _MIN_RECHECK_S)

    def _recheck_caller(self, commits: bool) -> tuple[list[str], bool]:
        """After commits, or once the credential's expiry has come: ``(AuthError messages if it ended, whether the
        caller changed)``. A handshake's cookie session that ended turns the connection anonymous instead."""
        due = self._expires_at is not None and self._clock() >= self._expires_at
        if not commits and not due:
            return [], False
        if self._token is not None:
            try:
                self._set_caller(self._backend.authenticate(self._token))
            except AuthRefused as refused:
                return self._auth_error(
                    f"This connection's credential is no longer valid: {refused}", attempted=False
                ), False
            return [], False
        if self._ambient is None:
            return [], False
        before = self._auth
        self._set_caller(self._ambient())
        return [], self._auth != before

    def _auth_error(self, error: str, *, attempted: bool) -> list[str]:
        self.close()
        return [
            _dump(
                {"type": "AuthError", "error": error, "baseVersion": self._identity, "authUpdateAttempted": attempted}
            )
        ]

    def _call_args(self, message: dict[str, Any]) -> tuple[int, str, JSONValue]:
        request_id = _int(message, "requestId")
        if request_id > _MAX_REQUEST_ID:
            raise ProtocolError(
                f"{message['type']}.requestId is larger than {_MAX_REQUEST_ID}: request ids are 32-bit, "
                "counted up from 0 by each client session"
            )
        path = _str(message, "udfPath")
        args = message.get("args")
        if not isinstance(args, list) or len(args) != 1:
            raise ProtocolError(f"{message['type']}.args must be a list holding one object of arguments")
        return request_id, path, args[0]

    def _mutation(self, message: dict[str, Any]) -> list[str]:
        request_id, path, args = self._call_args(message)
        session_id = self._answers_key()
        try:
            answer = self._mutations.get(session_id, request_id) if session_id else None
        except StorageUnavailableError as unavailable:  # it may have run before: refuse rather than run it twice
            failed = {"type": "MutationResponse", "requestId": request_id, "logLines": [], "success": False}
            return [_dump({**failed, "result": unavailable.message, "ts": None}), *self._advance(force=True)]
        if answer is None:
            carried: list[bool] = []

            def receipt(outcome: Outcome) -> Receipt | None:
                made = self._mutations.receipt(session_id, request_id, _mutation_answer(request_id, outcome))
                carried[:] = [made is not None]
                return made

            outcome = self._backend.call("mutation", path, args, self._auth, on_commit=receipt if session_id else None)
            if outcome.committed_elsewhere:  # the same request, re-sent meanwhile, committed first: its answer
                answer = self._answer_of_other_run(session_id, request_id)
            else:
                answer = _mutation_answer(request_id, outcome)
                if session_id and not (outcome.success and carried == [True]):
                    answer = self._mutations.put(session_id, request_id, answer)
        if answer.get("success"):
            # The commit is in every state from now on: a re-sent answer gets the position too, not the commit's.
            answer = {**answer, "ts": encode_ts(self._feed.position())}
        text = _dump(answer)
        limit = self.limits.max_answer_bytes
        if limit is not None and len(text.encode("utf-8")) > limit:
            text = _dump(_undeliverable(answer, len(text.encode("utf-8")), limit))
        # The npm client resolves a mutation on the first Transition at or past its ts, and the Rust client (the
        # Python package) resolves a mutation that failed with ConvexError data on the next Transition: send one now.
        return [text, *self._advance(force=True)]

    def _answer_of_other_run(self, session_id: str, request_id: int) -> dict[str, Any]:
        """The answer kept by the run of this request that committed while this one was running (this one wrote
        nothing); a failure that says so if it cannot be read."""
        try:
            answer = self._mutations.get(session_id, request_id)
        except StorageUnavailableError:
            answer = None
        if answer is None:
            return {
                "type": "MutationResponse",
                "requestId": request_id,
                "logLines": [],
                "success": False,
                "result": "This mutation was committed by an earlier send of the same request (the client sent it "
                "again while it was running), but its answer could not be read now. The data shows its effect.",
                "ts": None,
            }
        return answer

    def _answers_key(self) -> str:
        """Where this connection's mutation answers are kept ("" before ``Connect``): the ``sessionId``, which the
        client chooses, with the caller's identity (a digest of its ``tokenIdentifier``), so that an answer is given
        back only to the caller whose mutation it was, never to whoever sends the same ``sessionId``."""
        if not self._session_id:
            return ""
        identity = self._auth.get_user_identity()
        if identity is None:
            return self._session_id
        digest = hashlib.sha256(identity.token_identifier.encode("utf-8")).hexdigest()[:32]
        return f"{self._session_id}#{digest}"

    def _action(self, message: dict[str, Any]) -> list[str]:
        """Start an action on its own thread (actions may be slow; queries keep updating meanwhile)."""
        request_id, path, args = self._call_args(message)
        auth = self._auth
        with self._pending_lock:
            if self._actions_inflight >= self.limits.max_inflight_actions:
                return [
                    _dump(
                        {
                            "type": "ActionResponse",
                            "requestId": request_id,
                            "success": False,
                            "result": f"TooManyInflightActionsForSingleClient: {self._actions_inflight} actions of "
                            "this client are still running, the limit per connection; await some before starting "
                            "more.",
                            "logLines": [],
                        }
                    )
                ]
            self._actions_inflight += 1

        def run() -> None:
            answer: dict[str, Any] = {"type": "ActionResponse", "requestId": request_id, "logLines": []}
            try:
                outcome = self._backend.call("action", path, args, auth)
                answer["logLines"] = list(outcome.log_lines)
                if outcome.success:
                    answer.update(success=True, result=outcome.value)
                else:
                    answer.update(success=False, result=outcome.error)
                    if outcome.has_data:
                        answer["errorData"] = outcome.error_data
            finally:
                with self._pending_lock:
                    self._actions_inflight -= 1
                    if "success" in answer:
                        self._outbox.append(_dump(answer))
                self.wake.set()

        threading.Thread(target=run, name=f"authlib-sync-action-{request_id}", daemon=True).start()
        return []

    # -- output ----------------------------------------------------------------------------------------
    def _take_commits(self) -> tuple[list[Commit], set[int]]:
        with self._pending_lock:
            commits, self._pending = self._pending, []
            stale, self._stale = self._stale, set()
        return commits, stale

    def _advance(self, *, force: bool, run: list[int] | None = None, removed: list[int] | None = None) -> list[str]:
        """Bring the client to the feed's current position: re-run what commits touched, then one Transition.

        ``force``: send a Transition even when no result changed (versions moved, or a mutation awaits one).
        """
        ts = self._feed.position()  # read first: every commit up to ts is delivered and visible to what runs next
        commits, stale = self._take_commits()
        ended, caller_changed = self._recheck_caller(bool(commits))
        if ended:
            return ended
        rerun = set(run or ()) | (stale & set(self._queries))
        if caller_changed:  # the handshake's session ended (or changed): every query runs as the new caller
            rerun.update(self._queries)
        for query_id, query in self._queries.items():
            if query_id in rerun or query.fingerprint is None:
                rerun.add(query_id)
                continue
            read_set = query.read_set
            if read_set is None or any(read_set.intersects(commit.writes) for commit in commits):
                rerun.add(query_id)
        modifications: list[dict[str, Any]] = [{"type": "QueryRemoved", "queryId": qid} for qid in removed or ()]
        for query_id in sorted(rerun):
            query = self._queries[query_id]
            outcome = self._backend.call("query", query.path, query.args, self._auth, query.journal)
            journal_changed = outcome.journal != query.journal
            fingerprint = outcome.fingerprint()
            unchanged = fingerprint == query.fingerprint and not journal_changed and query_id not in (run or ())
            query.journal, query.fingerprint, query.read_set = outcome.journal, fingerprint, outcome.read_set
            if not unchanged:
                modifications.append(self._query_modification(query_id, query, outcome))
        if not modifications and not force:
            return []
        start = {"querySet": self._query_set_sent, "ts": encode_ts(self._ts), "identity": self._identity_sent}
        self._ts = max(self._ts, ts)
        self._query_set_sent, self._identity_sent = self._query_set, self._identity
        end = {"querySet": self._query_set, "ts": encode_ts(self._ts), "identity": self._identity}
        transition = {
            "type": "Transition",
            "startVersion": start,
            "endVersion": end,
            "modifications": modifications,
            "clientClockSkew": self._skew,
            "serverTs": time.time_ns(),
        }
        text = _dump(transition)
        return split_message(text, self.limits.chunk_bytes) if self._chunks else [text]

    @staticmethod
    def _query_modification(query_id: int, query: _Query, outcome: Outcome) -> dict[str, Any]:
        if outcome.success:
            return {
                "type": "QueryUpdated",
                "queryId": query_id,
                "value": outcome.value,
                "logLines": list(outcome.log_lines),
                "journal": query.journal,
            }
        failed: dict[str, Any] = {
            "type": "QueryFailed",
            "queryId": query_id,
            "errorMessage": outcome.error,
            "logLines": list(outcome.log_lines),
            "journal": query.journal,
        }
        if outcome.has_data:
            failed["errorData"] = outcome.error_data
        return failed

"""One connection's work on AWS: restore its :class:`~authlib_core.sync.SyncSession`, feed it the inbox, post what
it answers in order, save it. Whoever holds the connection's lease does this (:mod:`authlib_core.live.store`).

Order per connection: only the lease holder posts, one message after the other, and a holder starts from the state
its predecessor saved; so the client sees every ``Transition`` starting at the last ``endVersion`` it got, and a
mutation's ``MutationResponse`` right before the ``Transition`` that includes its commit (the protocol emits them
together; see :class:`~authlib_core.sync.SyncSession`).

Watches before results: a query's new watch keys are registered *before* the result that needed them is saved, and
the queries that gained keys run once more after the registration. A commit after the registration finds the
connection through the index; a commit before it is seen by that second run. So no commit is missed.

Example:
    >>> worker = ConnectionWorker(store, backend, poster, LambdaFeed(), handles_messages=True,
    ...                           mutations=ReceiptMutationLog(lambda: runtime.database.engine))  # doctest: +SKIP
    >>> worker.handle("Abc=", [message_entry('{"type":"Connect",...}')], remaining_ms)          # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any, Final, Protocol

from authlib_core.database.readset import WriteSet, write_set_from_json, write_set_to_json
from authlib_core.live.ordering import WAIT_S, order, ready
from authlib_core.live.store import InboxFullError
from authlib_core.live.watch import ALL, read_keys
from authlib_core.sync.feed import Commit
from authlib_core.sync.protocol import SyncLimits, SyncSession

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from authlib_core.live.store import SyncStore
    from authlib_core.sync.ports import MutationAnswers, SyncBackend

__all__ = [
    "AWS_LIMITS",
    "MAX_WATCH_KEYS",
    "ConnectionGone",
    "ConnectionWorker",
    "LambdaFeed",
    "MessageTooLarge",
    "Poster",
    "commit_entry",
    "message_entry",
]

logger = logging.getLogger("authlib_core.live")

#: API Gateway limits: 128 KB per WebSocket message (both ways), hence chunks of 120,000 bytes; a connection's state
#: lives in one 400 KB DynamoDB item, hence fewer queries per connection than on the dev server.
AWS_LIMITS: Final = SyncLimits(
    max_queries=100, max_message_bytes=128 * 1024, chunk_bytes=120_000, max_answer_bytes=128 * 1024
)
#: Largest state a connection may keep (DynamoDB's item limit is 400 KB; the inbox and keys need the rest).
MAX_STATE_BYTES: Final = 300_000
#: A commit entry larger than this is stored as "re-run everything" instead.
MAX_COMMIT_ENTRY_BYTES: Final = 32_000
#: Extra lease time beyond the holder's remaining Lambda time.
LEASE_MARGIN_MS: Final = 5_000
#: The sync function's wait for a connection's lease: first pause and longest pause, in seconds.
_FIRST_WAIT_S: Final = 0.02
_MAX_WAIT_S: Final = 0.2
#: Most watch keys one connection registers; past this it watches everything (:data:`~.watch.ALL`) instead.
MAX_WATCH_KEYS: Final = 500
#: Rounds of "register new watch keys, run the queries that gained them again".
_WATCH_ROUNDS: Final = 3


class ConnectionGone(Exception):
    """The client is no longer connected (API Gateway answered 410 Gone)."""


class MessageTooLarge(Exception):
    """API Gateway refused a message as larger than its 128 KB limit (413)."""


class Poster(Protocol):
    """The API Gateway Management API, as far as delivery needs it."""

    def post(self, endpoint: str, connection_id: str, data: str) -> None:
        """``PostToConnection``; raises :class:`ConnectionGone` on 410, :class:`MessageTooLarge` on 413."""
        ...

    def close(self, endpoint: str, connection_id: str) -> None:
        """``DeleteConnection`` (a connection gone already is not an error)."""
        ...


class LambdaFeed:
    """The change feed inside one Lambda invocation: the protocol's timestamps are wall-clock nanoseconds, so they
    grow across the Lambdas serving one connection (each connection also keeps the largest sent, never going back).
    Commits of this process (a mutation the sync Lambda runs) reach the sessions subscribed here at once; commits
    of others arrive through the stream (the fan-out)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ts = 0
        self._subscribers: dict[int, Callable[[Commit], None]] = {}
        self._next = 0

    def position(self) -> int:
        with self._lock:
            self._ts = max(self._ts + 1, time.time_ns())
            return self._ts

    def publish(self, writes: WriteSet) -> int:
        commit = Commit(self.position(), writes)
        with self._lock:
            subscribers = list(self._subscribers.values())
        for callback in subscribers:
            callback(commit)
        return commit.ts

    def subscribe(self, callback: Callable[[Commit], None]) -> Callable[[], None]:
        with self._lock:
            self._next += 1
            key = self._next
            self._subscribers[key] = callback

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers.pop(key, None)

        return unsubscribe


def message_entry(text: str) -> str:
    """An inbox entry for a client message (with its arrival time: a message waits for the one before it only so
    long, :data:`authlib_core.live.ordering.WAIT_S`)."""
    return json.dumps({"kind": "message", "text": text, "at": round(time.time(), 3)}, separators=(",", ":"))


def commit_entry(writes: WriteSet) -> str:
    """An inbox entry for a commit seen on the stream (too large a write set becomes "re-run everything")."""
    text = json.dumps({"kind": "commit", "writes": write_set_to_json(writes)}, separators=(",", ":"))
    if len(text) > MAX_COMMIT_ENTRY_BYTES:
        text = json.dumps({"kind": "commit", "writes": write_set_to_json(WriteSet((), everything=True))})
    return text


def _watch_keys(session: SyncSession) -> dict[int, set[str]]:
    """Each query's watch keys; past :data:`MAX_WATCH_KEYS` for the connection, :data:`~.watch.ALL` for every query.

    A query's reads may grow with the arguments the client picks (one index range per argument), and every key is
    an item in the sync table and an entry in the connection's item (400 KB at most). Watching everything is never
    wrong: every change then reaches the connection, whose session re-runs only the queries the change touches.
    """
    wanted = {query_id: read_keys(reads) for query_id, reads in session.read_sets().items()}
    if len(set().union(*wanted.values())) > MAX_WATCH_KEYS:
        return {query_id: {ALL} for query_id in wanted}
    return wanted


class ConnectionWorker:
    """Handles connections' work (see the module docstring); one per Lambda execution environment."""

    def __init__(
        self,
        store: SyncStore,
        backend: SyncBackend,
        poster: Poster,
        feed: LambdaFeed,
        *,
        handles_messages: bool,
        mutations: MutationAnswers,
        limits: SyncLimits = AWS_LIMITS,
    ) -> None:
        #: True in the sync function (client messages may run mutations); the fan-out handles commits only, so
        #: its role needs no write access to documents: it leaves client messages in the inbox and lets go.
        self.handles_messages = handles_messages
        self.store = store
        self.backend = backend
        self.poster = poster
        self.feed = feed
        self.limits = limits
        #: The answers of mutations by ``(sessionId, requestId)``: committed with each mutation
        #: (:class:`~authlib_core.sync.mutation_log.ReceiptMutationLog`), so a re-send is answered, never run again.
        self.mutations = mutations

    def handle(self, connection_id: str, entries: Sequence[str], remaining_ms: Callable[[], int]) -> None:
        """Append ``entries`` to the connection's inbox, then drain it while holding the connection's lease.

        The fan-out gives up when another Lambda holds the lease (the holder sees the appended commit). The sync
        function waits for the lease instead: a fan-out holder leaves client messages to it.
        """
        added: set[str] = set()  # watch keys registered by this call (the item lists them only once saved)
        try:
            self._handle(connection_id, entries, remaining_ms, added)
        except InboxFullError:  # appending, taking the lease or saving: the item has no room left
            self._overflowed(connection_id, added)

    def _handle(
        self, connection_id: str, entries: Sequence[str], remaining_ms: Callable[[], int], added: set[str]
    ) -> None:
        if entries and not self.store.append(connection_id, entries):
            return  # gone: $disconnect ran, or the connection expired
        holder = uuid.uuid4().hex
        wait = _FIRST_WAIT_S
        while remaining_ms() > LEASE_MARGIN_MS:
            item = self.store.acquire(connection_id, holder, int(time.time() * 1000) + remaining_ms() + LEASE_MARGIN_MS)
            if item is None:
                if not self.handles_messages:
                    return  # another Lambda holds the lease; it sees this commit before it lets go
                time.sleep(wait)
                wait = min(wait * 2, _MAX_WAIT_S)
                continue
            left = self._drain(connection_id, holder, item, remaining_ms, added)
            if left is None:
                return  # the connection ended
            if self.store.release(connection_id, holder, left=left):
                return
        logger.warning("connection %s: work left in the inbox at the end of this invocation's time", connection_id)

    def _overflowed(self, connection_id: str, added: set[str]) -> None:
        """The connection's item is full (its client sent more than it can hold while a Lambda works for it): the
        connection ends, never the caller (a fan-out batch failing for one connection would hold every other
        connection's updates back, and drop them after the retries). ``added``: the watch keys this call registered,
        which the item does not list when saving it failed."""
        logger.warning("connection %s: its item is full; the connection is closed", connection_id)
        self.abandon(connection_id, _INBOX_FULL)
        self.store.remove_watches(connection_id, added)

    def abandon(self, connection_id: str, error: str) -> None:
        """End a connection this worker cannot serve: remove it and its watches, tell the client why (``FatalError``
        with ``error``) and close it. Nothing happens to a connection that is gone already.

        Example:
            >>> worker.abandon("Abc=", "InternalServerError: ...")  # doctest: +SKIP
        """
        endpoint = self.store.forget(connection_id)
        if endpoint is not None:
            try:
                self.poster.post(endpoint, connection_id, _fatal(error))
                self.poster.close(endpoint, connection_id)
            except (ConnectionGone, MessageTooLarge):
                pass  # gone already: nothing to tell it

    def _end(self, endpoint: str, connection_id: str, watches: set[str], last: str | None) -> None:
        """Close the connection (after a last message, if any) and remove it."""
        try:
            if last is not None:
                self.poster.post(endpoint, connection_id, last)
            self.poster.close(endpoint, connection_id)
        except (ConnectionGone, MessageTooLarge):
            pass  # gone already: nothing to tell it
        self.store.delete(connection_id, watches)

    def _drain(
        self,
        connection_id: str,
        holder: str,
        item: dict[str, Any],
        remaining_ms: Callable[[], int],
        registered: set[str],
    ) -> int | None:
        """Handle the inbox entries of ``item`` that can be handled now; how many were left in the inbox (client
        messages: waiting for one sent before them, or for the sync function), or None when the connection ended
        (and was removed). The watch keys it registers are added to ``registered`` first."""
        endpoint = str(item["endpoint"]["S"])
        watches: set[str] = set(json.loads(item["watches"]["S"])) if "watches" in item else set()
        inbox = [json.loads(entry["S"]) for entry in (item.get("inbox") or {}).get("L", [])]
        client_version = item.get("clientVersion", {}).get("S")
        session = SyncSession.restore(
            self.backend,
            self.feed,
            json.loads(item["state"]["S"]),
            limits=self.limits,
            client_version=client_version,
            mutations=self.mutations,
        )
        out: list[str] = []
        try:
            handled = self._feed(session, inbox, out)
            out += session.refresh()
            while session.actions_inflight and remaining_ms() > LEASE_MARGIN_MS:
                session.wake.wait(0.05)
                out += session.refresh()
            for _ in range(_WATCH_ROUNDS):
                if session.closed:
                    break
                wanted = _watch_keys(session)
                added = set().union(*wanted.values()) - watches
                if not added:
                    break
                registered |= added
                self.store.add_watches(connection_id, added)
                watches |= added
                session.invalidate(query_id for query_id, keys in wanted.items() if keys & added)
                out += session.refresh()
            state = session.snapshot()
        finally:
            session.close()
        try:
            for text in out:
                self.poster.post(endpoint, connection_id, text)
        except ConnectionGone:
            self.store.delete(connection_id, watches)
            return None
        except MessageTooLarge:
            self._end(endpoint, connection_id, watches, _fatal(_TOO_LARGE_MESSAGE))
            return None
        if state["closed"]:
            self._end(endpoint, connection_id, watches, None)
            return None
        text = json.dumps(state, separators=(",", ":"))
        if len(text.encode("utf-8")) > MAX_STATE_BYTES:
            self._end(endpoint, connection_id, watches, _fatal(_TOO_MUCH_STATE.format(size=len(text))))
            return None
        needed: set[str] = set().union(*_watch_keys(session).values())
        if not self.store.save(connection_id, holder, state=state, handled=handled, watches=watches & needed):
            self.store.remove_watches(connection_id, watches)  # $disconnect ran meanwhile: drop what this run added
            return None
        self.store.remove_watches(connection_id, watches - needed)
        return len(inbox) - len(handled)

    def _feed(self, session: SyncSession, inbox: list[dict[str, Any]], out: list[str]) -> set[int]:
        """Hand the session the inbox: every commit, and the client messages that can be taken now, in the order the
        client sent them (:mod:`authlib_core.live.ordering`); the positions handled."""
        handled: set[int] = set()
        for index, entry in enumerate(inbox):
            if entry.get("kind") != "message":
                session.on_commit(Commit(self.feed.position(), write_set_from_json(entry["writes"])))
                handled.add(index)
        if not self.handles_messages:
            return handled  # the fan-out leaves client messages to the sync function, which waits for the lease
        messages = [(index, entry) for index, entry in enumerate(inbox) if entry.get("kind") == "message"]
        sequence = [messages[k] for k in order([str(entry["text"]) for _, entry in messages])]
        now = time.time()
        progress = True
        while progress:
            progress = False
            for index, entry in sequence:
                if session.closed:
                    return handled  # FatalError or AuthError: the rest is not for this session
                text = str(entry["text"])
                if index not in handled and (
                    ready(text, session.versions) or now - float(entry.get("at") or 0) > WAIT_S
                ):
                    out += session.receive(text)
                    handled.add(index)
                    progress = True
                    break  # from the start again: what waited for this one comes first
        return handled


_TOO_MUCH_STATE = (
    "TooManyQueries: this connection's subscriptions need {size} bytes of state; a connection on AWS keeps at most "
    f"{MAX_STATE_BYTES} (one DynamoDB item). Subscribe to fewer queries, or to queries with smaller arguments."
)
_TOO_LARGE_MESSAGE = (
    "A result is larger than API Gateway's 128 KB message limit and this client cannot take it in pieces "
    "(TransitionChunk needs convex 1.28.0 or later, connecting through the stack's front, which passes the client "
    "version on). Return less data per query, e.g. paginate."
)


_INBOX_FULL = (
    "TooMuchPendingWork: this connection's unhandled messages fill its state on AWS (one DynamoDB item, 400 KB). "
    "Send fewer or smaller messages while a long action runs."
)


def _fatal(error: str) -> str:
    return json.dumps({"type": "FatalError", "error": error}, separators=(",", ":"))

"""The Lambda entry points of live queries on AWS (``template.yaml``: ``SyncFunction``, ``FanoutFunction``).

* :func:`sync_handler` — the WebSocket API's ``$connect`` (checks the page's ``Origin``, stores the connection),
  ``$default`` (a client message: appended to the connection's inbox and handled in order) and ``$disconnect``.
* :func:`keepalive_handler` — every minute: ``Ping`` to every open connection twice (Convex clients reconnect after
  60 s without a message).
* :func:`fanout_handler` — the documents table's DynamoDB stream: the batch's changes become one write set, the
  subscription index names the connections that may have read them, and each of those re-runs what the commit
  touched and gets a ``Transition`` if a result changed.

Answers reach the client through the API Gateway Management API (``PostToConnection``), never as route responses,
so that one Lambda at a time speaks to a connection (docs/realtime.md, "On AWS").

Environment: ``AUTHLIB_SYNC_TABLE`` (the sync table), plus what the HTTP handler reads (documents and sessions
tables, functions, trusted origins). ``AUTHLIB_BASE_URL`` or ``AUTHLIB_HTTP_API_URL`` is the issuer of identities,
as the HTTP API's origin is over HTTP.

Example (what API Gateway sends)::

    >>> connect = {"requestContext": {"routeKey": "$connect", "connectionId": "Abc=", ...}}  # doctest: +SKIP
    >>> sync_handler(connect, context)                                                       # doctest: +SKIP
    {'statusCode': 200}
"""

from __future__ import annotations

import base64
import functools
import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Final

from authlib_core.auth.origin import OriginPolicy
from authlib_core.config import LiveSettings, Settings
from authlib_core.errors import StorageUnavailableError
from authlib_core.http.lambda_handler import LazyRuntime
from authlib_core.http.sync_backend import RuntimeSyncBackend
from authlib_core.live.delivery import (
    AWS_LIMITS,
    ConnectionGone,
    ConnectionWorker,
    LambdaFeed,
    MessageTooLarge,
    commit_entry,
    message_entry,
)
from authlib_core.live.store import KEEPALIVE_SHARDS, SyncStore
from authlib_core.live.stream import write_set_of_records
from authlib_core.live.watch import write_keys
from authlib_core.sync.mutation_log import ReceiptMutationLog
from authlib_core.sync.protocol import SyncSession, describe_failure

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from authlib_core.runtime import Runtime

__all__ = ["LiveEnvironment", "ManagementApiPoster", "fanout_handler", "keepalive_handler", "sync_handler"]

logger = logging.getLogger("authlib_core.live")

#: What the front passes on as ``clientVersion`` (the npm client's version from its URL path).
_CLIENT_VERSION: Final = re.compile(r"\d{1,4}\.\d{1,4}\.\d{1,4}[0-9A-Za-z.+-]{0,24}")
#: Connections handled at once by one fan-out invocation (each is a few DynamoDB calls and query runs).
FANOUT_PARALLELISM: Final = 8


class ManagementApiPoster:
    """``PostToConnection``/``DeleteConnection`` through botocore, one client per endpoint (cached)."""

    def __init__(self, on_client: Callable[[Any], None] | None = None) -> None:
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        #: Called with each client made (to register botocore event handlers on it).
        self._on_client = on_client

    def _client(self, endpoint: str) -> Any:
        with self._lock:
            client = self._clients.get(endpoint)
            if client is None:
                import botocore.session
                from botocore.config import Config

                client = botocore.session.Session().create_client(
                    "apigatewaymanagementapi",
                    endpoint_url=endpoint,
                    config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5),
                )
                if self._on_client is not None:
                    self._on_client(client)
                self._clients[endpoint] = client
            return client

    def post(self, endpoint: str, connection_id: str, data: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self._client(endpoint).post_to_connection(ConnectionId=connection_id, Data=data.encode("utf-8"))
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code == "GoneException":
                raise ConnectionGone(connection_id) from error
            if code == "PayloadTooLargeException":
                raise MessageTooLarge(f"{len(data.encode('utf-8'))} bytes to {connection_id}") from error
            raise

    def close(self, endpoint: str, connection_id: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self._client(endpoint).delete_connection(ConnectionId=connection_id)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "GoneException":
                raise


class LiveEnvironment:
    """What one Lambda execution environment builds once: the sync store and poster (cheap), and for the sync and
    fan-out functions the runtime and the worker (loads the functions)."""

    def __init__(self, *, handles_messages: bool, poster: Any = None) -> None:
        self.handles_messages = handles_messages
        self.runtime = LazyRuntime(_build_runtime)
        self.feed = LambdaFeed()
        self.poster: Any = poster or ManagementApiPoster()
        self._store: SyncStore | None = None
        self._worker: ConnectionWorker | None = None
        self._lock = threading.Lock()

    def store(self) -> SyncStore:
        """The sync table's store (no runtime needed: the keep-alive function uses only this and the poster)."""
        with self._lock:
            if self._store is None:
                from authlib_core.database.engines.dynamodb import create_client

                live = LiveSettings.from_env()  # not Settings: the keep-alive function has no server secret
                client = create_client(endpoint_url=live.dynamodb_endpoint_url, region=live.region)
                self._store = SyncStore(client, live.sync_table)
            return self._store

    def worker(self) -> ConnectionWorker:
        """The connection worker over the runtime (built on first use)."""
        store = self.store()
        with self._lock:
            if self._worker is None:
                from authlib_core.http.app import _default_logger

                runtime = self.runtime()
                runtime.database.commit_listeners.append(self.feed.publish)
                backend = RuntimeSyncBackend(self.runtime, _default_logger(), LiveSettings.from_env().issuer)
                self._worker = ConnectionWorker(
                    store,
                    backend,
                    self.poster,
                    self.feed,
                    handles_messages=self.handles_messages,
                    mutations=ReceiptMutationLog(lambda: self.runtime().database.engine),
                )
            return self._worker


def _build_runtime() -> Runtime:
    from authlib_core.runtime import build_runtime

    return build_runtime(Settings.from_env())


_sync: LiveEnvironment | None = None
_fanout: LiveEnvironment | None = None


def _environment(*, sync: bool) -> LiveEnvironment:
    """What this execution environment built (a Lambda function runs one of the handlers: sync, or fan-out and
    keep-alive, which never handle client messages)."""
    global _sync, _fanout  # one per Lambda execution environment, by design
    if sync:
        if _sync is None:
            _sync = LiveEnvironment(handles_messages=True)
        return _sync
    if _fanout is None:
        _fanout = LiveEnvironment(handles_messages=False)
    return _fanout


def _remaining(context: Any) -> Callable[[], int]:
    method = getattr(context, "get_remaining_time_in_millis", None)
    if callable(method):
        return lambda: int(method())
    return lambda: 30_000


@functools.lru_cache(maxsize=4)  # one list per deployment; a dev reload may bring another
def _origin_policy(trusted: tuple[str, ...]) -> OriginPolicy:
    return OriginPolicy(trusted)


def _origin_allowed(headers: Mapping[str, str], trusted: tuple[str, ...]) -> bool:
    """No ``Origin`` (Node and Python clients), or a trusted one read as the HTTP API reads it (wildcards, case and
    default ports as browsers send them)."""
    origin = next((value for name, value in headers.items() if name.lower() == "origin"), None)
    return origin is None or _origin_policy(trusted).trusts(origin)


_TOO_MANY_CONNECTIONS = (
    f"TooManyConnections: this address already has {AWS_LIMITS.max_connections_per_address} open sync "
    "connections, the limit per address; close some clients (each ConvexClient keeps one WebSocket)."
)


def sync_handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """``$connect``, ``$default`` and ``$disconnect`` of the WebSocket API."""
    live = _environment(sync=True)
    request = event.get("requestContext") or {}
    route, connection_id = request.get("routeKey"), str(request.get("connectionId") or "")
    if not connection_id:
        return {"statusCode": 400, "body": "no connectionId in the event"}
    if route == "$disconnect":
        live.store().forget(connection_id)
        live.store().leave(connection_id)
        return {"statusCode": 200}
    if route == "$connect":
        if not _origin_allowed(event.get("headers") or {}, live.runtime().settings.trusted_origins):
            return {"statusCode": 403, "body": "ForbiddenOrigin: this page's origin is not in AUTHLIB_TRUSTED_ORIGINS"}
        version = (event.get("queryStringParameters") or {}).get("clientVersion")
        if version is not None and not (isinstance(version, str) and _CLIENT_VERSION.fullmatch(version)):
            return {"statusCode": 400, "body": "clientVersion must be a client version such as 1.49.0"}
        address = str((request.get("identity") or {}).get("sourceIp") or "")
        if address and not live.store().admit(connection_id, address, AWS_LIMITS.max_connections_per_address):
            return {"statusCode": 429, "body": _TOO_MANY_CONNECTIONS}
        worker = live.worker()
        session = SyncSession(worker.backend, live.feed, limits=AWS_LIMITS)
        state = session.snapshot()
        session.close()
        endpoint = f"https://{request.get('domainName')}/{request.get('stage')}"
        worker.store.create(connection_id, endpoint=endpoint, client_version=version, state=state)
        return {"statusCode": 200}
    worker = live.worker()
    body = event.get("body") or ""
    text = base64.b64decode(body).decode("utf-8", "replace") if event.get("isBase64Encoded") else str(body)
    # A storage failure fails the invocation (the message stays in the inbox for the next one); anything else ends
    # only this connection: the client reconnects and re-sends what was not answered.
    _serve(worker, connection_id, [message_entry(text)], _remaining(context), "a client message", _MESSAGE_FAILED)
    return {"statusCode": 200}


def fanout_handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """A batch of the documents table's stream records: re-run the live queries it may change, post transitions."""
    live = _environment(sync=False)
    worker = live.worker()
    catalog = live.runtime().database.catalog
    writes = write_set_of_records(event.get("Records") or [], lambda table: list(catalog.indexes(table).values()))
    if not writes.writes:
        return {"connections": 0}
    connections: set[str] = set()
    for key in sorted(write_keys(writes)):
        connections |= worker.store.watchers(key)
    entry = commit_entry(writes)
    remaining = _remaining(context)
    with ThreadPoolExecutor(FANOUT_PARALLELISM) as pool:
        # A storage outage fails the batch: Lambda retries it, and a re-delivered commit posts nothing twice. Any
        # other failure is that one connection's: it is closed, the others get their updates.
        list(pool.map(lambda connection: _fan_out_to(worker, connection, entry, remaining), sorted(connections)))
    return {"connections": len(connections)}


_MESSAGE_FAILED = (
    "InternalServerError: the server failed to handle a message of this connection and closed it. Reconnect; "
    "mutations that were not answered are sent again and answered without running twice. The server log has the "
    "details."
)
_FANOUT_FAILED = (
    "InternalServerError: the server failed to update this connection's queries and closed it. Reconnect to "
    "subscribe again; the server log has the details."
)


def _transient(error: BaseException) -> bool:
    """A failure of the storage rather than of the connection (throttling, 5xx, timeouts, connection errors, a
    deployment the operator must fix): every connection would hit it, so the batch is retried."""
    from botocore.exceptions import BotoCoreError, ClientError

    from authlib_core.database.engines.dynamodb.errors import translate

    if isinstance(error, StorageUnavailableError):
        return True
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code")
        if code in ("ValidationException", "ConditionalCheckFailedException"):
            return False  # about this connection's item
    return isinstance(error, ClientError | BotoCoreError) and isinstance(
        translate(error, "fan-out"), StorageUnavailableError
    )


def _fan_out_to(worker: ConnectionWorker, connection_id: str, entry: str, remaining: Callable[[], int]) -> None:
    """One connection's part of a fan-out; a failure that is not the storage's ends only this connection."""
    _serve(worker, connection_id, [entry], remaining, "the fan-out", _FANOUT_FAILED)


def _serve(
    worker: ConnectionWorker,
    connection_id: str,
    entries: list[str],
    remaining: Callable[[], int],
    what: str,
    error_text: str,
) -> None:
    """``worker.handle`` for one connection, isolated: a failure of the storage is raised (every connection would
    hit it; the invocation fails and is retried where Lambda retries it), any other ends only this connection
    (``FatalError`` ``error_text``, removed and closed) and the invocation goes on."""
    try:
        worker.handle(connection_id, entries, remaining)
    except Exception as error:
        if _transient(error):
            raise
        logger.error(
            "connection %r: %s failed (%s); the connection is closed", connection_id, what, describe_failure(error)
        )
        worker.abandon(connection_id, error_text)


#: Seconds between the keep-alive rounds of one invocation (the schedule runs every minute; Convex clients
#: reconnect after 60 s without a message, so every connection gets a Ping at least every 30 s).
KEEPALIVE_EVERY_S: Final = 30
PING: Final = '{"type":"Ping"}'


def keepalive_handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Every minute (EventBridge schedule): ``Ping`` every open connection now and 30 s later.

    Pings are outside the protocol's version chain, so they need no lease. A connection that is gone (410) is
    removed. With no connection open, the invocation ends at once (nothing to wait for).
    """
    live = _environment(sync=False)
    store, poster = live.store(), live.poster
    remaining = _remaining(context)
    rounds = pinged = removed = 0
    started = time.monotonic()

    def ping(pair: tuple[str, str]) -> bool:
        connection_id, endpoint = pair
        try:
            poster.post(endpoint, connection_id, PING)
        except ConnectionGone:
            store.forget(connection_id)
            return False
        return True

    while True:
        with ThreadPoolExecutor(FANOUT_PARALLELISM) as pool:
            targets = [pair for pairs in pool.map(store.keepalive, range(KEEPALIVE_SHARDS)) for pair in pairs]
            outcomes = list(pool.map(ping, targets))
        rounds += 1
        pinged += outcomes.count(True)
        removed += outcomes.count(False)
        wait = started + rounds * KEEPALIVE_EVERY_S - time.monotonic()
        if rounds >= 2 or not targets or remaining() < (wait + 5) * 1000:
            return {"rounds": rounds, "pinged": pinged, "removed": removed}
        time.sleep(max(0.0, wait))

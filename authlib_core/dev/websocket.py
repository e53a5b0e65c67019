"""The dev server's WebSocket transport for live queries: ``/api/sync`` and ``/api/<client version>/sync``.

The HTTP server reads the upgrade request as any other; this module checks it (Host, Origin, connections per
address), lets the ``websockets`` library answer the handshake and frame every message on the same socket
(``websockets.sync``; no hand-made framing), and pumps text between the socket and a
:class:`~authlib_core.sync.protocol.SyncSession`. Only the dev server imports this module (and ``websockets``);
the Lambda path never does.

One connection uses two threads: the server's request thread runs the session (client messages, commits from the
change feed, the caller's credential at its expiry, a ``Ping`` after 15 quiet seconds), and ``websockets`` reads
frames on its own thread.
"""

from __future__ import annotations

import collections
import contextlib
import queue
import re
import threading
import time
from typing import TYPE_CHECKING, Any, Final

from authlib_core.database.readset import WriteSet
from authlib_core.dev.guard import Refusal
from authlib_core.errors import StorageUnavailableError
from authlib_core.http.sync_backend import RuntimeSyncBackend
from authlib_core.sync.feed import InProcessFeed
from authlib_core.sync.mutation_log import ReceiptMutationLog
from authlib_core.sync.protocol import SyncLimits, SyncSession

if TYPE_CHECKING:
    from collections.abc import Callable
    from http.server import BaseHTTPRequestHandler

    from aws_lambda_powertools import Logger

    from authlib_core.dev.guard import HostPolicy
    from authlib_core.http.app import CallRecord
    from authlib_core.runtime import Runtime
    from authlib_core.sync.ports import MutationAnswers

__all__ = ["SYNC_PATH", "SyncHub", "sync_client_version"]

#: ``/api/sync`` or ``/api/<npm client version>/sync`` (the ``convex`` client puts its version in the path).
SYNC_PATH: Final = re.compile(r"^/api/(?:(\d+\.\d+\.\d+[0-9A-Za-z.+-]*)/)?sync\Z")
_END: Final = object()


def sync_client_version(path: str) -> tuple[bool, str | None]:
    """``(is a sync path, client version in it)``.

    Example:
        >>> sync_client_version("/api/1.49.0/sync"), sync_client_version("/api/query")
        ((True, '1.49.0'), (False, None))
    """
    match = SYNC_PATH.match(path)
    return (match is not None, match.group(1) if match else None)


def _cookies(headers: list[str]) -> dict[str, str]:
    """``name -> value`` of ``Cookie`` headers (the first occurrence of a name wins, as for HTTP requests)."""
    found: dict[str, str] = {}
    for header in headers:
        for part in header.split(";"):
            name, sep, value = part.strip().partition("=")
            if sep and name and name not in found:
                found[name] = value
    return found


class SyncHub:
    """What the dev server's sync connections share: the change feed, the mutation log, per-address counts.

    The answers of mutations are committed with the mutations, as receipts of the engine (:class:`ReceiptMutationLog`:
    SQLite's ``receipts`` table in the file of the documents), so a mutation a client re-sends after a dev-server
    restart or crash is answered, not run again.
    """

    def __init__(self, runtime: Callable[[], Runtime], logger: Logger, limits: SyncLimits | None = None) -> None:
        self.feed = InProcessFeed()
        self.mutations: MutationAnswers = ReceiptMutationLog(lambda: runtime().database.engine)
        self.limits = limits or SyncLimits()
        self._runtime = runtime
        self._logger = logger
        #: Called with a record of every function call over a socket (the dev server prints it).
        self.on_call: Callable[[CallRecord], None] | None = None
        self._lock = threading.Lock()
        self._per_address: collections.Counter[str] = collections.Counter()

    def follow(self, runtime: Runtime) -> Runtime:
        """Publish ``runtime``'s commits on the feed (the dev server calls this for every runtime it builds)."""
        runtime.database.commit_listeners.append(self.feed.publish)
        return runtime

    def reloaded(self, runtime: Runtime) -> None:
        """The functions changed: every subscribed query runs again on the new code."""
        self.feed.publish(WriteSet((), everything=True))

    def sessions_changed(self) -> None:
        """Sessions may have ended (an auth request changed the session store): connections check theirs now."""
        self.feed.publish(WriteSet(()))

    def _admit(self, address: str) -> None:
        with self._lock:
            if self._per_address[address] >= self.limits.max_connections_per_address:
                raise Refusal(
                    429,
                    "TooManyConnections",
                    f"This address already has {self.limits.max_connections_per_address} open sync connections, "
                    "the limit per address; close some clients (each ConvexClient keeps one WebSocket).",
                )
            self._per_address[address] += 1

    def _release(self, address: str) -> None:
        with self._lock:
            self._per_address[address] -= 1
            if self._per_address[address] <= 0:
                del self._per_address[address]

    def check_origin(self, origin: str | None, hosts: HostPolicy) -> None:
        """Refuse a browser page from a host this server does not answer (cross-site WebSocket hijacking).

        ``Origin: null`` (a sandboxed iframe, a ``data:`` or ``file:`` page: any site can make one) is refused, as the
        WebSocket API's ``$connect`` on AWS refuses it.
        """
        if origin is None:
            return  # not a browser page (Node, Python clients send no Origin)
        if not hosts.allows_origin(origin):
            shown = origin if len(origin) <= 100 and origin.isprintable() else "(not shown)"
            raise Refusal(
                403,
                "ForbiddenOrigin",
                f"WebSocket connections from origin {shown!r} are refused: only pages served from this machine "
                "(localhost, a loopback address), the address the server listens on, or AUTHLIB_TRUSTED_ORIGINS / "
                "--cors-origin may connect; add the page's origin there.",
            )

    def serve(self, handler: BaseHTTPRequestHandler, client_version: str | None, base_url: str) -> None:
        """Run one connection on ``handler``'s socket until it closes (the handshake is checked by the caller).

        Raises:
            Refusal: too many connections from this address, or not a WebSocket upgrade request (a ``GET``).
        """
        try:
            from websockets.http11 import Request
            from websockets.server import ServerProtocol
            from websockets.sync.connection import Connection
        except ImportError:
            raise Refusal(
                501,
                "NotImplemented",
                "Live queries need the websockets package, which is not installed: pip install 'authlib-core[local]'.",
            ) from None
        # Only a GET upgrades (RFC 6455 section 4.1): a HEAD is answered as a GET without Upgrade would be.
        if handler.command != "GET" or "websocket" not in (handler.headers.get("upgrade") or "").lower():
            raise Refusal(
                426,
                "UpgradeRequired",
                "This endpoint speaks the Convex sync protocol over WebSocket; connect with a WebSocket client "
                "(ConvexClient / ConvexReactClient), or use POST /api/query for one-off calls.",
                close=False,
            )
        address = handler.client_address[0]
        self._admit(address)
        try:
            protocol = ServerProtocol(max_size=self.limits.max_message_bytes)
            # The HTTP server has read the request already; replay it so the library's parser starts where it should.
            head = "".join(f"{name}: {value}\r\n" for name, value in handler.headers.items())
            protocol.receive_data(f"GET {handler.path} HTTP/1.1\r\n{head}\r\n".encode("latin-1"))
            request = next((event for event in protocol.events_received() if isinstance(event, Request)), None)
            if request is None:
                raise Refusal(400, "BadRequest", "The WebSocket upgrade request could not be parsed")
            response = protocol.accept(request)
            protocol.send_response(response)
            sock = handler.connection
            sock.settimeout(None)  # the HTTP read timeout must not end a quiet WebSocket
            sock.sendall(b"".join(protocol.data_to_send()))
            handler.close_connection = True
            if response.status_code != 101:
                return
            connection = Connection(sock, protocol, ping_interval=self.limits.ping_after_s, ping_timeout=120.0)
            connection.start_keepalive()
            route = handler.path.split("?", 1)[0]
            backend = RuntimeSyncBackend(
                self._runtime, self._logger, base_url, on_call=self.on_call, route=route, log_lines=True
            )
            cookies = _cookies(handler.headers.get_all("cookie") or [])
            origin = handler.headers.get("origin")
            ambient = (lambda: backend.cookie_auth(cookies, origin)) if cookies else None
            session = SyncSession(
                backend,
                self.feed,
                limits=self.limits,
                client_version=client_version,
                mutations=self.mutations,
                ambient_auth=ambient,
            )
            self._run(connection, session)
        finally:
            self._release(address)

    def _run(self, connection: Any, session: SyncSession) -> None:
        inbox: queue.SimpleQueue[object] = queue.SimpleQueue()
        wake = session.wake

        def read() -> None:
            try:
                for message in connection:
                    inbox.put(message)
                    wake.set()
            except Exception:  # the connection failed; the loop below ends the session
                self._logger.debug("sync connection read failed", exc_info=True)
            finally:
                inbox.put(_END)
                wake.set()

        reader = threading.Thread(target=read, name="authlib-sync-reader", daemon=True)
        reader.start()
        ping_after = self.limits.ping_after_s
        last_output = time.monotonic()
        try:
            while not session.closed:
                timeout = ping_after - (time.monotonic() - last_output)
                deadline = session.auth_deadline  # the credential's expiry: checked then, not on the next commit
                if deadline is not None:
                    timeout = min(timeout, deadline - time.time())
                wake.wait(timeout=max(0.0, timeout))
                wake.clear()
                out: list[str] = []
                ended = False
                while not ended and not session.closed:
                    try:
                        item = inbox.get_nowait()
                    except queue.Empty:
                        break
                    if item is _END:
                        ended = True
                    elif isinstance(item, str):
                        out.extend(session.receive(item))
                    else:
                        out.extend(session.receive("binary"))  # a FatalError: the protocol is JSON text
                out.extend(session.refresh())
                if not out and time.monotonic() - last_output >= ping_after:
                    out.extend(session.ping())  # quiet for 15 s (commits that changed nothing here included)
                for text in out:
                    connection.send(text)
                if out:
                    last_output = time.monotonic()
                if ended:
                    break
        except StorageUnavailableError as error:  # the client reconnects and re-sends what was not answered
            self._logger.warning(f"sync connection closed: the store is unavailable ({error.message})")
        except Exception:  # the peer went away while we were sending
            self._logger.debug("sync connection ended", exc_info=True)
        finally:
            session.close()
            with contextlib.suppress(Exception):
                connection.close()
            reader.join(timeout=5)

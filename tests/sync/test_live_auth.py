"""Who a live connection runs as, and until when.

* ``Authenticate`` with a JWT of a provider in ``functions/auth_config.py`` (a real OIDC issuer stand-in on
  127.0.0.1, tokens signed by keys the test generates): the identity reaches the queries; a bad signature, a foreign
  issuer or an expired token gets ``AuthError``; a token that expires while connected gets ``AuthError`` at its
  expiry (the protocol's clock is the test's, so no waiting), without any commit.
* The published ``convex`` client (``ConvexClient`` over ``ws``, tests/clients/convex-live.mjs, phase ``jwt``) with
  JWTs against the real dev server: the identity of its first token, then of the fresh token it fetches once the
  server confirmed the first, reach the subscription; a badly signed token ends in ``onChange(false)`` and the query
  stays anonymous.
* Sessions of ours that expire while connected, over the real dev server and a real ``websockets`` client: a
  connection authenticated with the session token gets ``AuthError`` at the session's end, and one running on its
  handshake's cookie turns anonymous then, both with no commit in between (the transport's timer, not a commit,
  notices it).
"""

from __future__ import annotations

import dataclasses
import io
import json
import time
import urllib.request
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from aws_lambda_powertools import Logger
from websockets.sync.client import connect

from authlib_core.auth import jwks
from authlib_core.auth.jwt_verify import LEEWAY, ExternalAuth
from authlib_core.config import Settings
from authlib_core.database.readset import WriteSet
from authlib_core.dev.server import DevServer
from authlib_core.http.sync_backend import RuntimeSyncBackend
from authlib_core.runtime import build_runtime
from authlib_core.sync import InProcessFeed, SyncSession
from tests.http.test_external_jwt import Issuer, settings
from tests.support.node_clients import EXAMPLE_FUNCTIONS, dev_server, ensure_node_modules, run_node

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from authlib_core.runtime import Runtime


class Clock:
    """The one clock of the verifier and the protocol, moved by the test."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def jwt_runtime(app_dir: Path, tmp_path: Path) -> Iterator[tuple[Runtime, Clock]]:
    clock = Clock()
    built = build_runtime(settings(app_dir, tmp_path))
    assert built.external_auth is not None
    verifier = ExternalAuth(built.external_auth.providers, allow_loopback_http=True, clock=clock)
    yield dataclasses.replace(built, external_auth=verifier), clock
    built.database.close()


def _open(runtime: Runtime, clock: Clock) -> SyncSession:
    backend = RuntimeSyncBackend(lambda: runtime, Logger(service="test", level="ERROR"), clock=clock)
    session = SyncSession(backend, InProcessFeed(), clock=clock)
    assert session.receive(json.dumps({"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0})) == []
    return session


def _messages(texts: list[str]) -> list[dict[str, Any]]:
    return [json.loads(text) for text in texts]


def _authenticate(session: SyncSession, token: str, base: int = 0) -> list[dict[str, Any]]:
    message = {"type": "Authenticate", "tokenType": "User", "value": token, "baseVersion": base}
    return _messages(session.receive(json.dumps(message)))


def _watch_me(session: SyncSession) -> dict[str, Any]:
    add = {"type": "Add", "queryId": 1, "udfPath": "who:me", "args": [{}]}
    (transition,) = _messages(
        session.receive(
            json.dumps({"type": "ModifyQuerySet", "baseVersion": 0, "newVersion": 1, "modifications": [add]})
        )
    )
    return transition


def test_a_jwt_of_a_configured_provider_is_the_connections_identity(
    jwt_runtime: tuple[Runtime, Clock], issuer: Issuer
) -> None:
    runtime, clock = jwt_runtime
    session = _open(runtime, clock)
    first = _watch_me(session)
    assert first["modifications"][0]["value"] == {"identity": None, "userId": None}

    (transition,) = _authenticate(session, issuer.token(iat=int(clock.now), exp=int(clock.now) + 300))
    assert transition["endVersion"]["identity"] == 1
    (update,) = transition["modifications"]
    identity = update["value"]["identity"]
    assert identity["tokenIdentifier"] == f"{issuer.url}|user-42"
    assert (identity["email"], identity["pictureUrl"]) == ("ada@example.com", "https://img.example/ada.png")
    assert update["value"]["userId"] is None  # get_auth_user_id names this app's own users only
    assert session.auth_deadline == int(clock.now) + 300 + LEEWAY


@pytest.mark.parametrize(
    ("forge", "words"),
    [
        (lambda oidc, now: _tampered(oidc.token(iat=now, exp=now + 300)), "signature is invalid"),
        (lambda oidc, now: oidc.token(iss="https://evil.example", iat=now, exp=now + 300), "No auth provider"),
        (lambda oidc, now: oidc.token(iat=now - 400, exp=now - 60), "expired"),
        (lambda oidc, now: oidc.token(aud="someone-else", iat=now, exp=now + 300), "audience"),
    ],
)
def test_a_jwt_that_proves_nothing_gets_auth_error(
    jwt_runtime: tuple[Runtime, Clock], issuer: Issuer, forge: Any, words: str
) -> None:
    runtime, clock = jwt_runtime
    session = _open(runtime, clock)
    (error,) = _authenticate(session, forge(issuer, int(clock.now)))
    assert error["type"] == "AuthError"
    assert error["authUpdateAttempted"] is True  # the client re-fetches its token (or gives up) on this
    assert error["baseVersion"] == 0
    assert words in error["error"]
    assert session.closed


def _tampered(token: str) -> str:
    head, payload, signature = token.split(".")
    return f"{head}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"


def test_a_jwt_that_expires_while_connected_gets_auth_error_at_its_expiry(
    jwt_runtime: tuple[Runtime, Clock], issuer: Issuer
) -> None:
    runtime, clock = jwt_runtime
    session = _open(runtime, clock)
    _watch_me(session)
    now = int(clock.now)
    (transition,) = _authenticate(session, issuer.token(iat=now, exp=now + 60))
    assert transition["modifications"][0]["value"]["identity"]["subject"] == "user-42"
    deadline = session.auth_deadline
    assert deadline == now + 60 + LEEWAY

    clock.now = deadline - 1  # not yet: nothing to send, nothing re-run
    assert session.refresh() == []
    assert not session.closed
    clock.now = deadline  # the transport wakes at the deadline and refreshes; no commit has happened
    (error,) = _messages(session.refresh())
    assert error["type"] == "AuthError"
    assert error["authUpdateAttempted"] is False  # the session expired: the client asks its token fetcher again
    assert error["baseVersion"] == 1
    assert "expired" in error["error"]
    assert session.closed
    assert session.refresh() == []  # nothing more for this connection, ever


def test_a_fresh_jwt_replaces_the_expiring_one(jwt_runtime: tuple[Runtime, Clock], issuer: Issuer) -> None:
    runtime, clock = jwt_runtime
    session = _open(runtime, clock)
    _watch_me(session)
    now = int(clock.now)
    _authenticate(session, issuer.token(iat=now, exp=now + 60))
    (transition,) = _authenticate(session, issuer.token(iat=now, exp=now + 3600, sub="user-43"), base=1)
    assert transition["modifications"][0]["value"]["identity"]["subject"] == "user-43"
    clock.now = now + 60 + LEEWAY  # the first token's expiry no longer matters
    assert session.refresh() == []
    assert session.auth_deadline == now + 3600 + LEEWAY


def test_a_verified_jwt_is_not_verified_again_on_every_commit(
    jwt_runtime: tuple[Runtime, Clock], issuer: Issuer
) -> None:
    runtime, clock = jwt_runtime
    backend = RuntimeSyncBackend(lambda: runtime, Logger(service="test", level="ERROR"), clock=clock)
    feed = InProcessFeed()
    session = SyncSession(backend, feed, clock=clock)
    session.receive(json.dumps({"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0}))
    _watch_me(session)
    now = int(clock.now)
    _authenticate(session, issuer.token(iat=now, exp=now + 60))
    fetched = issuer.hits["/jwks.json"]
    issuer.close()  # the provider goes away: a JWT cannot be revoked, so the connection does not depend on it now
    jwks.clear_cache()  # (verifying the token again would have to fetch the keys, and fail)
    feed.publish(WriteSet(()))
    assert session.refresh() == []
    assert not session.closed
    assert issuer.hits["/jwks.json"] == fetched
    clock.now = now + 60 + LEEWAY  # its expiry still ends it
    (error,) = _messages(session.refresh())
    assert (error["type"], error["authUpdateAttempted"]) == ("AuthError", False)
    assert "expired" in error["error"]


# --- sessions of ours, over the real dev server ----------------------------------------------------------------

LIFETIME_S = 2


@pytest.fixture
def short_sessions(tmp_path: Path) -> Iterator[DevServer]:
    config = Settings(
        functions_dir=EXAMPLE_FUNCTIONS, sqlite_path=tmp_path / "db.sqlite3", session_expires_in=LIFETIME_S
    )
    dev = DevServer(lambda: build_runtime(config), EXAMPLE_FUNCTIONS, port=0, out=io.StringIO())
    dev.start_background()
    yield dev
    dev.shutdown()


def _sign_up(url: str) -> tuple[str, str]:
    """A new user's session: (bearer token, cookie header value)."""
    body = {"name": "Exp", "email": f"exp-{time.time_ns()}@example.com", "password": "correct horse battery"}
    request = urllib.request.Request(
        url + "/api/auth/sign-up/email",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "origin": url},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        cookie = response.headers["set-cookie"].split(";", 1)[0]
        return json.loads(response.read())["token"], cookie


def _connect_and_watch(ws: Any, token: str | None) -> dict[str, Any]:
    ws.send(json.dumps({"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0}))
    if token is not None:
        ws.send(json.dumps({"type": "Authenticate", "tokenType": "User", "value": token, "baseVersion": 0}))
    add = {"type": "Add", "queryId": 0, "udfPath": "myData:getMyData", "args": [{}]}
    ws.send(json.dumps({"type": "ModifyQuerySet", "baseVersion": 0, "newVersion": 1, "modifications": [add]}))
    while True:
        message = json.loads(ws.recv(timeout=10))
        if message["type"] == "Transition" and message["endVersion"]["querySet"] == 1:
            return message


def test_a_session_that_expires_while_connected_gets_auth_error_without_any_commit(short_sessions: DevServer) -> None:
    url = short_sessions.url
    token, _cookie = _sign_up(url)
    signed_up = time.monotonic()
    with connect(url.replace("http://", "ws://") + "/api/sync") as ws:
        first = _connect_and_watch(ws, token)
        assert first["modifications"][0]["value"] == []  # signed in: an empty list, not "Not authenticated"
        error = json.loads(ws.recv(timeout=LIFETIME_S + 5))  # nothing is written meanwhile: the timer fires
        waited = time.monotonic() - signed_up
    assert error["type"] == "AuthError"
    assert error["authUpdateAttempted"] is False
    assert "no longer valid" in error["error"]
    assert LIFETIME_S - 0.5 <= waited < LIFETIME_S + 3  # at the session's end, not before, not much later


def test_a_handshake_cookie_session_that_expires_turns_the_connection_anonymous(short_sessions: DevServer) -> None:
    url = short_sessions.url
    _token, cookie = _sign_up(url)
    ws_url = url.replace("http://", "ws://") + "/api/sync"
    with connect(ws_url, origin=url, additional_headers={"cookie": cookie}) as ws:  # type: ignore[arg-type]
        first = _connect_and_watch(ws, None)
        assert first["modifications"][0]["value"] == []
        transition = json.loads(ws.recv(timeout=LIFETIME_S + 5))
    assert transition["type"] == "Transition"
    (failed,) = transition["modifications"]
    assert (failed["type"], failed["errorData"]) == ("QueryFailed", "Not authenticated")


@pytest.mark.node
def test_the_published_client_refreshes_jwts_on_its_connection(tmp_path: Path, app_dir: Path, issuer: Issuer) -> None:
    ensure_node_modules()
    now = int(time.time())
    with dev_server(tmp_path / "jwt", app_dir, {"AUTHLIB_JWT_ALLOW_LOOPBACK_HTTP": "true"}) as server:
        proc = run_node(
            "convex-live.mjs",
            {
                "APP_URL": server.url,
                "PHASE": "jwt",
                "FIRST_TOKEN": issuer.token(iat=now, exp=now + 300),
                "SECOND_TOKEN": issuer.token(sub="user-43", iat=now, exp=now + 3600),
                "BAD_TOKEN": _tampered(issuer.token(iat=now, exp=now + 300)),
            },
        )
        assert proc.returncode == 0, proc.stderr + proc.stdout + server.output()
        log = server.output()
    result = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))[7:])
    assert (result["first"], result["refreshed"]) == ("user-42", "user-43")
    assert result["fetched"] == [False, True]  # setAuth's fetch, then the forced refetch after the confirmation
    assert result["subjects"][0] is None
    assert {"user-42", "user-43"} <= set(result["subjects"])
    assert "error" not in result["subjects"]
    assert set(result["authChanges"]) == {True}
    assert result["badTokenAuthenticated"] is False
    assert result["badTokenIdentities"] == 0
    assert log.count("WS /api/1.49.0/sync who:me 200 success") >= 3  # anonymous, user-42, user-43

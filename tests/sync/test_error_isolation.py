"""An unexpected failure while handling one client message ends that connection with ``FatalError``
(``InternalServerError``), and nothing else: the real dev server over a real socket, with a failure injected into
the token check (standing in for a bug); a storage failure closes the connection so that the client reconnects.
"""

from __future__ import annotations

import io
import json
import logging
import pathlib
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from websockets.sync.client import connect

from authlib_core.config import Settings
from authlib_core.dev.server import DevServer
from authlib_core.errors import StorageUnavailableError
from authlib_core.http.sync_backend import RuntimeSyncBackend
from authlib_core.runtime import build_runtime
from tests.sync.sockets import until_closed

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

COUNTER_APP = pathlib.Path(__file__).resolve().parents[1] / "faults" / "apps" / "counterapp"
SECRET = "do-not-log-this-token"


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    real = RuntimeSyncBackend.authenticate

    def authenticate(self: RuntimeSyncBackend, token: str) -> Any:
        if token.startswith("bug"):
            raise KeyError(f"{token} {SECRET}")
        if token.startswith("outage"):
            raise StorageUnavailableError("The session store did not answer.")
        return real(self, token)

    monkeypatch.setattr(RuntimeSyncBackend, "authenticate", authenticate)
    settings = Settings(functions_dir=COUNTER_APP, sqlite_path=tmp_path / "db.sqlite3")
    dev = DevServer(lambda: build_runtime(settings), COUNTER_APP, port=0, out=io.StringIO(), run_jobs=False)
    dev.start_background()
    yield dev.url.replace("http://", "ws://") + "/api/sync"
    dev.shutdown()


def _open(ws: Any) -> None:
    ws.send(json.dumps({"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0}))
    change = {"type": "Add", "queryId": 1, "udfPath": "counter:get", "args": [{"name": "c"}]}
    ws.send(json.dumps({"type": "ModifyQuerySet", "baseVersion": 0, "newVersion": 1, "modifications": [change]}))
    assert json.loads(ws.recv(timeout=10))["type"] == "Transition"


def test_a_message_that_fails_unexpectedly_ends_only_its_connection(
    server: str, caplog: pytest.LogCaptureFixture
) -> None:
    with connect(server) as other, connect(server) as failing:
        _open(other)
        _open(failing)
        with caplog.at_level(logging.ERROR, logger="authlib_core.sync"):
            failing.send(json.dumps({"type": "Authenticate", "tokenType": "User", "value": "bug", "baseVersion": 0}))
            received = until_closed(failing)
        assert [m["type"] for m in received] == ["FatalError"]
        assert received[0]["error"].startswith("InternalServerError: ")
        (record,) = [r for r in caplog.records if r.name == "authlib_core.sync"]
        assert "KeyError at " in record.getMessage()
        assert SECRET not in caplog.text  # the type and place are logged, never the message

        # the other connection carries on
        other.send(
            json.dumps({"type": "Mutation", "requestId": 0, "udfPath": "counter:increment", "args": [{"name": "c"}]})
        )
        answer = json.loads(other.recv(timeout=10))
        assert (answer["type"], answer["success"], answer["result"]) == ("MutationResponse", True, 1.0)
        transition = json.loads(other.recv(timeout=10))
        assert transition["modifications"][0]["value"] == 1.0


def test_a_storage_failure_closes_the_connection_for_the_client_to_reconnect(server: str) -> None:
    with connect(server) as ws:
        _open(ws)
        ws.send(json.dumps({"type": "Authenticate", "tokenType": "User", "value": "outage", "baseVersion": 0}))
        assert until_closed(ws) == []  # closed; the client reconnects and sends again what was not answered
    with connect(server) as ws:  # the server itself is fine
        _open(ws)

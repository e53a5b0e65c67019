"""The dev server's WebSocket limits, over the real server and a real ``websockets`` client: connections per client
address (HTTP 429 before the upgrade, a slot freed when a connection closes) and the size of a client message (the
connection is closed with 1009, message too big)."""

from __future__ import annotations

import contextlib
import io
import json
import time
import uuid
from typing import TYPE_CHECKING

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from authlib_core.config import Settings
from authlib_core.dev.server import DevServer
from authlib_core.runtime import build_runtime
from authlib_core.sync import SyncLimits
from tests.support.node_clients import EXAMPLE_FUNCTIONS

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DevServer]:
    settings = Settings(functions_dir=EXAMPLE_FUNCTIONS, sqlite_path=tmp_path / "db.sqlite3")
    dev = DevServer(lambda: build_runtime(settings), EXAMPLE_FUNCTIONS, port=0, out=io.StringIO())
    dev.sync.limits = SyncLimits(max_connections_per_address=2, max_message_bytes=2000)
    dev.start_background()
    yield dev
    dev.shutdown()


def _url(server: DevServer) -> str:
    return server.url.replace("http://", "ws://") + "/api/1.49.0/sync"


def _alive(ws: ClientConnection) -> bool:
    ws.send(json.dumps({"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0}))
    ws.send(json.dumps({"type": "ModifyQuerySet", "baseVersion": 0, "newVersion": 1, "modifications": []}))
    return bool(json.loads(ws.recv(timeout=10))["type"] == "Transition")


def test_connections_per_address_are_limited_and_freed_on_close(server: DevServer) -> None:
    with contextlib.ExitStack() as stack:
        first = stack.enter_context(connect(_url(server)))
        second = stack.enter_context(connect(_url(server)))
        assert _alive(first)
        assert _alive(second)
        with pytest.raises(InvalidStatus) as refused:
            stack.enter_context(connect(_url(server)))
        assert refused.value.response.status_code == 429
        assert b"TooManyConnections" in refused.value.response.body
        assert b"already has 2 open sync connections" in refused.value.response.body

        first.close()
        deadline = time.monotonic() + 10
        while True:  # the server releases the slot once it has seen the close
            try:
                third = stack.enter_context(connect(_url(server)))
                break
            except InvalidStatus:
                assert time.monotonic() < deadline, "the closed connection's slot was never freed"
                time.sleep(0.05)
        assert _alive(third)


def test_a_message_over_the_size_limit_closes_the_connection_with_1009(server: DevServer) -> None:
    with connect(_url(server)) as ws:
        assert _alive(ws)
        mutation = {"type": "Mutation", "requestId": 0, "udfPath": "myData:add", "args": [{"text": "x" * 3000}]}
        ws.send(json.dumps(mutation))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009

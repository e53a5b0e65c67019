"""A function path sent over the live-query socket is checked as over HTTP (Convex's ``BadConvexFunctionIdentifier``
rule) before it runs or reaches a log line: the dev server prints each call's path on the developer's terminal, where
a line break forges another line and ESC or C1 bytes are terminal commands.

The real dev server in-process over the example app, a real ``websockets`` client.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from websockets.sync.client import connect

if TYPE_CHECKING:
    from authlib_core.dev.server import DevServer

FORGED = [
    "myData:getMyData\nWS /api/1.49.0/sync myData:add 200 success 0.1ms",
    "myData:\x1b[2J\x1b]0;owned\x07",
    "myData:get\x9b31m",
    "myData:get\x7f",
    "my Data:get",
    "a" * 1025,
]


@pytest.fixture
def server(example_server: DevServer) -> DevServer:
    return example_server


def _answer(ws: Any, kind: str) -> dict[str, Any]:
    """The next message of type ``kind`` (a Transition may come first)."""
    while True:
        message: dict[str, Any] = json.loads(ws.recv(timeout=10))
        if message["type"] == kind:
            return message


def _controls(text: str) -> list[str]:
    return [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F]


@pytest.mark.parametrize("path", FORGED, ids=range(len(FORGED)))
def test_bad_paths_fail_like_over_http_and_never_reach_the_console(server: DevServer, path: str) -> None:
    url = server.url.replace("http://", "ws://") + "/api/1.49.0/sync"
    with connect(url) as ws:
        ws.send(json.dumps({"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0}))
        add = {"type": "Add", "queryId": 0, "udfPath": path, "args": [{}]}
        ws.send(json.dumps({"type": "ModifyQuerySet", "baseVersion": 0, "newVersion": 1, "modifications": [add]}))
        (failed,) = json.loads(ws.recv(timeout=10))["modifications"]
        ws.send(json.dumps({"type": "Mutation", "requestId": 0, "udfPath": path, "args": [{}]}))
        mutation = _answer(ws, "MutationResponse")
        ws.send(json.dumps({"type": "Action", "requestId": 1, "udfPath": path, "args": [{}]}))
        action = _answer(ws, "ActionResponse")
    assert failed["type"] == "QueryFailed"
    for message in (failed["errorMessage"], mutation["result"], action["result"]):
        assert message.startswith("Invalid function path"), message
        assert "'module:function'" in message
    assert mutation["success"] is False
    assert action["success"] is False
    printed = server.out.getvalue()
    assert _controls(printed) == []
    assert "myData:add 200" not in printed  # no forged line
    assert printed.count("WS /api/1.49.0/sync") == 3  # each call still has its line


def test_a_good_path_still_runs(server: DevServer) -> None:
    url = server.url.replace("http://", "ws://") + "/api/1.49.0/sync"
    with connect(url) as ws:
        ws.send(json.dumps({"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0}))
        add = {"type": "Add", "queryId": 0, "udfPath": "myData.js:getMyData", "args": [{}]}
        ws.send(json.dumps({"type": "ModifyQuerySet", "baseVersion": 0, "newVersion": 1, "modifications": [add]}))
        (result,) = json.loads(ws.recv(timeout=10))["modifications"]
    assert result["type"] == "QueryFailed"  # anonymous: the example's query refuses, but it ran
    assert result["errorMessage"] != ""
    assert not result["errorMessage"].startswith("Invalid function path")
    assert "myData.js:getMyData" in server.out.getvalue()

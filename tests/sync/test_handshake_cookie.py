"""A browser page's session cookie on the WebSocket handshake: the connection's identity until the client
authenticates itself, under the same CSRF rule as cookie-carrying HTTP state changes (own or trusted origin).

The real dev server in-process over the example app (functions/, with the auth tables), a real ``websockets`` client.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from websockets.sync.client import connect

if TYPE_CHECKING:
    from authlib_core.dev.server import DevServer


@pytest.fixture
def server(example_server: DevServer) -> DevServer:
    return example_server


def _post(url: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[dict[str, Any], str | None]:
    request = urllib.request.Request(
        url + path, data=json.dumps(body).encode(), headers={"content-type": "application/json", **headers}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        cookie = response.headers.get("set-cookie")
        return json.loads(response.read() or b"{}"), cookie


def _subscribe(ws: Any) -> dict[str, Any]:
    ws.send(json.dumps({"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0}))
    add = {"type": "Add", "queryId": 0, "udfPath": "myData:getMyData", "args": [{}]}
    ws.send(json.dumps({"type": "ModifyQuerySet", "baseVersion": 0, "newVersion": 1, "modifications": [add]}))
    return json.loads(ws.recv(timeout=10))["modifications"][0]


def test_the_handshake_cookie_is_the_identity_from_the_pages_own_origin_only(server: DevServer) -> None:
    url = server.url
    body = {"name": "Web", "email": f"web-{time.time_ns()}@example.com", "password": "correct horse battery"}
    signed_up, set_cookie = _post(url, "/api/auth/sign-up/email", body, {"origin": url})
    assert set_cookie is not None
    cookie = set_cookie.split(";", 1)[0]
    _post(
        url,
        "/api/mutation",
        {"path": "myData:add", "args": {"text": "mine"}},
        {"authorization": f"Bearer {signed_up['token']}"},
    )
    ws_url = url.replace("http://", "ws://") + "/api/1.49.0/sync"

    with connect(ws_url, origin=url, additional_headers={"cookie": cookie}) as ws:  # type: ignore[arg-type]
        first = _subscribe(ws)
        assert [note["text"] for note in first["value"]] == ["mine"]
        with connect(  # another local page (allowed host, but not this server's origin): the cookie is ignored
            ws_url, origin="http://localhost:1", additional_headers={"cookie": cookie}
        ) as foreign:  # type: ignore[arg-type]
            assert _subscribe(foreign)["errorData"] == "Not authenticated"

        # Signing out ends the session; on the next commit the connection runs as anonymous, without reconnecting.
        _post(url, "/api/auth/sign-out", {}, {"origin": url, "cookie": cookie})
        other = {"name": "O", "email": f"o-{time.time_ns()}@example.com", "password": "correct horse battery"}
        _post(url, "/api/auth/sign-up/email", other, {"origin": url})  # a commit (the new user)
        transition = json.loads(ws.recv(timeout=10))
        assert transition["type"] == "Transition"
        assert transition["modifications"][0]["errorData"] == "Not authenticated"

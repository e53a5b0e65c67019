"""Live queries with the published ``convex`` package's ``ConvexClient`` (WebSocket sync, ``ws`` on Node 20).

The real dev server (``python -m authlib_core dev``) on the example app; tests/clients/convex-live.mjs drives the
clients. One test covers a subscription seeing another client's mutation, read-your-writes, unsubscribing, a query
error with ``ConvexError`` data, ``clearAuth``/``setAuth`` and a signed-out session; the other restarts the server
under a subscribed client, which reconnects, resubscribes and sees a later write.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from typing import TYPE_CHECKING

import pytest

from tests.support.convex_live import LIVE_PHASE, run_live_phase, script_result
from tests.support.node_clients import CLIENTS, EXAMPLE_FUNCTIONS, dev_server, ensure_node_modules
from tests.support.processes import stop_process

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.node


def test_convex_client_live_queries(tmp_path: Path) -> None:
    ensure_node_modules()
    with dev_server(tmp_path, EXAMPLE_FUNCTIONS) as server:
        result = run_live_phase(server.url, server.output)
        log = server.output()
    # Calls over the socket get the dev server's one line per call, as HTTP calls do.
    assert "WS /api/1.49.0/sync myData:add 200 success" in log
    assert "WS /api/1.49.0/sync myData:getMyData 200 error" in log
    assert {key: result[key] for key in LIVE_PHASE} == LIVE_PHASE


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _add_note(url: str, token: str, text: str) -> dict[str, object]:
    request = urllib.request.Request(
        f"{url}/api/mutation",
        data=json.dumps({"path": "myData:add", "args": {"text": text}, "format": "json"}).encode(),
        headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_convex_client_reconnects_after_restart(tmp_path: Path) -> None:
    ensure_node_modules()
    port = _free_port()
    first = dev_server(tmp_path, EXAMPLE_FUNCTIONS, port=port)
    server = first.__enter__()
    node = subprocess.Popen(
        ["node", "convex-live.mjs"],
        cwd=CLIENTS,
        env={**os.environ, "APP_URL": server.url, "PHASE": "restart"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert node.stdout is not None
        ready = node.stdout.readline()
        assert ready.startswith("READY "), ready + server.output()
        token = json.loads(ready[6:])["token"]
        first.__exit__(None, None, None)  # the server goes away under the subscribed client
        time.sleep(0.5)
        with dev_server(tmp_path, EXAMPLE_FUNCTIONS, port=port) as again:
            assert _add_note(again.url, token, "after restart")["status"] == "success"
            stdout, stderr = node.communicate(timeout=30)
            assert node.returncode == 0, stderr + stdout + again.output()
        assert script_result(stdout)["afterRestart"] == ["after restart"]
    finally:
        stop_process(node)

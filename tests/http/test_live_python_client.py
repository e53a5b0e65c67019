"""Live queries with the published Python ``convex`` package (``ConvexClient.subscribe``) against the dev server.

The real dev server (``python -m authlib_core dev``) on the example app; tests/clients/convex_live.py is the client,
run in a subprocess with a timeout. Covers a subscription seeing another client's mutation, unsubscribing, an auth
change, query and mutation errors with ``ConvexError`` data, and a reconnect after the server restarts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

from tests.http.test_live_node_client import _add_note, _free_port
from tests.support.convex_live import script_result
from tests.support.node_clients import CLIENTS, EXAMPLE_FUNCTIONS, dev_server
from tests.support.processes import stop_process

if TYPE_CHECKING:
    from pathlib import Path

pytest.importorskip("convex", reason="the Python convex client is part of the [dev] extras")
SCRIPT = str(CLIENTS / "convex_live.py")


def test_python_client_live_queries(tmp_path: Path) -> None:
    with dev_server(tmp_path, EXAMPLE_FUNCTIONS) as server:
        proc = subprocess.run(
            [sys.executable, SCRIPT],
            env={**os.environ, "APP_URL": server.url, "PHASE": "live"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr + proc.stdout + server.output()
    result = script_result(proc.stdout)
    assert result["first"] == []
    assert result["seenByOther"] == ["from b"]
    assert result["afterUnsubscribe"] == "dropped"
    assert result["resubscribed"] == ["from b"]
    assert result["afterClearAuth"] == "Not authenticated"
    assert result["queryError"] == "Not authenticated"
    assert result["mutationError"] == {"code": "UNAUTHENTICATED"}


def test_python_client_reconnects_after_restart(tmp_path: Path) -> None:
    port = _free_port()
    first = dev_server(tmp_path, EXAMPLE_FUNCTIONS, port=port)
    server = first.__enter__()
    client = subprocess.Popen(
        [sys.executable, SCRIPT],
        env={**os.environ, "APP_URL": server.url, "PHASE": "restart"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert client.stdout is not None
        ready = client.stdout.readline()
        assert ready.startswith("READY "), ready + server.output()
        token = json.loads(ready[6:])["token"]
        first.__exit__(None, None, None)
        time.sleep(0.5)
        with dev_server(tmp_path, EXAMPLE_FUNCTIONS, port=port) as again:
            assert _add_note(again.url, token, "after restart")["status"] == "success"
            stdout, stderr = client.communicate(timeout=60)
            assert client.returncode == 0, stderr + stdout + again.output()
        assert script_result(stdout)["afterRestart"] == ["after restart"]
    finally:
        stop_process(client)

"""A mutation re-sent with the same ``(sessionId, requestId)`` is answered, not run again, also after a restart.

The real dev server in-process on a SQLite file, a real ``websockets`` client that re-sends as the Convex client does
after a reconnect; the log itself (retention, a log that cannot be read) on a real SQLite file.
"""

from __future__ import annotations

import io
import json
import pathlib
import sqlite3
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from aws_lambda_powertools import Logger
from websockets.sync.client import connect

from authlib_core.auth import NoAuth
from authlib_core.config import Settings
from authlib_core.dev.server import DevServer
from authlib_core.http.sync_backend import RuntimeSyncBackend
from authlib_core.runtime import build_runtime
from authlib_core.sync import InProcessFeed, SyncSession
from authlib_core.sync.mutation_log import SQLiteMutationLog

if TYPE_CHECKING:
    from pathlib import Path

#: ``counter:increment`` / ``counter:get`` (the app the fault-injection tests drive).
COUNTER_APP = pathlib.Path(__file__).resolve().parents[1] / "faults" / "apps" / "counterapp"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(functions_dir=COUNTER_APP, sqlite_path=tmp_path / "db.sqlite3")


def _bump(ws: Any, session_id: str, request_id: int) -> dict[str, Any]:
    """Connect as ``session_id`` and send ``counter:increment`` as request ``request_id``; its MutationResponse."""
    ws.send(json.dumps({"type": "Connect", "sessionId": session_id, "connectionCount": 1}))
    message = {"type": "Mutation", "requestId": request_id, "udfPath": "counter:increment", "args": [{"name": "c"}]}
    ws.send(json.dumps(message))
    while True:
        answer = json.loads(ws.recv(timeout=10))
        if answer["type"] == "MutationResponse":
            return answer


def _server(settings: Settings) -> DevServer:
    dev = DevServer(lambda: build_runtime(settings), settings.functions_dir, port=0, out=io.StringIO())
    dev.start_background()
    return dev


def test_a_mutation_resent_after_a_restart_is_answered_not_run_again(settings: Settings) -> None:
    session_id = str(uuid.uuid4())
    first = _server(settings)
    try:
        with connect(first.url.replace("http://", "ws://") + "/api/sync") as ws:
            answer = _bump(ws, session_id, 0)
        assert (answer["success"], answer["result"]) == (True, 1.0)
    finally:
        first.shutdown()

    second = _server(settings)  # a new process state on the same file: nothing of the first is in memory
    try:
        url = second.url.replace("http://", "ws://") + "/api/sync"
        with connect(url) as ws:
            assert _bump(ws, session_id, 0) == answer  # the re-send: the same answer, ts included
            assert _bump(ws, session_id, 1)["result"] == 2.0  # a new request of the same client runs
        with connect(url) as ws:  # another client's request 0 is its own
            assert _bump(ws, str(uuid.uuid4()), 0)["result"] == 3.0
    finally:
        second.shutdown()
    runtime = build_runtime(settings)
    try:
        assert runtime.executor.call("counter:get", {"name": "c"}, auth=NoAuth()) == 3.0  # 3 runs, not 4
    finally:
        runtime.database.close()


def test_the_log_keeps_the_newest_answers_up_to_its_capacity(tmp_path: Path) -> None:
    log = SQLiteMutationLog(tmp_path / "log.sqlite3", capacity=3)
    session = str(uuid.uuid4())
    for request_id in range(250):  # pruned as answers arrive (every 100), so the file never grows without bound
        log.put(session, request_id, {"requestId": request_id, "result": "é"})
    with sqlite3.connect(tmp_path / "log.sqlite3") as db:
        assert (
            db.execute("SELECT COUNT(*) FROM sync_mutation_log").fetchone()[0] == 3 + 50
        )  # pruned at the 200th: 3 kept, 50 since
    log.prune()
    assert [log.get(session, n) for n in (246, 247, 248, 249)] == [
        None,
        {"requestId": 247, "result": "é"},
        {"requestId": 248, "result": "é"},
        {"requestId": 249, "result": "é"},
    ]
    reopened = SQLiteMutationLog(tmp_path / "log.sqlite3", capacity=3)
    assert reopened.get(session, 249) == {"requestId": 249, "result": "é"}
    with pytest.raises(ValueError, match="capacity must be at least 1"):
        SQLiteMutationLog(tmp_path / "other.sqlite3", capacity=0)


def test_a_log_that_cannot_be_read_refuses_the_mutation_instead_of_risking_a_second_run(
    settings: Settings, tmp_path: Path
) -> None:
    runtime = build_runtime(settings)
    log = SQLiteMutationLog(tmp_path / "log.sqlite3")
    feed = InProcessFeed()
    runtime.database.commit_listeners.append(feed.publish)
    session = SyncSession(RuntimeSyncBackend(lambda: runtime, Logger(service="t", level="ERROR")), feed, mutations=log)
    session.receive(json.dumps({"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0}))
    with sqlite3.connect(tmp_path / "log.sqlite3") as db:
        db.execute("DROP TABLE sync_mutation_log")  # the log is unreadable now
    message = {"type": "Mutation", "requestId": 0, "udfPath": "counter:increment", "args": [{"name": "c"}]}
    response, transition = (json.loads(text) for text in session.receive(json.dumps(message)))
    assert (response["type"], response["success"], response["ts"]) == ("MutationResponse", False, None)
    assert "was not run" in response["result"]
    assert transition["type"] == "Transition"  # the client settles the failed mutation on it
    try:
        assert runtime.executor.call("counter:get", {"name": "c"}, auth=NoAuth()) == 0.0
    finally:
        runtime.database.close()

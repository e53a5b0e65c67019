"""A mutation re-sent with the same ``(sessionId, requestId)`` is answered, not run again: after a restart, and after
a hard crash between the commit and the reply (the answer is part of the mutation's commit).

The real dev server on a SQLite file (in-process, or a child process killed right after a commit), a real
``websockets`` client that re-sends as the Convex client does after a reconnect; the answers as receipts of the
real SQLite engine (expiry, pruning, size limits, a store that cannot be read).
"""

from __future__ import annotations

import io
import json
import pathlib
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from aws_lambda_powertools import Logger
from websockets.sync.client import connect

from authlib_core.auth import NoAuth
from authlib_core.config import Settings
from authlib_core.database.engines import sqlite_receipts
from authlib_core.database.receipts import Receipt
from authlib_core.dev.server import DevServer
from authlib_core.http.sync_backend import RuntimeSyncBackend
from authlib_core.runtime import build_runtime
from authlib_core.sync import InProcessFeed, SyncSession
from authlib_core.sync.mutation_log import ANSWER_LIFETIME_S, SCOPE, ReceiptMutationLog
from authlib_core.sync.timestamps import decode_ts
from tests.sync.sockets import until_closed

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from authlib_core.runtime import Runtime

#: ``counter:increment`` / ``counter:get`` (the app the fault-injection tests drive).
COUNTER_APP = pathlib.Path(__file__).resolve().parents[1] / "faults" / "apps" / "counterapp"
#: ``replay:blob`` (a large, printed answer) / ``replay:count``.
REPLAY_APP = pathlib.Path(__file__).resolve().parent / "apps" / "replayapp"
CRASH_SERVER = pathlib.Path(__file__).resolve().parent / "crash_server.py"
REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(functions_dir=COUNTER_APP, sqlite_path=tmp_path / "db.sqlite3")


def _increment(request_id: int) -> dict[str, Any]:
    return {"type": "Mutation", "requestId": request_id, "udfPath": "counter:increment", "args": [{"name": "c"}]}


def _bump(ws: Any, session_id: str, request_id: int) -> dict[str, Any]:
    """Connect as ``session_id`` and send ``counter:increment`` as request ``request_id``; its MutationResponse."""
    ws.send(json.dumps({"type": "Connect", "sessionId": session_id, "connectionCount": 1}))
    ws.send(json.dumps(_increment(request_id)))
    while True:
        answer = json.loads(ws.recv(timeout=10))
        if answer["type"] == "MutationResponse":
            return answer


def _server(settings: Settings) -> DevServer:
    dev = DevServer(lambda: build_runtime(settings), settings.functions_dir, port=0, out=io.StringIO())
    dev.start_background()
    return dev


def _counter(settings: Settings) -> Any:
    runtime = build_runtime(settings)
    try:
        return runtime.executor.call("counter:get", {"name": "c"}, auth=NoAuth())
    finally:
        runtime.database.close()


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
            again = _bump(ws, session_id, 0)  # the re-send: the same answer, at a position that includes the commit
            assert {**again, "ts": None} == {**answer, "ts": None}
            assert decode_ts(again["ts"]) >= decode_ts(answer["ts"])
            assert _bump(ws, session_id, 1)["result"] == 2.0  # a new request of the same client runs
        with connect(url) as ws:  # another client's request 0 is its own
            assert _bump(ws, str(uuid.uuid4()), 0)["result"] == 3.0
    finally:
        second.shutdown()
    assert _counter(settings) == 3.0  # 3 runs, not 4


def test_a_crash_right_after_the_commit_does_not_run_the_resent_mutation_again(settings: Settings) -> None:
    """The dev server process dies the instant the mutation has committed (nothing of the reply was done): the
    client's re-send to the restarted server gets the answer committed with the mutation, and it ran once."""
    session_id = str(uuid.uuid4())
    child = subprocess.Popen(
        [sys.executable, str(CRASH_SERVER), str(COUNTER_APP), str(settings.sqlite_path), "counters"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = ""
        while "listening on" not in line:
            line = child.stdout.readline()
            assert line, "the dev server did not start"
        url = line.rsplit(" ", 1)[1].strip().replace("http://", "ws://") + "/api/sync"
        with connect(url) as ws:
            ws.send(json.dumps({"type": "Connect", "sessionId": session_id, "connectionCount": 0}))
            ws.send(json.dumps(_increment(0)))
            received = until_closed(ws, timeout=20)  # the process died: no MutationResponse ever came
        assert "MutationResponse" not in [message["type"] for message in received]
        assert child.wait(timeout=20) == 137
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()
    assert _counter(settings) == 1.0  # it did commit

    restarted = _server(settings)
    try:
        with connect(restarted.url.replace("http://", "ws://") + "/api/sync") as ws:
            answer = _bump(ws, session_id, 0)  # what the Convex client re-sends after reconnecting
    finally:
        restarted.shutdown()
    assert (answer["success"], answer["result"], answer["requestId"]) == (True, 1.0, 0)
    assert _counter(settings) == 1.0  # exactly once


@pytest.fixture
def replay(tmp_path: Path) -> Iterator[Runtime]:
    runtime = build_runtime(Settings(functions_dir=REPLAY_APP, sqlite_path=tmp_path / "replay.sqlite3"))
    yield runtime
    runtime.database.close()


def _session(runtime: Runtime, log: ReceiptMutationLog, session_id: str) -> SyncSession:
    feed = InProcessFeed()
    runtime.database.commit_listeners.append(feed.publish)
    backend = RuntimeSyncBackend(lambda: runtime, Logger(service="t", level="ERROR"), log_lines=True)
    session = SyncSession(backend, feed, mutations=log)
    session.receive(json.dumps({"type": "Connect", "sessionId": session_id, "connectionCount": 0}))
    return session


def _blob(session: SyncSession, request_id: int, size: int, lines: int) -> dict[str, Any]:
    args = [{"size": float(size), "lines": float(lines)}]
    message = {"type": "Mutation", "requestId": request_id, "udfPath": "replay:blob", "args": args}
    response, transition = (json.loads(text) for text in session.receive(json.dumps(message)))
    assert transition["type"] == "Transition"
    return response


def _rows(runtime: Runtime) -> Any:
    return runtime.executor.call("replay:count", {}, auth=NoAuth())


def test_large_answers_are_kept_without_log_lines_or_as_a_note_that_the_mutation_ran(replay: Runtime) -> None:
    replay.database.engine.max_receipt_bytes = 40_000  # a store whose records are small (DynamoDB: 380,000 bytes)
    log = ReceiptMutationLog(lambda: replay.database.engine)
    session_id = str(uuid.uuid4())
    first = _session(replay, log, session_id)
    small = _blob(first, 0, 100, 2)
    lines = _blob(first, 1, 10_000, 50)  # 20,000 bytes of result, 50,000 of log lines
    huge = _blob(first, 2, 30_000, 0)  # 60,000 bytes of result
    assert [len(small["logLines"]), len(lines["logLines"]), len(huge["result"])] == [2, 50, 30_000]
    assert _rows(replay) == 3.0

    again = _session(replay, log, session_id)  # the client reconnected
    assert {**_blob(again, 0, 100, 2), "ts": None} == {**small, "ts": None}  # whole
    resent = _blob(again, 1, 10_000, 50)
    assert {**resent, "ts": None} == {**lines, "logLines": [], "ts": None}  # without its log lines
    too_large = _blob(again, 2, 30_000, 0)
    assert (too_large["success"], too_large["ts"]) == (False, None)
    assert "ran before the connection was lost" in too_large["result"]
    assert "60002 bytes" in too_large["result"]  # the JSON string: 2 bytes per "é", 2 quotes
    assert _rows(replay) == 3.0  # none of them ran twice


def test_answers_expire_and_expired_receipts_are_pruned(replay: Runtime) -> None:
    now = [time.time() - 3600]
    log = ReceiptMutationLog(lambda: replay.database.engine, lifetime_s=60, clock=lambda: now[0])
    engine = replay.database.engine
    log.put("s", 1, {"type": "MutationResponse", "requestId": 1, "success": False, "result": "no", "ts": None})
    assert log.get("s", 1) is None  # written an hour ago, for a minute: expired
    now[0] = time.time()
    log.put("s", 2, {"type": "MutationResponse", "requestId": 2, "success": False, "result": "no", "ts": None})
    assert log.get("s", 2) == {"type": "MutationResponse", "requestId": 2, "success": False, "result": "no", "ts": None}
    assert ANSWER_LIFETIME_S == 24 * 3600
    for n in range(sqlite_receipts.PRUNE_EVERY):  # pruning runs once per PRUNE_EVERY receipts written
        engine.write_receipt(Receipt(SCOPE, f"old#{n}", "{}", expires_at=int(time.time()) - 1))
    engine.write_receipt(Receipt(SCOPE, "fresh", "{}", expires_at=int(time.time()) + 60))
    with sqlite3.connect(engine.path) as db:  # type: ignore[attr-defined]
        rows = db.execute("SELECT key FROM receipts ORDER BY key").fetchall()
    kept = {key for (key,) in rows}
    assert {"s#2", "fresh"} <= kept
    assert len(kept) < sqlite_receipts.PRUNE_EVERY  # the expired ones went
    with pytest.raises(ValueError, match="lifetime_s must be at least 1"):
        ReceiptMutationLog(lambda: engine, lifetime_s=0)


def test_a_receipt_is_committed_with_its_mutation_or_not_at_all(replay: Runtime) -> None:
    """A mutation that fails writes neither its documents nor a success receipt; its failure answer is kept apart."""
    log = ReceiptMutationLog(lambda: replay.database.engine)
    session = _session(replay, log, str(uuid.uuid4()))
    message = {"type": "Mutation", "requestId": 7, "udfPath": "replay:blob", "args": [{"size": "x", "lines": 0.0}]}
    response, _ = (json.loads(text) for text in session.receive(json.dumps(message)))
    assert response["success"] is False
    assert _rows(replay) == 0.0
    with sqlite3.connect(replay.database.engine.path) as db:  # type: ignore[attr-defined]
        (stored,) = db.execute("SELECT value FROM receipts").fetchall()
    assert json.loads(stored[0]) == response


def test_a_log_that_cannot_be_read_refuses_the_mutation_instead_of_risking_a_second_run(settings: Settings) -> None:
    runtime = build_runtime(settings)
    log = ReceiptMutationLog(lambda: runtime.database.engine)
    feed = InProcessFeed()
    runtime.database.commit_listeners.append(feed.publish)
    session = SyncSession(RuntimeSyncBackend(lambda: runtime, Logger(service="t", level="ERROR")), feed, mutations=log)
    session.receive(json.dumps({"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0}))
    with sqlite3.connect(settings.sqlite_path) as db:
        db.execute("DROP TABLE receipts")  # the log is unreadable now
    response, transition = (json.loads(text) for text in session.receive(json.dumps(_increment(0))))
    assert (response["type"], response["success"], response["ts"]) == ("MutationResponse", False, None)
    assert "was not run" in response["result"]
    assert transition["type"] == "Transition"  # the client settles the failed mutation on it
    try:
        assert runtime.executor.call("counter:get", {"name": "c"}, auth=NoAuth()) == 0.0
    finally:
        runtime.database.close()


def test_an_answer_is_given_back_only_to_the_identity_that_sent_the_mutation(replay: Runtime) -> None:
    """A sessionId is chosen by the client: whoever sends another client's sessionId and request ids, as another user
    or anonymously, does not get that client's answers back (they are kept per caller)."""
    from authlib_core.auth import StaticAuth, UserIdentity
    from authlib_core.sync.ports import Caller

    def as_user(subject: str) -> Any:
        identity = UserIdentity(subject=subject, token_identifier=f"authlib|{subject}", issuer="authlib")
        return lambda: Caller(StaticAuth(identity))

    log = ReceiptMutationLog(lambda: replay.database.engine)
    session_id = str(uuid.uuid4())

    def session(ambient: Any) -> SyncSession:
        feed = InProcessFeed()
        backend = RuntimeSyncBackend(lambda: replay, Logger(service="t", level="ERROR"))
        opened = SyncSession(backend, feed, mutations=log, ambient_auth=ambient)
        opened.receive(json.dumps({"type": "Connect", "sessionId": session_id, "connectionCount": 0}))
        return opened

    secret = _blob(session(as_user("alice")), 0, 12, 0)
    assert secret["result"] == "é" * 12
    for other in (as_user("mallory"), None):
        answer = _blob(session(other), 0, 3, 0)
        assert answer["result"] == "é" * 3  # its own mutation ran: nothing of alice's came back
    assert _blob(session(as_user("alice")), 0, 99, 0)["result"] == "é" * 12  # alice's re-send is answered
    assert _rows(replay) == 3.0


@pytest.mark.parametrize(
    "spell",
    [
        lambda u: "{" + u + "}",
        lambda u: "urn:uuid:" + u,
        str.upper,
        lambda u: "-" * 600 + u.replace("-", ""),
    ],
    ids=["braces", "urn", "upper", "hyphens"],
)
def test_a_session_id_is_kept_in_its_canonical_form(replay: Runtime, spell: Any) -> None:
    """``uuid.UUID`` accepts braces, ``urn:uuid:``, upper case and any number of hyphens: the session keeps the
    canonical form, so a receipt's key stays short (a 600-hyphen id made every mutation fail) and one UUID is one
    session however it is spelled."""
    canonical = str(uuid.uuid4())
    log = ReceiptMutationLog(lambda: replay.database.engine)
    first = _session(replay, log, spell(canonical))
    assert first.snapshot()["sessionId"] == canonical
    answer = _blob(first, 0, 5, 0)
    assert answer["success"] is True
    assert _blob(_session(replay, log, canonical), 0, 7, 0)["result"] == "é" * 5
    assert _rows(replay) == 1.0


def test_a_request_id_beyond_convex_s_u32_ends_the_connection_and_runs_nothing(replay: Runtime) -> None:
    """Convex's request ids are u32 (the npm client counts up from 0): a larger one is refused where it enters
    (it made the receipt's key too long: the mutation ran, then failed without its writes, an exception in the log)."""
    log = ReceiptMutationLog(lambda: replay.database.engine)
    session = _session(replay, log, str(uuid.uuid4()))
    assert _blob(session, 2**32 - 1, 1, 0)["success"] is True
    message = {
        "type": "Mutation",
        "requestId": 10**600,
        "udfPath": "replay:blob",
        "args": [{"size": 1.0, "lines": 0.0}],
    }
    (fatal,) = (json.loads(text) for text in session.receive(json.dumps(message)))
    assert fatal["type"] == "FatalError"
    assert "requestId" in fatal["error"]
    assert session.closed
    assert _rows(replay) == 1.0


class _RacedLog(ReceiptMutationLog):
    """The real log, which runs ``other`` (on a thread, to its end) right before this run's first commit attempt:
    the moment a re-send of the same request on another connection would commit while this run is still going."""

    def __init__(self, engine: Any, other: Any) -> None:
        super().__init__(engine)
        self._other = other

    def receipt(self, session_id: str, request_id: int, answer: dict[str, Any]) -> Receipt | None:
        other, self._other = self._other, None
        if other is not None:
            racer = threading.Thread(target=other)
            racer.start()
            racer.join(timeout=30)
        return super().receipt(session_id, request_id, answer)


def _mutate(session: SyncSession, message: dict[str, Any]) -> dict[str, Any]:
    response, transition = (json.loads(text) for text in session.receive(json.dumps(message)))
    assert transition["type"] == "Transition"
    return response


@pytest.mark.parametrize(
    ("app", "message", "effect"),
    [
        (REPLAY_APP, {"udfPath": "replay:blob", "args": [{"size": 3.0, "lines": 1.0}]}, ("replay:count", {})),
        # reads what the other run writes: the first attempt conflicts, the second finds the other run's receipt
        (COUNTER_APP, {"udfPath": "counter:increment", "args": [{"name": "c"}]}, ("counter:get", {"name": "c"})),
    ],
)
def test_a_request_sent_twice_at_the_same_moment_runs_once_and_both_get_its_answer(
    tmp_path: Path, app: Path, message: dict[str, Any], effect: tuple[str, dict[str, Any]]
) -> None:
    """Two connections of one client session (the first still running the mutation when the client reconnected and
    sent it again) both find no answer and both run it: one commits, the other's commit is refused whole and it
    answers from the receipt the first committed."""
    runtime = build_runtime(Settings(functions_dir=app, sqlite_path=tmp_path / "race.sqlite3"))
    try:
        session_id = str(uuid.uuid4())
        mutation = {"type": "Mutation", "requestId": 3, **message}
        log = ReceiptMutationLog(lambda: runtime.database.engine)
        second = _session(runtime, log, session_id)
        answered: list[dict[str, Any]] = []
        first = _session(
            runtime,
            _RacedLog(lambda: runtime.database.engine, lambda: answered.append(_mutate(second, mutation))),
            session_id,
        )

        response = _mutate(first, mutation)
        (other,) = answered
        assert other["success"] is True
        assert {**response, "ts": None} == {**other, "ts": None}  # the answer of the run that committed
        assert decode_ts(response["ts"]) >= decode_ts(other["ts"])
        assert runtime.executor.call(effect[0], effect[1], auth=NoAuth()) == 1.0  # the effect exists once
        kept = log.get(session_id, 3)
        assert kept is not None
        assert {**kept, "ts": None} == {**other, "ts": None}
    finally:
        runtime.database.close()


def test_a_failure_answer_never_replaces_a_committed_success(replay: Runtime) -> None:
    log = ReceiptMutationLog(lambda: replay.database.engine)
    session_id = str(uuid.uuid4())
    success = _blob(_session(replay, log, session_id), 5, 2, 0)
    failure = {"type": "MutationResponse", "requestId": 5, "logLines": [], "success": False, "result": "no", "ts": None}
    stands = log.put(session_id, 5, failure)
    assert {**stands, "ts": None} == {**success, "ts": None}  # the committed success stands
    assert log.get(session_id, 5) == stands
    assert replay.database.engine.write_receipt(Receipt(SCOPE, f"{session_id}#5", "{}", expires_at=2**31)) is False
    assert log.put(session_id, 6, failure) == failure  # none kept: written
    assert log.get(session_id, 6) == failure

"""The sync protocol state machine over a real runtime (SQLite), without a transport: messages in, messages out.

Invalidation is by read set: a commit re-runs only the queries whose recorded reads it touches, and a Transition
is sent only when a result changed. The WebSocket handshake's origin check runs against the real dev server.
"""

from __future__ import annotations

import io
import json
import textwrap
import threading
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from aws_lambda_powertools import Logger
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from authlib_core.config import Settings
from authlib_core.database.readset import WriteSet
from authlib_core.dev.server import DevServer
from authlib_core.http.sync_backend import RuntimeSyncBackend
from authlib_core.runtime import build_runtime
from authlib_core.sync import InProcessFeed, SyncLimits, SyncSession
from authlib_core.sync.timestamps import decode_ts

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from authlib_core.runtime import Runtime

FUNCTIONS = {
    "schema.py": """
        from authlib_core import define_schema, define_table, v
        schema = define_schema({
            "notes": define_table({"topic": v.string(), "text": v.string(), "extra": v.optional(v.string())})
                .index("by_topic", ["topic"]),
        })
    """,
    "notes.py": """
        from authlib_core import ConvexError, action, mutation, pagination_opts_validator, query, v

        @query(args={"topic": v.string()})
        def list(ctx, topic):
            rows = ctx.db.query("notes").with_index("by_topic", lambda q: q.eq("topic", topic)).collect()
            if any(row["text"] == "boom" for row in rows):
                raise ConvexError({"code": "BOOM"})
            return [row["text"] for row in rows]

        @mutation(args={"topic": v.string(), "text": v.string()})
        def add(ctx, topic, text):
            return ctx.db.insert("notes", {"topic": topic, "text": text})

        @query(args={"topic": v.string(), "paginationOpts": pagination_opts_validator})
        def newest(ctx, topic, paginationOpts):
            q = ctx.db.query("notes").with_index("by_topic", lambda q: q.eq("topic", topic)).order("desc")
            return q.paginate(paginationOpts)

        @action(args={"topic": v.string()})
        def add_later(ctx, topic):
            ctx.run_mutation("notes:add", {"topic": topic, "text": "from an action"})
            return "done"

        @mutation(args={"id": v.id("notes"), "extra": v.string()})
        def touch(ctx, id, extra):
            ctx.db.patch(id, {"extra": extra})
    """,
}


class CountingBackend(RuntimeSyncBackend):
    """The real backend, counting the queries it runs."""

    __slots__ = ("queries",)

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(lambda: runtime, Logger(service="test", level="ERROR"))
        self.queries = 0

    def call(self, kind: Any, path: str, args: Any, auth: Any, journal: str | None = None, **options: Any) -> Any:
        if kind == "query":
            self.queries += 1
        return super().call(kind, path, args, auth, journal, **options)


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    functions = tmp_path / "functions"
    functions.mkdir()
    for name, source in FUNCTIONS.items():
        (functions / name).write_text(textwrap.dedent(source))
    built = build_runtime(Settings(functions_dir=functions, sqlite_path=tmp_path / "db.sqlite3"))
    yield built
    built.database.close()


def _session(runtime: Runtime, **kwargs: Any) -> tuple[SyncSession, CountingBackend, InProcessFeed]:
    feed = InProcessFeed()
    runtime.database.commit_listeners.append(feed.publish)
    backend = CountingBackend(runtime)
    session = SyncSession(backend, feed, **kwargs)
    assert session.receive(json.dumps({"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0})) == []
    return session, backend, feed


def _messages(texts: list[str]) -> list[dict[str, Any]]:
    return [json.loads(text) for text in texts]


def _subscribe(session: SyncSession, base: int, *queries: tuple[int, str]) -> dict[str, Any]:
    mods = [{"type": "Add", "queryId": qid, "udfPath": "notes:list", "args": [{"topic": t}]} for qid, t in queries]
    out = _messages(
        session.receive(
            json.dumps({"type": "ModifyQuerySet", "baseVersion": base, "newVersion": base + 1, "modifications": mods})
        )
    )
    assert [m["type"] for m in out] == ["Transition"]
    return out[0]


def test_a_commit_reruns_only_the_queries_whose_reads_it_touches(runtime: Runtime) -> None:
    session, backend, _feed = _session(runtime)
    first = _subscribe(session, 0, (1, "a"), (2, "b"))
    assert first["startVersion"]["querySet"] == 0
    assert first["endVersion"]["querySet"] == 1
    assert {m["queryId"]: m["value"] for m in first["modifications"]} == {1: [], 2: []}
    assert backend.queries == 2

    runtime.executor.call("notes:add", {"topic": "b", "text": "hello"}, auth=_anon())
    out = _messages(session.refresh())
    assert backend.queries == 3  # only topic "b" ran again
    (transition,) = out
    assert transition["startVersion"] == first["endVersion"]
    assert transition["modifications"] == [
        {"type": "QueryUpdated", "queryId": 2, "value": ["hello"], "logLines": [], "journal": None}
    ]
    assert decode_ts(transition["endVersion"]["ts"]) > decode_ts(first["endVersion"]["ts"])

    # A write inside the read range that does not change the result: re-run, but no Transition.
    note_id = runtime.executor.call("notes:add", {"topic": "c", "text": "x"}, auth=_anon())
    assert session.refresh() == []
    assert backend.queries == 3
    runtime.executor.call("notes:touch", {"id": note_id, "extra": "y"}, auth=_anon())
    assert session.refresh() == []
    assert backend.queries == 3


def test_an_action_answers_from_its_own_thread_and_its_writes_reach_the_queries(runtime: Runtime) -> None:
    session, _backend, _feed = _session(runtime)
    _subscribe(session, 0, (1, "a"))
    message = {"type": "Action", "requestId": 7, "udfPath": "notes:add_later", "args": [{"topic": "a"}]}
    assert session.receive(json.dumps(message)) == []  # started, not awaited
    out: list[dict[str, Any]] = []
    for _ in range(50):
        assert session.wake.wait(timeout=5)
        out += _messages(session.refresh())
        if any(m["type"] == "ActionResponse" for m in out) and any(m["type"] == "Transition" for m in out):
            break
    response = next(m for m in out if m["type"] == "ActionResponse")
    assert response == {"type": "ActionResponse", "requestId": 7, "logLines": [], "success": True, "result": "done"}
    updates = [mod for m in out if m["type"] == "Transition" for mod in m["modifications"]]
    assert updates[-1]["value"] == ["from an action"]


def test_reloaded_functions_rerun_every_query(runtime: Runtime) -> None:
    session, backend, feed = _session(runtime)
    _subscribe(session, 0, (1, "a"), (2, "b"))
    feed.publish(WriteSet((), everything=True))
    assert session.refresh() == []  # both ran again; neither result changed, so nothing is sent
    assert backend.queries == 4


def test_a_paginated_live_query_keeps_its_page_end_through_its_journal(runtime: Runtime) -> None:
    for text in ("one", "two", "three"):
        runtime.executor.call("notes:add", {"topic": "p", "text": text}, auth=_anon())
    session, _backend, _feed = _session(runtime)
    args = {"topic": "p", "paginationOpts": {"numItems": 2, "cursor": None}}
    add = {"type": "Add", "queryId": 1, "udfPath": "notes:newest", "args": [args], "journal": None}
    (first,) = _messages(
        session.receive(
            json.dumps({"type": "ModifyQuerySet", "baseVersion": 0, "newVersion": 1, "modifications": [add]})
        )
    )
    (page,) = first["modifications"]
    assert [doc["text"] for doc in page["value"]["page"]] == ["three", "two"]
    assert json.loads(page["journal"]) == {"endCursor": page["value"]["continueCursor"]}

    runtime.executor.call("notes:add", {"topic": "p", "text": "four"}, auth=_anon())  # newest first: before the end
    (update,) = _messages(session.refresh())
    (again,) = update["modifications"]
    assert [doc["text"] for doc in again["value"]["page"]] == ["four", "three", "two"]  # the page grew, kept its end
    assert again["value"]["continueCursor"] == page["value"]["continueCursor"]
    assert again["journal"] == page["journal"]


def test_query_errors_carry_convex_error_data(runtime: Runtime) -> None:
    session, _backend, _feed = _session(runtime)
    _subscribe(session, 0, (1, "a"))
    runtime.executor.call("notes:add", {"topic": "a", "text": "boom"}, auth=_anon())
    (transition,) = _messages(session.refresh())
    (failed,) = transition["modifications"]
    assert failed["type"] == "QueryFailed"
    assert failed["errorData"] == {"code": "BOOM"}
    assert "Uncaught ConvexError" in failed["errorMessage"]


def test_mutation_response_then_a_transition_reaching_its_timestamp(runtime: Runtime) -> None:
    session, _backend, _feed = _session(runtime)
    _subscribe(session, 0, (1, "a"))
    message = {"type": "Mutation", "requestId": 0, "udfPath": "notes:add", "args": [{"topic": "a", "text": "t"}]}
    response, transition = _messages(session.receive(json.dumps(message)))
    assert response["type"] == "MutationResponse"
    assert response["success"] is True
    assert transition["type"] == "Transition"
    assert decode_ts(transition["endVersion"]["ts"]) >= decode_ts(response["ts"])
    assert transition["modifications"][0]["value"] == ["t"]
    # The same request id again (a client re-sending after a reconnect) is answered from the log, not run again.
    again = _messages(session.receive(json.dumps(message)))
    assert again[0] == response
    assert runtime.executor.call("notes:list", {"topic": "a"}, auth=_anon()) == ["t"]


def test_protocol_violations_and_limits_end_the_session(runtime: Runtime) -> None:
    session, _backend, _feed = _session(runtime)
    (fatal,) = _messages(
        session.receive(json.dumps({"type": "ModifyQuerySet", "baseVersion": 3, "newVersion": 4, "modifications": []}))
    )
    assert fatal["type"] == "FatalError"
    assert "BaseVersionMismatch" in fatal["error"]
    assert session.closed

    limited, _backend, _feed = _session(runtime, limits=SyncLimits(max_queries=1))
    mods = [{"type": "Add", "queryId": i, "udfPath": "notes:list", "args": [{"topic": "a"}]} for i in range(2)]
    (fatal,) = _messages(
        limited.receive(
            json.dumps({"type": "ModifyQuerySet", "baseVersion": 0, "newVersion": 1, "modifications": mods})
        )
    )
    assert fatal["type"] == "FatalError"
    assert "TooManyQueries" in fatal["error"]


def test_large_transitions_are_chunked_for_clients_that_reassemble(runtime: Runtime) -> None:
    session, _backend, _feed = _session(runtime, limits=SyncLimits(chunk_bytes=64), client_version="1.49.0")
    text = session.receive(
        json.dumps(
            {
                "type": "ModifyQuerySet",
                "baseVersion": 0,
                "newVersion": 1,
                "modifications": [
                    {"type": "Add", "queryId": 1, "udfPath": "notes:list", "args": [{"topic": "é" * 40}]}
                ],
            }
        )
    )
    chunks = _messages(text)
    assert len(chunks) > 1
    assert {c["type"] for c in chunks} == {"TransitionChunk"}
    assert [c["partNumber"] for c in chunks] == list(range(len(chunks)))
    whole = "".join(c["chunk"] for c in chunks)
    assert len(whole.encode()) == int(chunks[0]["transitionId"])
    assert json.loads(whole)["type"] == "Transition"


def test_handshake_from_a_foreign_origin_is_refused(runtime: Runtime, tmp_path: Path) -> None:
    log = io.StringIO()
    server = DevServer(lambda: runtime, runtime.settings.functions_dir, port=0, out=log)
    server.start_background()
    try:
        ws_url = server.url.replace("http://", "ws://") + "/api/1.49.0/sync"
        with pytest.raises(InvalidStatus) as refused:
            connect(ws_url, origin="http://evil.example")  # type: ignore[arg-type]
        assert refused.value.response.status_code == 403
        assert b"ForbiddenOrigin" in refused.value.response.body
        # a sandboxed iframe or a data: page of any site sends "null"
        with pytest.raises(InvalidStatus) as refused:
            connect(ws_url, origin="null")  # type: ignore[arg-type]
        assert refused.value.response.status_code == 403
        assert b"ForbiddenOrigin" in refused.value.response.body
        with connect(ws_url, origin="http://localhost:5173") as ws:  # type: ignore[arg-type]
            ws.send(json.dumps({"type": "Connect", "sessionId": "not-a-uuid", "connectionCount": 0}))
            assert json.loads(ws.recv(timeout=5))["type"] == "FatalError"
    finally:
        server.shutdown()


def _anon() -> Any:
    from authlib_core.auth import NoAuth

    return NoAuth()


def test_a_quiet_connection_gets_pings_even_while_unrelated_commits_arrive(runtime: Runtime) -> None:
    server = DevServer(lambda: runtime, runtime.settings.functions_dir, port=0, out=io.StringIO())
    server.sync.limits = SyncLimits(ping_after_s=0.3)
    server.start_background()
    try:
        with connect(server.url.replace("http://", "ws://") + "/api/sync") as ws:
            ws.send(json.dumps({"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0}))
            done = threading.Event()

            def write() -> None:  # commits the connection has no query for: they wake it and send nothing
                while not done.wait(0.05):
                    runtime.executor.call("notes:add", {"topic": "x", "text": "t"}, auth=_anon())

            writer = threading.Thread(target=write)
            writer.start()
            try:
                assert json.loads(ws.recv(timeout=1.5)) == {"type": "Ping"}  # while the commits keep coming
            finally:
                done.set()
                writer.join()
    finally:
        server.shutdown()

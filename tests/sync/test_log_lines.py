"""``logLines``: what a function printed or logged reaches the client that called it, as Convex's log lines.

The state machine over a real runtime (SQLite) with the dev server's backend setting (``log_lines=True``), and the
real dev server with the published ``convex`` client, which prints them in its console as ``[CONVEX Q(path)] [LOG]``.
"""

from __future__ import annotations

import json
import logging
import textwrap
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from aws_lambda_powertools import Logger

from authlib_core.config import Settings
from authlib_core.functions.logs import MAX_LINE_CHARS, MAX_LOG_LINES, capture_logs
from authlib_core.http.sync_backend import RuntimeSyncBackend
from authlib_core.runtime import build_runtime
from authlib_core.sync import InProcessFeed, SyncSession

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from authlib_core.runtime import Runtime

CHATTY = """
    import logging

    from authlib_core import ConvexError, action, mutation, query, v

    log = logging.getLogger("chatty")

    @query(args={"n": v.number()})
    def count(ctx, n):
        print("counting", int(n))
        log.warning("watch out: %s", "n is big" if n > 10 else "n is small")
        if n < 0:
            raise ConvexError("negative")
        return len(ctx.db.query("things").collect()) + n

    @mutation(args={})
    def add(ctx):
        print("adding\\nsecond line", end="")
        return ctx.db.insert("things", {})

    @action(args={})
    def shout(ctx):
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("it failed")
        return ctx.run_query("chatty:count", {"n": 1})

    @query(args={"lines": v.number(), "width": v.number()})
    def flood(ctx, lines, width):
        for i in range(int(lines)):
            print(str(i) * int(width))
        return None
"""
SCHEMA = """
    from authlib_core import define_schema, define_table
    schema = define_schema({"things": define_table({})})
"""


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    functions = tmp_path / "functions"
    functions.mkdir()
    (functions / "chatty.py").write_text(textwrap.dedent(CHATTY))
    (functions / "schema.py").write_text(textwrap.dedent(SCHEMA))
    built = build_runtime(Settings(functions_dir=functions, sqlite_path=tmp_path / "db.sqlite3"))
    yield built
    built.database.close()


def _session(runtime: Runtime, *, log_lines: bool = True) -> SyncSession:
    feed = InProcessFeed()
    runtime.database.commit_listeners.append(feed.publish)
    backend = RuntimeSyncBackend(lambda: runtime, Logger(service="test", level="ERROR"), log_lines=log_lines)
    session = SyncSession(backend, feed)
    session.receive(json.dumps({"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0}))
    return session


def _send(session: SyncSession, message: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(text) for text in session.receive(json.dumps(message))]


def _watch(session: SyncSession, *queries: tuple[int, str, dict[str, Any]]) -> list[dict[str, Any]]:
    adds = [{"type": "Add", "queryId": qid, "udfPath": path, "args": [args]} for qid, path, args in queries]
    (transition,) = _send(session, {"type": "ModifyQuerySet", "baseVersion": 0, "newVersion": 1, "modifications": adds})
    return list(transition["modifications"])


def test_printed_and_logged_lines_reach_the_query_mutation_and_action_answers(runtime: Runtime) -> None:
    session = _session(runtime)
    ok, failed = _watch(session, (1, "chatty:count", {"n": 2}), (2, "chatty:count", {"n": -1}))
    assert (ok["type"], ok["logLines"]) == ("QueryUpdated", ["[LOG] counting 2", "[WARN] watch out: n is small"])
    assert failed["type"] == "QueryFailed"  # the lines before the error are kept
    assert failed["logLines"] == ["[LOG] counting -1", "[WARN] watch out: n is small"]

    response, transition = _send(session, {"type": "Mutation", "requestId": 0, "udfPath": "chatty:add", "args": [{}]})
    assert response["logLines"] == ["[LOG] adding", "[LOG] second line"]  # an unterminated last line counts too
    rerun = {mod["queryId"]: mod for mod in transition["modifications"]}
    assert rerun[1]["logLines"] == ["[LOG] counting 2", "[WARN] watch out: n is small"]  # the re-run's own lines

    assert _send(session, {"type": "Action", "requestId": 1, "udfPath": "chatty:shout", "args": [{}]}) == []
    answers: list[dict[str, Any]] = []
    while not any(a["type"] == "ActionResponse" for a in answers):
        assert session.wake.wait(timeout=10)
        answers += [json.loads(text) for text in session.refresh()]
    (action,) = [a for a in answers if a["type"] == "ActionResponse"]
    first, *rest = action["logLines"]
    assert first.startswith("[ERROR] it failed\nTraceback (most recent call last):")
    assert "ValueError: boom" in first
    assert rest == ["[LOG] counting 1", "[WARN] watch out: n is small"]  # ctx.run_query's lines belong to the action


def test_without_the_setting_no_lines_are_sent(runtime: Runtime) -> None:
    (ok,) = _watch(_session(runtime, log_lines=False), (1, "chatty:count", {"n": 2}))
    assert ok["logLines"] == []


def test_lines_are_capped_like_convex(runtime: Runtime) -> None:
    session = _session(runtime)
    many, wide = _watch(
        session,
        (1, "chatty:flood", {"lines": MAX_LOG_LINES + 50, "width": 1}),
        (2, "chatty:flood", {"lines": 1, "width": MAX_LINE_CHARS + 10}),
    )
    assert len(many["logLines"]) == MAX_LOG_LINES
    assert many["logLines"][-2] == f"[LOG] {MAX_LOG_LINES - 2}"
    assert many["logLines"][-1] == f"[ERROR] Log overflow (maximum {MAX_LOG_LINES}). Remaining log lines omitted."
    (line,) = wide["logLines"]
    assert line.endswith("... (10 more characters omitted)")
    assert len(line) == len("[LOG] ") + MAX_LINE_CHARS + len("... (10 more characters omitted)")


def test_the_server_keeps_its_own_output(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logging.getLogger(), "handlers", [])  # as in a plain process (pytest adds its own)
    orphan = logging.getLogger(f"orphan{uuid.uuid4().hex[:6]}")  # no handler on its way: Python's last resort
    with capture_logs() as capture:
        print("to the client and the terminal")
        orphan.warning("still on stderr")
        logging.getLogger("authlib_core.sync").warning("a server log, not the function's")
    assert capture.lines() == ["[LOG] to the client and the terminal", "[WARN] still on stderr"]
    out, err = capsys.readouterr()
    assert out == "to the client and the terminal\n"
    assert "still on stderr" in err
    print("outside a capture")
    assert capsys.readouterr().out == "outside a capture\n"

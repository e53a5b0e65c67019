"""Fuzzing the sync protocol's client messages (the WebSocket's ``$default`` route on both transports).

A :class:`SyncSession` on the real SQLite engine, with mutation answers kept as receipts in the mutation's commit
(:class:`ReceiptMutationLog`), receives sequences of client messages drawn from the protocol's shapes with odd
values: ``Connect`` with session ids that are not UUIDs or are UUIDs spelled oddly, mutations with odd request ids,
paths and arguments, re-sends, ``Authenticate`` with junk tokens, ``ModifyQuerySet`` with odd versions, and text that
is not JSON. Whatever arrives, ``receive`` answers protocol messages (JSON objects with a ``type``), never raises,
and a session that sent ``FatalError`` or ``AuthError`` is closed; afterwards a mutation re-sent on a new connection
with the same session id is answered from its receipt, not run again.

Bounded in CI (``AUTHLIB_FUZZ_EXAMPLES``, default 1000, as tests/fuzz/test_http_fuzz.py); set it higher for a long run.
"""

from __future__ import annotations

import json
import os
import pathlib
import uuid
from typing import TYPE_CHECKING

import pytest
from aws_lambda_powertools import Logger
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authlib_core.auth import NoAuth
from authlib_core.config import Settings
from authlib_core.http.sync_backend import RuntimeSyncBackend
from authlib_core.runtime import build_runtime
from authlib_core.sync import InProcessFeed, SyncSession
from authlib_core.sync.mutation_log import ReceiptMutationLog

if TYPE_CHECKING:
    from collections.abc import Iterator

    from authlib_core.runtime import Runtime

EXAMPLES = int(os.environ.get("AUTHLIB_FUZZ_EXAMPLES", "1000"))
FUZZ = settings(
    max_examples=max(1, EXAMPLES // 4),  # each example is a sequence of messages
    deadline=None,
    database=None,
    derandomize=EXAMPLES <= 2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
COUNTER_APP = pathlib.Path(__file__).resolve().parents[1] / "faults" / "apps" / "counterapp"
SESSION = "6f1c9c1e-3f0a-4f3e-9d55-0c1d2e3f4a5b"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
session_ids = st.one_of(
    st.just(SESSION),
    st.sampled_from(
        ["{" + SESSION + "}", "urn:uuid:" + SESSION, SESSION.upper(), "-" * 300 + SESSION.replace("-", ""), ""]
    ),
    st.text(max_size=60),
    json_values,
)
request_ids = st.one_of(st.integers(min_value=0, max_value=5), st.integers(), json_values)
paths = st.one_of(st.sampled_from(["counter:increment", "counter:get", "counter:incrementMine"]), st.text(max_size=30))
arguments = st.one_of(st.just([{"name": "c"}]), st.lists(json_values, max_size=2), json_values)
messages = st.one_of(
    st.builds(lambda s: {"type": "Connect", "sessionId": s, "connectionCount": 0, "clientTs": 0}, session_ids),
    st.builds(
        lambda r, p, a: {"type": "Mutation", "requestId": r, "udfPath": p, "args": a}, request_ids, paths, arguments
    ),
    st.builds(
        lambda r: {"type": "Mutation", "requestId": r, "udfPath": "counter:increment", "args": [{"name": "c"}]},
        request_ids,
    ),
    st.builds(
        lambda b, t: {"type": "Authenticate", "baseVersion": b, "tokenType": "User", "value": t},
        request_ids,
        st.text(max_size=40),
    ),
    st.builds(
        lambda b, n, m: {"type": "ModifyQuerySet", "baseVersion": b, "newVersion": n, "modifications": m},
        request_ids,
        request_ids,
        st.lists(
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(["Add", "Remove", "x"]),
                    "queryId": request_ids,
                    "udfPath": paths,
                    "args": arguments,
                }
            ),
            max_size=2,
        ),
    ),
    st.dictionaries(st.sampled_from(["type", "requestId", "sessionId"]), json_values, max_size=3),
)
texts = st.one_of(messages.map(json.dumps), st.text(max_size=40), st.just('{"type":"Connect"' + "[" * 200))


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    folder = tmp_path_factory.mktemp("sync-fuzz")
    built = build_runtime(Settings(functions_dir=COUNTER_APP, sqlite_path=folder / "db.sqlite3"))
    yield built
    built.database.close()


def _session(runtime: Runtime, log: ReceiptMutationLog) -> SyncSession:
    feed = InProcessFeed()
    backend = RuntimeSyncBackend(lambda: runtime, Logger(service="fuzz", level="CRITICAL"))
    return SyncSession(backend, feed, mutations=log)


def _check(replies: list[str], session: SyncSession) -> None:
    for reply in replies:
        message = json.loads(reply)
        assert isinstance(message, dict)
        assert isinstance(message.get("type"), str)
        if message["type"] in ("FatalError", "AuthError"):
            assert session.closed


valid_connects = st.sampled_from(
    [SESSION, "{" + SESSION + "}", "urn:uuid:" + SESSION, SESSION.upper(), "-" * 300 + SESSION.replace("-", "")]
).map(lambda s: json.dumps({"type": "Connect", "sessionId": s, "connectionCount": 0}))


@FUZZ
@given(first=st.one_of(valid_connects, texts), sent=st.lists(texts, min_size=1, max_size=8))
def test_client_messages(runtime: Runtime, first: str, sent: list[str]) -> None:
    log = ReceiptMutationLog(lambda: runtime.database.engine)
    session = _session(runtime, log)
    for text in [first, *sent]:
        _check(session.receive(text), session)
        _check(session.refresh(), session)
    session.close()


def test_a_resent_mutation_is_answered_after_fuzzing(runtime: Runtime) -> None:
    log = ReceiptMutationLog(lambda: runtime.database.engine)
    session_id = str(uuid.uuid4())
    increment = json.dumps(
        {"type": "Mutation", "requestId": 0, "udfPath": "counter:increment", "args": [{"name": "z"}]}
    )
    answers = []
    for _ in range(2):
        session = _session(runtime, log)
        session.receive(json.dumps({"type": "Connect", "sessionId": session_id, "connectionCount": 0}))
        answers.append(json.loads(session.receive(increment)[0]))
        session.close()
    assert [answer["result"] for answer in answers] == [1.0, 1.0]
    assert runtime.executor.call("counter:get", {"name": "z"}, auth=NoAuth()) == 1.0

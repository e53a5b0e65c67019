"""A sync session kept outside the process: snapshot, restore, and carry on as if it had never stopped.

This is how the AWS transport keeps a connection between Lambda invocations (docs/realtime.md): the state machine
is the same, only its state lives in DynamoDB.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from authlib_core.sync import SyncSession
from tests.sync.test_protocol import CountingBackend, _messages, _session, _subscribe, runtime

if TYPE_CHECKING:
    from authlib_core.runtime import Runtime

__all__ = ["runtime"]  # the fixture


def _add(session: SyncSession, request_id: int, topic: str, text: str) -> list[str]:
    message = {
        "type": "Mutation",
        "requestId": request_id,
        "udfPath": "notes:add",
        "args": [{"topic": topic, "text": text}],
    }
    return session.receive(json.dumps(message))


def test_a_restored_session_continues_the_version_chain_and_its_invalidation(runtime: Runtime) -> None:
    session, _backend, feed = _session(runtime)
    first = _subscribe(session, 0, (1, "a"), (2, "b"))
    state = json.loads(json.dumps(session.snapshot()))  # what a store keeps: plain JSON
    session.close()

    backend = CountingBackend(runtime)
    restored = SyncSession.restore(backend, feed, state)
    assert restored.snapshot() == state
    assert restored.query_count == 2
    out = _messages(_add(restored, 0, "a", "hello"))
    assert [m["type"] for m in out] == ["MutationResponse", "Transition"]
    transition = out[1]
    assert transition["startVersion"] == first["endVersion"] | {"ts": transition["startVersion"]["ts"]}
    assert transition["startVersion"]["querySet"] == 1
    assert [(m["queryId"], m["value"]) for m in transition["modifications"]] == [(1, ["hello"])]
    assert backend.queries == 1  # only the query whose read set the commit touched ran again


def test_a_snapshot_that_is_not_one_is_refused(runtime: Runtime) -> None:
    session, backend, feed = _session(runtime)
    with pytest.raises(ValueError, match="not a sync session snapshot"):
        SyncSession.restore(backend, feed, {"sessionId": "x"})
    session.close()

"""Re-sent mutations on AWS run exactly once, even when the sync Lambda died between the commit and the reply; a
client message that fails unexpectedly ends only its connection.

The real sync handler on moto under ``SyncFunction``'s role (tests/sam/live_stack.py). The crash is injected at the
boto3 boundary: right after the mutation's ``TransactWriteItems`` returned, the invocation dies (an exception no code
of ours catches, as a killed Lambda runs nothing more), and its execution environment is discarded.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from tests.sam.live_stack import _environment
from tests.sam.test_live_aws import NOTES, live, no_denials_of, sign_up

if TYPE_CHECKING:
    from pathlib import Path

    from tests.sam.live_stack import LiveStack

__all__ = ["live"]  # the fixture

pytestmark = pytest.mark.sam


class LambdaDied(BaseException):
    """The invocation ended here (a timeout, an out-of-memory kill): nothing after this point runs."""


def _die_after_the_next_commit(live: LiveStack) -> None:
    with _environment(live.http.environment("SyncFunction")):
        client = live.environments["SyncFunction"].runtime().database.engine.client  # type: ignore[attr-defined]
    armed = [True]

    def die(**_: Any) -> None:
        if armed[0]:
            armed[0] = False
            raise LambdaDied

    client.meta.events.register("after-call.dynamodb.TransactWriteItems", die)


def _open(live: LiveStack, connection: str, session_id: str, token: str) -> None:
    assert live.connect(connection) == {"statusCode": 200}
    live.send(connection, {"type": "Connect", "sessionId": session_id, "connectionCount": 0})
    live.send(connection, {"type": "Authenticate", "tokenType": "User", "value": token, "baseVersion": 0})


def _notes(live: LiveStack, cookie: str) -> list[dict[str, Any]]:
    _, body = live.http.call("POST", "/api/query", {"path": NOTES, "args": {}, "format": "json"}, cookies=[cookie])
    notes: list[dict[str, Any]] = body["value"]
    return notes


def _receipt(live: LiveStack, session_id: str) -> dict[str, Any]:
    """The one receipt of ``session_id`` (its key also holds a digest of the caller's identity: found by a test-only
    Scan of the moto table)."""
    (item,) = [
        item
        for page in live.admin.get_paginator("scan").paginate(
            TableName=live.documents_table,
            FilterExpression="begins_with(pk, :p)",
            ExpressionAttributeValues={":p": {"S": f"r#sync#{session_id}#"}},
        )
        for item in page["Items"]
    ]
    return item


def test_a_mutation_resent_after_the_lambda_died_between_commit_and_reply_runs_once(live: LiveStack) -> None:
    token, cookie = sign_up(live, "ada@example.com")
    session_id = str(uuid.uuid4())
    mutation = {"type": "Mutation", "requestId": 0, "udfPath": "myData:add", "args": [{"text": "once"}]}
    _open(live, "first=", session_id, token)
    _die_after_the_next_commit(live)
    with pytest.raises(LambdaDied):
        live.send("first=", mutation)
    assert "MutationResponse" not in [json.loads(text)["type"] for text in live.posted.get("first=", [])]
    (note,) = _notes(live, cookie)  # it committed
    live.environments["SyncFunction"] = live._live("SyncFunction", handles_messages=True)  # a new environment

    # The answer was committed with the mutation, in the documents table, for a day.
    receipt = _receipt(live, session_id)
    assert receipt["pk"]["S"].endswith("#0")
    assert 24 * 3600 - 120 < int(receipt["expiresAt"]["N"]) - time.time() <= 24 * 3600
    assert json.loads(receipt["val"]["S"])["result"] == note["_id"]

    # The client reconnects (another connection, another Lambda) and re-sends the mutation: answered, not run.
    _open(live, "second=", session_id, token)
    posted = live.send("second=", mutation)
    assert [m["type"] for m in posted] == ["MutationResponse", "Transition"]
    answer = posted[0]
    assert (answer["success"], answer["result"], answer["requestId"]) == (True, note["_id"], 0)
    assert [n["text"] for n in _notes(live, cookie)] == ["once"]

    # The dead invocation left the message in the first connection's inbox; once its lease has run out, the next
    # event of that connection handles it again, and it is answered from the same record.
    live.admin.update_item(
        TableName=live.sync_table,
        Key={"pk": {"S": "c#first="}, "sk": {"S": "c"}},
        UpdateExpression="SET leaseUntil = :past",
        ExpressionAttributeValues={":past": {"N": "0"}},
    )
    posted = live.send("first=", {"type": "Event", "eventType": "x", "event": {}})
    answers = [m for m in posted if m["type"] == "MutationResponse"]
    assert [(a["success"], a["result"]) for a in answers] == [(True, note["_id"])]
    assert [n["text"] for n in _notes(live, cookie)] == ["once"]
    no_denials_of(live, "SyncFunction")


def test_an_expired_answer_is_not_used(live: LiveStack) -> None:
    token, cookie = sign_up(live, "ada@example.com")
    session_id = str(uuid.uuid4())
    mutation = {"type": "Mutation", "requestId": 0, "udfPath": "myData:add", "args": [{"text": "a"}]}
    _open(live, "first=", session_id, token)
    assert live.send("first=", mutation)[0]["success"] is True
    # a day later (DynamoDB's TTL deletes an expired item some time after it expired; readers skip it until then)
    live.admin.update_item(
        TableName=live.documents_table,
        Key={"pk": _receipt(live, session_id)["pk"], "sk": {"B": b"\x00"}},
        UpdateExpression="SET expiresAt = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
    )
    _open(live, "second=", session_id, token)
    assert live.send("second=", mutation)[0]["success"] is True
    assert [n["text"] for n in _notes(live, cookie)] == ["a", "a"]  # past its lifetime, a re-send runs again


def test_a_client_message_that_fails_unexpectedly_ends_only_its_connection(
    live: LiveStack, caplog: pytest.LogCaptureFixture
) -> None:
    token, cookie = sign_up(live, "ada@example.com")
    _open(live, "broken=", str(uuid.uuid4()), token)
    _open(live, "fine=", str(uuid.uuid4()), token)
    live.admin.update_item(  # this connection's stored state cannot be read back
        TableName=live.sync_table,
        Key={"pk": {"S": "c#broken="}, "sk": {"S": "c"}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues={":s": {"S": '{"not json <secret>'}},
    )
    mutation = {"type": "Mutation", "requestId": 0, "udfPath": "myData:add", "args": [{"text": "lost"}]}
    posted = live.send("broken=", mutation)  # the invocation itself succeeds
    assert [m["type"] for m in posted] == ["FatalError"]
    assert posted[0]["error"].startswith("InternalServerError: ")
    assert "broken=" in live.closed
    assert live.items("c#broken=") == []
    logged = [r.getMessage() for r in caplog.records if "a client message failed" in r.getMessage()]
    assert len(logged) == 1
    assert "JSONDecodeError" in logged[0]
    assert "<secret>" not in logged[0]

    posted = live.send("fine=", {**mutation, "args": [{"text": "fine"}]})
    assert [m["type"] for m in posted] == ["MutationResponse", "Transition"]
    assert [n["text"] for n in _notes(live, cookie)] == ["fine"]


BIG_APP = {
    "schema.py": (
        "from authlib_core import define_schema, define_table, v\n"
        "schema = define_schema({'rows': define_table({'n': v.float64()})})\n"
    ),
    "big.py": (
        "from authlib_core import mutation, query\n\n"
        "@mutation(args={})\n"
        "def add(ctx):\n"
        "    ctx.db.insert('rows', {'n': 1.0})\n"
        "    return 'x' * 200_000\n\n"
        "@query(args={})\n"
        "def count(ctx):\n"
        "    return float(len(ctx.db.query('rows').collect()))\n"
    ),
}


def test_an_answer_larger_than_api_gateway_carries_is_a_failure_that_says_the_mutation_ran(
    live: LiveStack, tmp_path: Path
) -> None:
    folder = tmp_path / "bigfns"
    folder.mkdir()
    for name, text in BIG_APP.items():
        (folder / name).write_text(text)
    live.http.overrides["AUTHLIB_FUNCTIONS_DIR"] = str(folder)
    session_id = str(uuid.uuid4())
    mutation = {"type": "Mutation", "requestId": 0, "udfPath": "big:add", "args": [{}]}
    answers = []
    for connection in ("first=", "second="):  # the second: the client reconnected and re-sent it
        assert live.connect(connection) == {"statusCode": 200}
        live.send(connection, {"type": "Connect", "sessionId": session_id, "connectionCount": 0})
        posted = live.send(connection, mutation)
        assert [m["type"] for m in posted] == ["MutationResponse", "Transition"]  # delivered; the connection stays
        answers.append(posted[0])
        assert connection not in live.closed
    for answer in answers:
        assert (answer["success"], answer["ts"]) == (False, None)
        assert answer["result"].startswith("This mutation ran (the data shows its effect), but its answer (200")
    _, body = live.http.call("POST", "/api/query", {"path": "big:count", "args": {}, "format": "json"})
    assert body["value"] == 1.0  # once

"""The sync table's lease and inbox on moto, and the connection worker under concurrent "Lambdas".

The worker runs the real protocol over a real runtime (SQLite documents, so only the sync table is moto's); the
poster records what API Gateway would deliver (the AWS boundary).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from aws_lambda_powertools import Logger
from moto import mock_aws

from authlib_core.database.engines.dynamodb import create_client
from authlib_core.http.sync_backend import RuntimeSyncBackend
from authlib_core.live.delivery import ConnectionGone, ConnectionWorker, LambdaFeed, message_entry
from authlib_core.live.store import MESSAGE_PREFIX, StoredMutationLog, SyncStore, create_sync_table
from authlib_core.sync.protocol import SyncSession
from authlib_core.sync.timestamps import decode_ts
from tests.dynamodb.harness import serialize_moto_calls
from tests.sync.test_protocol import runtime  # notes:list and notes:add on SQLite

if TYPE_CHECKING:
    from collections.abc import Iterator

    from authlib_core.runtime import Runtime

__all__ = ["runtime"]  # the fixture

ENDPOINT = "https://abc.execute-api.us-east-1.amazonaws.com/prod"


class RecordingPoster:
    """API Gateway's side: what each connection received, in order."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: dict[str, list[dict[str, Any]]] = {}
        self.gone: set[str] = set()
        self.closed: list[str] = []

    def post(self, endpoint: str, connection_id: str, data: str) -> None:
        assert endpoint == ENDPOINT
        if connection_id in self.gone:
            raise ConnectionGone(connection_id)
        with self.lock:
            self.received.setdefault(connection_id, []).append(json.loads(data))

    def close(self, endpoint: str, connection_id: str) -> None:
        self.closed.append(connection_id)


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[SyncStore]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = serialize_moto_calls(create_client(region="us-east-1"))
        create_sync_table(client, "sync")
        yield SyncStore(client, "sync")


def _connect(store: SyncStore, worker: ConnectionWorker, connection: str) -> None:
    session = SyncSession(worker.backend, worker.feed)
    store.create(connection, endpoint=ENDPOINT, client_version=None, state=session.snapshot())
    session.close()


def test_the_lease_lets_one_holder_drain_and_sees_work_appended_meanwhile(store: SyncStore) -> None:
    store.create("c1", endpoint=ENDPOINT, client_version=None, state={"any": "state"})
    assert store.append("c1", ['{"kind":"message","text":"1"}'])
    first = store.acquire("c1", "A", int(time.time() * 1000) + 30_000)
    assert first is not None
    assert [e["S"] for e in first["inbox"]["L"]] == ['{"kind":"message","text":"1"}']
    assert store.append("c1", ['{"kind":"commit","writes":{}}'])  # a second Lambda's work ...
    assert store.acquire("c1", "B", int(time.time() * 1000) + 30_000) is None  # ... while A holds the lease
    store.save("c1", "A", state={"n": 1}, consumed=1, watches=set())
    assert not store.release("c1", "A")  # B's entry is there: A must drain again
    again = store.acquire("c1", "A", int(time.time() * 1000) + 30_000)  # its own lease: granted
    assert again is not None
    assert [e["S"] for e in again["inbox"]["L"]] == ['{"kind":"commit","writes":{}}']
    assert json.loads(again["state"]["S"]) == {"n": 1}
    store.save("c1", "A", state={"n": 2}, consumed=1, watches=set())
    assert store.release("c1", "A")
    assert store.acquire("c1", "B", int(time.time() * 1000) + 30_000) is not None


def test_an_expired_lease_is_taken_over_and_a_lost_lease_cannot_save(store: SyncStore) -> None:
    store.create("c1", endpoint=ENDPOINT, client_version=None, state={})
    assert store.acquire("c1", "A", int(time.time() * 1000) - 1) is not None  # a holder that died long ago
    assert store.acquire("c1", "B", int(time.time() * 1000) + 30_000) is not None
    with pytest.raises(RuntimeError, match="lease was lost"):
        store.save("c1", "A", state={}, consumed=0, watches=set())


def test_a_connection_removed_while_its_holder_works_is_not_brought_back(store: SyncStore) -> None:
    store.create("c1", endpoint=ENDPOINT, client_version=None, state={})
    assert store.acquire("c1", "A", int(time.time() * 1000) + 30_000) is not None
    store.forget("c1")  # $disconnect
    assert not store.save("c1", "A", state={"n": 1}, consumed=0, watches=set())
    assert "Item" not in store.client.get_item(TableName="sync", Key={"pk": {"S": "c#c1"}, "sk": {"S": "c"}})


def test_the_fanout_lets_go_with_client_messages_left_for_the_sync_function(store: SyncStore) -> None:
    store.create("c1", endpoint=ENDPOINT, client_version=None, state={})
    assert message_entry("{}").startswith(MESSAGE_PREFIX)
    store.append("c1", [message_entry("{}")])
    assert store.acquire("c1", "F", int(time.time() * 1000) + 30_000) is not None
    assert not store.release("c1", "F")  # the sync function's rule: only with an empty inbox
    assert store.release("c1", "F", leave_messages=True)


def test_a_gone_connection_takes_no_work_and_answers_expire(store: SyncStore) -> None:
    assert not store.append("nobody", ["{}"])
    log = StoredMutationLog(store)
    assert log.get("s", 1) is None
    log.put("s", 1, {"type": "MutationResponse", "requestId": 1})
    assert log.get("s", 1) == {"type": "MutationResponse", "requestId": 1}


def test_concurrent_lambdas_of_one_connection_answer_every_message_once_in_one_version_chain(
    store: SyncStore, runtime: Runtime
) -> None:
    poster = RecordingPoster()
    backend = RuntimeSyncBackend(lambda: runtime, Logger(service="test", level="ERROR"))

    def lambda_worker() -> ConnectionWorker:  # one per "execution environment", each with its own feed
        feed = LambdaFeed()
        runtime.database.commit_listeners.append(feed.publish)
        return ConnectionWorker(store, backend, poster, feed, handles_messages=True)

    workers = [lambda_worker() for _ in range(4)]
    _connect(store, workers[0], "c1")
    setup = [
        {"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0},
        {
            "type": "ModifyQuerySet",
            "baseVersion": 0,
            "newVersion": 1,
            "modifications": [{"type": "Add", "queryId": 1, "udfPath": "notes:list", "args": [{"topic": "a"}]}],
        },
    ]
    for message in setup:
        workers[0].handle("c1", [message_entry(json.dumps(message))], lambda: 30_000)
    mutations = [
        {"type": "Mutation", "requestId": n, "udfPath": "notes:add", "args": [{"topic": "a", "text": f"n{n}"}]}
        for n in range(12)
    ]
    threads = [
        threading.Thread(target=workers[n % 4].handle, args=("c1", [message_entry(json.dumps(m))], lambda: 30_000))
        for n, m in enumerate(mutations)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    received = poster.received["c1"]
    answers = [m["requestId"] for m in received if m["type"] == "MutationResponse"]
    assert sorted(answers) == list(range(12))  # every mutation answered exactly once
    version = {"querySet": 0, "identity": 0, "ts": "AAAAAAAAAAA="}
    last_value: list[str] = []
    for message in received:
        if message["type"] == "Transition":
            assert message["startVersion"] == version  # one chain, whoever posted
            assert decode_ts(message["endVersion"]["ts"]) >= decode_ts(version["ts"])
            version = message["endVersion"]
            for change in message["modifications"]:
                last_value = change["value"]
        elif message["type"] == "MutationResponse":
            assert decode_ts(message["ts"]) >= decode_ts(version["ts"])  # its transition comes next
    assert sorted(last_value) == sorted(f"n{n}" for n in range(12))
    item = store.client.get_item(TableName="sync", Key={"pk": {"S": "c#c1"}, "sk": {"S": "c"}})["Item"]
    assert item["inbox"]["L"] == []
    assert "lease" not in item

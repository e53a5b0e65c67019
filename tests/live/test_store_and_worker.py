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
from authlib_core.live.store import InboxFullError, SyncStore, create_sync_table
from authlib_core.sync.mutation_log import ReceiptMutationLog
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


def _answers(runtime: Runtime) -> ReceiptMutationLog:
    """Mutation answers committed with the mutations, in the runtime's store (as the sync function keeps them)."""
    return ReceiptMutationLog(lambda: runtime.database.engine)


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
    store.save("c1", "A", state={"n": 1}, handled=[0], watches=set())
    assert not store.release("c1", "A")  # B's entry is there: A must drain again
    again = store.acquire("c1", "A", int(time.time() * 1000) + 30_000)  # its own lease: granted
    assert again is not None
    assert [e["S"] for e in again["inbox"]["L"]] == ['{"kind":"commit","writes":{}}']
    assert json.loads(again["state"]["S"]) == {"n": 1}
    store.save("c1", "A", state={"n": 2}, handled=[0], watches=set())
    assert store.release("c1", "A")
    assert store.acquire("c1", "B", int(time.time() * 1000) + 30_000) is not None


def test_an_expired_lease_is_taken_over_and_a_lost_lease_cannot_save(store: SyncStore) -> None:
    store.create("c1", endpoint=ENDPOINT, client_version=None, state={})
    assert store.acquire("c1", "A", int(time.time() * 1000) - 1) is not None  # a holder that died long ago
    assert store.acquire("c1", "B", int(time.time() * 1000) + 30_000) is not None
    with pytest.raises(RuntimeError, match="lease was lost"):
        store.save("c1", "A", state={}, handled=[], watches=set())


def test_a_connection_removed_while_its_holder_works_is_not_brought_back(store: SyncStore) -> None:
    store.create("c1", endpoint=ENDPOINT, client_version=None, state={})
    assert store.acquire("c1", "A", int(time.time() * 1000) + 30_000) is not None
    store.forget("c1")  # $disconnect
    assert not store.save("c1", "A", state={"n": 1}, handled=[], watches=set())
    assert "Item" not in store.client.get_item(TableName="sync", Key={"pk": {"S": "c#c1"}, "sk": {"S": "c"}})


def test_a_holder_lets_go_with_the_entries_it_left_and_only_those(store: SyncStore) -> None:
    store.create("c1", endpoint=ENDPOINT, client_version=None, state={})
    store.append("c1", [message_entry("{}"), message_entry("{}"), '{"kind":"commit","writes":{}}'])
    assert store.acquire("c1", "F", int(time.time() * 1000) + 30_000) is not None
    assert store.save("c1", "F", state={}, handled=[2], watches=set())  # the commit; the messages stay
    assert not store.release("c1", "F")  # the rule for "nothing left" does not fit
    store.append("c1", [message_entry("{}")])
    assert not store.release("c1", "F", left=2)  # a third message arrived after the save: drain again
    assert store.release("c1", "F", left=3)


def test_a_gone_connection_takes_no_work(store: SyncStore) -> None:
    assert not store.append("nobody", ["{}"])


def test_concurrent_lambdas_of_one_connection_answer_every_message_once_in_one_version_chain(
    store: SyncStore, runtime: Runtime
) -> None:
    poster = RecordingPoster()
    backend = RuntimeSyncBackend(lambda: runtime, Logger(service="test", level="ERROR"))

    def lambda_worker() -> ConnectionWorker:  # one per "execution environment", each with its own feed
        feed = LambdaFeed()
        runtime.database.commit_listeners.append(feed.publish)
        return ConnectionWorker(store, backend, poster, feed, handles_messages=True, mutations=_answers(runtime))

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


def test_messages_appended_out_of_order_are_handled_in_the_order_the_client_sent_them(
    store: SyncStore, runtime: Runtime
) -> None:
    poster = RecordingPoster()
    backend = RuntimeSyncBackend(lambda: runtime, Logger(service="test", level="ERROR"))
    feed = LambdaFeed()
    runtime.database.commit_listeners.append(feed.publish)
    worker = ConnectionWorker(store, backend, poster, feed, handles_messages=True, mutations=_answers(runtime))
    _connect(store, worker, "c1")

    def add(base: int, query_id: int) -> str:
        change = {"type": "Add", "queryId": query_id, "udfPath": "notes:list", "args": [{"topic": f"t{query_id}"}]}
        return json.dumps(
            {"type": "ModifyQuerySet", "baseVersion": base, "newVersion": base + 1, "modifications": [change]}
        )

    def mutation(request_id: int) -> str:
        args = [{"topic": "t1", "text": f"m{request_id}"}]
        return json.dumps({"type": "Mutation", "requestId": request_id, "udfPath": "notes:add", "args": args})

    connect = json.dumps({"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0})
    # The Lambdas of the client's 2nd and 3rd message were quicker than those of its 1st and 2nd ...
    worker.handle("c1", [message_entry(add(1, 2))], lambda: 30_000)
    worker.handle("c1", [message_entry(add(0, 1))], lambda: 30_000)
    assert poster.received == {}  # nothing can run before Connect
    # ... and two mutations arrive together, swapped.
    store.append("c1", [message_entry(mutation(4)), message_entry(mutation(3))])
    worker.handle("c1", [message_entry(connect)], lambda: 30_000)
    received = poster.received["c1"]
    kinds = [(m["type"], m.get("requestId")) for m in received]
    assert kinds == [
        ("Transition", None),  # query set 0 -> 1
        ("Transition", None),  # 1 -> 2
        ("MutationResponse", 3),
        ("Transition", None),
        ("MutationResponse", 4),
        ("Transition", None),
    ]
    versions = [m["endVersion"]["querySet"] for m in received if m["type"] == "Transition"]
    assert versions == [1, 2, 2, 2]
    assert received[3]["modifications"][0]["value"] == ["m3"]
    assert received[5]["modifications"][0]["value"] == ["m3", "m4"]
    item = store.client.get_item(TableName="sync", Key={"pk": {"S": "c#c1"}, "sk": {"S": "c"}})["Item"]
    assert item["inbox"]["L"] == []


def test_a_message_whose_predecessor_never_comes_is_handed_over_after_the_wait(
    store: SyncStore, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    import authlib_core.live.delivery as delivery

    poster = RecordingPoster()
    backend = RuntimeSyncBackend(lambda: runtime, Logger(service="test", level="ERROR"))
    worker = ConnectionWorker(store, backend, poster, LambdaFeed(), handles_messages=True, mutations=_answers(runtime))
    _connect(store, worker, "c1")
    connect = json.dumps({"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0})
    worker.handle("c1", [message_entry(connect)], lambda: 30_000)
    skipped = json.dumps({"type": "ModifyQuerySet", "baseVersion": 5, "newVersion": 6, "modifications": []})
    worker.handle("c1", [message_entry(skipped)], lambda: 30_000)
    assert poster.received == {}  # waiting for base version 5
    monkeypatch.setattr(delivery, "WAIT_S", 0.0)
    worker.handle("c1", [], lambda: 30_000)  # the next event for the connection
    (fatal,) = poster.received["c1"]
    assert fatal["type"] == "FatalError"
    assert "BaseVersionMismatch" in fatal["error"]
    assert poster.closed == ["c1"]


def test_a_save_past_the_item_limit_says_so(store: SyncStore) -> None:
    store.create("c2", endpoint=ENDPOINT, client_version=None, state={})
    assert store.acquire("c2", "A", int(time.time() * 1000) + 30_000) is not None
    assert store.append("c2", [message_entry("x" * 110_000)])  # a message that waits in the inbox ...
    with pytest.raises(InboxFullError):  # ... beside a state of 300 KB: more than one item holds
        store.save("c2", "A", state={"s": "x" * 299_000}, handled=[], watches=set())

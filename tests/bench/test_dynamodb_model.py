"""The DynamoDB model (bench/dynamosim) against moto, and its concurrency rules, in a few seconds.

Single client: the same script of mutations and queries through the real engine gives the same items (ids and
tokens aside) and the same DynamoDB calls on the model as on moto. Concurrent: transactions that overlap on an
item are cancelled with ``TransactionConflict``, a partition over its cap throttles, and no update is lost.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from moto import mock_aws

from authlib_core.database import Database
from authlib_core.database.engines.dynamodb import DynamoDBEngine, create_client, create_tables
from bench.app.schema import schema
from bench.dynamosim.scheduler import EPOCH
from bench.dynamosim.store import MAX_ACTIONS, Store
from bench.dynamosim.workloads import TABLE, Model, run_workload
from tests.dynamodb.call_counter import CallCounter

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    import pytest


def _clock() -> Callable[[], float]:
    ticks = itertools.count(1)
    return lambda: EPOCH + next(ticks) / 1000


def script(db: Database) -> list[Any]:
    """Inserts, an index-range read then write, patch, delete, a counter, and two queries."""
    ids = [
        db.run_mutation(lambda w, i=i: w.insert("notes", {"userId": f"u{i % 2}", "text": f"n{i}"})) for i in range(4)
    ]

    def add_if_few(w: Any) -> None:
        mine = w.query("notes").with_index("by_user", lambda q: q.eq("userId", "u0")).take(100)
        if len(mine) < 3:
            w.insert("notes", {"userId": "u0", "text": f"more {len(mine)}"})
        else:
            w.patch(mine[0]["_id"], {"text": mine[0]["text"] + "+"})

    for _ in range(3):
        db.run_mutation(add_if_few)
    db.run_mutation(lambda w: w.patch(ids[1], {"text": "changed"}))
    db.run_mutation(lambda w: w.delete(ids[2]))
    counter = db.run_mutation(lambda w: w.insert("counters", {"name": "c", "n": 0.0}))
    for _ in range(3):
        db.run_mutation(lambda w: w.patch(counter, {"n": w.get(counter)["n"] + 1}))
    feed = db.run_query(lambda r: [n["text"] for n in r.query("notes").order("desc").take(20)])
    mine = db.run_query(
        lambda r: [n["text"] for n in r.query("notes").with_index("by_user", lambda q: q.eq("userId", "u0")).collect()]
    )
    return [feed, mine, db.run_query(lambda r: r.get(counter)["n"])]


def canonical(items: Iterable[dict[str, Any]]) -> tuple[list[Any], int]:
    """Items with document ids replaced by their creation order; commit markers counted, not compared."""
    items = list(items)
    documents = sorted((i for i in items if i["pk"]["S"].startswith("d#")), key=lambda i: float(i["ct"]["N"]))
    labels = {d["pk"]["S"][2:]: f"<doc{n}>" for n, d in enumerate(documents)}

    def clean(value: Any) -> Any:
        ((kind, data),) = value.items()
        if kind == "B":
            data = bytes(data)
            for real, label in labels.items():
                data = data.replace(real.encode(), label.encode())
        elif kind == "S":
            for real, label in labels.items():
                data = data.replace(real, label)
        return (kind, data)

    markers = sum(1 for i in items if i["pk"]["S"].startswith("c#"))
    kept = sorted(
        (
            sorted((name, clean(value)) for name, value in item.items())
            for item in items
            if not item["pk"]["S"].startswith("c#")
        ),
        key=repr,
    )
    return kept, markers


def on_moto(monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], tuple[list[Any], int], dict[str, int]]:
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    with mock_aws():
        admin = create_client(region="us-east-1")
        create_tables(admin, {"documents": TABLE, "sessions": TABLE + "-sessions"})
        client = create_client(region="us-east-1")
        counter = CallCounter(client)
        engine = DynamoDBEngine(client, TABLE)
        db = Database(engine, schema, cursor_secret=b"model-cursor-secret-" + b"x" * 16, clock=_clock())
        results = script(db)
        items = [i for page in admin.get_paginator("scan").paginate(TableName=TABLE) for i in page["Items"]]
        return results, canonical(items), dict(counter.total)


def test_single_client_matches_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    model = Model(seed=3)
    results = model.run_one(script, clock=_clock())
    expected_results, expected_items, expected_calls = on_moto(monkeypatch)
    assert results == expected_results
    assert expected_calls["TransactWriteItems"] == 13  # one per mutation of the script: nothing retried
    assert expected_items[1] == 13
    assert len(expected_items[0]) > 13
    assert canonical(model.store.items()) == expected_items
    assert dict(model.store.stats.calls) == expected_calls
    assert model.store.stats.transaction_conflicts == 0
    assert model.store.stats.throttles == 0


def test_runs_are_deterministic_for_a_seed() -> None:
    first = run_workload("independent users", instances=6, duration_s=0.2, seed=7)
    second = run_workload("independent users", instances=6, duration_s=0.2, seed=7)
    assert (first.commits, first.retries, first.latencies_ms, first.calls) == (
        second.commits,
        second.retries,
        second.latencies_ms,
        second.calls,
    )
    assert first.transaction_conflicts > 0  # overlapping writers of one version item were cancelled


def test_hot_counter_conflicts_throttles_and_loses_nothing() -> None:
    # run_workload raises if the counter does not equal the increments committed.
    result = run_workload("hot counter", instances=64, duration_s=0.2, seed=1)
    assert result.commits > 0
    assert result.transaction_conflicts > 0
    assert result.throttles > 0  # 64 writers of one item exceed its partition's 1,000 write units per second
    assert result.busiest_kind in ("read", "write")


def test_transaction_limits_are_enforced() -> None:
    model = Model(seed=1)
    store: Store = model.store
    outcome: list[Any] = []
    actions = [
        {"ConditionCheck": {"TableName": TABLE, "Key": {"pk": {"S": f"d#{i}"}, "sk": {"B": b"\x00"}}}}
        for i in range(MAX_ACTIONS + 1)
    ]
    store.serve("TransactWriteItems", {"TransactItems": actions}, lambda result, _: outcome.append(result))
    model.sim.run()
    assert getattr(outcome[0], "code", None) == "ValidationException"


def _serve_at(model: Model, when: float, operation: str, params: dict[str, Any], out: list[Any]) -> None:
    model.sim.at(when, lambda: model.store.serve(operation, params, lambda result, _: out.append(result)))


def _put(pk: str, version: int) -> dict[str, Any]:
    return {"TableName": TABLE, "Item": {"pk": {"S": pk}, "sk": {"B": b"\x00"}, "ver": {"N": str(version)}}}


def test_overlapping_transactions_on_one_item_cancel_the_later_one() -> None:
    model = Model(seed=1)
    first: list[Any] = []
    second: list[Any] = []
    _serve_at(model, 0.0, "TransactWriteItems", {"TransactItems": [{"Put": _put("d#a", 1)}]}, first)
    _serve_at(model, 0.0001, "TransactWriteItems", {"TransactItems": [{"Put": _put("d#a", 2)}]}, second)
    model.sim.run()
    assert first == [{}]
    assert getattr(second[0], "reasons", None) == ["TransactionConflict"]
    assert model.store.item(("d#a", b"\x00"))["ver"] == {"N": "1"}  # type: ignore[index]


def test_a_write_during_a_transact_get_cancels_it() -> None:
    model = Model(seed=1)
    done: list[Any] = []
    read: list[Any] = []
    _serve_at(model, 0.0, "PutItem", _put("d#b", 1), done)
    get = {"TransactItems": [{"Get": {"TableName": TABLE, "Key": {"pk": {"S": "d#b"}, "sk": {"B": b"\x00"}}}}]}
    _serve_at(model, 0.001, "TransactGetItems", get, read)
    _serve_at(model, 0.0011, "PutItem", _put("d#b", 2), done)
    model.sim.run()
    assert done == [{}, {}]
    assert getattr(read[0], "reasons", None) == ["TransactionConflict"]

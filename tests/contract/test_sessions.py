"""Session-store and rate-limit-store contract, run against SQLite (a file) and DynamoDB (moto in-process)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from authlib_core.database.sessions import RateLimitStore, SessionRecord, SessionStore, ttl_seconds
from tests.support.sessions import SESSIONS_TABLE, AtomicCallsClient, CountingClient, FakeClock, create_sessions_table

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

DAY = 86_400_000


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", "dynamodb"])
def stores(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> Iterator[tuple[SessionStore, RateLimitStore, Any]]:
    if request.param == "sqlite":
        from authlib_core.database.engines.sqlite_sessions import SQLiteRateLimitStore, SQLiteSessionStore

        path = tmp_path / "dev.sqlite3"
        sessions, limits = SQLiteSessionStore(path, clock=clock), SQLiteRateLimitStore(path, clock=clock)
        yield sessions, limits, None
        sessions.close()
        limits.close()
        return
    import boto3
    from moto import mock_aws

    from authlib_core.database.engines.dynamodb.sessions import DynamoDBRateLimitStore, DynamoDBSessionStore

    with mock_aws():
        raw = boto3.client("dynamodb", region_name="us-east-1")
        create_sessions_table(raw)
        client = CountingClient(raw)
        yield (
            DynamoDBSessionStore(client, SESSIONS_TABLE, clock=clock),  # type: ignore[arg-type]
            DynamoDBRateLimitStore(AtomicCallsClient(raw), SESSIONS_TABLE, clock=clock),  # type: ignore[arg-type]
            client,
        )


def make(
    clock: FakeClock, user: str = "u1", session: str = "s" * 22, *, idle_days: int = 7, cap_days: int = 30
) -> SessionRecord:
    now = int(clock() * 1000)
    return SessionRecord(
        user_id=user,
        session_id=session,
        token_hash="ab" * 32,
        created_at=now,
        updated_at=now,
        expires_at=now + idle_days * DAY,
        absolute_expires_at=now + cap_days * DAY,
        ip_address="127.0.0.1",
        user_agent="pytest",
        email="a@example.com",
        name="A",
    )


def stored_ttl(store: SessionStore, user: str, session: str) -> int | None:
    if hasattr(store, "ttl_of"):
        return store.ttl_of(user, session)  # type: ignore[no-any-return]
    item = store.raw_item(user, session)  # type: ignore[attr-defined]
    return None if item is None else int(item["expiresAt"]["N"])


def test_create_get_roundtrip(stores: Any, clock: FakeClock) -> None:
    sessions, _, _ = stores
    record = make(clock)
    sessions.create(record)
    assert sessions.get("u1", record.session_id) == record
    assert sessions.get("u1", "t" * 22) is None
    assert sessions.get("u2", record.session_id) is None
    assert stored_ttl(sessions, "u1", record.session_id) == ttl_seconds(record) == record.expires_at // 1000


def test_get_is_one_consistent_getitem_on_dynamodb(stores: Any, clock: FakeClock) -> None:
    sessions, _, client = stores
    if client is None:
        pytest.skip("DynamoDB call count")
    sessions.create(make(clock))
    client.calls.clear()
    assert sessions.get("u1", "s" * 22) is not None
    assert client.calls == ["get_item"]


def test_expired_but_present_record_is_rejected_by_a_read_that_writes_nothing(stores: Any, clock: FakeClock) -> None:
    # Reads never write: on AWS the query/mutation functions may only GetItem on the sessions table.
    sessions, _, client = stores
    record = make(clock, idle_days=1)
    sessions.create(record)
    clock.advance(86_400 + 1)
    assert stored_ttl(sessions, "u1", record.session_id) is not None  # TTL has not deleted it (moto never does)
    if client is not None:
        client.calls.clear()
    assert sessions.list_for_user("u1") == []
    assert sessions.get("u1", record.session_id) is None
    if client is not None:
        assert client.calls == ["query", "get_item"]
    assert stored_ttl(sessions, "u1", record.session_id) is not None  # left for TTL / the next sign-in


def test_the_next_sign_in_purges_expired_sessions_on_sqlite(stores: Any, clock: FakeClock) -> None:
    sessions, _, client = stores
    if client is not None:
        pytest.skip("DynamoDB leaves expired items to TTL")
    expired = make(clock, idle_days=1)
    sessions.create(expired)
    clock.advance(86_400 + 1)
    sessions.create(make(clock, session="n" * 22))
    assert stored_ttl(sessions, "u1", expired.session_id) is None


def test_absolute_cap_is_enforced_by_reads(stores: Any, clock: FakeClock) -> None:
    sessions, _, _ = stores
    record = make(clock, idle_days=7, cap_days=1)
    sessions.create(record)
    clock.advance(86_400 + 1)
    assert sessions.get("u1", record.session_id) is None


def test_refresh_extends_expiry_and_ttl(stores: Any, clock: FakeClock) -> None:
    sessions, _, _ = stores
    record = make(clock)
    sessions.create(record)
    before = stored_ttl(sessions, "u1", record.session_id)
    clock.advance(2 * 86_400)
    now = int(clock() * 1000)
    refreshed = sessions.refresh("u1", record.session_id, expires_at=now + 7 * DAY, updated_at=now)
    assert refreshed is not None
    assert (refreshed.expires_at, refreshed.updated_at) == (now + 7 * DAY, now)
    assert refreshed.created_at == record.created_at
    assert sessions.get("u1", record.session_id) == refreshed
    after = stored_ttl(sessions, "u1", record.session_id)
    assert before is not None
    assert after == before + 2 * 86_400


def test_refresh_never_resurrects(stores: Any, clock: FakeClock) -> None:
    sessions, _, _ = stores
    record = make(clock)
    sessions.create(record)
    sessions.delete("u1", record.session_id)
    now = int(clock() * 1000)
    assert sessions.refresh("u1", record.session_id, expires_at=now + DAY, updated_at=now) is None
    assert stored_ttl(sessions, "u1", record.session_id) is None
    expired = make(clock, session="e" * 22, idle_days=1)
    sessions.create(expired)
    clock.advance(86_400 + 1)
    now = int(clock() * 1000)
    assert sessions.refresh("u1", expired.session_id, expires_at=now + DAY, updated_at=now) is None


def test_list_delete_and_snapshot(stores: Any, clock: FakeClock) -> None:
    sessions, _, _ = stores
    a, b, c = make(clock, session="a" * 22), make(clock, session="b" * 22), make(clock, session="c" * 22)
    other = make(clock, user="u2", session="a" * 22)
    for record in (a, b, c, other):
        sessions.create(record)
        clock.advance(1)
    assert [r.session_id for r in sessions.list_for_user("u1")] == ["a" * 22, "b" * 22, "c" * 22]
    sessions.update_user_snapshot("u1", email="new@example.com", name="New")
    assert {(r.email, r.name) for r in sessions.list_for_user("u1")} == {("new@example.com", "New")}
    assert sessions.get("u2", "a" * 22).email == "a@example.com"
    assert sessions.delete_for_user("u1", keep="b" * 22) == 2
    assert [r.session_id for r in sessions.list_for_user("u1")] == ["b" * 22]
    assert sessions.get("u1", "a" * 22) is None  # revocation is immediate
    assert sessions.delete_for_user("u1") == 1
    assert sessions.list_for_user("u1") == []
    assert sessions.get("u2", "a" * 22) is not None


def test_rate_limit_window(stores: Any, clock: FakeClock) -> None:
    _, limits, _ = stores
    assert [limits.hit("k", 10, 3)[0] for _ in range(3)] == [True, True, True]
    assert limits.hit("k", 10, 3) == (False, 10)
    clock.advance(4)
    assert limits.hit("k", 10, 3) == (False, 6)
    assert limits.hit("other", 10, 3) == (True, 0)
    clock.advance(6)
    assert limits.hit("k", 10, 3) == (True, 0)


def test_rate_limit_peek_reads_without_counting(stores: Any, clock: FakeClock) -> None:
    _, limits, _ = stores
    assert limits.peek("p", 10) == (0, 0)
    limits.hit("p", 10, 3)
    limits.hit("p", 10, 3)
    clock.advance(3)
    assert limits.peek("p", 10) == (2, 7)
    assert limits.peek("p", 10) == (2, 7)  # peeking counts nothing
    assert limits.hit("p", 10, 3) == (True, 0)
    assert limits.peek("p", 10) == (3, 7)
    clock.advance(7)
    assert limits.peek("p", 10) == (0, 0)


def test_rate_limit_is_atomic_across_threads(stores: Any) -> None:
    _, limits, _ = stores
    barrier = threading.Barrier(8)

    def hit(_: int) -> bool:
        barrier.wait()
        return limits.hit("burst", 60, 5)[0]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(hit, range(8)))
    assert sum(results) == 5

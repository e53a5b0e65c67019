"""The emailed-link token service on every engine: hashed, single-use, expiring, purpose-bound, race-safe."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest

from authlib_core.auth.tables import VERIFICATION_TABLE, auth_tables
from authlib_core.auth.verification import TokenService
from authlib_core.database import Database
from authlib_core.schema import define_schema
from tests.contract.conftest import CURSOR_SECRET
from tests.contract.engines import open_engine
from tests.support.sessions import FakeClock

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.contract.engines import EngineSpec

schema = define_schema(dict(auth_tables))


@pytest.fixture
def database(engine_spec: EngineSpec) -> Iterator[Database]:
    database = Database(open_engine(engine_spec), schema, cursor_secret=CURSOR_SECRET)
    database.ensure_indexes()
    yield database
    database.close()


def _rows(database: Database) -> list[dict[str, object]]:
    return database.run_query(lambda db: db.query(VERIFICATION_TABLE).collect())


def test_issue_stores_only_a_hash_and_consume_uses_it_up(database: Database) -> None:
    clock = FakeClock()
    tokens = TokenService(database, clock=clock)
    raw = tokens.issue("reset-password", user_id="u1", email="ada@example.com", lifetime=60)
    (row,) = _rows(database)
    assert raw not in repr(row)
    assert str(row["identifier"]).startswith("reset-password:")
    assert row["expiresAt"] == (clock.now + 60) * 1000
    assert tokens.consume(raw, ("verify-email",)) is None  # another purpose: refused, left in place
    checked = tokens.check(raw, ("reset-password",))
    assert checked is not None
    assert (checked.user_id, checked.email, checked.expired) == ("u1", "ada@example.com", False)
    used = tokens.consume(raw, ("reset-password",))
    assert used is not None
    assert used.user_id == "u1"
    assert tokens.consume(raw, ("reset-password",)) is None
    assert _rows(database) == []


def test_expired_tokens_are_reported_deleted_and_purged(database: Database) -> None:
    clock = FakeClock()
    tokens = TokenService(database, clock=clock)
    first = tokens.issue("verify-email", user_id="u1", email="a@example.com", lifetime=10)
    tokens.issue("verify-email", user_id="u2", email="b@example.com", lifetime=10)
    clock.advance(11)
    found = tokens.consume(first, ("verify-email",))
    assert found is not None
    assert found.expired
    assert len(_rows(database)) == 1
    tokens.issue("change-email-confirmation", user_id="u3", email="c@example.com", new_email="d@e.example", lifetime=9)
    (left,) = _rows(database)  # the other expired row was purged by the issue
    assert str(left["identifier"]).startswith("change-email-confirmation:")


def test_malformed_tokens_read_nothing(database: Database) -> None:
    tokens = TokenService(database)
    for bad in ("", "short", "x" * 44, "a/" * 21 + "a", "é" * 43):
        assert tokens.consume(bad, ("reset-password",)) is None
        assert tokens.check(bad, ("reset-password",)) is None


def test_concurrent_uses_of_one_token_succeed_once(database: Database) -> None:
    tokens = TokenService(database)
    raw = tokens.issue("reset-password", user_id="u1", email="ada@example.com", lifetime=60)
    results: list[object] = []
    barrier = threading.Barrier(4)

    def use() -> None:
        barrier.wait()
        results.append(tokens.consume(raw, ("reset-password",)))

    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(result is not None for result in results) == 1

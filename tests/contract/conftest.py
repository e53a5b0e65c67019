"""Fixtures of the engine contract suite: every test runs once per engine."""

from __future__ import annotations

import contextlib
import uuid
from typing import TYPE_CHECKING

import pytest

from authlib_core.database import Database, RetryPolicy
from tests.contract.engines import EngineSpec, open_engine
from tests.contract.schema import contract_schema
from tests.support.moto_fixtures import moto_server, moto_server_url  # noqa: F401 (fixtures)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from authlib_core.database.interface import StorageEngine

CURSOR_SECRET = b"contract-suite-cursor-secret"


def make_database(
    engine: StorageEngine, retry: RetryPolicy | None = None, clock: Callable[[], float] | None = None
) -> Database:
    """A Database over ``engine`` with the contract schema, its indexes built (``clock``: epoch seconds)."""
    extra = {} if clock is None else {"clock": clock}
    database = Database(engine, contract_schema, cursor_secret=CURSOR_SECRET, retry=retry, **extra)
    database.ensure_indexes()
    return database


@pytest.fixture(params=["sqlite", "dynamodb", "dynamodb-server"])
def engine_spec(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[EngineSpec]:
    """One engine location per test, fresh and empty."""
    if request.param == "sqlite":
        yield EngineSpec("sqlite", str(tmp_path_factory.mktemp("sqlite") / "contract.sqlite3"))
        return
    if request.param in ("dynamodb", "dynamodb-server"):
        from moto import mock_aws

        from authlib_core.database.engines.dynamodb import create_client, create_tables

        for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        table = f"contract-{uuid.uuid4().hex[:12]}"
        in_process = request.param == "dynamodb"
        with mock_aws() if in_process else contextlib.nullcontext():
            location = "" if in_process else request.getfixturevalue("moto_server_url")
            create_tables(create_client(endpoint_url=location or None, region="us-east-1"), {"documents": table})
            yield EngineSpec(request.param, location, table)
        return
    raise AssertionError(request.param)


@pytest.fixture
def open_database(engine_spec: EngineSpec) -> Iterator[Callable[..., Database]]:
    """Open (possibly several) Database handles on the test's store; all are closed afterwards."""
    opened: list[Database] = []

    def _open(retry: RetryPolicy | None = None, clock: Callable[[], float] | None = None) -> Database:
        database = make_database(open_engine(engine_spec), retry, clock)
        opened.append(database)
        return database

    yield _open
    for database in opened:
        database.close()


@pytest.fixture
def db(open_database: Callable[..., Database]) -> Database:
    """A Database handle on a fresh store."""
    return open_database()


#: Documents per setup mutation: DynamoDB commits one TransactWriteItems of at most 100 items, and an insert into
#: a contract table writes the document, its index entries and shard versions (docs/dynamodb.md).
SEED_BATCH = 10


def insert_many(db: Database, table: str, documents: list[dict[str, object]]) -> list[str]:
    """Insert ``documents`` in order, in mutations small enough for every engine; returns their ids."""
    ids: list[str] = []
    for start in range(0, len(documents), SEED_BATCH):
        batch = documents[start : start + SEED_BATCH]
        ids.extend(db.run_mutation(lambda w, batch=batch: [w.insert(table, doc) for doc in batch]))
    return ids

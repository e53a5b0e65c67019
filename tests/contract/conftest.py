"""Fixtures of the engine contract suite: every test runs once per engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from authlib_core.database import Database, RetryPolicy
from authlib_core.database.interface import StorageEngine
from tests.contract.engines import EngineSpec, open_engine
from tests.contract.schema import contract_schema

CURSOR_SECRET = b"contract-suite-cursor-secret"


def make_database(engine: StorageEngine, retry: RetryPolicy | None = None) -> Database:
    """A Database over ``engine`` with the contract schema, its indexes built."""
    database = Database(engine, contract_schema, cursor_secret=CURSOR_SECRET, retry=retry)
    database.ensure_indexes()
    return database


@pytest.fixture(params=["sqlite"])
def engine_spec(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> EngineSpec:
    """One engine location per test, fresh and empty."""
    if request.param == "sqlite":
        return EngineSpec("sqlite", str(tmp_path_factory.mktemp("sqlite") / "contract.sqlite3"))
    raise AssertionError(request.param)


@pytest.fixture
def open_database(engine_spec: EngineSpec) -> Iterator[Callable[..., Database]]:
    """Open (possibly several) Database handles on the test's store; all are closed afterwards."""
    opened: list[Database] = []

    def _open(retry: RetryPolicy | None = None) -> Database:
        database = make_database(open_engine(engine_spec), retry)
        opened.append(database)
        return database

    yield _open
    for database in opened:
        database.close()


@pytest.fixture
def db(open_database: Callable[..., Database]) -> Database:
    """A Database handle on a fresh store."""
    return open_database()

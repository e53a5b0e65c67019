"""The moto server fixtures of a test package: import both into its ``conftest.py``.

``moto_server`` starts one server for the package's tests (session scope, so each package that imports it has
its own); ``moto_server_url`` hands a test that server and, when the test ends, deletes the tables the test created
and resets the server (tests/dynamodb/harness.py: ``tables_deleted_after``), so the server holds only what the
running test made — its memory stays flat however many tests use it. Only function-scoped fixtures may put
tables on it.

Example (a package's ``conftest.py``)::

    from tests.support.moto_fixtures import moto_server, moto_server_url  # noqa: F401 (fixtures)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's server on 127.0.0.1, one request at a time (tests/dynamodb/harness.py explains why)."""
    from tests.dynamodb.harness import start_server

    with start_server() as url:
        yield url


@pytest.fixture
def moto_server_url(moto_server: str) -> Iterator[str]:
    """The package's moto server; what the test creates on it is gone when the test ends."""
    from tests.dynamodb.harness import tables_deleted_after

    with tables_deleted_after(moto_server):
        yield moto_server

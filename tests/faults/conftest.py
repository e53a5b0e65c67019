"""Fixtures: one moto server per session (each test's tables deleted at its end); a fresh counter app stack per test,
on each path."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.dynamodb.harness import start_server, tables_deleted_after
from tests.faults.harness import Stack

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with start_server() as url:
        yield url


@pytest.fixture(autouse=True)
def _tables_deleted(request: pytest.FixtureRequest) -> Iterator[None]:
    """The tables a test creates on the moto server are deleted when it ends (a module's shared stack, set up
    before the test, is kept): the server holds only what the running tests use."""
    if "moto_endpoint" not in request.fixturenames:
        yield
        return
    with tables_deleted_after(request.getfixturevalue("moto_endpoint")):
        yield


@pytest.fixture(autouse=True)
def _aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture(params=["lambda", "dev"])
def stack(request: pytest.FixtureRequest, moto_endpoint: str) -> Iterator[Stack]:
    built = Stack(moto_endpoint, request.param)
    yield built
    built.close()


@pytest.fixture(scope="module")
def lambda_stack(moto_endpoint: str) -> Iterator[Stack]:
    """One counter app stack on the Lambda path for a whole module (tests that each use their own documents)."""
    mp = pytest.MonkeyPatch()
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        mp.setenv(name, value)
    built = Stack(moto_endpoint, "lambda")
    yield built
    built.close()
    mp.undo()

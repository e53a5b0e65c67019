"""Fixtures: the DynamoDB engine on moto in-process and on moto's server (127.0.0.1, subprocess)."""

from __future__ import annotations

import dataclasses
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from moto import mock_aws

from authlib_core.database.engines.dynamodb import DynamoDBEngine, create_client, create_tables
from tests.dynamodb.call_counter import CallCounter
from tests.dynamodb.harness import serialize_moto_calls
from tests.support.moto_fixtures import moto_server, moto_server_url  # noqa: F401 (fixtures)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

REGION = "us-east-1"


@dataclasses.dataclass
class Backend:
    """One fresh documents table behind one endpoint, with a call counter on the engine's client."""

    mode: str
    endpoint_url: str | None
    table: str
    engine: DynamoDBEngine
    counter: CallCounter
    make_engine: Callable[[], DynamoDBEngine]


def make_client(mode: str, endpoint_url: str | None) -> Any:
    # botocore's check of every request against the service model, which production clients skip: moto accepts
    # some requests DynamoDB refuses (a number where a string belongs), so these tests keep the shapes checked.
    client = create_client(endpoint_url=endpoint_url, region=REGION, parameter_validation=True)
    if mode == "moto":
        serialize_moto_calls(client)
    return client


@pytest.fixture(params=["moto", "server"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    mode = request.param
    table = f"docs-{uuid.uuid4().hex[:12]}"
    with contextlib_for(mode):
        endpoint_url = request.getfixturevalue("moto_server_url") if mode == "server" else None
        client = make_client(mode, endpoint_url)
        create_tables(client, {"documents": table, "sessions": table + "-sessions"})
        engines: list[DynamoDBEngine] = []

        def make_engine() -> DynamoDBEngine:
            engine = DynamoDBEngine(make_client(mode, endpoint_url), table)
            CallCounter(engine.client)  # refuses Scan on every client
            engines.append(engine)
            return engine

        engine = DynamoDBEngine(client, table)
        engines.append(engine)
        yield Backend(mode, endpoint_url, table, engine, CallCounter(client), make_engine)
        for opened in engines:
            opened.close()


def contextlib_for(mode: str) -> Any:
    import contextlib

    return mock_aws() if mode == "moto" else contextlib.nullcontext()

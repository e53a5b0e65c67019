"""Production clients skip botocore's client-side check of requests; what still refuses bad input, and how it reads.

``create_client`` turns botocore's parameter validation off (the request path's cost, docs/dynamodb.md "Client
configuration"). These tests run the engine with that production client on in-process moto: the limits the engine
promises are still refused by the engine before any call, and a request DynamoDB refuses still becomes the
library's error with DynamoDB's message in its log detail. The rest of tests/dynamodb keeps botocore's check on,
so a malformed request shape still fails there even where moto would accept it.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError, ParamValidationError
from moto import mock_aws

from authlib_core.cli.infra import _client as infra_client
from authlib_core.config import Settings
from authlib_core.database.engines.dynamodb import DynamoDBEngine, create_client, create_tables
from authlib_core.database.engines.dynamodb.errors import dynamodb_errors
from authlib_core.errors import LimitExceededError, StorageUnavailableError
from tests.dynamodb.call_counter import CallCounter
from tests.dynamodb.helpers import insert, insert_op, specs

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mypy_boto3_dynamodb.client import DynamoDBClient

REGION = "us-east-1"
T = "items"


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[DynamoDBClient, str]]:
    """A client exactly as the Lambda handler builds it, and a fresh documents table, on in-process moto."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    table = f"docs-{uuid.uuid4().hex[:12]}"
    with mock_aws():
        client = create_client(region=REGION)
        create_tables(client, {"documents": table, "sessions": table + "-sessions"})
        yield client, table


def _checked_where(client: DynamoDBClient, table: str) -> str:
    """Where a request below the service model's minimum (``Limit=0``) stops: "client" (botocore's check) or
    "sent" (to DynamoDB, which refuses it; moto answers it)."""
    try:
        client.query(
            TableName=table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "doc#x"}},
            Limit=0,
        )
    except ParamValidationError:
        return "client"
    except ClientError:
        return "sent"
    return "sent"


def test_request_path_clients_skip_the_client_side_check_and_operator_commands_keep_it(
    production: tuple[DynamoDBClient, str],
) -> None:
    client, table = production
    assert _checked_where(client, table) == "sent"
    assert _checked_where(create_client(region=REGION, parameter_validation=True), table) == "client"
    assert _checked_where(infra_client(Settings(engine="dynamodb", region=REGION)), table) == "client"


def test_the_engine_still_refuses_what_dynamodb_cannot_hold_before_any_call(
    production: tuple[DynamoDBClient, str],
) -> None:
    client, table = production
    engine = DynamoDBEngine(client, table)
    counter = CallCounter(client)
    indexes = specs()
    tx = engine.begin("write")
    with counter.measure() as calls:
        with pytest.raises(LimitExceededError, match="DynamoDB items hold at most 409600 bytes"):
            tx.commit([insert_op(T, {"group": "g", "blob": "z" * 410_000}, indexes)])
        with pytest.raises(LimitExceededError, match=r"items\.by_group: .* sort keys hold at most 1024"):
            tx.commit([insert_op(T, {"group": "k" * 1100}, indexes)])
        with pytest.raises(LimitExceededError, match="Split the work"):
            tx.commit([insert_op(T, {"group": "g"}, indexes) for _ in range(40)])
    assert calls == {}
    # ... and what it accepts is stored and read back as before
    doc_id = insert(engine, T, {"group": "g", "text": ""}, indexes)
    record = engine.begin("read").get(doc_id)
    assert record is not None
    assert record.value["text"] == ""


def test_a_request_dynamodb_refuses_is_the_librarys_error_with_dynamodbs_message(
    production: tuple[DynamoDBClient, str],
) -> None:
    client, table = production
    # A value outside the service model, which botocore would have refused locally: now DynamoDB refuses it.
    with pytest.raises(StorageUnavailableError) as info, dynamodb_errors(f"GetItem on table {table!r}"):
        client.get_item(
            TableName=table,
            Key={"pk": {"S": "doc#x"}, "sk": {"B": b"x"}},
            ReturnConsumedCapacity="LOTS",  # type: ignore[arg-type]
        )
    assert info.value.message.startswith("The database refused the request (ValidationException)")
    assert "'LOTS' at 'returnConsumedCapacity' failed to satisfy constraint" in info.value.detail
    assert table in info.value.detail

"""The moto server of a test package holds only what the running test made (tests/dynamodb/harness.py)."""

from __future__ import annotations

import json
import urllib.request

from tests.dynamodb.harness import admin_client, server_tables, tables_deleted_after


def _create(client: object, name: str) -> None:
    client.create_table(  # type: ignore[attr-defined]
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def _dashboard_items(url: str) -> int:
    """How many DynamoDB items moto still records for its dashboard (``/moto-api/data.json``)."""
    with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=30) as response:
        return len(json.load(response).get("dynamodb", {}).get("Item", []))


def test_a_blocks_tables_are_deleted_and_earlier_ones_kept_until_the_server_is_empty(moto_server: str) -> None:
    client = admin_client(moto_server)
    _create(client, "harness-kept")
    with tables_deleted_after(moto_server):
        _create(client, "harness-mine")
        client.put_item(TableName="harness-mine", Item={"pk": {"S": "a"}})
        assert server_tables(client) >= {"harness-kept", "harness-mine"}
    assert server_tables(client) == {"harness-kept"}
    assert _dashboard_items(moto_server) == 1  # a table is left: no reset yet

    client.delete_table(TableName="harness-kept")
    with tables_deleted_after(moto_server):
        _create(client, "harness-mine")
        client.put_item(TableName="harness-mine", Item={"pk": {"S": "b"}})
    assert server_tables(client) == set()
    assert _dashboard_items(moto_server) == 0  # the empty server was reset: moto no longer holds the old items

"""The moto server of a test package holds only what the running test made (tests/dynamodb/harness.py)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from tests.dynamodb.harness import admin_client, server_tables, tables_deleted_after


def _create(client: Any, name: str) -> None:
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def _backups(client: Any) -> list[str]:
    """Backups outlive their table on DynamoDB (and on moto): only a reset of the server drops them."""
    return [backup["BackupName"] for backup in client.list_backups()["BackupSummaries"]]


def _dashboard(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=30) as response:
        return dict(json.load(response))


def test_a_blocks_tables_are_deleted_and_earlier_ones_kept_until_the_server_is_empty(moto_server: str) -> None:
    client = admin_client(moto_server)
    _create(client, "harness-kept")
    with tables_deleted_after(moto_server):
        _create(client, "harness-mine")
        client.put_item(TableName="harness-mine", Item={"pk": {"S": "a"}})
        client.create_backup(TableName="harness-mine", BackupName="first")
        assert server_tables(client) == {"harness-kept", "harness-mine"}
    assert server_tables(client) == {"harness-kept"}
    assert _backups(client) == ["first"]  # a table is left: no reset yet

    client.delete_table(TableName="harness-kept")
    with tables_deleted_after(moto_server):
        _create(client, "harness-mine")
        client.create_backup(TableName="harness-mine", BackupName="second")
    assert server_tables(client) == set()
    assert _backups(client) == []  # the server, empty of tables, was reset


def test_the_server_keeps_no_dashboard_record_of_dynamodb_items(moto_server_url: str) -> None:
    client = admin_client(moto_server_url)
    _create(client, "harness-items")
    for n in range(3):
        client.put_item(TableName="harness-items", Item={"pk": {"S": str(n)}})
    assert client.scan(TableName="harness-items")["Count"] == 3  # stored and served ...
    assert _dashboard(moto_server_url).get("dynamodb", {}).get("Item", []) == []  # ... but not recorded

"""The moto server of a test package holds only what the running test made (tests/dynamodb/harness.py)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

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


def test_a_transaction_copies_its_table_once_and_still_rolls_back_whole(monkeypatch: Any) -> None:
    """moto copied a table once per action of a ``TransactWriteItems`` (harness.py: ``snapshot_each_table_once``):
    here one copy serves the whole call, and a cancelled transaction still leaves the table as it was."""
    import moto.dynamodb.models as models
    from moto import mock_aws
    from moto.dynamodb.models.table import Table

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    copied: list[str] = []
    copy_module = getattr(models.copy, "_copy", models.copy)  # the module behind the harness's wrapper
    real_deepcopy = copy_module.deepcopy

    def counting(value: Any, memo: Any = None) -> Any:
        if isinstance(value, Table):
            copied.append(value.name)
        return real_deepcopy(value, memo)

    monkeypatch.setattr(copy_module, "deepcopy", counting)
    with mock_aws():
        import boto3

        client = boto3.client("dynamodb", region_name="us-east-1")
        _create(client, "harness-tx")
        puts = [{"Put": {"TableName": "harness-tx", "Item": {"pk": {"S": f"k{n}"}}}} for n in range(10)]
        client.transact_write_items(TransactItems=puts)
        assert copied == ["harness-tx"]  # not ten copies

        failing = {"ConditionCheck": {"TableName": "harness-tx", "Key": {"pk": {"S": "k0"}}}}
        failing["ConditionCheck"]["ConditionExpression"] = "attribute_not_exists(pk)"
        again = [{"Put": {"TableName": "harness-tx", "Item": {"pk": {"S": f"new{n}"}}}} for n in range(5)]
        with pytest.raises(client.exceptions.TransactionCanceledException):
            client.transact_write_items(TransactItems=[*again, failing])
        assert copied == ["harness-tx", "harness-tx"]
        assert sorted(item["pk"]["S"] for item in client.scan(TableName="harness-tx")["Items"]) == sorted(
            f"k{n}" for n in range(10)
        )  # the five puts before the failed condition were rolled back

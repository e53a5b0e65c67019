"""Provisioning from the one table description, and index builds (ensure_indexes) without Scan."""

from __future__ import annotations

from typing import TYPE_CHECKING

from authlib_core.config import Settings
from authlib_core.database.engines.dynamodb import TABLES, create_tables
from authlib_core.database.engines.dynamodb.errors import cancellation_reasons
from authlib_core.database.interface import BY_CREATION_TIME, IndexSpec
from tests.dynamodb.helpers import eq_range, full_range, insert

if TYPE_CHECKING:
    from tests.dynamodb.conftest import Backend

T = "items"


def test_create_tables_is_idempotent_and_matches_the_description(backend: Backend) -> None:
    client = backend.engine.client
    settings = Settings(documents_table=backend.table + "-2", sessions_table=backend.table + "-2s")
    assert create_tables(client, settings) == [settings.documents_table, settings.sessions_table]
    assert create_tables(client, settings) == []
    for role, name in (("documents", settings.documents_table), ("sessions", settings.sessions_table)):
        description = client.describe_table(TableName=name)["Table"]
        assert description["KeySchema"] == TABLES[role].key_schema
        assert sorted(description["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
            TABLES[role].attribute_definitions, key=lambda a: a["AttributeName"]
        )
        assert description["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = client.describe_time_to_live(TableName=settings.sessions_table)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}


def test_ensure_indexes_builds_and_drops_entries_with_queries_only(backend: Backend) -> None:
    creation = IndexSpec(T, BY_CREATION_TIME, ())
    by_group = IndexSpec(T, "by_group", ("group",), shards=3)
    engine = backend.engine
    engine.ensure_indexes([creation])
    ids = [insert(engine, T, {"group": f"g{n % 3}", "n": float(n)}, {BY_CREATION_TIME: creation}) for n in range(9)]

    with backend.counter.measure() as calls:
        engine.ensure_indexes([creation, by_group])
    assert "Scan" not in calls
    assert calls["Query"] >= 1
    tx = engine.begin("read")
    found = tx.scan(eq_range(by_group, "g1"), "asc", after=None, limit=10).entries
    assert sorted(entry.document.id for entry in found) == sorted(ids[1::3])
    assert all(entry.document.version == 1 for entry in found)

    with backend.counter.measure() as calls:
        engine.ensure_indexes([creation, by_group])  # unchanged: one read of the catalog
    assert calls == {"GetItem": 1}

    resharded = IndexSpec(T, BY_CREATION_TIME, (), shards=4)
    engine.ensure_indexes([resharded])  # by_creation_time re-sharded, by_group dropped
    tx = engine.begin("read")
    assert len(tx.scan(full_range(resharded), "asc", after=None, limit=100).entries) == 9
    assert tx.scan(full_range(by_group), "asc", after=None, limit=100).entries == []
    assert [e.document.id for e in tx.scan(full_range(resharded), "asc", after=None, limit=100).entries] == ids


def test_cancellation_reasons_fall_back_to_the_message() -> None:
    from botocore.exceptions import ClientError

    message = (
        "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]"
    )
    error = ClientError({"Error": {"Code": "TransactionCanceledException", "Message": message}}, "TransactWriteItems")
    assert cancellation_reasons(error) == ["None", "ConditionalCheckFailed"]

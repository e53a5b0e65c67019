"""The one description of the DynamoDB tables: names, key schema, attribute types, TTL, billing.

``create_tables`` builds them from this description, and a test compares it with ``template.yaml``'s
``AWS::DynamoDB::Table`` resources, so the code and the deployment cannot drift apart.

* **documents** — ``pk`` (S, partition) + ``sk`` (B, sort): documents, index entries, per-shard version items
  and the index catalog (layout in :mod:`.layout`, reasoning in ``docs/dynamodb.md``).
* **sessions** — ``pk`` (S) + ``sk`` (S), TTL on ``expiresAt`` (epoch seconds): sessions and rate-limit
  records. Its logic lives in the auth layer; this module only owns its shape and creation.

Both are on-demand (``PAY_PER_REQUEST``): no capacity planning, and the per-partition ceilings
(``docs/dynamodb.md``, "Hot keys") are the only throughput limits that matter.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from authlib_core.config import Settings
from authlib_core.database.engines.dynamodb.errors import translate_boto_error, translate_client_error
from authlib_core.errors import StorageUnavailableError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mypy_boto3_dynamodb.client import DynamoDBClient

__all__ = [
    "DOCUMENTS",
    "SESSIONS",
    "TABLES",
    "KeyAttribute",
    "TableDescription",
    "create_table_request",
    "create_tables",
    "table_names",
]

AttributeType = Literal["S", "B", "N"]


@dataclasses.dataclass(frozen=True, slots=True)
class KeyAttribute:
    """One key attribute: its name and DynamoDB scalar type."""

    name: str
    type: AttributeType


@dataclasses.dataclass(frozen=True, slots=True)
class TableDescription:
    """What a table is, independent of its deployed name.

    ``role`` is the logical name ("documents", "sessions"); the physical name comes from the settings
    (``AUTHLIB_DOCUMENTS_TABLE`` / ``AUTHLIB_SESSIONS_TABLE``) or the template.
    """

    role: str
    partition_key: KeyAttribute
    sort_key: KeyAttribute
    ttl_attribute: str | None = None
    billing_mode: Literal["PAY_PER_REQUEST"] = "PAY_PER_REQUEST"

    @property
    def attribute_definitions(self) -> list[dict[str, str]]:
        """``AttributeDefinitions`` as CreateTable and CloudFormation spell them."""
        return [
            {"AttributeName": self.partition_key.name, "AttributeType": self.partition_key.type},
            {"AttributeName": self.sort_key.name, "AttributeType": self.sort_key.type},
        ]

    @property
    def key_schema(self) -> list[dict[str, str]]:
        """``KeySchema`` as CreateTable and CloudFormation spell them."""
        return [
            {"AttributeName": self.partition_key.name, "KeyType": "HASH"},
            {"AttributeName": self.sort_key.name, "KeyType": "RANGE"},
        ]


#: Documents, index entries (with a copy of the document), shard version items, the index catalog.
#: Commit markers (docs/dynamodb.md, "Commit outcomes") expire through TTL on ``expiresAt``.
DOCUMENTS = TableDescription("documents", KeyAttribute("pk", "S"), KeyAttribute("sk", "B"), ttl_attribute="expiresAt")
#: Sessions and rate-limit records; DynamoDB deletes expired items (lazily, within ~2 days) via TTL.
SESSIONS = TableDescription("sessions", KeyAttribute("pk", "S"), KeyAttribute("sk", "S"), ttl_attribute="expiresAt")

#: Every table, by role.
TABLES: Mapping[str, TableDescription] = {DOCUMENTS.role: DOCUMENTS, SESSIONS.role: SESSIONS}


def table_names(settings_or_names: Settings | Mapping[str, str]) -> dict[str, str]:
    """Physical table name by role, from :class:`Settings` or a ``{"documents": ..., "sessions": ...}`` mapping."""
    if isinstance(settings_or_names, Settings):
        return {"documents": settings_or_names.documents_table, "sessions": settings_or_names.sessions_table}
    unknown = set(settings_or_names) - set(TABLES)
    if unknown:
        raise ValueError(f"unknown table roles {sorted(unknown)}; the roles are {sorted(TABLES)}")
    return dict(settings_or_names)


def create_table_request(name: str, description: TableDescription) -> dict[str, Any]:
    """The ``CreateTable`` parameters for ``description`` under the physical ``name``."""
    return {
        "TableName": name,
        "AttributeDefinitions": description.attribute_definitions,
        "KeySchema": description.key_schema,
        "BillingMode": description.billing_mode,
    }


def create_tables(
    client: DynamoDBClient,
    settings_or_names: Settings | Mapping[str, str],
    *,
    wait_seconds: float = 120.0,
) -> list[str]:
    """Create the tables that do not exist yet, wait until they are active, and enable TTL. Idempotent.

        Returns the names of the tables it created (empty when everything already existed).

        Example (what ``python -m authlib_core infra create-tables --endpoint-url URL`` runs)::

            from authlib_core.config import Settings
    from authlib_core.errors import StorageUnavailableError
            from authlib_core.database.engines.dynamodb import create_client, create_tables

            settings = Settings.from_env()
            client = create_client(endpoint_url="http://127.0.0.1:5000", region="us-east-1")
            create_tables(client, settings)        # -> ["authlib-documents", "authlib-sessions"]
            create_tables(client, settings)        # -> [] (already there)

        Raises:
            StorageUnavailableError: DynamoDB could not be reached (no endpoint, no credentials), refused the request,
                or a table did not become active within ``wait_seconds``.
    """
    names = table_names(settings_or_names)
    created: list[str] = []
    try:
        for role, name in names.items():
            description = TABLES[role]
            try:
                client.create_table(**create_table_request(name, description))
                created.append(name)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ResourceInUseException":
                    raise
            _wait_active(client, name, wait_seconds)
            if description.ttl_attribute is not None:
                _enable_ttl(client, name, description.ttl_attribute)
    except ClientError as exc:
        raise translate_client_error(exc, "create_tables") from exc
    except BotoCoreError as exc:
        raise translate_boto_error(exc, "create_tables") from exc
    except TimeoutError as exc:
        raise StorageUnavailableError(f"DynamoDB create_tables: {exc}") from exc
    return created


def _wait_active(client: DynamoDBClient, name: str, wait_seconds: float) -> None:
    deadline = time.monotonic() + wait_seconds
    while True:
        status = client.describe_table(TableName=name)["Table"].get("TableStatus")
        if status == "ACTIVE":
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"table {name!r} is still {status} after {wait_seconds:.0f} s")
        time.sleep(0.5)


def _enable_ttl(client: DynamoDBClient, name: str, attribute: str) -> None:
    current = client.describe_time_to_live(TableName=name).get("TimeToLiveDescription", {})
    if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") and current.get("AttributeName") == attribute:
        return
    client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute})

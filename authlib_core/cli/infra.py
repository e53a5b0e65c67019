"""``python -m authlib_core infra ...``: provision DynamoDB for the app.

- ``infra create-tables``: create the documents and sessions tables from the one description in code
  (``authlib_core/database/engines/dynamodb/tables.py``: keys, on-demand billing, TTL on the sessions table).
  Idempotent: tables that exist are reported and left alone. For moto server or DynamoDB Local
  (``--endpoint-url``); on AWS the tables come from ``template.yaml``.
- ``infra migrate``: build and drop stored index entries so they match the app's schema (``ensure_indexes``). Run it
  before deploying code that writes to a new or changed index (docs/deploy.md, "Updating").

Both take ``--endpoint-url URL`` (default ``$AUTHLIB_DYNAMODB_ENDPOINT_URL``, else AWS itself), ``--region R`` (default
``$AWS_REGION`` / ``$AWS_DEFAULT_REGION`` / the AWS profile; ``us-east-1`` for an endpoint on this machine) and the
table names (default ``$AUTHLIB_DOCUMENTS_TABLE`` / ``$AUTHLIB_SESSIONS_TABLE``). Errors are one line; exit status 2
for a usage or configuration error (no region, a bad URL, no functions folder), 1 when DynamoDB could not be reached
or refused.

Example:
    $ python -m authlib_core infra create-tables --endpoint-url http://127.0.0.1:8000
    created table authlib-documents (documents)
    created table authlib-sessions (sessions, TTL on expiresAt)
    $ python -m authlib_core infra migrate --endpoint-url http://127.0.0.1:8000
    indexes in authlib-documents: built myData.by_creation_time, myData.by_user, ...
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from authlib_core.config import Settings, is_loopback_url
from authlib_core.errors import ConfigError

if TYPE_CHECKING:
    import argparse

    from mypy_boto3_dynamodb.client import DynamoDBClient

__all__ = ["LOCAL_REGION", "configure_parser"]

#: The region used for an endpoint on this machine when none is configured (emulators accept any).
LOCAL_REGION = "us-east-1"


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the ``infra`` subcommands to ``parser``."""
    commands = parser.add_subparsers(dest="infra_command", required=True, metavar="INFRA_COMMAND")

    create = commands.add_parser("create-tables", help="create the DynamoDB tables (idempotent)")
    _common_options(create)
    create.add_argument("--sessions-table", metavar="NAME", help="default: $AUTHLIB_SESSIONS_TABLE or authlib-sessions")
    create.set_defaults(handler=_create_tables)

    migrate = commands.add_parser("migrate", help="bring the stored indexes in line with the app's schema")
    _common_options(migrate)
    migrate.add_argument(
        "--functions", type=Path, help="functions folder (default: $AUTHLIB_FUNCTIONS_DIR or functions)"
    )
    migrate.set_defaults(handler=_migrate)


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="DynamoDB endpoint, e.g. moto server or DynamoDB Local (default: $AUTHLIB_DYNAMODB_ENDPOINT_URL or AWS)",
    )
    parser.add_argument("--region", help="AWS region (default: $AWS_REGION, the AWS profile; us-east-1 for localhost)")
    parser.add_argument(
        "--documents-table", metavar="NAME", help="default: $AUTHLIB_DOCUMENTS_TABLE or authlib-documents"
    )


def _settings(options: argparse.Namespace) -> Settings:
    """Settings from the environment with the command's options applied and the region resolved."""
    from authlib_core.database.engines.dynamodb import configured_region
    from authlib_core.dev.cli import check_endpoint_url

    settings = Settings.from_env()
    endpoint = options.endpoint_url or settings.dynamodb_endpoint_url
    if endpoint is not None:
        check_endpoint_url(endpoint)
    region = configured_region(options.region or settings.region)
    if region is None:
        if endpoint is None or not is_loopback_url(endpoint):
            where = "AWS" if endpoint is None else endpoint
            raise ConfigError(
                f"No AWS region for DynamoDB at {where}: pass --region (e.g. --region eu-west-1) or set AWS_REGION."
            )
        region = LOCAL_REGION
    return dataclasses.replace(
        settings,
        engine="dynamodb",
        dynamodb_endpoint_url=endpoint,
        region=region,
        documents_table=options.documents_table or settings.documents_table,
        sessions_table=getattr(options, "sessions_table", None) or settings.sessions_table,
    )


def _client(settings: Settings) -> DynamoDBClient:
    from authlib_core.database.engines.dynamodb import create_client

    # Few attempts: an administrator waiting on a refused connection wants the error, not a minute of backoff.
    # botocore's own check of each request stays on here: these commands are not on a request's path.
    return create_client(
        endpoint_url=settings.dynamodb_endpoint_url, region=settings.region, max_attempts=2, parameter_validation=True
    )


def _where(settings: Settings) -> str:
    return settings.dynamodb_endpoint_url or f"AWS {settings.region}"


def _create_tables(options: argparse.Namespace) -> int:
    from authlib_core.database.engines.dynamodb import TABLES, create_tables
    from authlib_core.database.engines.dynamodb.tables import table_names

    settings = _settings(options)
    created = set(create_tables(_client(settings), settings))
    for role, name in table_names(settings).items():
        ttl = TABLES[role].ttl_attribute
        detail = role if ttl is None else f"{role}, TTL on {ttl}"
        print(f"{'created' if name in created else 'found'} table {name} ({detail}) at {_where(settings)}")
    return 0


def _migrate(options: argparse.Namespace) -> int:
    from authlib_core.database import Database
    from authlib_core.database.engines.dynamodb import DynamoDBEngine
    from authlib_core.database.engines.dynamodb.migrate import ensure_indexes
    from authlib_core.dev.cli import check_functions_dir
    from authlib_core.functions import load_functions

    settings = _settings(options)
    if options.functions is not None:
        settings = dataclasses.replace(settings, functions_dir=options.functions)
    check_functions_dir(
        settings.functions_dir, given=options.functions is not None, command="`authlib-core infra migrate`"
    )
    app = load_functions(settings.functions_dir)
    engine = DynamoDBEngine(_client(settings), settings.documents_table)
    try:
        # The Database only computes the index list (schema tables + by_creation_time); no cursor is ever signed.
        indexes = Database(engine, app.schema, cursor_secret=b"infra-migrate").catalog.all_indexes()
        changes = ensure_indexes(engine, indexes)
    finally:
        engine.close()
    parts = [f"built {', '.join(changes.built)}" if changes.built else "nothing to build"]
    if changes.dropped:
        parts.append(f"dropped {', '.join(changes.dropped)}")
    parts.append(f"{len(changes.unchanged)} unchanged")
    if changes.counted:
        parts.append(f"counted the entries of {', '.join(changes.counted)}")
    print(f"indexes in {settings.documents_table} at {_where(settings)}: {'; '.join(parts)}")
    return 0

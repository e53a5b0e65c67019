"""The DynamoDB engine (production storage). The only package that imports boto3/botocore.

* :class:`DynamoDBEngine` — the storage engine over one documents table (client injected).
* :func:`create_client` — a DynamoDB client with botocore's retry mode and timeouts set.
* :func:`create_tables` — idempotent provisioning from the one table description (:mod:`.tables`).
* :func:`engine_from_settings` — what ``create_engine(settings)`` calls.

Design and call counts: ``docs/dynamodb.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import botocore.session
from botocore.config import Config

from authlib_core.config import is_loopback_url
from authlib_core.database.engines.dynamodb.budget import install_budget_check
from authlib_core.database.engines.dynamodb.engine import DynamoDBEngine, DynamoDBTransaction
from authlib_core.database.engines.dynamodb.tables import DOCUMENTS, SESSIONS, TABLES, create_tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from authlib_core.config import Settings

__all__ = [
    "CONNECT_TIMEOUT_S",
    "DOCUMENTS",
    "MAX_ATTEMPTS",
    "READ_TIMEOUT_S",
    "SESSIONS",
    "TABLES",
    "DynamoDBEngine",
    "DynamoDBTransaction",
    "configured_region",
    "create_client",
    "create_tables",
    "engine_from_settings",
]

_DEFAULT_REGION = "us-east-1"


#: Seconds to open a TCP connection to DynamoDB (in-region connects take milliseconds).
CONNECT_TIMEOUT_S = 1.0
#: Seconds to wait for a response once sent (DynamoDB answers in milliseconds, a full TransactWriteItems well
#: under a second; botocore's own default is 60 s).
READ_TIMEOUT_S = 2.0
#: Attempts per call, the first included (botocore's "standard" mode: jittered exponential backoff, at most 1 s
#: then 2 s between attempts, for throttling, 5xx, timeouts and connection errors).
MAX_ATTEMPTS = 3


def create_client(
    endpoint_url: str | None = None,
    region: str | None = None,
    *,
    retry_mode: Literal["standard", "adaptive"] = "standard",
    max_attempts: int = MAX_ATTEMPTS,
    connect_timeout: float = CONNECT_TIMEOUT_S,
    read_timeout: float = READ_TIMEOUT_S,
    max_pool_connections: int = 32,
    parameter_validation: bool = False,
) -> DynamoDBClient:
    """A DynamoDB client for the engine and the session stores (built by botocore directly: ``boto3`` and the
    ``s3transfer`` it imports are ~55 ms of a cold start the client does not need).

    * ``retry_mode`` "standard" retries throttling, 5xx and timeouts with jittered exponential backoff
      (``max_attempts`` includes the first call); "adaptive" additionally rate-limits the client when
      DynamoDB throttles — useful for batch jobs, less so for Lambda, where each instance is one client.
    * Short timeouts, and a check before every attempt that the request's time budget
      (:mod:`authlib_core.database.deadline`) can still cover ``connect_timeout + read_timeout``: a hung store
      answers 503 well inside API Gateway's 30 s and the Lambda timeout (docs/dynamodb.md, "Time budget").
    * A loopback ``endpoint_url`` (moto server, DynamoDB Local) gets dummy credentials when none are configured.
    * botocore's client-side check of each request against the service model is off unless
      ``parameter_validation`` is True (botocore documents turning it off for performance): every request is built
      by this package, its shapes are type-checked (``mypy --strict`` against the DynamoDB stubs) and exercised on
      moto with the check on, the limits the engine promises (item, sort key, transaction size and count) are
      checked by the engine before any call, table names when the settings are read, and DynamoDB validates every
      request again (a refused one becomes a 503 whose log detail carries DynamoDB's message). The check was
      ~110 µs of a ~800 µs warm query (docs/performance.md, "Fourth pass").

    Example:
        >>> client = create_client(endpoint_url="http://127.0.0.1:5000", region="us-east-1")  # doctest: +SKIP
    """
    config = Config(
        retries={"mode": retry_mode, "max_attempts": max_attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_pool_connections=max_pool_connections,
        parameter_validation=parameter_validation,
    )
    session = botocore.session.Session()
    key_id: str | None = None
    secret: str | None = None
    if endpoint_url is not None and is_loopback_url(endpoint_url) and session.get_credentials() is None:
        key_id, secret = "local", "local"
    client: DynamoDBClient = session.create_client(  # type: ignore[assignment]
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name=region or _session_region(session) or _DEFAULT_REGION,
        config=config,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
    )
    install_budget_check(client, connect_timeout + read_timeout)
    return client


def configured_region(region: str | None = None) -> str | None:
    """``region``, else the region boto3 finds (``AWS_DEFAULT_REGION``, the profile's config), else None."""
    return region or _session_region(botocore.session.Session())


def _session_region(session: botocore.session.Session) -> str | None:
    """The region the session's configuration names (what ``boto3.session.Session().region_name`` reads)."""
    region: str | None = session.get_config_variable("region")
    return region


def engine_from_settings(settings: Settings) -> DynamoDBEngine:
    """The engine for ``AUTHLIB_ENGINE=dynamodb``: documents table and endpoint from the settings."""
    client = create_client(endpoint_url=settings.dynamodb_endpoint_url, region=settings.region)
    return DynamoDBEngine(client, settings.documents_table)

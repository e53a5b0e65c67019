"""Engine factories for the contract suite.

Each factory is described by a picklable :class:`EngineSpec`, so a child process can open the same store
(multi-process concurrency tests). Adding an engine to the suite = adding a spec kind here and a branch in
:func:`open_engine`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from authlib_core.database.interface import StorageEngine


@dataclasses.dataclass(frozen=True)
class EngineSpec:
    """How to open one engine instance: ``kind`` plus a location (file path, endpoint URL, table name)."""

    kind: str
    location: str
    table: str = ""


def open_engine(spec: EngineSpec) -> StorageEngine:
    """Open an engine described by ``spec`` (in this process)."""
    if spec.kind == "sqlite":
        from authlib_core.database.engines.sqlite import SQLiteEngine

        return SQLiteEngine(Path(spec.location))
    if spec.kind in ("dynamodb", "dynamodb-server"):
        # location: "" for moto in-process (the caller holds mock_aws), else the server's endpoint URL.
        from authlib_core.database.engines.dynamodb import DynamoDBEngine, create_client
        from tests.dynamodb.call_counter import CallCounter
        from tests.dynamodb.harness import expire_commit_markers, serialize_moto_calls

        client = create_client(endpoint_url=spec.location or None, region="us-east-1")
        if spec.kind == "dynamodb":
            serialize_moto_calls(client)
        expire_commit_markers(client)
        CallCounter(client)  # refuses Scan: zero Scan calls across the whole suite
        return DynamoDBEngine(client, spec.table)
    raise ValueError(f"unknown engine kind {spec.kind!r}")

"""Shared helpers for session-store tests: a controllable clock, a moto sessions table, store factories."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any


@dataclasses.dataclass
class FakeClock:
    """Epoch seconds that only move when told to."""

    now: float = 1_800_000_000.0
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


SESSIONS_TABLE = "authlib-sessions"


def create_sessions_table(client: Any, name: str = SESSIONS_TABLE) -> None:
    """The sessions table as the DynamoDB engine's ``tables.py`` describes it: pk/sk strings, TTL on expiresAt."""
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"})


class CountingClient:
    """Wraps a boto3 client and counts calls per operation (DynamoDB calls per request are asserted)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return attr(*args, **kwargs)

        return call

"""A hot counter on DynamoDB: 8 clients x 25 increments of one document through the dev server all succeed.

moto's server answers one request at a time (tests/dynamodb/harness.py), as in the report this reproduces (10-13
of 200 used to end in 503). Latency figures: ``python -m bench.storage_faults`` (docs/dynamodb.md).
"""

from __future__ import annotations

import pytest

from tests.faults.harness import Stack, hot_counter

pytestmark = [pytest.mark.dynamodb_server, pytest.mark.slow]


def test_eight_writers_on_one_counter_all_succeed(moto_endpoint: str) -> None:
    stack = Stack(moto_endpoint, "dev")
    try:
        result = hot_counter(stack, clients=8, increments=25)
    finally:
        stack.close()
    assert result["failures"] == []
    assert result["value"] == 200.0  # nothing lost, nothing applied twice

"""DynamoDB calls per operation through the whole HTTP app, exactly (docs/performance.md explains each minimum).

The engine-level counts (get, one-page scan, commit, validate) are asserted in tests/dynamodb/test_engine.py and
the session read in tests/contract/test_sessions.py; this test pins the end-to-end numbers: what one request costs.
"""

from __future__ import annotations

from bench.call_counts import MINIMUM, measure


def test_each_operation_makes_exactly_the_calls_the_design_allows() -> None:
    assert measure() == MINIMUM

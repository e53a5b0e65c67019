"""The request time budget: nesting only shortens it, threads carry it, Lambda contexts set it."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from authlib_core.database.deadline import (
    MAX_REQUEST_BUDGET_S,
    RESPONSE_RESERVE_S,
    budget_from_context,
    carry,
    remaining,
    request_budget,
)


class Context:
    def __init__(self, left_ms: object) -> None:
        self.left_ms = left_ms

    def get_remaining_time_in_millis(self) -> object:
        if isinstance(self.left_ms, Exception):
            raise self.left_ms
        return self.left_ms


def test_no_budget_outside_a_request() -> None:
    assert remaining() is None


def test_a_nested_budget_never_extends_the_outer_one() -> None:
    with request_budget(1.0):
        with request_budget(100.0):
            assert remaining() <= 1.0
        with request_budget(0.2):
            assert remaining() <= 0.2
        assert 0.2 < remaining() <= 1.0
    assert remaining() is None


def test_the_outer_budget_comes_back_when_a_block_raises() -> None:
    def fails_inside() -> None:
        with request_budget(0.1):
            assert remaining() <= 0.1
            raise ValueError("inside")

    with request_budget(1.0):
        with pytest.raises(ValueError, match="inside"):
            fails_inside()
        assert 0.1 < remaining() <= 1.0
    assert remaining() is None


def test_the_budget_starts_when_the_block_is_entered() -> None:
    budget = request_budget(0.05)
    time.sleep(0.08)  # made, not yet entered: nothing spent
    with budget:
        assert 0.0 < remaining() <= 0.05
    assert remaining() is None


def test_the_budget_runs_down_to_zero() -> None:
    with request_budget(0.05):
        time.sleep(0.08)
        assert remaining() == 0.0


def test_threads_see_the_budget_only_when_carried() -> None:
    with request_budget(5.0), ThreadPoolExecutor(1) as pool:
        assert pool.submit(remaining).result() is None  # a pool thread has no context of its own
        assert pool.submit(carry(remaining)).result() is not None


def test_budget_from_lambda_context() -> None:
    assert budget_from_context(Context(10_000)) == 10.0 - RESPONSE_RESERVE_S
    assert budget_from_context(Context(120_000)) == MAX_REQUEST_BUDGET_S
    assert budget_from_context(Context(200)) == 0.0
    assert budget_from_context(object()) == MAX_REQUEST_BUDGET_S  # not a Lambda context: the gateway's cap
    assert budget_from_context(Context(RuntimeError("broken"))) == MAX_REQUEST_BUDGET_S
    assert budget_from_context(Context(float("nan"))) == MAX_REQUEST_BUDGET_S

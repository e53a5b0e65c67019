"""The scheduler's DynamoDB figures (bench/scheduler_items.py) stay inside the bounds the design relies on."""

from __future__ import annotations

from authlib_core.database.engines.dynamodb.layout import MAX_TRANSACTION_ACTIONS
from bench.scheduler_items import SWEPT, measure


def test_the_retention_sweep_fits_its_transactions_and_costs_under_three_calls_per_job() -> None:
    figures = measure()
    print(figures)
    assert figures["sweep: jobs deleted"] == SWEPT + 2  # the canceled jobs, and the two jobs that ran
    batches = figures["sweep: items per delete batch"]
    assert len(batches) == -(-(SWEPT + 2) // 12)  # 12 jobs per transaction, none split
    assert max(batches) <= MAX_TRANSACTION_ACTIONS
    assert figures["sweep: DynamoDB calls per job deleted"] < 3
    assert "Scan" not in figures["sweep: calls by operation"]
    # scheduling stays possible in batches: a further job is 2-5 items of its mutation's commit (3 when its index
    # values already have counted entries, so no partition version is bumped: docs/dynamodb.md §3; 2 when, besides,
    # its by_creation_time entry falls in the partition the first job's already bumped: 1 time in 16)
    assert figures["most jobs in an otherwise empty mutation"] >= 19
    assert 2 <= figures["mutation scheduling 2 job(s)"] - figures["mutation scheduling 1 job(s)"] <= 5

"""DynamoDB actions per scheduler step, counted on in-process moto (deterministic): what docs/scheduler.md's "Cost
per job" table and its retention figures are computed from.

For each step, the ``TransactItems`` of every ``TransactWriteItems`` it makes (the commit marker included):
scheduling 1 and 2 jobs from a mutation that also inserts a document (against the same mutation scheduling none),
running a mutation job and an action job whose functions write nothing, the most jobs an otherwise empty mutation
can schedule, and one retention sweep of 96 canceled jobs (the items of each delete batch, and all DynamoDB calls
per job deleted).

Run: ``python -m bench.scheduler_items``. ``tests/bench/test_scheduler_items.py`` checks the bounds the design
relies on (a delete batch fits one ``TransactWriteItems``; ~2 calls per job deleted).
"""

from __future__ import annotations

import collections
import time
from typing import Any

from bench.common import moto

SWEPT = 96


def measure() -> dict[str, Any]:
    """The figures (see the module docstring), from a fresh in-process moto table."""
    from authlib_core import action, internal_mutation
    from authlib_core.auth.identity import NoAuth
    from authlib_core.database import Database
    from authlib_core.database.engines.dynamodb import DynamoDBEngine, create_client, create_tables
    from authlib_core.database.jobs import create_job
    from authlib_core.errors import LimitExceededError
    from authlib_core.functions import Executor, RegisteredFunction, Registry
    from authlib_core.scheduler.retention import delete_expired_jobs
    from authlib_core.scheduler.runner import JobRunner

    @internal_mutation
    def noop(ctx: Any) -> None:
        return None

    @action
    def noact(ctx: Any) -> None:
        return None

    registry = Registry([RegisteredFunction("bench:noop", noop), RegisteredFunction("bench:noact", noact)])
    with moto():
        client = create_client(region="us-east-1")
        create_tables(client, {"documents": "bench-scheduler"})
        sizes: list[int] = []
        calls: collections.Counter[str] = collections.Counter()
        send = client.transact_write_items

        def counting(**request: Any) -> Any:
            sizes.append(len(request["TransactItems"]))
            return send(**request)

        client.transact_write_items = counting
        client.meta.events.register("before-call.dynamodb", lambda event_name, **_: calls.update([event_name]))
        database = Database(DynamoDBEngine(client, "bench-scheduler"), None, cursor_secret=b"bench-scheduler-items")
        database.ensure_indexes()
        executor = Executor(registry, database)

        def schedule(count: int, function: Any, *, insert: bool = True) -> list[str]:
            def write(writer: Any) -> list[str]:
                if insert:
                    writer.insert("notes", {"text": "x"})
                ctx = executor._mutation_ctx(writer, NoAuth())
                return [ctx.scheduler.run_after(0, function, {}) for _ in range(count)]

            sizes.clear()
            ids = database.run_mutation(write)
            return ids

        figures: dict[str, Any] = {}
        for count in (0, 1, 2):
            job_ids = schedule(count, noop)
            figures[f"mutation scheduling {count} job(s)"] = sizes[-1]
        sizes.clear()
        JobRunner(executor).run(job_ids[0])
        figures["run a mutation job"] = list(sizes)
        action_id = schedule(1, noact)[0]
        sizes.clear()
        JobRunner(executor).run(action_id)
        figures["run an action job (claim, record)"] = list(sizes)
        most = 0
        for count in range(18, 60):
            try:
                schedule(count, noop, insert=False)
            except LimitExceededError:
                break
            most = count
        figures["most jobs in an otherwise empty mutation"] = most
        for start in range(0, SWEPT, 12):

            def cancel(writer: Any, start: int = start) -> None:
                now = database.now_ms()
                for offset in range(12):  # distinct completion times: the most versions a delete bumps
                    create_job(writer, "bench:noop", {}, scheduled_time=now, canceled_at=now + start + offset)

            database.run_mutation(cancel)
        database._clock = lambda: time.time() + 8 * 86_400  # a week and a day later
        sizes.clear()
        calls.clear()
        result = delete_expired_jobs(database, retention_s=7 * 86_400, time_budget_s=600.0)
        figures["sweep: jobs deleted"] = result.deleted
        figures["sweep: items per delete batch"] = list(sizes)
        figures["sweep: DynamoDB calls per job deleted"] = round(sum(calls.values()) / max(1, result.deleted), 2)
        figures["sweep: calls by operation"] = {name.rsplit(".", 1)[1]: n for name, n in sorted(calls.items())}
        database.close()
    return figures


def main() -> None:
    for name, value in measure().items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()

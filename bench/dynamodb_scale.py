"""DynamoDB at scale, on the model (:mod:`bench.dynamosim`): three workloads at N = 1, 8, 64, 256 instances.

For each workload and N: committed mutations per second of virtual time, retries (conflicts) per commit, p50/p99
latency of a committed mutation (its retries included), failed calls (the 503s: throttled transactions and
exhausted retries), throttled requests, ``TransactionConflict`` cancellations, the busiest partition in any one
second (share of its cap) and the item that cancelled most transactions. Each row's ``ratio`` is the rate at N
divided by N times the rate at N = 1 (1.00 = linear scaling).

Run: ``python -m bench --only dynamodb-scale`` (the whole table, about 20 s) or ``--quick`` (N = 1, 8).

What-ifs (``python -m bench.dynamodb_scale --user-shards 4096 --creation-time-shards 4096 --instances 1,256``):
the same workloads with ``notes`` indexes spread over more shards than a schema may declare (1-64), as a stand-in
for finer-grained range versions (docs/performance.md, "DynamoDB at scale").
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from bench.common import Row
from bench.dynamosim.workloads import WORKLOADS, Result, run_workload

SECTION = "8 dynamodb-scale (model)"
SEED = 1
#: Virtual seconds each run lasts (every instance runs mutations back to back for this long).
DURATION_S = 1.0
QUICK_DURATION_S = 0.2
#: Goals (issue 14): independent users at N = 256 reach 0.8 x linear; the shared feed 2,000 inserts/s.
LINEAR_GOAL = 0.8
FEED_GOAL = 2000.0
#: The same runs with index layout 1 (entries with document copies, one version per index shard, every write
#: bumping them), as recorded in docs/performance.md before layout 2: (commits/s, retries per commit) by
#: (workload, N). Printed beside today's figures; the layout-1 code itself is gone (git history: 0bc2499).
LAYOUT_1: dict[tuple[str, int], tuple[float, float]] = {
    ("independent users", 1): (51.0, 0.0),
    ("independent users", 8): (51.0, 2.31),
    ("independent users", 64): (50.0, 9.24),
    ("independent users", 256): (49.0, 24.41),
    ("shared feed", 1): (38.0, 0.0),
    ("shared feed", 8): (44.0, 3.16),
    ("shared feed", 64): (64.0, 12.56),
    ("shared feed", 256): (80.0, 31.38),
    ("hot counter", 1): (68.0, 0.0),
    ("hot counter", 8): (64.0, 1.72),
    ("hot counter", 64): (63.0, 6.46),
    ("hot counter", 256): (62.0, 15.56),
}

#: The same runs with layout 2 before value versions counted their entries (every insert bumped a partition
#: version of every index of its table), seed 1, 1 s, as measured at commit ac85faa.
UNCOUNTED: dict[tuple[str, int], tuple[float, float]] = {
    ("independent users", 1): (37.0, 0.0),
    ("independent users", 8): (285.0, 0.0),
    ("independent users", 64): (1677.0, 0.11),
    ("independent users", 256): (1881.0, 0.4),
    ("shared feed", 1): (25.0, 0.0),
    ("shared feed", 8): (33.0, 1.58),
    ("shared feed", 64): (210.0, 1.22),
    ("shared feed", 256): (780.0, 1.03),
    ("hot counter", 1): (70.0, 0.0),
    ("hot counter", 8): (70.0, 1.39),
    ("hot counter", 64): (64.0, 4.94),
    ("hot counter", 256): (69.0, 10.13),
}


def describe(result: Result) -> dict[str, Any]:
    """One line of the detailed table."""
    before = LAYOUT_1.get((result.workload, result.instances))
    uncounted = UNCOUNTED.get((result.workload, result.instances))
    return {
        "workload": result.workload,
        "N": result.instances,
        "layout 1 commits/s": "-" if before is None else before[0],
        "uncounted commits/s": "-" if uncounted is None else uncounted[0],
        "commits/s": round(result.commits_per_s, 1),
        "layout 1 retries/commit": "-" if before is None else before[1],
        "uncounted retries/commit": "-" if uncounted is None else uncounted[1],
        "retries/commit": round(result.retries_per_commit, 2),
        "p50 ms": round(result.percentile_ms(50), 1),
        "p99 ms": round(result.percentile_ms(99), 1),
        "failed": result.failures,
        "throttled": result.throttles,
        "tx conflicts": result.transaction_conflicts,
        "busiest partition (peak % of cap)": (
            f"{result.busiest_partition} {result.busiest_share_pct:.0f}% {result.busiest_kind}"
        ),
        "most conflicting item": result.busiest_conflict_item,
        "calls": result.calls,
        "queries": result.queries,
    }


def format_table(lines: list[dict[str, Any]]) -> str:
    """The detailed table as Markdown (also what ``python -m bench`` prints for this section)."""
    columns = [key for key in lines[0] if key != "calls"] if lines else []
    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    out += ["| " + " | ".join(str(line[c]) for c in columns) + " |" for line in lines]
    return "\n".join(out)


def run(quick: bool = False) -> tuple[list[Row], dict[str, Any]]:
    sizes = (1, 8) if quick else (1, 8, 64, 256)
    duration = QUICK_DURATION_S if quick else DURATION_S
    rows: list[Row] = []
    lines: list[dict[str, Any]] = []
    for workload in WORKLOADS:
        single: float | None = None
        for n in sizes:
            result = run_workload(workload, instances=n, duration_s=duration, seed=SEED)
            if n == 1:
                single = result.commits_per_s
            line = describe(result)
            lines.append(line)
            target, kind, value = "", "", None
            if workload == "independent users" and n == max(sizes):
                target, kind, value = f">= {LINEAR_GOAL:.1f}x linear", "min", LINEAR_GOAL
            elif workload == "shared feed" and n == max(sizes):
                target, kind = f">= {FEED_GOAL:.0f}/s", ""
            rows.append(
                Row(
                    SECTION,
                    f"{workload}, N={n}",
                    "commits/s",
                    result.commits_per_s,
                    baseline=(single or 0.0) * n,
                    target=target,
                    target_kind=kind,
                    target_value=value,
                    note=(
                        f"layout 1: {line['layout 1 commits/s']}/s, {line['layout 1 retries/commit']} retries/commit; "
                        f"uncounted: {line['uncounted commits/s']}/s, "
                        f"{line['uncounted retries/commit']} retries/commit; "
                        f"{line['retries/commit']} retries/commit, p50 {line['p50 ms']} ms, p99 {line['p99 ms']} ms, "
                        f"{line['failed']} failed, {line['throttled']} throttled, busiest "
                        f"{line['busiest partition (peak % of cap)']}"
                    ),
                )
            )
    return rows, {"duration_s": duration, "seed": SEED, "table": lines}


def what_if_schema(user_shards: int, creation_time_shards: int) -> Any:
    """The benchmark schema with ``notes`` spread over the given shard counts (no 1-64 check: a what-if only)."""
    from authlib_core import define_schema
    from authlib_core.schema import IndexDefinition
    from bench.app.schema import schema

    tables = dict(schema.tables)
    notes = tables["notes"]
    by_user = IndexDefinition("by_user", ("userId",), user_shards)
    tables["notes"] = dataclasses.replace(notes, indexes=(by_user,), creation_time_shards=creation_time_shards)
    return define_schema(tables)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dynamodb_scale", description=__doc__)
    parser.add_argument("--workload", choices=WORKLOADS, default="independent users")
    parser.add_argument("--instances", default="1,8,64,256", help="comma-separated N")
    parser.add_argument("--user-shards", type=int, default=1)
    parser.add_argument("--creation-time-shards", type=int, default=1)
    parser.add_argument("--duration", type=float, default=DURATION_S, help="virtual seconds per run")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    schema = what_if_schema(args.user_shards, args.creation_time_shards)
    lines = [
        describe(run_workload(args.workload, instances=int(n), duration_s=args.duration, seed=args.seed, schema=schema))
        for n in args.instances.split(",")
    ]
    shards = f"notes.by_user shards={args.user_shards}, by_creation_time shards={args.creation_time_shards}"
    print(f"{shards} (partitions: at least 16 each):")
    print(format_table(lines))


if __name__ == "__main__":
    main()

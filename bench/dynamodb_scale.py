"""DynamoDB at scale, on the model (:mod:`bench.dynamosim`): three workloads at N = 1, 8, 64, 256 instances.

For each workload and N: committed mutations per second of virtual time, retries (conflicts) per commit, p50/p99
latency of a committed mutation (its retries included), failed calls (the 503s: throttled transactions and
exhausted retries), throttled requests, ``TransactionConflict`` cancellations, the busiest partition in any one
second (share of its cap) and the item that cancelled most transactions. Each row's ``ratio`` is the rate at N
divided by N times the rate at N = 1 (1.00 = linear scaling).

Run: ``python -m bench --only dynamodb-scale`` (the whole table, about a minute) or ``--quick`` (N = 1, 8).
"""

from __future__ import annotations

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


def describe(result: Result) -> dict[str, Any]:
    """One line of the detailed table."""
    return {
        "workload": result.workload,
        "N": result.instances,
        "commits/s": round(result.commits_per_s, 1),
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
                        f"{line['retries/commit']} retries/commit, p50 {line['p50 ms']} ms, p99 {line['p99 ms']} ms, "
                        f"{line['failed']} failed, {line['throttled']} throttled, busiest "
                        f"{line['busiest partition (peak % of cap)']}"
                    ),
                )
            )
    return rows, {"duration_s": duration, "seed": SEED, "table": lines}

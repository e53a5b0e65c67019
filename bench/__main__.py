"""``python -m bench``: every benchmark, one table, one JSON file under bench/results/.

Usage (from the repository root, project venv active or ``PYTHONPATH=.``)::

    python -m bench                 # everything (about 3 minutes on 2 cores)
    python -m bench --quick         # smallest sizes, for a smoke run (what tests/bench runs)
    python -m bench --only warm,throughput
    python -m bench --compare docs/performance-reference.json   # adds the reference run's ratios

Sections: cold (1), warm (2), counts (3), throughput (4), scaling (5), contention (6), memory (7),
dynamodb-scale (8: the DynamoDB concurrency model, virtual time), live (9), latency (10: round trips on AWS,
modelled with a fixed latency per DynamoDB call).
Timing never fails: the exit status is 0 unless a benchmark itself broke (a wrong answer, a crash).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench.common import ROOT, Row, fmt

SECTIONS = {
    "cold": "bench.cold_start",
    "warm": "bench.warm",
    "counts": "bench.call_counts",
    "throughput": "bench.throughput",
    "scaling": "bench.scaling",
    "contention": "bench.contention",
    "memory": "bench.memory",
    "dynamodb-scale": "bench.dynamodb_scale",
    "live": "bench.live",
    "latency": "bench.latency",
}


def run_section(name: str, quick: bool) -> tuple[list[Row], dict[str, Any], float]:
    module = importlib.import_module(SECTIONS[name])
    started = time.perf_counter()
    rows, extra = module.run(quick=quick)
    return rows, extra, time.perf_counter() - started


def table(rows: list[Row], reference: dict[str, Any] | None = None) -> str:
    ref = {r["figure"]: r for r in (reference or {}).get("rows", [])}
    header = ["figure", "unit", "ours (min-max)", "baseline (min-max)", "ratio", "target", "met"]
    if ref:
        header.append("ref ratio")
    lines = []
    section = None
    for row in rows:
        if row.section != section:
            section = row.section
            lines.append([f"[{section}]"] + [""] * (len(header) - 1))
        met = {True: "yes", False: "NO", None: ""}[row.met]
        line = [
            row.figure,
            row.unit,
            fmt(row.ours, row.ours_spread),
            fmt(row.baseline, row.baseline_spread),
            f"{row.ratio:.2f}x" if row.ratio is not None else "-",
            row.target,
            met,
        ]
        if ref:
            old = ref.get(row.figure, {}).get("ratio")
            line.append(f"{old:.2f}x" if isinstance(old, float) else "-")
        lines.append(line)
    widths = [max(len(str(x[i])) for x in [header, *lines]) for i in range(len(header))]
    out = []
    for i, line in enumerate([header, *lines]):
        out.append(
            "  ".join(
                str(c).ljust(w) if j == 0 else str(c).rjust(w)
                for j, (c, w) in enumerate(zip(line, widths, strict=True))
            )
        )
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    notes = [f"  {row.figure}: {row.note}" for row in rows if row.note]
    if notes:
        out += ["", "notes:", *notes]
    return "\n".join(out)


def markdown(rows: list[Row]) -> str:
    lines = [
        "| figure | ours (min-max) | baseline (min-max) | ratio | target | met | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        met = {True: "yes", False: "**no**", None: ""}[row.met]
        ratio = f"{row.ratio:.2f}x" if row.ratio is not None else "-"
        lines.append(
            f"| {row.section}: {row.figure} ({row.unit}) | {fmt(row.ours, row.ours_spread)} | "
            f"{fmt(row.baseline, row.baseline_spread)} | {ratio} | {row.target} | {met} | {row.note} |"
        )
    return "\n".join(lines)


def _commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False)
    return out.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Run the benchmarks; print one table.")
    parser.add_argument("--quick", action="store_true", help="smallest sizes (smoke run, a few seconds each)")
    parser.add_argument("--only", default="", help=f"comma-separated sections: {','.join(SECTIONS)}")
    parser.add_argument("--compare", type=Path, help="a reference JSON (e.g. docs/performance-reference.json)")
    parser.add_argument("--output", type=Path, help="where to write the JSON (default: bench/results/<time>.json)")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    args = parser.parse_args(argv)
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(SECTIONS)
    unknown = set(names) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    rows: list[Row] = []
    details: dict[str, Any] = {}
    failed: list[str] = []
    for name in names:
        print(f"== {name} ...", file=sys.stderr, flush=True)
        try:
            section_rows, extra, seconds = run_section(name, args.quick)
        except Exception:
            failed.append(name)
            traceback.print_exc()
            continue
        print(f"   {name}: {seconds:.1f} s", file=sys.stderr, flush=True)
        rows.extend(section_rows)
        details[name] = {"seconds": seconds, **({"detail": extra} if extra else {})}
    total = time.perf_counter() - started
    reference = json.loads(args.compare.read_text()) if args.compare else None
    print()
    print(table(rows, reference))
    if args.markdown:
        print()
        print(markdown(rows))
    _print_details(details)
    result = {
        "commit": _commit(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "quick": args.quick,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "arch": platform.machine()},
        "total_seconds": total,
        "failed_sections": failed,
        "rows": [r.as_json() for r in rows],
        "details": details,
    }
    path = args.output or ROOT / "bench" / "results" / f"bench-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    print(f"\ntotal {total:.0f} s; wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 1 if failed else 0


def _print_details(details: dict[str, Any]) -> None:
    scale = details.get("dynamodb-scale", {}).get("detail")
    if scale:
        from bench.dynamodb_scale import format_table

        print(f"\n[8] DynamoDB model, {scale['duration_s']} s of virtual time per run, seed {scale['seed']}:")
        print(format_table(scale["table"]))
    cold = details.get("cold", {}).get("detail")
    if cold:
        print(f"\n[1] cold start source: {cold['source']}; -X importtime top cumulative (us) of the handler import:")
        for item in cold["importtime_top_cumulative_us"][:10]:
            print(f"  {item['cumulative_us']:>8}  {item['module']}")
    warm = details.get("warm", {}).get("detail")
    if warm:
        prof = warm["profile_ours"]
        print(f"\n[2] our handler, own time by package (%): {prof['own_time_by_package_pct']}")
        print(f"    baseline, own time by package (%): {warm['profile_baseline']['own_time_by_package_pct']}")
        print("    our handler, top functions by own time (cProfile, us per call):")
        for entry in prof["top_own_time"][:12]:
            print(f"  {entry['own_us_per_call']:>8.1f}  {entry['function']}")


if __name__ == "__main__":
    sys.exit(main())

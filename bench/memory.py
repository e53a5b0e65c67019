"""Memory: peak RSS of a handler process after 10 vs 10,000 invocations (a leak shows as growth).

Each side runs in its own fresh process (``python -m bench.memory child ours|baseline N``): the warm-bench setup
(bench/warm.py: our handler on DynamoDB with botocore ``Stubber`` answers, or the bare Powertools route), then
invocations of the authenticated query; the peak RSS (``VmHWM``) is read after 10 invocations and after N.
Responses are queued one invocation at a time, so the Stubber's queue never grows.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from typing import Any

from bench.common import ROOT, Row

SECTION = "7 memory"


def child(mode: str, total: int) -> dict[str, float]:
    from bench.warm import setup

    stubbed, fn = setup()[mode]
    marks: dict[str, float] = {}
    for i in range(1, total + 1):
        stubbed.queue(1)
        fn()
        if i in (10, total):
            gc.collect()
            marks[str(i)] = _status_mib("VmHWM")
            marks[f"current_{i}"] = _status_mib("VmRSS")
    return marks


def _status_mib(field: str) -> float:
    """``VmHWM`` (peak RSS) or ``VmRSS`` (RSS now) of this process, in MiB.

    Not ``getrusage().ru_maxrss``: Linux carries it across ``execve``, so a child started by a big parent reports
    the parent's peak. The current RSS is reported too, because a setup-time peak could hide later growth.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def run(quick: bool = False) -> tuple[list[Row], dict[str, Any]]:
    total = 300 if quick else 10_000
    results = {}
    for mode in ("ours", "baseline"):
        out = subprocess.run(
            [sys.executable, "-m", "bench.memory", "child", mode, str(total)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"memory child ({mode}) failed:\n{out.stderr[-3000:]}")
        results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    ours, base = results["ours"], results["baseline"]
    growth = ours[str(total)] / ours["10"]
    base_growth = base[str(total)] / base["10"]
    rows = [
        Row(
            SECTION,
            f"peak RSS after {total:,} / after 10 invocations",
            "x",
            growth,
            base_growth,
            target="ours <= 1.05",
            target_kind="abs_max",
            target_value=1.05,
            note=f"ours {ours['10']:.1f} -> {ours[str(total)]:.1f} MiB; "
            f"baseline {base['10']:.1f} -> {base[str(total)]:.1f} MiB; current RSS ours "
            f"{ours['current_10']:.1f} -> {ours[f'current_{total}']:.1f} MiB",
        )
    ]
    return rows, {"invocations": total, "peak_rss_mib": results}


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        print(json.dumps(child(sys.argv[2], int(sys.argv[3]))))
    else:
        rows, extra = run(quick="--quick" in sys.argv)
        print(rows[0].figure, rows[0].ours, rows[0].baseline, rows[0].note)

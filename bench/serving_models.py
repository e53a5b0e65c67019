"""The baseline's own work served three ways: how much of figure 4 is the threads handing the GIL to each other.

The same ``myData:getMyData`` work as ``bench/baseline_server.py`` (its :func:`~bench.baseline_server.answer`),
served by
- ``threaded``: the baseline as figure 4 runs it, ``ThreadingHTTPServer``, one thread per connection;
- ``locked``: the same server with one lock held around each request's handling, as the dev server's baton does
  (``authlib_core/dev/baton.py``);
- ``asyncio``: one event-loop thread (minimal head parsing; a measurement of the serving model only).
Each at 1, 8 and 32 connections with ``wrk``, the modes alternated, printing requests/s and the server's CPU per
request. Not part of ``python -m bench``: it explains figure 4 (docs/performance.md, "Sixth pass").

Run: ``PYTHONPATH=. python -m bench.serving_models [seconds per run, default 3] [runs, default 2]`` (needs ``wrk``)
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

from bench.throughput import PIDS, baseline_server, check, cpu_seconds, dev_server, notes_range, seed, wrk

MODES = ("threaded", "locked", "asyncio")
LEVELS = (1, 8, 32)


@contextlib.contextmanager
def servers(tmp_path: Path) -> Iterator[tuple[dict[str, str], str]]:
    """``({mode: url}, cookie)``: the three baseline servers over data and a session the dev server wrote, each
    checked to answer exactly as the dev server does."""
    db = tmp_path / "dev.sqlite3"
    with dev_server(db, tmp_path / "dev.log") as ours, contextlib.ExitStack() as stack:
        cookie = seed(ours)
        value = check(ours, cookie)
        urls = {mode: stack.enter_context(baseline_server(db, *notes_range(db), mode)) for mode in MODES}
        for mode, url in urls.items():
            if check(url, cookie) != value:
                raise RuntimeError(f"the {mode} baseline answered differently from the dev server")
        yield urls, cookie


def main(seconds: float = 3.0, runs: int = 2) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("bench.serving_models needs wrk (apt-get install -y wrk)")
    with tempfile.TemporaryDirectory() as tmp, servers(Path(tmp)) as (urls, cookie):
        print(f"{'connections':>11}  {'served by':<9}  {'req/s':>7}  {'CPU us/request':>14}")
        for connections in LEVELS:
            for _ in range(runs):
                for mode, url in urls.items():
                    cpu = cpu_seconds(PIDS[url])
                    result = wrk(url, cookie, connections, seconds, Path(tmp))
                    per_request = (cpu_seconds(PIDS[url]) - cpu) / result["requests"] * 1e6
                    print(f"{connections:>11}  {mode:<9}  {result['rps']:>7.0f}  {per_request:>14.0f}", flush=True)


if __name__ == "__main__":
    main(*(float(a) for a in sys.argv[1:2]), *(int(a) for a in sys.argv[2:3]))

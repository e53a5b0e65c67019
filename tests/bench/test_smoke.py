"""The benchmarks still run: every section of ``python -m bench`` in its smallest ("quick") mode.

Timing is never asserted here (docs/performance.md); only that each benchmark runs and its own checks pass
(right answers, no lost updates, no failed requests).
"""

from __future__ import annotations

import importlib

import pytest

from bench.__main__ import SECTIONS


@pytest.mark.parametrize("section", list(SECTIONS))
def test_section_runs_in_quick_mode(section: str) -> None:
    module = importlib.import_module(SECTIONS[section])
    rows, _ = module.run(quick=True)
    assert rows
    for row in rows:
        assert row.ours is not None, row

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


def test_the_serving_models_answer_as_the_dev_server_does(tmp_path) -> None:
    """bench/serving_models.py measures the baseline's work served three ways; each must do the same work."""
    from bench.serving_models import MODES, servers

    with servers(tmp_path) as (urls, _cookie):  # raises when one answers differently
        assert sorted(urls) == sorted(MODES)

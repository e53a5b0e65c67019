"""What the dev server prints on the developer's terminal: request text never carries terminal commands."""

from __future__ import annotations

import re

import pytest

from tests.http.test_dev_server import _dev_server, functions_dir, query, write  # noqa: F401 (fixture)

PLANS = """
from authlib_core import query
from authlib_core.values import v

@query(args={"plan": v.string()})
def choose(ctx, plan):
    raise ValueError(f"unknown plan {plan}")
"""

#: Retitles the window, rings the bell and clears the screen when printed raw.
HOSTILE = "x\u001b]0;pwned\u0007\u001b[2J"
#: What a terminal acts on: C0 controls but newline and tab, DEL, C1.
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@pytest.fixture
def exposing(functions_dir, tmp_path):  # noqa: F811 (the fixture imported above)
    """A dev server that prints the tracebacks of user functions (``expose_errors``, as ``authlib-core dev``)."""
    write(functions_dir, "plans.py", PLANS)
    yield from _dev_server(functions_dir, tmp_path, expose_errors=True)


def test_a_traceback_holding_an_argument_prints_its_control_characters_as_escapes(exposing):
    status, body = query(exposing, "plans:choose", {"plan": HOSTILE})
    assert (status, body["status"]) == (200, "error")
    out = exposing.out.getvalue()
    assert "POST /api/query plans:choose 200 server_error" in out
    assert "Traceback (most recent call last):\n" in out  # still a readable, multi-line traceback
    assert "ValueError: unknown plan x\\x1b]0;pwned\\x07\\x1b[2J" in out
    assert CONTROLS.search(out) is None, out

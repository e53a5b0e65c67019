"""The published ``convex`` client (``ConvexClient`` over ``ws``) against the real live-query handlers on moto, through
a local stand-in of CloudFront + API Gateway + the stream trigger (tests/support/aws_front.py).

The same script as the dev server's test (tests/clients/convex-live.mjs): another client's mutation arrives,
read-your-writes, unsubscribing, a query error with ``ConvexError`` data, ``clearAuth``/``setAuth``, and a signed-out
session, which on AWS learns that its session ended on the next change to what it watches.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.sam.test_live_aws import live  # the handlers on moto under their roles
from tests.support.aws_front import serve_front
from tests.support.node_clients import ensure_node_modules, run_node

if TYPE_CHECKING:
    from tests.sam.live_stack import LiveStack

pytestmark = [pytest.mark.sam, pytest.mark.node]

__all__ = ["live"]  # the fixture


def test_convex_client_live_queries_through_the_aws_handlers(live: LiveStack, monkeypatch: pytest.MonkeyPatch) -> None:
    ensure_node_modules()
    with serve_front(live) as (url, front):
        # the front's own origin is the page's (the script sends it on sign-up, as a browser would)
        live.http.overrides["AUTHLIB_TRUSTED_ORIGINS"] = url
        proc = run_node("convex-live.mjs", {"APP_URL": url, "PHASE": "live", "TRIGGER": "same-user"})
        assert proc.returncode == 0, proc.stderr + proc.stdout + "\n".join(front.errors)
    assert front.errors == []
    result: dict[str, Any] = json.loads(
        next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))[7:]
    )
    assert result["seenByOther"] == ["from b"]
    assert result["ownWriteVisibleOnResolve"] == ["from b", "from a"]
    assert result["mutationError"] == {"data": {"code": "UNAUTHENTICATED"}}
    assert result["queryError"] == {"message": True, "data": "Not authenticated"}
    assert result["unsubscribedStaysQuiet"] is True
    assert result["afterClearAuth"] == "Not authenticated"
    assert result["authAgain"] is True
    assert result["signOutStatus"] == 200
    assert result["afterSignOut"] == "Not authenticated"
    assert live.fanout_results, "the stream reached the fan-out function"

"""The published ``convex`` client (``ConvexClient`` over ``ws``) against the real live-query handlers on moto, through
a local stand-in of CloudFront + API Gateway + the stream trigger (tests/support/aws_front.py).

The same script as the dev server's test (tests/clients/convex-live.mjs): another client's mutation arrives,
read-your-writes, unsubscribing, a query error with ``ConvexError`` data, ``clearAuth``/``setAuth``, and a signed-out
session, which on AWS learns that its session ended on the next change to what it watches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.sam.test_live_aws import live  # the handlers on moto under their roles
from tests.support.aws_front import serve_front
from tests.support.convex_live import LIVE_PHASE, run_live_phase
from tests.support.node_clients import ensure_node_modules

if TYPE_CHECKING:
    from tests.sam.live_stack import LiveStack

pytestmark = [pytest.mark.sam, pytest.mark.node]

__all__ = ["live"]  # the fixture


def test_convex_client_live_queries_through_the_aws_handlers(live: LiveStack) -> None:
    ensure_node_modules()
    with serve_front(live) as (url, front):
        # the front's own origin is the page's (the script sends it on sign-up, as a browser would)
        live.http.overrides["AUTHLIB_TRUSTED_ORIGINS"] = url
        # TRIGGER=same-user: on AWS a signed-out client learns it on the next change to what it watches
        result = run_live_phase(url, lambda: "\n".join(front.errors), {"TRIGGER": "same-user"})
    assert front.errors == []
    assert {key: result[key] for key in LIVE_PHASE} == LIVE_PHASE
    assert live.fanout_results, "the stream reached the fan-out function"

"""tests/clients/convex-live.mjs, the published ``convex`` client's live-query script, against any front.

The same script runs against the dev server (tests/http/test_live_node_client.py) and against the AWS handlers behind
their local front (tests/sam/test_live_front_node.py); what its ``live`` phase sees must not depend on the front, so
it is written once here: :data:`LIVE_PHASE`. Each test adds what only its front shows (the dev server's log lines,
the stream reaching the fan-out function).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

from tests.support.node_clients import run_node

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

#: What the ``live`` phase reports, whatever serves it: another client's mutation arrives, read-your-writes,
#: a mutation and a query error with ``ConvexError`` data, unsubscribing, ``clearAuth``/``setAuth``, signing out.
LIVE_PHASE: Final[Mapping[str, object]] = {
    "seenByOther": ["from b"],
    "ownWriteVisibleOnResolve": ["from b", "from a"],
    "mutationError": {"data": {"code": "UNAUTHENTICATED"}},
    "queryError": {"message": True, "data": "Not authenticated"},
    "unsubscribedStaysQuiet": True,
    "afterClearAuth": "Not authenticated",
    "authAgain": True,
    "signOutStatus": 200,
    "afterSignOut": "Not authenticated",
}


def script_result(stdout: str) -> dict[str, Any]:
    """The JSON of the script's ``RESULT <json>`` line."""
    line = next((line for line in stdout.splitlines() if line.startswith("RESULT ")), None)
    if line is None:
        raise AssertionError(f"the script printed no RESULT line:\n{stdout}")
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    return result


def run_live_phase(url: str, diagnostics: Callable[[], str], env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Run the script's ``live`` phase against ``url`` (with ``env`` added) and return its result; a failed run raises
    with the script's output and ``diagnostics()`` (the front's log or errors).

    Compare ``{key: result[key] for key in LIVE_PHASE}`` with :data:`LIVE_PHASE` in the test, where pytest shows the
    difference.
    """
    proc = run_node("convex-live.mjs", {"APP_URL": url, "PHASE": "live", **(env or {})})
    if proc.returncode != 0:
        output = proc.stderr + proc.stdout + diagnostics()
        raise AssertionError(f"convex-live.mjs exited with {proc.returncode}:\n{output}")
    return script_result(proc.stdout)

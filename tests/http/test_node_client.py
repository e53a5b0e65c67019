"""The published ``convex`` npm package's ConvexHttpClient against the real dev server (no code generation).

Two ``python -m authlib_core dev`` subprocesses: tests/http/apps/clientapp for value encoding and errors, and the
example app (``functions/``, with the auth tables) for ``setAuth(token)`` with a session token from the published
better-auth client, and for a ConvexHttpClient whose fetch carries that client's session cookie.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from tests.http.conftest import APPS
from tests.support.node_clients import EXAMPLE_FUNCTIONS, dev_server, ensure_node_modules, run_node

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.support.node_clients import RunningServer

pytestmark = pytest.mark.node


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[RunningServer, RunningServer]]:
    ensure_node_modules()
    with (
        dev_server(tmp_path / "values", APPS / "clientapp") as values,
        dev_server(tmp_path / "example", EXAMPLE_FUNCTIONS) as example,
    ):
        yield values, example


def test_convex_http_client(servers: tuple[RunningServer, RunningServer]) -> None:
    values, example = servers
    proc = run_node("convex-http.mjs", {"CONVEX_URL": values.url, "APP_URL": example.url})
    assert proc.returncode == 0, proc.stderr + proc.stdout + values.output() + example.output()
    result = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))[7:])
    assert result["echo"] == {"n": True, "neg": True, "bytes": True, "f": True, "nested": True}
    assert result["special"] == {"big": True, "bytes": True, "nested": {"list": [1, [2, {"x": None}]]}}
    assert result["added"] is True
    assert result["action"] == "pong"
    assert result["convexError"] == {"isConvexError": True, "code": "TOO_LONG", "max": True}
    assert result["argError"] == {"isConvexError": False, "mentionsField": True, "validation": True}
    assert result["notFound"] is True
    assert "POST /api/query values:echo 200 success" in values.output()

    not_authenticated = {"convexError": "Not authenticated"}
    assert result["anonymous"] == not_authenticated
    # setAuth(sign-up's token): the example app's functions see the user.
    assert result["signedIn"] == {"added": True, "notes": ["from node"], "ownNotes": True}
    # A ConvexHttpClient whose fetch is the better-auth client's cookie jar: the same user.
    assert result["cookie"] == {"notes": ["from node", "via cookie"], "sameUser": True}
    # clearAuth() → anonymous; setAuth again → the user again.
    assert result["afterClear"] == not_authenticated
    assert result["afterClearMutation"] == {"convexError": {"code": "UNAUTHENTICATED"}}
    assert result["authAgain"] == 2
    # Sign-out revokes the session: the same bearer client is now refused, the cookie client is anonymous.
    assert result["signOut"] == {"success": True}
    assert result["afterSignOut"] == not_authenticated
    assert result["cookieAfterSignOut"] == not_authenticated


def test_node_script_with_origin_header_and_bearer(tmp_path: Path) -> None:
    """docs/http.md "Node scripts and servers", run with the real packages; the ignored cookie is not silent."""
    ensure_node_modules()
    with dev_server(tmp_path / "script", EXAMPLE_FUNCTIONS) as example:
        proc = run_node("node-script.mjs", {"APP_URL": example.url})
        assert proc.returncode == 0, proc.stderr + proc.stdout + example.output()
    result = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))[7:])
    assert result["withoutOrigin"] == {"status": 403, "code": "MISSING_OR_NULL_ORIGIN"}
    assert result["signUp"] == {"ok": True, "hasToken": True}
    assert result["signIn"] == {"ok": True, "bearer": True}
    assert result["convex"] == {"added": True, "texts": ["from a script"]}
    ignored = result["cookieWithoutOrigin"]
    assert ignored["status"] == 200
    assert ignored["body"]["status"] == "error"
    assert ignored["body"]["errorMessage"].endswith("Uncaught ConvexError: Not authenticated")
    assert ignored["reason"] == (
        "session cookie ignored: a cookie-authenticated POST needs an Origin header naming this server or a trusted "
        "origin; send Origin, or authenticate with Authorization: Bearer <token>"
    )
    assert result["cookieWithOrigin"] == {"status": 200, "reason": None}

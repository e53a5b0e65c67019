"""The published ``better-auth`` npm client (``createAuthClient``) against the real dev server's ``/api/auth``.

``python -m authlib_core dev`` serves the example app (``functions/``, which spreads ``auth_tables``) on a free port
and a temporary SQLite file; tests/clients/better-auth-e2e.mjs drives the whole flow and checks what the client
reports: sign-up, sign-out, bad sign-in (401 INVALID_EMAIL_OR_PASSWORD), sign-in, get-session (Date objects, the
email), list-sessions, revoke-other-sessions, change-password, sign-out → getSession null.

Rate limits stay at their defaults (3 per 10 s per address and path). The script's second device sends its own
``X-Forwarded-For`` address, which the server honours with ``AUTHLIB_TRUST_FORWARDED_FOR=true`` (docs/auth.md), so
no address signs in more than twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.node_clients import EXAMPLE_FUNCTIONS, dev_server, ensure_node_modules, run_node

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.support.node_clients import RunningServer

pytestmark = pytest.mark.node


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    ensure_node_modules()
    with dev_server(tmp_path, EXAMPLE_FUNCTIONS, {"AUTHLIB_TRUST_FORWARDED_FOR": "true"}) as running:
        yield running


def test_better_auth_client(server: RunningServer) -> None:
    proc = run_node("better-auth-e2e.mjs", {"AUTH_BASE_URL": server.url})
    assert proc.returncode == 0, proc.stdout + proc.stderr + server.output()
    assert proc.stdout.strip().endswith("ALL OK")
    log = server.output()
    for line in (
        "POST /api/auth/sign-up/email 200",
        "POST /api/auth/sign-in/email 401",
        "GET /api/auth/list-sessions 200",
        "POST /api/auth/revoke-other-sessions 200",
        "POST /api/auth/change-password 200",
        "POST /api/auth/sign-out 200",
    ):
        assert line in log, log
    assert " 429 " not in log, log

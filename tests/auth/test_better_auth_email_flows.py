"""The published ``better-auth`` client drives the emailed-link flows against the real dev server.

``python -m authlib_core dev --mail-dir DIR`` writes every message as an ``.eml`` file into DIR (default
``.authlib/mail``); tests/clients/better-auth-email-flows.mjs reads the links from those files:
verification (send + verify, used-up link), password reset (same answer for an unknown address, the link's
redirect with the token, reset, sessions revoked, used-up token), change email (confirmed from the current
address) and account deletion by link (``AUTHLIB_DELETE_USER_VERIFICATION=on``: the link, the token, the callback).
"""

from __future__ import annotations

import email
import email.policy
from typing import TYPE_CHECKING

import pytest

from tests.support.node_clients import EXAMPLE_FUNCTIONS, dev_server, ensure_node_modules, run_node

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.node


def test_better_auth_client_email_flows(tmp_path: Path) -> None:
    ensure_node_modules()
    mail_dir = tmp_path / "inbox"
    env = {"AUTHLIB_TRUST_FORWARDED_FOR": "true", "AUTHLIB_DELETE_USER_VERIFICATION": "on"}
    with dev_server(tmp_path / "app", EXAMPLE_FUNCTIONS, env, args=["--mail-dir", str(mail_dir)]) as server:
        proc = run_node("better-auth-email-flows.mjs", {"AUTH_BASE_URL": server.url, "MAIL_DIR": str(mail_dir)})
        log = server.output()
    assert proc.returncode == 0, proc.stdout + proc.stderr + log
    assert proc.stdout.strip().endswith("ALL OK")
    assert not (tmp_path / "app" / ".authlib" / "mail").exists()  # --mail-dir replaced the default folder
    messages = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default) for path in sorted(mail_dir.iterdir())
    ]
    # The example app's welcome (a scheduled action after sign-up, functions/onboarding.py) comes beside the flows.
    subjects = [m["Subject"] for m in messages]
    # One per account signed up; an account deleted before its welcome job ran gets none (the job finds no user).
    welcomes = subjects.count("Welcome to myData")
    assert 1 <= welcomes <= 4, subjects
    assert [s for s in subjects if s != "Welcome to myData"] == [
        "Verify your email address",
        "Reset your password",
        "Confirm your new email address",
        "Verify your email address",  # the new address proves itself before the change
        *["Confirm deleting your account"] * 3,
    ]
    # one console line per message, with its link
    assert log.count('mail: "') == 7 + welcomes, log
    reset = next(m for m in messages if m["Subject"] == "Reset your password")
    assert f'mail: "Reset your password" to {reset["To"]}: {server.url}/api/auth/reset-password/' in log
    for line in (
        "POST /api/auth/send-verification-email 200",
        "GET /api/auth/verify-email 200",
        "GET /api/auth/verify-email 401",
        "POST /api/auth/request-password-reset 200",
        "POST /api/auth/reset-password 200",
        "POST /api/auth/reset-password 400",
        "POST /api/auth/change-email 200",
        "POST /api/auth/delete-user 200",
        "POST /api/auth/delete-user 404",
        "GET /api/auth/delete-user/callback 302",
        "GET /api/auth/delete-user/callback 404",
        "GET /api/auth/delete-user/callback 200",
    ):
        assert line in log, log

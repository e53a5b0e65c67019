"""The published ``better-auth`` client drives social sign-in against the real dev server and a fake provider.

tests/clients/better-auth-social.mjs: ``signIn.social`` with an OpenID Connect provider and with GitHub (both
served by tests/support/fake_oauth.py on 127.0.0.1), the redirect back to ``/callback/:provider``,
``listAccounts``, ``unlinkAccount``, ``linkSocial``, a replayed callback and another browser's state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.fake_oauth import CLIENT_SECRETS_ENV, FakeProvider, write_social_app
from tests.support.node_clients import dev_server, ensure_node_modules, run_node

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.node


def test_better_auth_client_social_sign_in(tmp_path: Path) -> None:
    ensure_node_modules()
    provider = FakeProvider()
    functions = write_social_app(tmp_path / "socialapp", provider.url)
    env = {"AUTHLIB_OAUTH_CLIENT_SECRETS": CLIENT_SECRETS_ENV, "AUTHLIB_JWT_ALLOW_LOOPBACK_HTTP": "true"}
    try:
        with dev_server(tmp_path / "app", functions, env) as server:
            provider.redirect_uris = {f"{server.url}/api/auth/callback/{name}" for name in ("fake", "github")}
            proc = run_node("better-auth-social.mjs", {"AUTH_BASE_URL": server.url, "PROVIDER_URL": provider.url})
            log = server.output()
    finally:
        provider.close()
    assert proc.returncode == 0, proc.stdout + proc.stderr + log
    assert proc.stdout.strip().endswith("ALL OK")
    assert f"social sign-in: fake, github; register {server.url}/api/auth/callback/<id> as the redirect URI" in log, log
    for line in (
        "POST /api/auth/sign-in/social 200",
        "GET /api/auth/callback/fake 302",
        "GET /api/auth/callback/github 302",
        "GET /api/auth/list-accounts 200",
        "POST /api/auth/link-social 200",
        "POST /api/auth/unlink-account 400",
    ):
        assert line in log, log
    # the code was exchanged once per sign-in, with the PKCE verifier (the fake refuses anything else)
    assert provider.requests.count(("POST", "/token")) == 1
    assert provider.requests.count(("POST", "/login/oauth/access_token")) == 2

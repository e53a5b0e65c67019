"""The sign-in providers of ``auth_config.py``'s ``social_providers``: checked when the app loads."""

from __future__ import annotations

import pytest

from authlib_core.auth import GitHubSignIn, OIDCSignIn
from authlib_core.auth.oauth_client import pkce_challenge
from authlib_core.auth.social_config import parse_social_providers


def test_scopes_start_with_the_providers_defaults():
    assert GitHubSignIn(client_id="c", scopes=["repo", "user:email"]).scopes_requested == (
        "read:user",
        "user:email",
        "repo",
    )
    oidc = OIDCSignIn(id="okta", issuer="https://example.okta.com/", client_id="c", scopes=["offline_access"])
    assert oidc.scopes_requested == ("openid", "email", "profile", "offline_access")
    assert (oidc.issuer, oidc.name) == ("https://example.okta.com", "okta")


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: OIDCSignIn(id="Okta", issuer="https://x.example", client_id="c"), "lower-case"),
        (lambda: OIDCSignIn(id="credential", issuer="https://x.example", client_id="c"), "taken"),
        (lambda: OIDCSignIn(id="x", issuer="https://x.example?a=1", client_id="c"), "without query"),
        (lambda: OIDCSignIn(id="x", issuer="ftp://x.example", client_id="c"), "https URL"),
        (lambda: OIDCSignIn(id="x", issuer="https://x.example", client_id=" c"), "client_id"),
        (lambda: GitHubSignIn(client_id="c", scopes="repo"), "list of OAuth scope"),
        (lambda: GitHubSignIn(client_id="c", scopes=["a b"]), "without spaces"),
        (lambda: GitHubSignIn(client_id="c", name="x\n"), "printable"),
    ],
)
def test_bad_configuration_is_refused_with_what_to_write(build, words):
    with pytest.raises(ValueError, match=words):
        build()


def test_parse_refuses_other_types_and_repeated_ids():
    with pytest.raises(ValueError, match="write a list"):
        parse_social_providers(GitHubSignIn(client_id="c"))
    with pytest.raises(ValueError, match=r"social_providers\[0\] is a dict"):
        parse_social_providers([{"id": "github"}])
    with pytest.raises(ValueError, match="used twice"):
        parse_social_providers([GitHubSignIn(client_id="a"), GitHubSignIn(client_id="b")])


def test_pkce_challenge_is_rfc_7636_s256():
    # RFC 7636, appendix B
    assert (
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_client_secrets_come_from_the_environment_and_stay_out_of_reprs():
    from authlib_core.config import Settings
    from authlib_core.errors import ConfigError

    settings = Settings.from_env({"AUTHLIB_OAUTH_CLIENT_SECRETS": " github = s3cr3t-gh , okta=s3cr3t-okta"})
    assert settings.oauth_client_secrets == (("github", "s3cr3t-gh"), ("okta", "s3cr3t-okta"))
    assert "s3cr3t" not in repr(settings)
    with pytest.raises(ConfigError, match="entry 2 is not 'provider-id=client-secret'") as info:
        Settings.from_env({"AUTHLIB_OAUTH_CLIENT_SECRETS": "github=s3cr3t-gh,okta"})
    assert "s3cr3t" not in str(info.value)


def test_openid_connect_sign_in_without_the_jwt_extra_fails_at_start_naming_it(monkeypatch):
    import sys

    from authlib_core.config import Settings
    from authlib_core.errors import ConfigError
    from authlib_core.functions import LoadedApp
    from authlib_core.functions.registry import Registry
    from authlib_core.runtime import build_social_providers

    app = LoadedApp(
        registry=Registry([]),
        schema=None,
        source_files=(),
        social_providers=(
            GitHubSignIn(client_id="c"),
            OIDCSignIn(id="okta", issuer="https://x.example", client_id="c"),
        ),
    )
    settings = Settings.from_env({})
    assert build_social_providers(settings, app).declared()  # joserfc installed: fine
    monkeypatch.setitem(sys.modules, "joserfc", None)  # as when the jwt extra is not installed
    with pytest.raises(ConfigError, match=r"OpenID Connect sign-in \(okta\).*authlib-core\[jwt\]"):
        build_social_providers(settings, app)
    github_only = LoadedApp(
        registry=Registry([]), schema=None, source_files=(), social_providers=(GitHubSignIn(client_id="c"),)
    )
    assert build_social_providers(settings, github_only).declared()  # GitHub needs no JWT verification

"""Origin (CSRF) rules of reference §4.1, settings validation, and the dev secret."""

from __future__ import annotations

import stat
from typing import TYPE_CHECKING

import pytest

from authlib_core.auth.dev_secret import load_or_create_dev_secret
from authlib_core.auth.origin import OriginPolicy, origin_of
from authlib_core.auth.redirects import redirect_target
from authlib_core.auth.transport import APIError, AuthHttpRequest
from authlib_core.config import AuthSettings, Settings
from authlib_core.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

BASE = "http://127.0.0.1:8787"


def req(method: str = "POST", **headers: str) -> AuthHttpRequest:
    return AuthHttpRequest(
        method, "/sign-out", base_url=BASE, headers={k.replace("_", "-"): v for k, v in headers.items()}
    )


def code(policy: OriginPolicy, request: AuthHttpRequest, *, login_form: bool = False) -> str | None:
    try:
        policy.check(request, login_form=login_form)
    except APIError as error:
        return f"{error.status} {error.code}".removeprefix("403 ")
    return None


policy = OriginPolicy(["https://app.example.com", "https://*.preview.example.com"])


@pytest.mark.parametrize(
    ("pattern", "url", "trusted"),
    [
        # a wildcard with a scheme: the whole origin
        ("https://*.preview.example.com", "https://pr-1.preview.example.com", True),
        ("https://*.preview.example.com", "http://pr-1.preview.example.com", False),
        ("https://*.preview.example.com", "https://preview.example.com.evil.example", False),
        ("https://*.preview.example.com", "https://evil.example/.preview.example.com", False),
        # without a scheme (Better Auth's host patterns): the host on either scheme
        ("*.example.com", "https://app.example.com", True),
        ("*.example.com", "http://app.example.com", True),
        ("*.example.com", "https://app.example.com.evil.example", False),
        ("*.example.com", "https://app.example.com:8443", False),
        ("*.example.com:8443", "https://app.example.com:8443", True),
        # "?" stands for one host character
        ("https://app?.example.org", "https://app1.example.org", True),
        ("https://app?.example.org", "https://app12.example.org", False),
        # a host pattern of digits, dots and wildcards admits only IPv4 addresses
        ("http://192.168.*.*:*", "http://192.168.1.5:3000", True),
        ("http://192.168.*.*:*", "http://192.168.attacker.example:3000", False),
        ("192.168.*", "http://192.168.0.9", True),
        ("192.168.*", "http://192.168.evil.example", False),
    ],
)
def test_trusted_origin_wildcards_match_as_better_auth(pattern: str, url: str, trusted: bool) -> None:
    assert OriginPolicy([pattern]).trusts(url) is trusted


def test_origin_of() -> None:
    assert origin_of("HTTPS://App.Example.com:443/x?y") == "https://app.example.com"
    assert origin_of("http://127.0.0.1:8787") == BASE
    assert origin_of("javascript:alert(1)") is None
    assert origin_of("null") is None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"cookie": "a=b", "origin": BASE}, None),
        ({"cookie": "a=b", "origin": "https://app.example.com"}, None),
        ({"cookie": "a=b", "origin": "https://pr-1.preview.example.com"}, None),
        ({"cookie": "a=b", "origin": "https://evil.example"}, "INVALID_ORIGIN"),
        ({"cookie": "a=b", "origin": "https://app.example.com.evil.example"}, "INVALID_ORIGIN"),
        ({"cookie": "a=b"}, "MISSING_OR_NULL_ORIGIN"),
        ({"cookie": "a=b", "origin": "null"}, "MISSING_OR_NULL_ORIGIN"),
        ({"cookie": "a=b", "origin": "null", "sec-fetch-site": "same-origin"}, None),
        ({"cookie": "a=b", "referer": f"{BASE}/page"}, None),
        ({"cookie": "a=b", "referer": "https://evil.example/page"}, "INVALID_ORIGIN"),
        ({}, None),  # no cookie: bearer or anonymous, not checked
        ({"origin": "https://evil.example"}, None),
    ],
)
def test_cookie_carrying_state_changes(headers: dict[str, str], expected: str | None) -> None:
    assert code(policy, AuthHttpRequest("POST", "/sign-out", base_url=BASE, headers=headers)) == expected


def test_safe_methods_are_not_checked() -> None:
    request = AuthHttpRequest(
        "GET", "/get-session", base_url=BASE, headers={"cookie": "a=b", "origin": "https://evil.example"}
    )
    assert code(policy, request) is None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),  # curl / server-to-server
        ({"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate"}, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED"),
        ({"sec-fetch-mode": "cors"}, "MISSING_OR_NULL_ORIGIN"),  # Node fetch without Origin
        ({"sec-fetch-mode": "cors", "origin": BASE}, None),
        ({"origin": "https://evil.example"}, "INVALID_ORIGIN"),
        ({"referer": f"{BASE}/login"}, None),
    ],
)
def test_login_form_csrf(headers: dict[str, str], expected: str | None) -> None:
    request = AuthHttpRequest("POST", "/sign-in/email", base_url=BASE, headers=headers)
    assert code(policy, request, login_form=True) == expected


def test_callback_urls() -> None:
    request = AuthHttpRequest("POST", "/sign-in/email", base_url=BASE)
    assert redirect_target("/dashboard", request, policy) == "/dashboard"
    assert redirect_target("https://app.example.com/x", request, policy) == "https://app.example.com/x"
    for foreign in ("//evil.example/x", "https://evil.example/x"):
        with pytest.raises(APIError) as refused:
            redirect_target(foreign, request, policy)
        assert (refused.value.status, refused.value.code) == (403, "INVALID_CALLBACK_URL")


def test_settings_from_env() -> None:
    settings = Settings.from_env(
        {
            "AUTHLIB_SECRETS": "a" * 32 + ",b" + "b" * 31,
            "AUTHLIB_SESSION_ABSOLUTE_LIFETIME": "86400",
            "AUTHLIB_TRUST_FORWARDED_FOR": "true",
        }
    )
    auth = settings.auth
    assert auth.secrets == ("a" * 32, "b" * 32)
    assert auth.absolute_lifetime == 86400
    assert auth.trust_forwarded_for
    assert (auth.expires_in, auth.update_age, auth.fresh_age) == (604800, 86400, 86400)


@pytest.mark.parametrize(
    "env",
    [
        {"AUTHLIB_SECRETS": "short"},
        {"AUTHLIB_SESSION_EXPIRES_IN": "soon"},
        {"AUTHLIB_SESSION_EXPIRES_IN": "-1"},
        {"AUTHLIB_TRUST_FORWARDED_FOR": "yes"},
        {"AUTHLIB_SESSION_ABSOLUTE_LIFETIME": "0"},
    ],
)
def test_bad_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        Settings.from_env(env)


def test_absolute_lifetime_may_be_below_a_day() -> None:
    auth = Settings.from_env({"AUTHLIB_SESSION_ABSOLUTE_LIFETIME": "60", "AUTHLIB_SESSION_EXPIRES_IN": "3"}).auth
    assert (auth.absolute_lifetime, auth.expires_in, auth.dont_remember_lifetime) == (60, 3, 86400)


def test_rate_limit_settings_from_env() -> None:
    assert Settings.from_env({}).rate_limit_enabled is None  # the platform decides: on for Lambda, off for dev
    assert Settings.from_env({}).auth.rate_limit_enabled is True
    settings = Settings.from_env(
        {
            "AUTHLIB_RATE_LIMIT": "off",
            "AUTHLIB_RATE_LIMIT_IP_MAX": "30",
            "AUTHLIB_RATE_LIMIT_IP_WINDOW": "60",
            "AUTHLIB_RATE_LIMIT_ACCOUNT_MAX": "7",
            "AUTHLIB_RATE_LIMIT_ACCOUNT_GLOBAL_MAX": "70",
            "AUTHLIB_RATE_LIMIT_ACCOUNT_WINDOW": "1800",
        }
    )
    auth = settings.auth
    assert auth.rate_limit_enabled is False
    assert (auth.ip_rate_limit, auth.ip_rate_window) == (30, 60)
    assert (auth.account_rate_limit, auth.account_global_limit, auth.account_rate_window) == (7, 70, 1800)
    assert Settings.from_env({"AUTHLIB_RATE_LIMIT": "ON"}).auth.rate_limit_enabled is True


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"AUTHLIB_RATE_LIMIT": "maybe"},
            "AUTHLIB_RATE_LIMIT is 'maybe'; set it to 'on' or 'off' (or leave it unset for the default).",
        ),
        (
            {"AUTHLIB_RATE_LIMIT_IP_MAX": "many"},
            "AUTHLIB_RATE_LIMIT_IP_MAX is 'many'; set it to a whole number of requests (at least 1).",
        ),
        ({"AUTHLIB_RATE_LIMIT_ACCOUNT_WINDOW": "0"}, "AUTHLIB_RATE_LIMIT_ACCOUNT_WINDOW is 0; it must be at least 1."),
        (
            {"AUTHLIB_RATE_LIMIT_ACCOUNT_GLOBAL_MAX": "1.5"},
            "AUTHLIB_RATE_LIMIT_ACCOUNT_GLOBAL_MAX is '1.5'; set it to a whole number of failures (at least 1).",
        ),
        (
            {"AUTHLIB_SESSION_ABSOLUTE_LIFETIME": "-5"},
            "AUTHLIB_SESSION_ABSOLUTE_LIFETIME is -5; it must be at least 1.",
        ),
    ],
)
def test_bad_rate_limit_settings_say_what_to_do(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(env)
    assert str(refused.value) == message


def test_weak_argon2_parameters_are_refused() -> None:
    with pytest.raises(ConfigError):
        AuthSettings(argon2_memory_kib=8192, argon2_time_cost=2)
    AuthSettings(argon2_memory_kib=47104, argon2_time_cost=1)


def test_dev_secret_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / ".authlib" / "secret"
    first = load_or_create_dev_secret(path)
    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_dev_secret(path) == first

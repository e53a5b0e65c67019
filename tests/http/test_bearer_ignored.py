"""A bearer session token or session cookie the call could not use answers anonymously (Better Auth's bearer plugin and
get-session: no session, not an error) and says why in ``X-Authlib-Auth-Ignored``: on the dev server and on Lambda."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

import pytest

from authlib_core.auth.service import BEARER_IGNORED_REASONS, COOKIE_IGNORED_REASONS
from authlib_core.http.identity import SESSION_COOKIE_NAMES
from tests.support.transports import DevTransport, LambdaTransport, Reply, dev_transport, example_settings, json_body

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

HEADER = "X-Authlib-Auth-Ignored"
PASSWORD = "bearer hint password 1"


@pytest.fixture(params=["lambda", "dev"])
def t(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DevTransport | LambdaTransport]:
    settings = example_settings(tmp_path, rate_limit_enabled=False)
    with dev_transport(settings) if request.param == "dev" else contextlib.nullcontext(_lambda(settings)) as built:
        yield built


def _lambda(settings: object) -> LambdaTransport:
    from tests.support.transports import lambda_transport

    return lambda_transport(settings)  # type: ignore[arg-type]


def _signed_up(t: DevTransport | LambdaTransport) -> Reply:
    headers, body = json_body({"name": "Ada", "email": "ada@example.com", "password": PASSWORD})
    reply = t.request("POST", "/api/auth/sign-up/email", headers=[*headers, ("Origin", t.origin)], body=body)
    assert reply.status == 200, reply.body
    return reply


def _sign_up(t: DevTransport | LambdaTransport) -> tuple[str, str]:
    """(the token of the body, the signed one of ``set-auth-token``): both are accepted as bearer tokens."""
    reply = _signed_up(t)
    signed = reply.header("set-auth-token")
    assert signed is not None
    return str(reply.json()["token"]), signed


def _session_cookie(reply: Reply) -> str:
    """The ``name=value`` of the session cookie a reply sets (``__Secure-`` on https)."""
    (pair,) = [c.split(";", 1)[0] for c in reply.all("set-cookie") if c.split("=", 1)[0] in SESSION_COOKIE_NAMES]
    return pair


def _count(
    t: DevTransport | LambdaTransport, authorization: str | None = None, cookie: str | None = None
) -> tuple[object, str | None]:
    headers, body = json_body({"path": "myData:count", "args": {}, "format": "json"})
    if authorization is not None:
        headers.append(("Authorization", authorization))
    if cookie is not None:
        headers += [("Cookie", cookie), ("Origin", t.origin)]  # a browser's call: the origin check passes
    reply = t.request("POST", "/api/query", headers=headers, body=body)
    assert reply.status == 200, reply.body  # anonymous, never an error
    return reply.json()["value"], reply.header(HEADER)


def _add(t: DevTransport | LambdaTransport, token: str) -> None:
    headers, body = json_body({"path": "myData:add", "args": {"text": "x"}, "format": "json"})
    reply = t.request("POST", "/api/mutation", headers=[*headers, ("Authorization", f"Bearer {token}")], body=body)
    assert reply.json()["status"] == "success", reply.body


def test_an_unusable_bearer_token_runs_anonymously_and_says_why(
    t: DevTransport | LambdaTransport, caplog: pytest.LogCaptureFixture
) -> None:
    token, signed = _sign_up(t)
    _add(t, token)
    assert _count(t, f"Bearer {token}") == (1, None)  # a good token: no hint
    assert _count(t, f"Bearer {signed}") == (1, None)
    forged = signed[:-4] + ("AAAA" if not signed.endswith("AAAA") else "BBBB")
    with caplog.at_level(logging.INFO, logger="authlib_core.auth"):
        assert _count(t, f"Bearer {forged}") == (0, BEARER_IGNORED_REASONS["INVALID_TOKEN"])
        assert _count(t, "Bearer not-a-token") == (0, BEARER_IGNORED_REASONS["INVALID_TOKEN"])
        revoked = t.request("POST", "/api/auth/revoke-sessions", headers=[("Authorization", f"Bearer {token}")])
        assert revoked.status == 200, revoked.body
        assert _count(t, f"Bearer {token}") == (0, BEARER_IGNORED_REASONS["NO_SESSION"])
        assert _count(t, f"Bearer {quote(signed)}") == (0, BEARER_IGNORED_REASONS["NO_SESSION"])
    assert "bearer token ignored" in caplog.text
    for secret in (token.split(".")[-1], signed.split(".")[-1], forged.split(".")[-1]):  # the secret and signatures
        assert secret not in caplog.text


def test_an_unusable_session_cookie_runs_anonymously_and_says_why(
    t: DevTransport | LambdaTransport, caplog: pytest.LogCaptureFixture
) -> None:
    signed_up = _signed_up(t)
    _add(t, str(signed_up.json()["token"]))
    cookie = _session_cookie(signed_up)
    name, value = cookie.split("=", 1)
    assert _count(t, cookie=cookie) == (1, None)  # a live session's cookie: no hint
    tampered = f"{name}={value[:-6]}AAAAAA" if not value.endswith("AAAAAA") else f"{name}={value[:-6]}BBBBBB"
    with caplog.at_level(logging.INFO, logger="authlib_core.auth"):
        assert _count(t, cookie=tampered) == (0, COOKIE_IGNORED_REASONS["INVALID_TOKEN"])
        assert _count(t, cookie=f"{name}=not-a-cookie") == (0, COOKIE_IGNORED_REASONS["INVALID_TOKEN"])
        signed_out = t.request("POST", "/api/auth/sign-out", headers=[("Cookie", cookie), ("Origin", t.origin)])
        assert signed_out.status == 200, signed_out.body
        assert _count(t, cookie=cookie) == (0, COOKIE_IGNORED_REASONS["NO_SESSION"])  # the browser kept it
    assert "session cookie ignored: not a session token of this server" in caplog.text
    assert "session cookie ignored: no live session" in caplog.text
    secret, signature = str(signed_up.json()["token"]).split(".")[-1], unquote(value).split(".")[-1]
    for part in (secret, signature, signature[:-6], "AAAAAA", "BBBBBB"):  # nothing of the cookie, altered or not
        assert part not in caplog.text

    # /api/auth/get-session answers null, as Better Auth: it clears a cookie whose session is gone, and leaves one
    # that is not this server's alone (another app on this host may have set it).
    stale = t.request("GET", "/api/auth/get-session", headers=[("Cookie", cookie)])
    assert (stale.status, stale.json()) == (200, None)
    assert [c.split(";", 1)[0] for c in stale.all("set-cookie")][:1] == [f"{name}="]
    assert "Max-Age=0" in stale.all("set-cookie")[0]
    foreign = t.request("GET", "/api/auth/get-session", headers=[("Cookie", tampered)])
    assert (foreign.status, foreign.json(), foreign.all("set-cookie")) == (200, None, [])


def test_the_hint_names_the_cookie_rule_when_no_bearer_is_sent(t: DevTransport | LambdaTransport) -> None:
    """The cookie's own hint is unchanged; a request without credentials gets none."""
    _sign_up(t)
    headers, body = json_body({"path": "myData:count", "args": {}, "format": "json"})
    anonymous = t.request("POST", "/api/query", headers=headers, body=body)
    assert anonymous.header(HEADER) is None
    cookie_reasons = set(COOKIE_IGNORED_REASONS.values())
    assert not cookie_reasons & set(BEARER_IGNORED_REASONS.values())
    reasons = [*BEARER_IGNORED_REASONS.values(), *COOKIE_IGNORED_REASONS.values()]
    assert all(reason.isascii() and "\n" not in reason for reason in reasons)  # fit a header as they are

"""A bearer session token the call could not use answers anonymously (Better Auth's bearer plugin: no session, not
an error) and says why in ``X-Authlib-Auth-Ignored``, like a set-aside cookie: on the dev server and on Lambda."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest

from authlib_core.auth.service import BEARER_IGNORED_REASONS, COOKIE_IGNORED_REASONS
from tests.support.transports import DevTransport, LambdaTransport, dev_transport, example_settings, json_body

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


def _sign_up(t: DevTransport | LambdaTransport) -> tuple[str, str]:
    """(the token of the body, the signed one of ``set-auth-token``): both are accepted as bearer tokens."""
    headers, body = json_body({"name": "Ada", "email": "ada@example.com", "password": PASSWORD})
    reply = t.request("POST", "/api/auth/sign-up/email", headers=[*headers, ("Origin", t.origin)], body=body)
    assert reply.status == 200, reply.body
    signed = reply.header("set-auth-token")
    assert signed is not None
    return str(reply.json()["token"]), signed


def _count(t: DevTransport | LambdaTransport, authorization: str) -> tuple[object, str | None]:
    headers, body = json_body({"path": "myData:count", "args": {}, "format": "json"})
    reply = t.request("POST", "/api/query", headers=[*headers, ("Authorization", authorization)], body=body)
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


def test_the_hint_names_the_cookie_rule_when_no_bearer_is_sent(t: DevTransport | LambdaTransport) -> None:
    """The cookie's own hint is unchanged; a request without credentials gets none."""
    _sign_up(t)
    headers, body = json_body({"path": "myData:count", "args": {}, "format": "json"})
    anonymous = t.request("POST", "/api/query", headers=headers, body=body)
    assert anonymous.header(HEADER) is None
    cookie_reasons = set(COOKIE_IGNORED_REASONS.values())
    assert not cookie_reasons & set(BEARER_IGNORED_REASONS.values())
    assert all(reason.isascii() and "\n" not in reason for reason in BEARER_IGNORED_REASONS.values())

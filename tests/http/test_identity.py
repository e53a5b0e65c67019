"""Credential extraction helpers of the identity seam."""

from __future__ import annotations

from authlib_core.auth import NoAuth
from authlib_core.http import AnonymousResolver, HttpRequest, bearer_token, session_credential


def request(headers=None, cookies=None):
    return HttpRequest(
        method="POST",
        path="/api/query",
        query={},
        headers=headers or {},
        cookies=cookies or {},
        body=b"",
        client_ip="127.0.0.1",
        is_https=False,
        request_id="r",
    )


def test_bearer_token():
    assert bearer_token(request({"authorization": "Bearer abc"})) == "abc"
    assert bearer_token(request({"authorization": "bearer   abc "})) == "abc"
    assert bearer_token(request({"authorization": "Convex adminkey"})) is None
    assert bearer_token(request({"authorization": "Bearer "})) is None
    assert bearer_token(request()) is None


def test_session_credential_prefers_bearer_then_secure_cookie():
    both = {"__Secure-better-auth.session_token": "secure", "better-auth.session_token": "plain"}
    assert session_credential(request(cookies=both)) == "secure"
    assert session_credential(request(cookies={"better-auth.session_token": "plain"})) == "plain"
    assert session_credential(request({"authorization": "Bearer b"}, cookies=both)) == "b"
    assert session_credential(request(cookies={"other": "x"})) is None


def test_default_resolver_is_anonymous():
    assert AnonymousResolver().resolve(request({"authorization": "Bearer b"})) == NoAuth()

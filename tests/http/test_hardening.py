"""Regression tests for the attacks of issue 13 (items 1, 2, 8, 9, 10, 11) on the dev server and the Lambda handler.

The dev server is reached over raw sockets (what an attacker sends, byte for byte); the Lambda handler through API
Gateway v2 events. The example app (functions/) with its auth tables serves both.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.transports import (
    DevTransport,
    LambdaTransport,
    Reply,
    dev_transport,
    example_settings,
    json_body,
    lambda_transport,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

PASSWORD = "correct horse battery"


@pytest.fixture(params=["dev", "lambda"])
def transport(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DevTransport | LambdaTransport]:
    settings = example_settings(tmp_path, rate_limit_enabled=False)
    if request.param == "lambda":
        yield lambda_transport(settings)
    else:
        with dev_transport(settings) as dev:
            yield dev


def post(t: DevTransport | LambdaTransport, path: str, value: Any, *headers: tuple[str, str]) -> Reply:
    base, body = json_body(value)
    return t.request("POST", path, headers=[*base, ("Origin", t.origin), *headers], body=body)


def sign_in(t: DevTransport | LambdaTransport, **fields: Any) -> Reply:
    return post(t, "/api/auth/sign-in/email", {"email": "ada@example.com", "password": PASSWORD, **fields})


def signed_up(t: DevTransport | LambdaTransport) -> None:
    reply = post(t, "/api/auth/sign-up/email", {"name": "Ada", "email": "ada@example.com", "password": PASSWORD})
    assert reply.status == 200, reply.body


# ---------------------------------------------------------------- 13.1 header injection, 13.2 open redirect


@pytest.mark.parametrize(
    "callback", ["/x\r\nSet-Cookie: injected=1", "/\t/evil.example", "/\n/evil.example", "/\\evil.example"]
)
def test_callback_url_attacks_are_400(transport: DevTransport | LambdaTransport, callback: str) -> None:
    signed_up(transport)
    reply = sign_in(transport, callbackURL=callback)
    assert reply.status == 400
    assert reply.json()["code"] == "INVALID_CALLBACK_URL"
    assert reply.header("Location") is None
    assert not any("injected" in cookie for cookie in reply.all("Set-Cookie"))


def test_non_latin1_callback_is_percent_encoded(transport: DevTransport | LambdaTransport) -> None:
    signed_up(transport)
    reply = sign_in(transport, callbackURL="/€?q=é")
    assert reply.status == 200, reply.body
    assert reply.header("Location") == "/%E2%82%AC?q=%C3%A9"
    assert reply.json()["url"] == "/%E2%82%AC?q=%C3%A9"


# ---------------------------------------------------------------- 13.9 lone surrogates, deep nesting


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/api/auth/sign-up/email", b'{"name":"Ada","email":"s@example.com","password":"pass\\ud800word"}'),
        ("/api/auth/sign-up/email", b'{"name":"\\udc00","email":"s@example.com","password":"password-1"}'),
        ("/api/auth/sign-in/email", b'{"email":"ada@example.com","password":"\\ud83d"}'),
        ("/api/query", b'{"path":"myData:getMyData\\ud800","args":{}}'),
        ("/api/mutation", b'{"path":"myData:add","args":{"text":"\\udfff"}}'),
    ],
)
def test_lone_surrogates_are_400(transport: DevTransport | LambdaTransport, path: str, raw: bytes) -> None:
    reply = transport.request(
        "POST", path, headers=[("Content-Type", "application/json"), ("Origin", transport.origin)], body=raw
    )
    assert reply.status == 400, reply.body
    assert "lone surrogate" in (reply.json().get("message") or "")


@pytest.mark.parametrize("path", ["/api/query", "/api/mutation", "/api/function", "/api/auth/sign-in/email"])
@pytest.mark.parametrize("depth", [200, 995, 5000])
def test_deep_json_is_400_never_a_recursion_error(
    transport: DevTransport | LambdaTransport, path: str, depth: int
) -> None:
    nested = "[" * depth + "]" * depth
    raw = f'{{"path":"myData:add","args":{{"text":{nested}}},"email":{nested}}}'.encode()
    reply = transport.request(
        "POST", path, headers=[("Content-Type", "application/json"), ("Origin", transport.origin)], body=raw
    )
    assert reply.status in (200, 400), reply.body
    body = reply.json()
    message = body.get("message") or body.get("errorMessage") or ""
    assert "RecursionError" not in message
    if depth > 1000 or not path.startswith("/api/auth"):
        assert "nested" in message, message
    else:
        assert reply.status == 400  # a well-formed body of the wrong shape: Better Auth's validation error


def test_deep_get_query_args_are_400(transport: DevTransport | LambdaTransport) -> None:
    args = "%5B" * 3000 + "%5D" * 3000
    reply = transport.request("GET", f"/api/query?path=myData:getMyData&args={args}")
    assert reply.status == 400
    assert reply.json()["code"] == "BadQueryString"


# ---------------------------------------------------------------- 13.8 body size on /api/auth (both transports)


def test_auth_bodies_have_a_size_cap(transport: DevTransport | LambdaTransport) -> None:
    reply = post(transport, "/api/auth/sign-in/email", {"email": "a@example.com", "password": "x" * 100_000})
    assert reply.status == 413
    assert "limit" in reply.json()["message"]


# ---------------------------------------------------------------- 13.11 session lifetimes


@pytest.mark.parametrize("kind", ["dev", "lambda"])
def test_dont_remember_sessions_honour_the_configured_expiry(tmp_path: Path, kind: str) -> None:
    settings = example_settings(tmp_path, rate_limit_enabled=False, session_expires_in=3, session_absolute_lifetime=60)
    with dev_transport(settings) if kind == "dev" else contextlib.nullcontext(lambda_transport(settings)) as t:
        signed_up(t)
        for remember, lifetime_ms in ((False, 3000), (True, 3000)):
            reply = sign_in(t, rememberMe=remember)
            cookie = next(c for c in reply.all("Set-Cookie") if "session_token=" in c).split(";")[0]
            session = t.request("GET", "/api/auth/get-session", headers=[("Cookie", cookie)]).json()["session"]
            created = _ms(session["createdAt"])
            assert _ms(session["expiresAt"]) - created == lifetime_ms
    long_idle = example_settings(tmp_path / "b", session_expires_in=86_400 * 7, session_absolute_lifetime=60)
    t2 = lambda_transport(long_idle)
    signed_up(t2)
    reply = sign_in(t2)
    cookie = next(c for c in reply.all("Set-Cookie") if "session_token=" in c)
    assert "Max-Age=60;" in cookie  # the absolute lifetime, below one day, caps the cookie


def _ms(iso: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


# ---------------------------------------------------------------- dev server only: 13.8 framing, 13.10 proxies


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[DevTransport]:
    with dev_transport(example_settings(tmp_path, rate_limit_enabled=False), read_timeout=1.0) as server:
        yield server


def _head(dev: DevTransport, *lines: str) -> bytes:
    return ("\r\n".join([*lines, f"Host: {dev.host}", "Connection: close"]) + "\r\n\r\n").encode("latin-1")


def test_content_length_that_is_not_a_number_is_400_json(dev: DevTransport) -> None:
    reply = dev.raw(_head(dev, "POST /api/query HTTP/1.1", "Content-Length: abc") + b"{}")
    assert (reply.status, reply.json()) == (
        400,
        {"code": "BadRequest", "message": "Content-Length must be one whole number of bytes, such as 42"},
    )


def test_oversized_bodies_are_refused_before_they_are_read(dev: DevTransport) -> None:
    started = time.monotonic()
    reply = dev.raw(_head(dev, "POST /api/query HTTP/1.1", f"Content-Length: {100 * 1024 * 1024}"))
    assert time.monotonic() - started < 1.0  # answered without waiting for (or reading) 100 MiB
    assert reply.status == 413
    assert reply.json()["code"] == "RequestTooLarge"
    auth = dev.raw(_head(dev, "POST /api/auth/sign-in/email HTTP/1.1", "Content-Length: 70000"))
    assert auth.status == 413
    assert auth.json()["message"] == "The request body is 70000 bytes; the limit on this route is 65536 bytes"


def test_chunked_bodies_are_read_and_bounded(dev: DevTransport) -> None:
    body = json.dumps({"path": "myData:getMyData", "args": {}}).encode()
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    reply = dev.raw(_head(dev, "POST /api/query HTTP/1.1", "Transfer-Encoding: chunked") + chunked)
    assert reply.status == 200
    assert reply.json()["status"] == "error"  # anonymous: the example app refuses, but the body was read
    big = b"".join(b"10000\r\n" + b"x" * 0x10000 + b"\r\n" for _ in range(2)) + b"0\r\n\r\n"
    over = dev.raw(_head(dev, "POST /api/auth/sign-in/email HTTP/1.1", "Transfer-Encoding: chunked") + big)
    assert over.status == 413
    smuggled = _head(dev, "POST /api/query HTTP/1.1", "Transfer-Encoding: chunked", "Content-Length: 5")
    both = dev.raw(smuggled + b"0\r\n\r\n")
    assert both.status == 400
    assert both.json()["message"] == "Send Content-Length or Transfer-Encoding, not both"


def test_oversized_headers_get_our_json_431(dev: DevTransport) -> None:
    reply = dev.raw(_head(dev, "GET /api/ok HTTP/1.1", "Authorization: Bearer " + "a" * 100_000))
    assert reply.status == 431
    assert reply.header("Content-Type") == "application/json"
    assert reply.json() == {
        "code": "RequestHeaderFieldsTooLarge",
        "message": "Line too long; the limits are 65536 bytes per header line and 100 headers",
    }
    many = dev.raw(_head(dev, "GET /api/ok HTTP/1.1", *(f"X-H{i}: v" for i in range(150))))
    assert many.status == 431


def test_malformed_request_lines_get_json(dev: DevTransport) -> None:
    reply = dev.raw(b"NONSENSE\r\n\r\n")
    assert reply.status == 400
    assert reply.json()["code"] == "BadRequest"


@pytest.mark.parametrize(
    "target",
    [b"/x\x1b[2J\x1b]0;owned\x07", b"/api/ok\x1b[31m", b"/caf\xc3\xa9", b"/x\x9b31m", b"/a\x00b"],
)
def test_request_targets_with_control_or_raw_non_ascii_bytes_are_400(dev: DevTransport, target: bytes) -> None:
    # RFC 9112: a request-target is visible ASCII (browsers percent-encode the rest). The dev server prints every
    # request's path on the developer's terminal, where ESC and C1 bytes would be terminal commands.
    reply = dev.raw(b"GET " + target + b" HTTP/1.1\r\nHost: " + dev.host.encode() + b"\r\nConnection: close\r\n\r\n")
    assert reply.status == 400
    assert reply.json()["code"] == "BadRequest"
    assert "percent-encode" in reply.json()["message"]
    printed = dev.server.out.getvalue()  # type: ignore[attr-defined]
    assert not any((ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F for c in printed), repr(printed)
    assert dev.request("GET", "/caf%C3%A9").status == 404  # the percent-encoded form is an ordinary path


def test_idle_connections_time_out_and_connections_are_bounded(tmp_path: Path) -> None:
    settings = example_settings(tmp_path, rate_limit_enabled=False)
    with dev_transport(settings, read_timeout=0.5, max_connections=4) as dev:
        idle = [socket.create_connection(dev.address) for _ in range(4)]
        for sock in idle:
            sock.sendall(b"POST /api/query HTTP/1.1\r\nHost: x\r\n")  # half a request, then silence
        time.sleep(0.2)
        busy = dev.request("GET", "/api/ok")
        assert busy.status == 503
        assert busy.json()["code"] == "ServiceUnavailable"
        time.sleep(1.0)  # past the read timeout: the idle connections are closed, their threads gone
        for sock in idle:
            sock.settimeout(2)
            assert sock.recv(10) == b""
            sock.close()
        assert dev.request("GET", "/api/ok").json() == {"status": "ok"}


def test_forwarded_for_gets_the_real_peer_appended(tmp_path: Path) -> None:
    settings = example_settings(tmp_path, trust_forwarded_for=True, rate_limit_enabled=True)
    wrong = {"email": "x@example.com", "password": "wrong password"}
    with dev_transport(settings) as dev:
        statuses = [
            post(dev, "/api/auth/sign-in/email", wrong, ("X-Forwarded-For", f"203.0.113.{i}")).status for i in range(6)
        ]
    assert statuses == [401, 401, 401, 429, 429, 429]  # the right-most entry is the real peer


def test_client_forwarded_proto_does_not_switch_cookie_names(tmp_path: Path) -> None:
    proto = ("X-Forwarded-Proto", "https")
    credentials = {"email": "ada@example.com", "password": PASSWORD}
    with dev_transport(example_settings(tmp_path, rate_limit_enabled=False)) as dev:
        signed_up(dev)
        cookies = post(dev, "/api/auth/sign-in/email", credentials, proto).all("Set-Cookie")
        assert cookies
        assert all(not c.startswith("__Secure-") for c in cookies)
    # Behind a TLS proxy of one's own, trusted explicitly, the proxy's header counts.
    proxied = example_settings(tmp_path / "proxy", rate_limit_enabled=False)
    with dev_transport(proxied, trust_forwarded_proto=True) as dev:
        dev.origin = f"https://{dev.host}"
        user = {"name": "Ada", **credentials}
        assert post(dev, "/api/auth/sign-up/email", user, proto).status == 200
        cookies = post(dev, "/api/auth/sign-in/email", credentials, proto).all("Set-Cookie")
        assert any(c.startswith("__Secure-better-auth.session_token=") for c in cookies)


def test_foreign_host_is_refused_dns_rebinding(tmp_path: Path) -> None:
    settings = example_settings(tmp_path, rate_limit_enabled=False, trusted_origins=("https://app.example.com",))
    with dev_transport(settings) as dev:
        base, body = json_body({"name": "E", "email": "e@example.com", "password": PASSWORD})
        attack = dev.request(
            "POST",
            "/api/auth/sign-up/email",
            headers=[("Host", "evil.example:3210"), ("Origin", "http://evil.example:3210"), *base],
            body=body,
        )
        assert attack.status == 403
        assert attack.json() == {
            "code": "ForbiddenHost",
            "message": "Host 'evil.example:3210' is not this dev server's. It answers IP addresses, localhost and the "
            "hosts of AUTHLIB_TRUSTED_ORIGINS and --cors-origin (a guard against DNS rebinding); add your host's "
            "origin to one of those.",
        }
        for host in (dev.host, f"localhost:{dev.address[1]}", f"[::1]:{dev.address[1]}", "app.example.com"):
            assert dev.request("GET", "/api/ok", headers=[("Host", host)]).status == 200, host


# ---------------------------------------------------------------- 13.3 lockout, through the Lambda handler


def test_a_third_party_cannot_lock_the_owner_out_through_lambda(tmp_path: Path) -> None:
    settings = example_settings(tmp_path, rate_limit_enabled=True, rate_limit_ip_max=1000)
    t = lambda_transport(settings)
    signed_up(t)
    base, wrong = json_body({"email": "ada@example.com", "password": "wrong password"})
    headers = [*base, ("Origin", t.origin)]
    attacker = [
        t.request("POST", "/api/auth/sign-in/email", headers=headers, body=wrong, source_ip="203.0.113.66").status
        for _ in range(12)
    ]
    assert attacker == [401] * 5 + [429] * 7
    _, right = json_body({"email": "ada@example.com", "password": PASSWORD})
    owner = t.request("POST", "/api/auth/sign-in/email", headers=headers, body=right, source_ip="192.0.2.10")
    assert owner.status == 200

"""Property-based fuzzing of the whole HTTP surface, on the dev server (raw sockets) and the Lambda handler (events).

Every function route (both response formats), every ``/api/auth/*`` endpoint (the emailed-link ones with mail on,
the social ones with an OpenID Connect and a GitHub provider served by tests/support/fake_oauth.py),
the example app's HTTP actions (the signed webhook of functions/http.py, with valid, forged and missing signatures),
arbitrary paths and methods outside ``/api``; headers (cookie,
authorization, origin, host, content-length, content-type, forwarded ones) valid, forged and malformed; bodies of
every shape and encoding (JSON envelopes, auth fields, deep nesting, lone surrogates, form bodies, raw bytes).

Property: the answer is a 2xx or a 4xx, its body is empty or JSON in one of our shapes, it names nothing internal
(no traceback, module, file or exception class), and the server still answers its health check.

Examples per test: ``AUTHLIB_FUZZ_EXAMPLES`` (default 1000: the bounded run of the test suite, about 20 s for all of
them). The long run (docs/http.md, "Fuzzing")::

    AUTHLIB_FUZZ_EXAMPLES=10000 .venv/bin/python -m pytest tests/fuzz -q -p no:cacheprovider
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import urllib.parse
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.fake_oauth import CLIENT_SECRET, FakeProvider, write_social_app
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

EXAMPLES = int(os.environ.get("AUTHLIB_FUZZ_EXAMPLES", "1000"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=EXAMPLES <= 2000,  # the bounded CI run is reproducible; the long run explores
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
PASSWORD = "fuzz password 123"
WEBHOOK_SECRET = "fuzz-webhook-secret-" + "f" * 24

HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
FUNCTION_ROUTES = ["/api/query", "/api/mutation", "/api/action", "/api/function", "/api/run/myData/getMyData"]
AUTH_ROUTES = [
    "ok",
    "sign-up/email",
    "sign-in/email",
    "get-session",
    "sign-out",
    "list-sessions",
    "revoke-session",
    "revoke-sessions",
    "revoke-other-sessions",
    "update-user",
    "change-password",
    "delete-user",
    "delete-user/callback?token=" + "A" * 43 + "&callbackURL=%2Fbye",
    "delete-user/callback?token=x&callbackURL=https%3A%2F%2Fevil.example",
    "delete-user/callback?token=%0d%0a&callbackURL=%2F%0d%0aSet-Cookie:%20a=1",
    "delete-user/callback",
    "request-password-reset",
    "reset-password",
    "reset-password/" + "A" * 43 + "?callbackURL=%2Freset",
    "reset-password/x?callbackURL=https%3A%2F%2Fevil.example",
    "send-verification-email",
    "verify-email?token=" + "A" * 43,
    "verify-email?token=x&callbackURL=%2F%2Fevil.example",
    "change-email",
    "error?error=INVALID_TOKEN",
    "sign-in/social",
    "link-social",
    "list-accounts",
    "unlink-account",
    "social-providers",
    "callback/fake?code=x&state=" + "A" * 43,
    "callback/github?error=access_denied&state=x",
    "callback/nope",
    "callback/fake?state=%0d%0aSet-Cookie:%20a=1&iss=https%3A%2F%2Fevil.example",
]
#: Text that would mean an internal detail reached the client.
LEAKS = re.compile(
    r"Traceback|File \"|authlib_core\.\w|\.py\b|sqlite3|botocore|"
    r"\b(Key|Type|Attribute|Value|Recursion|Unicode\w*|Index|Assertion|Name|Runtime|OS)Error\b"
)

# ---------------------------------------------------------------- strategies

_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
json_values = st.recursive(
    _json_leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
paths = st.one_of(
    st.sampled_from(["myData:getMyData", "myData:add", "myData:remove", "myData", "nope:nothing", "", ":"]),
    st.text(max_size=30),
)
encoded = st.one_of(
    json_values,
    st.builds(lambda n: {"$integer": n}, st.text(max_size=16)),
    st.builds(lambda b: {"$bytes": b}, st.text(max_size=16)),
    st.builds(lambda f: {"$float": f}, st.text(max_size=16)),
)
envelopes = st.fixed_dictionaries(
    {},
    optional={
        "path": st.one_of(paths, json_values),
        "args": st.one_of(
            st.dictionaries(st.sampled_from(["text", "id", "$x", "n", ""]), encoded, max_size=3),
            st.lists(st.dictionaries(st.text(max_size=5), encoded, max_size=2), max_size=2),
            json_values,
        ),
        "format": st.one_of(st.sampled_from(["json", "convex_encoded_json", "other"]), json_values),
    },
)
auth_fields = st.fixed_dictionaries(
    {},
    optional={
        "email": st.one_of(st.sampled_from(["fuzz@example.com", "x@example.com", "bad", ""]), json_values),
        "password": st.one_of(st.just(PASSWORD), st.text(max_size=200), json_values),
        "name": st.one_of(st.text(max_size=300), json_values),
        "image": st.one_of(st.none(), st.text(max_size=50)),
        "callbackURL": st.one_of(
            st.sampled_from(["/ok", "//evil.example", "/\t/evil", "/x\r\nSet-Cookie: a=1", "/€", "https://evil.x"]),
            st.text(max_size=60),
            json_values,
        ),
        "redirectTo": st.one_of(st.sampled_from(["/reset", "//evil.example", "/\r\nx"]), st.text(max_size=40)),
        "newEmail": st.one_of(st.sampled_from(["fuzz2@example.com", "fuzz@example.com", "bad"]), json_values),
        "rememberMe": st.one_of(st.booleans(), st.sampled_from(["true", "false", "maybe"]), json_values),
        "token": st.one_of(st.text(max_size=60), json_values),
        "newPassword": st.one_of(st.text(max_size=150), json_values),
        "currentPassword": st.one_of(st.just(PASSWORD), st.text(max_size=30)),
        "revokeOtherSessions": st.one_of(st.booleans(), json_values),
        "provider": st.one_of(st.sampled_from(["fake", "github", "nope", "", "credential"]), json_values),
        "errorCallbackURL": st.one_of(st.sampled_from(["/oops", "//evil.example", "/\r\nx"]), json_values),
        "newUserCallbackURL": st.one_of(st.sampled_from(["/welcome", "https://evil.x"]), json_values),
        "disableRedirect": st.one_of(st.booleans(), json_values),
        "scopes": st.one_of(st.lists(st.text(max_size=20), max_size=3), json_values),
        "loginHint": st.one_of(st.text(max_size=40), json_values),
        "idToken": json_values,
        "accountId": st.one_of(st.text(max_size=40), json_values),
    },
)


def _deep(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


bodies = st.one_of(
    envelopes.map(lambda e: json.dumps(e).encode()),
    auth_fields.map(lambda e: json.dumps(e).encode()),
    st.tuples(envelopes, auth_fields).map(lambda p: json.dumps({**p[0], **p[1]}).encode()),
    st.integers(min_value=1, max_value=4000).map(_deep),
    st.integers(min_value=1, max_value=3000).map(lambda d: b'{"path":"myData:add","args":{"text":' + _deep(d) + b"}}"),
    st.sampled_from([b'{"password":"\\ud800"}', b'{"path":"myData:add\\udfff"}', b'{"name":"\\udc00x"}', b"[NaN]"]),
    auth_fields.map(lambda e: urllib.parse.urlencode({k: str(v) for k, v in e.items()}).encode()),
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.just(b""),
)
header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=80)


@st.composite
def header_sets(draw: st.DrawFn, valid: dict[str, str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    content_type = draw(
        st.one_of(
            st.sampled_from(
                ["application/json", "application/x-www-form-urlencoded", "text/plain", "application/json; charset=x"]
            ),
            header_text,
            st.none(),
        )
    )
    if content_type is not None:
        out.append(("Content-Type", content_type))
    cookie = draw(
        st.one_of(
            st.none(),
            st.just(valid["cookie"]),
            st.builds(lambda v: f"better-auth.session_token={v}", header_text),
            st.builds(lambda v: f"__Secure-better-auth.session_token={v}", header_text),
            header_text,
        )
    )
    if cookie:
        out.append(("Cookie", cookie))
    authorization = draw(
        st.one_of(
            st.none(), st.just(f"Bearer {valid['token']}"), st.builds(lambda v: f"Bearer {v}", header_text), header_text
        )
    )
    if authorization:
        out.append(("Authorization", authorization))
    origin = draw(
        st.one_of(st.none(), st.sampled_from([valid["origin"], "https://evil.example", "null", ""]), header_text)
    )
    if origin is not None:
        out.append(("Origin", origin))
    for name in ("Referer", "Sec-Fetch-Site", "Sec-Fetch-Mode", "X-Forwarded-For", "Convex-Client", "User-Agent"):
        value = draw(st.one_of(st.none(), header_text))
        if value:
            out.append((name, value))
    return out


# ---------------------------------------------------------------- the property


def check(reply: Reply, what: str, sent: str = "") -> None:
    """The property; ``sent`` is what the request carried (a message may quote it back: that is no leak)."""
    assert 200 <= reply.status < 500, f"{what}: {reply.status} {reply.body[:300]!r}"
    text = reply.body.decode("utf-8")  # always valid UTF-8
    leaks = [m.group() for m in LEAKS.finditer(text) if m.group() not in sent]
    assert not leaks, f"{what}: internal detail in the body: {text[:300]}"
    if not text:
        return
    body = json.loads(text)
    if isinstance(body, dict) and ("status" in body and body["status"] in ("success", "error")):
        return  # a function result (UdfResponse)
    if isinstance(body, dict) and "message" in body:
        assert isinstance(body["message"], str)
        return  # {"code","message"} or Better Auth's {"message","code"?}
    assert reply.status < 300, f"{what}: an error without a message: {text[:300]}"


def seed(t: DevTransport | LambdaTransport) -> dict[str, str]:
    """A real user, its bearer token and session cookie, so the fuzzer also drives authenticated paths."""
    headers, body = json_body({"name": "Fuzz", "email": "fuzz@example.com", "password": PASSWORD})
    reply = t.request("POST", "/api/auth/sign-up/email", headers=[*headers, ("Origin", t.origin)], body=body)
    assert reply.status == 200, reply.body
    cookie = next(c for c in reply.all("Set-Cookie") if "session_token=" in c).split(";")[0]
    return {"token": reply.json()["token"], "cookie": cookie, "origin": t.origin}


@pytest.fixture(scope="module", autouse=True)
def _webhook_secret() -> Iterator[None]:
    """The example webhook's shared secret (functions/http.py reads WEBHOOK_SECRET per request)."""
    previous = os.environ.get("WEBHOOK_SECRET")
    os.environ["WEBHOOK_SECRET"] = WEBHOOK_SECRET
    yield
    if previous is None:
        os.environ.pop("WEBHOOK_SECRET", None)
    else:
        os.environ["WEBHOOK_SECRET"] = previous


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    """The social sign-in providers the fuzzed app declares (OpenID Connect and GitHub)."""
    fake = FakeProvider()
    yield fake
    fake.close()


def social(folder: Path, provider: FakeProvider) -> dict[str, Any]:
    """Settings for the example app with social sign-in through ``provider``."""
    return {
        "functions_dir": write_social_app(folder / "fuzzsocial", provider.url),
        "oauth_client_secrets": (("fake", CLIENT_SECRET), ("github", CLIENT_SECRET)),
        "jwt_allow_loopback_http": True,
    }


@pytest.fixture(scope="module")
def dev(
    tmp_path_factory: pytest.TempPathFactory, provider: FakeProvider
) -> Iterator[tuple[DevTransport, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("fuzz-dev")
    settings_ = example_settings(
        folder,
        rate_limit_enabled=True,
        mail="folder",
        mail_dir=folder / "mail",
        base_url="http://127.0.0.1",
        **social(folder, provider),
    )
    with dev_transport(settings_, read_timeout=5.0) as server:
        yield server, seed(server)
        assert server.request("GET", "/api/ok").json() == {"status": "ok"}


@pytest.fixture(scope="module")
def lam(tmp_path_factory: pytest.TempPathFactory, provider: FakeProvider) -> tuple[LambdaTransport, dict[str, str]]:
    folder = tmp_path_factory.mktemp("fuzz-lambda")
    # emailed links point at the configured origin (never at a fuzzed Host header); here POST /delete-user mails
    # a deletion link (the dev server's fixture deletes at once)
    settings_ = example_settings(
        folder,
        mail="folder",
        mail_dir=folder / "mail",
        base_url="https://api.example.test",
        delete_user_verification=True,
        **social(folder, provider),
    )
    transport = lambda_transport(settings_)
    return transport, seed(transport)


routes = st.one_of(
    st.tuples(st.just("POST"), st.sampled_from(FUNCTION_ROUTES)),
    st.tuples(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]), st.sampled_from(AUTH_ROUTES)).map(
        lambda r: (r[0], f"/api/auth/{r[1]}")
    ),
    st.tuples(
        st.just("GET"),
        st.builds(
            lambda p, a, f: "/api/query?" + urllib.parse.urlencode({"path": p, "args": a, "format": f}),
            paths,
            st.one_of(json_values.map(json.dumps), st.text(max_size=30)),
            st.sampled_from(["json", "convex_encoded_json", "x"]),
        ),
    ),
    st.tuples(st.sampled_from(["GET", "POST"]), st.text(max_size=30).map(lambda p: "/api/" + urllib.parse.quote(p))),
    # HTTP actions: the example's webhook, and any method on any path outside /api
    st.tuples(st.sampled_from(HTTP_METHODS), st.just("/webhooks/notes")),
    st.tuples(st.sampled_from(HTTP_METHODS), st.text(max_size=30).map(lambda p: "/" + urllib.parse.quote(p))),
)


@FUZZ
@given(data=st.data())
def test_lambda_handler(lam: tuple[LambdaTransport, dict[str, str]], data: st.DataObject) -> None:
    transport, valid = lam
    method, path = data.draw(routes)
    headers = data.draw(header_sets(valid))
    body = data.draw(bodies)
    source_ip = data.draw(st.sampled_from(["198.51.100.7", "2001:db8::1", "203.0.113.9"]))
    reply = transport.request(method, path, headers=headers, body=body, source_ip=source_ip)
    check(reply, f"{method} {path}", f"{path} {headers} {body.decode('latin-1')}")


@FUZZ
@given(data=st.data())
def test_lambda_handler_raw_events(lam: tuple[LambdaTransport, dict[str, str]], data: st.DataObject) -> None:
    """Events as API Gateway may shape them: text or base64 bodies, odd paths and query strings, cookie lists, odd
    methods, a ``requestContext.http.path`` unlike ``rawPath`` (the fixed function-call routes are answered directly,
    the rest by the resolver)."""
    transport, _ = lam
    path = data.draw(st.one_of(st.sampled_from([*FUNCTION_ROUTES, "/api/auth/sign-in/email"]), st.text(max_size=40)))
    text_body = data.draw(st.one_of(st.none(), st.text(max_size=200), bodies.map(lambda b: b.decode("latin-1"))))
    as_base64 = data.draw(st.booleans())
    event: dict[str, Any] = {
        "version": "2.0",
        "rawPath": path,
        "rawQueryString": data.draw(st.text(max_size=40)),
        "headers": data.draw(st.dictionaries(st.text(min_size=1, max_size=20), st.text(max_size=40), max_size=5)),
        "cookies": data.draw(st.lists(st.text(max_size=40), max_size=3)),
        "routeKey": "$default",
        "requestContext": {
            "http": {
                "method": data.draw(st.sampled_from(["GET", "POST", "PUT", "OPTIONS", "HEAD", "post"])),
                # usually the same path as rawPath (what API Gateway sends); sometimes another (never routed by)
                "path": data.draw(st.one_of(st.just(path), st.sampled_from(FUNCTION_ROUTES), st.text(max_size=40))),
                "sourceIp": "1.2.3.4",
            },
            "requestId": "fuzz",
            "stage": "$default",
            "domainName": "api.example.test",
        },
        "isBase64Encoded": as_base64,
    }
    if text_body is not None:
        event["body"] = base64.b64encode(text_body.encode("utf-8")).decode() if as_base64 else text_body
    from tests.http.conftest import Context

    response = transport.app(event, Context())
    raw = response.get("body") or ""
    payload = base64.b64decode(raw) if response.get("isBase64Encoded") else str(raw).encode("utf-8")
    check(Reply(int(response["statusCode"]), [], payload), f"event {path!r}", json.dumps(event, ensure_ascii=False))


_request_targets = st.one_of(
    routes.map(lambda r: r[1]),
    st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40).map(lambda p: "/" + p),
    st.text(alphabet=st.characters(min_codepoint=0xA0, max_codepoint=0xFF), min_size=1, max_size=10).map(
        lambda p: "/api/run/" + p
    ),
)
_length_headers = st.sampled_from(["exact", "none", "abc", "-1", "short", "long", "huge", "chunked", "both", "dup"])


def _framing(body: bytes, how: str) -> tuple[list[str], bytes]:
    if how == "exact":
        return [f"Content-Length: {len(body)}"], body
    if how == "none":
        return [], b""
    if how in ("abc", "-1"):
        return [f"Content-Length: {how}"], body
    if how == "short":
        return [f"Content-Length: {max(0, len(body) - 3)}"], body
    if how == "long":
        return [f"Content-Length: {len(body) + 5}"], body  # the server waits for bytes that never come
    if how == "huge":
        return [f"Content-Length: {10**12}"], body
    chunked = (f"{len(body):x}\r\n".encode() + body + b"\r\n" if body else b"") + b"0\r\n\r\n"
    if how == "chunked":
        return ["Transfer-Encoding: chunked"], chunked
    if how == "both":
        return ["Transfer-Encoding: chunked", f"Content-Length: {len(chunked)}"], chunked
    return [f"Content-Length: {len(body)}", f"Content-Length: {len(body) + 1}"], body


@FUZZ
@given(data=st.data())
def test_dev_server(dev: tuple[DevTransport, dict[str, str]], data: st.DataObject) -> None:
    server, valid = dev
    method = data.draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "BREW"]))
    target = data.draw(_request_targets)
    headers = data.draw(header_sets(valid))
    host = data.draw(
        st.one_of(st.just(server.host), st.sampled_from(["evil.example", "localhost", "[::1]:1"]), header_text)
    )
    body = data.draw(bodies)
    how = data.draw(_length_headers)
    if how == "long":
        how = "exact"  # a body that never arrives is the slow-client test's subject, not a fuzz case (it waits)
    framing, payload = _framing(body, how)
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers), *framing]
    lines.append("Connection: close")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload
    reply = server.raw(raw)
    check(reply, f"{method} {target}", raw.decode("latin-1"))
    if method == "HEAD" or reply.status in (204, 304):
        assert reply.body == b""


webhook_events = st.one_of(
    st.fixed_dictionaries(
        {
            "id": st.one_of(st.text(max_size=20), json_values),
            "email": st.one_of(
                st.sampled_from(["fuzz@example.com", "FUZZ@example.com", "nobody@example.com"]), json_values
            ),
            "text": st.one_of(st.text(max_size=60), json_values),
        }
    ).map(lambda e: json.dumps(e).encode()),
    bodies,
)


def _signature(body: bytes) -> str:
    return "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()


@FUZZ
@given(data=st.data())
def test_http_action_webhook(
    dev: tuple[DevTransport, dict[str, str]], lam: tuple[LambdaTransport, dict[str, str]], data: st.DataObject
) -> None:
    """The signed webhook: only a body signed with the secret gets past the check, whatever else is sent."""
    transport, valid = data.draw(st.sampled_from([dev, lam]))
    body = data.draw(webhook_events)
    signed = data.draw(st.sampled_from(["valid", "forged", "missing", "other body", "text"]))
    headers = data.draw(header_sets(valid))
    signature = {
        "valid": _signature(body),
        "forged": "sha256=" + "0" * 64,
        "missing": None,
        "other body": _signature(body + b" "),
        "text": data.draw(header_text),
    }[signed]
    if signature is not None:
        headers.append(("X-Webhook-Signature", signature))
    method = data.draw(st.sampled_from(["POST", "POST", "POST", "GET", "PUT"]))
    reply = transport.request(method, "/webhooks/notes", headers=headers, body=body)
    check(reply, f"{transport.name} {method} /webhooks/notes", f"{headers} {body.decode('latin-1')}")
    if method != "POST":
        assert reply.status == 404
    elif signed != "valid" and signature != _signature(body):
        assert (reply.status, reply.json()["code"]) == (401, "InvalidSignature")
    else:
        assert reply.status in (200, 400, 404), reply.body


def test_servers_are_healthy_after_fuzzing(
    dev: tuple[DevTransport, dict[str, str]], lam: tuple[LambdaTransport, dict[str, str]]
) -> None:
    for transport, valid in (dev, lam):
        assert transport.request("GET", "/api/ok").json() == {"status": "ok"}
        reply = transport.request(
            "GET", "/api/auth/get-session", headers=[("Authorization", f"Bearer {valid['token']}")]
        )
        assert reply.status == 200

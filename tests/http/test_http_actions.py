"""HTTP actions (functions/http.py) through both ways in: the Lambda handler (API Gateway v2 events) and the dev
server (raw HTTP/1.1 over a socket). Request parts, response bodies/headers/statuses, routing rules, identity,
errors as 500 without internals, size limits, CORS, and the deployment-kind guard."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import TYPE_CHECKING, Any

import pytest

from authlib_core.auth.service import BEARER_IGNORED_REASONS
from authlib_core.config import Settings
from authlib_core.dev.server import CorsPolicy
from authlib_core.http.payload_limits import MAX_REQUEST_BODY_BYTES, MAX_RESPONSE_PAYLOAD_BYTES
from tests.http.conftest import APPS, Context, make_event
from tests.support.transports import DevTransport, LambdaTransport, dev_transport, json_body, lambda_transport

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

ORIGIN = "https://app.example.test"
PASSWORD = "http actions password 1"


def settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(
        functions_dir=APPS / "httpapp",
        sqlite_path=tmp_path / "http.sqlite3",
        trusted_origins=(ORIGIN,),
        **overrides,
    )


@pytest.fixture(autouse=True)
def _forget_app() -> Iterator[None]:
    yield
    for module in list(sys.modules):
        if module.split(".")[0] == "httpapp":
            del sys.modules[module]


@pytest.fixture(params=["lambda", "dev"])
def t(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DevTransport | LambdaTransport]:
    if request.param == "lambda":
        yield lambda_transport(settings(tmp_path))
        return
    with dev_transport(settings(tmp_path), cors=CorsPolicy((ORIGIN,))) as dev:
        yield dev


def sign_up(t: DevTransport | LambdaTransport) -> tuple[str, str, str]:
    """A real user: (user id, session cookie, bearer token)."""
    headers, body = json_body({"name": "Ada", "email": "ada@example.com", "password": PASSWORD})
    reply = t.request("POST", "/api/auth/sign-up/email", headers=[*headers, ("Origin", t.origin)], body=body)
    assert reply.status == 200, reply.body
    cookie = next(c for c in reply.all("Set-Cookie") if "session_token=" in c).split(";")[0]
    return reply.json()["user"]["id"], cookie, reply.json()["token"]


# ------------------------------------------------------------------------------------------------ the request


def test_request_parts_reach_the_handler(t: DevTransport | LambdaTransport) -> None:
    reply = t.request(
        "POST",
        "/echo?x=1&tag=a&tag=b&empty=",
        headers=[("Content-Type", "text/csv"), ("X-Custom", "yes"), ("Cookie", "theme=dark; lang=en")],
        body=b"a,b\n1,2\n",
    )
    assert reply.status == 200, reply.body
    assert reply.header("Content-Type") == "application/json"
    scheme = "https" if isinstance(t, LambdaTransport) else "http"
    assert reply.json() == {
        "method": "POST",
        "url": f"{scheme}://{t.host}/echo?x=1&tag=a&tag=b&empty=",
        "path": "/echo",
        "query": {"x": "1", "tag": "a", "empty": ""},
        "tags": ["a", "b"],
        "contentType": "text/csv",
        "custom": "yes",
        "cookie": "theme=dark; lang=en",
        "length": 8,
    }


def test_the_path_is_the_routed_one_whatever_the_host_header_says(tmp_path: Path) -> None:
    transport = lambda_transport(settings(tmp_path))
    reply = transport.request("GET", "/echo?x=1", headers=[("Host", "evil.example/admin?y=2")])
    assert reply.json()["path"] == "/echo"
    assert reply.json()["query"] == {"x": "1"}


def test_json_and_text_bodies(t: DevTransport | LambdaTransport) -> None:
    headers, body = json_body({"a": [1, 2.5, None, "é"]})
    assert t.request("POST", "/parse", headers=headers, body=body).json() == {"got": {"a": [1, 2.5, None, "é"]}}
    assert t.request("POST", "/text", body="héllo".encode()).body == "olléh".encode()


@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [
        ("/parse", b'{"a": ', "not valid JSON: Expecting value: line 1 column 7"),
        ("/parse", b"NaN", "not valid JSON: NaN is not valid JSON"),
        ("/parse", b'["\\udc00"]', "not valid JSON: the string at [0] contains a lone surrogate"),
        ("/parse", b"\xff\xfe", "not UTF-8 text (invalid byte at position 0)"),
        ("/text", b"ok\xc3", "not UTF-8 text (invalid byte at position 2)"),
    ],
)
def test_an_unreadable_body_is_a_400_when_the_handler_does_not_catch_it(
    t: DevTransport | LambdaTransport, path: str, body: bytes, reason: str
) -> None:
    reply = t.request("POST", path, body=body)
    assert reply.status == 400
    assert reply.json()["code"] == "BadRequestBody"
    assert reason in reply.json()["message"]


# ----------------------------------------------------------------------------------------------- the response


def test_binary_bodies_round_trip(t: DevTransport | LambdaTransport) -> None:
    sent = bytes(range(255, -1, -1))
    reply = t.request("POST", "/binary", body=sent)
    assert reply.status == 200
    assert reply.header("Content-Type") == "application/x-test"
    assert reply.body == bytes(range(256)) + sent


def test_status_repeated_headers_and_cookies(t: DevTransport | LambdaTransport) -> None:
    reply = t.request("GET", "/made")
    assert reply.status == 201
    assert reply.body == b"made"
    assert reply.header("Content-Type") == "text/plain; charset=utf-8"
    assert reply.header("X-One") == "1, 2"
    assert sorted(reply.all("Set-Cookie")) == ["a=1; Path=/", "b=2; Path=/"]


def test_no_content_and_head(t: DevTransport | LambdaTransport) -> None:
    empty = t.request("DELETE", "/empty")
    assert (empty.status, empty.body) == (204, b"")
    head = t.request("HEAD", "/echo")  # answered by the GET route, without the body
    assert (head.status, head.body, head.header("Content-Type")) == (200, b"", "application/json")


@pytest.mark.parametrize(
    ("value", "char"),
    [
        ("a%0d%0aSet-Cookie:%20session=evil", "U+000D"),
        ("a%0aX-Injected:%201", "U+000A"),
        ("nul%00byte", "U+0000"),
        ("caf%C3%A9", "U+00E9"),
    ],
)
def test_an_unsafe_header_value_is_a_500_and_never_sent(
    t: DevTransport | LambdaTransport, value: str, char: str
) -> None:
    reply = t.request("GET", f"/header?v={value}")
    assert reply.status == 500
    assert reply.all("Set-Cookie") == []
    assert reply.header("X-Injected") is None
    assert reply.header("X-Next") is None
    body = reply.json()
    assert body["code"] == "InternalServerError"
    assert body["message"].startswith("[Request ID: ")
    assert body["message"].endswith("] Server Error")
    assert char not in body["message"]
    assert "evil" not in body["message"]


@pytest.mark.parametrize("code", ["99", "600", "100", "1000"])
def test_an_invalid_status_is_a_500(t: DevTransport | LambdaTransport, code: str) -> None:
    reply = t.request("GET", f"/status?code={code}")
    assert reply.status == 500
    assert reply.json()["code"] == "InternalServerError"
    assert t.request("GET", "/status?code=418").status == 418


# ---------------------------------------------------------------------------------------------------- errors


def test_uncaught_exceptions_are_500_without_internals(t: DevTransport | LambdaTransport) -> None:
    for path in ("/boom", "/not-a-response"):
        reply = t.request("GET", path)
        assert reply.status == 500, path
        body = reply.json()
        assert set(body) == {"code", "message"}
        assert body["code"] == "InternalServerError"
        assert body["message"].endswith("] Server Error"), body
        for leak in ("secret", "private.py", "RuntimeError", "dict", "Traceback"):
            assert leak not in reply.body.decode(), (path, leak)


def test_a_convex_error_is_a_500_with_its_data(t: DevTransport | LambdaTransport) -> None:
    reply = t.request("GET", "/deliberate")
    assert reply.status == 500
    body = reply.json()
    assert body["data"] == {"code": "NOPE"}
    assert body["message"].endswith('Uncaught ConvexError: {"code":"NOPE"}')


def test_the_dev_server_shows_what_failed_and_where(tmp_path: Path) -> None:
    with dev_transport(settings(tmp_path, expose_errors=True)) as dev:
        reply = dev.request("GET", "/boom")
        assert reply.status == 500
        message = reply.json()["message"]
        assert "Uncaught RuntimeError: secret internal detail" in message
        assert "(httpapp/http.py:" in message
        reply = dev.request("GET", "/header?v=a%0d%0ab")
        assert (
            "Uncaught InvalidHttpResponse: Response header 'X-Next': the value contains a control character"
            in (reply.json()["message"])
        )
        log = dev.server.out.getvalue()  # type: ignore[attr-defined]
        assert "GET /boom /boom 500 server_error" in log
        assert 'raise RuntimeError("secret internal detail' in log


# --------------------------------------------------------------------------------------------------- routing


def test_exact_paths_then_the_longest_prefix(t: DevTransport | LambdaTransport) -> None:
    assert t.request("GET", "/files/a/b.txt").json() == {"route": "files", "path": "/files/a/b.txt"}
    assert t.request("GET", "/files/deep/x").json() == {"route": "deep", "path": "/files/deep/x"}
    assert t.request("GET", "/files/").json()["route"] == "files"
    assert t.request("GET", "/files").status == 404  # a prefix matches below it, not the bare folder name
    assert t.request("PATCH", "/anything/at/all").json() == {"route": "catch-all", "path": "/anything/at/all"}


def test_no_route_is_a_404(t: DevTransport | LambdaTransport) -> None:
    reply = t.request("POST", "/nothing-here")
    assert reply.status == 404
    # (the "/" prefix serves PATCH everywhere outside /api)
    assert reply.json() == {
        "code": "NotFound",
        "message": "No route for POST /nothing-here; this path has routes for PATCH.",
    }
    reply = t.request("PUT", "/made")
    assert reply.status == 404
    assert reply.json()["message"] == "No route for PUT /made; this path has routes for GET, PATCH."


def test_http_actions_never_shadow_the_api(t: DevTransport | LambdaTransport) -> None:
    # The "/" prefix route takes every PATCH outside /api; /api stays the Convex API's.
    assert t.request("PATCH", "/api/query").json() == {"code": "NotFound", "message": "No route for PATCH /api/query"}
    assert t.request("PATCH", "/api").status == 404
    assert t.request("GET", "/api/ok").json() == {"status": "ok"}
    headers, body = json_body({"path": "notes:count", "args": {}})
    assert t.request("POST", "/api/query", headers=headers, body=body).json() == {"status": "success", "value": 0}


def test_an_app_without_http_py_answers_404(tmp_path: Path) -> None:
    transport = lambda_transport(Settings(functions_dir=APPS / "wireapp", sqlite_path=tmp_path / "w.sqlite3"))
    try:
        reply = transport.request("GET", "/webhook")
    finally:
        for module in list(sys.modules):
            if module.split(".")[0] == "wireapp":
                del sys.modules[module]
    assert reply.status == 404
    assert "functions/http.py does not exist" in reply.json()["message"]


# -------------------------------------------------------------------------------------------------- identity


def test_identity_from_cookie_or_bearer_and_mutations_from_the_action(t: DevTransport | LambdaTransport) -> None:
    assert t.request("GET", "/whoami").json() == {"subject": None}
    user_id, cookie, token = sign_up(t)
    assert t.request("GET", "/whoami", headers=[("Cookie", cookie)]).json() == {"subject": user_id}
    assert t.request("GET", "/whoami", headers=[("Authorization", f"Bearer {token}")]).json() == {"subject": user_id}
    # A cookie on a state-changing request from a foreign origin is set aside (the CSRF origin check), and said so.
    reply = t.request("POST", "/whoami", headers=[("Cookie", cookie), ("Origin", "https://evil.example")])
    assert reply.json() == {"subject": None}
    assert reply.header("X-Authlib-Auth-Ignored")
    assert t.request("POST", "/whoami", headers=[("Cookie", cookie), ("Origin", ORIGIN)]).json() == {"subject": user_id}
    # A bearer token that names no session is no session either (Better Auth's bearer plugin), and said so.
    reply = t.request("GET", "/whoami", headers=[("Authorization", "Bearer not-a-session-token")])
    assert (reply.status, reply.json()) == (200, {"subject": None})
    assert reply.header("X-Authlib-Auth-Ignored") == BEARER_IGNORED_REASONS["INVALID_TOKEN"]
    assert t.request("PUT", "/count", body=b"first").json() == {"count": 1}
    assert t.request("PUT", "/count", body=b"second").json() == {"count": 2}


def test_a_bad_bearer_jwt_fails_only_when_identity_is_asked_for(t: DevTransport | LambdaTransport) -> None:
    jwt_like = [("Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln")]
    assert t.request("GET", "/echo", headers=jwt_like).status == 200  # a webhook sender's own token: not ours
    reply = t.request("GET", "/whoami", headers=jwt_like)
    assert reply.status == 401
    assert reply.json()["code"] == "NoAuthProvider"


# ----------------------------------------------------------------------------------------------------- limits


def test_request_body_limit_on_the_dev_server(tmp_path: Path) -> None:
    with dev_transport(settings(tmp_path)) as dev:
        fits = dev.request("POST", "/echo", body=b"x" * MAX_REQUEST_BODY_BYTES)
        assert fits.json()["length"] == MAX_REQUEST_BODY_BYTES
        reply = dev.request("POST", "/echo", body=b"x" * (MAX_REQUEST_BODY_BYTES + 1))
    assert reply.status == 413
    assert reply.json()["code"] == "RequestTooLarge"
    assert str(MAX_REQUEST_BODY_BYTES) in reply.json()["message"]


def test_request_body_limit_in_lambda(tmp_path: Path) -> None:
    """The limit applies to the body as the event carries it: text as it is, binary base64-encoded."""
    app = lambda_transport(settings(tmp_path)).app

    def text_event(size: int) -> dict[str, Any]:
        event = make_event("POST", "/echo", request_id="r")
        event.update(body="x" * size, isBase64Encoded=False)
        return event

    fits = app(text_event(MAX_REQUEST_BODY_BYTES), Context())
    assert json.loads(fits["body"])["length"] == MAX_REQUEST_BODY_BYTES
    reply = app(text_event(MAX_REQUEST_BODY_BYTES + 1), Context())
    assert reply["statusCode"] == 413
    body = json.loads(reply["body"])
    assert body["code"] == "RequestTooLarge"
    assert f"takes {MAX_REQUEST_BODY_BYTES + 1} bytes in the Lambda event" in body["message"]


def test_a_binary_body_counts_base64_encoded(tmp_path: Path) -> None:
    """A binary body travels base64-encoded in the Lambda event: the dev server applies the same limit to it."""
    binary = b"\xff" * (MAX_REQUEST_BODY_BYTES * 3 // 4 + 3)  # fits raw, not as base64
    for transport in (lambda_transport(settings(tmp_path)),):
        reply = transport.request("POST", "/binary", body=binary)
        assert reply.status == 413
        assert "base64" in reply.json()["message"]
    with dev_transport(settings(tmp_path)) as dev:
        reply = dev.request("POST", "/binary", body=binary)
        assert reply.status == 413
        assert "base64" in reply.json()["message"]
        ok = dev.request("POST", "/binary", body=b"\xff" * (MAX_REQUEST_BODY_BYTES * 3 // 4 - 3))
        assert ok.status == 200


def test_response_size_limit(t: DevTransport | LambdaTransport) -> None:
    fits = MAX_RESPONSE_PAYLOAD_BYTES - 200
    assert t.request("GET", f"/big?n={fits}").status == 200
    reply = t.request("GET", f"/big?n={MAX_RESPONSE_PAYLOAD_BYTES}")
    assert reply.status == 500
    body = reply.json()
    assert body["code"] == "ResponseTooLarge"
    assert f"the limit is {MAX_RESPONSE_PAYLOAD_BYTES} bytes" in body["message"]


# ------------------------------------------------------------------------------------------------------- CORS


def test_cors_preflights_are_the_servers_and_other_options_reach_the_route(tmp_path: Path) -> None:
    with dev_transport(settings(tmp_path), cors=CorsPolicy((ORIGIN,))) as dev:
        preflight = dev.request(
            "OPTIONS", "/echo", headers=[("Origin", ORIGIN), ("Access-Control-Request-Method", "POST")]
        )
        assert preflight.status == 204
        assert preflight.header("Access-Control-Allow-Origin") == ORIGIN
        assert "POST" in (preflight.header("Access-Control-Allow-Methods") or "")
        assert preflight.header("Allow") is None  # the route did not run
        plain = dev.request("OPTIONS", "/echo")
        assert (plain.status, plain.header("Allow")) == (204, "GET, OPTIONS")
        # API Gateway ignores an integration's CORS headers and sends its configured ones; so does the dev server.
        own = dev.request("GET", "/own-cors", headers=[("Origin", ORIGIN)])
        assert own.all("Access-Control-Allow-Origin") == [ORIGIN]
        assert own.header("X-Kept") == "yes"
        foreign = dev.request("GET", "/own-cors", headers=[("Origin", "https://evil.example")])
        assert foreign.all("Access-Control-Allow-Origin") == []


def test_http_routes_win_over_static_files_on_the_dev_server(tmp_path: Path) -> None:
    static = tmp_path / "dist"
    (static / "files").mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html><title>app</title>")
    (static / "files" / "a.txt").write_text("static file")
    with dev_transport(settings(tmp_path), static_dir=static) as dev:
        assert dev.request("GET", "/files/a.txt").json() == {"route": "files", "path": "/files/a.txt"}
        assert b"<title>app</title>" in dev.request("GET", "/").body


# ------------------------------------------------------------------------------------------ deployment kinds


def test_a_deployment_that_does_not_serve_http_actions_refuses_them(tmp_path: Path) -> None:
    transport = lambda_transport(settings(tmp_path, allowed_kinds=frozenset({"query"})))
    reply = transport.request("GET", "/echo")
    assert reply.status == 403
    assert reply.json()["code"] == "Forbidden"
    assert "AUTHLIB_ALLOWED_KINDS=query" in reply.json()["message"]


def test_the_http_action_function_answers_unrouted_api_paths_404(tmp_path: Path) -> None:
    """On AWS the $default route brings every unrouted request to the HTTP action function; /api ones get 404."""
    transport = lambda_transport(settings(tmp_path, allowed_kinds=frozenset({"http"})))
    for method, path in (("PUT", "/api/auth/sign-out"), ("DELETE", "/api/auth/delete-user"), ("POST", "/api/auth/x")):
        reply = transport.request(method, path, headers=[("Origin", ORIGIN)])
        assert reply.status == 404, (method, path, reply.body)
        assert reply.json()["message"].endswith("this endpoint serves only HTTP actions")
    assert transport.request("GET", "/api/nope").status == 404
    headers, body = json_body({"path": "notes:add", "args": {"text": "x"}})
    reply = transport.request("POST", "/api/mutation", headers=headers, body=body)
    assert (reply.status, reply.json()["code"]) == (403, "Forbidden")
    assert transport.request("GET", "/echo").status == 200


def test_json_response_encoding(t: DevTransport | LambdaTransport) -> None:
    reply = t.request("POST", "/parse", body=json.dumps({"k": "\u2603"}).encode())
    assert reply.body == '{"got":{"k":"☃"}}'.encode()


# ---------------------------------------------------------------------------------------------------- reload

VERSIONED = """
from authlib_core import Response, http_action, http_router

@http_action
def version(ctx, request):
    return Response("{version}")

http = http_router()
http.route(path="{path}", method="GET", handler=version)
"""


def _write(path: Path, text: str) -> None:
    path.write_text(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a change even within one mtime tick


def _eventually(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_the_dev_server_follows_edits_of_http_py(tmp_path: Path) -> None:
    folder = tmp_path / "reloadhttp"
    folder.mkdir()
    http_py = folder / "http.py"
    _write(http_py, VERSIONED.format(version="v1", path="/version"))
    try:
        with dev_transport(
            Settings(functions_dir=folder, sqlite_path=tmp_path / "r.sqlite3"), reload_interval=0.05
        ) as dev:
            assert dev.request("GET", "/version").body == b"v1"
            _write(http_py, VERSIONED.format(version="v2", path="/version"))
            assert _eventually(lambda: dev.request("GET", "/version").body == b"v2")
            _write(http_py, "http = None\n")  # a broken edit: the last good router keeps answering
            assert _eventually(lambda: "could not load" in dev.server.out.getvalue())  # type: ignore[attr-defined]
            assert "`http` is a NoneType, not a router" in dev.server.out.getvalue()  # type: ignore[attr-defined]
            assert dev.request("GET", "/version").body == b"v2"
            _write(http_py, VERSIONED.format(version="v3", path="/moved"))
            assert _eventually(lambda: dev.request("GET", "/moved").body == b"v3")
            assert dev.request("GET", "/version").status == 404
    finally:
        for module in list(sys.modules):
            if module.split(".")[0] == "reloadhttp":
                del sys.modules[module]

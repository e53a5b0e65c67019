"""The HTTP action router (Convex's httpRouter rules), Request/Response checks, and loading functions/http.py."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from authlib_core import Request, Response, http_action, http_router
from authlib_core.errors import FunctionLoadError
from authlib_core.functions import load_functions
from authlib_core.functions.http_messages import InvalidHttpResponseError, InvalidRequestBodyError
from authlib_core.functions.http_router import HttpActionDefinition, is_api_path

MakeApp = Callable[..., Path]


@http_action
def first(ctx: Any, request: Any) -> Response:
    return Response("first")


@http_action
def second(ctx: Any, request: Any) -> Response:
    return Response("second")


def test_exact_before_prefix_and_the_longest_prefix_wins() -> None:
    # Convex's documented example: with /a/b, /a/ and /a/b/ registered.
    http = http_router()
    http.route(path="/a/b", method="GET", handler=first)
    http.route(path_prefix="/a/", method="GET", handler=second)
    http.route(path_prefix="/a/b/", method="GET", handler=first)
    found = {p: http.lookup(p, "GET") for p in ("/a/b", "/a/b/c", "/a/x", "/a", "/b")}
    assert {p: (m.label if m else None) for p, m in found.items()} == {
        "/a/b": "/a/b",
        "/a/b/c": "/a/b/*",
        "/a/x": "/a/*",
        "/a": None,
        "/b": None,
    }
    assert found["/a/x"] is not None
    assert found["/a/x"].handler is second
    assert http.lookup("/a/b", "POST") is None  # routes are per method
    head = http.lookup("/a/b", "HEAD")  # HEAD is served by the GET route
    assert head is not None
    assert (head.method, head.handler) == ("GET", first)
    assert http.routes == [("GET", "/a/b"), ("GET", "/a/*"), ("GET", "/a/b/*")]
    assert http.methods_at("/a/b") == ["GET"]


def test_api_paths_are_never_matched_or_registered() -> None:
    http = http_router()
    http.route(path_prefix="/", method="POST", handler=first)
    assert http.lookup("/anything", "POST") is not None
    assert http.lookup("/api/query", "POST") is None
    assert http.lookup("/api", "POST") is None
    assert http.lookup("/apiary", "POST") is not None
    for kwargs in ({"path": "/api"}, {"path": "/api/hook"}, {"path_prefix": "/api/"}, {"path_prefix": "/api/x/"}):
        with pytest.raises(ValueError, match="is under /api, which belongs to the Convex API"):
            http.route(method="GET", handler=first, **kwargs)
    assert (is_api_path("/api/"), is_api_path("/ap"), is_api_path("/api-docs")) == (True, False, False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"path": "/x", "method": "get"}, "'get' is not a method a route can serve (methods are upper case)"),
        ({"path": "/x", "method": "HEAD"}, "HEAD requests are answered by the GET route"),
        ({"path": "/x", "method": "TRACE"}, "use one of GET, POST, PUT, DELETE, OPTIONS, PATCH"),
        ({"method": "GET"}, "exactly one of path= (an exact path) or path_prefix="),
        ({"path": "/x", "path_prefix": "/x/", "method": "GET"}, "exactly one of"),
        ({"path": "x", "method": "GET"}, "path 'x' does not start with a /"),
        ({"path_prefix": "/x", "method": "GET"}, "path_prefix '/x' must end with a / (for example '/x/')"),
        ({"path": "/a b", "method": "GET"}, "holds ' ', which a URL path cannot carry"),
        ({"path": "/a?b=1", "method": "GET"}, "holds '?'"),
        ({"path": "/caf\u00e9", "method": "GET"}, "percent-encode it"),
        ({"path": "/a\r\nb", "method": "GET"}, "holds '\\r'"),
    ],
)
def test_bad_routes_are_refused_with_the_reason(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        http_router().route(handler=first, **kwargs)


def test_duplicates_and_undecorated_handlers_are_refused() -> None:
    http = http_router()
    http.route(path="/x", method="GET", handler=first)
    http.route(path="/x", method="POST", handler=first)
    http.route(path_prefix="/x/", method="GET", handler=first)
    with pytest.raises(ValueError, match="Path '/x' for method GET is already in use"):
        http.route(path="/x", method="GET", handler=second)
    with pytest.raises(ValueError, match="GET path_prefix '/x/' is already defined"):
        http.route(path_prefix="/x/", method="GET", handler=second)
    with pytest.raises(TypeError, match="decorate it with @http_action"):
        http.route(path="/y", method="GET", handler=lambda ctx, request: None)  # type: ignore[arg-type]


def test_http_action_keeps_the_handler_callable() -> None:
    assert isinstance(first, HttpActionDefinition)
    assert first(None, None).content == b"first"
    assert (first.name, first.module) == ("first", __name__)
    assert http_action(first) is first


def test_an_async_http_action_is_refused_where_it_is_defined() -> None:
    async def hook(ctx: Any, request: Any) -> Response:
        return Response("never")

    with pytest.raises(FunctionLoadError, match=r"function `.*hook` is `async def`; handlers here are plain functions"):
        http_action(hook)


# --------------------------------------------------------------------------------------------- Request


def test_request_parts() -> None:
    request = Request(
        "GET", "https://h.example/p/q?a=1&b=&a=2", headers={"X-Sig": "s3cr3t", "Content-Type": "a/b"}, body=b"\xff"
    )
    assert (request.path, request.raw_query) == ("/p/q", "a=1&b=&a=2")
    assert dict(request.query) == {"a": "1", "b": ""}
    assert request.query_all("a") == ["1", "2"]
    assert request.headers["x-sig"] == request.headers["X-SIG"] == "s3cr3t"
    assert "content-type" in request.headers
    assert "missing" not in request.headers
    assert "s3cr3t" not in repr(request.headers)  # header values (credentials) are never in a repr
    with pytest.raises(InvalidRequestBodyError, match="not UTF-8"):
        request.text()
    assert Request("POST", "http://h/", headers={}, body=b'[1, {"a": null}]').json() == [1, {"a": None}]
    with pytest.raises(InvalidRequestBodyError, match="Infinity is not valid JSON"):
        Request("POST", "http://h/", headers={}, body=b"Infinity").json()
    with pytest.raises(InvalidRequestBodyError, match=r"the string at \.a contains a lone surrogate"):
        Request("POST", "http://h/", headers={}, body=b'{"a": "\\ud800"}').json()


# -------------------------------------------------------------------------------------------- Response


def test_response_bodies_and_content_types() -> None:
    assert (Response().content, Response().content_type, Response().status) == (b"", None, 200)
    assert (Response("é").content, Response("é").content_type) == ("é".encode(), "text/plain; charset=utf-8")
    assert Response(b"\x00").content_type == "application/octet-stream"
    assert Response(bytearray(b"ab")).content == b"ab"
    assert (Response([1, "x"]).content, Response(True).content_type) == (b'[1,"x"]', "application/json")
    custom = Response("<p>", headers={"content-type": "text/html"})
    assert custom.content_type == "text/html"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": 199}, "status 199 is not a final HTTP status; use 200-599"),
        ({"status": 600}, "status 600 is not a final HTTP status"),
        ({"status": True}, "status must be an int such as 200 or 404, got bool"),
        ({"status": "200"}, "status must be an int such as 200 or 404, got str"),
        ({"status": 204, "body": "x"}, "a 204 response has no body"),
        ({"headers": {"X-A": "a\r\nSet-Cookie: x=1"}}, "'X-A': the value contains a control character (U+000D)"),
        ({"headers": {"X-A": "a\nb"}}, "(U+000A) at position 1"),
        ({"headers": {"X-A": "\u00e9"}}, "a non-ASCII character (U+00E9)"),
        ({"headers": {"X-A": 1}}, "the value must be a str, got int"),
        ({"headers": {"Bad Name": "x"}}, "Response header 'Bad Name': a header name must be"),
        ({"headers": {"X\r\nInjected": "x"}}, "Response header (a str name, not shown)"),
        ({"headers": {"Content-Length": "1"}}, "'Content-Length' is set by the server"),
        ({"headers": "X-A: 1"}, "headers must be a mapping or a list of (name, value) pairs"),
        ({"headers": [("X-A",)]}, "headers must be a mapping or a list of (name, value) pairs"),
        ({"body": {1, 2}}, "a body of type set is not JSON-serialisable"),
        ({"body": float("nan")}, "NaN and Infinity are not JSON"),
        ({"body": "\ud800"}, "lone surrogate at position 0"),
    ],
)
def test_invalid_responses_are_refused_where_they_are_built(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidHttpResponseError) as info:
        Response(**kwargs)
    assert message in info.value.message
    assert "x=1" not in info.value.message  # the value is never echoed


def test_tab_and_visible_ascii_are_allowed_in_values() -> None:
    value = "".join(chr(c) for c in range(0x20, 0x7F)) + "\t"
    assert Response(headers=[("X-All", value), ("set-cookie", "a=1")]).headers == (
        ("X-All", value),
        ("set-cookie", "a=1"),
    )


# ----------------------------------------------------------------------------------------------- loader


ROUTES = """
    from authlib_core import Response, http_action, http_router
    from functions.notes import shout

    @http_action
    def hook(ctx, request):
        return Response("ok")

    http = http_router()
    http.route(path="/hook", method="POST", handler=hook)
    http.route(path_prefix="/shout/", method="GET", handler=shout)
"""

NOTES = """
    from authlib_core import Response, http_action, query

    @query
    def listed(ctx):
        return []

    @http_action
    def shout(ctx, request):
        return Response(request.path.upper())
"""


def test_http_py_is_loaded_as_the_router_and_its_actions_are_not_functions(make_app: MakeApp) -> None:
    app = load_functions(make_app({"http.py": ROUTES, "notes.py": NOTES}))
    assert list(app.registry) == ["notes:listed"]  # HTTP actions are reachable only at their routes
    assert app.http is not None
    assert app.http.routes == [("POST", "/hook"), ("GET", "/shout/*")]
    assert app.http.lookup("/shout/x", "GET") is not None
    assert load_functions(make_app({"notes.py": NOTES}, name="other")).http is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x = 1\n", "http.py: defines no `http`; write `http = http_router()`"),
        ("http = {}\n", "http.py: `http` is a dict, not a router"),
        (
            "from authlib_core import http_router\nhttp = http_router()\nhttp.route(path='/api/x', method='GET', "
            "handler=None)\n",
            "the module failed to import (line 3 of http.py): TypeError",
        ),
    ],
)
def test_a_bad_http_py_is_a_load_error_naming_the_file(make_app: MakeApp, text: str, message: str) -> None:
    with pytest.raises(FunctionLoadError) as info:
        load_functions(make_app({"http.py": text}))
    assert message in info.value.message

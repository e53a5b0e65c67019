"""The fixed function-call routes answered without the Powertools resolver answer exactly as through it."""

from __future__ import annotations

import json

import pytest

from tests.http.conftest import GOOD_TOKEN, Context, make_event

BEARER = {"authorization": f"Bearer {GOOD_TOKEN}"}

REQUESTS = [
    ("POST", "/api/query", {"path": "calls:echo", "args": {"value": {"a": [1, "x", None]}}}, {}),
    ("POST", "/api/query", {"path": "calls:echo", "args": {"value": 1}, "format": "convex_encoded_json"}, {}),
    ("POST", "/api/query", {"path": "calls:whoami", "args": {}}, BEARER),
    ("POST", "/api/query", {"path": "calls:fail_convex", "args": {}}, {}),
    ("POST", "/api/query", {"path": "calls:boom", "args": {}}, {}),
    ("POST", "/api/query", {"path": "calls:shout", "args": {"text": "hi"}}, {}),
    ("POST", "/api/query", {"path": "calls:nope", "args": {}}, {}),
    ("POST", "/api/query", b"{not json", {}),
    ("POST", "/api/mutation", {"path": "calls:shout", "args": {"text": "hi"}}, {}),
    ("POST", "/api/mutation", {"path": "calls:shout", "args": {"text": 5}}, {}),
    ("POST", "/api/mutation", {"path": "calls:conflict", "args": {}}, {}),
    ("POST", "/api/action", {"path": "calls:act", "args": {}}, {}),
    ("POST", "/api/function", {"path": "calls:echo", "args": {"value": 2}}, {}),
    ("POST", "/api/function", {"path": "calls:hidden", "args": {}}, {}),
    ("POST", "/api/query", {"path": "calls:filler", "args": {"n": 7_000_000, "char": "x"}}, {}),  # too large
]


def both(client, event):
    """The app's answer (direct for these routes) and the Powertools resolver's, for copies of one event."""
    direct = client.app(json.loads(json.dumps(event)), Context())
    via_resolver = client.app._build_resolver().resolve(json.loads(json.dumps(event)), Context())
    return direct, via_resolver


@pytest.mark.parametrize(("method", "path", "body", "headers"), REQUESTS)
def test_same_answer_as_the_resolver(client, method, path, body, headers):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    event = make_event(method, path, raw, headers=headers, request_id="rid-same")
    direct, via_resolver = both(client, event)
    if "filler" in raw.decode():  # the size check runs after either; the resolver's own answer is the 200 result
        assert direct["body"].startswith('{"status":"error"')
        assert "ResponseTooLarge" in direct["body"]
        return
    assert direct == via_resolver
    assert list(direct) == list(via_resolver)


def test_get_query_and_the_auth_ignored_header(client):
    event = make_event("GET", "/api/query", query="path=calls%3Aecho&args=%7B%22value%22%3A3%7D")
    direct, via_resolver = both(client, event)
    assert direct == via_resolver
    assert json.loads(direct["body"]) == {"status": "success", "value": 3}


def test_requests_the_resolver_keeps(client):
    """A lower-case method, a path with a trailing newline, /api/run: the resolver answers, as before."""
    for event in (
        make_event("post", "/api/query", b'{"path":"calls:echo","args":{"value":1}}'),
        make_event("POST", "/api/query\n", b'{"path":"calls:echo","args":{"value":1}}'),
        make_event("POST", "/api/run/calls/echo", b'{"args":{"value":1}}'),
        make_event("PUT", "/api/query", b"{}"),
    ):
        direct, via_resolver = both(client, event)
        assert direct == via_resolver


def test_a_route_failure_outside_the_call_answers_500_as_the_resolver_did(client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("on_call failed")

    monkeypatch.setattr(client.app, "_record", broken)
    event = make_event("POST", "/api/query", b'{"path":"calls:echo","args":{"value":1}}', request_id="rid-500")
    direct, via_resolver = both(client, event)
    assert direct == via_resolver
    assert direct["statusCode"] == 500
    assert "rid-500" in direct["body"]
    assert client.log.getvalue().count("unhandled exception in a route") == 2


@pytest.mark.filterwarnings("ignore:POWERTOOLS_DEV environment variable is enabled")
def test_debug_mode_leaves_everything_to_the_resolver(client, monkeypatch, capsys):
    monkeypatch.setenv("POWERTOOLS_DEV", "1")
    client.app._local.__dict__.clear()  # the resolver reads the variable when it is built
    client.post("/api/query", {"path": "calls:echo", "args": {"value": 1}}, request_id="rid-debug")
    assert "rid-debug" in capsys.readouterr().out  # the resolver printed the event


def test_the_route_is_read_from_the_path_the_resolver_reads(client):
    """The resolver routes by ``rawPath``, not ``requestContext.http.path``: an event whose two paths differ gets the
    resolver's answer (here 404), never the function-call route its ``http.path`` names."""
    differing = make_event("POST", "/api/queryx", b'{"path":"calls:echo","args":{"value":1}}')
    differing["requestContext"]["http"]["path"] = "/api/query"
    direct, via_resolver = both(client, differing)
    assert direct == via_resolver
    assert json.loads(direct["body"])["code"] == "NotFound"

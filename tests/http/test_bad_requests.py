"""Malformed requests get a 4xx ``{"code", "message"}`` (or a function error where Convex gives one), never a 500."""

from __future__ import annotations

import json

import pytest

from authlib_core.http.wire import MAX_BODY_BYTES

BAD_BODIES = [
    pytest.param(b"not json", "BadJsonBody", id="not-json"),
    pytest.param(b"", "BadJsonBody", id="empty"),
    pytest.param(b"\xff\xfe\x00", "BadJsonBody", id="not-utf8"),
    pytest.param(b'[{"path":"calls:echo"}]', "BadJsonBody", id="array-not-object"),
    pytest.param(b'"calls:echo"', "BadJsonBody", id="string-not-object"),
    pytest.param(b"null", "BadJsonBody", id="null"),
    pytest.param(b'{"args":{}}', "BadJsonBody", id="missing-path"),
    pytest.param(b'{"path":5,"args":{}}', "BadJsonBody", id="path-not-string"),
    pytest.param(b'{"path":"a b:c","args":{}}', "BadConvexFunctionIdentifier", id="path-with-space"),
    pytest.param(b'{"path":"calls:echo\\u009b31m","args":{}}', "BadConvexFunctionIdentifier", id="path-with-c1"),
    pytest.param(b'{"path":"calls:echo\\u007f","args":{}}', "BadConvexFunctionIdentifier", id="path-with-del"),
    pytest.param(b'{"path":"calls:echo","args":5}', "InvalidArguments", id="args-number"),
    pytest.param(b'{"path":"calls:echo","args":"x"}', "InvalidArguments", id="args-string"),
    pytest.param(b'{"path":"calls:echo","args":[]}', "InvalidArguments", id="args-empty-array"),
    pytest.param(b'{"path":"calls:echo","args":[{},{}]}', "InvalidArguments", id="args-two-elements"),
    pytest.param(b'{"path":"calls:echo","args":[5]}', "InvalidArguments", id="args-array-of-number"),
    pytest.param(b'{"path":"calls:echo","args":{},"format":"xml"}', "BadFormat", id="unknown-format"),
    pytest.param(b'{"path":"calls:echo","args":{},"format":5}', "BadFormat", id="format-not-string"),
    pytest.param(b'{"path":"calls:echo","args":{"value":NaN}}', "BadJsonBody", id="nan-literal"),
    pytest.param(b'{"path":"calls:echo","args":{"value":Infinity}}', "BadJsonBody", id="infinity-literal"),
]


@pytest.mark.parametrize(("body", "code"), BAD_BODIES)
@pytest.mark.parametrize("route", ["/api/query", "/api/mutation", "/api/action"])
def test_bad_body_is_400(client, route, body, code):
    status, answer = client.post(route, body)
    assert status == 400
    assert answer == {"code": code, "message": answer["message"]}
    assert answer["message"]
    assert "Traceback" not in answer["message"]


def test_function_route_wants_named_args(client):
    status, body = client.post("/api/function", {"path": "calls:echo", "args": [{"value": 1}]})
    assert (status, body["code"]) == (400, "InvalidArguments")


def test_api_run_bad_body(client):
    assert client.post("/api/run/calls/echo", b"{nope")[1]["code"] == "BadJsonBody"
    assert client.post("/api/run/calls/echo", {"args": {}, "format": "yaml"})[1]["code"] == "BadFormat"


def test_dollar_key_in_args_is_a_function_error(client):
    # Convex converts arguments inside the function call: a value it cannot represent is a function error.
    status, body = client.post("/api/query", {"path": "calls:echo", "args": {"value": {"$bad": 1}}})
    assert status == 200
    assert body["status"] == "error"
    assert "$bad" in body["errorMessage"]
    assert "Traceback" not in body["errorMessage"]


def test_oversized_body(client):
    filler = "x" * (MAX_BODY_BYTES + 10)
    status, body = client.post("/api/mutation", json.dumps({"path": "calls:shout", "args": {"text": filler}}))
    assert (status, body["code"]) == (400, "RequestTooLarge")


def test_body_just_under_the_limit_is_read(client):
    text = "x" * (MAX_BODY_BYTES - 100)
    status, body = client.post("/api/mutation", json.dumps({"path": "calls:shout", "args": {"text": text}}))
    assert status == 200
    assert body["status"] == "success"
    assert len(body["value"]) == len(text)


def test_content_type_is_not_enforced(client):
    # `curl -d` sends application/x-www-form-urlencoded; Convex reads the body as JSON anyway.
    status, body = client.post(
        "/api/query",
        {"path": "calls:echo", "args": {"value": "ok"}},
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert (status, body["value"]) == (200, "ok")


def test_plain_text_body_event(client):
    # API Gateway passes text bodies unencoded (isBase64Encoded false).
    from tests.http.conftest import Context, make_event

    event = make_event("POST", "/api/query")
    event["body"] = json.dumps({"path": "calls:echo", "args": {"value": "é"}})
    event["isBase64Encoded"] = False
    response = client.app(event, Context())
    assert json.loads(response["body"]) == {"status": "success", "value": "é"}


def test_malformed_event_is_an_opaque_500(client):
    from tests.http.conftest import Context

    response = client.app({"version": "2.0", "requestContext": {"requestId": "r-1"}}, Context())
    assert response["statusCode"] == 500
    body = json.loads(response["body"])
    assert body == {"code": "InternalServerError", "message": "[Request ID: r-1] Server Error"}

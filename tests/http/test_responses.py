"""Every response shape of the wire format, through the Lambda handler with canned API Gateway events."""

from __future__ import annotations

import base64
import struct

import pytest

from tests.http.conftest import GOOD_TOKEN, USER_ID

ENCODED = "convex_encoded_json"


def b64_le(fmt: str, value) -> str:
    return base64.b64encode(struct.pack(fmt, value)).decode()


def test_success_in_convex_encoded_json(client):
    status, body = client.post("/api/query", {"path": "calls:special", "args": {}, "format": ENCODED})
    assert status == 200
    assert set(body) == {"status", "value"}  # logLines omitted
    value = body["value"]
    assert value["big"] == {"$integer": b64_le("<q", 2**62)}
    assert value["negative"] == {"$integer": "//////////8="}
    assert value["bytes"] == {"$bytes": "ABCD"}
    assert value["nan"] == {"$float": "AAAAAAAA+H8="}
    assert value["inf"] == {"$float": "AAAAAAAA8H8="}
    assert value["n"] == 3.5
    assert value["list"][4] == {"deep": [{"$integer": b64_le("<q", 5)}]}


def test_success_in_clean_json(client):
    status, body = client.post("/api/query", {"path": "calls:special", "args": {}, "format": "json"})
    assert status == 200
    value = body["value"]
    assert value["big"] == str(2**62)
    assert value["negative"] == "-1"
    assert value["bytes"] == "ABCD"
    assert value["nan"] == "NaN"
    assert value["inf"] == "Infinity"


def test_format_defaults_to_json_without_client_header(client):
    _, body = client.post("/api/query", {"path": "calls:special", "args": {}})
    assert body["value"]["big"] == str(2**62)


@pytest.mark.parametrize(
    ("client_header", "encoded"),
    [
        ("npm-1.49.0", False),
        ("npm-1.4.1", True),
        ("npm-1.3.0", True),
        ("python-0.5.0", True),
        ("python-0.7.0", False),
        ("rust-0.1.0", False),
        ("garbage", False),
    ],
)
def test_format_default_follows_convex_client_header(client, client_header, encoded):
    _, body = client.post("/api/query", {"path": "calls:special", "args": {}}, headers={"convex-client": client_header})
    assert (body["value"]["big"] == {"$integer": b64_le("<q", 2**62)}) is encoded


def test_args_as_one_element_array_and_encoded_input(client):
    args = [{"value": {"n": {"$integer": b64_le("<q", 10)}, "b": {"$bytes": "ABCD"}, "f": {"$float": "AAAAAAAA+H8="}}}]
    status, body = client.post("/api/query", {"path": "calls:echo", "args": args, "format": ENCODED})
    assert status == 200
    assert body == {
        "status": "success",
        "value": {"b": {"$bytes": "ABCD"}, "f": {"$float": "AAAAAAAA+H8="}, "n": {"$integer": b64_le("<q", 10)}},
    }


def test_convex_error_data_in_both_formats(client):
    status, body = client.post("/api/query", {"path": "calls:fail_convex", "args": {}, "format": ENCODED})
    assert status == 200
    assert body["status"] == "error"
    assert body["errorData"] == {"code": "TOO_LONG", "max": {"$integer": b64_le("<q", 128)}}
    assert "Uncaught ConvexError" in body["errorMessage"]
    _, body = client.post("/api/query", {"path": "calls:fail_convex", "args": {}, "format": "json"})
    assert body["errorData"] == {"code": "TOO_LONG", "max": "128"}


def test_convex_error_with_string_data(client):
    _, body = client.post("/api/query", {"path": "calls:fail_string", "args": {}})
    assert body["errorData"] == "Not authenticated"
    assert body["errorMessage"].endswith("Uncaught ConvexError: Not authenticated")


def test_argument_validation_error(client):
    status, body = client.post("/api/mutation", {"path": "calls:shout", "args": {"text": 5}})
    assert status == 200
    assert body["status"] == "error"
    assert "errorData" not in body
    assert "ArgumentValidationError" in body["errorMessage"]
    assert "text" in body["errorMessage"]


def test_mutation_success(client):
    assert client.post("/api/mutation", {"path": "calls:shout", "args": [{"text": "hi"}]}) == (
        200,
        {"status": "success", "value": "HI"},
    )


def test_action(client):
    assert client.post("/api/action", {"path": "calls:act", "args": {}}) == (
        200,
        {"status": "success", "value": "acted"},
    )


def test_unknown_function(client):
    status, body = client.post("/api/query", {"path": "calls:nope", "args": {}})
    assert status == 200
    assert body["status"] == "error"
    assert body["errorMessage"].startswith("Could not find public function for 'calls:nope'")


def test_internal_function_is_invisible(client):
    for route in ("/api/query", "/api/function"):
        _, body = client.post(route, {"path": "calls:hidden", "args": {}})
        assert body["status"] == "error"
        assert body["errorMessage"].startswith("Could not find public function for 'calls:hidden'")
    _, body = client.post("/api/run/calls/hidden", {"args": {}})
    assert body["errorMessage"].startswith("Could not find public function")


def test_wrong_kind(client):
    status, body = client.post("/api/mutation", {"path": "calls:echo", "args": {"value": 1}})
    assert status == 200
    assert body == {
        "status": "error",
        "errorMessage": "Trying to execute calls:echo as Mutation, but it is defined as Query.",
    }


def test_api_function_runs_any_kind(client):
    assert client.post("/api/function", {"path": "calls:shout", "args": {"text": "a"}})[1]["value"] == "A"
    assert client.post("/api/function", {"path": "calls:act", "args": {}})[1]["value"] == "acted"


def test_api_run(client):
    assert client.post("/api/run/calls/shout", {"args": {"text": "x"}}) == (200, {"status": "success", "value": "X"})
    assert client.post("/api/run/nested/deep/fn", {}) == (200, {"status": "success", "value": "deep"})
    # /api/run defaults to json even when the client header would choose the encoded format.
    _, body = client.post("/api/run/calls/special", {"args": {}}, headers={"convex-client": "npm-1.0.0"})
    assert body["value"]["big"] == str(2**62)


def test_api_run_needs_a_function_name(client):
    status, body = client.post("/api/run/calls", {"args": {}})
    assert status == 400
    assert body["code"] == "BadConvexFunctionIdentifier"


def test_get_query(client):
    status, body = client.call(
        "GET", "/api/query", query="path=calls%3Aecho&args=%7B%22value%22%3A%5B1%2C%22x%22%5D%7D&format=json"
    )
    assert (status, body) == (200, {"status": "success", "value": [1.0, "x"]})
    status, body = client.call("GET", "/api/query", query="path=calls:special&format=convex_encoded_json")
    assert body["value"]["bytes"] == {"$bytes": "ABCD"}


def test_get_query_problems(client):
    assert client.call("GET", "/api/query", query="args=%7B%7D")[0] == 400
    status, body = client.call("GET", "/api/query", query="path=calls:echo&args=%7Bnot json")
    assert status == 400
    assert body["code"] == "BadQueryString"


def test_path_spellings(client):
    assert client.post("/api/query", {"path": "calls.js:echo", "args": {"value": "x"}})[1]["value"] == "x"
    assert client.post("/api/query", {"path": "nested/deep:fn", "args": {}})[1]["value"] == "deep"


def test_conflict_is_503(client):
    status, body = client.post("/api/mutation", {"path": "calls:conflict", "args": {}})
    assert status == 503
    assert body["code"] == "OptimisticConcurrencyControlFailure"
    assert set(body) == {"code", "message"}


def test_storage_unavailable_is_503(client):
    status, body = client.post("/api/query", {"path": "calls:unavailable", "args": {}})
    assert (status, body["code"]) == (503, "StorageUnavailable")


def test_health(client):
    assert client.call("GET", "/api/ok") == (200, {"status": "ok"})


def test_unmatched_route_is_json_404(client):
    for method, path in [
        ("GET", "/nope"),
        ("POST", "/api/queries"),
        ("GET", "/api/mutation"),
        ("DELETE", "/api/query"),
    ]:
        status, body = client.call(method, path)
        assert status == 404
        assert body["code"] == "NotFound"


def test_auth_routes_are_404_until_configured(client):
    event_status, body = client.post("/api/auth/sign-in/email", {"email": "a@b.c", "password": "x"})
    assert event_status == 404
    assert body["code"] == "NotFound"


def test_no_cors_headers_from_the_handler(client):
    response = client.raw(
        "POST",
        "/api/query",
        {"path": "calls:echo", "args": {"value": 1}},
        headers={"origin": "https://app.example.com"},
    )
    assert not [h for h in response["headers"] if h.lower().startswith("access-control-")]
    assert response["headers"]["Content-Type"] == "application/json"


class TestIdentity:
    def test_anonymous(self, client):
        assert client.post("/api/query", {"path": "calls:whoami", "args": {}})[1]["value"] is None

    def test_bearer_token(self, client):
        _, body = client.post(
            "/api/query", {"path": "calls:whoami", "args": {}}, headers={"authorization": f"Bearer {GOOD_TOKEN}"}
        )
        assert body["value"] == USER_ID

    def test_session_cookie(self, client):
        _, body = client.post(
            "/api/query",
            {"path": "calls:whoami", "args": {}},
            cookies=["theme=dark", f"better-auth.session_token={GOOD_TOKEN}"],
        )
        assert body["value"] == USER_ID

    def test_bad_token_is_anonymous(self, client):
        _, body = client.post(
            "/api/query", {"path": "calls:whoami", "args": {}}, headers={"authorization": "Bearer wrong"}
        )
        assert body["value"] is None

    def test_resolver_is_not_consulted_for_rejected_requests(self, client, resolver):
        client.post("/api/query", b"not json")
        assert resolver.calls == 0


def test_take_with_a_json_number_argument(client):
    """``args={"limit": v.number()}`` then ``.take(limit)``: the JSON number arrives as 3.0 and works."""
    assert client.post("/api/mutation", {"path": "calls:seed_notes", "args": {"count": 5}})[1]["status"] == "success"
    status, body = client.post("/api/query", {"path": "calls:latest_notes", "args": {"limit": 3}})
    assert (status, body) == (200, {"status": "success", "value": [4, 3, 2]})
    _, body = client.post("/api/query", {"path": "calls:latest_notes", "args": {"limit": 2.5}})
    assert body["status"] == "error"
    assert "take(): n must be a non-negative whole number" in body["errorMessage"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("calls:insert_in_query", "ctx.db.insert is not available in a query: queries are read-only"),
        ("calls:mutation_from_query", "Cannot call a mutation from a query"),
    ],
)
def test_writing_from_a_query_says_why(client, path, message):
    status, body = client.post("/api/query", {"path": path, "args": {}})
    assert (status, body["status"]) == (200, "error")
    assert message in body["errorMessage"]
    _, notes = client.post("/api/query", {"path": "calls:latest_notes", "args": {"limit": 10}})
    assert notes["value"] == []

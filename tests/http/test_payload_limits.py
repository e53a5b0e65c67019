"""The app's request and response limits come from Lambda's and API Gateway's, and at each boundary the client
gets OUR error (JSON, with the sizes and what to do), never AWS's opaque one.

Lambda's synchronous payload is 6 MB each way; API Gateway HTTP API's is 10 MB (authlib_core/http/payload_limits).
"""

from __future__ import annotations

import json

from authlib_core.http import payload_limits
from authlib_core.http.app import HttpApp
from authlib_core.http.messages import HttpResponse
from authlib_core.http.payload_limits import (
    HTTP_API_PAYLOAD_BYTES,
    LAMBDA_SYNC_PAYLOAD_BYTES,
    MAX_REQUEST_BODY_BYTES,
    MAX_RESPONSE_PAYLOAD_BYTES,
    response_payload_bytes,
)
from authlib_core.http.wire import MAX_BODY_BYTES
from tests.http.conftest import Client, captured_logger, make_event


def test_limits_derive_from_the_platform():
    assert LAMBDA_SYNC_PAYLOAD_BYTES == 6_291_456  # Lambda: "Request must be smaller than 6291456 bytes"
    assert LAMBDA_SYNC_PAYLOAD_BYTES < HTTP_API_PAYLOAD_BYTES  # so Lambda's is the one that binds
    assert MAX_BODY_BYTES == MAX_REQUEST_BODY_BYTES < LAMBDA_SYNC_PAYLOAD_BYTES
    assert MAX_REQUEST_BODY_BYTES == LAMBDA_SYNC_PAYLOAD_BYTES - payload_limits.EVENT_ALLOWANCE_BYTES
    assert MAX_RESPONSE_PAYLOAD_BYTES == LAMBDA_SYNC_PAYLOAD_BYTES


def shout_body(size: int) -> str:
    """A mutation request body of exactly ``size`` bytes."""
    empty = json.dumps({"path": "calls:shout", "args": {"text": ""}})
    body = json.dumps({"path": "calls:shout", "args": {"text": "x" * (size - len(empty))}})
    assert len(body.encode()) == size
    return body


def test_a_body_at_the_limit_fits_a_lambda_event_and_is_read(client):
    body = shout_body(MAX_BODY_BYTES)
    # As API Gateway sends a JSON body: text inside the event, which Lambda measures whole.
    event = {**make_event("POST", "/api/mutation", None), "body": body, "isBase64Encoded": False}
    assert len(json.dumps(event)) < LAMBDA_SYNC_PAYLOAD_BYTES
    status, reply = client.post("/api/mutation", body)
    assert (status, reply["status"]) == (200, "success")
    assert len(reply["value"]) == MAX_BODY_BYTES - len(json.dumps({"path": "calls:shout", "args": {"text": ""}}))


def test_one_byte_over_gets_our_error(client):
    status, reply = client.post("/api/mutation", shout_body(MAX_BODY_BYTES + 1))
    assert status == 400
    assert set(reply) == {"code", "message"}
    assert reply["code"] == "RequestTooLarge"
    assert f"{MAX_BODY_BYTES + 1} bytes" in reply["message"]
    assert f"the limit is {MAX_BODY_BYTES} bytes" in reply["message"]
    assert "6 MB" in reply["message"]


def filler(client, n, char="x"):
    return client.raw("POST", "/api/query", {"path": "calls:filler", "args": {"n": n, "char": char}, "format": "json"})


def test_a_response_at_the_limit_is_sent_and_one_byte_more_gets_our_error(client):
    overhead = response_payload_bytes(filler(client, 0))
    at_limit = filler(client, MAX_RESPONSE_PAYLOAD_BYTES - overhead)
    assert response_payload_bytes(at_limit) == MAX_RESPONSE_PAYLOAD_BYTES  # exactly what Lambda still accepts
    assert json.loads(at_limit["body"])["status"] == "success"

    over = filler(client, MAX_RESPONSE_PAYLOAD_BYTES - overhead + 1)
    assert response_payload_bytes(over) < 4096  # replaced: Lambda will accept it
    assert over["statusCode"] == 200  # a function error, as Convex clients expect it
    reply = json.loads(over["body"])
    assert set(reply) == {"status", "errorMessage"}
    assert reply["status"] == "error"
    assert "ResponseTooLarge" in reply["errorMessage"]
    assert f"is {MAX_RESPONSE_PAYLOAD_BYTES + 1} bytes" in reply["errorMessage"]
    assert "paginate" in reply["errorMessage"]
    assert "response too large" in client.log.getvalue()


def test_results_are_measured_in_bytes_as_lambda_serialises_them(client):
    # python3.12+ runtimes send Unicode as UTF-8: "é" is 1 character and 2 bytes of payload.
    n = MAX_RESPONSE_PAYLOAD_BYTES // 2 + 1000
    response = filler(client, n, "é")
    assert n < MAX_RESPONSE_PAYLOAD_BYTES  # under the limit counted in characters...
    reply = json.loads(response["body"])
    assert reply["status"] == "error"  # ...over it in bytes
    assert "ResponseTooLarge" in reply["errorMessage"]
    # Control characters travel as \\uXXXX escapes: 6 bytes each.
    assert response_payload_bytes({"body": "\x01"}) == len('{"body": "\\u0001"}')


class BigAuthHandler:
    def handle(self, request):
        return HttpResponse(200, {"sessions": ["x" * MAX_RESPONSE_PAYLOAD_BYTES]})


def test_an_oversized_auth_response_gets_our_error(wire_runtime):
    logger, buffer = captured_logger()
    client = Client(HttpApp(lambda: wire_runtime, auth=BigAuthHandler(), logger=logger), buffer)
    status, reply = client.call("GET", "/api/auth/list-sessions")
    assert status == 500
    assert set(reply) == {"code", "message"}
    assert reply["code"] == "ResponseTooLarge"
    assert f"the limit is {MAX_RESPONSE_PAYLOAD_BYTES} bytes" in reply["message"]

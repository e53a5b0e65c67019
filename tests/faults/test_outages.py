"""An unreachable, throttling or hung store is a 503 the client may retry — on every route, never a 200 or a 500.

Faults are injected into the real botocore client (tests/faults/injector.py); the bodies carry no internals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.faults.harness import PASSWORD
from tests.faults.injector import Fault

if TYPE_CHECKING:
    from tests.faults.harness import Stack

pytestmark = pytest.mark.dynamodb_server

#: More attempts than botocore makes (3): its retries run out.
DOWN = 10


def assert_retryable_503(status: int, body: object, stack: Stack) -> None:
    assert status == 503, body
    assert isinstance(body, dict)
    assert body["code"] == "StorageUnavailable", body
    text = str(body)
    for internal in (stack.settings.documents_table, stack.settings.sessions_table, "127.0.0.1", "http://"):
        assert internal not in text, f"{internal!r} leaked into {body}"
    assert "retry" in body["message"].lower()


@pytest.mark.parametrize("kind", ["EndpointConnectionError", "ReadTimeout", "ProvisionedThroughputExceededException"])
def test_get_session_during_an_outage_is_503(stack: Stack, kind: str) -> None:
    token = stack.sign_up("outage-session@example.com")
    stack.injector.arm(Fault("GetItem", kind, attempts=DOWN))
    status, body, _ = stack.request("GET", "/api/auth/get-session", headers={"authorization": f"Bearer {token}"})
    assert_retryable_503(status, body, stack)
    assert stack.injector.fired  # the fault was really hit
    stack.injector.arm(None)
    status, body, _ = stack.request("GET", "/api/auth/get-session", headers={"authorization": f"Bearer {token}"})
    assert status == 200
    assert body["user"]["email"] == "outage-session@example.com"


def test_sign_in_during_an_outage_is_503(stack: Stack) -> None:
    stack.sign_up("outage-sign-in@example.com")
    stack.injector.arm(Fault("UpdateItem", "ThrottlingException", attempts=DOWN))  # the rate-limit counter
    credentials = {"email": "outage-sign-in@example.com", "password": PASSWORD}
    status, body, headers = stack.request("POST", "/api/auth/sign-in/email", credentials)
    assert_retryable_503(status, body, stack)
    assert "set-auth-token" not in headers
    assert "set-cookie" not in headers


def test_a_bearer_authenticated_call_during_an_outage_is_503_not_200(stack: Stack) -> None:
    token = stack.sign_up("outage-bearer@example.com")
    stack.injector.arm(Fault("GetItem", "EndpointConnectionError", attempts=DOWN))  # the session read
    status, body = stack.mutation("bearer-outage", "counter:incrementMine", token=token)
    assert_retryable_503(status, body, stack)
    stack.injector.arm(None)
    assert stack.value("bearer-outage") == 0.0
    assert stack.mutation("bearer-outage", "counter:incrementMine", token=token) == (
        200,
        {"status": "success", "value": 1},
    )


def test_the_log_gets_the_internals_the_body_does_not(stack: Stack) -> None:
    if stack.path != "lambda":
        pytest.skip("the Lambda path's structured log is captured here")
    stack.injector.arm(Fault("Query", "EndpointConnectionError", attempts=DOWN))
    status, body = stack.mutation("logged")
    assert_retryable_503(status, body, stack)
    log = stack.log.getvalue()
    assert stack.settings.documents_table in log  # which table, for the operator
    assert "EndpointConnectionError" in log

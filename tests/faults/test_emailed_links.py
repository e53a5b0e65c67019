"""Emailed links under storage faults: a link is used up exactly when its effect commits.

A password reset hit by a fault at any point answers 200 (the new password is set and the link is used up) or a
retryable 503 (nothing changed, the same link still works): never a burned link with the old password in place.
"""

from __future__ import annotations

import email
import email.policy
import re
from typing import TYPE_CHECKING

import pytest

from tests.faults.harness import PASSWORD, Stack
from tests.faults.injector import Fault

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.dynamodb_server

NEW_PASSWORD = "a new password after the fault"
RETRYABLE = {"StorageUnavailable", "StorageBusy", "ConflictError", "StorageTimeout"}

CASES = [
    Fault("Query", "EndpointConnectionError", attempts=10),  # reading the token
    Fault("TransactWriteItems", "ProvisionedThroughputExceededException", attempts=10),  # the commit refused
    Fault("TransactWriteItems", "ReadTimeout", attempts=1),  # recovered by botocore's retry
    Fault("TransactWriteItems", "lost_response", attempts=1),  # applied, the answer lost
    Fault("TransactWriteItems", "lost_response", attempts=5),
]


@pytest.fixture(params=["lambda", "dev"])
def mail_stack(request: pytest.FixtureRequest, moto_endpoint: str, tmp_path: Path) -> Iterator[Stack]:
    built = Stack(
        moto_endpoint,
        request.param,
        mail="folder",
        mail_dir=tmp_path / "mail",
        base_url="https://api.example.test",
        rate_limit_enabled=False,
    )
    yield built
    built.close()


def _reset_token(stack: Stack, address: str) -> str:
    with stack.injector.paused():
        status, body, _ = stack.request("POST", "/api/auth/request-password-reset", {"email": address})
    assert status == 200, body
    folder = stack.settings.mail_dir
    newest = sorted(folder.iterdir())[-1]
    message = email.message_from_bytes(newest.read_bytes(), policy=email.policy.default)
    text = message.get_body(("plain",))
    assert text is not None
    found = re.search(r"/reset-password/([A-Za-z0-9_-]{43})", text.get_content())
    assert found is not None
    return found.group(1)


def _signs_in(stack: Stack, address: str, password: str) -> bool:
    with stack.injector.paused():
        status, _, _ = stack.request("POST", "/api/auth/sign-in/email", {"email": address, "password": password})
    return status == 200


@pytest.mark.parametrize("fault", CASES, ids=[f"{f.operation}-{f.kind}-x{f.attempts}" for f in CASES])
def test_a_reset_is_applied_with_its_token_or_not_at_all(mail_stack: Stack, fault: Fault) -> None:
    address = f"reset-{fault.operation.lower()}-{fault.kind.lower()}-{fault.attempts}@example.com"
    mail_stack.sign_up(address)
    token = _reset_token(mail_stack, address)
    mail_stack.injector.arm(fault)
    status, body, _ = mail_stack.request(
        "POST", "/api/auth/reset-password", {"newPassword": NEW_PASSWORD, "token": token}
    )
    mail_stack.injector.arm(None)
    assert mail_stack.injector.fired, "the fault was not hit"
    with mail_stack.injector.paused():
        retry, retry_body, _ = mail_stack.request(
            "POST", "/api/auth/reset-password", {"newPassword": NEW_PASSWORD, "token": token}
        )
    if status == 200:
        assert body == {"status": True}
        assert (retry, retry_body["code"]) == (400, "INVALID_TOKEN")  # used up with its effect
    else:
        assert status == 503, body
        assert body["code"] in RETRYABLE, body
        assert (retry, retry_body) == (200, {"status": True})  # the link survived the failure
    assert _signs_in(mail_stack, address, NEW_PASSWORD)
    assert not _signs_in(mail_stack, address, PASSWORD)

"""Emailed links under storage faults: a link is used up exactly when its effect commits.

A password reset hit by a fault at any point answers 200 (the new password is set and the link is used up) or a
retryable 503 (nothing changed, the same link still works): never a burned link with the old password in place.
An account-deletion link (``GET /delete-user/callback``) likewise answers 302 (the account is gone, the link used
up) or 503 (the account and the link are both still there, and the link completes the deletion).
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
        delete_user_enabled=True,
        delete_user_verification=True,
    )
    yield built
    built.close()


def _newest_link(stack: Stack, pattern: str) -> str:
    newest = sorted(stack.settings.mail_dir.iterdir())[-1]
    message = email.message_from_bytes(newest.read_bytes(), policy=email.policy.default)
    text = message.get_body(("plain",))
    assert text is not None
    found = re.search(pattern, text.get_content())
    assert found is not None
    return found.group(1)


def _reset_token(stack: Stack, address: str) -> str:
    with stack.injector.paused():
        status, body, _ = stack.request("POST", "/api/auth/request-password-reset", {"email": address})
    assert status == 200, body
    return _newest_link(stack, r"/reset-password/([A-Za-z0-9_-]{43})")


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


@pytest.mark.parametrize("fault", CASES, ids=[f"{f.operation}-{f.kind}-x{f.attempts}" for f in CASES])
def test_a_deletion_link_deletes_with_its_token_or_not_at_all(mail_stack: Stack, fault: Fault) -> None:
    address = f"delete-{fault.operation.lower()}-{fault.kind.lower()}-{fault.attempts}@example.com"
    session = {"authorization": f"Bearer {mail_stack.sign_up(address)}"}
    with mail_stack.injector.paused():
        status, body, _ = mail_stack.request("POST", "/api/auth/delete-user", {"callbackURL": "/bye"}, session)
    assert (status, body) == (200, {"success": True, "message": "Verification email sent"})
    link = _newest_link(mail_stack, r"https://api\.example\.test(/api/auth/delete-user/callback\?\S+)")
    mail_stack.injector.arm(fault)
    status, body, headers = mail_stack.request("GET", link, None, session)
    mail_stack.injector.arm(None)
    assert mail_stack.injector.fired, "the fault was not hit"
    with mail_stack.injector.paused():
        retry, retry_body, retry_headers = mail_stack.request("GET", link, None, session)
    if status == 302:
        assert headers.get("location", headers.get("Location")) == "/bye"
        # used up with its effect, and the session ended with the account
        assert (retry, retry_body["code"]) == (404, "FAILED_TO_GET_USER_INFO")
    else:
        assert status == 503, body
        assert body["code"] in RETRYABLE, body
        assert (retry, retry_headers.get("location", retry_headers.get("Location"))) == (
            302,
            "/bye",
        )  # the link survived the failure
    assert not _signs_in(mail_stack, address, PASSWORD)

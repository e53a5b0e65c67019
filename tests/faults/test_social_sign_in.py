"""Social sign-in under storage faults: the callback creates one user with its account, or nothing.

The callback reads the pending sign-in (``Query``), uses it up and creates the user with the provider's account
(``TransactWriteItems``), then starts a session. Whatever fault hits it, the outcome is a working session for one
user holding one account, or a retryable answer after which a fresh sign-in succeeds: never a user without its
account, never two users for one provider account.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from authlib_core.auth import jwks
from authlib_core.auth.tables import ACCOUNTS_TABLE, USERS_TABLE
from tests.faults.harness import Stack
from tests.faults.injector import Fault
from tests.support.fake_oauth import CLIENT_SECRET, FakeProvider, write_social_app

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from authlib_core.database import DatabaseReader

pytestmark = pytest.mark.dynamodb_server

BASE = "https://api.example.test"
RETRYABLE = {"StorageUnavailable", "StorageBusy", "ConflictError", "StorageTimeout"}
CASES = [
    Fault("Query", "EndpointConnectionError", attempts=10),  # reading the pending sign-in
    Fault("TransactWriteItems", "ProvisionedThroughputExceededException", attempts=10),  # every commit refused
    Fault("TransactWriteItems", "ReadTimeout", attempts=1),  # recovered by botocore's retry
    Fault("TransactWriteItems", "lost_response", attempts=1),  # applied, the answer lost
    # the second commit: the sign-in was used up, then creating the user fails or its answer is lost
    Fault("TransactWriteItems", "ProvisionedThroughputExceededException", call=2, attempts=10),
    Fault("TransactWriteItems", "lost_response", call=2, attempts=1),
]


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    jwks.clear_cache()
    fake = FakeProvider()
    fake.redirect_uris = {f"{BASE}/api/auth/callback/fake"}
    yield fake
    fake.close()
    jwks.clear_cache()


@pytest.fixture(params=["lambda", "dev"])
def social_stack(
    request: pytest.FixtureRequest, moto_endpoint: str, tmp_path: Path, provider: FakeProvider
) -> Iterator[Stack]:
    built = Stack(
        moto_endpoint,
        request.param,
        functions_dir=write_social_app(tmp_path / f"faultsocial{request.param}", provider.url),
        oauth_client_secrets=(("fake", CLIENT_SECRET), ("github", CLIENT_SECRET)),
        jwt_allow_loopback_http=True,
        base_url=BASE,
        rate_limit_enabled=False,
    )
    yield built
    built.close()


def _callback(stack: Stack, jar: dict[str, str], provider: FakeProvider) -> str:
    """Start a sign-in and pass the provider (faults paused): the callback path the provider sends back to."""
    with stack.injector.paused():
        status, body, _ = stack.request(
            "POST", "/api/auth/sign-in/social", {"provider": "fake", "callbackURL": "/home"}, jar=jar
        )
    assert status == 200, body
    parts = urlsplit(provider.visit(body["url"]))
    return f"{parts.path}?{parts.query}"


def _stored(stack: Stack) -> tuple[int, int]:
    def read(db: DatabaseReader) -> tuple[int, int]:
        users = db.query(USERS_TABLE).with_index("by_email", lambda q: q.eq("email", "ada@example.com")).collect()
        accounts = (
            db.query(ACCOUNTS_TABLE)
            .with_index("by_provider_account", lambda q: q.eq("providerId", "fake").eq("accountId", "oidc-ada"))
            .collect()
        )
        return len(users), len(accounts)

    with stack.injector.paused():
        return stack.runtime.database.run_query(read)


def _signed_in(stack: Stack, jar: dict[str, str]) -> bool:
    with stack.injector.paused():
        status, body, _ = stack.request("GET", "/api/auth/get-session", jar=jar)
    assert status == 200, body
    return body is not None and body["user"]["email"] == "ada@example.com"


@pytest.mark.parametrize("fault", CASES, ids=[f"{f.operation}-{f.call}-{f.kind}-x{f.attempts}" for f in CASES])
def test_a_callback_creates_one_user_with_its_account_or_nothing(
    social_stack: Stack, provider: FakeProvider, fault: Fault
) -> None:
    jar: dict[str, str] = {}
    path = _callback(social_stack, jar, provider)
    social_stack.injector.arm(fault)
    status, body, headers = social_stack.request("GET", path, jar=jar)
    social_stack.injector.arm(None)
    assert social_stack.injector.fired, "the fault was not hit"
    if status == 302 and headers.get("location", headers.get("Location")) == "/home":
        assert _signed_in(social_stack, jar)
        assert _stored(social_stack) == (1, 1)
        return
    assert status == 503, (status, body, headers)
    assert body["code"] in RETRYABLE, body
    assert not _signed_in(social_stack, jar)
    assert _stored(social_stack) in ((0, 0), (1, 1))  # the user and its account commit together
    retry_jar: dict[str, str] = {}
    status, body, headers = social_stack.request("GET", _callback(social_stack, retry_jar, provider), jar=retry_jar)
    assert (status, headers.get("location", headers.get("Location"))) == (302, "/home"), body
    assert _signed_in(social_stack, retry_jar)
    assert _stored(social_stack) == (1, 1)

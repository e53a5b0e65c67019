"""Fixtures shared by the auth flow tests that run ``AuthService.handle`` on real stores.

``backend`` runs a test once per session store (SQLite, and DynamoDB on moto); ``clock`` is a settable clock the
service reads instead of the wall clock; ``outbox`` collects the mail the service sends; ``service`` is an
``AuthService`` on them with the test module's ``SETTINGS``. A module that needs another clock (one starting at the
current time, say) or another service defines its own fixture of that name, which takes precedence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.support.auth import auth_service
from tests.support.outbox import Outbox
from tests.support.sessions import FakeClock

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from authlib_core.auth.service import AuthService
    from authlib_core.database import Database


@pytest.fixture(params=["sqlite", "dynamodb"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


@pytest.fixture
def service(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock, backend: str, outbox: Outbox
) -> Iterator[tuple[AuthService, Database]]:
    settings: dict[str, Any] = getattr(request.module, "SETTINGS", {})
    with auth_service(tmp_path, clock, sessions_backend=backend, mailer=outbox, **settings) as (svc, _, database):
        yield svc, database

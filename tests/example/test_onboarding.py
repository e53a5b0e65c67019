"""The example app's welcome email: scheduled in the sign-up's transaction, sent once by an action."""

from __future__ import annotations

import io
import json
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from authlib_core.config import Settings
from authlib_core.dev.server import DevServer
from authlib_core.mail import configure_outbox
from authlib_core.runtime import build_runtime
from authlib_core.testing import TestBackend

if TYPE_CHECKING:
    from collections.abc import Iterator

    from authlib_core.mail import MailMessage

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


class Outbox:
    def __init__(self) -> None:
        self.sent: list[MailMessage] = []

    def send(self, message: MailMessage) -> None:
        self.sent.append(message)


@pytest.fixture
def outbox() -> Iterator[Outbox]:
    collected = Outbox()
    configure_outbox(lambda: collected)
    yield collected
    configure_outbox(None)


def test_the_welcome_job_sends_one_email_to_the_new_user(outbox: Outbox) -> None:
    with TestBackend(FUNCTIONS) as t:
        ada = t.create_user(email="ada@example.com", name="Ada")
        t.mutation("onboarding:welcome", userId=ada.user_id)
        (job,) = t.scheduled_functions()
        assert (job["name"], job["args"], job["state"]) == (
            "onboarding:sendWelcome",
            [{"userId": ada.user_id}],
            {"kind": "pending"},
        )
        assert [done["state"] for done in t.finish_scheduled_functions()] == [{"kind": "success"}]
        (message,) = outbox.sent
        assert (message.to, message.subject) == ("ada@example.com", "Welcome to myData")
        assert message.text.startswith("Hi Ada,")
        assert t.finish_scheduled_functions() == []  # sent once
        assert len(outbox.sent) == 1


def test_without_mail_configured_the_job_records_why(outbox: Outbox) -> None:
    configure_outbox(None)
    with TestBackend(FUNCTIONS) as t:
        ada = t.create_user(email="ada@example.com")
        t.mutation("onboarding:welcome", userId=ada.user_id)
        (job,) = t.finish_scheduled_functions()
        assert job["state"]["kind"] == "failed"
        assert "mail is off" in job["state"]["error"]


def _post(url: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "origin": url.split("/api")[0]},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def test_signing_up_on_the_dev_server_mails_a_welcome(tmp_path: Path) -> None:
    settings = Settings(
        functions_dir=FUNCTIONS, sqlite_path=tmp_path / "dev.sqlite3", mail="folder", mail_dir=tmp_path / "mail"
    )
    out = io.StringIO()
    server = DevServer(lambda: build_runtime(settings), FUNCTIONS, port=0, out=out, reload_interval=60)
    server.start_background()
    try:
        status, body = _post(
            f"{server.url}/api/auth/sign-up/email",
            {"name": "Grace", "email": "grace@example.com", "password": "x" * 12},
        )
        assert status == 200, body
        deadline = time.monotonic() + 10
        while not list((tmp_path / "mail").glob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.02)
        (mail,) = (tmp_path / "mail").glob("*.eml")
        text = mail.read_text()
        assert "To: grace@example.com" in text
        assert "Subject: Welcome to myData" in text
    finally:
        server.shutdown()

"""The example app's signed webhook (functions/http.py): with authlib_core.testing, and over the dev server."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from authlib_core.testing import TestBackend
from tests.support.transports import dev_transport, example_settings, json_body

if TYPE_CHECKING:
    from collections.abc import Iterator

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
SECRET = "whsec-example-" + "e" * 24


def signed(event: dict[str, str], secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"X-Webhook-Signature": signature}


@pytest.fixture
def t(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestBackend]:
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    with TestBackend(FUNCTIONS) as backend:
        yield backend


def test_a_signed_event_adds_one_note_however_often_it_is_delivered(t: TestBackend) -> None:
    alice = t.create_user(email="alice@example.com")
    body, headers = signed({"id": "evt_1", "email": "alice@example.com", "text": "hello from the CRM"})
    first = t.fetch("POST", "/webhooks/notes", body, headers)
    assert (first.status, first.json()["duplicate"]) == (200, False)
    again = t.fetch("POST", "/webhooks/notes", body, headers)  # senders retry deliveries
    assert again.json() == {"noteId": first.json()["noteId"], "duplicate": True}
    assert [note["text"] for note in alice.query("myData:getMyData")] == ["hello from the CRM"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Webhook-Signature": "sha256=" + "0" * 64},
        signed({"id": "evt_1", "email": "alice@example.com", "text": "x"}, secret="another secret")[1],
        {"X-Webhook-Signature": "not even hex"},
    ],
)
def test_an_unsigned_or_forged_event_changes_nothing(t: TestBackend, headers: dict[str, str]) -> None:
    t.create_user(email="alice@example.com")
    body, _ = signed({"id": "evt_1", "email": "alice@example.com", "text": "x"})
    reply = t.fetch("POST", "/webhooks/notes", body, headers)
    assert (reply.status, reply.json()["code"]) == (401, "InvalidSignature")
    assert t.table("myData") == []
    assert t.table("webhookEvents") == []


def test_bad_events_and_unknown_users(t: TestBackend) -> None:
    body, headers = signed({"id": "evt_2", "email": "nobody@example.com", "text": "x"})
    assert t.fetch("POST", "/webhooks/notes", body, headers).json()["code"] == "UnknownUser"
    body, headers = signed({"id": "evt_3", "email": 5, "text": "x"})  # type: ignore[dict-item]
    reply = t.fetch("POST", "/webhooks/notes", body, headers)
    assert (reply.status, reply.json()["code"]) == (400, "InvalidEvent")
    assert t.fetch("GET", "/webhooks/notes").status == 404  # only POST is routed


def test_without_a_secret_the_webhook_is_off(t: TestBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEBHOOK_SECRET")
    body, headers = signed({"id": "evt_1", "email": "alice@example.com", "text": "x"})
    reply = t.fetch("POST", "/webhooks/notes", body, headers)
    assert (reply.status, reply.json()["code"]) == (503, "WebhookNotConfigured")


def test_the_webhook_over_the_dev_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    with dev_transport(example_settings(tmp_path)) as dev:
        base, payload = json_body({"name": "Ada", "email": "ada@example.com", "password": "webhook password 1"})
        up = dev.request("POST", "/api/auth/sign-up/email", headers=[*base, ("Origin", dev.origin)], body=payload)
        assert up.status == 200, up.body
        body, headers = signed({"id": "evt_9", "email": "ada@example.com", "text": "over HTTP"})
        reply = dev.request("POST", "/webhooks/notes", headers=list(headers.items()), body=body)
        assert (reply.status, reply.json()["duplicate"]) == (200, False)
        forged = dev.request("POST", "/webhooks/notes", headers=[("X-Webhook-Signature", "sha256=00")], body=body)
        assert forged.status == 401
        query_headers, query = json_body({"path": "myData:getMyData", "args": {}})
        token = up.json()["token"]
        notes = dev.request(
            "POST", "/api/query", headers=[*query_headers, ("Authorization", f"Bearer {token}")], body=query
        )
        assert [note["text"] for note in notes.json()["value"]] == ["over HTTP"]

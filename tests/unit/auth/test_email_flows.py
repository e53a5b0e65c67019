"""Password reset, email verification and change email through ``AuthService.handle`` on real stores.

Mail is collected in memory (a real ``MailSender``); links are taken from the messages as a user would click them.
Session stores: SQLite and DynamoDB (moto).
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest

from authlib_core.auth.tables import VERIFICATION_TABLE
from tests.support.auth import BASE, Browser, auth_service

if TYPE_CHECKING:
    from pathlib import Path

    from authlib_core.auth.service import AuthService
    from authlib_core.database import Database
    from tests.support.outbox import Outbox
    from tests.support.sessions import FakeClock

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"


#: The service the ``service`` fixture (conftest.py) builds, and :func:`_service`'s defaults.
SETTINGS = {"enumeration_floor": 0, "argon2_time_cost": 2}


def _service(tmp_path: Path, clock: FakeClock, backend: str, outbox: Outbox | None, **settings: Any) -> Any:
    return auth_service(tmp_path, clock, sessions_backend=backend, mailer=outbox, **{**SETTINGS, **settings})


def _path_and_query(link: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(link)
    assert parts.scheme + "://" + parts.netloc == BASE
    assert parts.path.startswith("/api/auth/")
    return parts.path[len("/api/auth") :], {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}


def _token_rows(database: Database) -> list[dict[str, Any]]:
    return database.run_query(lambda db: db.query(VERIFICATION_TABLE).collect())


# ---------------------------------------------------------------- password reset


def test_password_reset_end_to_end(service: tuple[AuthService, Database], outbox: Outbox) -> None:
    svc, database = service
    ada = Browser(svc)
    assert ada.sign_up().status == 200
    other_device = Browser(svc, ip="10.0.0.2")
    assert other_device.sign_in().status == 200

    stranger = Browser(svc, ip="10.0.0.3")
    answer = stranger.post("/request-password-reset", {"email": "Ada@Example.com", "redirectTo": "/reset"})
    assert answer.status == 200
    assert answer.body == {
        "status": True,
        "message": "If this email exists in our system, check your email for the reset link",
    }
    link = outbox.last_link("ada@example.com")
    assert outbox.sent[-1].subject == "Reset your password"
    path, query = _path_and_query(link)
    token = path.rsplit("/", 1)[1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert query == {"callbackURL": "/reset"}
    # only the hash is stored, in Better Auth's verification shape
    rows = _token_rows(database)
    assert len(rows) == 1
    assert token not in repr(rows)
    assert rows[0]["identifier"].startswith("reset-password:")
    assert set(rows[0]) >= {"identifier", "value", "expiresAt", "createdAt", "updatedAt"}

    clicked = stranger.get(path, query=query)
    assert clicked.status == 302
    assert clicked.headers["Location"] == f"/reset?token={token}"
    assert stranger.get(path, query=query).headers["Location"] == f"/reset?token={token}"  # the GET uses nothing up

    done = stranger.post("/reset-password", {"newPassword": NEW_PASSWORD, "token": token})
    assert (done.status, done.body) == (200, {"status": True})
    assert done.set_cookies == []
    # every session ended; the new password works, the old one does not
    assert ada.get("/get-session").body is None
    assert other_device.get("/get-session").body is None
    assert Browser(svc, ip="10.0.0.4").sign_in(password=PASSWORD).status == 401
    assert Browser(svc, ip="10.0.0.5").sign_in(password=NEW_PASSWORD).status == 200
    # single use
    replay = stranger.post("/reset-password", {"newPassword": "yet another passphrase", "token": token})
    assert (replay.status, replay.body) == (400, {"message": "Invalid token", "code": "INVALID_TOKEN"})
    after = stranger.get(path, query=query)
    assert after.headers["Location"] == "/reset?error=INVALID_TOKEN"


def test_reset_request_is_the_same_for_unknown_addresses(service: tuple[AuthService, Database], outbox: Outbox) -> None:
    svc, database = service
    Browser(svc).sign_up()
    known = Browser(svc, ip="10.0.0.9").post("/request-password-reset", {"email": "ada@example.com"})
    unknown = Browser(svc, ip="10.0.0.8").post("/request-password-reset", {"email": "nobody@example.com"})
    assert (known.status, known.body_bytes(), known.all_headers()) == (
        unknown.status,
        unknown.body_bytes(),
        unknown.all_headers(),
    )
    assert [m.to for m in outbox.sent] == ["ada@example.com"]
    assert len(_token_rows(database)) == 1


def test_reset_answers_take_the_floor_time(tmp_path: Path, clock: FakeClock, outbox: Outbox) -> None:
    with _service(tmp_path, clock, "sqlite", outbox, enumeration_floor=0.3) as (svc, _, _db):
        Browser(svc).sign_up()
        for email in ("ada@example.com", "nobody@example.com"):
            started = time.monotonic()
            assert Browser(svc, ip="10.1.1.1").post("/request-password-reset", {"email": email}).status == 200
            assert time.monotonic() - started >= 0.3


def test_reset_token_expires(service: tuple[AuthService, Database], outbox: Outbox, clock: FakeClock) -> None:
    svc, _ = service
    Browser(svc).sign_up()
    browser = Browser(svc, ip="10.0.0.7")
    browser.post("/request-password-reset", {"email": "ada@example.com", "redirectTo": "/r"})
    path, query = _path_and_query(outbox.last_link("ada@example.com"))
    clock.advance(3601)
    assert browser.get(path, query=query).headers["Location"] == "/r?error=INVALID_TOKEN"
    token = path.rsplit("/", 1)[1]
    answer = browser.post("/reset-password", {"newPassword": NEW_PASSWORD, "token": token})
    assert (answer.status, answer.body) == (400, {"message": "Invalid token", "code": "INVALID_TOKEN"})


def test_reset_token_is_bound_to_its_purpose(service: tuple[AuthService, Database], outbox: Outbox) -> None:
    svc, _ = service
    ada = Browser(svc)
    ada.sign_up()
    ada.post("/send-verification-email", {"email": "ada@example.com"})
    _, query = _path_and_query(outbox.last_link("ada@example.com"))
    verification_token = query["token"]
    answer = ada.post("/reset-password", {"newPassword": NEW_PASSWORD, "token": verification_token})
    assert answer.status == 400
    assert answer.body == {"message": "Invalid token", "code": "INVALID_TOKEN"}


def test_reset_checks(service: tuple[AuthService, Database], outbox: Outbox) -> None:
    svc, _ = service
    browser = Browser(svc)
    assert browser.post("/reset-password", {"newPassword": NEW_PASSWORD}).body == {
        "message": "Invalid token",
        "code": "INVALID_TOKEN",
    }
    short = browser.post("/reset-password", {"newPassword": "short", "token": "x" * 43})
    assert (short.status, short.body) == (400, {"message": "Password too short", "code": "PASSWORD_TOO_SHORT"})
    evil = browser.post("/request-password-reset", {"email": "ada@example.com", "redirectTo": "https://evil.example/"})
    assert (evil.status, evil.body["code"]) == (403, "INVALID_REDIRECT_URL")
    missing = browser.get("/reset-password/" + "x" * 43)
    assert missing.status == 400
    assert missing.body["code"] == "VALIDATION_ERROR"
    off_site = browser.get("/reset-password/" + "x" * 43, query={"callbackURL": "https://evil.example/"})
    assert (off_site.status, off_site.body["code"]) == (403, "INVALID_CALLBACK_URL")
    empty = browser.get("/reset-password/" + "x" * 43, query={"callbackURL": ""})
    assert (empty.status, empty.headers["Location"]) == (302, "/api/auth/error?error=INVALID_TOKEN")
    assert browser.get("/error", query={"error": "INVALID_TOKEN"}).body["error"] == "INVALID_TOKEN"
    assert outbox.sent == []


def test_bad_tokens_are_rate_limited_per_address(tmp_path: Path, clock: FakeClock, outbox: Outbox) -> None:
    with _service(tmp_path, clock, "sqlite", outbox, ip_rate_limit=100) as (svc, _, _db):
        attacker = Browser(svc, ip="198.51.100.7")
        statuses = [
            attacker.post("/reset-password", {"newPassword": NEW_PASSWORD, "token": f"{i:043d}"}).status
            for i in range(6)
        ]
        assert statuses == [400] * 5 + [429]
        # another address is not affected
        other = Browser(svc, ip="203.0.113.9").post("/reset-password", {"newPassword": NEW_PASSWORD, "token": "y" * 43})
        assert other.status == 400


def test_every_token_use_counts_against_the_address(tmp_path: Path, clock: FakeClock, outbox: Outbox) -> None:
    with _service(tmp_path, clock, "sqlite", outbox) as (svc, _, _db):
        browser = Browser(svc, ip="198.51.100.8")
        statuses = [browser.get("/verify-email", query={"token": "z" * 43}).status for _ in range(4)]
        assert statuses == [401, 401, 401, 429]


def test_flows_are_off_without_a_mail_sender(tmp_path: Path, clock: FakeClock) -> None:
    with _service(tmp_path, clock, "sqlite", None) as (svc, _, _db):
        browser = Browser(svc)
        answer = browser.post("/request-password-reset", {"email": "ada@example.com"})
        assert (answer.status, answer.body["code"]) == (400, "RESET_PASSWORD_DISABLED")
        answer = browser.post("/send-verification-email", {"email": "ada@example.com"})
        assert (answer.status, answer.body["code"]) == (400, "VERIFICATION_EMAIL_NOT_ENABLED")


# ---------------------------------------------------------------- email verification


def test_verification_on_sign_up_and_required_for_sign_in(
    tmp_path: Path, clock: FakeClock, backend: str, outbox: Outbox
) -> None:
    with _service(tmp_path, clock, backend, outbox, require_email_verification=True) as (svc, _, _db):
        ada = Browser(svc)
        signed_up = ada.sign_up(callbackURL="/welcome")
        assert signed_up.status == 200
        assert signed_up.body["token"] is None
        assert signed_up.body["user"]["emailVerified"] is False
        assert signed_up.set_cookies == []
        refused = Browser(svc, ip="10.2.0.1").sign_in()
        assert (refused.status, refused.body) == (403, {"message": "Email not verified", "code": "EMAIL_NOT_VERIFIED"})

        path, query = _path_and_query(outbox.last_link("ada@example.com"))
        assert path == "/verify-email"
        assert query["callbackURL"] == "/welcome"
        assert outbox.sent[-1].subject == "Verify your email address"
        clicked = ada.get(path, query=query)
        assert (clicked.status, clicked.headers["Location"]) == (302, "/welcome")
        signed_in = Browser(svc, ip="10.2.0.2")
        assert signed_in.sign_in().status == 200
        assert signed_in.get("/get-session").body["user"]["emailVerified"] is True
        # used up: a second visit fails
        again = ada.get(path, query=query)
        assert again.headers["Location"] == "/welcome?error=INVALID_TOKEN"


def test_verify_email_answers(service: tuple[AuthService, Database], outbox: Outbox, clock: FakeClock) -> None:
    svc, _ = service
    ada = Browser(svc)
    ada.sign_up()
    missing = ada.get("/verify-email")
    assert (missing.status, missing.body["code"]) == (400, "VALIDATION_ERROR")
    bad = ada.get("/verify-email", query={"token": "q" * 43})
    assert (bad.status, bad.body) == (401, {"message": "Invalid token", "code": "INVALID_TOKEN"})
    assert ada.post("/send-verification-email", {"email": "ada@example.com"}).body == {"status": True}
    _, query = _path_and_query(outbox.last_link("ada@example.com"))
    assert query["callbackURL"] == "/"
    clock.advance(3601)
    expired = ada.get("/verify-email", query={"token": query["token"]})
    assert (expired.status, expired.body["code"]) == (401, "TOKEN_EXPIRED")
    ada.post("/send-verification-email", {"email": "ada@example.com"})
    _, query = _path_and_query(outbox.last_link("ada@example.com"))
    ok = ada.get("/verify-email", query={"token": query["token"]})
    assert (ok.status, ok.body) == (200, {"status": True, "user": None})
    already = ada.post("/send-verification-email", {"email": "ada@example.com"})
    assert (already.status, already.body["code"]) == (400, "EMAIL_ALREADY_VERIFIED")
    mismatch = ada.post("/send-verification-email", {"email": "bob@example.com"})
    assert (mismatch.status, mismatch.body["code"]) == (400, "EMAIL_MISMATCH")
    # without a session: the same answer for everyone, mail only to an unverified existing user
    before = len(outbox.sent)
    anonymous = Browser(svc, ip="10.3.0.1")
    for email in ("ada@example.com", "nobody@example.com"):
        assert anonymous.post("/send-verification-email", {"email": email}).body == {"status": True}
    assert len(outbox.sent) == before


# ---------------------------------------------------------------- change email


def test_change_email_confirms_with_the_current_address(service: tuple[AuthService, Database], outbox: Outbox) -> None:
    svc, _ = service
    ada = Browser(svc)
    ada.sign_up()
    answer = ada.post("/change-email", {"newEmail": "ada@new.example", "callbackURL": "/settings"})
    assert (answer.status, answer.body) == (200, {"status": True})
    confirmation = outbox.sent[-1]
    assert confirmation.to == "ada@example.com"
    assert "ada@new.example" in confirmation.text
    assert "ada@new.example" in confirmation.html
    path, query = _path_and_query(outbox.last_link("ada@example.com"))
    assert ada.get("/get-session").body["user"]["email"] == "ada@example.com"
    clicked = ada.get(path, query=query)
    assert (clicked.status, clicked.headers["Location"]) == (302, "/settings")
    # the current mailbox approved; the new one must prove itself before anything changes
    assert ada.get("/get-session").body["user"]["email"] == "ada@example.com"
    assert outbox.sent[-1].to == "ada@new.example"
    path, query = _path_and_query(outbox.last_link("ada@new.example"))
    assert query["callbackURL"] == "/settings"
    clicked = ada.get(path, query=query)
    assert (clicked.status, clicked.headers["Location"]) == (302, "/settings")
    user = ada.get("/get-session").body["user"]
    assert (user["email"], user["emailVerified"]) == ("ada@new.example", True)
    assert Browser(svc, ip="10.4.0.1").sign_in(email="ada@new.example").status == 200


def test_change_email_never_moves_an_account_onto_an_address_its_holder_does_not_own(
    service: tuple[AuthService, Database], outbox: Outbox
) -> None:
    """Pre-account hijacking: Mallory moves her account (with her social login linked) onto the victim's address,
    which the victim then "recovers" by password reset, into Mallory's account. The new mailbox must approve."""
    svc, _ = service
    mallory = Browser(svc, ip="10.5.0.1")
    mallory.sign_up(email="mallory@evil.example")
    assert mallory.post("/change-email", {"newEmail": "victim@corp.example"}).body == {"status": True}
    _click(mallory, outbox.last_link("mallory@evil.example"))  # her own mailbox approves
    assert mallory.get("/get-session").body["user"]["email"] == "mallory@evil.example"
    pending = outbox.last_link("victim@corp.example")  # mailed to the victim, who does not open it
    victim = Browser(svc, ip="10.5.0.2")
    assert victim.sign_up(email="victim@corp.example").status == 200  # the address is still free
    path, query = _path_and_query(pending)
    late = mallory.get(path, query=query)  # opened later: the address has its owner now
    assert late.status == 302
    assert "error=" in late.headers["Location"]
    assert mallory.get("/get-session").body["user"]["email"] == "mallory@evil.example"


def test_a_reset_link_mailed_before_the_address_changed_no_longer_resets(
    service: tuple[AuthService, Database], outbox: Outbox
) -> None:
    svc, _ = service
    ada = Browser(svc)
    ada.sign_up()
    assert ada.post("/request-password-reset", {"email": "ada@example.com"}).status == 200
    _, reset_query = _path_and_query(outbox.last_link("ada@example.com"))
    reset_token = reset_query.get("token") or _path_and_query(outbox.last_link("ada@example.com"))[0].rsplit("/", 1)[1]
    ada.post("/change-email", {"newEmail": "ada@new.example"})
    _click(ada, outbox.last_link("ada@example.com"))
    _click(ada, outbox.last_link("ada@new.example"))
    assert ada.get("/get-session").body["user"]["email"] == "ada@new.example"
    old_mailbox = Browser(svc, ip="10.6.0.9")
    stale = old_mailbox.post("/reset-password", {"newPassword": "the old mailbox's pick", "token": reset_token})
    assert (stale.status, stale.body["code"]) == (400, "INVALID_TOKEN")
    assert ada.get("/get-session").body is not None  # her session was not ended by it
    assert Browser(svc, ip="10.6.0.10").sign_in(email="ada@new.example").status == 200


def test_change_email_with_required_verification(
    tmp_path: Path, clock: FakeClock, backend: str, outbox: Outbox
) -> None:
    with _service(tmp_path, clock, backend, outbox, require_email_verification=True) as (svc, _, _db):
        ada = Browser(svc)
        ada.sign_up()
        _click(ada, outbox.last_link("ada@example.com"))  # verify the first address
        assert ada.sign_in().status == 200
        ada.post("/change-email", {"newEmail": "ada@new.example"})
        _click(ada, outbox.last_link("ada@example.com"))  # confirm from the current address
        assert ada.get("/get-session").body["user"]["email"] == "ada@example.com"
        _click(ada, outbox.last_link("ada@new.example"))  # verify the new address
        user = ada.get("/get-session").body["user"]
        assert (user["email"], user["emailVerified"]) == ("ada@new.example", True)


def _click(browser: Browser, link: str) -> None:
    path, query = _path_and_query(link)
    answer = browser.get(path, query=query)
    assert answer.status == 302, answer.body
    assert "error=" not in answer.headers["Location"]


def test_change_email_answers(service: tuple[AuthService, Database], outbox: Outbox) -> None:
    svc, _ = service
    Browser(svc, ip="10.5.0.1").sign_up(email="bob@example.com")
    ada = Browser(svc)
    anonymous = ada.post("/change-email", {"newEmail": "x@example.com"})
    assert (anonymous.status, anonymous.body["code"]) == (401, "UNAUTHORIZED")
    ada.sign_up()
    same = ada.post("/change-email", {"newEmail": "ADA@example.com"})
    assert (same.status, same.body) == (400, {"message": "Email is the same"})
    before = len(outbox.sent)
    taken = ada.post("/change-email", {"newEmail": "bob@example.com"})
    assert (taken.status, taken.body) == (200, {"status": True})
    assert len(outbox.sent) == before


@pytest.mark.parametrize(
    "base_url",
    [
        "http://evil.example",
        # local to Python's URL parser (the host after the last "@"), evil.example to a browser (which ends the host
        # at the backslash): a dev server reached by anyone but a browser could be sent such a Host
        "http://localhost:@evil.example\\@localhost",
        "http://[::1]:x@evil.example\\@127.0.0.1",
        "http://localhost/@evil.example",
    ],
)
def test_host_header_never_builds_a_link(service: tuple[AuthService, Database], outbox: Outbox, base_url: str) -> None:
    from authlib_core.auth.transport import AuthHttpRequest

    svc, database = service
    Browser(svc).sign_up()
    answer = svc.handle(
        AuthHttpRequest(
            "POST",
            "/request-password-reset",
            base_url=base_url,
            headers={"content-type": "application/json"},
            body=b'{"email":"ada@example.com"}',
            client_ip="10.6.0.1",
        )
    )
    assert (answer.status, answer.body["code"]) == (500, "BASE_URL_NOT_CONFIGURED")
    assert outbox.sent == []
    assert _token_rows(database) == []


def test_an_inbox_cannot_be_flooded(tmp_path: Path, clock: FakeClock, outbox: Outbox) -> None:
    with _service(tmp_path, clock, "sqlite", outbox, ip_rate_limit=1000, account_global_limit=12) as (svc, _, database):
        Browser(svc).sign_up()
        # from one address: account_rate_limit (5) links per window, then the same answer with nothing sent
        one = Browser(svc, ip="10.9.0.1")
        answers = {one.post("/request-password-reset", {"email": "ada@example.com"}).body_bytes() for _ in range(8)}
        assert len(answers) == 1
        assert len(outbox.sent) == 5
        # from many addresses: account_global_limit (12 here) in all
        for i in range(2, 12):
            Browser(svc, ip=f"10.9.0.{i}").post("/request-password-reset", {"email": "ada@example.com"})
        assert len(outbox.sent) == 12
        assert len(_token_rows(database)) == 12
        clock.advance(901)
        Browser(svc, ip="10.9.1.1").post("/request-password-reset", {"email": "ada@example.com"})
        assert len(outbox.sent) == 13


def test_nobody_can_use_up_the_owners_reset_links_from_one_address(
    tmp_path: Path, clock: FakeClock, outbox: Outbox
) -> None:
    with _service(tmp_path, clock, "sqlite", outbox, ip_rate_limit=1000) as (svc, _, _db):
        Browser(svc).sign_up()
        attacker = Browser(svc, ip="203.0.113.7")
        for _ in range(6):
            attacker.post("/request-password-reset", {"email": "ada@example.com"})
        before = len(outbox.sent)
        owner = Browser(svc, ip="192.0.2.10")
        assert owner.post("/request-password-reset", {"email": "ada@example.com"}).status == 200
        assert len(outbox.sent) == before + 1  # the owner's own link still comes
        assert outbox.sent[-1].to == "ada@example.com"

"""Account deletion by emailed link (``delete_user_verification``) through ``AuthService.handle`` on real stores.

Better Auth 1.7.25's ``deleteUser`` / ``deleteUserCallback``: ``POST /delete-user`` mails a link instead of
deleting; ``GET /delete-user/callback`` deletes the signed-in user it was sent to. Mail is collected in memory (a
real ``MailSender``); links are followed as a user would click them. Session stores: SQLite and DynamoDB (moto).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from authlib_core.auth.tables import ACCOUNTS_TABLE, USERS_TABLE, VERIFICATION_TABLE
from authlib_core.errors import StorageUnavailableError
from tests.support.auth import BASE, Browser, auth_service

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from authlib_core.auth.service import AuthService
    from authlib_core.database import Database
    from tests.support.outbox import Outbox
    from tests.support.sessions import FakeClock

PASSWORD = "correct horse battery"
DAY = 86_400
SENT = {"success": True, "message": "Verification email sent"}
DELETED = {"success": True, "message": "User deleted"}


#: The service the ``service`` fixture (conftest.py) builds, and :func:`_service`'s defaults.
SETTINGS = {"delete_user_enabled": True, "delete_user_verification": True, "ip_rate_limit": 1000}


def _service(tmp_path: Path, clock: FakeClock, outbox: Outbox | None, backend: str = "sqlite", **settings: Any) -> Any:
    return auth_service(tmp_path, clock, sessions_backend=backend, mailer=outbox, **{**SETTINGS, **settings})


def _link(outbox: Outbox, to: str = "ada@example.com") -> tuple[str, dict[str, str]]:
    parts = urlsplit(outbox.last_link(to))
    assert parts.scheme + "://" + parts.netloc == BASE
    assert parts.path.startswith("/api/auth/")
    return parts.path[len("/api/auth") :], {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}


def _emails(database: Database) -> list[str]:
    return sorted(str(u["email"]) for u in database.run_query(lambda db: db.query(USERS_TABLE).collect()))


def _signed_up(service: AuthService, email: str = "ada@example.com", ip: str = "127.0.0.1") -> Browser:
    browser = Browser(service, ip=ip)
    assert browser.sign_up(email=email).status == 200
    return browser


def test_the_link_deletes_the_account_and_redirects(service: tuple[AuthService, Database], outbox: Outbox) -> None:
    svc, database = service
    ada = _signed_up(svc)
    _signed_up(svc, "grace@example.com")
    sent = ada.post("/delete-user", {"callbackURL": "/goodbye?from=app"})
    assert (sent.status, sent.body, sent.set_cookies) == (200, SENT, [])
    assert _emails(database) == ["ada@example.com", "grace@example.com"]  # nothing deleted yet
    assert ada.get("/get-session").body is not None
    [message] = outbox.sent
    assert (message.to, message.subject) == ("ada@example.com", "Confirm deleting your account")
    assert "cannot be undone" in message.text
    path, query = _link(outbox)
    assert path == "/delete-user/callback"
    assert query["callbackURL"] == "/goodbye?from=app"
    [row] = database.run_query(lambda db: db.query(VERIFICATION_TABLE).collect())
    assert str(row["identifier"]).startswith("delete-account:")
    assert query["token"] not in str(row)  # stored hashed
    assert row["expiresAt"] - row["createdAt"] == DAY * 1000  # Better Auth's deleteTokenExpiresIn default

    done = ada.get(path, query=query)
    assert (done.status, done.headers["Location"], done.body_is_empty) == (302, "/goodbye?from=app", True)
    assert len(done.set_cookies) == 3
    assert all("Max-Age=0" in c for c in done.set_cookies)
    assert _emails(database) == ["grace@example.com"]
    assert len(database.run_query(lambda db: db.query(ACCOUNTS_TABLE).collect())) == 1  # grace's
    assert database.run_query(lambda db: db.query(VERIFICATION_TABLE).collect()) == []
    assert Browser(svc, ip="10.1.1.1").sign_in().status == 401
    assert ada.get("/get-session").body is None


def test_without_callback_url_the_link_answers_json(service: tuple[AuthService, Database], outbox: Outbox) -> None:
    svc, database = service
    ada = _signed_up(svc)
    assert ada.post("/delete-user", {}).body == SENT
    path, query = _link(outbox)
    assert query["callbackURL"] == "/"  # Better Auth's default in the emailed link
    done = ada.get(path, query={"token": query["token"]})
    assert (done.status, done.body, len(done.set_cookies)) == (200, DELETED, 3)
    assert _emails(database) == []


def test_the_link_needs_the_session_it_was_sent_to(service: tuple[AuthService, Database], outbox: Outbox) -> None:
    svc, database = service
    ada = _signed_up(svc)
    assert ada.post("/delete-user", {"callbackURL": "/bye"}).body == SENT
    path, query = _link(outbox)
    # A mail scanner (no session) changes nothing, and the link still works afterwards.
    scanner = Browser(svc, origin=None, ip="10.2.2.2").get(path, query=query)
    assert (scanner.status, scanner.body) == (
        404,
        {"code": "FAILED_TO_GET_USER_INFO", "message": "Failed to get user info"},
    )
    # Another user's session: refused, nobody is deleted, and the link is used up (as in Better Auth).
    grace = _signed_up(svc, "grace@example.com", ip="10.3.3.3")
    other = grace.get(path, query=query)
    assert (other.status, other.body, other.set_cookies) == (
        404,
        {"code": "INVALID_TOKEN", "message": "Invalid token"},
        [],
    )
    assert _emails(database) == ["ada@example.com", "grace@example.com"]
    used = ada.get(path, query=query)
    assert (used.status, used.body) == (404, {"code": "INVALID_TOKEN", "message": "Invalid token"})
    assert _emails(database) == ["ada@example.com", "grace@example.com"]
    assert ada.get("/get-session").body is not None


def test_the_link_is_single_use_and_expires(tmp_path: Path, clock: FakeClock, outbox: Outbox) -> None:
    with _service(tmp_path, clock, outbox, delete_token_expires_in=600) as (svc, _, database):
        ada = _signed_up(svc)
        assert ada.post("/delete-user", {}).body == SENT
        path, first = _link(outbox)
        clock.advance(601)
        late = ada.get(path, query=first)
        assert (late.status, late.body) == (404, {"code": "INVALID_TOKEN", "message": "Invalid token"})
        assert _emails(database) == ["ada@example.com"]
        assert ada.post("/delete-user", {}).body == SENT
        path, second = _link(outbox)
        assert second["token"] != first["token"]
        clock.advance(599)
        assert (ada.get(path, query=second).status, ada.last.headers["Location"]) == (302, "/")  # type: ignore[union-attr]
        assert _emails(database) == []
        replay = Browser(svc, ip="10.4.4.4")
        replay.sign_up()
        assert replay.get(path, query=second).body == {"code": "INVALID_TOKEN", "message": "Invalid token"}
        assert _emails(database) == ["ada@example.com"]  # the new account of the same address stays


def test_post_with_the_token_deletes_even_a_stale_session(tmp_path: Path, clock: FakeClock, outbox: Outbox) -> None:
    with _service(tmp_path, clock, outbox) as (svc, _, database):
        ada = _signed_up(svc)
        clock.advance(DAY + 1)  # past fresh_age: the link is the proof, as in Better Auth
        assert ada.post("/delete-user", {}).body == SENT  # a stale session may still ask for the link
        _, query = _link(outbox)
        wrong = ada.post("/delete-user", {"token": "x" * 43})
        assert (wrong.status, wrong.body) == (404, {"code": "INVALID_TOKEN", "message": "Invalid token"})
        done = ada.post("/delete-user", {"token": query["token"]})
        assert (done.status, done.body, len(done.set_cookies)) == (200, DELETED, 3)
        assert _emails(database) == []


def test_a_password_is_checked_before_the_link_is_sent(tmp_path: Path, clock: FakeClock, outbox: Outbox) -> None:
    with _service(tmp_path, clock, outbox) as (svc, _, database):
        ada = _signed_up(svc)
        wrong = ada.post("/delete-user", {"password": "not my password"})
        assert wrong.body == {"code": "INVALID_PASSWORD", "message": "Invalid password"}
        too_long = ada.post("/delete-user", {"password": "x" * 129})
        assert too_long.body == {"code": "PASSWORD_TOO_LONG", "message": "Password too long"}
        assert outbox.sent == []
        assert ada.post("/delete-user", {"password": PASSWORD}).body == SENT  # the link, still: no deletion
        assert len(outbox.sent) == 1
        assert _emails(database) == ["ada@example.com"]


def test_an_empty_password_is_no_password(tmp_path: Path, clock: FakeClock, outbox: Outbox) -> None:
    """As Better Auth's ``if (ctx.body.password)``: ``""`` is not checked; the link is mailed, the token deletes."""
    with _service(tmp_path, clock, outbox) as (svc, _, database):
        ada = _signed_up(svc)
        clock.advance(DAY + 1)
        assert ada.post("/delete-user", {"password": ""}).body == SENT
        _, query = _link(outbox)
        done = ada.post("/delete-user", {"password": "", "token": query["token"]})
        assert (done.status, done.body) == (200, DELETED)
        assert _emails(database) == []


def test_callback_urls_are_checked_where_they_enter(service: tuple[AuthService, Database], outbox: Outbox) -> None:
    svc, database = service
    ada = _signed_up(svc)
    foreign = ada.post("/delete-user", {"callbackURL": "https://evil.example/x"})
    assert (foreign.status, foreign.body) == (403, {"code": "INVALID_CALLBACK_URL", "message": "Invalid callbackURL"})
    split = ada.post("/delete-user", {"callbackURL": "/a\r\nSet-Cookie: x=y"})
    assert (split.status, split.body["code"]) == (400, "INVALID_CALLBACK_URL")  # type: ignore[index,call-overload]
    assert outbox.sent == []
    assert ada.post("/delete-user", {"callbackURL": "/bye"}).body == SENT
    path, query = _link(outbox)
    for tampered in ("https://evil.example/", "//evil.example", "/x\ny"):
        refused = ada.get(path, query={**query, "callbackURL": tampered})
        assert refused.status in (400, 403), tampered
        assert refused.body["code"] == "INVALID_CALLBACK_URL"  # type: ignore[index,call-overload]
    assert _emails(database) == ["ada@example.com"]  # refused before the token was touched
    ok = ada.get(path, query={**query, "callbackURL": "/caf\u00e9"})
    assert (ok.status, ok.headers["Location"]) == (302, "/caf%C3%A9")


def test_the_link_route_answers_as_better_auth(tmp_path: Path, clock: FakeClock, outbox: Outbox) -> None:
    with _service(tmp_path, clock, outbox) as (svc, _, database):
        ada = _signed_up(svc)
        missing = ada.get("/delete-user/callback")
        assert (missing.status, missing.body) == (
            400,
            {"code": "VALIDATION_ERROR", "message": "[query.token] Invalid input: expected string, received undefined"},
        )
        assert ada.post("/delete-user", {}).body == SENT
        path, query = _link(outbox)
        head = ada.request("HEAD", path, query=query)  # a link checker never deletes
        assert (head.status, head.headers["Allow"]) == (405, "GET")
        assert _emails(database) == ["ada@example.com"]
        assert ada.request("POST", path, {}).status == 404
        assert ada.get(path, query=query).status == 302
    with _service(tmp_path / "off", clock, outbox, delete_user_enabled=False) as (svc, _, database):
        ada = _signed_up(svc)
        off = ada.get("/delete-user/callback", query={"token": "x"})
        assert (off.status, off.body) == (404, {"code": "NOT_FOUND", "message": "Not found"})


def test_without_mail_nothing_is_deleted_and_the_reason_is_given(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with _service(tmp_path, clock, None) as (svc, _, database):
        ada = _signed_up(svc)
        refused = ada.post("/delete-user", {"password": PASSWORD})
        assert (refused.status, refused.body["code"]) == (500, "MAIL_NOT_CONFIGURED")  # type: ignore[index,call-overload]
        assert "AUTHLIB_MAIL" in refused.body["message"]  # type: ignore[index,call-overload]
        assert "AUTHLIB_MAIL" in caplog.text
        assert _emails(database) == ["ada@example.com"]


def test_links_past_the_mail_limit_are_not_sent(tmp_path: Path, clock: FakeClock, outbox: Outbox) -> None:
    with _service(tmp_path, clock, outbox, account_rate_limit=2) as (svc, _, _):
        ada = _signed_up(svc)
        answers = [ada.post("/delete-user", {}).body for _ in range(4)]
        assert answers == [SENT] * 4
        assert len(outbox.sent) == 2


def test_a_failing_app_hook_keeps_the_account_and_the_link(tmp_path: Path, clock: FakeClock, outbox: Outbox) -> None:
    calls: list[str] = []

    def hook(db: Any, user_id: str) -> None:
        calls.append(user_id)
        if len(calls) == 1:
            raise RuntimeError("the app's cleanup failed")

    with _service(tmp_path, clock, outbox, on_user_deleted=hook) as (svc, _, database):
        ada = _signed_up(svc)
        assert ada.post("/delete-user", {}).body == SENT
        path, query = _link(outbox)
        failed = ada.get(path, query=query)
        assert (failed.status, failed.set_cookies) == (500, [])
        assert _emails(database) == ["ada@example.com"]
        assert len(database.run_query(lambda db: db.query(VERIFICATION_TABLE).collect())) == 1  # not used up
        assert ada.get(path, query=query).status == 302
        assert _emails(database) == []
        assert len(calls) == 2


def test_after_user_deleted_runs_in_the_deleting_transaction(tmp_path: Path, clock: FakeClock, outbox: Outbox) -> None:
    seen: list[dict[str, Any]] = []

    def after(db: Any, user: Any) -> None:
        assert db.get(user["_id"]) is None  # the user is gone when it runs
        seen.append(dict(user))
        row = {"identifier": f"after:{user['_id']}", "value": "", "expiresAt": 9e15, "createdAt": 1.0, "updatedAt": 1.0}
        db.insert(VERIFICATION_TABLE, row)

    with _service(tmp_path, clock, outbox, delete_user_verification=False, after_user_deleted=after) as (
        svc,
        _,
        database,
    ):
        ada = _signed_up(svc)
        user_id = ada.get("/get-session").body["user"]["id"]  # type: ignore[index,call-overload]
        assert ada.post("/delete-user", {}).body == DELETED
        assert [(u["_id"], u["email"]) for u in seen] == [(user_id, "ada@example.com")]
        [marker] = database.run_query(lambda db: db.query(VERIFICATION_TABLE).collect())
        assert marker["identifier"] == f"after:{user_id}"  # committed with the deletion


def test_a_failed_session_sweep_after_the_commit(
    tmp_path: Path, clock: FakeClock, outbox: Outbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The deletion committed, ending the sessions failed (storage): with the link used up the deletion is reported
    and the failure logged; a direct deletion answers 503, and the client's retry sweeps again."""
    with _service(tmp_path, clock, outbox) as (svc, sessions, database):
        real_sweep = sessions.delete_for_user
        failures = [StorageUnavailableError("The storage is unavailable; retry.")]

        def sweep(user_id: str, **kwargs: Any) -> Any:
            if failures:
                raise failures.pop()
            return real_sweep(user_id, **kwargs)

        monkeypatch.setattr(sessions, "delete_for_user", sweep)
        ada = _signed_up(svc)
        assert ada.post("/delete-user", {"callbackURL": "/bye"}).body == SENT
        path, query = _link(outbox)
        done = ada.get(path, query=query)
        assert (done.status, done.headers["Location"], len(done.set_cookies)) == (302, "/bye", 3)
        assert _emails(database) == []
        assert "ending its sessions failed" in caplog.text

    with _service(tmp_path / "direct", clock, outbox, delete_user_verification=False) as (svc, sessions, database):
        real_sweep = sessions.delete_for_user
        failures = [StorageUnavailableError("The storage is unavailable; retry.")]
        monkeypatch.setattr(sessions, "delete_for_user", sweep)
        grace = _signed_up(svc, "grace@example.com")
        failed = grace.post("/delete-user", {})
        assert (failed.status, failed.body["code"]) == (503, "StorageUnavailable")  # type: ignore[index,call-overload]
        assert grace.post("/delete-user", {}).body == DELETED  # no user left to delete; the sessions end now
        assert grace.get("/get-session").body is None

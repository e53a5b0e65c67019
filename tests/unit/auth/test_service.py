"""The auth endpoints through ``AuthService.handle`` with real stores: SQLite documents, SQLite or DynamoDB sessions."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from authlib_core.auth.cookies import sign, sign_cookie_value
from authlib_core.auth.passwords import better_auth_scrypt
from authlib_core.auth.service import COOKIE_IGNORED_REASONS
from authlib_core.auth.tables import ACCOUNTS_TABLE, USERS_TABLE
from authlib_core.auth.transport import AuthHttpRequest
from tests.support.auth import BASE, SECRET, Browser, CountingSessionStore, auth_service
from tests.support.sessions import FakeClock

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from authlib_core.auth.service import AuthService
    from authlib_core.database import Database

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
TOKEN_COOKIE = "better-auth.session_token"
DAY = 86_400


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(now=time.time())


@pytest.fixture(params=["sqlite", "dynamodb"])
def env(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> Iterator[tuple[AuthService, CountingSessionStore, Database]]:
    # Generous limits here; the rate-limit tests build services with the defaults.
    with auth_service(
        tmp_path, clock, sessions_backend=request.param, ip_rate_limit=1000, account_rate_limit=1000
    ) as built:
        yield built


@pytest.fixture
def service(env: tuple[AuthService, CountingSessionStore, Database]) -> AuthService:
    return env[0]


@pytest.fixture
def store(env: tuple[AuthService, CountingSessionStore, Database]) -> CountingSessionStore:
    return env[1]


def session_id_of(browser: Browser) -> str:
    response = browser.get("/get-session")
    assert response.body is not None
    return str(response.body["session"]["id"])  # type: ignore[index,call-overload]


# ---------------------------------------------------------------- sign-up / sign-in / get-session


def test_sign_up_get_session_and_shapes(service: AuthService) -> None:
    browser = Browser(service)
    response = browser.sign_up()
    assert response.status == 200, response.body
    body: Any = response.body
    token = body["token"]
    assert token.count(".") == 2
    user = body["user"]
    assert set(user) == {"id", "name", "email", "emailVerified", "createdAt", "updatedAt"}
    assert (user["name"], user["email"], user["emailVerified"]) == ("Ada", "ada@example.com", False)
    assert ISO.match(user["createdAt"])
    [cookie] = response.set_cookies
    assert (
        cookie == f"{TOKEN_COOKIE}={sign_cookie_value(token, SECRET)}; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"
    )
    assert response.headers["set-auth-token"] == sign(token, SECRET)
    assert response.headers["Access-Control-Expose-Headers"] == "set-auth-token"

    session = browser.get("/get-session")
    assert session.status == 200
    assert session.headers["cache-control"] == "no-store"
    data: Any = session.body
    assert data["user"] == user
    s = data["session"]
    assert set(s) == {"id", "token", "userId", "expiresAt", "createdAt", "updatedAt", "ipAddress", "userAgent"}
    assert s["token"] == s["id"] != token  # a handle, never the raw token
    assert token not in json.dumps(data)
    assert (s["userId"], s["ipAddress"], s["userAgent"]) == (user["id"], "127.0.0.1", "pytest-browser")
    assert all(ISO.match(s[k]) for k in ("expiresAt", "createdAt", "updatedAt"))


def test_signed_out_get_session_is_200_null(service: AuthService) -> None:
    response = Browser(service).get("/get-session")
    assert (response.status, response.body, response.body_bytes()) == (200, None, b"null")


def test_sign_up_validation(service: AuthService) -> None:
    b = Browser(service)
    assert b.post("/sign-up/email", {"email": "x@example.com", "password": "p" * 8}).body == {
        "code": "VALIDATION_ERROR",
        "message": "[body.name] Invalid input: expected string, received undefined",
    }
    assert b.sign_up(email="not-an-email").body == {
        "code": "VALIDATION_ERROR",
        "message": "[body.email] Invalid email address",
    }
    assert b.sign_up(password="short").body == {"code": "PASSWORD_TOO_SHORT", "message": "Password too short"}
    assert b.sign_up(password="x" * 129).body == {"code": "PASSWORD_TOO_LONG", "message": "Password too long"}
    assert b.sign_up(password="😀" * 64).status == 200  # 128 UTF-16 code units
    missing = b.request("POST", "/sign-up/email")
    assert missing.body == {
        "code": "VALIDATION_ERROR",
        "message": "[body] Invalid input: expected object, received undefined",
    }
    text = b.request("POST", "/sign-up/email", raw=b"hi", headers={"content-type": "text/plain"})
    assert text.status == 415
    assert text.body == {
        "code": "UNSUPPORTED_MEDIA_TYPE",
        "message": (
            'Content-Type "text/plain" is not allowed. '
            "Allowed types: application/x-www-form-urlencoded, application/json"
        ),
    }


def test_form_urlencoded_sign_up(service: AuthService) -> None:
    b = Browser(service)
    body = b"name=Form&email=Form%40Example.com&password=correct+horse+battery"
    response = b.request(
        "POST", "/sign-up/email", raw=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status == 200
    assert response.body["user"]["email"] == "form@example.com"  # type: ignore[index,call-overload]


def test_duplicate_sign_up_is_422(service: AuthService) -> None:
    assert Browser(service).sign_up().status == 200
    response = Browser(service, ip="10.0.0.2").sign_up(email="ADA@example.com")
    assert (response.status, response.body) == (
        422,
        {"code": "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "message": "User already exists. Use another email."},
    )


def test_concurrent_sign_ups_of_one_email_create_one_user(env: Any) -> None:
    service, _, database = env
    barrier = threading.Barrier(8)

    def sign_up(i: int) -> int:
        barrier.wait()
        return Browser(service, ip=f"10.0.1.{i}").sign_up(email="race@example.com").status

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(sign_up, range(8)))
    assert statuses == [200] + [422] * 7
    users = database.run_query(lambda db: db.query(USERS_TABLE).collect())
    accounts = database.run_query(lambda db: db.query(ACCOUNTS_TABLE).collect())
    assert (len(users), len(accounts)) == (1, 1)


def test_sign_in_is_enumeration_safe(service: AuthService, monkeypatch: pytest.MonkeyPatch) -> None:
    Browser(service).sign_up()
    burned: list[str] = []
    original_burn = service.hasher.burn
    monkeypatch.setattr(service.hasher, "burn", lambda pw: (burned.append("x"), original_burn(pw))[1])

    def attempt(email: str, ip: str) -> tuple[int, Any, float]:
        started = time.perf_counter()
        response = Browser(service, ip=ip).sign_in(email=email, password="wrong password!")
        return response.status, response.body_bytes(), time.perf_counter() - started

    wrong = [attempt("ada@example.com", f"10.1.0.{i}") for i in range(3)]
    unknown = [attempt("nobody@example.com", f"10.2.0.{i}") for i in range(3)]
    expected = (401, {"code": "INVALID_EMAIL_OR_PASSWORD", "message": "Invalid email or password"})
    [(status, body)] = {(s, b) for s, b, _ in wrong + unknown}  # byte-identical answers
    assert (status, json.loads(body)) == expected
    assert len(burned) == 3  # the unknown emails paid for a dummy verification
    median_wrong = sorted(t for *_, t in wrong)[1]
    median_unknown = sorted(t for *_, t in unknown)[1]
    assert median_unknown > median_wrong / 3  # same order of magnitude (not a timing benchmark)


def test_sign_in_response_and_rotation(service: AuthService, store: CountingSessionStore) -> None:
    b = Browser(service)
    b.sign_up()
    first = session_id_of(b)
    response = b.sign_in(email="ADA@Example.com")
    assert response.status == 200
    body: Any = response.body
    assert (body["redirect"], "url" in body, body["user"]["email"]) == (False, False, "ada@example.com")
    assert session_id_of(b) != first
    assert Browser(service).get("/get-session").body is None
    assert store.inner.get(body["user"]["id"], first) is None  # the replaced session is gone


def test_sign_in_validation(service: AuthService) -> None:
    b = Browser(service)
    assert b.sign_in(email="nope").body == {"code": "INVALID_EMAIL", "message": "Invalid email"}


def test_callback_url_must_be_trusted(service: AuthService) -> None:
    b = Browser(service)
    b.sign_up()
    assert b.sign_in(callbackURL="https://evil.example/x").status == 403
    ok = Browser(service, ip="10.9.9.9").sign_in(callbackURL="/dashboard")
    assert (ok.body["redirect"], ok.body["url"], ok.headers["Location"]) == (True, "/dashboard", "/dashboard")  # type: ignore[index,call-overload]


# ---------------------------------------------------------------- cookies and bearer


@pytest.mark.parametrize(
    ("forge", "signed_here"),
    [
        (lambda c: c[:-6], False),  # truncated
        (lambda c: c[:10] + ("A" if c[10] != "A" else "B") + c[11:], False),  # tampered token
        (lambda c: sign_cookie_value(c.split(".")[0] + "." + c.split(".")[1] + ".x", SECRET), True),  # not a token
        (None, False),  # foreign secret
    ],
)
def test_bad_cookies_are_rejected_without_any_store_read(
    service: AuthService, store: CountingSessionStore, forge: Any, signed_here: bool
) -> None:
    """As Better Auth's get-session: null; a cookie that fails the signature check (another app's on this host, an
    old secret's) is left alone, one signed with this server's secret that names no session is cleared."""
    b = Browser(service)
    token = b.sign_up().body["token"]  # type: ignore[index,call-overload]
    cookie = b.cookies[TOKEN_COOKIE]
    b.cookies[TOKEN_COOKIE] = (
        sign_cookie_value(token, "a-foreign-secret-" + "q" * 30) if forge is None else forge(cookie)
    )
    store.calls.clear()
    auth = service.auth_for(b.request_for_functions("GET"))
    assert auth.get_user_identity() is None
    assert auth.ignored_reason == COOKIE_IGNORED_REASONS["NO_SESSION" if signed_here else "INVALID_TOKEN"]
    response = b.get("/get-session")
    assert (response.status, response.body) == (200, None)
    assert store.calls == []
    assert any(c.startswith(f"{TOKEN_COOKIE}=; Max-Age=0") for c in response.set_cookies) is signed_here
    if not signed_here:
        assert response.set_cookies == []


def test_a_cookie_that_names_no_live_session_is_cleared_by_get_session(service: AuthService) -> None:
    """As Better Auth: a signed cookie whose session is gone gets null and expired cookies; function calls run
    anonymously and say why."""
    b = Browser(service)
    b.sign_up()
    stale = b.cookies[TOKEN_COOKIE]
    assert b.post("/sign-out").body == {"success": True}
    b.cookies[TOKEN_COOKIE] = stale  # a browser that kept the signed-out cookie (another tab, a restored backup)
    auth = service.auth_for(b.request_for_functions("GET"))
    assert (auth.get_user_identity(), auth.ignored_reason) == (None, COOKIE_IGNORED_REASONS["NO_SESSION"])
    response = b.get("/get-session")
    assert (response.status, response.body) == (200, None)
    assert any(c.startswith(f"{TOKEN_COOKIE}=; Max-Age=0") for c in response.set_cookies)


def test_secret_rotation(tmp_path: Path, clock: FakeClock) -> None:
    old = "old-secret-" + "o" * 30
    with auth_service(tmp_path / "a", clock, secrets=(old,)) as (service, _, _):
        b = Browser(service)
        b.sign_up()
        service.settings = type(service.settings)(secrets=("new-secret-" + "n" * 30, old))
        assert b.get("/get-session").body is not None
        service.settings = type(service.settings)(secrets=("new-secret-" + "n" * 30,))
        assert b.get("/get-session").body is None


def test_bearer_tokens(service: AuthService) -> None:
    response = Browser(service).sign_up()
    raw = response.body["token"]  # type: ignore[index,call-overload]
    signed = response.headers["set-auth-token"]
    api = Browser(service, origin=None)
    for value in (signed, raw, sign_cookie_value(raw, SECRET)):
        got = api.get("/get-session", headers={"authorization": f"Bearer {value}"})
        assert got.body is not None, value
    assert api.get("/get-session", headers={"authorization": f"Bearer {raw}x"}).body is None
    # bearer calls carry no cookie: no origin check, and they can sign out
    assert api.post("/sign-out", headers={"authorization": f"Bearer {signed}"}).body == {"success": True}
    assert api.get("/get-session", headers={"authorization": f"Bearer {signed}"}).body is None


def test_https_cookies_are_secure_prefixed(service: AuthService) -> None:
    b = Browser(service, https=True)
    response = b.sign_up()
    assert response.set_cookies[0].startswith("__Secure-better-auth.session_token=")
    assert response.set_cookies[0].endswith("; Path=/; HttpOnly; Secure; SameSite=Lax")
    assert b.get("/get-session").body is not None
    signed_out = b.post("/sign-out")
    assert [c.split(";")[0] for c in signed_out.set_cookies] == [
        "__Secure-better-auth.session_token=",
        "__Secure-better-auth.session_data=",
        "__Secure-better-auth.dont_remember=",
    ]


# ---------------------------------------------------------------- expiry


def test_sliding_refresh_extends_expiry_cookie_and_ttl(
    service: AuthService, store: CountingSessionStore, clock: FakeClock
) -> None:
    b = Browser(service)
    body: Any = b.sign_up().body
    user_id = body["user"]["id"]
    sid = session_id_of(b)
    ttl_before = store.ttl_of(user_id, sid)
    clock.advance(DAY / 2)
    quiet = b.get("/get-session")
    assert quiet.set_cookies == []  # updateAge not reached: no write
    clock.advance(DAY / 2 + 1)
    store.calls.clear()
    refreshed = b.get("/get-session")
    assert store.calls == ["get", "refresh"]
    assert refreshed.set_cookies[0].startswith(f"{TOKEN_COOKIE}={b.cookies[TOKEN_COOKIE]}; Max-Age=604800;")
    ttl_after = store.ttl_of(user_id, sid)
    assert ttl_before is not None
    assert ttl_after is not None
    assert ttl_after - ttl_before == DAY + 1
    expires: Any = refreshed.body
    assert expires["session"]["expiresAt"] > body["user"]["createdAt"]


def test_idle_expiry(service: AuthService, clock: FakeClock) -> None:
    b = Browser(service)
    b.sign_up()
    clock.advance(7 * DAY + 1)
    response = b.get("/get-session")
    assert response.body is None
    assert TOKEN_COOKIE not in b.cookies


def test_absolute_lifetime_cap(tmp_path: Path, clock: FakeClock) -> None:
    with auth_service(tmp_path, clock, expires_in=2 * DAY, update_age=0, absolute_lifetime=3 * DAY) as (service, _, _):
        b = Browser(service)
        b.sign_up()
        for _ in range(5):  # active every 12 h: the idle expiry keeps moving, never past the cap
            clock.advance(DAY / 2)
            response = b.get("/get-session")
            assert response.body is not None
        clock.advance(DAY / 2 - 1)
        last: Any = b.get("/get-session")
        assert last.body is not None
        cap_cookie = last.set_cookies[0] if last.set_cookies else ""
        assert "Max-Age=1;" in cap_cookie or cap_cookie == ""
        clock.advance(2)
        assert b.get("/get-session").body is None


def test_remember_me_false(service: AuthService, clock: FakeClock) -> None:
    b = Browser(service)
    response = b.sign_up(rememberMe=False)
    token_cookie, dont_remember = response.set_cookies
    assert "Max-Age" not in token_cookie
    assert (
        dont_remember
        == f"better-auth.dont_remember={sign_cookie_value('true', SECRET)}; Path=/; HttpOnly; SameSite=Lax"
    )
    clock.advance(DAY - 10)
    assert b.get("/get-session").set_cookies == []  # never refreshed
    clock.advance(11)
    assert b.get("/get-session").body is None


# ---------------------------------------------------------------- sessions management


def test_list_and_revoke_sessions(service: AuthService) -> None:
    a, other = Browser(service), Browser(service, ip="10.0.0.9")
    a.sign_up()
    other.sign_in()
    listed: Any = a.get("/list-sessions").body
    assert len(listed) == 2
    assert all(s["token"] == s["id"] for s in listed)
    other_id = session_id_of(other)
    # revoke-session with the handle from list-sessions: effective on the very next request
    assert a.post("/revoke-session", {"token": other_id}).body == {"status": True}
    assert other.get("/get-session").body is None
    # a foreign or unknown handle is a silent no-op
    assert a.post("/revoke-session", {"token": "A" * 22}).body == {"status": True}
    other.sign_in()
    assert a.post("/revoke-other-sessions").body == {"status": True}
    assert other.get("/get-session").body is None
    assert a.get("/get-session").body is not None
    revoke_all = a.post("/revoke-sessions")
    assert revoke_all.body == {"status": True}
    assert len(revoke_all.set_cookies) == 3
    assert a.get("/get-session").body is None


def test_revoke_own_session_with_raw_token_clears_cookies(service: AuthService) -> None:
    b = Browser(service)
    token = b.sign_up().body["token"]  # type: ignore[index,call-overload]
    response = b.post("/revoke-session", {"token": token})
    assert response.body == {"status": True}
    assert len(response.set_cookies) == 3
    assert b.get("/get-session").body is None


def test_list_sessions_needs_a_fresh_session(service: AuthService, clock: FakeClock) -> None:
    b = Browser(service)
    b.sign_up()
    clock.advance(DAY)
    assert b.get("/list-sessions").body == {"code": "SESSION_NOT_FRESH", "message": "Session is not fresh"}
    assert Browser(service).get("/list-sessions").status == 401


def test_sign_out(service: AuthService) -> None:
    b = Browser(service)
    b.sign_up()
    response = b.post("/sign-out")
    assert (response.status, response.body) == (200, {"success": True})
    assert [c.split(";")[0] for c in response.set_cookies] == [
        "better-auth.session_token=",
        "better-auth.session_data=",
        "better-auth.dont_remember=",
    ]
    assert b.get("/get-session").body is None
    assert Browser(service).post("/sign-out").body == {"success": True}  # no session needed


# ---------------------------------------------------------------- user and password


def test_update_user(service: AuthService) -> None:
    b = Browser(service)
    b.sign_up()
    assert b.post("/update-user", {"email": "x@example.com"}).body == {
        "code": "EMAIL_CAN_NOT_BE_UPDATED",
        "message": "Email can not be updated",
    }
    assert b.post("/update-user", {}).body == {"message": "No fields to update"}
    response = b.post("/update-user", {"name": "Ada L.", "emailVerified": True})
    assert response.body == {"status": True}
    assert response.set_cookies[0].startswith(TOKEN_COOKIE)
    user: Any = b.get("/get-session").body
    assert (user["user"]["name"], user["user"]["emailVerified"]) == ("Ada L.", False)
    identity = service.auth_for(b.request_for_functions()).get_user_identity()
    assert identity is not None
    assert identity.name == "Ada L."
    assert b.post("/update-user", {"image": None}).body == {"status": True}
    assert b.get("/get-session").body["user"]["image"] is None  # type: ignore[index,call-overload]


def test_change_password(service: AuthService) -> None:
    a, other = Browser(service), Browser(service, ip="10.0.0.7")
    a.sign_up()
    other.sign_in()
    wrong = a.post("/change-password", {"currentPassword": "nope nope nope", "newPassword": "a new password"})
    assert wrong.body == {"code": "INVALID_PASSWORD", "message": "Invalid password"}
    short = a.post("/change-password", {"currentPassword": "correct horse battery", "newPassword": "short"})
    assert short.body == {"code": "PASSWORD_TOO_SHORT", "message": "Password too short"}
    # default (stricter than Better Auth): other sessions end, this one stays
    changed: Any = a.post(
        "/change-password", {"currentPassword": "correct horse battery", "newPassword": "a new password"}
    ).body
    assert changed["token"] is None
    assert changed["user"]["email"] == "ada@example.com"
    assert other.get("/get-session").body is None
    assert a.get("/get-session").body is not None
    assert Browser(service, ip="10.0.0.8").sign_in(password="correct horse battery").status == 401
    # revokeOtherSessions: every session ends, a new one is issued
    old_id = session_id_of(a)
    response = Browser(service, ip="10.0.0.10")
    response.sign_in(password="a new password")
    rotated = a.post(
        "/change-password",
        {"currentPassword": "a new password", "newPassword": "a third password", "revokeOtherSessions": True},
    )
    body: Any = rotated.body
    assert body["token"].count(".") == 2
    assert rotated.headers["set-auth-token"] == sign(body["token"], SECRET)
    assert session_id_of(a) != old_id
    assert response.get("/get-session").body is None


@pytest.fixture
def deletable(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[AuthService, CountingSessionStore, Database]]:
    with auth_service(tmp_path, clock, ip_rate_limit=1000, account_rate_limit=1000, delete_user_enabled=True) as built:
        yield built


def test_delete_user_is_off_by_default_and_answers_as_better_auth(
    service: AuthService, env: Any, caplog: pytest.LogCaptureFixture
) -> None:
    database: Database = env[2]
    b = Browser(service)
    assert b.post("/delete-user", {}).status == 401  # the session first, as Better Auth's middleware does
    b.sign_up()
    with caplog.at_level(logging.WARNING, logger="authlib_core.auth"):
        refused = b.post("/delete-user", {"password": "correct horse battery"})
    assert (refused.status, refused.body_is_empty, refused.set_cookies) == (404, True, [])
    assert "delete_user = True" in caplog.text
    assert "correct horse battery" not in caplog.text
    assert len(database.run_query(lambda db: db.query(USERS_TABLE).collect())) == 1
    assert b.get("/get-session").body is not None


def test_delete_user(deletable: Any, clock: FakeClock) -> None:
    service, _, database = deletable
    b = Browser(service)
    b.sign_up()
    wrong = b.post("/delete-user", {"password": "wrong password"})
    assert wrong.body == {"code": "INVALID_PASSWORD", "message": "Invalid password"}
    clock.advance(DAY)
    stale = b.post("/delete-user", {})
    assert stale.body == {
        "code": "SESSION_EXPIRED",
        "message": "Session expired. Re-authenticate to perform this action.",
    }
    deleted = b.post("/delete-user", {"password": "correct horse battery"})
    assert deleted.body == {"success": True, "message": "User deleted"}
    assert len(deleted.set_cookies) == 3
    assert b.get("/get-session").body is None
    assert database.run_query(lambda db: db.query(USERS_TABLE).collect()) == []
    assert database.run_query(lambda db: db.query(ACCOUNTS_TABLE).collect()) == []
    assert Browser(service, ip="10.3.3.3").sign_in().status == 401


def test_delete_user_takes_an_empty_password_for_none(deletable: Any, clock: FakeClock) -> None:
    """Better Auth checks ``if (ctx.body.password)``: ``""`` is no password, so the session's freshness decides."""
    service, _, database = deletable
    stale = Browser(service)
    stale.sign_up()
    clock.advance(DAY)
    refused = stale.post("/delete-user", {"password": ""})
    assert refused.body == {
        "code": "SESSION_EXPIRED",
        "message": "Session expired. Re-authenticate to perform this action.",
    }
    fresh = Browser(service, ip="10.5.5.5")
    fresh.sign_up(email="grace@example.com")
    deleted = fresh.post("/delete-user", {"password": ""})
    assert (deleted.status, deleted.body) == (200, {"success": True, "message": "User deleted"})
    assert [u["email"] for u in database.run_query(lambda db: db.query(USERS_TABLE).collect())] == ["ada@example.com"]


def test_delete_user_runs_the_app_hook_in_its_transaction(tmp_path: Path, clock: FakeClock) -> None:
    seen: list[str] = []

    def hook(db: Any, user_id: str) -> None:
        seen.append(user_id)
        for note in db.query(ACCOUNTS_TABLE).collect():
            assert note["userId"] == user_id  # the accounts are still there when the hook runs
        if len(seen) == 1:
            raise RuntimeError("the app's cleanup failed")

    with auth_service(tmp_path, clock, delete_user_enabled=True, on_user_deleted=hook) as (service, _, database):
        b = Browser(service)
        user_id = b.sign_up().body["user"]["id"]  # type: ignore[index,call-overload]
        failed = b.post("/delete-user", {"password": "correct horse battery"})
        assert (failed.status, failed.set_cookies) == (500, [])
        assert len(database.run_query(lambda db: db.query(ACCOUNTS_TABLE).collect())) == 1  # nothing half-deleted
        assert b.get("/get-session").body is not None
        assert b.post("/delete-user", {"password": "correct horse battery"}).status == 200
        assert seen == [user_id, user_id]
        assert database.run_query(lambda db: db.query(USERS_TABLE).collect()) == []


def test_better_auth_scrypt_hash_signs_in_and_is_upgraded(env: Any) -> None:
    service, _, database = env
    legacy = better_auth_scrypt("correct horse battery", "1e40a3f0c2b14d5e8f9a0b1c2d3e4f50")

    def seed(db: Any) -> None:
        user_id = db.insert(
            USERS_TABLE,
            {"name": "Old", "email": "old@example.com", "emailVerified": True, "createdAt": 1.0, "updatedAt": 1.0},
        )
        db.insert(
            ACCOUNTS_TABLE,
            {
                "userId": user_id,
                "providerId": "credential",
                "accountId": user_id,
                "password": legacy,
                "createdAt": 1.0,
                "updatedAt": 1.0,
            },
        )

    database.run_mutation(seed)
    assert Browser(service).sign_in(email="old@example.com", password="wrong password").status == 401
    assert Browser(service, ip="10.4.4.4").sign_in(email="old@example.com").status == 200
    [account] = database.run_query(lambda db: db.query(ACCOUNTS_TABLE).collect())
    assert account["password"].startswith("$argon2id$")
    assert Browser(service, ip="10.4.4.5").sign_in(email="old@example.com").status == 200


# ---------------------------------------------------------------- security


@pytest.mark.parametrize("backend", ["sqlite", "dynamodb"])
def test_rate_limits_per_ip_and_per_account(tmp_path: Path, clock: FakeClock, backend: str) -> None:
    with auth_service(tmp_path, clock, sessions_backend=backend) as (service, _, _):
        check_rate_limits(service)


def check_rate_limits(service: AuthService) -> None:
    Browser(service, ip="10.5.0.1").sign_up()
    b = Browser(service, ip="10.5.0.2")
    statuses = [b.sign_in(password="wrong password").status for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert b.last is not None
    assert b.last.body == {"message": "Too many requests. Please try again later."}
    assert b.last.headers["X-Retry-After"] == "10"


def test_a_third_party_cannot_lock_the_owner_out(tmp_path: Path, clock: FakeClock) -> None:
    with auth_service(tmp_path, clock) as (service, _, _):
        Browser(service, ip="10.9.0.1").sign_up()
        attacker = Browser(service, ip="203.0.113.9")
        statuses = []
        for _ in range(12):  # slower than the per-address rule, as a patient attacker would be
            statuses.append(attacker.sign_in(password="wrong password").status)
            clock.advance(11)
        assert statuses == [401] * 5 + [429] * 7  # 5 failures per account and address per 15 minutes
        assert attacker.sign_in().status == 429  # even the right password: this address is done for the window
        assert Browser(service, ip="10.9.0.2").sign_in().status == 200  # the owner, from their own address
        clock.advance(900)
        assert attacker.sign_in(password="wrong password").status == 401  # a new window


def test_distributed_guessing_puts_the_account_in_lockdown_but_the_owner_gets_in(
    tmp_path: Path, clock: FakeClock
) -> None:
    with auth_service(tmp_path, clock, account_global_limit=6) as (service, _, _):
        Browser(service, ip="10.9.1.1").sign_up()
        bots = [Browser(service, ip=f"198.51.100.{i}") for i in range(6)]
        assert [bot.sign_in(password="wrong password").status for bot in bots] == [401] * 6
        # lockdown: an address that has failed waits for the window, whatever it sends
        assert bots[0].sign_in().status == 429
        # an address that has not failed gets one attempt: the owner signs in ...
        assert Browser(service, ip="10.9.1.2").sign_in().status == 200
        # ... and a new bot gets one guess, then waits
        fresh = Browser(service, ip="198.51.100.200")
        assert [fresh.sign_in(password="wrong password").status for _ in range(2)] == [401, 429]


def test_limits_look_the_same_for_unknown_emails(tmp_path: Path, clock: FakeClock) -> None:
    with auth_service(tmp_path, clock) as (service, _, _):
        Browser(service, ip="10.9.2.1").sign_up()

        def attempts(email: str) -> list[tuple[int, Any, str | None]]:
            browser = Browser(service, ip="203.0.113.50")
            out = []
            for _ in range(6):
                response = browser.sign_in(email=email, password="wrong password")
                out.append((response.status, response.body, response.headers.get("X-Retry-After")))
                clock.advance(11)
            clock.advance(900)
            return out

        known, unknown = attempts("ada@example.com"), attempts("nobody@example.com")
        assert known == unknown
        assert [status for status, _, _ in known] == [401] * 5 + [429]


def test_rate_limits_can_be_switched_off(tmp_path: Path, clock: FakeClock) -> None:
    with auth_service(tmp_path, clock, rate_limit_enabled=False) as (service, _, _):
        Browser(service, ip="10.9.3.1").sign_up()
        b = Browser(service, ip="10.9.3.2")
        assert {b.sign_in(password="wrong password").status for _ in range(12)} == {401}
        assert b.sign_in().status == 200


def test_forwarded_for_is_ignored_unless_trusted(tmp_path: Path, clock: FakeClock) -> None:
    with auth_service(tmp_path, clock) as (service, _, _):
        b = Browser(service, ip="10.7.0.1")
        spoofed = [b.sign_in(headers={"x-forwarded-for": f"1.2.3.{i}"}).status for i in range(4)]
        assert spoofed[-1] == 429
    with auth_service(tmp_path / "t", clock, trust_forwarded_for=True) as (service, _, _):
        b = Browser(service, ip="10.7.0.1")
        assert [b.sign_in(headers={"x-forwarded-for": f"9.9.9.9, 1.2.3.{i}"}).status for i in range(4)] == [401] * 4


def test_origin_checks(service: AuthService) -> None:
    b = Browser(service)
    b.sign_up()
    evil = b.post("/sign-out", headers={"origin": "https://evil.example"})
    assert (evil.status, evil.body) == (403, {"code": "INVALID_ORIGIN", "message": "Invalid origin"})
    assert b.get("/get-session").body is not None  # not signed out
    b.origin = None
    missing = b.post("/revoke-sessions")
    assert missing.body == {"code": "MISSING_OR_NULL_ORIGIN", "message": "Missing or null Origin"}
    node_fetch = Browser(service, origin=None).sign_in(headers={"sec-fetch-mode": "cors"})
    assert node_fetch.status == 403
    assert Browser(service, origin=None, ip="10.8.0.1").sign_in().status == 200  # curl-like: no browser headers


def test_unknown_paths_and_methods(service: AuthService) -> None:
    b = Browser(service)
    for method, path in [("GET", "/sign-out"), ("GET", "/nope"), ("PUT", "/sign-in/email"), ("POST", "/ok")]:
        response = b.request(method, path)
        assert (response.status, response.body_bytes()) == (404, b""), (method, path)
    assert b.get("/ok").body == {"ok": True}
    assert b.post("/get-session").status == 405


def test_auth_for_reads_once_and_sees_revocation(service: AuthService, store: CountingSessionStore) -> None:
    b = Browser(service)
    user: Any = b.sign_up().body
    request = b.request_for_functions()
    store.calls.clear()
    auth = service.auth_for(request)
    identities = [auth.get_user_identity() for _ in range(5)]
    assert store.calls == ["get"]
    identity = identities[0]
    assert identity is not None
    assert (identity.subject, identity.email, identity.name) == (user["user"]["id"], "ada@example.com", "Ada")
    assert identity.token_identifier == f"{BASE}|{identity.subject}"
    assert identity.issuer == BASE
    assert identity.session_id == session_id_of(b)
    b.post("/sign-out")
    assert service.auth_for(request).get_user_identity() is None  # the very next request
    assert service.auth_for(AuthHttpRequest("POST", "/api/query", base_url=BASE)).get_user_identity() is None


def test_auth_for_ignores_cookies_of_cross_origin_state_changes(service: AuthService) -> None:
    b = Browser(service)
    b.sign_up()
    b.origin = "https://evil.example"
    assert service.auth_for(b.request_for_functions("POST")).get_user_identity() is None
    assert service.auth_for(b.request_for_functions("GET")).get_user_identity() is not None


def test_no_secret_material_in_logs(service: AuthService, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    b = Browser(service)
    token = b.sign_up().body["token"]  # type: ignore[index,call-overload]
    b.sign_in(password="wrong password")
    b.sign_in()
    b.get("/get-session")
    b.post("/change-password", {"currentPassword": "correct horse battery", "newPassword": "another password"})
    b.post("/sign-out")
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert text  # something was logged
    for secret in (token, token.split(".")[2], "correct horse battery", "another password", "wrong password", SECRET):
        assert secret not in text
    assert "%2B" not in text
    assert "session_token" not in text


def test_a_configured_base_url_is_the_issuer_whichever_domain_the_request_came_through(
    tmp_path: Path, clock: FakeClock
) -> None:
    with auth_service(tmp_path, clock, ip_rate_limit=1000, base_url="https://app.example.com") as (svc, _, _db):
        b = Browser(svc)
        b.sign_up()
        request = b.request_for_functions("GET")  # a GET: the origin check, which the domain changes, does not apply
        through_another_domain = dataclasses.replace(
            request, base_url="https://abc123.execute-api.eu-west-1.amazonaws.com"
        )
        identities = [svc.auth_for(r).get_user_identity() for r in (request, through_another_domain)]
        assert identities[0] is not None
        assert identities[0] == identities[1]
        assert identities[0].issuer == "https://app.example.com"
        assert identities[0].token_identifier == f"https://app.example.com|{identities[0].subject}"

"""An AuthService over real stores, and a tiny cookie-keeping client that speaks to ``AuthService.handle``."""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from authlib_core.auth.service import AuthService
from authlib_core.auth.tables import auth_tables
from authlib_core.auth.transport import AuthHttpRequest, AuthHttpResponse
from authlib_core.config import AuthSettings
from authlib_core.database import Database
from authlib_core.database.sessions import RateLimitStore, SessionRecord, SessionStore
from authlib_core.schema import define_schema
from tests.support.sessions import SESSIONS_TABLE, AtomicCallsClient, FakeClock, create_sessions_table

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

SECRET = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz"
BASE = "http://127.0.0.1:8787"
schema = define_schema(dict(auth_tables))


class CountingSessionStore(SessionStore):
    """Delegates to a real store and counts every call (to prove that bad cookies cause no read)."""

    def __init__(self, inner: SessionStore) -> None:
        self.inner = inner
        self.calls: list[str] = []

    def create(self, record: SessionRecord) -> None:
        self.calls.append("create")
        self.inner.create(record)

    def get(self, user_id: str, session_id: str) -> SessionRecord | None:
        self.calls.append("get")
        return self.inner.get(user_id, session_id)

    def list_for_user(self, user_id: str) -> list[SessionRecord]:
        self.calls.append("list_for_user")
        return self.inner.list_for_user(user_id)

    def refresh(self, user_id: str, session_id: str, *, expires_at: int, updated_at: int) -> SessionRecord | None:
        self.calls.append("refresh")
        return self.inner.refresh(user_id, session_id, expires_at=expires_at, updated_at=updated_at)

    def delete(self, user_id: str, session_id: str) -> None:
        self.calls.append("delete")
        self.inner.delete(user_id, session_id)

    def delete_for_user(self, user_id: str, *, keep: str | None = None) -> int:
        self.calls.append("delete_for_user")
        return self.inner.delete_for_user(user_id, keep=keep)

    def update_user_snapshot(self, user_id: str, *, email: str, name: str) -> None:
        self.calls.append("update_user_snapshot")
        self.inner.update_user_snapshot(user_id, email=email, name=name)

    def ttl_of(self, user_id: str, session_id: str) -> int | None:
        if hasattr(self.inner, "ttl_of"):
            return self.inner.ttl_of(user_id, session_id)  # type: ignore[no-any-return]
        item = self.inner.raw_item(user_id, session_id)  # type: ignore[attr-defined]
        return None if item is None else int(item["expiresAt"]["N"])


@contextmanager
def auth_service(
    tmp_path: Path,
    clock: FakeClock,
    *,
    sessions_backend: str = "sqlite",
    mailer: Any = None,
    on_user_deleted: Any = None,
    after_user_deleted: Any = None,
    **settings: Any,
) -> Iterator[tuple[AuthService, CountingSessionStore, Database]]:
    """An AuthService with a SQLite document store and the chosen session store (SQLite file or moto DynamoDB).

    ``mailer`` (a :class:`~authlib_core.mail.MailSender`) turns the emailed-link endpoints on; ``on_user_deleted``
    runs in the transaction deleting a user, ``after_user_deleted`` after its deletions, with the user's document.
    """
    from authlib_core.database.engines.sqlite import SQLiteEngine
    from authlib_core.database.engines.sqlite_sessions import SQLiteRateLimitStore, SQLiteSessionStore

    path = tmp_path / "dev.sqlite3"
    database = Database(SQLiteEngine(path), schema, cursor_secret=b"cursor-secret", clock=clock)
    database.ensure_indexes()
    settings.setdefault("secrets", (SECRET,))
    auth_settings = AuthSettings(**settings)

    def service(sessions: SessionStore, limits: RateLimitStore) -> AuthService:
        return AuthService(
            auth_settings,
            database,
            sessions,
            limits,
            clock=clock,
            mailer=mailer,
            on_user_deleted=on_user_deleted,
            after_user_deleted=after_user_deleted,
        )

    sessions: SessionStore
    limits: RateLimitStore
    if sessions_backend == "sqlite":
        sessions, limits = SQLiteSessionStore(path, clock=clock), SQLiteRateLimitStore(path, clock=clock)
        counting = CountingSessionStore(sessions)
        yield (
            service(counting, limits),
            counting,
            database,
        )
        database.close()
        return
    import boto3
    from moto import mock_aws

    from authlib_core.database.engines.dynamodb.sessions import DynamoDBRateLimitStore, DynamoDBSessionStore

    with mock_aws():
        raw = boto3.client("dynamodb", region_name="us-east-1")
        create_sessions_table(raw)
        client = AtomicCallsClient(raw)
        sessions = DynamoDBSessionStore(client, SESSIONS_TABLE, clock=clock)
        limits = DynamoDBRateLimitStore(client, SESSIONS_TABLE, clock=clock)
        counting = CountingSessionStore(sessions)
        yield (
            service(counting, limits),
            counting,
            database,
        )
    database.close()


class Browser:
    """Keeps cookies like a browser (drops Max-Age=0), sends Origin on every request."""

    def __init__(
        self, service: AuthService, *, origin: str | None = BASE, ip: str = "127.0.0.1", https: bool = False
    ) -> None:
        self.service = service
        self.origin = origin
        self.ip = ip
        self.https = https
        self.cookies: dict[str, str] = {}
        self.last: AuthHttpResponse | None = None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        query: dict[str, str] | None = None,
        cookies: bool = True,
    ) -> AuthHttpResponse:
        hdrs = {"user-agent": "pytest-browser"}
        if self.origin:
            hdrs["origin"] = self.origin
        data = b""
        if raw is not None:
            data = raw
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs["content-type"] = "application/json"
        hdrs.update(headers or {})
        jar = dict(self.cookies) if cookies else {}
        if jar:
            hdrs["cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        response = self.service.handle(
            AuthHttpRequest(
                method,
                path,
                base_url=BASE,
                query=query or {},
                headers=hdrs,
                cookies=jar,
                body=data,
                client_ip=self.ip,
                is_https=self.https,
            )
        )
        for set_cookie in response.set_cookies:
            pair, *attrs = set_cookie.split(";")
            name, _, value = pair.partition("=")
            if value == "" or any(a.strip().lower() == "max-age=0" for a in attrs):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        self.last = response
        return response

    def post(self, path: str, body: Any = None, **kwargs: Any) -> AuthHttpResponse:
        return self.request("POST", path, {} if body is None else body, **kwargs)

    def get(self, path: str, **kwargs: Any) -> AuthHttpResponse:
        return self.request("GET", path, **kwargs)

    def sign_up(
        self,
        email: str = "ada@example.com",
        password: str = "correct horse battery",
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> AuthHttpResponse:
        body = {"name": "Ada", "email": email, "password": password, **extra}
        return self.post("/sign-up/email", body, headers=headers)

    def sign_in(
        self,
        email: str = "ada@example.com",
        password: str = "correct horse battery",
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> AuthHttpResponse:
        return self.post("/sign-in/email", {"email": email, "password": password, **extra}, headers=headers)

    def request_for_functions(self, method: str = "POST") -> AuthHttpRequest:
        hdrs = {"origin": self.origin} if self.origin else {}
        if self.cookies:
            hdrs["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return AuthHttpRequest(
            method, "/api/query", base_url=BASE, headers=hdrs, cookies=dict(self.cookies), is_https=self.https
        )

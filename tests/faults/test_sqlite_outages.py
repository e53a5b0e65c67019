"""On SQLite too, a locked or broken store is a 503 on the auth routes, never a 500 (the dev server's stores)."""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from typing import TYPE_CHECKING

from authlib_core.auth.service import AuthService
from authlib_core.config import AuthSettings, Settings
from authlib_core.database import Database
from authlib_core.database.engines.sqlite import SQLiteEngine
from authlib_core.database.engines.sqlite_sessions import SQLiteRateLimitStore, SQLiteSessionStore
from authlib_core.http.app import HttpApp
from authlib_core.runtime import build_runtime
from tests.faults.harness import APP, LambdaContext
from tests.faults.harness import SECRET as APP_SECRET
from tests.http.conftest import make_event
from tests.support.auth import SECRET, Browser, schema

if TYPE_CHECKING:
    from pathlib import Path


def service(path: Path) -> AuthService:
    database = Database(SQLiteEngine(path), schema, cursor_secret=b"cursor-secret")
    database.ensure_indexes()
    return AuthService(
        AuthSettings(secrets=(SECRET,)),
        database,
        SQLiteSessionStore(path, busy_timeout_s=0.2),
        SQLiteRateLimitStore(path, busy_timeout_s=0.2),
    )


def test_sign_in_on_a_locked_store_is_503(tmp_path: Path) -> None:
    path = tmp_path / "dev.sqlite3"
    browser = Browser(service(path))
    assert browser.sign_up().status == 200
    with closing(sqlite3.connect(path, isolation_level=None)) as holder:
        holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        response = browser.sign_in()
        holder.execute("ROLLBACK")
    assert response.status == 503, response.body
    assert response.body["code"] == "StorageUnavailable"
    assert str(path) not in str(response.body)
    assert browser.sign_in().status == 200  # the lock is gone: it works again


def test_get_session_on_a_broken_store_is_503(tmp_path: Path) -> None:
    path = tmp_path / "dev.sqlite3"
    browser = Browser(service(path))
    assert browser.sign_up().status == 200
    with closing(sqlite3.connect(path, isolation_level=None)) as other:
        other.execute("DROP TABLE sessions")  # the file no longer holds what the store needs
    response = browser.get("/get-session")
    assert response.status == 503, response.body
    assert response.body["code"] == "StorageUnavailable"


def test_a_mutation_on_a_locked_store_answers_503_when_the_request_budget_runs_out(tmp_path: Path) -> None:
    path = tmp_path / "dev.sqlite3"
    runtime = build_runtime(Settings(functions_dir=APP, sqlite_path=path, secrets=(APP_SECRET,)))
    app = HttpApp(lambda: runtime)
    event = make_event("POST", "/api/mutation", '{"path": "counter:increment", "args": {"name": "c"}}')
    try:
        assert app(event, LambdaContext(2_000))["statusCode"] == 200
        with closing(sqlite3.connect(path, isolation_level=None)) as holder:
            holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock past the request's budget
            started = time.monotonic()
            response = app(event, LambdaContext(2_000))  # 1 s of budget; the engine's busy timeout is 30 s
            took = time.monotonic() - started
            holder.execute("ROLLBACK")
        body = json.loads(response["body"])
        assert response["statusCode"] == 503, body
        assert body["code"] == "StorageUnavailable"
        assert "time budget ran out while it waited for the SQLite store's write lock" in body["message"]
        assert str(path) not in response["body"]
        assert took < 5.0
        assert app(event, LambdaContext(2_000))["statusCode"] == 200  # the lock is gone: it works again
    finally:
        runtime.database.close()

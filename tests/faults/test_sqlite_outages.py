"""On SQLite too, a locked or broken store is a 503 on the auth routes, never a 500 (the dev server's stores)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import TYPE_CHECKING

from authlib_core.auth.service import AuthService
from authlib_core.config import AuthSettings
from authlib_core.database import Database
from authlib_core.database.engines.sqlite import SQLiteEngine
from authlib_core.database.engines.sqlite_sessions import SQLiteRateLimitStore, SQLiteSessionStore
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
